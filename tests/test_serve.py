"""`mockportal serve` as a real process: banner, demo org, --db persistence, --no-control."""

from __future__ import annotations

import requests

from mockportal.harness import ServerProcess, serve_command
from mockportal.testing import Control


def _owner_headers(url: str) -> dict:
    return Control.over_http(url).bearer("owner@acme.test", "billing:manage")


def test_serve_starts_the_demo_org_and_prints_a_banner():
    with ServerProcess(serve_command()) as server:
        state = requests.get(f"{server.url}/api/billing/state", headers=_owner_headers(server.url)).json()
        output = server.output()
    assert state["org"]["name"] == "Acme Inc" and state["balanceUsd"] == "142.5"
    assert server.url in output and "scenario demo" in output and "control plane on" in output


def test_a_db_file_keeps_state_across_restarts(tmp_path):
    database = str(tmp_path / "portal.db")
    with ServerProcess(serve_command("--db", database)) as server:
        Control.over_http(server.url).edit_org("org_acme", balanceUsd="7.25")
        headers = _owner_headers(server.url)
    with ServerProcess(serve_command("--db", database)) as server:
        state = requests.get(f"{server.url}/api/billing/state", headers=headers).json()
    assert state["balanceUsd"] == "7.25"


def test_no_control_hides_the_control_plane():
    with ServerProcess(serve_command("--no-control")) as server:
        response = requests.post(f"{server.url}/_mock/reset", json={})
    assert response.status_code == 404 and response.json()["error"] == "not_found"
