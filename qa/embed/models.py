"""Embedders: text → float32 L2-normalised vectors, plus the model's own token counts.

`load_embedder(name)` maps a setting to an implementation: the packaged all-MiniLM-L6-v2 (default,
offline), any sentence-transformers model name or local folder, or "hash" — a deterministic
bag-of-words embedder with no model, for tests and dry runs.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Protocol

import numpy as np

from qa.cache import Recent
from qa.config import PACKAGED_MODEL, RUNTIMES, pick_runtime
from qa.embed.vectors import (  # noqa: F401  (EMBED_BATCH, QUERY_CACHE, SMALL_BATCH, Span, pool_spans: used by importers of qa.embed.models)
    EMBED_BATCH,
    QUERY_CACHE,
    SMALL_BATCH,
    Span,
    packaged_model_path,
    pool_spans,
)
from qa.embed.vectors import batches as _batches
from qa.embed.vectors import progress as _progress
from qa.embed.vectors import unit as _unit
from qa.embed.vectors import weights_hash as _weights_hash
from qa.errors import ConfigError

_THREADS = threading.Lock()  # torch's thread count is process-wide


# Runtime pairs whose vectors were measured to rank MultiHop dev the same (docs/benchmarks.md): an index
# built with one is searched with the other. Any other pair is an IndexMismatch that names the rebuild.
SEARCHABLE: frozenset[frozenset[str]] = frozenset()


class Embedder(Protocol):
    model_id: str  # what the manifest records and loading compares
    fingerprint: str  # hash of the weights and the configuration (`qa.embed.vectors.weights_hash`), "" when unknown
    runtime: str  # what computes the vectors: a name in RUNTIMES, or "hash"
    device: str  # where: "cpu", "cuda", "cuda:N"
    dim: int
    max_tokens: int  # including special tokens

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...
    def embed_documents(self, texts: Sequence[str], progress: bool = False) -> np.ndarray: ...
    def embed_passages(self, texts: Sequence[str], spans: Sequence[Sequence[Span]],
                       progress: bool = False) -> tuple[np.ndarray, list[np.ndarray]]: ...
    def embed_query(self, text: str) -> np.ndarray: ...
    def embed_query_parts(self, text: str, spans: Sequence[Span]) -> np.ndarray: ...


class HashEmbedder:
    """Feature-hashed bag of lower-cased words: deterministic, instant, no model. Words are tokens."""

    max_tokens = 256
    runtime = "hash"
    device = "cpu"

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.model_id = f"hash:{dim}"
        self.fingerprint = "hash-v1"

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(re.findall(r"\w+|[^\w\s]", t)) for t in texts]

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for word in re.findall(r"\w+", text.lower()):
            h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
            v[h % self.dim] += 1.0 if (h >> 32) & 1 else -1.0
        norm = np.linalg.norm(v)
        return v / norm if norm else v

    def embed_documents(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        with _progress(len(texts), progress, "Embedding") as bar:
            for i, t in enumerate(texts):
                out[i] = self._vector(t)
                bar.update(1)
        return out

    def embed_passages(self, texts: Sequence[str], spans: Sequence[Sequence[Span]],
                       progress: bool = False) -> tuple[np.ndarray, list[np.ndarray]]:
        """Each text's vector, and one per span: the span's own bag of words."""
        sentences = [np.array([self._vector(t[a:b]) for a, b in s], dtype=np.float32).reshape(len(s), self.dim)
                     for t, s in zip(texts, spans)]
        return self.embed_documents(texts, progress), sentences

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)

    def embed_query_parts(self, text: str, spans: Sequence[Span]) -> np.ndarray:
        """One vector per span of the question: the span's own bag of words."""
        return np.array([self._vector(text[a:b]) for a, b in spans], dtype=np.float32).reshape(len(spans), self.dim)


