"""The embedded test server (`mockportal.testing.PortalServer`) starts and stops cleanly."""

from __future__ import annotations

import time

import pytest
import requests

from mockportal.testing import PortalServer


def test_stop_ends_the_server_at_once_even_with_a_keep_alive_connection_open():
    server = PortalServer().start()
    keep_alive = requests.Session()
    assert keep_alive.get(server.url + "/_mock/clock", timeout=5).status_code == 200

    started = time.monotonic()
    server.stop()

    assert time.monotonic() - started < 2
    assert not server._thread.is_alive()
    with pytest.raises(requests.ConnectionError):
        requests.get(server.url + "/_mock/clock", timeout=2)
