"""A webhook receiver in its own process, so that a test can kill it (SIGKILL) in the middle
of a delivery and start it again on the same port: each POST is appended to a JSON-lines file
(headers and body as received) before the answer, which waits `--delay` seconds.

    python -m tests.integration.webhook_receiver_process --port 8123 --log posts.jsonl"""

from __future__ import annotations

import argparse
import json
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from tests.integration.webhook_receiver import LoopbackServer


def serve(port: int, log: Path, delay_s: float) -> None:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            line = {
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body.decode(),
            }
            with log.open("a", encoding="utf-8") as out:
                out.write(json.dumps(line) + "\n")
            time.sleep(delay_s)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:
            pass

    # allow_reuse_address (SO_REUSEADDR): the restarted receiver binds the port at once.
    LoopbackServer(("127.0.0.1", port), Handler).serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    serve(args.port, args.log, args.delay)


if __name__ == "__main__":
    main()