def _cached(name: str) -> bool:
    """Whether sentence-transformers would find `name` (or sentence-transformers/`name`) in the local
    Hugging Face cache, checked without loading it: a bad name is one line, not a download attempt."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # sentence-transformers brings it; without it, let the loader say what is wrong
        return True
    for repo in (name, f"sentence-transformers/{name}"):
        try:
            if isinstance(try_to_load_from_cache(repo, "config.json"), str):
                return True
        except ValueError:  # not a valid repository id
            continue
    return False


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from a local folder (or the local HF cache), offline.

    The tokenizer loads at once (chunking needs only it); the network weights load on first embed.
    """

    runtime = "torch"

    def __init__(self, name: str, batch_size: int = 32, device: str = "cpu") -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")  # no load-time progress bars
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        self.batch_size, self.device = batch_size, device
        if name in (PACKAGED_MODEL, f"sentence-transformers/{PACKAGED_MODEL}"):
            self.path: Path | None = packaged_model_path()
            self.model_id = f"sentence-transformers/{PACKAGED_MODEL}"
        else:
            self.path = Path(name).expanduser() if Path(name).expanduser().is_dir() else None
            self.model_id = str(self.path.resolve()) if self.path else name
            if self.path is None and not _cached(name):
                raise ConfigError(
                    f"Embedding model {name!r} is not a model folder and not in the local Hugging Face cache "
                    f"(nothing is downloaded). Give a model folder, or use the packaged default: "
                    f"--model {PACKAGED_MODEL}")
        self._model = None
        self._tokenizer = None
        self._queries: Recent[str, tuple[np.ndarray, dict]] = Recent(QUERY_CACHE)  # type: ignore[type-arg]
        self.fingerprint = _weights_hash(self.path) if self.path else ""
        config = self.path / "sentence_bert_config.json" if self.path else None
        if config and config.is_file():
            self.max_tokens = int(json.loads(config.read_text())["max_seq_length"])
            self.dim = self._dim_from_files()
        else:
            self.max_tokens = self.model.max_seq_length
            self.dim = self._model_dim()
        if self.path and (self.path / "tokenizer.json").is_file():
            from tokenizers import Tokenizer

            self._tokenizer = Tokenizer.from_file(str(self.path / "tokenizer.json"))
            self._tokenizer.no_padding()
            self._tokenizer.no_truncation()

    def _dim_from_files(self) -> int:
        assert self.path is not None
        pooling = next(self.path.glob("*_Pooling/config.json"), None)
        if pooling is None:
            return self._model_dim()
        dense = sorted(self.path.glob("*_Dense/config.json"))
        if dense:
            return int(json.loads(dense[-1].read_text())["out_features"])
        return int(json.loads(pooling.read_text())["word_embedding_dimension"])

    def _model_dim(self) -> int:
        m = self.model
        get = getattr(m, "get_embedding_dimension", None) or m.get_sentence_embedding_dimension
        return int(get())

    @property
    def model(self):  # type: ignore[no-untyped-def]
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            try:
                self._model = SentenceTransformer(
                    str(self.path) if self.path else self.model_id, device=self.device
                )
            except (OSError, ValueError) as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise ConfigError(
                    f"Embedding model {self.model_id!r} could not be loaded offline ({first.rstrip('.')}). "
                    "Give a local model folder, or use the packaged default: "
                    f"--model {PACKAGED_MODEL}"
                ) from None
        return self._model

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if self._tokenizer is not None:
            return [len(e.ids) for e in self._tokenizer.encode_batch(list(texts), add_special_tokens=False)]
        tok = self.model.tokenizer
        return [len(ids) for ids in tok(list(texts), add_special_tokens=False)["input_ids"]]

    def _encode(self, texts: Sequence[str], batch_size: int | None = None) -> np.ndarray:
        vectors = self.model.encode(
            list(texts), batch_size=batch_size or self.batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_documents(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        if len(texts) <= SMALL_BATCH:
            return self._encode_single_thread(texts)
        parts = []
        with _progress(len(texts), progress, "Embedding") as bar:
            for batch in _batches(texts, EMBED_BATCH):
                parts.append(self._encode(batch))
                bar.update(len(batch))
        return np.vstack(parts) if parts else np.zeros((0, self.dim), dtype=np.float32)

    @cached_property
    def mean_pooled(self) -> bool:
        """Whether the passage vector is the mean of the token vectors (normalised), so a
        sentence's vector can be pooled from the same forward pass."""
        modules = list(self.model)
        names = [type(m).__name__ for m in modules]
        return (names[:2] == ["Transformer", "Pooling"] and set(names[2:]) <= {"Normalize"}
                and getattr(modules[1], "pooling_mode", None) in ("mean", ("mean",), ["mean"]))

    def embed_passages(self, texts: Sequence[str], spans: Sequence[Sequence[Span]],
                       progress: bool = False) -> tuple[np.ndarray, list[np.ndarray]]:
        """Each text's vector, and a vector for each character span of it (its sentences): the
        mean of the span's token vectors from the same forward pass, so they cost nothing extra.
        A model that does not mean-pool gets no sentence vectors."""
        if len(texts) != len(spans):
            raise ValueError(f"{len(texts)} texts but {len(spans)} span lists")
        if not self.mean_pooled:
            empty = np.zeros((0, self.dim), dtype=np.float32)
            return self.embed_documents(texts, progress), [empty] * len(texts)
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        sentences: list[np.ndarray] = []
        with _progress(len(texts), progress and len(texts) > SMALL_BATCH, "Embedding") as bar:
            for at in range(0, len(texts), EMBED_BATCH):
                batch = list(texts[at:at + EMBED_BATCH])
                outputs = self.model.encode(batch, batch_size=self.batch_size, output_value=None,
                                            show_progress_bar=False)
                # the model's own tokenizer, truncated as the model truncates: its tokens are the vectors'
                offsets = self.model.tokenizer(batch, truncation=True, max_length=self.max_tokens,
                                               return_offsets_mapping=True)["offset_mapping"]
                for i, (out, where) in enumerate(zip(outputs, offsets)):
                    vectors[at + i] = _unit(out["sentence_embedding"].float().cpu().numpy())
                    sentences.append(self._pool(out, where, spans[at + i]))
                bar.update(len(batch))
        return vectors, sentences

    def _pool(self, out: dict, offsets: Sequence[Span], spans: Sequence[Span]) -> np.ndarray:  # type: ignore[type-arg]
        n = int(out["attention_mask"].sum())
        if len(offsets) != n:
            raise RuntimeError(f"The tokenizer gave {len(offsets)} tokens for a passage the model read as {n}.")
        return pool_spans(out["token_embeddings"][:n].float().cpu().numpy(), offsets, spans, self.dim)

    def _encode_single_thread(self, texts: Sequence[str]) -> np.ndarray:
        """A few short texts (a query, an answer's sentences): one thread is as fast on a quiet
        machine and several times faster on a busy one, where torch's threads wait on each other."""
        import torch

        with _THREADS:
            before = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                return self._encode(texts, batch_size=8)  # sorted by length: less padding
            finally:
                torch.set_num_threads(before)

    def _query(self, text: str) -> tuple[np.ndarray, dict]:  # type: ignore[type-arg]
        """The question's vector and the model's whole output for it (its token vectors), from one
        forward pass on one thread; cached: retrieval and the answerer both need them."""
        return self._queries.get(text, self._encode_query)

    def _encode_query(self, text: str) -> tuple[np.ndarray, dict]:  # type: ignore[type-arg]
        import torch

        with _THREADS:
            before = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                out = self.model.encode([text], output_value=None, show_progress_bar=False)[0]
            finally:
                torch.set_num_threads(before)
        vector = _unit(out["sentence_embedding"].float().cpu().numpy())
        vector.setflags(write=False)
        return vector, out

    def embed_query(self, text: str) -> np.ndarray:
        return self._query(text)[0]

    def embed_query_parts(self, text: str, spans: Sequence[Span]) -> np.ndarray:
        """One vector per character span of the question (its parts): the mean of the span's token
        vectors from the question's own forward pass, as a sentence's vector is pooled from its
        passage's, so a part costs no extra embedding. A model that does not mean-pool embeds
        each part's text on its own."""
        if not spans:
            return np.zeros((0, self.dim), dtype=np.float32)
        if not self.mean_pooled:
            return self._encode_single_thread([text[a:b] for a, b in spans])
        _, out = self._query(text)
        offsets = self.model.tokenizer([text], truncation=True, max_length=self.max_tokens,
                                       return_offsets_mapping=True)["offset_mapping"][0]
        pooled = self._pool(out, offsets, spans)
        if len(pooled) != len(spans):  # a part beyond the model's limit: embed it alone
            return self._encode_single_thread([text[a:b] for a, b in spans])
        return pooled


def check_device(device: str) -> None:
    """A `device` setting torch can use here, else a ConfigError saying what to set instead."""
    if device == "cpu":
        return
    import torch

    if not torch.cuda.is_available():
        raise ConfigError(f"Setting device (QA_DEVICE) asks for {device!r}, but torch sees no CUDA GPU here "
                          f"(torch {torch.__version__}). Use --device cpu / QA_DEVICE=cpu, or install a CUDA "
                          "build of torch on a machine with a GPU.")
    index = int(device.split(":", 1)[1]) if ":" in device else 0
    if index >= torch.cuda.device_count():
        count = torch.cuda.device_count()
        raise ConfigError(f"Setting device (QA_DEVICE) asks for {device!r}, but torch sees {count} CUDA GPU(s); "
                          f"use cuda:0 to cuda:{count - 1}.")


def load_embedder(name: str, batch_size: int = 32, runtime: str = "torch", device: str = "cpu") -> Embedder:
    """The embedder the `model`, `embedder` and `device` settings name: "hash[:DIM]", the packaged
    default, a folder or a name; run by torch on `device`, or (the packaged model only) by int8 ONNX;
    `auto` picks between the two for a new build (`qa.runtime.pick_runtime`; `qa.runtime.runtime_for`
    also heeds an existing index)."""
    if name == "hash" or name.startswith("hash:"):
        try:
            return HashEmbedder(int(name.split(":", 1)[1]) if ":" in name else 256)
        except ValueError:
            raise ConfigError(f"Bad model {name!r}: use hash or hash:DIM with DIM a number.") from None
    runtime = pick_runtime(name, runtime, device)  # `auto`: int8 for the packaged model on the CPU
    if runtime not in RUNTIMES:
        raise ConfigError(f"Unknown embedder {runtime!r}; known: {', '.join(RUNTIMES)}.")
    if runtime == "torch":
        check_device(device)
        return SentenceTransformerEmbedder(name, batch_size=batch_size, device=device)
    if device != "cpu":
        raise ConfigError(f"The {runtime} embedder runs on the CPU only; use --device cpu / QA_DEVICE=cpu, "
                          "or --embedder torch / QA_EMBEDDER=torch for a GPU.")
    if name not in (PACKAGED_MODEL, f"sentence-transformers/{PACKAGED_MODEL}"):
        raise ConfigError(f"The {runtime} embedder runs the packaged {PACKAGED_MODEL} only, not {name!r}; "
                          "use --embedder torch / QA_EMBEDDER=torch for other models.")
    from qa.embed.onnx_int8 import OnnxInt8Embedder

    base = SentenceTransformerEmbedder(PACKAGED_MODEL)  # the folder's limits, read from its files
    assert base.path is not None
    return OnnxInt8Embedder(base.model_id, base.path, base.max_tokens, base.dim, batch_size=batch_size)


def searchable_with(built: str, asked: str) -> bool:
    """Whether an index whose vectors `built` made can be searched with query vectors from `asked`:
    the same runtime, or a pair in SEARCHABLE measured equal on ranking."""
    return built == asked or frozenset((built, asked)) in SEARCHABLE
