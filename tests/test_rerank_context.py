"""The reranker's candidate context (`qa.rerank.build_context`) over a by-row reader, the best
sentence cosine, and the feature registry's contract: every registered feature gives one finite
value per candidate, whatever the context."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from qa.embed.models import HashEmbedder
from qa.index.lexical import BM25Index
from qa.rerank import FEATURES, Context, best_cosines, build_context, feature, feature_matrix, question_parts
from qa.types import Chunk

TEXTS = ["The Port Calvera customs office found rifles in irrigation pump containers. Nobody was held.",
         "Fishing boats left Port Calvera at dawn.",
         "A reader asks about pumps.",
         "The harbour authority denied any shipment of weapons. Inspections continue."]
OUTLETS = ["Monitor", None, "Monitor", "Ledger"]


def _packed(per_row: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    return np.concatenate(per_row) if per_row else np.zeros((0, 8)), np.array([len(v) for v in per_row])


class FakeReader:
    """An index of four passages held in memory: the `CandidateReader` the context reads."""

    def __init__(self, embedder: HashEmbedder) -> None:
        self.lexical = BM25Index.build(TEXTS)
        self.vectors = embedder.embed_documents(TEXTS)
        # one sentence vector per sentence, none for passage 2 (as for a model that does not pool)
        self.sentences = [np.array([embedder.embed_query(s) for s in t.split(". ")], np.float16) for t in TEXTS]
        self.sentences[2] = np.zeros((0, embedder.dim), np.float16)

    def chunks(self, rows: Sequence[int]) -> list[Chunk]:
        return [Chunk(f"c{r}", f"d{r % 2}", "article", TEXTS[r], "", 0, len(TEXTS[r]), f"T{r}") for r in rows]

    def outlets(self, rows: Sequence[int]) -> list[str | None]:
        return [OUTLETS[r] for r in rows]

    def sentence_block(self, rows: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        return _packed([self.sentences[r] for r in rows])

    def dense_scores(self, rows: Sequence[int], vector: np.ndarray) -> np.ndarray:
        return self.vectors[list(rows)] @ vector

    def lexical_scores(self, query: str) -> np.ndarray:
        return self.lexical.scores(query)

    def idf(self, term: str) -> float:
        return self.lexical.idf(term)


def test_best_cosines_takes_each_row_s_best_sentence() -> None:
    rng = np.random.default_rng(0)
    per_row = [rng.normal(size=(n, 8)).astype(np.float32) for n in (3, 0, 1, 5, 0)]
    per_row = [v / np.linalg.norm(v, axis=1, keepdims=True) if len(v) else v for v in per_row]
    queries = rng.normal(size=(2, 8)).astype(np.float32)
    table = best_cosines(*_packed(per_row), queries)
    assert table.shape == (5, 2)
    for j, q in enumerate(queries):
        assert table[:, j] == pytest.approx([float((v @ q).max()) if len(v) else 0.0 for v in per_row], abs=1e-6)
    stored = [v.astype(np.float16) for v in per_row]  # as the index stores them
    assert best_cosines(*_packed(stored), queries) == pytest.approx(table, abs=5e-3)
    assert best_cosines(*_packed([]), queries).shape == (0, 2)
    assert best_cosines(*_packed([np.zeros((0, 8))]), queries[0]).tolist() == [[0.0]]  # one query: one column


def test_the_context_aligns_what_the_first_stage_and_the_index_know_with_the_rows() -> None:
    embedder = HashEmbedder(64)
    reader = FakeReader(embedder)
    q = "Which customs office found rifles in pump containers, and what did the harbour authority deny?"
    vector = embedder.embed_query(q)
    rows = [3, 0, 2]
    context = build_context(q, vector, rows, reader, embedder, fused={0: 0.9, 5: 0.1}, sub={3: 0.4},
                            named_outlets={"Monitor"}, dates=[])
    assert context.rows == rows and [c.chunk_id for c in context.chunks] == ["c3", "c0", "c2"]
    assert context.outlets == ["Ledger", "Monitor", "Monitor"]
    assert context.fused.tolist() == pytest.approx([0.0, 0.9, 0.0]) and context.sub.tolist() == pytest.approx(
        [0.4, 0.0, 0.0])
    assert context.lexical.tolist() == pytest.approx(reader.lexical.scores(q)[rows].tolist())
    assert context.dense.tolist() == pytest.approx((reader.vectors[rows] @ vector).tolist(), abs=1e-6)
    expected = [float((reader.sentences[r].astype(np.float32) @ vector).max()) if len(reader.sentences[r]) else 0.0
                for r in rows]
    assert context.sentence_dense.tolist() == pytest.approx(expected, abs=1e-6)
    spans = [span for span, _ in question_parts(q)]
    assert len(spans) == 2 and context.parts_dense.shape == (3, 2)  # one column per part, from its own vector
    part_vectors = embedder.embed_query_parts(q, spans)
    assert context.parts_dense[1].tolist() == pytest.approx(
        (reader.sentences[0].astype(np.float32) @ part_vectors.T).max(axis=0).tolist(), abs=1e-6)
    assert context.parts_dense[2].tolist() == [0.0, 0.0]  # a passage without sentence vectors
    single = build_context("rifles in pump containers", vector, rows, reader, embedder, {}, {}, set(), [])
    assert single.parts_dense.shape == (3, 1)  # one part: the question itself
    assert single.parts_dense[:, 0].tolist() == pytest.approx(single.sentence_dense.tolist())
    assert len(build_context(q, vector, [], reader, embedder, {}, {}, set(), [])) == 0


@pytest.mark.parametrize("q", ["rifles", "Which customs office found rifles in pump containers, and what did the "
                                         "harbour authority deny on 3 March 2024?", "nothing matches zebra"])
def test_every_registered_feature_gives_one_finite_value_per_candidate(q: str) -> None:
    embedder = HashEmbedder(64)
    reader = FakeReader(embedder)
    context = build_context(q, embedder.embed_query(q), [0, 1, 2, 3], reader, embedder, {0: 1.0, 1: 0.2},
                            {3: 0.5}, {"Ledger"}, ["2024-03-03"])
    for name, fn in FEATURES.items():
        column = np.asarray(fn(context), dtype=np.float64)
        assert column.shape == (4,), name
        assert np.isfinite(column).all() and (column >= -1.0).all() and (column <= 1.0 + 1e-6).all(), name
    x = feature_matrix(context, ["source", "fused"])
    assert x[:, 0].tolist() == [0.0, 0.0, 0.0, 1.0] and x[:, 1].tolist() == pytest.approx([1.0, 0.2, 0.0, 0.0])


def test_a_feature_is_registered_once_by_name() -> None:
    with pytest.raises(ValueError, match="registered twice"):
        feature("fused")(lambda c: c.fused)

    @feature("test_passage_length")
    def passage_length(c: Context) -> np.ndarray:
        return np.array([len(chunk.text) / 100.0 for chunk in c.chunks], np.float32)

    try:
        embedder = HashEmbedder(64)
        context = build_context("pumps", embedder.embed_query("pumps"), [1, 2], FakeReader(embedder), embedder,
                                {}, {}, set(), [])
        assert feature_matrix(context, ["test_passage_length"])[:, 0].tolist() == pytest.approx([0.4, 0.26])
    finally:
        del FEATURES["test_passage_length"]


def test_the_index_reads_sentence_vectors_row_after_row(sample_index) -> None:  # type: ignore[no-untyped-def]
    from qa.index import open_index

    index = open_index(sample_index.index, "hash:256", 256)
    try:
        rows = [5, 0, 3, 3]
        vectors, counts = index.sentence_block(rows)
        per_row = index.sentence_vectors(rows)
        assert counts.tolist() == [len(v) for v in per_row] and counts.sum() > 0
        assert np.array_equal(vectors, np.concatenate(per_row))
        empty, none = index.sentence_block([])
        assert empty.shape == (0, 256) and none.shape == (0,)
    finally:
        index.close()
