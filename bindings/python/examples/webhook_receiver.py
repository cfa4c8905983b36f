"""A KASKO webhook receiver on the standard library's http.server.

    KASKO_WEBHOOK_SECRET=whsec_... python3 webhook_receiver.py [PORT]

It listens on 127.0.0.1:PORT (default 8000; 0 picks a free port) and prints
"listening on http://127.0.0.1:PORT/" first. For each POST it reads the raw
body, exactly Content-Length bytes, and checks X-KASKO-Signature with
kasko.verify_webhook. Then it answers:

- 204 to a delivery whose signature matches, printing one line with the
  event (X-KASKO-Event), the delivery id (X-KASKO-Delivery) and the policy id
  of the body;
- 401 to a signature that does not match;
- 400 to a delivery that has no signature or a malformed one, or that has
  no Content-Length.

KASKO counts any 2xx as received and anything else, 3xx included, as a
failure. A delivery may come twice: use X-KASKO-Delivery to do its work once
(here, a set of the ids seen). Nothing printed holds the secret or the body.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional, Set

import kasko

SECRET = os.environ.get("KASKO_WEBHOOK_SECRET", "")
seen: Set[str] = set()
seen_lock = threading.Lock()


class WebhookHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        length_text = self.headers.get("Content-Length")
        if length_text is None or not length_text.isdigit():
            return self.answer(400, "no Content-Length")
        body = self.rfile.read(int(length_text))
        try:
            kasko.verify_webhook(SECRET, body, self.headers.get("X-KASKO-Signature"))
        except kasko.BadSignatureError:
            return self.answer(401, "signature does not match: dropped")
        except kasko.InvalidArgumentError as error:
            return self.answer(400, f"refused: {error.message}")
        event = self.headers.get("X-KASKO-Event", "?")
        delivery = self.headers.get("X-KASKO-Delivery", "?")
        with seen_lock:
            again = delivery in seen
            seen.add(delivery)
        try:
            policy = json.loads(body).get("id", "?")
        except (ValueError, AttributeError):
            policy = "?"
        print(f"{event} delivery {delivery} policy {policy}{' (again: done already)' if again else ''}",
              flush=True)
        self.answer(204, None)

    def answer(self, status: int, reason: Optional[str]) -> None:
        if reason is not None:
            print(f"{status}: {reason}", flush=True)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass  # one line per delivery above is enough


def main() -> int:
    if not SECRET:
        print("set KASKO_WEBHOOK_SECRET to the webhook's secret", file=sys.stderr)
        return 2
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8000
    server = ThreadingHTTPServer(("127.0.0.1", port), WebhookHandler)
    print(f"listening on http://127.0.0.1:{server.server_address[1]}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
