"""`mockportal` on the command line: its version, its help, one clear line for each way `serve`
cannot start, and a banner whose commands work as printed."""

from __future__ import annotations

import re
import shutil
import socket
import sqlite3
import subprocess
from importlib import metadata

import pytest
import requests
from click.testing import CliRunner

from mockportal.cli import main
from mockportal.domain.scenarios import SCENARIOS
from mockportal.harness import ServerProcess, serve_command

BANNER_LINE = re.compile(r"^  (\w+): +(.*)$", re.M)


def test_version_comes_from_the_package_metadata():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and result.output == f"mockportal, version {metadata.version('mockportal')}\n"


def test_serve_help_lists_the_scenarios():
    output = CliRunner().invoke(main, ["serve", "--help"]).output
    assert f"Seeded into a fresh database: {' or '.join(sorted(SCENARIOS))}." in " ".join(output.split())


@pytest.fixture
def taken_port():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def failed_start(*args: str, port: int = 0) -> str:
    """`serve` that cannot start: exit status 1 and exactly one line, never a traceback."""
    run = subprocess.run(serve_command(*args, port=port), capture_output=True, text=True, timeout=60)
    output = (run.stdout + run.stderr).strip()
    assert run.returncode == 1, output
    assert "Traceback" not in output and len(output.splitlines()) == 1, output
    assert output.startswith("Error: ")
    return output


@pytest.mark.parametrize("args, says", [
    (["--scenario", "nope"], "Unknown scenario 'nope': choose one of demo, empty."),
    (["--frozen-clock", "yesterday"], "--frozen-clock 'yesterday' is not an ISO 8601 instant"),
    (["--frozen-clock", "2026-06-10T12:00:00"], "is not an ISO 8601 instant with its offset"),
    # --no-control: beyond loopback an unguarded control plane is refused first (test_serve_bind.py).
    (["--host", "nosuch.invalid", "--no-control"], "Cannot listen on nosuch.invalid:0: "),
    (["--host", "nosuch.invalid", "--workers", "2", "--no-control"], "Cannot listen on nosuch.invalid:0: "),
])
def test_bad_options_are_one_line(args, says):
    assert says in failed_start(*args)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_port_in_use_is_one_line(taken_port, workers):
    output = failed_start("--workers", workers, port=taken_port)
    assert f"Cannot listen on 127.0.0.1:{taken_port}: Address already in use. Pick another --port" in output


def test_a_database_that_cannot_be_opened_is_one_line(tmp_path):
    missing = tmp_path / "no" / "such" / "portal.db"
    assert f"Cannot open --db {missing}: No such file or directory." in failed_start("--db", str(missing))
    directory = tmp_path / "a-directory"
    directory.mkdir()
    assert "unable to open database file" in failed_start("--db", str(directory))
    junk = tmp_path / "junk.db"
    junk.write_text("not a database, just text " * 100)
    assert f"Cannot open --db {junk}: file is not a database." in failed_start("--db", str(junk))


def test_a_database_from_a_newer_mockportal_is_one_line(tmp_path):
    newer = tmp_path / "newer.db"
    with sqlite3.connect(newer) as conn:
        conn.execute("PRAGMA user_version = 999")
    output = failed_start("--db", str(newer))
    assert f"Cannot open --db {newer}: This database was written by a newer mockportal (schema 999" in output


# -- the banner ---------------------------------------------------------------------------------
def banner_commands(output: str) -> dict[str, str]:
    return dict(BANNER_LINE.findall(output))


def run_shell(*commands: str) -> str:
    done = subprocess.run(["bash", "-ec", "\n".join(commands)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout


needs_curl = pytest.mark.skipif(shutil.which("curl") is None or shutil.which("python3") is None,
                                reason="the banner's commands use curl and python3")


@needs_curl
@pytest.mark.parametrize("token", [None, "s3cr et'$x"])
def test_the_banners_commands_work_as_printed(token):
    extra = () if token is None else ("--control-token", token)
    with ServerProcess(serve_command(*extra)) as server:
        commands = banner_commands(server.output())
        assert '"ok":true' in run_shell(commands["health"])
        state = run_shell(commands["token"], commands["state"])
        assert '"balanceUsd":"142.5"' in state and '"name":"Acme Inc"' in state
        dashboard = requests.Session().get(commands["dashboard"], timeout=10)
    assert dashboard.status_code == 200 and "Acme Inc" in dashboard.text
    assert dashboard.url == server.url + "/_mock/"  # a token in the address is dropped at once


@needs_curl
def test_without_a_control_plane_the_banner_offers_a_login_instead():
    with ServerProcess(serve_command("--no-control")) as server:
        commands = banner_commands(server.output())
        assert set(commands) == {"health", "login"}
        assert '"user_code"' in run_shell(commands["login"])
        assert '"ok":true' in run_shell(commands["health"])
