"""`GET /api/billing/charge/{id}` answers for any id, never a 404 (CONTRACT.md section 4)."""

import pytest


@pytest.mark.parametrize("raw_id", ["%2F", "%2Fch_x", "%2F%2F", "a%2Fb", "ch_x/y", "ch_x%2F",
                                    "ch_x%0D%0AX-Injected:%201", "%0A"])
def test_ids_with_slashes_anywhere_read_pending(portal, raw_id):
    response = portal.client.get(f"/api/billing/charge/{raw_id}", headers=portal.bearer())
    assert (response.status_code, response.json) == (200, {"status": "pending"})


def test_an_id_with_a_leading_slash_still_needs_a_token(client):
    response = client.get("/api/billing/charge/%2Fch_x")
    assert (response.status_code, response.json["error"]) == (401, "invalid_token")
