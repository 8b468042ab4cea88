"""The test harness: one embeddable portal, its control plane as verbs, and time for clients.

- `PortalServer`: a real HTTP server on 127.0.0.1 and a free port, in a background thread of
  the test process (like moto's ThreadedMotoServer), with the portal clock frozen at
  `TEST_EPOCH` (tests move it) or running on the wall clock.
- `Control`: mockportal's `/_mock` control plane (CONTRACT.md section 8) as typed verbs, over
  real HTTP (`Control.over_http(url, token)`) or over a Flask test client
  (`Control.over_flask(app.test_client())`). Every verb is one request and raises
  `ControlError`, with the answer, unless the portal answers 200.
- `PortalTime`: the clock and sleep a client under test is given. Sleeping moves the portal
  clock instead of waiting, so five minutes of polling take no wall time.

The pytest plugin (`mockportal.pytest_plugin`) serves these as fixtures.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Protocol

import requests
from waitress import wasyncore
from waitress.server import create_server

from mockportal.app import create_app
from mockportal.domain.tokens import ACCESS_TOKEN_SECONDS

# 2026-06-10T12:00:00Z: mid-month, so a suite's clock moves rarely cross a month boundary.
TEST_EPOCH = 1781092800.0
STOP_POLL_SECONDS = 0.05  # how soon `stop` is noticed
CLOCKS = ("frozen", "running")

# The demo scenario (CONTRACT.md section 8): what the verbs' defaults name.
DEMO_ORG = "org_acme"
DEMO_OWNER = "owner@acme.test"
DEMO_PLAN_ORG = "org_pat"  # the demo's personal org, on Plus
DEMO_PLAN_OWNER = "pat@pat.test"
LOGIN_SCOPE = "inference:invoke tool:invoke"
BILLING_SCOPE = "inference:invoke tool:invoke billing:manage"
CLIENT_ID = "hermes-cli"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


class PortalServer:
    """`with PortalServer() as server: server.url`; `server.control()` drives it.

    `clock="frozen"` (the default) stops portal time at TEST_EPOCH: it moves only when a test
    moves it, so expiry, rate windows and settlement are exact. `clock="running"` is the wall
    clock (moves still add to it): a real client that really waits sees its purchase settle.
    `scenario` is the state the server starts with; `control_token` guards `/_mock`; `config`
    is passed to `create_app` and wins over the rest.
    """

    def __init__(self, config: dict[str, Any] | None = None, *, clock: str = "frozen",
                 scenario: str = "demo", control_token: str | None = None, threads: int = 8):
        if clock not in CLOCKS:
            raise ValueError(f"clock must be one of {CLOCKS}, not {clock!r}")
        self.clock = clock
        self.control_token = control_token
        self.app = create_app({"FROZEN_CLOCK_AT": TEST_EPOCH if clock == "frozen" else None,
                               "SCENARIO": scenario, "CONTROL_TOKEN": control_token, **(config or {})})
        self._server = create_server(self.app, host="127.0.0.1", port=0, threads=threads,
                                     ident="mockportal")
        self.url = f"http://127.0.0.1:{self._server.effective_port}"
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="mockportal", daemon=True)

    def start(self) -> "PortalServer":
        self._thread.start()
        return self

    def control(self) -> "Control":
        """A control-plane client for this server, with its control token."""
        return Control.over_http(self.url, self.control_token)

    def _serve(self) -> None:
        """waitress's loop, polled in short steps until `stop`; then, still in this thread,
        the worker threads finish and every socket and the wake-up pipe are closed. Closing them
        from another thread raced the loop (EBADF in select) and the workers (a finished request
        pulling an already closed wake-up pipe)."""
        while not self._stopping.is_set():
            wasyncore.loop(timeout=STOP_POLL_SECONDS, map=self._server._map, count=1)
        self._server.task_dispatcher.shutdown()
        wasyncore.close_all(self._server._map)

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)

    def __enter__(self) -> "PortalServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- how the control plane is reached ---------------------------------------------------------
@dataclass(frozen=True)
class Answer:
    """What a transport got back: the status and the body's text."""

    status: int
    text: str

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.text)
        except ValueError:
            return None


class Transport(Protocol):
    """One request to the portal. `body` is JSON text, `form` a form to encode."""

    url: str

    def send(self, method: str, path: str, *, body: str | None = None, form: dict[str, str] | None = None,
             headers: dict[str, str] | None = None) -> Answer: ...

    def close(self) -> None: ...


