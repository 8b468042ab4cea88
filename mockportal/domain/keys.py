"""Secrets the portal keeps in its database, so every worker process on one file agrees."""

from __future__ import annotations

import secrets

from mockportal.store import Store


def shared_secret(store: Store, name: str) -> str:
    """The random secret stored under `name` in the meta table, created on first use.

    Stored rather than generated per process: a token signed or a session cookie set by one
    worker must verify on every other, and across restarts on the same database file.
    """
    with store.transaction():
        secret = store.get_meta(name)
        if secret is None:
            secret = secrets.token_hex(32)
            store.set_meta(name, secret)
    return secret
