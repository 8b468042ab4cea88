"""One person's terminal: the reference client (client/) with its own credentials file, its
own wire tap, and the scenario's injected time. Steps drive it through the client's journeys,
never through raw HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

from client.billing import (AutoReload, BillingApi, PendingChange, PortalSession, Preview, SubmittedCharge,
                            Subscription, UpgradeAnswer)
from client.config import CREDENTIALS_FILE, inference_base_url
from client.credentials import Credentials, CredentialStore
from client.errors import PortalError
from client.inference import InferenceApi
from client.journeys import (BuyResult, Conversation, Downscoped, ShowCode, Tool, Turn, UpgradeResult, buy, chat,
                             submit, upgrade, with_step_up)
from client.transport import Transport
from mockportal.testing import PortalTime

from steps.support.vocabulary import Person
from steps.support.wire import WireTap


@dataclass(frozen=True)
class Attempt:
    """What came of one action: its value, or the typed error the client raised."""

    value: Any = None
    error: PortalError | None = None

    def succeeded(self) -> Any:
        """The value; had the action been refused, the step fails saying with what."""
        if self.error is not None:
            raise AssertionError(f"refused with {self.error.error}: {self.error.message}")
        return self.value

    def refused(self) -> PortalError:
        """The refusal; had the action gone through, the step fails saying what came of it."""
        if self.error is None:
            raise AssertionError(f"nothing was refused; the terminal got {self.value}")
        return self.error


def attempt(action: Callable[[], Any]) -> Attempt:
    try:
        return Attempt(value=action())
    except PortalError as error:
        return Attempt(error=error)


class Terminal:
    def __init__(self, person: Person, base_url: str, home: Path, time: PortalTime):
        self.person = person
        self.time = time
        self.wire = WireTap()
        self.store = CredentialStore(home / person.email / CREDENTIALS_FILE)
        self.session = PortalSession(Transport(base_url, self.wire), self.store)
        self.api = BillingApi(self.session)
        self.inference = InferenceApi(self.session, Transport(inference_base_url(base_url), self.wire))
        # What she does when the terminal shows her a device login; None: nobody is there.
        self.on_device_code: ShowCode | None = None
        # What she answers when the terminal quotes her an upgrade; by default she pays.
        self.on_quote: Callable[[Preview], bool] = lambda preview: True
        self.quotes: list[Preview] = []  # every upgrade quote the terminal showed her
        self.tools: dict[str, Tool] = {}  # the tools she lets the model run
        self.conversation: Conversation | None = None

    @property
    def credentials(self) -> Credentials | None:
        return self.store.load()

    def log_in(self, token_response: dict) -> None:
        self.store.save(Credentials.from_token_response(token_response))

    def buy(self, amount: Decimal, key: str | None = None) -> BuyResult:
        """The whole buy journey; `key` pins the idempotency key the journey would pick."""
        keys = {} if key is None else {"new_key": lambda: key}
        return buy(self.api, amount, show=self.on_device_code, clock=self.time.clock,
                   sleep=self.time.sleep, **keys)

    def submit(self, amount: Decimal, key: str) -> SubmittedCharge:
        """Only the journey's submit step: the charge is accepted, nobody polls it."""
        return submit(self.api, amount, key, self.time.sleep)

    def configure_auto_reload(self, enabled: bool, threshold: Decimal, reload_to: Decimal) -> AutoReload:
        return with_step_up(lambda: self.api.configure_auto_reload(enabled, threshold, reload_to),
                            self.session, self.on_device_code, clock=self.time.clock, sleep=self.time.sleep)

    def billing_write(self, write: Callable[[], Any]) -> Any:
        """A write that needs terminal billing, stepping up first if need be (or `Downscoped`)."""
        return with_step_up(write, self.session, self.on_device_code, clock=self.time.clock, sleep=self.time.sleep)

    def plan(self) -> Subscription:
        return self.api.subscription()

    def preview(self, tier_id: str) -> Preview | Downscoped:
        return self.billing_write(lambda: self.api.preview(tier_id))

    def upgrade(self, tier_id: str, key: str | None = None) -> UpgradeResult:
        """The whole upgrade journey; `key` pins the idempotency key it would mint."""
        keys = {} if key is None else {"new_key": lambda: key}
        return upgrade(self.api, tier_id, confirm=self.confirm, show=self.on_device_code, clock=self.time.clock,
                       sleep=self.time.sleep, **keys)

    def confirm(self, quote: Preview) -> bool:
        self.quotes.append(quote)
        return self.on_quote(quote)

    def send_upgrade(self, tier_id: str, key: str) -> UpgradeAnswer:
        """Only the journey's upgrade request, with a key she already used."""
        return self.api.upgrade(tier_id, key)

    def schedule_change(self, tier_id: str) -> PendingChange | Downscoped:
        return self.billing_write(lambda: self.api.schedule_change(tier_id))

    def cancel_plan(self) -> PendingChange | Downscoped:
        return self.billing_write(self.api.schedule_cancellation)

    def resume_plan(self) -> PendingChange | Downscoped:
        return self.billing_write(self.api.clear_pending_change)

    def chat(self, model: str, prompt: str) -> Turn:
        """One turn; the conversation goes on while she talks to the same model."""
        if self.conversation is None or self.conversation.model != model:
            self.conversation = Conversation(model)
        return chat(self.inference, self.conversation, prompt, tools=self.tools, sleep=self.time.sleep)

    def close(self) -> None:
        self.wire.close()
