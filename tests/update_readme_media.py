"""Redo what the README shows of the product from what it prints today: the `qa ask` example (from an index
of ../shared/archive built with the packaged model) and docs/screenshot.png (the real-archive browser test in
headless Chromium, with QA_UPDATE_SCREENSHOT=1).

    make readme-media            (or: python tests/update_readme_media.py [--no-screenshot])

Run it again whenever the wording of answers or the page changes; then `make test-readme` checks the example.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARCHIVE = ROOT.parent / "shared" / "archive"
QUESTION = "Who controls the Al Waleed crossing?"
WIDTH = 110  # longer lines of the example are cut with " …"


def example(output: str) -> str:
    """The README's block from `qa ask` output: the answer (wrapped), then each citation's heading line (cut,
    without its passage), the archive's folder written as the reader's relative path."""
    output = output.replace(str(ARCHIVE.resolve()), "../shared/archive")
    answer, _, cited = output.strip().partition("\n\n")
    lines = [wrapped for line in answer.splitlines() for wrapped in textwrap.wrap(line, WIDTH) or [""]]
    lines.append("")
    for line in cited.splitlines():
        if re.match(r"^\[\d+\] ", line):
            lines.append(line if len(line) <= WIDTH else line[:WIDTH - 2].rstrip() + " …")
    return "\n".join(lines).rstrip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-screenshot", action="store_true", help="only the qa ask example")
    args = parser.parse_args()
    if not ARCHIVE.is_dir():
        sys.exit(f"{ARCHIVE} is not here: the README's example and screenshot are of that archive")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    env.pop("QA_MODEL", None)
    env.pop("QA_INDEX", None)
    qa = [sys.executable, "-c", "from qa.cli import main; main()"]
    with tempfile.TemporaryDirectory() as tmp:
        index = str(Path(tmp) / "index")
        subprocess.run([*qa, "index", "build", str(ARCHIVE), "--index", index, "--quiet"], env=env, check=True)
        asked = subprocess.run([*qa, "--index", index, "ask", QUESTION], env=env, check=True, capture_output=True,
                               text=True)
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    block = re.compile(r"(```\n\$ qa ask " + re.escape(f'"{QUESTION}"') + r"\n)(.*?)(\n```)", re.S)
    if not block.search(text):
        sys.exit("README.md has no ``` block starting with $ qa ask \"" + QUESTION + "\"")
    readme.write_text(block.sub(lambda m: m.group(1) + example(asked.stdout) + m.group(3), text, count=1),
                      encoding="utf-8")
    print(f"README.md: the qa ask example, from:\n{asked.stdout}")
    if not args.no_screenshot:
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_browser.py",
                        "-k", "real_archive_answers", "-m", "browser"], cwd=ROOT,
                       env={**env, "QA_UPDATE_SCREENSHOT": "1"}, check=True)
        print("docs/screenshot.png: written by the real-archive browser test")


if __name__ == "__main__":
    main()
