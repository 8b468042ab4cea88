"""The store's transactions: a request scope keeps what its finished use cases did."""

from __future__ import annotations

import pytest

from mockportal.store import Store


def test_a_failed_use_case_in_a_request_scope_undoes_only_its_own_work():
    store = Store()
    with store.request_scope():
        with store.transaction():
            store.set_meta("kept", "1")
        with pytest.raises(RuntimeError), store.transaction():
            store.set_meta("undone", "1")
            raise RuntimeError
        assert store.get_meta("undone") is None
    with store.transaction():
        assert store.get_meta("kept") == "1" and store.get_meta("undone") is None
