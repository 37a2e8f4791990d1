"""A stand-in for WeChat's Official Account API servers: real HTTP on loopback, in a thread.

Written from the published API, not from our client: the endpoints the code calls, with their
request and response shapes and global return codes.

- `GET /cgi-bin/token?grant_type=client_credential&appid=…&secret=…` → `{"access_token",
  "expires_in"}`; 40002 (grant_type), 40013 (appid), 40125 (secret). Each issuance is counted.
  As on WeChat, a new token retires the previous ones (immediately here, not after 5 minutes).
- `POST /cgi-bin/message/custom/send?access_token=…` (customer-service message) and
  `POST /cgi-bin/message/template/send?access_token=…`: 41001 without a token, 40001 for one we
  never issued or retired, 42001 for an expired one; 40033 for a body with \\uXXXX escapes (WeChat
  wants raw UTF-8), 47001 for a body that is not JSON, 40003 without `touser`, 44004 for empty
  text, 40037 without `template_id`, 45015 for a user outside the 48-hour window
  (`outside_window`). Accepted messages are recorded per openid.
- Scripted failures: `fail_next(path, times, errcode=…)` or `fail_next(path, times, status=500)`
  makes the next calls of that path answer so (after the token check, where WeChat applies it).
"""

from __future__ import annotations

import functools
import json
import re
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOKEN = "/cgi-bin/token"
CUSTOM_SEND = "/cgi-bin/message/custom/send"
TEMPLATE_SEND = "/cgi-bin/message/template/send"

ERRMSG = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40013: "invalid appid",
    40033: "invalid charset. please check your request, if include \\uxxxx will create fail!",
    40037: "invalid template_id",
    40125: "invalid appsecret",
    41001: "access_token missing",
    42001: "access_token expired",
    43001: "require GET method",
    43002: "require POST method",
    44004: "empty content",
    45009: "reach max api daily quota limit",
    45015: "response out of time limit or subscription is canceled",
    45047: "out of response count limit",
    47001: "data format error",
}
_ESCAPE = re.compile(rb"\\u[0-9a-fA-F]{4}")


@dataclass
class _Script:
    errcode: int | None
    status: int
    remaining: int


