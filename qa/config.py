"""One `Settings` object: defaults ← TOML file ← `QA_*` environment variables ← CLI flags."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from qa.errors import ConfigError

PACKAGED_MODEL = "all-MiniLM-L6-v2"
FUSIONS = ("rrf", "weighted")


@dataclass(frozen=True)
class Settings:
    index: Path = Path("index")
    model: str = PACKAGED_MODEL  # the packaged MiniLM, or any sentence-transformers name/path
    batch_size: int = 32
    chunk_tokens: int = 200  # target passage size in the embedding model's word pieces
    overlap_tokens: int = 30  # carried over from the previous chunk, in whole sentences
    k: int = 5  # passages returned / cited
    depth: int = 50  # candidates taken from each retriever before fusion
    per_doc: int = 5  # most chunks from one document in a result list
    split_sources: bool = True  # also search each outlet and date the question names, and interleave
    rerank: bool = True  # reorder hybrid candidates with the shipped reranker (qa/rerank.py)
    fusion: str = "weighted"
    dense_weight: float = 0.15  # for weighted fusion; lexical gets 1 - dense_weight
    max_question_chars: int = 2000
    llm_url: str = ""  # an OpenAI-compatible endpoint (".../v1"); empty: the extractive answerer
    llm_model: str = ""  # sent as "model"; some servers need it, some ignore it
    llm_context_tokens: int = 3000  # prompt budget (tiktoken cl100k tokens): instructions, question, passages
    llm_max_tokens: int = 400  # longest reply asked for
    llm_timeout: float = 60.0  # seconds to wait for the reply

    def __post_init__(self) -> None:
        if self.fusion not in FUSIONS:
            raise ConfigError(f"Unknown fusion {self.fusion!r}; known: {', '.join(FUSIONS)}.")
        for name in ("batch_size", "chunk_tokens", "k", "depth", "per_doc", "max_question_chars",
                     "llm_context_tokens", "llm_max_tokens"):
            if getattr(self, name) < 1:
                raise ConfigError(f"Setting {name} must be at least 1, got {getattr(self, name)}.")
        if self.overlap_tokens < 0 or self.overlap_tokens >= self.chunk_tokens:
            raise ConfigError("Setting overlap_tokens must be between 0 and chunk_tokens - 1.")
        if not 0.0 <= self.dense_weight <= 1.0:
            raise ConfigError("Setting dense_weight must be between 0 and 1.")
        if self.llm_url and not self.llm_url.startswith(("http://", "https://")):
            raise ConfigError(f"Setting llm_url must start with http:// or https://, got {self.llm_url!r}.")
        if self.llm_timeout <= 0:
            raise ConfigError("Setting llm_timeout must be more than 0 seconds.")


def _coerce(name: str, raw: Any) -> Any:
    kinds = {f.name: f.type for f in fields(Settings)}
    if name not in kinds:
        known = ", ".join(sorted(kinds))
        raise ConfigError(f"Unknown setting {name!r}; known settings: {known}.")
    kind = kinds[name]
    try:
        if kind == "Path":
            return Path(raw)
        if kind == "bool":
            if isinstance(raw, bool):
                return raw
            if str(raw).strip().lower() in ("1", "true", "yes", "on"):
                return True
            if str(raw).strip().lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        return str(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"Setting {name} must be {kind}, got {raw!r}.") from None


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    config_file: Path | None = None,
) -> Settings:
    """Merge the layers; later layers win. `None` values in overrides mean "not given"."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    path = config_file or (Path(env["QA_CONFIG"]) if env.get("QA_CONFIG") else Path("qa.toml"))
    if path.is_file():
        try:
            values.update(tomllib.loads(path.read_text(encoding="utf-8")))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"Config file {path} is not valid TOML: {exc}") from None
    elif config_file is not None or env.get("QA_CONFIG"):
        raise ConfigError(f"Config file {path} does not exist.")
    names = {f.name for f in fields(Settings)}
    for name in names:
        if f"QA_{name.upper()}" in env:
            values[name] = env[f"QA_{name.upper()}"]
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return replace(Settings(), **{k: _coerce(k, v) for k, v in values.items()})
