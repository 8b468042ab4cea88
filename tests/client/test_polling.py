"""The poll loop's timing rules, with a fake clock and a fake sleep (nothing really sleeps)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from client.billing import ChargeStatus
from client.errors import AuthError, NetworkError, RateLimited, ScopeRequired, Unavailable
from client.journeys import poll_charge

from mockportal.testing import PortalTime

PENDING = ChargeStatus("pending")
SETTLED = ChargeStatus("settled", Decimal("25"), "2026-06-10T12:00:03Z")


class ScriptedStatuses:
    """A stand-in for `BillingApi.charge_status`: answers from a list, then stays pending."""

    def __init__(self, time: PortalTime, answers=()):
        self.time = time
        self.answers = list(answers)
        self.polled_at: list[float] = []

    def charge_status(self, charge_id: str) -> ChargeStatus:
        self.polled_at.append(self.time.clock())
        answer = self.answers.pop(0) if self.answers else PENDING
        if isinstance(answer, Exception):
            raise answer
        return answer


def poll(answers=()):
    time = PortalTime()
    api = ScriptedStatuses(time, answers)
    status = poll_charge(api, "ch_1", clock=time.clock, sleep=time.sleep)
    return status, api.polled_at, time.sleeps


def test_polls_at_once_then_every_two_seconds_until_settled():
    status, polled_at, sleeps = poll([PENDING, PENDING, SETTLED])
    assert status == SETTLED
    assert polled_at == [0, 2, 4]
    assert sleeps == [2, 2]


def test_a_failed_charge_ends_the_poll():
    status, polled_at, _ = poll([PENDING, ChargeStatus("failed", reason="card_declined")])
    assert (status.status, status.reason, polled_at) == ("failed", "card_declined", [0, 2])


def test_gives_up_after_five_minutes_with_a_pending_status():
    status, polled_at, sleeps = poll()
    assert status.status == "pending"
    assert polled_at == [2 * n for n in range(151)]  # 0, 2, ..., 300: the last poll is at the cap
    assert sum(sleeps) == 300


def test_retry_after_is_honoured_while_polling():
    limited = RateLimited(429, "rate_limited", "slow down", retry_after=7)
    status, polled_at, _ = poll([PENDING, limited, SETTLED])
    assert status == SETTLED
    assert polled_at == [0, 2, 9]


def test_retry_after_is_capped_at_thirty_seconds():
    busy = Unavailable(503, "temporarily_unavailable", "busy", retry_after=3600)
    _, polled_at, sleeps = poll([busy, SETTLED])
    assert polled_at == [0, 30]
    assert sleeps == [30]


def test_a_transient_error_without_retry_after_waits_the_usual_interval():
    busy = Unavailable(503, "temporarily_unavailable", "busy")
    _, polled_at, _ = poll([busy, SETTLED])
    assert polled_at == [0, 2]


def test_a_dropped_answer_keeps_polling():
    _, polled_at, _ = poll([NetworkError("reset"), NetworkError("reset"), SETTLED])
    assert polled_at == [0, 2, 4]


def test_backoff_never_sleeps_past_the_deadline():
    busy = Unavailable(503, "temporarily_unavailable", "busy", retry_after=30)
    status, polled_at, sleeps = poll([PENDING] * 145 + [busy])  # the 146th poll is at 290 s
    assert status.status == "pending"
    assert polled_at[-2:] == [290, 300]
    assert sleeps[-1] == 10


@pytest.mark.parametrize("other", [ValueError("a bug"), AuthError(401, "invalid_token", "x"),
                                   ScopeRequired(403, "insufficient_scope", "x")])
def test_other_errors_are_not_swallowed(other):
    with pytest.raises(type(other)):
        poll([PENDING, other])
