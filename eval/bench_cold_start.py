"""Cold start of `qa ask` and of the chat page, torch against onnx-int8, side by side in one run.

    python eval/bench_cold_start.py [--rounds 3] [--torch-index DIR --int8-index DIR] [--question Q]

Without the two index folders, the bundled sample archive is indexed once with each runtime into a
temporary folder (not timed). Each round then runs, for torch and for onnx-int8 in turn (the order
alternates from round to round, so the machine's load falls on both):

- `qa --embedder R --index DIR ask QUESTION` in a new process: wall time from the start of the
  process to its exit (Python, imports, the model, the index, the answer);
- `qa --embedder R --index DIR serve --port P` in a new process: time from its start to the first
  answer a page client (gradio_client) gets back, asking as soon as the page accepts a connection.

The int8 model is exported before the first round (once per machine, cached: not a cold start's
cost after the first). Prints each measurement and the median per runtime. Exits 1 when a command
fails or an answer is missing.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "qa" / "data" / "sample_archive"
RUNTIMES = ("torch", "onnx-int8")
QUESTION = "Who controls the Tal Varesh crossing?"


def qa(runtime: str, index: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "qa.cli", "--embedder", runtime, "--index", str(index), *args]


def environment() -> dict[str, str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def time_ask(runtime: str, index: Path, question: str) -> float:
    start = time.perf_counter()
    done = subprocess.run(qa(runtime, index, "ask", question), env=environment(), capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0 or not done.stdout.strip():
        raise SystemExit(f"qa ask with {runtime} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return seconds


def time_page(runtime: str, index: Path, question: str, limit: float = 300.0) -> float:
    """Seconds from starting `qa serve` to the first answer a client gets."""
    from gradio_client import Client

    port = free_port()
    start = time.perf_counter()
    server = subprocess.Popen(qa(runtime, index, "serve", "--port", str(port)), env=environment(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        client = None
        while client is None:
            if server.poll() is not None:
                raise SystemExit(f"qa serve with {runtime} stopped ({server.returncode}): "
                                 f"{(server.stderr.read() if server.stderr else '')[-500:]}")
            if time.perf_counter() - start > limit:
                raise SystemExit(f"qa serve with {runtime} did not answer within {limit:.0f} s")
            try:
                client = Client(f"http://127.0.0.1:{port}/", verbose=False)
            except Exception:  # noqa: BLE001 - not up yet: try again
                time.sleep(0.1)
        chat, _evidence, notice, _box = client.predict(question, True, 5, "", "", api_name="/ask")
        seconds = time.perf_counter() - start
        if notice or "qa-answer" not in str(chat[-1].get("content")):
            raise SystemExit(f"the page with {runtime} gave no answer: {notice!r}")
        return seconds
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--torch-index", type=Path)
    ap.add_argument("--int8-index", type=Path)
    ap.add_argument("--question", default=QUESTION)
    args = ap.parse_args(argv)
    if (args.torch_index is None) != (args.int8_index is None):
        ap.error("give both --torch-index and --int8-index, or neither (the sample archive is indexed)")
    if args.rounds < 1:
        ap.error("--rounds must be at least 1")
    from qa.embed.onnx_int8 import ensure_int8_model

    ensure_int8_model()
    with tempfile.TemporaryDirectory(prefix="cold-start-") as scratch:
        indexes = {"torch": args.torch_index, "onnx-int8": args.int8_index}
        for runtime in RUNTIMES:
            if indexes[runtime] is None:
                indexes[runtime] = Path(scratch) / runtime
                subprocess.run(qa(runtime, indexes[runtime], "index", "build", str(SAMPLE), "--quiet"),
                               env=environment(), check=True, capture_output=True)
        times: dict[tuple[str, str], list[float]] = {}
        for r in range(args.rounds):
            for runtime in (RUNTIMES if r % 2 == 0 else RUNTIMES[::-1]):
                index = indexes[runtime]
                assert index is not None
                ask = time_ask(runtime, index, args.question)
                page = time_page(runtime, index, args.question)
                times.setdefault(("ask", runtime), []).append(ask)
                times.setdefault(("page", runtime), []).append(page)
                print(f"round {r + 1}  {runtime:9s}  qa ask {ask:6.2f} s   page to first answer {page:6.2f} s",
                      flush=True)
    print(f"\nmedian of {args.rounds} rounds   {'torch':>8s}  {'onnx-int8':>9s}  ratio")
    for what, label in (("ask", "qa ask, cold"), ("page", "page, start to first answer")):
        t, i = (statistics.median(times[(what, r)]) for r in RUNTIMES)
        print(f"{label:28s}  {t:7.2f} s  {i:7.2f} s  {t / i:5.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
