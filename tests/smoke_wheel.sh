#!/usr/bin/env bash
# The installed product, as a user gets it: build the wheel from a copy of the source tree, install it in a
# fresh virtual environment with the pip that Python ships (not upgraded; no editable link, nothing left from
# an earlier run), then, from a folder outside the source tree, index the bundled sample in its three forms
# (text, saved HTML pages, WordPress export), ask a question of each and check the answer and its citation.
#
#   tests/smoke_wheel.sh            (make test-wheel; make test runs it after the pytest suite)
#
# PY picks the Python (default python3), TORCH the PyTorch requirement installed first (default
# torch==2.13.0, the CPU build; pip's find-links or index must hold it). KEEP=1 keeps the work folder.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${PY:-python3}
TORCH=${TORCH:-torch==2.13.0}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/qa-wheel.XXXXXX")
[ "${KEEP:-}" = 1 ] || trap 'rm -rf "$WORK"' EXIT
export HF_HUB_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False PIP_DISABLE_PIP_VERSION_CHECK=1
unset PYTHONPATH VIRTUAL_ENV
step() { echo "wheel smoke: $*"; }
start=$SECONDS

# 1. The wheel, from a copy of the tracked and untracked-but-not-ignored files (no build/ or egg-info left
#    in the tree, none picked up from it)
step "building the wheel …"
mkdir -p "$WORK/src" "$WORK/dist"
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
    [ -e "$f" ] && printf '%s\0' "$f"; done | tar --null -T - -cf -) | tar -xf - -C "$WORK/src"
"$PY" -m pip wheel -q --no-deps "$WORK/src" -w "$WORK/dist"
WHEEL=$(ls "$WORK/dist"/archive_qa-*.whl)
"$PY" - "$WHEEL" <<'EOF'
import sys, zipfile
names = set(zipfile.ZipFile(sys.argv[1]).namelist())
need = ["qa/data/answer.json", "qa/data/rerank.json", "qa/data/sample_archive/page_01.txt",
        "qa/data/sample_html/page_01.html", "qa/data/sample_wxr/thefrontiermonitor.WordPress.2025-04-30.xml"]
missing = [n for n in need if n not in names]
if missing:
    sys.exit(f"the wheel lacks {', '.join(missing)}")
EOF

# 2. A fresh environment with the pip Python ships; PyTorch's CPU build first, then the wheel and its dependencies
step "a fresh venv ($("$PY" -m pip --version | cut -d' ' -f1-2)), $TORCH, then the wheel …"
"$PY" -m venv "$WORK/venv"
BIN="$WORK/venv/bin"
"$BIN/python" -m pip install -q --progress-bar off "$TORCH"
"$BIN/python" -m pip install -q --progress-bar off "$WHEEL"
"$BIN/python" -m pip check

# 3. From outside the source tree: the installed package, its sample in three forms, a cited answer from each
mkdir -p "$WORK/run" && cd "$WORK/run"
SITE=$("$BIN/python" -c 'import qa, pathlib; print(pathlib.Path(qa.__file__).parent)')
case "$SITE" in "$WORK/venv/"*) ;; *) echo "qa was imported from $SITE, not the fresh environment" >&2; exit 1;; esac
for form in sample_archive sample_html sample_wxr; do
    step "indexing $form and asking …"
    "$BIN/qa" index build "$SITE/data/$form" --index "idx-$form" --quiet
    "$BIN/qa" --index "idx-$form" ask "Which group took control of the Tal Varesh border crossing?" --json > "ask-$form.json"
    "$BIN/python" - "ask-$form.json" "$form" <<'EOF'
import json, re, sys
reply = json.load(open(sys.argv[1], encoding="utf-8"))
first = reply["answer"].split("\n", 1)[0]
mark = re.search(r"\[(\d+)\]", first)
cited = next((c for c in reply["citations"] if mark and c["n"] == int(mark[1])), None)
problems = []
if reply["abstained"] or "Iron Dawn" not in first:
    problems.append("its first line does not name the Iron Dawn brigades")
if cited is None:
    problems.append("its first line cites no passage")
elif not ("Tal Varesh" in cited["text"] and "Iron Dawn" in cited["text"] and cited["used"]):
    problems.append(f"passage [{cited['n']}], which its first line cites, does not say so")
if problems:
    sys.exit(f"{sys.argv[2]}: " + "; ".join(problems) + f". The answer: {reply['answer']!r}")
EOF
done
step "passed in $((SECONDS - start)) s"