class HttpTransport:
    """Real HTTP through a `requests.Session`: a portal on a port, embedded or not."""

    def __init__(self, url: str, session: requests.Session | None = None, timeout: float = 30):
        self.url = url.rstrip("/")
        self.session = session if session is not None else requests.Session()
        self.timeout = timeout

    def send(self, method: str, path: str, *, body: str | None = None, form: dict[str, str] | None = None,
             headers: dict[str, str] | None = None) -> Answer:
        response = self.session.request(method, self.url + path, data=form if body is None else body,
                                        headers=headers, timeout=self.timeout, allow_redirects=False)
        return Answer(response.status_code, response.text)

    def close(self) -> None:
        self.session.close()


class FlaskTransport:
    """Flask's test client: the app in this process, no socket, for fast tests."""

    url = "http://localhost"

    def __init__(self, client: Any):
        self.client = client

    def send(self, method: str, path: str, *, body: str | None = None, form: dict[str, str] | None = None,
             headers: dict[str, str] | None = None) -> Answer:
        response = self.client.open(path, method=method, data=form if body is None else body, headers=headers)
        return Answer(response.status_code, response.get_data(as_text=True))

    def close(self) -> None:
        pass


class ControlError(AssertionError):
    """The portal refused a harness request: a broken setup, or the refusal a test expects
    (`status` and `body`, the answer's JSON, say which)."""

    def __init__(self, method: str, path: str, answer: Answer):
        super().__init__(f"{method} {path} answered {answer.status}: {answer.text}")
        self.status = answer.status
        self.body = answer.json()


def _json_text(body: Any) -> str:
    """JSON for the control plane, whose money fields take decimal strings: a Decimal goes as
    its own text, never through float."""

    def encode(value: Any) -> str:
        if isinstance(value, Decimal):
            return str(value)
        raise TypeError(f"{type(value).__name__} is not JSON")

    return json.dumps(body, default=encode)


def _present(**fields: Any) -> dict[str, Any]:
    """The fields given; the control plane applies its own default for each one left out."""
    return {name: value for name, value in fields.items() if value is not None}


