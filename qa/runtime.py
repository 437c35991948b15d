"""Which runtime computes the vectors: the `embedder` setting, resolved.

`auto` (the default) is onnx-int8 for the packaged MiniLM on the CPU, and torch for any other model or
a GPU (the int8 export exists for the packaged model only, and onnxruntime runs it on the CPU). An index
keeps the runtime that built it: under `auto`, an existing index is searched and updated with its own
runtime (an index built with torch keeps working, and says how to convert it: a rebuild), while a new
build uses the default. A runtime named outright (`--embedder torch`) is used as asked, and an index
built by another one is refused with the command that fixes it (`qa.index.folder.check_runtime`).
"""

from __future__ import annotations

from pathlib import Path

from qa.commands import rebuild_command
from qa.config import AUTO, DEFAULT_RUNTIME, Settings, pick_runtime
from qa.errors import QAError

__all__ = ["AUTO", "DEFAULT_RUNTIME", "index_runtime", "pick_runtime", "runtime_for"]

def index_runtime(index_dir: Path) -> str | None:
    """The runtime that built the index in `index_dir`; None when there is no readable index (opening
    it says why)."""
    from qa.index.folder import built_runtime, read_manifest

    try:
        _, manifest = read_manifest(index_dir)
    except QAError:
        return None
    return built_runtime(manifest["model"])


def runtime_for(settings: Settings) -> tuple[str, str | None]:
    """The runtime to search and update `settings.index` with, and a note when `auto` keeps an index's
    older runtime rather than the default: what it runs and the command that converts it."""
    from qa.index.folder import repair_of

    built = index_runtime(settings.index) if settings.embedder == AUTO else None
    runtime = pick_runtime(settings.model, settings.embedder, settings.device, built)
    default = pick_runtime(settings.model, settings.embedder, settings.device)
    if built is None or runtime == default:
        return runtime, None
    convert = rebuild_command(repair_of(settings.index))
    return runtime, (f"{settings.index} was built with the {built} embedder, so it is searched with {built}; "
                     f"the default is now {default} (faster to start, build and update). To convert it, "
                     f"rebuild it: {convert}")