@dataclass
class WeChatApiStandIn:
    """One Official Account as WeChat's API servers know it."""

    appid: str
    secret: str
    expires_in: int = 7200
    token_delay: float = 0.0  # seconds the token endpoint takes (to make concurrent fetches overlap)
    outside_window: set[str] = field(default_factory=set)
    token_issuances: int = 0
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    templates: list[dict[str, Any]] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    rejected: list[tuple[str, int]] = field(default_factory=list)  # (path, errcode) of refused calls
    _tokens: dict[str, float] = field(default_factory=dict, repr=False)  # token -> expiry (monotonic)
    _scripts: dict[str, deque[_Script]] = field(default_factory=lambda: defaultdict(deque), repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _server: ThreadingHTTPServer | None = field(default=None, repr=False)
    _stopped: bool = field(default=False, repr=False)

    # --- control, for tests ---

    @property
    def base_url(self) -> str:
        """What WECHAT_API_BASE_URL should be."""
        assert self._server is not None, "not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/cgi-bin/"

    def start(self) -> WeChatApiStandIn:
        """Serve on a free loopback port, in a daemon thread."""
        stand_in = self

        class Handler(_Handler):
            api = stand_in

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        serve = functools.partial(self._server.serve_forever, poll_interval=0.05)
        threading.Thread(target=serve, name="wechat-api", daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving: new connections are refused, open (keep-alive) ones are dropped."""
        self._stopped = True
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def fail_next(self, path: str, times: int = 1, *, errcode: int | None = None, status: int = 200) -> None:
        """The next `times` calls of `path` answer `errcode` (HTTP 200) or HTTP `status`."""
        assert errcode is not None or status != 200, "script an errcode or an HTTP error status"
        with self._lock:
            self._scripts[path].append(_Script(errcode, status, times))

    def invalidate_tokens(self) -> None:
        """Retire every token issued so far (as another fetch of the appsecret would)."""
        with self._lock:
            self._tokens.clear()

    def sent_to(self, openid: str) -> list[str]:
        """The texts of the customer-service messages `openid` received, in order."""
        with self._lock:
            return [m["text"]["content"] for m in self.messages.get(openid, []) if m["msgtype"] == "text"]

    # --- WeChat's side ---

    def handle(
        self, method: str, path: str, query: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.calls[path] += 1
        if path == TOKEN:
            return self._token(method, query)
        if path in (CUSTOM_SEND, TEMPLATE_SEND):
            return self._send(method, path, query, body)
        return 404, {"errcode": 404, "errmsg": "not found"}

    def _token(self, method: str, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if method != "GET":
            return self._error(TOKEN, 43001)
        if query.get("grant_type") != "client_credential":
            return self._error(TOKEN, 40002)
        if query.get("appid") != self.appid:
            return self._error(TOKEN, 40013)
        if query.get("secret") != self.secret:
            return self._error(TOKEN, 40125)
        scripted = self._scripted(TOKEN)
        if scripted is not None:
            return scripted
        time.sleep(self.token_delay)
        token = secrets.token_urlsafe(48)
        with self._lock:
            self._tokens = {token: time.monotonic() + self.expires_in}  # the new one retires the others
            self.token_issuances += 1
        return 200, {"access_token": token, "expires_in": self.expires_in}

    def _send(self, method: str, path: str, query: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        if method != "POST":
            return self._error(path, 43002)
        token = query.get("access_token")
        if not token:
            return self._error(path, 41001)
        with self._lock:
            expiry = self._tokens.get(token)
        if expiry is None:
            return self._error(path, 40001)
        if expiry <= time.monotonic():
            return self._error(path, 42001)
        scripted = self._scripted(path)
        if scripted is not None:
            return scripted
        if _ESCAPE.search(body):
            return self._error(path, 40033)
        try:
            message = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return self._error(path, 47001)
        openid = message.get("touser") if isinstance(message, dict) else None
        if not openid:
            return self._error(path, 40003)
        if openid in self.outside_window:
            return self._error(path, 45015)
        if path == TEMPLATE_SEND:
            if not message.get("template_id"):
                return self._error(path, 40037)
            with self._lock:
                self.templates.append(message)
                msgid = len(self.templates)
            return 200, {"errcode": 0, "errmsg": "ok", "msgid": msgid}
        if message.get("msgtype") == "text" and not (message.get("text") or {}).get("content"):
            return self._error(path, 44004)
        with self._lock:
            self.messages[openid].append(message)
        return 200, {"errcode": 0, "errmsg": "ok"}

    def _scripted(self, path: str) -> tuple[int, dict[str, Any]] | None:
        with self._lock:
            queue = self._scripts[path]
            if not queue:
                return None
            script = queue[0]
            script.remaining -= 1
            if script.remaining <= 0:
                queue.popleft()
        if script.errcode is None:
            return script.status, {"errcode": -1, "errmsg": "system error"}
        return self._error(path, script.errcode)

    def _error(self, path: str, errcode: int) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.rejected.append((path, errcode))
        hint = secrets.token_hex(6)
        return 200, {"errcode": errcode, "errmsg": f"{ERRMSG.get(errcode, 'error')} rid: {hint}"}


class _Handler(BaseHTTPRequestHandler):
    api: WeChatApiStandIn
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._serve("POST")

    def _serve(self, method: str) -> None:
        if self.api._stopped:  # a keep-alive connection outliving stop(): hang up, like a dead server
            self.close_connection = True
            return
        url = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, answer = self.api.handle(method, url.path, query, body)
        data = json.dumps(answer, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        # WeChat's own (sic) content type.
        self.send_header("Content-Type", "application/json; encoding=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # quiet: the access token is in every query string
