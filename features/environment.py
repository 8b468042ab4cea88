"""One portal per run, a clean slate per scenario.

The portal is `HERMES_PORTAL_BASE_URL` when set, else a mockportal embedded in this process
(a real HTTP server on a free 127.0.0.1 port, clock frozen). Before each scenario the control
plane resets it to the demo scenario. Scenarios tagged `@control` need that control plane
(tokens without a browser, clock moves, faults); against a portal without one (a real portal,
`--no-control`, or a `--control-token` not given in `MOCKPORTAL_CONTROL_TOKEN`) they are
skipped, and the run says why.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from behave import fixture, use_fixture

from mockportal.testing import Control, PortalServer, PortalTime
from steps.support.timing import use_run_times

# The steps drive the reference client, which is not installed: import it from this checkout
# (as pytest's `pythonpath = ["."]` does), however behave was started.
CHECKOUT = str(Path(__file__).resolve().parent.parent)
if CHECKOUT not in sys.path:
    sys.path.insert(0, CHECKOUT)

NO_CONTROL = "needs mockportal's /_mock control plane, and {url} offers none"


@fixture
def embedded_portal(context):
    with PortalServer() as server:
        yield server.url


@fixture
def control_plane(context, base_url: str):
    """The portal's control plane, or None when it offers none (a real portal, `--no-control`,
    or a `--control-token` we were not given)."""
    control = Control.over_http(base_url, os.environ.get("MOCKPORTAL_CONTROL_TOKEN"))
    yield control if control.offered() is not None else None
    control.close()


@fixture
def hermes_home(context):
    """A fresh HERMES_HOME for the scenario: each terminal keeps its login file in it."""
    with tempfile.TemporaryDirectory(prefix="hermes-home-") as home:
        yield Path(home)


@fixture
def terminals(context):
    """The scenario's terminals by person; their connections close when it ends."""
    opened = {}
    yield opened
    for terminal in opened.values():
        terminal.close()


def before_all(context):
    context.config.setup_logging()
    use_run_times()  # so a feature made of rules does not report 0 s to CI
    base_url = os.environ.get("HERMES_PORTAL_BASE_URL", "").strip().rstrip("/")
    context.base_url = base_url or use_fixture(embedded_portal, context)
    context.control = use_fixture(control_plane, context, context.base_url)
    print(f"Portal under test: {context.base_url}", file=sys.stderr)
    if context.control is None:
        print("Scenarios tagged @control are skipped: each "
              + NO_CONTROL.format(url=context.base_url), file=sys.stderr)


def before_scenario(context, scenario):
    if "control" in scenario.effective_tags and context.control is None:
        scenario.skip(reason=NO_CONTROL.format(url=context.base_url))
        return
    if context.control is not None:
        context.control.reset("demo")
    context.home = use_fixture(hermes_home, context)
    context.terminals = use_fixture(terminals, context)
    # Against a portal whose clock cannot be moved, the client really waits.
    context.time = PortalTime(context.control, real_sleep=time.sleep)
