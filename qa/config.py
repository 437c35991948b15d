"""One `Settings` object: defaults ← TOML file ← `QA_*` environment variables ← CLI flags."""

from __future__ import annotations

import math
import os
import re
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from qa.errors import ConfigError

PACKAGED_MODEL = "all-MiniLM-L6-v2"
FUSIONS = ("rrf", "weighted")
RUNTIMES = ("torch", "onnx-int8")  # what can run the embedding model
EMBEDDERS = ("auto", *RUNTIMES)  # the `embedder` setting: a runtime, or auto (`qa.runtime.pick_runtime`)
ENV_PREFIX = "QA_"
API_KEYS = ("QA_LLM_API_KEY", "OPENAI_API_KEY")  # read by qa.answer.llm, checked here
KEY_HOST_FROM_FILE = "-"  # llm_key_host of an llm_url read from a settings file: the key goes nowhere
UNFILED = ("llm_key_host",)  # settings a settings file may not set: where the API key may be sent


AUTO = "auto"
DEFAULT_RUNTIME = "onnx-int8"  # MultiHop ranking within 0.003 of torch held out, with its own reranker fit


def pick_runtime(model: str, embedder: str, device: str = "cpu", built: str | None = None) -> str:
    """The runtime the `embedder` setting means for `model` on `device`: the one named, else (`auto`)
    the runtime `built` that made an existing index, else the default for this model and device."""
    if embedder != AUTO:
        return embedder
    if built in RUNTIMES:
        return built  # type: ignore[return-value]
    packaged = model in (PACKAGED_MODEL, f"sentence-transformers/{PACKAGED_MODEL}")
    return DEFAULT_RUNTIME if packaged and device == "cpu" else "torch"


@dataclass(frozen=True)
class Settings:
    index: Path = Path("index")
    model: str = PACKAGED_MODEL  # the packaged MiniLM, or any sentence-transformers name/path
    embedder: str = "auto"  # what runs the model: torch, onnx-int8 (the packaged MiniLM on onnxruntime), or
    #                         auto: onnx-int8 for the packaged model on the CPU, else torch; an existing
    #                         index keeps the runtime that built it (qa/runtime.py)
    device: str = "cpu"  # where the torch embedder runs: cpu, cuda or cuda:N
    batch_size: int = 32
    chunk_tokens: int = 200  # target passage size in the embedding model's word pieces
    overlap_tokens: int = 30  # carried over from the previous chunk, in whole sentences
    k: int = 5  # passages returned / cited
    depth: int = 50  # candidates taken from each retriever before fusion
    per_doc: int = 5  # most chunks from one document in a result list
    split_sources: bool = True  # also search each outlet and date the question names, and interleave
    rerank: bool = True  # reorder hybrid candidates with the shipped reranker (qa/rerank/)
    fusion: str = "weighted"
    dense_weight: float = 0.15  # for weighted fusion; lexical gets 1 - dense_weight
    max_question_chars: int = 2000
    llm_url: str = ""  # an OpenAI-compatible endpoint (".../v1"); empty: the extractive answerer
    llm_key_host: str = ""  # the host the API key may go to; empty: llm_url's (see load_settings)
    llm_model: str = ""  # sent as "model"; some servers need it, some ignore it
    llm_context_tokens: int = 3000  # prompt budget (tiktoken cl100k tokens): instructions, question, passages
    llm_max_tokens: int = 400  # longest reply asked for
    llm_timeout: float = 60.0  # seconds to wait for the reply
    follow_links: bool = False  # read archive files that are links to places outside the archive folder
    concurrency: int = 4  # questions the page answers at once (they share the index and the model)

    def __post_init__(self) -> None:
        if self.embedder not in EMBEDDERS:
            raise ConfigError(f"Setting {_label('embedder')} names an unknown embedder {self.embedder!r}; "
                              f"known: {', '.join(EMBEDDERS)}.")
        if not re.fullmatch(r"cpu|cuda(:\d{1,2})?", self.device):
            raise ConfigError(f"Setting {_label('device')} must be cpu, cuda or cuda:N, got {self.device!r}.")
        if self.fusion not in FUSIONS:
            raise ConfigError(f"Setting {_label('fusion')} names an unknown fusion {self.fusion!r}; "
                              f"known: {', '.join(FUSIONS)}.")
        for name in ("batch_size", "chunk_tokens", "k", "depth", "per_doc", "max_question_chars",
                     "llm_context_tokens", "llm_max_tokens", "concurrency"):
            if getattr(self, name) < 1:
                raise ConfigError(f"Setting {_label(name)} must be at least 1, got {getattr(self, name)}.")
        if self.overlap_tokens < 0 or self.overlap_tokens >= self.chunk_tokens:
            raise ConfigError(f"Setting {_label('overlap_tokens')} must be between 0 and chunk_tokens - 1.")
        if not 0.0 <= self.dense_weight <= 1.0:
            raise ConfigError(f"Setting {_label('dense_weight')} must be between 0 and 1.")
        if not math.isfinite(self.llm_timeout) or self.llm_timeout <= 0:
            raise ConfigError(f"Setting {_label('llm_timeout')} must be a number of seconds more than 0, "
                              f"got {self.llm_timeout!r}.")
        if not str(self.index).strip():
            raise ConfigError(f"Setting {_label('index')} is empty; name the index folder.")
        _check_model(self.model)
        if self.llm_url:
            _check_url(self.llm_url)


def _label(name: str) -> str:
    """`k (QA_K)`: the setting and the environment variable that sets it."""
    return f"{name} ({ENV_PREFIX}{name.upper()})"


