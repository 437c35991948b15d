"""Shared fixtures: the real archive pages (skipped when ../shared is absent), the bundled sample
archive, a deterministic hash embedder (no model) and, for `model` tests, the packaged MiniLM."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from qa.config import Settings, load_settings
from qa.types import Chunk, Hit

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
ARCHIVE = SHARED / "archive"
MULTIHOP = SHARED / "bench" / "multihop"
SAMPLE = ROOT / "qa" / "data" / "sample_archive"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


@pytest.fixture(scope="session")
def archive_dir() -> Path:
    if not ARCHIVE.is_dir():
        pytest.skip("../shared/archive is not here")
    return ARCHIVE


@pytest.fixture(scope="session")
def multihop_dir() -> Path:
    if not (MULTIHOP / "corpus.json").is_file():
        pytest.skip("../shared/bench/multihop is not here")
    return MULTIHOP


@pytest.fixture
def hash_settings(tmp_path: Path) -> Settings:
    """Settings for an index in a temporary folder, embedded with the model-free hash embedder."""
    return load_settings({"index": tmp_path / "index", "model": "hash"}, env={})


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The bundled sample archive, indexed once with the hash embedder."""
    from qa.build import build_index

    settings = load_settings({"index": tmp_path_factory.mktemp("sample") / "index", "model": "hash"}, env={})
    build_index([SAMPLE], settings)
    return settings


@pytest.fixture(scope="session")
def pipeline(sample_index: Settings):  # type: ignore[no-untyped-def]
    """The sample index opened once (modules that need another pipeline define their own)."""
    from qa.pipeline import Pipeline

    return Pipeline.open(sample_index)


@pytest.fixture(scope="session")
def minilm():  # type: ignore[no-untyped-def]
    """The packaged all-MiniLM-L6-v2 (tests using it are marked `model`)."""
    from qa.embed.models import load_embedder

    return load_embedder("all-MiniLM-L6-v2")


@pytest.fixture(scope="session")
def archive_index(tmp_path_factory: pytest.TempPathFactory, minilm, archive_dir: Path) -> Settings:  # type: ignore[no-untyped-def]
    """../shared/archive indexed with the real model, once per session."""
    from qa.build import build_index

    settings = load_settings({"index": tmp_path_factory.mktemp("archive") / "index"}, env={})
    build_index([archive_dir], settings, embedder=minilm)
    return settings


def make_hit(rank: int, text: str, kind: str = "article", author: str | None = None,
             comment_index: int | None = None, doc: str = "d1", header: str = "T", title: str = "Border report",
             published_at: str | None = "2024-03-09", source: str | None = None, path: str | None = "page.txt") -> Hit:
    """A hand-made search result at `rank` (score 1/rank) holding `text` as its whole passage."""
    chunk = Chunk(chunk_id=f"c{rank}", doc_id=doc, kind=kind, text=text, header=header, start=0,  # type: ignore[arg-type]
                  end=len(text), title=title, author=author, published_at=published_at, comment_index=comment_index)
    return Hit(chunk=chunk, score=1.0 / rank, rank=rank, source=source, path=path)
