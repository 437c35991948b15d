"""BM25, text folding, name variants and archive-built aliases (pure, no model)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from qa.aliases import aliases_in, build_aliases, expand, initials
from qa.index.lexical import FILES, K1, B, BM25Index
from qa.text import analyze, fold, skeleton, stem

TEXTS = [
    "Daesh (an Arabic acronym for the Islamic State) took the Al Waleed post.",
    "The Al Walid border crossing was captured in 2014 by the Islamic State in Iraq and the Levant (ISIL).",
    "Iraqi Security Forces (ISF) withdrew to the Trebil crossing.",
    "ISIS is short for the Islamic State of Iraq and the Sham, which holds Al Qaim.",
    "The weather in the desert was wild and windy.",
]


def test_fold_and_analyze() -> None:
    assert fold("Al-Walíd’s") == "al-walid's"
    assert analyze("The crossings of Al-Waleed’s forces") == [stem("crossings"), "al", stem("waleed"), stem("forces")]
    assert analyze("crossing crossings") == [stem("crossing")] * 2


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
    assert terms[stem("walid")] == 1.0 and 0 < terms[stem("waleed")] < 1
    assert "wild" not in terms  # same skeleton, but not a name in the archive
    assert index.query_terms("a wild guess") == {"wild": 1.0, "guess": 1.0}
    assert index.search("What did Daesh take?", 1)[0][0] == 0
    assert set(index.search("ISIL gains", 5)[0]) >= {1}
    # an unknown, capitalised spelling still finds the known one
    assert index.search("Al Waleyd", 1)[0][0] in (0, 1)


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    index = BM25Index.build(TEXTS)
    index.save(tmp_path / "lexical")
    assert sorted(f"lexical/{p.name}" for p in (tmp_path / "lexical").iterdir()) == sorted(FILES)
    loaded = BM25Index.load(tmp_path / "lexical")
    assert loaded.aliases == index.aliases and loaded.vocab == index.vocab
    assert isinstance(loaded.model.scores["data"], np.memmap)  # arrays are read from the file on demand
    assert not loaded.weights.flags.writeable and loaded.weights.base is loaded.model.scores["data"]
    for query in ("Al Walid crossing", "What did Daesh take?", "Al Waleyd"):
        assert np.allclose(loaded.scores(query), index.scores(query))
        assert loaded.query_terms(query) == index.query_terms(query)
    (tmp_path / "lexical" / "proper.npy").unlink()
    with pytest.raises(ValueError, match="proper.npy"):
        BM25Index.load(tmp_path / "lexical")


def test_scores_are_okapi_bm25() -> None:
    """Each chunk's score is the sum over query terms of idf * tf / (tf + k1 (1 - b + b dl / avgdl))."""
    texts = ["alpha beta beta", "beta gamma", "gamma gamma gamma delta", ""]
    index = BM25Index.build(texts)
    terms = [analyze(t) for t in texts]
    avgdl = sum(map(len, terms)) / len(terms)
    expected = []
    for doc in terms:
        score = 0.0
        for q in ("beta", "gamma"):
            tf, df = doc.count(q), sum(q in d for d in terms)
            idf = math.log(1 + (len(texts) - df + 0.5) / (df + 0.5))
            score += idf * tf / (tf + 1.2 * (1 - 0.75 + 0.75 * len(doc) / avgdl))
        expected.append(score)
    assert np.allclose(index.scores("beta gamma"), expected, atol=1e-6)
    assert index.idf("beta") == pytest.approx(math.log(1 + 2.5 / 2.5))
    assert index.idf("unknown") > index.idf("beta")


def test_empty_and_wordless_archives(tmp_path: Path) -> None:
    for texts in ([], ["", "the of and", "!!"]):
        index = BM25Index.build(texts)
        assert index.n_docs == len(texts) and len(index.search("anything at all", 5)[0]) == 0
        index.save(tmp_path / str(len(texts)))
        assert BM25Index.load(tmp_path / str(len(texts))).n_docs == len(texts)


def _bm25s_reference(texts: list[str]) -> dict[str, np.ndarray]:
    """The score matrix bm25s itself builds from the same term ids (what the index was built with before)."""
    import bm25s

    from qa.index.lexical import _WORD, STOPWORDS, fold, stem

    vocab: dict[str, int] = {}
    ids = [[vocab.setdefault(stem(w), len(vocab)) for w in _WORD.findall(fold(t)) if w not in STOPWORDS]
           for t in texts]
    model = bm25s.BM25(k1=K1, b=B, method="lucene")
    model.index((ids, vocab), create_empty_token=False, show_progress=False)
    return model.scores


def test_the_packed_builder_makes_bm25s_own_score_matrix_bit_for_bit() -> None:
    """Term ids packed in flat arrays and scored by bm25s's per-chunk functions give the arrays bm25s's
    `index` gives: same scores to the bit, same order, same dtypes (on the sample and on made-up text with
    repeated terms, empty chunks and chunks of one word)."""
    from qa.ingest import iter_documents
    from tests.conftest import SAMPLE

    rng = np.random.default_rng(3)
    words_ = [f"term{i}" for i in range(300)]
    made_up = [" ".join(rng.choice(words_, size=int(rng.integers(0, 60)))) for _ in range(400)] + ["x", "", "the"]
    sample = [d.body for d in iter_documents([SAMPLE], [])] + [c.text for d in iter_documents([SAMPLE], [])
                                                                 for c in d.comments]
    for texts in (made_up, sample):
        ours = BM25Index.build(texts).model.scores
        theirs = _bm25s_reference(texts)
        for key in ("data", "indices", "indptr"):
            assert ours[key].dtype == theirs[key].dtype and np.array_equal(ours[key], theirs[key]), key
        assert ours["num_docs"] == theirs["num_docs"] == len(texts)
