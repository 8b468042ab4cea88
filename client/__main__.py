from client.cli import cli

cli(prog_name="python -m client")
