"""`python tests/stop_at.py STAGE index build|update PATH --index DIR [--prune]`: the CLI's build or
update with the hash model, made to stop at STAGE (see `qa.index.write_index`): it says so on
stderr and waits there, holding the writer lock, until the crash test kills it."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from qa.build import build_index, update_index
from qa.config import Settings


def stop_at(stage: str):  # type: ignore[no-untyped-def]
    def checkpoint(reached: str) -> None:
        if reached == stage:
            print(f"STOPPED AT {stage} pid", flush=True, file=sys.stderr)
            while True:
                time.sleep(60)
    return checkpoint


def main(argv: list[str]) -> None:
    stage, group, command, path, flag, index, *rest = argv
    assert group == "index" and flag == "--index", argv
    settings = Settings(index=Path(index), model="hash")
    if command == "build":
        build_index([Path(path)], settings, checkpoint=stop_at(stage))
    else:
        update_index([Path(path)], settings, prune="--prune" in rest, checkpoint=stop_at(stage))


if __name__ == "__main__":
    main(sys.argv[1:])
