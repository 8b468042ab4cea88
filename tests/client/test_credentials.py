"""Where the client points and where its login lives: env precedence and an atomic, private file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from client.config import base_url, credentials_path
from client.credentials import Credentials


@pytest.mark.parametrize("environ,expected", [
    ({"HERMES_PORTAL_BASE_URL": "http://h:1/", "NOUS_PORTAL_BASE_URL": "http://n:2"}, "http://h:1"),
    ({"HERMES_PORTAL_BASE_URL": "  ", "NOUS_PORTAL_BASE_URL": "http://n:2"}, "http://n:2"),
    ({"NOUS_PORTAL_BASE_URL": "http://n:2"}, "http://n:2"),
    ({}, "http://default"),
])
def test_base_url_precedence(environ, expected):
    assert base_url("http://default/", environ) == expected


def test_credentials_path_follows_hermes_home(tmp_path):
    assert credentials_path({"HERMES_HOME": str(tmp_path)}) == tmp_path / "portal_credentials.json"
    assert credentials_path({}) == Path.home() / ".hermes" / "portal_credentials.json"


def test_round_trip_private_and_atomic(store):
    credentials = Credentials("at", "rt", "inference:invoke billing:manage")
    store.save(credentials)
    assert store.load() == credentials
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert [p.name for p in store.path.parent.iterdir()] == [store.path.name]  # no temp file left


def test_a_failed_write_leaves_the_old_file(store, monkeypatch):
    store.save(Credentials("old", "rt-old", "s"))
    monkeypatch.setattr("client.credentials.json.dump", lambda *a, **k: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError):
        store.save(Credentials("new", "rt-new", "s"))
    assert store.load() == Credentials("old", "rt-old", "s")
    assert [p.name for p in store.path.parent.iterdir()] == [store.path.name]


def test_spending_the_refresh_token_forgets_it_on_disk(store):
    store.save(Credentials("at", "rt", "s"))
    store.spend_refresh_token(store.load())
    assert store.load() == Credentials("at", None, "s")


def test_missing_file_and_clear(store):
    assert store.load() is None
    store.save(Credentials("at", "rt", "s"))
    store.clear()
    assert store.load() is None
    store.clear()  # clearing twice is fine


def test_from_token_response_keeps_the_granted_scope():
    credentials = Credentials.from_token_response({"access_token": "a", "refresh_token": "r", "token_type": "Bearer",
                                                   "expires_in": 900, "scope": "inference:invoke tool:invoke"})
    assert credentials == Credentials("a", "r", "inference:invoke tool:invoke")
    assert not credentials.can_bill
    assert Credentials("a", "r", "inference:invoke billing:manage").can_bill
