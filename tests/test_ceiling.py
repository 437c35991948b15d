"""`eval/rerank_ceiling.py`'s measures on a hand-made question: recall under a per-document cap, the two
oracles, and the within-document AUC."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "eval"))
import rerank_ceiling as rc  # noqa: E402

# rows 0-2 are document 0, rows 3-4 document 1, row 5 document 2; quote A sits in row 2, quote B in row 4
ITEM = {"rows": [0, 1, 2, 3, 4, 5], "docs": np.array([0, 0, 0, 1, 1, 2]), "doc_rows": np.array([0, 0, 0, 1, 1, 2]),
        "holds": np.array([[0, 0], [0, 0], [1, 0], [0, 0], [0, 1], [0, 0]], dtype=bool)}
SCORES = np.array([0.9, 0.8, 0.1, 0.7, 0.2, 1.0])


def test_recall_under_a_cap_and_the_oracles() -> None:
    assert rc.recall([ITEM], [SCORES], cap=1, k=3) == 0.0  # rows 5, 0 and 3: no quote
    assert rc.recall([ITEM], [SCORES], cap=3, k=6) == 1.0
    assert rc.recall([ITEM], [rc.oracle(ITEM, SCORES, "passage")], cap=1, k=3) == 1.0  # rows 5, 2, 4
    documents = rc.oracle(ITEM, SCORES, "documents")
    assert list(np.argsort(-documents)) == [0, 1, 3, 4, 2, 5]  # document 2 holds no evidence: last


def test_within_document_auc_counts_same_document_rivals_only() -> None:
    assert rc.within_document_auc([ITEM], [SCORES]) == 0.0  # each quote's passage loses to all its rivals
    assert rc.within_document_auc([ITEM], [-SCORES]) == 1.0
