"""No store lock is held while a reply streams or a slow model waits: the rest of the portal
answers meanwhile. A real server, since the Flask test client cannot overlap requests.

The scripted replies wait between chunks for real (that is what a slow model does), so these
tests take about a second of wall time; what they assert is order, never a duration.
"""

from __future__ import annotations

import json
import threading

import pytest
import requests

from mockportal.testing import DEMO_PLAN_ORG, DEMO_PLAN_OWNER, PortalServer

SLOW = {"content": "one two three four five six", "chunkDelayMs": 150}


@pytest.fixture(scope="module")
def server():
    with PortalServer() as portal:
        yield portal


@pytest.fixture
def control(server):
    control = server.control()
    control.reset()
    return control


def completion_body(stream: bool) -> dict:
    return {"model": "anthropic/claude-sonnet-5", "messages": [{"role": "user", "content": "hi"}],
            "stream": stream, "stream_options": {"include_usage": True}}


def billed(control) -> list:
    return [c["billedAt"] for c in control.org(DEMO_PLAN_ORG)["completions"]]


def test_the_portal_answers_while_a_reply_streams(server, control):
    headers = control.bearer(DEMO_PLAN_OWNER, "inference:invoke billing:manage")
    control.replies(DEMO_PLAN_ORG, SLOW)
    with requests.post(server.url + "/v1/chat/completions", json=completion_body(True), headers=headers,
                       stream=True, timeout=30) as stream:
        events = stream.iter_lines()
        first = next(line for line in events if line)
        assert json.loads(first[len(b"data: "):])["choices"][0]["delta"]["role"] == "assistant"
        # Mid-stream: the reply is not finished, so not billed; other requests are answered.
        assert billed(control) == [None]
        state = requests.get(server.url + "/api/billing/state", headers=headers, timeout=5)
        charge = requests.post(server.url + "/api/billing/charge", json={"amountUsd": 10}, timeout=5,
                               headers={**headers, "Idempotency-Key": "mid-stream"})
        assert (state.status_code, charge.status_code) == (200, 202)
        assert billed(control) == [None]
        rest = [line for line in events if line]
    assert rest[-1] == b"data: [DONE]"
    assert billed(control) != [None]


def test_the_portal_answers_while_a_slow_model_prepares_a_whole_answer(server, control):
    headers = control.bearer(DEMO_PLAN_OWNER, "inference:invoke")
    control.replies(DEMO_PLAN_ORG, SLOW)
    answer = {}
    slow = threading.Thread(target=lambda: answer.update(response=requests.post(
        server.url + "/v1/chat/completions", json=completion_body(False), headers=headers, timeout=30)))
    slow.start()
    try:
        for _ in range(10_000):  # admitted: the completion is recorded before the wait
            if billed(control):
                break
        assert billed(control) == [None]
        assert requests.get(server.url + "/api/billing/state", headers=headers, timeout=5).status_code == 200
        assert billed(control) == [None], "the state read waited for the slow answer"
    finally:
        slow.join(timeout=30)
    assert answer["response"].status_code == 200
    assert answer["response"].json()["choices"][0]["message"]["content"] == SLOW["content"]
    assert billed(control) != [None]


def test_a_stream_the_client_leaves_early_is_still_billed_once(server, control):
    headers = control.bearer(DEMO_PLAN_OWNER, "inference:invoke")
    control.replies(DEMO_PLAN_ORG, SLOW)
    with requests.post(server.url + "/v1/chat/completions", json=completion_body(True), headers=headers,
                       stream=True, timeout=30) as stream:
        next(line for line in stream.iter_lines() if line)
    # The server finishes generating (or notices the client left) and bills the whole reply.
    for _ in range(300):
        if billed(control) != [None]:
            break
        threading.Event().wait(0.02)
    completions = control.org(DEMO_PLAN_ORG)["completions"]
    assert len(completions) == 1 and completions[0]["billedAt"] is not None
