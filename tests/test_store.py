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


def test_a_reader_runs_beside_a_writer_that_holds_the_lock(tmp_path):
    import threading

    from mockportal.store import WriteNeeded

    store = Store(str(tmp_path / "portal.db"))
    assert store.reads_apart
    with store.transaction():
        store.set_meta("seen", "before")
    writing, read_done = threading.Event(), threading.Event()

    def hold_the_write_lock():
        with store.transaction():
            store.set_meta("seen", "uncommitted")
            writing.set()
            read_done.wait(timeout=10)

    writer = threading.Thread(target=hold_the_write_lock)
    writer.start()
    writing.wait(timeout=10)
    with store.reading():
        assert store.get_meta("seen") == "before"  # a snapshot of what was committed
        with pytest.raises(WriteNeeded):
            store.set_meta("seen", "by the reader")
    read_done.set()
    writer.join(timeout=10)
    with store.reading():
        assert store.get_meta("seen") == "uncommitted"


def test_an_in_memory_store_has_no_separate_readers():
    assert not Store().reads_apart
