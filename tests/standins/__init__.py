"""Local stand-ins for the outside gateways (Aliyun SMS, Tencent Cloud SMS, WeChat).

Each runs a real HTTP server on 127.0.0.1 in a thread of the test process and checks
what the real gateway checks (fields, signature, credentials), recomputed here from
the provider's public documentation. Sends are counted here, at the stand-in, so a
test sees what really left our application.

Behaviour is scripted per request with `plan(...)`: each entry is used by one request
that reaches the provider's send endpoint, in order, then "ok" again:

- "ok": check and accept (counted in `accepted`)
- "unavailable": HTTP 5xx, the gateway's "internal error" (not accepted)
- "throttle": the gateway's rate-limit answer (not accepted)
- ("hold", seconds): accept and count, then wait before answering (a lost answer)
"""

import contextlib
import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class StandIn:
    """Base class: a threaded HTTP server; subclasses implement `handle`."""

    def __init__(self):
        self.accepted: list[dict] = []  # one entry per message the gateway accepted
        self.requests: list[dict] = []  # every request, accepted or not
        self._plan: deque = deque()
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._server = None
        self._thread = None
        self._holding: list[threading.Event] = []

    # ---- life cycle ----------------------------------------------------------------
    def start(self, port: int = 0):
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output quiet
                pass

            def _serve(self):
                if standin._server is None:  # stopped: a kept-alive connection gets nothing
                    self.close_connection = True
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, headers, payload = standin._dispatch(
                    self.command, self.path, dict(self.headers.items()), body)
                if isinstance(payload, (dict, list)):
                    payload = json.dumps(payload, ensure_ascii=False).encode()
                    headers = {"Content-Type": "application/json; charset=utf-8", **headers}
                elif isinstance(payload, str):
                    payload = payload.encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(payload)  # the client may have given up waiting

            do_GET = do_POST = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)  # a short poll: stop() returns fast
        self._thread.start()
        return self

    def stop(self):
        for event in self._holding:
            event.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ---- behaviour -----------------------------------------------------------------
    def plan(self, *behaviours):
        with self._lock:
            self._plan.extend(behaviours)

    def next_behaviour(self):
        """The behaviour for the next send request (call once per send request)."""
        with self._lock:
            return self._plan.popleft() if self._plan else "ok"

    def record_accepted(self, entry: dict):
        with self._cond:
            self.accepted.append(entry)
            self._cond.notify_all()

    def hold(self, seconds: float):
        """Sleep up to `seconds` (ended early by `stop`): an answer that never comes."""
        event = threading.Event()
        self._holding.append(event)
        event.wait(seconds)

    def release(self):
        """Answer every held request now."""
        for event in self._holding:
            event.set()

    def wait_accepted(self, count: int, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.accepted) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def _dispatch(self, method, path, headers, body):
        with self._cond:
            self.requests.append({"method": method, "path": path, "headers": headers,
                                  "body": body})
            self._cond.notify_all()
        return self.handle(method, path, headers, body)

    def handle(self, method: str, path: str, headers: dict, body: bytes):
        raise NotImplementedError
