"""A consolidation change as one line a person can read: the run's diff."""

from __future__ import annotations

from typing import Any

from reverie.core.store.ledger import Ledger

QUOTE_CHARS = 70


def describe(ledger: Ledger, op: str, payload: dict[str, Any], proposal: bool = False) -> str:
    """What the change does, quoting the memories it touches."""
    def text(memory_id: str) -> str:
        rows = ledger.query("SELECT text FROM memories WHERE id = ?", (memory_id,))
        said = rows[0]["text"] if rows else "(a memory no longer stored)"
        short = said if len(said) <= QUOTE_CHARS else said[: QUOTE_CHARS - 1] + "…"
        return f'"{short}"'

    prefix = "propose: " if proposal else ""
    if op == "merge":
        line = (f"merge {text(payload['fold'])} into {text(payload['keep'])}"
                f" (similarity {payload['similarity']:.2f})")
    elif op == "supersede":
        line = (f"supersede {text(payload['old'])} by {text(payload['new'])}"
                f" ({payload['slot']} changed)")
    elif op == "fade":
        line = f"archive {text(payload['memory'])} (fade score {payload['score']:.3f})"
    elif op == "summary":
        count = len(payload["memories"])
        line = f"summarise {payload['scope']} {payload['period']} ({count} memories)"
        if payload.get("replaces"):
            line += ", replacing its older summary"
    else:
        line = f"{op} {payload}"
    return prefix + line
