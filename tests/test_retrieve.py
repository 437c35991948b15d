"""Fusion (pure), per-document caps, kind and date filters, hybrid search on the sample archive."""

from __future__ import annotations

import numpy as np
import pytest

from qa.errors import BadQuestion
from qa.pipeline import Pipeline
from qa.search.retrieve import Filters, cap_per_document, rrf, weighted


def test_rrf_worked_example() -> None:
    fused = rrf([[7, 3], [3]], k=60)
    assert fused == pytest.approx({7: 1 / 61, 3: 1 / 62 + 1 / 61})
    assert rrf([]) == {}


def test_weighted_normalises_each_list() -> None:
    fused = weighted([([1, 2], [0.9, 0.5]), ([2], [7.0])], [0.5, 0.5])
    assert fused == pytest.approx({1: 0.5, 2: 0.5})
    fused = weighted([([1, 2, 3], [3.0, 2.0, 1.0]), ([3, 1], [10.0, 0.0])], [0.2, 0.8])
    assert fused == pytest.approx({1: 0.2, 2: 0.1, 3: 0.8})
    assert weighted([([], []), ([4], [1.0])], [0.5, 0.5]) == {4: 0.5}


def test_cap_per_document_keeps_order() -> None:
    doc_of = np.array([0, 0, 0, 1, 1, 2])
    assert cap_per_document([0, 1, 2, 3, 4, 5], doc_of, 2) == [0, 1, 3, 4, 5]
    assert cap_per_document([2, 5, 1, 0], doc_of, 1) == [2, 5]


def test_hybrid_finds_the_page_and_caps_documents(pipeline: Pipeline) -> None:
    hits = pipeline.search("weapons hidden in irrigation pump containers at Port Calvera", k=6)
    assert hits[0].chunk.doc_id == "page_02"
    per_doc: dict[str, int] = {}
    for h in hits:
        per_doc[h.chunk.doc_id] = per_doc.get(h.chunk.doc_id, 0) + 1
    assert max(per_doc.values()) <= pipeline.settings.per_doc
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert all(a.score >= b.score for a, b in zip(hits, hits[1:]))


@pytest.mark.parametrize("mode", ["dense", "lexical", "hybrid"])
def test_kind_filter(pipeline: Pipeline, mode: str) -> None:
    comments = pipeline.search("crossing", k=8, filters=Filters(kinds=("comment",)), mode=mode)  # type: ignore[arg-type]
    articles = pipeline.search("crossing", k=8, filters=Filters(kinds=("article",)), mode=mode)  # type: ignore[arg-type]
    assert comments and all(h.chunk.kind == "comment" for h in comments)
    assert articles and all(h.chunk.kind == "article" for h in articles)


def test_date_filter(pipeline: Pipeline) -> None:
    hits = pipeline.search("crossing captured", k=10, filters=Filters(date_from="2025-01-01", date_to="2025-01-31"))
    assert hits and {h.chunk.published_at[:7] for h in hits if h.chunk.published_at} == {"2025-01"}
    assert pipeline.search("crossing", filters=Filters(date_from="1990-01-01", date_to="1990-02-01")) == []
    with pytest.raises(BadQuestion, match="YYYY-MM-DD"):
        pipeline.search("crossing", filters=Filters(date_from="last week"))
    with pytest.raises(BadQuestion, match="Unknown kind"):
        pipeline.search("crossing", filters=Filters(kinds=("tweet",)))


@pytest.mark.parametrize("bad", ["", "   \n\t", "\x00\x01"])
def test_empty_questions_refused(pipeline: Pipeline, bad: str) -> None:
    with pytest.raises(BadQuestion, match="empty"):
        pipeline.search(bad)


def test_overlong_question_refused(pipeline: Pipeline) -> None:
    with pytest.raises(BadQuestion, match="limit is 2,000"):
        pipeline.ask("why " * 1000)


def test_interleave_and_outlets_named_in_a_question() -> None:
    from qa.search.retrieve import interleave, mentioned_sources

    assert interleave([[1, 2, 3], [4, 1]]) == [1, 4, 2, 3]
    assert interleave([]) == []
    names = ["CBSSports.com", "Fortune", "The Age", "The Independent - Sports", "The Verge"]
    q = "Did The Verge and CBSSports.com agree, unlike the Independent, on the fortune of the age of AI?"
    assert [names[i] for i in mentioned_sources(q, names)] == ["CBSSports.com", "The Independent - Sports",
                                                              "The Verge"]


def test_each_named_outlet_reaches_the_results(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    from qa.build import build_index
    from qa.config import load_settings

    records = [{"title": f"City budget vote {i}", "body": f"The city budget vote {i} passed after a long city vote.",
                "source": "Daily"} for i in range(6)]
    records += [{"title": f"Match report {i}", "body": f"The team won game {i} on Sunday.", "source": "Weekly Ledger"}
                for i in range(6)]
    records.append({"title": "Spending plan", "body": "Councillors approved the city budget.",
                    "source": "Weekly Ledger"})
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(r) for r in records))
    settings = load_settings({"index": tmp_path / "i", "model": "hash", "per_doc": 1}, env={})
    build_index([tmp_path / "a.jsonl"], settings)
    pipeline = Pipeline.open(settings)
    question = "How did the Weekly Ledger report the city budget vote?"
    assert "Spending plan" in [h.chunk.title for h in pipeline.search(question, k=3)]
    from dataclasses import replace

    plain = Pipeline.open(replace(settings, split_sources=False))
    assert "Spending plan" not in [h.chunk.title for h in plain.search(question, k=3)]
