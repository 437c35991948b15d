"""Chunking: sentence splitting, token bounds (word counts and the real tokenizer), stable ids."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.chunk import SPECIAL_TOKENS, chunk_document, pack_spans, split_sentences
from qa.ingest import iter_documents
from qa.types import Comment, Document


def words(texts: Sequence[str]) -> list[int]:
    return [len(t.split()) for t in texts]


def test_split_sentences_worked_examples() -> None:
    text = "Gen. Smith met U.S. officials on Nov. 25. They left!\nNew line here"
    assert [text[s:e] for s, e in split_sentences(text)] == [
        "Gen. Smith met U.S. officials on Nov. 25.", "They left!", "New line here"]
    quoted = "He said “no.” Then he left."
    assert [quoted[s:e] for s, e in split_sentences(quoted)] == ["He said “no.”", "Then he left."]


def test_pack_respects_target_and_overlaps() -> None:
    text = " ".join(f"Sentence number {i} has five words." for i in range(40))  # 6 words each
    spans = pack_spans(text, words, budget=100, target=30, overlap=6)
    assert all(len(text[s:e].split()) <= 30 for s, e in spans)
    assert spans[0][0] == 0 and spans[-1][1] == len(text)
    for (_, end_a), (start_b, _) in zip(spans, spans[1:]):
        assert start_b < end_a  # one sentence carried over


def test_overlong_sentence_and_word_are_cut_to_budget() -> None:
    text = "word " * 500 + "x" * 1000
    spans = pack_spans(text.strip(), lambda ts: [len(t) if " " not in t else len(t.split()) for t in ts],
                       budget=50, target=40, overlap=0)
    covered = " ".join(text.strip()[s:e] for s, e in spans)
    assert covered.replace(" ", "") == text.replace(" ", "")  # nothing lost
    assert all(e - s <= 50 * 5 for s, e in spans)


def _doc(body: str, comments: tuple[Comment, ...] = ()) -> Document:
    return Document(doc_id="d1", title="A title", body=body, source="Ledger",
                    published_at="2024-05-01", comments=comments)


def test_chunks_point_into_the_document_and_ids_are_stable() -> None:
    body = "\n\n".join(f"Paragraph {i} starts. It has a second sentence about item {i}." for i in range(30))
    doc = _doc(body, (Comment("Kim", "I disagree with all of it."),))
    chunks = chunk_document(doc, words, max_tokens=60, target=40, overlap=8)
    again = chunk_document(doc, words, max_tokens=60, target=40, overlap=8)
    assert [c.chunk_id for c in chunks] == [c.chunk_id for c in again]
    assert len({c.chunk_id for c in chunks}) == len(chunks)
    for c in chunks:
        source = body if c.kind == "article" else doc.comments[c.comment_index or 0].text
        assert source[c.start:c.end] == c.text
        assert words([c.header])[0] + words([c.text])[0] + SPECIAL_TOKENS <= 60
    comment = [c for c in chunks if c.kind == "comment"]
    assert len(comment) == 1 and comment[0].author == "Kim"
    assert comment[0].header == "A title · Ledger · 2024-05-01 · comment by Kim"
    edited = chunk_document(_doc(body.replace("item 29", "item 99")), words, max_tokens=60, target=40, overlap=8)
    assert [c.chunk_id for c in edited][:-1] == [c.chunk_id for c in chunks if c.kind == "article"][:-1]


@settings(max_examples=80, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=600), st.integers(5, 40))
def test_chunks_cover_the_text_within_budget(text: str, target: int) -> None:
    budget = 40
    count = lambda ts: ["".join(t.split()).__len__() for t in ts]  # noqa: E731  additive across spaces
    spans = pack_spans(text, count, budget=budget, target=target, overlap=0)
    assert all(count([text[s:e]])[0] <= budget for s, e in spans)
    assert "".join("".join(text[s:e].split()) for s, e in spans) == "".join(text.split())


def test_real_tokenizer_never_exceeds_model_limit(archive_dir: Path) -> None:
    from qa.embed.models import load_embedder

    embedder = load_embedder("all-MiniLM-L6-v2")  # tokenizer only: the weights are not loaded
    docs = list(iter_documents([archive_dir], []))
    long_doc = Document(doc_id="long", title="T " * 200, body=("Antidisestablishmentarianism " * 400).strip())
    for doc in [*docs, long_doc]:
        for c in chunk_document(doc, embedder.count_tokens, embedder.max_tokens, 200, 30):
            assert embedder.count_tokens([c.indexed_text])[0] + SPECIAL_TOKENS <= embedder.max_tokens
    # word-piece counts add up across a space, which packing relies on
    a, b = "The Islamic State now controls it.", "Daesh took al-Walid’s post."
    assert embedder.count_tokens([f"{a} {b}"])[0] == sum(embedder.count_tokens([a, b]))


@pytest.mark.parametrize("target", [50, 200])
def test_real_pages_chunk_counts(archive_dir: Path, target: int) -> None:
    docs = list(iter_documents([archive_dir], []))
    chunks = [c for d in docs for c in chunk_document(d, words, 256, target, 10)]
    assert sum(c.kind == "comment" for c in chunks) >= 10  # every comment is its own passage
    assert all("donation" not in c.text for c in chunks)
