"""Load check for the chat page: N concurrent readers, each holding conversations of follow-up questions.

Start the page first, then point this at it:

    python app.py --index /tmp/sample-index --port 7860 &
    python eval/load_check.py --url http://127.0.0.1:7860/ --clients 8 --questions 25

Each client is its own gradio_client session (its own conversation state). Every `--turns` questions it
presses "New conversation". A question counts as an error when the call raises, the page answers with
an inline notice, or the reply lacks the answer. Prints latency percentiles; exits 1 on any error.
Login: QA_USERNAME / QA_PASSWORD from the environment, as the page reads them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from qa.eval.metrics import percentile

# Conversations about the bundled sample archive: a question and its follow-ups.
CONVERSATIONS = [
    ["Who controls the Tal Varesh crossing?", "and who held it before that?", "What did readers say about it?",
     "Why did the garrison withdraw?", "what about the customs database?"],
    ["When did Iron Dawn first seize the Tal Varesh crossing?", "How many soldiers were killed?",
     "what did the commenters think?", "Who led Operation Stone Ford?", "and when did it end?"],
    ["What was found at Port Calvera?", "Who was convicted over the Calvera arms shipment?",
     "what did readers say about it?", "Where did the drone strike hit the ammunition depot?", "why?"],
    ["Who is Emil Drazhev?", "how was he killed?", "What is the Reed Road?", "what do readers say about it?",
     "Where were the ceasefire talks held?"],
]


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def run_client(url: str, number: int, questions: int, turns: int, k: int, result: Result,
               auth: tuple[str, str] | None) -> None:
    from gradio_client import Client

    client = Client(url, auth=auth, verbose=False)
    conversation = CONVERSATIONS[number % len(CONVERSATIONS)]
    in_conversation = 0
    for i in range(questions):
        if in_conversation == turns:
            client.predict(api_name="/new_conversation")
            in_conversation = 0
        question = conversation[in_conversation % len(conversation)]
        start = time.perf_counter()
        try:
            chat, _evidence, notice, _box = client.predict(question, "Articles and reader comments", k, "", "",
                                                           api_name="/ask")
        except Exception as exc:  # noqa: BLE001 - every failure is counted and reported
            error = f"client {number} question {i + 1}: {type(exc).__name__}: {exc}"
        else:
            in_conversation += 1
            answered = len(chat) == 2 * in_conversation and "qa-answer" in str(chat[-1].get("content"))
            error = (f"client {number} question {i + 1}: notice {notice!r}" if notice
                     else "" if answered else f"client {number} question {i + 1}: no answer in the reply")
        with result.lock:
            result.latencies.append(time.perf_counter() - start)
            if error:
                result.errors.append(error)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Concurrent readers against a running Archive QA page.")
    parser.add_argument("--url", default="http://127.0.0.1:7860/")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--questions", type=int, default=25, help="questions per client")
    parser.add_argument("--turns", type=int, default=5, help="questions per conversation")
    parser.add_argument("-k", type=int, default=5, help="passages per answer")
    args = parser.parse_args(argv)
    user, password = os.environ.get("QA_USERNAME"), os.environ.get("QA_PASSWORD")
    auth = (user, password) if user and password else None

    result = Result()
    start = time.perf_counter()
    with ThreadPoolExecutor(args.clients) as pool:
        futures = [pool.submit(run_client, args.url, n, args.questions, args.turns, args.k, result, auth)
                   for n in range(args.clients)]
        for f in futures:
            if f.exception() is not None:  # the client could not even connect
                result.errors.append(f"client could not run: {f.exception()}")
    wall = time.perf_counter() - start
    lat = result.latencies
    print(f"{args.clients} clients × {args.questions} questions against {args.url}: {len(lat)} answered in "
          f"{wall:.1f} s ({len(lat) / wall:.2f} questions/s), {len(result.errors)} errors")
    if lat:
        print(f"latency p50 {percentile(lat, 50):.2f} s · p95 {percentile(lat, 95):.2f} s · "
              f"mean {statistics.fmean(lat):.2f} s · max {max(lat):.2f} s")
    for error in result.errors[:10]:
        print("error:", error, file=sys.stderr)
    return 1 if result.errors or len(lat) < args.clients * args.questions else 0


if __name__ == "__main__":
    sys.exit(main())
