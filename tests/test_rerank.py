"""The reranker: date and part parsing, features, the model file, and its place in search
(fitting: tests/test_rerank_fit.py; the context builder and the feature registry: tests/test_rerank_context.py)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from qa.config import Settings
from qa.dates import mentioned_dates
from qa.embed.models import load_embedder
from qa.index.lexical import BM25Index
from qa.pipeline import Pipeline
from qa.rerank import FEATURES, WEIGHTS_FILE, Context, default_ranker, feature_matrix, part_cover, question_parts
from qa.search.retrieve import Retriever
from qa.text import analyze
from qa.tuning import TUNING
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
    from qa.embed.models import HashEmbedder

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


def _context(q: str, chunks: list[Chunk], lexical: BM25Index, parts_dense: np.ndarray) -> Context:
    return Context(q, [0, 1, 2], chunks, ["Sporting News", "Other", None], frozenset({"Sporting News"}),
                   mentioned_dates(q), fused=np.array([1.0, 0.5, 0.0], np.float32), sub=np.zeros(3, np.float32),
                   lexical=lexical.scores("q") + np.array([3.0, 2.0, 0.0], np.float32),
                   dense=np.array([0.6, 0.5, 0.1], np.float32), sentence_dense=np.array([0.7, -0.2, 0.3], np.float32),
                   parts_dense=parts_dense, idf_of=lexical.idf)


def test_features_favour_the_sentence_that_repeats_the_question() -> None:
    texts = ["Markets were calm. Whether a team will lead at the end of a certain quarter is a popular bet.",
             "A team played in a certain city. The lead singer left at the end of the show.",
             "Nothing relevant here at all."]
    lexical = BM25Index.build(texts)
    chunks = [_chunk(0, texts[0], published_at="2023-10-13"), _chunk(1, texts[1], published_at="2023-10-20"),
              _chunk(2, texts[2], start=9000)]
    q = ("Can bettors wager on whether a team will lead at the end of a certain quarter, "
         "as Sporting News said on October 13, 2023?")
    names = list(FEATURES)
    context = _context(q, chunks, lexical, np.array([[0.6, 0.1], [-0.3, 0.2], [0.4, 0.0]], np.float32))
    x = feature_matrix(context, names)
    assert x.shape == (3, len(FEATURES)) and np.isfinite(x).all()
    col = {name: x[:, i] for i, name in enumerate(names)}
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
    no_parts = _context(q, chunks, lexical, np.zeros((3, 0), np.float32))  # a model without vectors
    y = feature_matrix(no_parts, names)
    cut = names.index("part_dense")
    assert not y[:, cut].any() and not y[:, names.index("part_dense_cover")].any()
    assert (y[:, :cut] == x[:, :cut]).all()
    empty = Context(q, [], [], [], frozenset(), [], *(np.zeros(0, np.float32),) * 5, np.zeros((0, 0), np.float32),
                    idf_of=lexical.idf)
    assert feature_matrix(empty, names).shape == (0, len(FEATURES))


def test_the_shipped_model_loads_and_records_how_it_was_fitted() -> None:
    model = default_ranker()
    assert set(model.features) <= set(FEATURES) and model.w1.shape[0] == len(model.features)
    info = json.loads(WEIGHTS_FILE.read_text())["info"]
    assert {"held_out", "first_stage", "count", "questions"} <= set(info) and info["model"] == model.model


def _as_if_fitted_for(settings: Settings, min_terms: int = 0) -> Pipeline:
    """The sample index (hash embedder), with the shipped reranker let in as if fitted for it."""
    embedder = load_embedder(settings.model)
    return Pipeline.open(settings, embedder, replace(default_ranker(), model=embedder.model_id, min_terms=min_terms))


@pytest.fixture
def pipeline(sample_index: Settings) -> Pipeline:
    return _as_if_fitted_for(sample_index)


def test_the_reranker_stays_out_for_a_model_it_was_not_fitted_on(sample_index: Settings) -> None:
    assert Pipeline.open(sample_index).retriever.reranker is default_ranker()  # the default, when none is given
    assert Pipeline.open(replace(sample_index, rerank=False)).retriever.reranker is None
    pipeline = Pipeline.open(sample_index, ranker=replace(default_ranker(), model="some/other-model", min_terms=0))
    assert pipeline.retriever.reranker is not None and pipeline.retriever.ranker() is None
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
    context = retriever.candidates(q, vector, stage, None)
    assert len(context.rows) == len(set(context.rows)) == len(context.chunks) == len(context.outlets)
    assert [c.chunk_id for c in context.chunks] == [c.chunk_id for c in pipeline.index.chunks(context.rows)]
    # every chunk of the leading document is a candidate, not only those the first stage found
    lead_doc = int(pipeline.index.doc_rows[stage.ordered[0]])
    assert set(retriever.members(lead_doc).tolist()) <= set(context.rows)


def test_questions_shorter_than_any_it_was_fitted_on_are_ranked_by_the_first_stage(pipeline: Pipeline) -> None:
    q = "weapons hidden in irrigation pump containers at Port Calvera"  # 7 distinct terms
    reranked = [h.chunk.chunk_id for h in pipeline.search(q, k=6)]
    plain = [h.chunk.chunk_id for h in Pipeline.open(replace(pipeline.settings, rerank=False)).search(q, k=6)]
    assert reranked != plain
    for needed, expected in ((7, reranked), (8, plain)):
        fitted = _as_if_fitted_for(pipeline.settings, min_terms=needed)
        assert [h.chunk.chunk_id for h in fitted.search(q, k=6)] == expected


def test_rerank_respects_filters(pipeline: Pipeline) -> None:
    from qa.search.retrieve import Filters

    hits = pipeline.search("Tal Varesh crossing", k=8, filters=Filters(kinds=("comment",)))
    assert hits and all(h.chunk.kind == "comment" for h in hits)
    hits = pipeline.search("Tal Varesh crossing", k=8, filters=Filters(date_to="2000-01-01"))
    assert hits == []


def test_first_stage_alone_scores_every_row_it_returns(tmp_path: Path) -> None:
    """With the reranker off, rows found only deep in an outlet's list (past the head the reranker
    takes) still get a score."""
    from qa.build import build_index
    from qa.config import load_settings

    records = [{"title": f"City budget vote {i}", "body": f"The city budget vote {i} passed after a long city vote.",
                "source": "Daily"} for i in range(8)]
    records += [{"title": f"Budget note {i}", "body": f"Budget line {i} was cut.", "source": "Weekly Ledger"}
                for i in range(8)]
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(r) for r in records))
    settings = load_settings({"index": tmp_path / "i", "model": "hash", "depth": 3, "per_doc": 1, "rerank": False},
                             env={})
    build_index([tmp_path / "a.jsonl"], settings)
    pipeline = Pipeline.open(settings)
    retriever = Retriever(pipeline.index, pipeline.embedder, settings, tuning=replace(TUNING, sub_depth=2))
    q = "How did the Weekly Ledger report the city budget vote?"
    hits = retriever.search(q, k=12)
    assert len(hits) > 6 and sum(h.source == "Weekly Ledger" for h in hits) > 2
    stage = retriever.first_stage(q, pipeline.embedder.embed_query(q), None)
    ids = pipeline.index.chunks(stage.ordered)
    score = {c.chunk_id: stage.score[r] for r, c in zip(stage.ordered, ids)}
    assert [h.score for h in hits] == [score[h.chunk.chunk_id] for h in hits]
    # a row listed only past the head of the outlet's list (and not in the main one) is scored all the same
    deep = {c.chunk_id for r, c in zip(stage.ordered, ids) if r not in stage.fused and r not in stage.sub}
    assert any(h.chunk.chunk_id in deep and h.score > 0 for h in hits)
