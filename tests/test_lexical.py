"""BM25, text folding, name variants and archive-built aliases (pure, no model)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from qa.aliases import aliases_in, build_aliases, expand, initials
from qa.lexical import BM25Index, analyze, fold, skeleton

TEXTS = [
    "Daesh (an Arabic acronym for the Islamic State) took the Al Waleed post.",
    "The Al Walid border crossing was captured in 2014 by the Islamic State in Iraq and the Levant (ISIL).",
    "Iraqi Security Forces (ISF) withdrew to the Trebil crossing.",
    "ISIS is short for the Islamic State of Iraq and the Sham, which holds Al Qaim.",
    "The weather in the desert was wild and windy.",
]


def test_fold_and_analyze() -> None:
    assert fold("Al-Walíd’s") == "al-walid's"
    assert analyze("The crossings of Al-Waleed’s forces") == ["crossing", "al", "waleed", "forc"]


def test_bm25_ranks_and_masks() -> None:
    index = BM25Index.build(TEXTS)
    rows, scores = index.search("Trebil crossing", 3)
    assert rows[0] == 2 and list(scores) == sorted(scores, reverse=True)
    allowed = np.ones(len(TEXTS), dtype=bool)
    allowed[2] = False
    assert 2 not in index.search("Trebil crossing", 3, allowed)[0]
    assert len(index.search("zebra", 3)[0]) == 0


def test_acronyms_and_glosses_from_text() -> None:
    assert initials("Islamic State of Iraq and the Sham") == "ISIS"
    pairs = aliases_in(" ".join(TEXTS))
    assert ("daesh", "islamic state") in pairs
    assert ("isil", "islamic state in iraq and the levant") in pairs
    assert ("isf", "iraqi security forces") in pairs
    assert ("isis", "islamic state of iraq and the sham") in pairs
    table = build_aliases(TEXTS)
    assert expand("Who does Daesh fight?", table) == ["islamic state"]
    assert "daesh" in expand("Where is the Islamic State?", table)


def test_variant_spellings_and_aliases_reach_the_passage() -> None:
    index = BM25Index.build(TEXTS)
    assert skeleton("waleed") == skeleton("walid") == "wld"
    terms = index.query_terms("Who holds Al Walid?")
    assert terms["walid"] == 1.0 and 0 < terms["waleed"] < 1
    assert "wild" not in terms  # same skeleton, but not a name in the archive
    assert index.query_terms("a wild guess") == {"wild": 1.0, "guess": 1.0}
    assert index.search("What did Daesh take?", 1)[0][0] == 0
    assert set(index.search("ISIL gains", 5)[0]) >= {1}
    # an unknown, capitalised spelling still finds the known one
    assert index.search("Al Waleyd", 1)[0][0] in (0, 1)


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    index = BM25Index.build(TEXTS)
    index.save(tmp_path / "lex.npz")
    loaded = BM25Index.load(tmp_path / "lex.npz")
    assert loaded.aliases == index.aliases and loaded.vocab == index.vocab
    assert np.allclose(loaded.scores("Al Walid crossing"), index.scores("Al Walid crossing"))
