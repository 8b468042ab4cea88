"""The embedded test server (`mockportal.testing.PortalServer`) starts and stops cleanly."""

from __future__ import annotations

import time

import pytest
import requests

from mockportal.testing import Control, PortalServer


def test_stop_ends_the_server_at_once_even_with_a_keep_alive_connection_open():
    server = PortalServer().start()
    keep_alive = server.control()  # its session keeps the connection open
    assert keep_alive.clock()["frozen"]

    started = time.monotonic()
    server.stop()

    assert time.monotonic() - started < 2
    assert not server._thread.is_alive()
    with pytest.raises(requests.ConnectionError):
        Control.over_http(server.url).clock()
