"""A stand-in OpenAI-compatible endpoint that takes `--delay` seconds per reply, for load checks of
the page when answers wait on a language model (I/O, not CPU):

    python eval/slow_endpoint.py --port 8099 --delay 1.0 &
    QA_LLM_URL=http://127.0.0.1:8099/v1 python app.py --index /tmp/sample-index --port 7873 &
    python eval/load_check.py --url http://127.0.0.1:7873/ --clients 8 --questions 25

It answers every question with the first passage's first words and the marker [1].
"""

from __future__ import annotations

import argparse
import json
import re
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main() -> None:
    parser = argparse.ArgumentParser(description="A slow OpenAI-compatible chat endpoint.")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--delay", type=float, default=1.0, help="seconds before each reply")
    args = parser.parse_args()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server name
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            prompt = body.get("messages", [{}])[-1].get("content", "")
            first = re.search(r"\[1\][^\n]*\n([^\n]{0,160})", prompt)
            words = " ".join((first[1] if first else "The passages say so.").split()[:20])
            time.sleep(args.delay)
            reply = json.dumps({"choices": [{"message": {"content": f"{words} [1]"}}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: object) -> None:
            pass

    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
