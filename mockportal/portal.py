"""The portal backend: one object holding the store, the clock and every domain service.

Like a moto backend, it is what the blueprints talk to; `reset()` puts a scenario or fixture
in place. One Portal per Flask app; several processes may each hold one on the same file.
"""

from __future__ import annotations

from typing import Any

from mockportal.domain.accounts import Accounts
from mockportal.domain.admin import Admin, Overview
from mockportal.domain.billing import Billing
from mockportal.domain.clock import Clock
from mockportal.domain.credits import Entitlements
from mockportal.domain.device import DeviceCodes
from mockportal.domain.faults import Faults
from mockportal.domain.journal import Journal
from mockportal.domain.keys import shared_secret
from mockportal.domain.ledger import Ledger
from mockportal.domain.metering import Metering
from mockportal.domain.plans import Catalogue, Renewals
from mockportal.domain.replies import Replies
from mockportal.domain.scenarios import load_fixture, load_scenario, seed_once
from mockportal.domain.spending import SpendPipeline
from mockportal.domain.stripe import StripeSwitch
from mockportal.domain.subscriptions import Subscriptions
from mockportal.domain.tokens import Tokens
from mockportal.store import Store


class Portal:
    def __init__(self, store: Store, *, frozen_at: float | None = None, scenario: str = "demo"):
        self.store = store
        self.clock = Clock(store)
        self.clock.start(frozen_at)
        self.stripe = StripeSwitch(store)
        self.catalogue = Catalogue(store)
        self.ledger = Ledger(store, self.clock, Renewals(store))
        self.accounts = Accounts(store)
        self.entitlements = Entitlements(store, self.clock, self.ledger, self.catalogue, self.accounts)
        self.tokens = Tokens(store, self.clock, self.entitlements.claims)
        self.device = DeviceCodes(store, self.clock, self.tokens)
        # Signs the approval page's session cookie; shared like the JWT secret.
        self.session_secret = shared_secret(store, "session_secret")
        self.spending = SpendPipeline(store, self.clock, self.ledger, self.catalogue, self.stripe)
        self.billing = Billing(store, self.ledger, self.spending)
        self.subscriptions = Subscriptions(store, self.clock, self.ledger, self.catalogue, self.spending,
                                           self.stripe)
        self.admin = Admin(store, self.clock, self.ledger, self.spending)
        self.replies = Replies(store)
        self.metering = Metering(store, self.clock, self.ledger, self.entitlements, self.replies, self.spending)
        self.faults = Faults(store)
        self.journal = Journal(store, self.clock)
        self.overview = Overview(store, self.clock, self.admin, self.device, self.accounts, self.faults,
                                 self.stripe, self.journal)
        seed_once(store, self.clock, scenario)

    @classmethod
    def open(cls, database: str | None = None, **options: Any) -> "Portal":
        return cls(Store(database), **options)

    def reset(self, *, scenario: str | None = None, fixture: Any = None) -> None:
        if fixture is not None:
            load_fixture(self.store, self.clock, fixture)
        else:
            load_scenario(self.store, self.clock, scenario or "demo")
