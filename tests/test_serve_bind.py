"""`serve` will not put an unguarded control plane on the network without being told to, and
serves the names it is told about (`--host`, `--public-url`)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from mockportal import cli

NETWORK_BINDS = ["0.0.0.0", "::", "192.168.7.7", "portal.lan", "10.0.0.1"]
LOOPBACK_BINDS = ["127.0.0.1", "localhost", "::1", "127.0.0.2"]


@pytest.fixture
def served(monkeypatch):
    """`serve` up to the point it would listen: the app's config and where it would bind."""
    calls = {}

    def serve_in_process(app, *, host, port, threads, on_ready):
        calls.update(app=app.app, host=host, port=port)
        on_ready(f"http://{host}:{port}")

    monkeypatch.setattr(cli, "serve_in_process", serve_in_process)
    return calls


def serve(*args: str):
    return CliRunner().invoke(cli.main, ["serve", "--port", "8765", *args])


@pytest.mark.parametrize("host", NETWORK_BINDS)
def test_an_unguarded_control_plane_is_not_served_beyond_loopback(served, host):
    result = serve("--host", host)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert host in lines[0] and "--control-token" in lines[0] and "--no-control" in lines[0]
    assert "--allow-unguarded-control" in lines[0] and "anyone" in lines[0]
    assert served == {}, "it listened"


def test_the_refusal_is_one_line_on_stderr_and_exit_code_2():
    process = subprocess.run([sys.executable, "-m", "mockportal", "serve", "--host", "0.0.0.0", "--port", "0"],
                             capture_output=True, text=True, timeout=60)
    assert process.returncode == 2
    assert process.stdout == "" and len(process.stderr.strip().splitlines()) == 1, process.stderr
    assert "Traceback" not in process.stderr


@pytest.mark.parametrize("guard", [["--control-token", "s3cret"], ["--no-control"], ["--allow-unguarded-control"]])
def test_a_guarded_or_explicitly_unguarded_control_plane_may_be_served_on_the_network(served, guard):
    result = serve("--host", "0.0.0.0", *guard)
    assert result.exit_code == 0, result.output
    assert served["host"] == "0.0.0.0"
    config = served["app"].config
    assert config["BIND_HOST"] == "0.0.0.0"
    assert config["CONTROL_ENABLED"] is ("--no-control" not in guard)
    assert config["CONTROL_TOKEN"] == ("s3cret" if "--control-token" in guard else None)


def test_an_explicitly_unguarded_control_plane_says_so_in_the_banner(served):
    result = serve("--host", "0.0.0.0", "--allow-unguarded-control")
    assert "unguarded on the network" in result.output.lower()


@pytest.mark.parametrize("host", LOOPBACK_BINDS)
def test_loopback_binds_need_no_guard(served, host):
    result = serve("--host", host)
    assert result.exit_code == 0, result.output
    assert served["app"].config["BIND_HOST"] == host


def test_the_public_url_becomes_a_served_name(served):
    result = serve("--public-url", "https://portal.example")
    assert result.exit_code == 0, result.output
    client = served["app"].test_client()
    assert client.get("/_mock/clock", headers={"Host": "portal.example"}).status_code == 200
    assert client.get("/_mock/clock", headers={"Host": "other.example"}).status_code == 421


@pytest.mark.parametrize("url", ["portal.example", "https://portal.example/prefix", "ftp://x"])
def test_a_public_url_that_is_not_an_origin_is_a_usage_error(served, url):
    result = serve("--public-url", url)
    assert result.exit_code == 2 and "--public-url" in result.output and "Traceback" not in result.output
    assert served == {}
