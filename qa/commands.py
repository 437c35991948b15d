"""The command lines that messages name, in the CLI's words: the one place besides `qa.cli` that
knows its syntax. The library says what repairs an index (`Rebuild`, data); this spells it."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

PACKAGED_MODEL_SUFFIX = "all-MiniLM-L6-v2"


@dataclass(frozen=True)
class Rebuild:
    """What repairs an index folder: building it again from `sources` (empty: unknown, the user
    names them) with `model` (None: the packaged one). `lead` is said before the command."""

    index_dir: Path
    sources: tuple[str, ...] = ()
    model: str | None = None
    lead: str = "Rebuild it"
    env: tuple[str, ...] = ()  # settings the command needs set before it ("QA_EMBEDDER=onnx-int8")


def rebuild_command(repair: Rebuild) -> str:
    """`qa [--model M] index build SOURCES... --index DIR`, with PATH... when the sources are unknown:
    `rebuild_command(Rebuild(Path("ix"), ("/a b",)))` -> `"qa index build '/a b' --index ix"`."""
    packaged = repair.model is None or repair.model.endswith(PACKAGED_MODEL_SUFFIX)
    words = ["qa", *([] if packaged else ["--model", str(repair.model)]), "index", "build",
             *(repair.sources or ["PATH..."]), "--index", str(repair.index_dir)]
    return " ".join([*repair.env, *(w if w == "PATH..." else shlex.quote(w) for w in words)])


def build_first(index_dir: Path) -> Rebuild:
    """The repair for a folder that holds no index yet: "Build one: qa index build PATH... --index DIR"."""
    return Rebuild(index_dir, lead="Build one")
