"""`mockportal serve` as a real process: banner, demo org, --db persistence, --no-control."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from contextlib import contextmanager

import requests


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serving(*args: str):
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "mockportal", "serve", "--port", str(port), *args],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                requests.get(f"{url}/api/billing/state", timeout=1)
                break
            except requests.ConnectionError:
                assert process.poll() is None and time.monotonic() < deadline, "server did not start"
                time.sleep(0.05)
        yield url, process
    finally:
        process.terminate()
        process.wait(timeout=10)


def _owner_headers(url: str) -> dict:
    token = requests.post(f"{url}/_mock/tokens", json={"user": "owner@acme.test", "scope": "billing:manage"}).json()
    return {"Authorization": "Bearer " + token["access_token"]}


def test_serve_starts_the_demo_org_and_prints_a_banner():
    with serving() as (url, process):
        state = requests.get(f"{url}/api/billing/state", headers=_owner_headers(url)).json()
        assert state["org"]["name"] == "Acme Inc" and state["balanceUsd"] == "142.5"
        process.terminate()
        output = process.communicate(timeout=10)[0]
    assert url in output and "scenario demo" in output and "control plane on" in output


def test_a_db_file_keeps_state_across_restarts(tmp_path):
    database = str(tmp_path / "portal.db")
    with serving("--db", database) as (url, _):
        requests.patch(f"{url}/_mock/orgs/org_acme", json={"balanceUsd": "7.25"})
        headers = _owner_headers(url)
    with serving("--db", database) as (url, _):
        state = requests.get(f"{url}/api/billing/state", headers=headers).json()
    assert state["balanceUsd"] == "7.25"


def test_no_control_hides_the_control_plane():
    with serving("--no-control") as (url, _):
        response = requests.post(f"{url}/_mock/reset", json={})
    assert response.status_code == 404 and response.json()["error"] == "not_found"
