"""Sentence vectors pooled from the real model's own forward pass."""

from __future__ import annotations

import numpy as np
import pytest

from qa.chunk import sentence_spans, split_sentences
from qa.config import Settings
from qa.index import open_index
from qa.types import Chunk

pytestmark = pytest.mark.model


def test_sentence_vectors_come_from_the_same_pass(minilm) -> None:  # type: ignore[no-untyped-def]
    chunk = Chunk("c", "d", "article",
                  "The convoy crossed the border at dawn. Gen. Smith said the U.S. base was shelled twice. "
                  "Wheat prices rose in the markets of Europe.", "Border report · Wire · 2016-05-04", 0, 130,
                  "Border report")
    vectors, sentences = minilm.embed_passages([chunk.indexed_text], [sentence_spans(chunk)])
    assert vectors[0] == pytest.approx(minilm.embed_documents([chunk.indexed_text])[0], abs=1e-5)
    assert sentences[0].shape == (3, 384)  # "Gen." and "U.S." do not end a sentence
    assert np.linalg.norm(sentences[0], axis=1) == pytest.approx(np.ones(3), abs=1e-5)
    for i, question in enumerate(["When did the convoy cross the border?", "Which base was shelled?",
                                  "What happened to the price of wheat?"]):
        assert int(np.argmax(sentences[0] @ minilm.embed_query(question))) == i


def test_the_archive_has_a_vector_for_every_sentence(archive_index: Settings) -> None:
    index = open_index(archive_index.index)
    chunks = [c for c, _ in index.all_chunks()]
    per_row = index.sentence_vectors(range(len(index)))
    assert [len(v) for v in per_row] == [len(split_sentences(c.text)) for c in chunks]
    assert all(np.isfinite(v.astype(np.float32)).all() for v in per_row)


def test_question_parts_are_pooled_from_the_question_s_own_pass(minilm) -> None:  # type: ignore[no-untyped-def]
    from qa.rerank import question_parts

    sentences = minilm.embed_documents(["The central bank raised interest rates by half a point.",
                                        "The home side won the cup final on penalties."])
    question = "Did the central bank raise interest rates, and who won the cup final on penalties?"
    spans = [span for span, _ in question_parts(question)]
    parts = minilm.embed_query_parts(question, spans)
    assert parts.shape == (2, 384)
    assert np.linalg.norm(parts, axis=1) == pytest.approx(np.ones(2), abs=1e-5)
    assert [int(np.argmax(sentences @ p)) for p in parts] == [0, 1]  # each part finds its own sentence
    whole = minilm.embed_query(question)
    assert whole == pytest.approx(minilm.embed_documents([question])[0], abs=1e-5)  # the usual question vector
    assert all(float(p @ whole) < 0.99 for p in parts)  # and the parts are not the whole question's vector
    assert minilm.embed_query_parts(question, []).shape == (0, 384)
