"""The demo's answer is pinned: the same site ids, scores, funnel and ledger before and after a refactor.

The digests were taken from the demo run before the code was reorganised into packages (issue 14). A
change that alters any site id, score (to 1e-9), funnel number or ledger entry (to 1e-6) fails here;
an intended change of results updates the digests in the same commit and says why.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd

DIGESTS = {
    "sites": "5c4a88e106fb74956c39e71429cc2a2709bdfd78193321d2f78ce84548c0d4ab",
    "funnel": "706a0c61113ec4ac4a3d776a4d76fefb02955c5608f19fca82665d0b665b6852",
    "ledger": "eb4b20cfa91bad6dc3c0a4395514158cc3c24e7afbc6868d4206360c841e4996",
}


def _plain(v):
    if isinstance(v, bool | np.bool_):
        return bool(v)
    if isinstance(v, int | np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return None if np.isnan(v) else round(float(v), 6)
    return None if v is None or v is pd.NA else str(v)


def digest_parts(result) -> dict:
    """The demo's answer as plain lists: sites (id, score), funnel rows and ledger rows."""
    sites = [[s, round(float(x), 9)] for s, x in zip(result.sites["site_id"], result.sites["score"], strict=True)]
    funnel = result.funnel.drop(columns=["description"])
    ledger = result.ledger.sort_values(["candidate_id", "rule"], kind="stable")
    ledger = ledger[["candidate_id", "rule", "value", "threshold", "passed"]]
    return {"sites": sites,
            "funnel": [[_plain(v) for v in row] for row in funnel.itertuples(index=False)],
            "ledger": [[_plain(v) for v in row] for row in ledger.itertuples(index=False)]}


def test_demo_answer_is_unchanged(demo_result):
    parts = digest_parts(demo_result)
    got = {k: hashlib.sha256(json.dumps(v).encode()).hexdigest() for k, v in parts.items()}
    assert len(parts["sites"]) > 0 and len(parts["ledger"]) > len(parts["sites"])
    assert got == DIGESTS


def test_digest_notices_a_changed_score(demo_result):
    parts = digest_parts(demo_result)
    parts["sites"][0][1] += 1e-8
    assert hashlib.sha256(json.dumps(parts["sites"]).encode()).hexdigest() != DIGESTS["sites"]
