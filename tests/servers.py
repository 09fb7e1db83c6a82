"""Real local servers for the senders' tests (bound to 127.0.0.1, stopped by the tests)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Gateway:
    """A local SMS gateway that answers with a scripted list of status codes (then 200)."""

    def __init__(self, script: list[int | str], error: dict | None = None):
        self.script = list(script)
        self.error = error or {"error": "x"}
        self.requests: list[tuple[dict, dict]] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                gateway.requests.append((dict(self.headers), body))
                action = gateway.script.pop(0) if gateway.script else 200
                if action == "slow":
                    time.sleep(1.5)
                    action = 200
                self.send_response(action)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps({"id": f"gw-{body['id']}"} if action == 200 else gateway.error).encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