# -- the control plane as verbs ---------------------------------------------------------------
class Control:
    """mockportal's `/_mock` control plane (CONTRACT.md section 8) as verbs.

    Defaults name the demo scenario's org (`org_acme`) and owner (`owner@acme.test`). Money
    may be given as `Decimal` or a decimal string. A verb for a new control endpoint is one
    `call` (path relative to `/_mock`), e.g.:

        def subscription(self, org_id: str) -> dict:
            return self.call("GET", f"/orgs/{org_id}/subscription")
    """

    PREFIX = "/_mock"

    def __init__(self, transport: Transport, token: str | None = None):
        self.transport = transport
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}

    @classmethod
    def over_http(cls, url: str, token: str | None = None, *,
                  session: requests.Session | None = None) -> "Control":
        """The control plane of the portal at `url`; `token` for one started with `--control-token`."""
        return cls(HttpTransport(url, session), token)

    @classmethod
    def over_flask(cls, client: Any, token: str | None = None) -> "Control":
        """The control plane of a Flask test client's app (`create_app(...).test_client()`)."""
        return cls(FlaskTransport(client), token)

    @property
    def url(self) -> str:
        """The portal's base URL (`http://localhost` for a Flask test client)."""
        return self.transport.url

    def call(self, method: str, path: str, body: Any = None) -> Any:
        """`method /_mock<path>` with `body` as JSON: the answer's JSON, or ControlError."""
        text = None if body is None else _json_text(body)
        headers = dict(self._headers)
        if text is not None or method not in ("GET", "HEAD"):
            headers["Content-Type"] = "application/json"  # every control-plane write, body or not
        path = self.PREFIX + path
        return self._expect_200(method, path, self.transport.send(method, path, body=text, headers=headers))

    def _public(self, method: str, path: str, form: dict[str, str]) -> Any:
        """A form-encoded request to the public API, as the terminal sends it (no control token)."""
        return self._expect_200(method, path, self.transport.send(method, path, form=form))

    @staticmethod
    def _expect_200(method: str, path: str, answer: Answer) -> Any:
        if answer.status != 200:
            raise ControlError(method, path, answer)
        return answer.json()

    def offered(self) -> dict[str, Any] | None:
        """The portal clock if this portal offers us a control plane, else None: a real portal,
        `--no-control`, a control token we were not given, or nothing listening."""
        try:
            return self.clock()
        except (ControlError, OSError):  # requests' errors are OSErrors
            return None

    def close(self) -> None:
        self.transport.close()

    # -- state -------------------------------------------------------------------------------
    def reset(self, to: str | dict[str, Any] = "demo") -> None:
        """Replace all state with a named scenario or an inline fixture `{"orgs": [...]}`; the
        clock returns to its start."""
        self.call("POST", "/reset", {"scenario": to} if isinstance(to, str) else {"fixture": to})

    # -- logins ------------------------------------------------------------------------------
    def token(self, user: str = DEMO_OWNER, scope: str = BILLING_SCOPE,
              expires_in: int = ACCESS_TOKEN_SECONDS) -> dict[str, Any]:
        """A token response for `user`, exactly as `/api/oauth/token` gives one, with exactly
        `scope` (no downscoping) and an access token good for `expires_in` seconds."""
        return self.call("POST", "/tokens", {"user": user, "scope": scope, "expiresIn": expires_in})

    def bearer(self, user: str = DEMO_OWNER, scope: str = BILLING_SCOPE,
               expires_in: int = ACCESS_TOKEN_SECONDS) -> dict[str, str]:
        """`{"Authorization": "Bearer <access token>"}` for a fresh `token(...)`."""
        return {"Authorization": "Bearer " + self.token(user, scope, expires_in)["access_token"]}

    def login(self, user: str = DEMO_OWNER, *, allow_billing: bool = True, scope: str | None = BILLING_SCOPE,
              client_id: str = CLIENT_ID) -> dict[str, Any]:
        """The real device login (RFC 8628, CONTRACT.md section 6): the terminal asks for a code
        with `scope` (None: none sent), `user` approves it, ticking "Allow terminal billing" or
        not, and the terminal collects the token response. It polls once, after the approval:
        a decided code is answered however fast it is polled, so no slow_down is possible and
        the clock need not move, frozen or running."""
        code = self._public("POST", "/api/oauth/device/code",
                            _present(client_id=client_id, scope=scope))
        self.approve(code["user_code"], user, allow_billing=allow_billing)
        return self._public("POST", "/api/oauth/token", {"grant_type": DEVICE_GRANT, "client_id": client_id,
                                                         "device_code": code["device_code"]})

    def approve(self, user_code: str, user: str = DEMO_OWNER, *, allow_billing: bool = True) -> dict[str, Any]:
        """What Approve on `/device` does, as `user`: `{"ok": true, "scope": <the token's scope>}`."""
        return self.call("POST", "/device/approve", {"userCode": user_code, "user": user,
                                                     "allowTerminalBilling": allow_billing})

    def deny(self, user_code: str) -> None:
        """What Deny on `/device` does."""
        self.call("POST", "/device/deny", {"userCode": user_code})

    def revoke(self, kind: str, token: str | None = None, *, user: str | None = None,
               actor: str | None = None) -> int:
        """Revoke the grant of `token` (access or refresh) or every grant of `user`: its
        spending (`kind="spending"`, by `actor` "admin" or "self") or its whole session
        (`kind="session"`). The number of grants revoked."""
        body = _present(kind=kind, token=token, user=user, actor=actor)
        return self.call("POST", "/revocations", body)["revokedGrants"]

    # -- time --------------------------------------------------------------------------------
    def clock(self) -> dict[str, Any]:
        """`{"now": ISO instant, "epoch": seconds, "frozen": bool}`."""
        return self.call("GET", "/clock")

    def now(self) -> float:
        """Portal time, epoch seconds."""
        return float(self.clock()["epoch"])

    def advance(self, seconds: float) -> float:
        """Move the portal clock forward; the new portal time."""
        return float(self.call("POST", "/clock", {"advanceSeconds": seconds})["epoch"])

    # -- orgs and users ----------------------------------------------------------------------
    def org(self, org_id: str = DEMO_ORG) -> dict[str, Any]:
        """The whole org as the portal holds it: balance, card, cap, charges, usage, scripts."""
        return self.call("GET", f"/orgs/{org_id}")

    def edit_org(self, org_id: str = DEMO_ORG, **changes: Any) -> dict[str, Any]:
        """Change the org's fields, named as on the wire (`balanceUsd`, `cliBillingEnabled`,
        `card={"brand", "last4"}` or None, `monthlyCapUsd`, `settleAfterSeconds`, `name`,
        `kind`, `autoReloadCard`, `subscription={"tierId", "periodStart", "creditsRemaining",
        "rolloverCredits", "pendingTierId", "cancelAtPeriodEnd"}` or None); the org afterwards."""
        return self.call("PATCH", f"/orgs/{org_id}", changes)

    def edit_plan(self, org_id: str = DEMO_PLAN_ORG, **plan: Any) -> dict[str, Any]:
        """Set some of the org's plan fields (a plan is started if it has none): what finishing
        a payment on the portal, or Stripe's own bookkeeping, would change. The org afterwards."""
        return self.edit_org(org_id, subscription=plan)

    def edit_user(self, email: str, **changes: Any) -> None:
        """Change a user's fields, named as on the wire (`role`)."""
        self.call("PATCH", f"/users/{email}", changes)

    def script_outcome(self, org_id: str = DEMO_ORG, outcome: str = "settle", *, reason: str | None = None,
                       after_seconds: float | None = None, count: int | None = None) -> None:
        """How the org's next `count` charges end: "settle" (after `after_seconds`), "fail"
        with `reason`, or "pending" forever."""
        self.call("POST", f"/orgs/{org_id}/outcomes",
                  _present(outcome=outcome, reason=reason, afterSeconds=after_seconds, count=count))

    def debit_usage(self, org_id: str, amount: Decimal | str) -> dict[str, Any]:
        """Debit the balance as inference would (it may trigger auto-reload); the org afterwards."""
        return self.call("POST", f"/orgs/{org_id}/usage", {"amountUsd": amount})

    # -- faults and the journal ----------------------------------------------------------------
    def fault(self, method: str, path: str, status: int | None = None, error: str | None = None, *,
              message: str | None = None, retry_after: int | None = None, delay_ms: int | None = None,
              count: int | None = None) -> None:
        """The next `count` requests matching `method` ("*" for any) and `path` (a glob) stall
        `delay_ms`, then answer `status` with `error` (and Retry-After), or go through when no
        status is given."""
        self.call("POST", "/faults", _present(method=method, path=path, status=status, error=error,
                                              message=message, retryAfter=retry_after, delayMs=delay_ms,
                                              count=count))

    def clear_faults(self) -> None:
        self.call("DELETE", "/faults")

    def stripe(self, available: bool | None = None, *, retry_after: int | None = None) -> dict[str, Any]:
        """The whole server's Stripe switch: `{"available", "retryAfter"}`, set first when
        `available` is given (off: plan changes and upgrades answer 503 stripe_unavailable)."""
        if available is None:
            return self.call("GET", "/stripe")
        return self.call("POST", "/stripe", _present(available=available, retryAfter=retry_after))

    # -- inference ----------------------------------------------------------------------------
    def replies(self, org_id: str = DEMO_ORG, *replies: dict[str, Any]) -> int:
        """Queue what the org's next chat completions answer, in order: each `{"content",
        "reasoning", "toolCalls": [{"name", "arguments", "id"}], "chunkDelayMs"}`; how many wait."""
        return self.call("POST", "/inference/replies", {"org": org_id, "replies": list(replies)})["queued"]

    def clear_replies(self, org_id: str | None = None) -> None:
        self.call("DELETE", "/inference/replies", _present(org=org_id))

    def journal(self, limit: int | None = None, *, method: str | None = None,
                path_prefix: str = "") -> list[dict[str, Any]]:
        """The last `limit` requests the portal answered (not control-plane ones), oldest first:
        `{"method", "path", "status", "time"}`; of those, the ones with `method` and a path
        starting with `path_prefix`."""
        query = "" if limit is None else f"?limit={limit}"
        return [entry for entry in self.call("GET", "/requests" + query)["requests"]
                if method in (None, entry["method"]) and entry["path"].startswith(path_prefix)]

    def clear_journal(self) -> None:
        self.call("DELETE", "/requests")


