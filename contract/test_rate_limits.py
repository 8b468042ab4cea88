"""Rate limits (gate 11): at most 5 accepted terminal charges in any rolling hour, per org and
per grant, and `Retry-After` is exactly when the next charge is accepted.

Two grants share org_acme (so the org limit binds across logins) and org_globex has its own.
After every 429 the property probes the promise: one second before `Retry-After` the charge
is still refused, at `Retry-After` it is accepted.
"""

from __future__ import annotations

import itertools
import math
from datetime import datetime

import pytest
from hypothesis import example, given, note, settings
from hypothesis import strategies as st

from contract.profiles import examples
from contract.strategies import clock_moves
from contract.world import ACME, GLOBEX, OWNER, RIVAL, world

pytestmark = pytest.mark.control

LIMIT = 5
WINDOW = 3600
# (login name, its org, its user); two logins of one owner are two grants of one org.
LOGINS = {"acme-1": (ACME, OWNER), "acme-2": (ACME, "admin@acme.test"), "globex": (GLOBEX, RIVAL)}

logins = st.sampled_from(sorted(LOGINS))
# A step is ("charge", login) or ("wait", seconds).
rate_limit_steps = st.lists(st.one_of(st.tuples(st.just("charge"), logins),
                                      st.tuples(st.just("wait"), clock_moves)),
                            min_size=1, max_size=25)


def seconds_until_slot(accepted: list[float], now: float) -> int:
    """The model: 0 if a slot is free now, else whole seconds until the oldest of the last five leaves."""
    in_window = [t for t in accepted if t > now - WINDOW]
    if len(in_window) < LIMIT:
        return 0
    return math.ceil(in_window[-LIMIT] + WINDOW - now)


def busiest_hour(times: list[float]) -> int:
    """The most acceptances inside any rolling hour (a window (t - 3600, t])."""
    return max((sum(1 for s in times if t - WINDOW < s <= t) for t in times), default=0)


class RateLimitRun:
    """Sends the steps, keeps the model's acceptance times, and checks each answer against it."""

    def __init__(self, portal):
        self.portal = portal
        self.tokens = {name: portal.access_token(user) for name, (_, user) in LOGINS.items()}
        self.now = self.start = portal.now()
        self.accepted: dict[str, list[float]] = {name: [] for name in [*LOGINS, ACME, GLOBEX]}
        self.keys = itertools.count()

    def expected_wait(self, login: str) -> int:
        org = LOGINS[login][0]
        return max(seconds_until_slot(self.accepted[org], self.now),
                   seconds_until_slot(self.accepted[login], self.now))

    def wait(self, seconds: int) -> None:
        if seconds:
            self.portal.advance(seconds)
            self.now += seconds

    def charge(self, login: str) -> int | None:
        """Submit one charge; the Retry-After of a refusal, or None when accepted."""
        expected = self.expected_wait(login)
        response = self.portal.charge(self.tokens[login], "10", key=f"rl-{next(self.keys)}")
        if expected == 0:
            assert response.status_code == 202, f"{login} at +{self.elapsed}s has a free slot: {response.text}"
            self.accepted[login].append(self.now)
            self.accepted[LOGINS[login][0]].append(self.now)
            return None
        assert (response.status_code, response.json()["error"]) == (429, "rate_limited"), \
            f"{login} at +{self.elapsed}s is over the limit: {response.text}"
        retry_after = int(response.headers["Retry-After"])
        assert retry_after == expected, f"{login} at +{self.elapsed}s: Retry-After {retry_after}, slot frees in {expected}"
        return retry_after

    @property
    def elapsed(self) -> float:
        return self.now - self.start

    def probe_retry_after(self, login: str, retry_after: int) -> None:
        """One second early is still refused; exactly on time is accepted."""
        self.wait(retry_after - 1)
        assert self.charge(login) == 1, "one second before Retry-After the charge must still be refused"
        self.wait(1)
        assert self.charge(login) is None


@settings(max_examples=examples(1))
@given(steps=rate_limit_steps)
@example(steps=[("charge", "acme-1")] * 6)
@example(steps=[("charge", "acme-1"), ("wait", 1799), ("charge", "acme-2"), ("charge", "acme-2"),
                ("charge", "acme-1"), ("charge", "acme-2"), ("charge", "acme-1"), ("charge", "globex")])
def test_acceptances_per_rolling_hour_and_retry_after_are_exact(portal, steps):
    note(f"steps: {steps}")
    portal.reset(world())
    run = RateLimitRun(portal)

    for step, arg in steps:
        if step == "wait":
            run.wait(arg)
        else:
            retry_after = run.charge(arg)
            if retry_after is not None:
                run.probe_retry_after(arg, retry_after)

    for org in (ACME, GLOBEX):
        charges = portal.org(org)["charges"]
        times = [datetime.fromisoformat(c["createdAt"].replace("Z", "+00:00")).timestamp() for c in charges]
        assert busiest_hour(times) <= LIMIT, f"{org} accepted more than {LIMIT} charges within an hour"
        for grant in {c["grantId"] for c in charges}:
            grant_times = [t for c, t in zip(charges, times) if c["grantId"] == grant]
            assert busiest_hour(grant_times) <= LIMIT, f"grant {grant} accepted more than {LIMIT} in an hour"
