"""The portal the contract suite runs against, and the suite's Hypothesis profiles.

By default an embedded mockportal (`PortalServer`: real HTTP on a free 127.0.0.1 port, clock
frozen at TEST_EPOCH), started once per session. With `HERMES_PORTAL_BASE_URL` set, that
portal instead. Properties marked `control` drive the `/_mock` plane (reset, tokens, clock)
and are skipped against a portal without one; the rest only send requests that cannot spend.
"""

from __future__ import annotations

import os

import pytest

from contract import profiles
from contract.portal import ContractPortal
from mockportal.testing import PortalServer

profiles.register()  # at import: pytest reads --hypothesis-profile before any test module loads


class _Target:
    """The one portal of this session, started on first use and stopped at the end."""

    server: PortalServer | None = None
    portal: ContractPortal | None = None

    @classmethod
    def get(cls) -> ContractPortal:
        if cls.portal is None:
            url = os.environ.get("HERMES_PORTAL_BASE_URL", "").strip()
            if not url:
                cls.server = PortalServer().start()
                url = cls.server.url
            cls.portal = ContractPortal(url, control_token=os.environ.get("MOCKPORTAL_CONTROL_TOKEN") or None)
        return cls.portal


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "control: needs mockportal's /_mock control plane (reset, tokens, "
                                       "a frozen clock it can move)")


def pytest_runtest_setup(item: pytest.Item) -> None:
    if not item.get_closest_marker("control"):
        return
    portal = _Target.get()
    clock = portal.control_clock
    if clock is None:
        pytest.skip(f"{portal.base_url} has no /_mock control plane (GET /_mock/clock is not 200)")
    if not clock["frozen"]:
        pytest.skip(f"{portal.base_url} runs on the wall clock; exact timing needs `--frozen-clock`")


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _Target.server is not None:
        _Target.server.stop()


@pytest.fixture(scope="session")
def portal() -> ContractPortal:
    return _Target.get()
