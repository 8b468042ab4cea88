"""Tables of inference: the model catalogue, scripted replies and metered completions."""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from typing import Any

from mockportal.store.records import Completion, Model
from mockportal.wire import money

RECOMMENDED = "recommended_models"


def _price(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _model(row: sqlite3.Row) -> Model:
    return Model(id=row["id"], name=row["name"], context_length=row["context_length"],
                 prompt_price=Decimal(row["prompt_price"]), completion_price=Decimal(row["completion_price"]),
                 cache_read_price=_price(row["cache_read_price"]), cache_write_price=_price(row["cache_write_price"]),
                 created=row["created"])


def _completion(row: sqlite3.Row) -> Completion:
    return Completion(id=row["id"], org_id=row["org_id"], grant_id=row["grant_id"], model=row["model"],
                      prompt_tokens=row["prompt_tokens"], completion_tokens=row["completion_tokens"],
                      cost_micros=row["cost_micros"], at=row["at"], outcome=row["outcome"],
                      billed_at=row["billed_at"],
                      from_grant=Decimal(row["from_grant"] or 0), from_rollover=Decimal(row["from_rollover"] or 0),
                      from_purchased=Decimal(row["from_purchased"] or 0), debt=Decimal(row["debt"] or 0))


class InferenceTables:
    # -- the model catalogue ----------------------------------------------------------------
    def insert_model(self, model: Model, position: int) -> None:
        optional = lambda price: None if price is None else money(price)  # noqa: E731
        self._insert("models", {
            "id": model.id, "name": model.name, "context_length": model.context_length,
            "prompt_price": money(model.prompt_price), "completion_price": money(model.completion_price),
            "cache_read_price": optional(model.cache_read_price),
            "cache_write_price": optional(model.cache_write_price), "created": model.created,
            "position": position})

    def models(self) -> list[Model]:
        return [_model(row) for row in self._all("SELECT * FROM models ORDER BY position, id")]

    def get_model(self, model_id: str) -> Model | None:
        row = self._one("SELECT * FROM models WHERE id = ?", (model_id,))
        return None if row is None else _model(row)

    def recommended_models(self) -> dict[str, Any]:
        text = self.get_meta(RECOMMENDED)
        return {} if text is None else json.loads(text)

    def set_recommended_models(self, recommended: dict[str, Any]) -> None:
        self.set_meta(RECOMMENDED, json.dumps(recommended))

    # -- scripted replies -------------------------------------------------------------------
    def push_reply(self, org_id: str, reply: dict[str, Any]) -> None:
        self._insert("scripted_replies", {"org_id": org_id, "reply": json.dumps(reply)})

    def pop_reply(self, org_id: str) -> dict[str, Any] | None:
        row = self._one("SELECT * FROM scripted_replies WHERE org_id = ? ORDER BY id LIMIT 1", (org_id,))
        if row is None:
            return None
        self._run("DELETE FROM scripted_replies WHERE id = ?", (row["id"],))
        return json.loads(row["reply"])

    def replies_of_org(self, org_id: str) -> list[dict[str, Any]]:
        rows = self._all("SELECT reply FROM scripted_replies WHERE org_id = ? ORDER BY id", (org_id,))
        return [json.loads(row["reply"]) for row in rows]

    def clear_replies(self, org_id: str | None = None) -> None:
        if org_id is None:
            self._run("DELETE FROM scripted_replies")
        else:
            self._run("DELETE FROM scripted_replies WHERE org_id = ?", (org_id,))

    # -- metered completions ----------------------------------------------------------------
    def insert_completion(self, completion: Completion) -> None:
        self._insert("completions", {
            "id": completion.id, "org_id": completion.org_id, "grant_id": completion.grant_id,
            "model": completion.model, "prompt_tokens": completion.prompt_tokens,
            "completion_tokens": completion.completion_tokens, "cost_micros": completion.cost_micros,
            "at": completion.at, "outcome": completion.outcome})

    def get_completion(self, completion_id: str) -> Completion | None:
        row = self._one("SELECT * FROM completions WHERE id = ?", (completion_id,))
        return None if row is None else _completion(row)

    def bill_completion(self, completion_id: str, at: float, split: dict[str, Decimal]) -> bool:
        """Mark a completion billed with what each bucket paid; False if it already was."""
        cursor = self._run("UPDATE completions SET billed_at = ?, from_grant = ?, from_rollover = ?, "
                           "from_purchased = ?, debt = ? WHERE id = ? AND billed_at IS NULL",
                           (at, money(split["grant"]), money(split["rollover"]), money(split["purchased"]),
                            money(split["debt"]), completion_id))
        return cursor.rowcount == 1

    def completions_of_org(self, org_id: str) -> list[Completion]:
        rows = self._all("SELECT * FROM completions WHERE org_id = ? ORDER BY at, id", (org_id,))
        return [_completion(row) for row in rows]

    def completion_usage_since(self, org_id: str, since: float) -> tuple[int, int]:
        """Requests counted and tokens metered for the org from `since` on (a rate window)."""
        row = self._one("SELECT count(*) AS n, coalesce(sum(prompt_tokens + completion_tokens), 0) AS tokens "
                        "FROM completions WHERE org_id = ? AND at >= ?", (org_id, since))
        return row["n"], row["tokens"]
