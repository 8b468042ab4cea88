"""mockportal's pytest plugin: a portal for your tests, in the spirit of pytest-httpbin.

Installed with mockportal (the `pytest11` entry point `mockportal`), so its fixtures are there
in any project whose environment has mockportal:

- `mockportal`: the portal for one test, reset to its scenario first. A
  `mockportal.testing.Control` (the `/_mock` verbs: `reset`, `token`, `bearer`, `login`,
  `approve`, `deny`, `now`, `advance`, `org`, `edit_org`, `edit_user`, `script_outcome`,
  `debit_usage`, `fault`, `clear_faults`, `revoke`, `journal`, `clear_journal`) with `.url`,
  the base URL to point a client at (`HERMES_PORTAL_BASE_URL`).
- `mockportal_server`: the session's `PortalServer` (real HTTP on 127.0.0.1 and a free port,
  in a thread of the test process), on the clock the ini option names.

The scenario and the clock come from the test's marker, else the ini options:

    @pytest.mark.mockportal(scenario="empty", clock="running")   # or fixture={"orgs": [...]}

    [tool.pytest.ini_options]
    mockportal_scenario = "demo"     # the state each test starts from
    mockportal_clock = "frozen"      # or "running"

A frozen clock stands at 2026-06-10T12:00:00Z and moves only when a test moves it
(`mockportal.advance(seconds)`); a running one is the wall clock, so a client that really
waits sees its purchase settle. One server per clock is started, when first needed, and
stopped at the end of the session.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator

import pytest

if TYPE_CHECKING:  # imported when a fixture first runs, not whenever pytest starts
    from mockportal.testing import Control, PortalServer

MARKER = "mockportal"
MARKER_OPTIONS = {"scenario", "fixture", "clock"}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("mockportal_scenario", "mockportal: the scenario each test's portal is reset to",
                  default="demo")
    parser.addini("mockportal_clock", 'mockportal: "frozen" (at 2026-06-10T12:00:00Z, moved by tests) '
                                      'or "running" (the wall clock)', default="frozen")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "mockportal(scenario=None, fixture=None, clock=None): the state "
                                       "(a scenario name or an inline fixture) and the clock "
                                       "(frozen or running) the mockportal fixture starts from")


class _Servers:
    """The session's portals, one per clock, started when first asked for."""

    def __init__(self, scenario: str):
        self._scenario = scenario
        self._started: dict[str, PortalServer] = {}

    def get(self, clock: str) -> PortalServer:
        from mockportal.testing import PortalServer

        if clock not in self._started:
            self._started[clock] = PortalServer(clock=clock, scenario=self._scenario).start()
        return self._started[clock]

    def stop(self) -> None:
        for server in self._started.values():
            server.stop()


@pytest.fixture(scope="session")
def _mockportal_servers(pytestconfig: pytest.Config) -> Iterator[_Servers]:
    servers = _Servers(pytestconfig.getini("mockportal_scenario"))
    yield servers
    servers.stop()


@pytest.fixture(scope="session")
def mockportal_server(_mockportal_servers: _Servers, pytestconfig: pytest.Config) -> PortalServer:
    """The session's portal server on the ini option's clock (`mockportal_clock`): `.url`,
    `.control()`. State carries over from test to test; the `mockportal` fixture resets it."""
    return _mockportal_servers.get(pytestconfig.getini("mockportal_clock"))


@pytest.fixture
def mockportal(request: pytest.FixtureRequest, _mockportal_servers: _Servers) -> Iterator[Control]:
    """The portal for this test, reset to the marker's (else the ini option's) scenario or
    fixture, on its clock: the control-plane verbs of `mockportal.testing.Control`, and `.url`."""
    marker = request.node.get_closest_marker(MARKER)
    options: dict[str, Any] = dict(marker.kwargs) if marker else {}
    unknown = set(options) - MARKER_OPTIONS
    if unknown or (marker and marker.args):
        raise pytest.UsageError(f"@pytest.mark.mockportal takes only {sorted(MARKER_OPTIONS)} by keyword, "
                                f"not {sorted(unknown) or list(marker.args)}")
    clock = options.get("clock") or request.config.getini("mockportal_clock")
    control = _mockportal_servers.get(clock).control()
    control.reset(options.get("fixture") or options.get("scenario") or request.config.getini("mockportal_scenario"))
    yield control
    control.close()
