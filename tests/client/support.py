"""What the client's tests share besides fixtures."""

from __future__ import annotations

from mockportal.testing import PortalTime


def refused(result, *phrases: str) -> None:
    """Exit status 1, and each phrase somewhere in what the person read on stderr."""
    assert result.exit_code == 1, result.output
    for phrase in phrases:
        assert phrase in result.stderr


class Approver:
    """The person at the portal: sees the code the terminal shows, decides after `wait` polls."""

    def __init__(self, control, fake_time: PortalTime, user: str = "owner@acme.test", allow: bool = True,
                 wait: int = 0, deny: bool = False):
        self.control, self.fake_time = control, fake_time
        self.user, self.allow, self.wait, self.deny = user, allow, wait, deny
        self.shown = []
        if wait:
            real_sleep = fake_time.sleep

            def sleep_then_decide(seconds):
                real_sleep(seconds)
                if len(fake_time.sleeps) == wait:
                    self.decide()

            fake_time.sleep = sleep_then_decide

    def show(self, code) -> None:
        self.shown.append(code)
        if not self.wait:
            self.decide()

    def decide(self) -> None:
        code = self.shown[-1].user_code
        if self.deny:
            self.control.deny(code)
        else:
            self.control.approve(code, self.user, allow_billing=self.allow)
