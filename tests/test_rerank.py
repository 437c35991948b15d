"""The reranker: date and part parsing, features, the model file, fitting, and its place in search."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from qa.config import Settings
from qa.dates import mentioned_dates
from qa.lexical import BM25Index
from qa.pipeline import Pipeline
from qa.rerank import (
    FEATURES,
    WEIGHTS_FILE,
    Candidates,
    Ranker,
    default_ranker,
    features,
    fit,
    part_cover,
    question_parts,
)
from qa.text import analyze
from qa.types import Chunk


def test_mentioned_dates_reads_the_ways_questions_write_them() -> None:
    q = "Between the report published on October 13th, 2023 and the one of 5 Nov 2023 (not 2023-02-30), or 2023-12-01?"
    assert mentioned_dates(q) == ["2023-10-13", "2023-11-05", "2023-12-01"]
    assert mentioned_dates("Did Sept. 9, 2024 and 9 of September 2024 differ?") == ["2024-09-09"]
    assert mentioned_dates("What happened in October 2023?") == []


def test_question_parts_cut_at_conjunctions_and_join_short_pieces() -> None:
    q = "Did TechCrunch report the fraud trial, and did Fortune report the jury verdict?"
    parts = question_parts(q)
    assert [terms for _, terms in parts] == [analyze("techcrunch report fraud trial"),
                                             analyze("fortune report jury verdict")]
    assert [q[a:b] for (a, b), _ in parts] == ["Did TechCrunch report the fraud trial",
                                               " did Fortune report the jury verdict"]
    assert question_parts("Who won, and when?") == [((0, 18), ["won"])]  # short pieces join: one part, all of it
    assert question_parts("") == []


def test_the_hash_embedder_embeds_each_part_on_its_own() -> None:
    from qa.embed import HashEmbedder

    q = "Did TechCrunch report the fraud trial, and did Fortune report the jury verdict?"
    spans = [span for span, _ in question_parts(q)]
    parts = HashEmbedder().embed_query_parts(q, spans)
    assert parts.shape == (2, 256)
    assert parts[1] == pytest.approx(HashEmbedder().embed_query(q[slice(*spans[1])]))
    assert HashEmbedder().embed_query_parts(q, []).shape == (0, 256)


def test_part_cover_marks_the_best_passage_for_each_part() -> None:
    scores = np.array([[0.9, 0.1, 0.2], [0.8, 0.7, 0.1], [0.2, 0.3, 0.15], [0.1, 0.0, 0.05]], np.float32)
    assert list(part_cover(scores)) == pytest.approx([1.0, 1.0, 0.5, 0.25])
    assert part_cover(np.zeros((0, 2), np.float32)).shape == (0,)


def _chunk(i: int, text: str, title: str = "T", published_at: str | None = None, start: int = 0) -> Chunk:
    return Chunk(f"c{i}", f"d{i}", "article", text, "h", start, start + len(text), title, published_at=published_at)


def test_features_favour_the_sentence_that_repeats_the_question() -> None:
    texts = ["Markets were calm. Whether a team will lead at the end of a certain quarter is a popular bet.",
             "A team played in a certain city. The lead singer left at the end of the show.",
             "Nothing relevant here at all."]
    lexical = BM25Index.build(texts)
    chunks = [_chunk(0, texts[0], published_at="2023-10-13"), _chunk(1, texts[1], published_at="2023-10-20"),
              _chunk(2, texts[2], start=9000)]
    cands = Candidates([0, 1, 2], np.array([1.0, 0.5, 0.0], np.float32), np.zeros(3, np.float32),
                       lexical.scores("q") + np.array([3.0, 2.0, 0.0], np.float32),
                       np.array([0.6, 0.5, 0.1], np.float32), np.array([0.7, -0.2, 0.3], np.float32),
                       np.array([[0.6, 0.1], [-0.3, 0.2], [0.4, 0.0]], np.float32))
    q = ("Can bettors wager on whether a team will lead at the end of a certain quarter, "
         "as Sporting News said on October 13, 2023?")
    x = features(q, cands, chunks, ["Sporting News", "Other", None], {"Sporting News"}, mentioned_dates(q), lexical)
    assert x.shape == (3, len(FEATURES)) and np.isfinite(x).all()
    col = {name: x[:, i] for i, name in enumerate(FEATURES)}
    assert col["sentence"][0] > col["sentence"][1] > col["sentence"][2]
    assert col["phrase"][0] > col["phrase"][1]
    assert list(col["source"]) == [1.0, 0.0, 0.0]
    assert col["date"][0] == pytest.approx(1.0) and 0.0 < col["date"][1] < 0.2 and col["date"][2] == 0.0
    assert col["lead"][0] == 1.0 and col["lead"][2] < 0.25
    assert col["in_doc"].max() == 0.0
    assert list(col["sentence_dense"]) == pytest.approx([0.7, 0.0, 0.3])  # a negative cosine counts as 0
    assert list(col["part_dense"]) == pytest.approx([0.6, 0.2, 0.4])  # the best part, never below 0
    assert list(col["part_dense_cover"]) == pytest.approx([1.0, 1.0, 0.5])  # chunk 1 matches part 2 best
    assert col["part_cover"][0] == 1.0 and col["part_cover"].min() < 1.0
    no_parts = replace(cands, parts_dense=np.zeros((3, 0), np.float32))  # a model without vectors
    y = features(q, no_parts, chunks, ["Sporting News", "Other", None], {"Sporting News"}, mentioned_dates(q), lexical)
    assert not y[:, FEATURES.index("part_dense")].any() and not y[:, FEATURES.index("part_dense_cover")].any()
    assert (y[:, :FEATURES.index("part_dense")] == x[:, :FEATURES.index("part_dense")]).all()
    empty = Candidates([], *(np.zeros(0, np.float32),) * 5, np.zeros((0, 0), np.float32))
    assert features(q, empty, [], [], set(), [], lexical).shape == (0, len(FEATURES))


def test_fit_learns_a_signal_and_the_model_round_trips(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    x = rng.random((600, len(FEATURES))).astype(np.float32)
    y = ((x[:, 7] + 0.5 * x[:, 3] * x[:, 4]) > 0.8).astype(np.float64)  # an interaction a linear model lacks
    model = fit(x, y, np.arange(600) // 20, hidden=16, steps=400)
    s = model.score(x)
    assert ((s > 0) & (s < 1)).all()
    assert np.array_equal(fit(x, y, np.arange(600) // 20, hidden=16, steps=400).score(x), s)  # deterministic
    pos, neg = s[y == 1], s[y == 0]
    assert (pos[:, None] > neg[None, :]).mean() > 0.95  # AUC
    path = tmp_path / "m.json"
    path.write_text(model.to_json(note="test"))
    again = Ranker.load(path)
    assert np.allclose(again.score(x), s)
    data = json.loads(path.read_text())
    assert data["info"] == {"model": "", "note": "test"}
    path.write_text(json.dumps({**data, "features": ["fused"]}))
    with pytest.raises(ValueError, match="fitted for features"):
        Ranker.load(path)
    path.write_text(json.dumps({**data, "w2": [1.0]}))
    with pytest.raises(ValueError, match="wrong shape"):
        Ranker.load(path)


def test_the_shipped_model_loads_and_records_its_held_out_figures() -> None:
    model = default_ranker()
    assert model.w1.shape[0] == len(FEATURES)
    info = json.loads(WEIGHTS_FILE.read_text())["info"]
    assert "held_out" in info and info["count"] > 500 and info["model"] == model.model


@pytest.fixture
def pipeline(sample_index: Settings, monkeypatch: pytest.MonkeyPatch) -> Pipeline:
    """The sample index (hash embedder), with the shipped reranker let in as if fitted for it."""
    pipeline = Pipeline.open(sample_index)
    shipped = default_ranker()
    monkeypatch.setattr("qa.retrieve.default_ranker",
                        lambda: replace(shipped, model=pipeline.embedder.model_id, min_terms=0))
    return pipeline


def test_the_reranker_stays_out_for_a_model_it_was_not_fitted_on(sample_index: Settings) -> None:
    pipeline = Pipeline.open(sample_index)
    assert default_ranker().model == "sentence-transformers/all-MiniLM-L6-v2"
    assert pipeline.retriever.ranker() is None
    plain = Pipeline.open(replace(sample_index, rerank=False))
    q = "weapons hidden in irrigation pump containers at Port Calvera"
    assert [h.chunk.chunk_id for h in pipeline.search(q, k=6)] == [h.chunk.chunk_id for h in plain.search(q, k=6)]


def test_search_reranks_the_first_stage_candidates(pipeline: Pipeline) -> None:
    q = "weapons hidden in irrigation pump containers at Port Calvera"
    hits = pipeline.search(q, k=6)
    assert hits and all(0.0 < h.score < 1.0 for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert all(h.dense_score is not None for h in hits)
    doc_counts: dict[str, int] = {}
    for h in hits:
        doc_counts[h.chunk.doc_id] = doc_counts.get(h.chunk.doc_id, 0) + 1
    assert max(doc_counts.values()) <= pipeline.settings.per_doc
    assert pipeline.retriever.ranker() is not None
    plain = Pipeline.open(replace(pipeline.settings, rerank=False))
    assert plain.retriever.ranker() is None
    first = plain.search(q, k=6)
    assert [h.chunk.chunk_id for h in first] != [h.chunk.chunk_id for h in hits]
    retriever = pipeline.retriever
    vector = pipeline.embedder.embed_query(q)
    stage = retriever.first_stage(q, vector, None)
    cands, chunks, x = retriever.candidates(q, vector, stage, None)
    assert len(cands.rows) == len(set(cands.rows)) == len(chunks) == len(x)
    # every chunk of the leading document is a candidate, not only those the first stage found
    lead_doc = int(pipeline.index.doc_rows[stage.ordered[0]])
    assert set(retriever.members(lead_doc).tolist()) <= set(cands.rows)


def test_questions_shorter_than_any_it_was_fitted_on_are_ranked_by_the_first_stage(
        pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    assert default_ranker().min_terms == 12  # the shortest MultiHop dev question with evidence
    q = "weapons hidden in irrigation pump containers at Port Calvera"  # 7 distinct terms
    reranked = [h.chunk.chunk_id for h in pipeline.search(q, k=6)]
    plain = [h.chunk.chunk_id for h in Pipeline.open(replace(pipeline.settings, rerank=False)).search(q, k=6)]
    assert reranked != plain
    shipped = default_ranker()
    for needed, expected in ((7, reranked), (8, plain)):
        monkeypatch.setattr("qa.retrieve.default_ranker",
                            lambda n=needed: replace(shipped, model=pipeline.embedder.model_id, min_terms=n))
        assert [h.chunk.chunk_id for h in pipeline.search(q, k=6)] == expected


def test_rerank_respects_filters(pipeline: Pipeline) -> None:
    from qa.retrieve import Filters

    hits = pipeline.search("Tal Varesh crossing", k=8, filters=Filters(kinds=("comment",)))
    assert hits and all(h.chunk.kind == "comment" for h in hits)
    hits = pipeline.search("Tal Varesh crossing", k=8, filters=Filters(date_to="2000-01-01"))
    assert hits == []


def test_first_stage_alone_scores_every_row_it_returns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the reranker off, rows found only deep in an outlet's list (past the head the reranker
    takes) still get a score."""
    from qa.build import build_index
    from qa.config import load_settings

    monkeypatch.setattr("qa.retrieve.SUB_DEPTH", 2)
    records = [{"title": f"City budget vote {i}", "body": f"The city budget vote {i} passed after a long city vote.",
                "source": "Daily"} for i in range(8)]
    records += [{"title": f"Budget note {i}", "body": f"Budget line {i} was cut.", "source": "Weekly Ledger"}
                for i in range(8)]
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(r) for r in records))
    settings = load_settings({"index": tmp_path / "i", "model": "hash", "depth": 3, "per_doc": 1, "rerank": False},
                             env={})
    build_index([tmp_path / "a.jsonl"], settings)
    pipeline = Pipeline.open(settings)
    hits = pipeline.search("How did the Weekly Ledger report the city budget vote?", k=12)
    assert len(hits) > 6 and all(isinstance(h.score, float) for h in hits)
    assert sum(h.source == "Weekly Ledger" for h in hits) > 2