def _check_model(model: str) -> None:
    if not model.strip():
        raise ConfigError(f"Setting {_label('model')} is empty; name a model, or leave it unset for "
                          f"the packaged {PACKAGED_MODEL}.")
    if model.startswith("hash:") and not re.fullmatch(r"[1-9]\d{0,4}", model[5:]):
        raise ConfigError(f"Setting {_label('model')} must be hash or hash:DIM with DIM a whole number "
                          f"from 1 to 99999, got {model!r}.")


def _check_url(url: str) -> None:
    """An http(s) URL with a host and, if any, a numeric port: caught here, not at the first question."""
    problem = ""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number from 0 to 65535
    except ValueError as exc:
        problem = str(exc)
    else:
        if parts.scheme not in ("http", "https"):
            problem = "it must start with http:// or https://"
        elif not parts.hostname:
            problem = "it names no host"
        elif any(ch.isspace() or unicodedata.category(ch)[0] == "C" for ch in url):
            problem = "it holds a space or a control character"
    if problem:
        raise ConfigError(f"Setting {_label('llm_url')} is not a usable URL ({problem}), got {url!r}. "
                          "Give one like http://127.0.0.1:8080/v1.")


def _check_api_key(env: Mapping[str, str]) -> None:
    """The key goes into an HTTP header: a newline in it would end the header (or add one)."""
    for name in API_KEYS:
        key = env.get(name)
        if key and any(ch.isspace() or unicodedata.category(ch)[0] == "C" or ord(ch) > 126 for ch in key):
            raise ConfigError(f"The API key in {name} holds a space, a newline or another character a "
                              "key cannot have; set it again, without them.")


def _coerce(name: str, raw: Any) -> Any:
    kinds = {f.name: f.type for f in fields(Settings)}
    if name not in kinds:
        known = ", ".join(sorted(kinds))
        raise ConfigError(f"Unknown setting {name!r}; known settings: {known}.")
    kind = kinds[name]
    words = {"int": "a whole number", "float": "a number", "bool": "true or false", "Path": "a path",
             "str": "text"}
    if kind == "bool" and isinstance(raw, bool):
        return raw
    if kind == "int" and isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if kind == "float" and isinstance(raw, (int, float)) and not isinstance(raw, bool) and math.isfinite(raw):
        return float(raw)
    if kind == "Path" and isinstance(raw, (str, os.PathLike)) and not str(raw).strip():
        raise ConfigError(f"Setting {_label(name)} is empty; name a folder.")  # Path("") would be "."
    if kind in ("str", "Path") and isinstance(raw, (str, os.PathLike)):
        return Path(raw) if kind == "Path" else str(raw)
    text = raw.strip() if isinstance(raw, str) else None  # from the environment or the CLI
    if text is not None:
        if kind == "bool" and text.lower() in ("1", "true", "yes", "on"):
            return True
        if kind == "bool" and text.lower() in ("0", "false", "no", "off"):
            return False
        if kind == "int" and re.fullmatch(r"[+-]?\d{1,18}", text):
            return int(text)
        if kind == "float" and re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d{1,3})?", text):
            value = float(text)
            if math.isfinite(value):
                return value
    shown = repr(raw) if not isinstance(raw, str) or len(raw) <= 60 else repr(raw[:60] + "…")
    raise ConfigError(f"Setting {_label(name)} must be {words.get(str(kind), kind)}, got {shown}.")


def user_config(env: Mapping[str, str]) -> Path:
    """The settings file of the user running `qa`: `$XDG_CONFIG_HOME/archive-qa/qa.toml`, by default
    `~/.config/archive-qa/qa.toml`. (A `qa.toml` in the working folder is not read: a folder
    downloaded with an archive could carry one that sends the passages and the API key elsewhere.)"""
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME") or Path.home()) / ".config")
    return Path(base) / "archive-qa" / "qa.toml"


def config_path(env: Mapping[str, str] | None = None, config_file: Path | None = None) -> Path | None:
    """The settings file in use: `--config`, else `$QA_CONFIG` (set but empty: none), else the
    user's own (`user_config`) when it exists. A file named but missing is an error."""
    env = os.environ if env is None else env
    named = config_file or (Path(env["QA_CONFIG"]) if env.get("QA_CONFIG") else None)
    if named is not None:
        if not named.is_file():
            raise ConfigError(f"Config file {named} does not exist.")
        return named
    if "QA_CONFIG" in env:
        return None
    own = user_config(env)
    return own if own.is_file() else None


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    config_file: Path | None = None,
) -> Settings:
    """Merge the layers; later layers win. `None` values in overrides mean "not given"."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    path = config_path(env, config_file)
    if path is not None:
        try:
            values.update(tomllib.loads(path.read_text(encoding="utf-8")))
            for name in UNFILED:
                if name in values:
                    raise ConfigError(f"Config file {path} sets {name}, which only the environment "
                                      f"({ENV_PREFIX}{name.upper()}) may set.")
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"Config file {path} is not valid TOML: {exc}") from None
        except OSError as exc:
            raise ConfigError(f"Config file {path} cannot be read ({exc.strerror or exc}).") from None
    names = {f.name for f in fields(Settings)}
    for name in names:
        if f"QA_{name.upper()}" in env:
            values[name] = env[f"QA_{name.upper()}"]
    filed_url = "llm_url" in values and "QA_LLM_URL" not in env
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    filed_url = filed_url and (overrides or {}).get("llm_url") is None
    if filed_url and values.get("llm_url") and not values.get("llm_key_host"):
        values["llm_key_host"] = KEY_HOST_FROM_FILE  # a file pointing llm_url elsewhere gets no API key
    settings = replace(Settings(), **{k: _coerce(k, v) for k, v in values.items()})
    if settings.llm_url:
        _check_api_key(env)
    return settings
