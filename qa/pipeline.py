"""The assembled assistant: settings → embedder, index, retriever, answerer; loaded once."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from qa.answer import Answerer, ExtractiveAnswerer
from qa.config import Settings
from qa.embed import Embedder, load_embedder
from qa.errors import BadQuestion
from qa.retrieve import Filters, Mode, Retriever
from qa.store import Index, open_index
from qa.types import Answer, Hit


def clean_question(question: str, max_chars: int) -> str:
    """Control characters become spaces and whitespace is collapsed; empty or over-long is refused."""
    if not isinstance(question, str):
        raise BadQuestion("The question must be text.")
    text = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in question)
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        raise BadQuestion("The question is empty. Type a question about the archive.")
    if len(text) > max_chars:
        raise BadQuestion(f"The question is {len(text):,} characters long; the limit is {max_chars:,}. "
                          "Ask something shorter.")
    return text


@dataclass
class Pipeline:
    settings: Settings
    embedder: Embedder
    index: Index
    retriever: Retriever
    answerer: Answerer

    @classmethod
    def open(cls, settings: Settings, embedder: Embedder | None = None) -> Pipeline:
        embedder = embedder or load_embedder(settings.model, settings.batch_size)
        index = open_index(settings.index, embedder.model_id, embedder.dim, embedder.fingerprint)
        return cls(settings, embedder, index, Retriever(index, embedder, settings), ExtractiveAnswerer(embedder))

    def search(self, question: str, k: int | None = None, filters: Filters = Filters(),
               mode: Mode = "hybrid") -> list[Hit]:
        query = clean_question(question, self.settings.max_question_chars)
        return self.retriever.search(query, k, filters, mode)

    def ask(self, question: str, k: int | None = None, filters: Filters = Filters()) -> Answer:
        query = clean_question(question, self.settings.max_question_chars)
        return self.answerer.answer(query, self.retriever.search(query, k, filters))

    def close(self) -> None:
        self.index.close()