# -- time for the client under test -------------------------------------------------------------
class PortalTime:
    """The clock and sleep to inject into a client (`clock=time.clock, sleep=time.sleep`).

    Its clock starts at 0 and moves only by sleeping; `sleeps` lists every sleep. With a
    control plane, a sleep moves the portal clock by as much instead of waiting, so the
    client and the portal agree on how long it waited. Without one, only this clock moves,
    unless `real_sleep` is given (e.g. `time.sleep`, against a portal whose clock cannot be
    moved): then it really waits.
    """

    def __init__(self, control: Control | None = None, *, real_sleep: Callable[[float], None] | None = None):
        self.control = control
        self.real_sleep = real_sleep
        self.elapsed = 0.0
        self.sleeps: list[float] = []
        self._later: list[tuple[float, Callable[[], None]]] = []

    def clock(self) -> float:
        return self.elapsed

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.elapsed += seconds
        if self.control is not None:
            self.control.advance(seconds)
        elif self.real_sleep is not None:
            self.real_sleep(seconds)
        due = [action for at, action in self._later if at <= self.elapsed]
        self._later = [(at, action) for at, action in self._later if at > self.elapsed]
        for action in due:
            action()

    def later(self, seconds: float, action: Callable[[], None]) -> None:
        """Do `action` once the client has slept `seconds` more: what a person does meanwhile
        (approve a login in the browser, say)."""
        self._later.append((self.elapsed + seconds, action))
