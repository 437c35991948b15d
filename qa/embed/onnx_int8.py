"""The packaged MiniLM run as int8 ONNX: exported once from the packaged weights, quantized with
per-channel int8 weights, and run with onnxruntime + tokenizers + mean pooling.

The export (`ensure_int8_model`) writes into a cache folder (`$QA_CACHE_DIR`, else
`$XDG_CACHE_HOME/archive-qa`, else `~/.cache/archive-qa`) keyed by the weights' hash, atomically
(a temporary folder renamed into place), and records the model file's sha256: a damaged or partly
written file is exported again, never loaded. `make setup` runs it; otherwise the first use does.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qa.cache import Recent
from qa.embed.vectors import (
    EMBED_BATCH,
    QUERY_CACHE,
    SMALL_BATCH,
    Span,
    packaged_model_path,
    pool_spans,
    sha256_file,
)
from qa.embed.vectors import progress as _progress
from qa.embed.vectors import unit as _unit
from qa.embed.vectors import weights_hash as _weights_hash
from qa.errors import ConfigError

RUNTIME = "onnx-int8"
MODEL_FILE = "model-int8.onnx"
RECORD_FILE = "export.json"
EXPORT_VERSION = 1  # bump when the export or quantization recipe changes: a new cache entry
OPSET = 17
_EXPORT = threading.Lock()


def cache_dir() -> Path:
    """Where exported models are kept."""
    if os.environ.get("QA_CACHE_DIR"):
        return Path(os.environ["QA_CACHE_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "archive-qa"


def _require_onnxruntime() -> Any:
    try:
        import onnxruntime
    except ImportError:
        raise ConfigError(
            "The int8 embedder needs onnxruntime (and onnx to export the model): pip install onnx onnxruntime "
            "(or pip install 'archive-qa'), or use the torch embedder: --embedder torch / QA_EMBEDDER=torch"
        ) from None
    return onnxruntime


def _cached_model(folder: Path) -> Path | None:
    """The exported model in `folder` when its record is there and its hash matches, else None."""
    try:
        record = json.loads((folder / RECORD_FILE).read_text(encoding="utf-8"))
        model = folder / MODEL_FILE
        if record.get("version") == EXPORT_VERSION and record.get("sha256") == sha256_file(model):
            return model
    except (OSError, ValueError, AttributeError):
        pass
    return None


def _export_float(source: Path, out: Path) -> None:
    """The transformer (no pooling) as ONNX: token ids → token vectors, batch and length dynamic."""
    try:
        import onnx  # noqa: F401 - torch's exporter needs it
        import torch
        from transformers import AutoModel
    except ImportError:
        raise ConfigError("Exporting the int8 model needs onnx and torch: pip install onnx torch") from None
    class TokenVectors(torch.nn.Module):  # keyword arguments: the model's positional order varies by version
        def __init__(self) -> None:
            super().__init__()
            self.bert = AutoModel.from_pretrained(str(source), attn_implementation="eager").eval()

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    ids = torch.ones((2, 8), dtype=torch.int64)
    with torch.no_grad():
        torch.onnx.export(
            TokenVectors().eval(), (ids, torch.ones_like(ids), torch.zeros_like(ids)), str(out),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["token_embeddings"],
            dynamic_axes={name: {0: "batch", 1: "tokens"}
                          for name in ("input_ids", "attention_mask", "token_type_ids", "token_embeddings")},
            opset_version=OPSET, dynamo=False,
        )


def ensure_int8_model(source: Path | None = None, cache: Path | None = None) -> Path:
    """The int8 ONNX file for the model folder `source` (default: the packaged MiniLM): from the cache
    when its hash checks, else exported, quantized and written there now (tens of seconds)."""
    _require_onnxruntime()
    source = source or packaged_model_path()
    weights = _weights_hash(source)
    if not weights:
        raise ConfigError(f"{source} holds no model.safetensors or pytorch_model.bin to export.")
    folder = (cache or cache_dir()) / f"minilm-int8-v{EXPORT_VERSION}-{weights}"
    with _EXPORT:
        found = _cached_model(folder)
        if found is not None:
            return found
        from onnxruntime.quantization import QuantType, quantize_dynamic

        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
        try:
            with warnings.catch_warnings():  # the tracer's notes on shapes it fixed: true of this model
                warnings.simplefilter("ignore")
                _export_float(source, tmp / "model.onnx")
            logging.disable(logging.WARNING)  # quantize_dynamic's advice to pre-process (no gain measured)
            try:
                quantize_dynamic(tmp / "model.onnx", tmp / MODEL_FILE, per_channel=True,
                                 weight_type=QuantType.QInt8)
            finally:
                logging.disable(logging.NOTSET)
            (tmp / "model.onnx").unlink()
            record = {"version": EXPORT_VERSION, "source_weights": weights, "opset": OPSET,
                      "quantization": "dynamic, int8 weights, per channel", "sha256": sha256_file(tmp / MODEL_FILE)}
            (tmp / RECORD_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
            if folder.exists():  # a damaged earlier export: replaced whole
                shutil.rmtree(folder)
            os.replace(tmp, folder)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    found = _cached_model(folder)
    if found is None:
        raise ConfigError(f"The int8 model written to {folder} does not match its recorded hash; "
                          f"remove {folder} and run again.")
    return found


class OnnxInt8Embedder:
    """The packaged MiniLM, int8, on onnxruntime: the same vectors as the torch embedder to within
    quantization error (measured in eval/bench_embed.py), from the same tokens and the same pooling.
    """

    runtime = RUNTIME
    passage_threads = 0  # a build's threads (0: onnxruntime's default, the physical cores); a Ray actor sets its own
    device = "cpu"

    def __init__(self, model_id: str, source: Path, max_tokens: int, dim: int, batch_size: int = 32) -> None:
        from tokenizers import Tokenizer

        self.model_id, self.dim, self.max_tokens, self.batch_size = model_id, dim, max_tokens, batch_size
        self.fingerprint = _weights_hash(source)  # the weights it was made from: the index's check
        self._source = source
        self._tokenizer = Tokenizer.from_file(str(source / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()
        sep = self._tokenizer.token_to_id("[SEP]")
        if sep is None:
            raise ConfigError(f"{source / 'tokenizer.json'} has no [SEP] token; it is not the packaged MiniLM's.")
        self._sep: int = sep
        self._sessions: dict[int, Any] = {}
        self._queries: Recent[str, tuple[np.ndarray, np.ndarray, list[Span]]] = Recent(QUERY_CACHE)

    def _session(self, threads: int) -> Any:
        """One session per thread count (0: onnxruntime's default, the physical cores); a query runs
        on one thread, as the torch embedder's does, so a busy machine's threads do not wait on each other."""
        if threads not in self._sessions:
            ort = _require_onnxruntime()
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            self._sessions[threads] = ort.InferenceSession(
                str(ensure_int8_model(self._source)), options, providers=["CPUExecutionProvider"])
        return self._sessions[threads]

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(e.ids) for e in self._tokenizer.encode_batch(list(texts), add_special_tokens=False)]

    def _tokens(self, texts: Sequence[str]) -> list[tuple[list[int], list[Span]]]:
        """Word-piece ids and character offsets with [CLS]/[SEP], cut to `max_tokens` as the torch
        model's tokenizer cuts: the text's tail goes, [SEP] stays."""
        out = []
        for e in self._tokenizer.encode_batch(list(texts)):
            ids, offsets = list(e.ids), [tuple(o) for o in e.offsets]
            if len(ids) > self.max_tokens:
                ids = ids[:self.max_tokens - 1] + [self._sep]
                offsets = offsets[:self.max_tokens - 1] + [(0, 0)]
            out.append((ids, offsets))
        return out  # type: ignore[return-value]

    def _run(self, encoded: Sequence[tuple[list[int], list[Span]]], threads: int) -> list[np.ndarray]:
        """Each text's token vectors (its real tokens only), padded per batch to its longest text."""
        order = sorted(range(len(encoded)), key=lambda i: -len(encoded[i][0]))  # less padding
        result: list[np.ndarray] = [np.zeros((0, self.dim), dtype=np.float32)] * len(encoded)
        session = self._session(threads)
        for at in range(0, len(order), self.batch_size):
            batch = order[at:at + self.batch_size]
            width = max(len(encoded[i][0]) for i in batch)
            ids = np.zeros((len(batch), width), dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, i in enumerate(batch):
                n = len(encoded[i][0])
                ids[row, :n], mask[row, :n] = encoded[i][0], 1
            tokens = session.run(None, {"input_ids": ids, "attention_mask": mask,
                                        "token_type_ids": np.zeros_like(ids)})[0]
            for row, i in enumerate(batch):
                result[i] = tokens[row, :len(encoded[i][0])]
        return result

    def _passages(self, texts: Sequence[str], threads: int = 0) -> tuple[list[np.ndarray], list[list[Span]]]:
        encoded = self._tokens(texts)
        return self._run(encoded, threads), [offsets for _, offsets in encoded]

    def embed_documents(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        threads = 1 if len(texts) <= SMALL_BATCH else 0
        with _progress(len(texts), progress and len(texts) > SMALL_BATCH, "Embedding") as bar:
            for at in range(0, len(texts), EMBED_BATCH):
                tokens, _ = self._passages(texts[at:at + EMBED_BATCH], threads)
                for i, t in enumerate(tokens):
                    out[at + i] = _unit(t.mean(axis=0))
                bar.update(len(tokens))
        return out

    def embed_passages(self, texts: Sequence[str], spans: Sequence[Sequence[Span]],
                       progress: bool = False) -> tuple[np.ndarray, list[np.ndarray]]:
        """Each text's vector (mean of all its tokens, [CLS] and [SEP] included, as sentence-transformers
        pools) and one per span: the mean of the span's token vectors from the same pass."""
        if len(texts) != len(spans):
            raise ValueError(f"{len(texts)} texts but {len(spans)} span lists")
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        sentences: list[np.ndarray] = []
        with _progress(len(texts), progress and len(texts) > SMALL_BATCH, "Embedding") as bar:
            for at in range(0, len(texts), EMBED_BATCH):
                tokens, offsets = self._passages(texts[at:at + EMBED_BATCH], self.passage_threads)
                for i, (t, where) in enumerate(zip(tokens, offsets)):
                    vectors[at + i] = _unit(t.mean(axis=0))
                    sentences.append(pool_spans(t, where, spans[at + i], self.dim))
                bar.update(len(tokens))
        return vectors, sentences

    def _query(self, text: str) -> tuple[np.ndarray, np.ndarray, list[Span]]:
        """The question's vector, token vectors and offsets from one pass on one thread; cached."""
        return self._queries.get(text, self._encode_query)

    def _encode_query(self, text: str) -> tuple[np.ndarray, np.ndarray, list[Span]]:
        tokens, offsets = self._passages([text], threads=1)
        vector = _unit(tokens[0].mean(axis=0))
        vector.setflags(write=False)
        return vector, tokens[0], offsets[0]

    def embed_query(self, text: str) -> np.ndarray:
        return self._query(text)[0]

    def embed_query_parts(self, text: str, spans: Sequence[Span]) -> np.ndarray:
        """One vector per span of the question, pooled from the question's own pass; a part beyond
        the model's limit is embedded on its own."""
        if not spans:
            return np.zeros((0, self.dim), dtype=np.float32)
        _, tokens, offsets = self._query(text)
        pooled = pool_spans(tokens, offsets, spans, self.dim)
        if len(pooled) != len(spans):
            return self.embed_documents([text[a:b] for a, b in spans])
        return pooled


if __name__ == "__main__":  # `make setup-int8`: export now rather than at first use
    print(f"int8 model: {ensure_int8_model()}")
