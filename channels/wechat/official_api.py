"""A small client of the WeChat Official Account API: access tokens and messages sent by us.

WeChat's passive reply must come within 5 s of a user's message; anything later goes out as a
customer-service message (客服消息, `message/custom/send`, allowed within 48 hours of the user's
last message), and notifications as template messages (`message/template/send`). Both need an
access token (`token?grant_type=client_credential`, valid `expires_in` = 7200 s; fetching a new
one retires the old one within minutes, so every process must share one token and refresh it
once per expiry).

Built on wechatpy's `WeChatClient` (URL building, UTF-8 JSON bodies, `errcode` → exceptions),
with what it lacks here: its token fetch ignores `API_BASE_URL` and has no timeout, its
`RedisStorage` shares the token but not the refresh (every process would fetch its own when the
token runs out), and its `auto_retry` refreshes and retries without limit. So tokens are kept
by `MemoryTokens` (one process, a lock) or `RedisTokens` (all processes: the token in Redis with
its expiry minus a margin, and a short Redis lock so that exactly one process fetches a new one).

What a send does with WeChat's answers (global return codes of the Official Account API):

| answer | meaning | what we do | outcome |
|---|---|---|---|
| 0 | sent | - | `sent` |
| 40001, 40014, 42001 | token invalid or expired | refresh the token once, send again | `sent` / `failed` |
| 45015 | user's last message > 48 h ago (or unsubscribed) | give up, no retry | `outside_window` |
| 45047 | too many CS messages since the user's last one | give up, no retry | `quota` |
| 45009, 45011 | the account's daily / per-minute API quota | give up for now | `quota` |
| -1, HTTP 5xx, network | WeChat busy or unreachable | retry, backoff, `attempts` in all | `sent` / `failed` |
| other (40003 openid, 43004 not following) | our request is wrong | give up, no retry | `failed` |

Importable from both virtual environments (Rasa's and the app's): wechatpy, redis, requests and
the standard library only.
"""

from __future__ import annotations

import enum
import logging
import os
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import redis
import requests
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session.redisstorage import RedisStorage

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.weixin.qq.com/cgi-bin/"
# Refresh this long before WeChat's expiry: a token fetched elsewhere retires ours within minutes.
TOKEN_MARGIN_SECONDS = 300.0

TOKEN_INVALID = frozenset({40001, 40014, 42001})
OUTSIDE_WINDOW = frozenset({45015})
QUOTA = frozenset({45009, 45011, 45047})
BUSY = frozenset({-1})
_SECRET_PARAMS = re.compile(r"\b(access_token|secret)=[^&\s'\")]*")

# A token fetch: (access_token, expires_in seconds).
Fetch = Callable[[], tuple[str, float]]


class Outcome(str, enum.Enum):
    """What became of a message we sent."""

    SENT = "sent"
    OUTSIDE_WINDOW = "outside_window"  # the user wrote more than 48 hours ago: WeChat refuses
    QUOTA = "quota"  # a quota of the account or of this user is used up: not now
    FAILED = "failed"  # WeChat unreachable after the retries, or the request was refused


@dataclass(frozen=True)
class SendResult:
    """The outcome of one send, WeChat's last errcode (None: no answer) and the calls it took."""

    outcome: Outcome
    errcode: int | None = 0
    calls: int = 1

    @property
    def sent(self) -> bool:
        """Whether WeChat accepted the message."""
        return self.outcome is Outcome.SENT


class ApiFailure(Exception):
    """A call WeChat did not accept: its errcode (None: HTTP or network error) and whether to retry."""

    def __init__(self, errcode: int | None, detail: str, *, transient: bool) -> None:
        super().__init__(detail if errcode is None else f"errcode {errcode}: {detail}")
        self.errcode, self.detail, self.transient = errcode, detail, transient


class TokenCache(Protocol):
    """Where access tokens live between calls."""

    def get(self) -> str | None:
        """The current token, or None when there is none or it is about to expire."""

    def refresh(self, fetch: Fetch, stale: str | None) -> str:
        """A token other than `stale`: the one someone else just fetched, or `fetch()`'s."""


def _lifetime(expires_in: float, margin: float) -> float:
    # WeChat says 7200 s; a short-lived token (a stand-in's, say) is kept for half its life.
    return expires_in - margin if expires_in > 2 * margin else expires_in / 2


class MemoryTokens:
    """The token of one process; the lock makes concurrent refreshes fetch once."""

    def __init__(self, margin: float = TOKEN_MARGIN_SECONDS, clock: Callable[[], float] = time.monotonic):
        self.margin, self._clock = margin, clock
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()

    def get(self) -> str | None:
        """The cached token while it is fresh."""
        token, expires_at = self._token, self._expires_at
        return token if token is not None and self._clock() < expires_at else None

    def refresh(self, fetch: Fetch, stale: str | None) -> str:
        """Fetch a new token, unless another thread already replaced `stale`."""
        with self._lock:
            current = self.get()
            if current is not None and current != stale:
                return current
            token, expires_in = fetch()
            self._token, self._expires_at = token, self._clock() + _lifetime(expires_in, self.margin)
            return token


_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


class RedisTokens:
    """The token shared by every process through Redis; one process refreshes it per expiry.

    The token is stored with wechatpy's `RedisStorage` (key `<prefix>:<appid>_access_token`, as
    wechatpy's own clients name it) with a TTL of its lifetime minus the margin. A refresh takes
    `<key>:lock` (SET NX PX, released only by its owner); the others wait for the new token
    instead of fetching their own. While Redis is down, each process keeps its own token.
    """

    def __init__(
        self,
        client: redis.Redis,
        appid: str,
        *,
        prefix: str = "policybot:wechat",
        margin: float = TOKEN_MARGIN_SECONDS,
        lock_seconds: float = 15.0,
        poll: float = 0.05,
    ) -> None:
        self._redis = client
        self._storage = RedisStorage(client, prefix=prefix)
        self._key = f"{appid}_access_token"
        self._lock_key = f"{self._storage.key_name(self._key)}:lock"
        self.margin, self.lock_seconds, self.poll = margin, lock_seconds, poll
        self._fallback = MemoryTokens(margin)

    @classmethod
    def from_url(cls, url: str, appid: str, **options: Any) -> RedisTokens:
        """Tokens in the Redis at `url` (short timeouts: a down Redis must not stall a send)."""
        client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        return cls(client, appid, **options)

    def get(self) -> str | None:
        """The shared token (Redis drops it when it is due for a refresh)."""
        try:
            token = self._storage.get(self._key)
        except (redis.RedisError, OSError) as error:
            log.warning("WeChat access token not shared (Redis): %s", error)
            return self._fallback.get()
        return str(token) if token else None

    def refresh(self, fetch: Fetch, stale: str | None) -> str:
        """The token after `stale`: fetched here under the lock, or by whoever holds the lock."""
        try:
            return self._refresh(fetch, stale)
        except (redis.RedisError, OSError) as error:
            log.warning("WeChat access token refreshed per process (Redis): %s", error)
            return self._fallback.refresh(fetch, stale)

    def _refresh(self, fetch: Fetch, stale: str | None) -> str:
        deadline = time.monotonic() + self.lock_seconds
        owner = secrets.token_hex(8)
        while True:
            current = self._storage.get(self._key)
            if current and current != stale:
                return str(current)
            if self._redis.set(self._lock_key, owner, nx=True, px=int(self.lock_seconds * 1000)):
                try:
                    current = self._storage.get(self._key)  # refreshed while we queued for the lock
                    if current and current != stale:
                        return str(current)
                    token, expires_in = fetch()
                    ttl = max(1, int(_lifetime(expires_in, self.margin)))
                    self._storage.set(self._key, token, ttl)
                    return token
                finally:
                    self._redis.eval(_RELEASE, 1, self._lock_key, owner)
            if time.monotonic() > deadline:
                # The holder outlived its lock (stuck on the network): better a second fetch than none.
                log.warning("WeChat access token: refresh lock held too long, fetching here")
                token, _ = fetch()
                return token
            time.sleep(self.poll)


class _Client(WeChatClient):
    """wechatpy's client on a configurable base URL, without its unbounded token retries."""

    def __init__(self, appid: str, secret: str, base_url: str, timeout: float) -> None:
        super().__init__(appid, secret, timeout=timeout, auto_retry=False)
        # _request() reads API_BASE_URL from the instance: this overrides the class's default.
        self.API_BASE_URL = base_url

    def fetch_access_token(self) -> Any:
        """GET token from our base URL (wechatpy's own fetch has api.weixin.qq.com hard-coded)."""
        params = {"grant_type": "client_credential", "appid": self.appid, "secret": self.secret}
        response = self._http.get(self.API_BASE_URL + "token", params=params, timeout=self.timeout)
        try:
            response.raise_for_status()
        except requests.RequestException as error:
            raise WeChatClientException(
                None, None, client=self, request=error.request, response=error.response
            ) from error
        return self._handle_result(response)


class OfficialAccountAPI:
    """Sends customer-service and template messages for one Official Account."""

    def __init__(
        self,
        appid: str,
        secret: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        tokens: TokenCache | None = None,
        timeout: float = 5.0,
        attempts: int = 3,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not appid or not secret:
            raise ValueError("the Official Account API needs the appid and the appsecret")
        base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.appid = appid
        self.tokens: TokenCache = tokens or MemoryTokens()
        self.attempts, self.backoff, self._sleep = max(1, attempts), backoff, sleep
        self._client = _Client(appid, secret, base_url, timeout)

    @classmethod
    def from_environment(
        cls,
        appid: str | None = None,
        secret: str | None = None,
        environ: Mapping[str, str] = os.environ,
    ) -> OfficialAccountAPI | None:
        """The API of WECHAT_APPID with WECHAT_APPSECRET, tokens in REDIS_URL; None without both."""
        appid = appid or environ.get("WECHAT_APPID", "").strip()
        secret = secret or environ.get("WECHAT_APPSECRET", "").strip()
        if not appid or not secret:
            return None
        base_url = environ.get("WECHAT_API_BASE_URL", "").strip() or DEFAULT_BASE_URL
        redis_url = environ.get("REDIS_URL", "").strip()
        tokens: TokenCache = RedisTokens.from_url(redis_url, appid) if redis_url else MemoryTokens()
        return cls(appid, secret, base_url=base_url, tokens=tokens)

    @property
    def base_url(self) -> str:
        """Where the API is called (WECHAT_API_BASE_URL)."""
        return str(self._client.API_BASE_URL)

    def access_token(self, stale: str | None = None) -> str:
        """A valid access token: the shared one, or a new one when it is missing or `stale`."""
        current = self.tokens.get()
        if current is not None and current != stale:
            return current
        return self.tokens.refresh(self._fetch_token, stale)

    def send_text(self, openid: str, content: str) -> SendResult:
        """Send `content` to `openid` as a customer-service text message."""
        payload = {"touser": openid, "msgtype": "text", "text": {"content": content}}
        return self._send("message/custom/send", payload, "customer-service message")

    def send_template(
        self, openid: str, template_id: str, data: Mapping[str, Any], url: str | None = None
    ) -> SendResult:
        """Send a template message (`data`: {"keyword1": {"value": ...}, ...})."""
        payload: dict[str, Any] = {"touser": openid, "template_id": template_id, "data": dict(data)}
        if url:
            payload["url"] = url
        return self._send("message/template/send", payload, "template message")

    def _fetch_token(self) -> tuple[str, float]:
        try:
            result = self._client.fetch_access_token()
        except (WeChatClientException, requests.RequestException) as error:
            failure = _failure(error)
            detail = f"access token: {failure.detail}"
            raise ApiFailure(failure.errcode, detail, transient=failure.transient) from error
        if not isinstance(result, dict) or not result.get("access_token"):
            raise ApiFailure(None, "access token: unreadable answer", transient=True)
        log.info("WeChat access token fetched (expires in %s s)", result.get("expires_in"))
        return str(result["access_token"]), float(result.get("expires_in") or 7200)

    def _send(self, endpoint: str, payload: dict[str, Any], what: str) -> SendResult:
        calls = transient_failures = 0
        stale: str | None = None
        refreshed = False
        while True:
            try:
                token = self.access_token(stale)
                calls += 1
                self._client.post(endpoint, params={"access_token": token}, data=payload)
                log.info("WeChat %s sent", what)
                return SendResult(Outcome.SENT, 0, calls)
            except ApiFailure as failure:  # from the token endpoint
                error = failure
            except (WeChatClientException, requests.RequestException) as exc:
                error = _failure(exc)
                if error.errcode in TOKEN_INVALID:
                    if not refreshed:
                        log.info("WeChat access token rejected (%s): refreshing it once", error.errcode)
                        refreshed, stale = True, token
                        continue
                    log.error("WeChat %s failed: a fresh access token was rejected too (%s)", what, error)
                    return SendResult(Outcome.FAILED, error.errcode, calls)
                if error.errcode in OUTSIDE_WINDOW:
                    log.warning("WeChat %s not sent: the user wrote more than 48 h ago (%s)", what, error)
                    return SendResult(Outcome.OUTSIDE_WINDOW, error.errcode, calls)
                if error.errcode in QUOTA:
                    log.warning("WeChat %s not sent: quota used up (%s)", what, error)
                    return SendResult(Outcome.QUOTA, error.errcode, calls)
            if not error.transient:
                log.error("WeChat %s failed, not retried: %s", what, error)
                return SendResult(Outcome.FAILED, error.errcode, calls)
            transient_failures += 1
            if transient_failures >= self.attempts:
                log.error("WeChat %s failed after %d attempts: %s", what, transient_failures, error)
                return SendResult(Outcome.FAILED, error.errcode, calls)
            delay = self.backoff * 2 ** (transient_failures - 1)
            log.warning("WeChat %s: %s; retrying in %.1f s", what, error, delay)
            self._sleep(delay)


def _failure(error: Exception) -> ApiFailure:
    """What a wechatpy or requests exception means for a retry."""
    if isinstance(error, WeChatClientException) and error.errcode is not None:
        code = int(error.errcode)
        return ApiFailure(code, str(error.errmsg), transient=code in BUSY)
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None)
    if status is not None:
        # 5xx: WeChat's side; 429: slow down. Other statuses mean our request is wrong.
        return ApiFailure(None, f"HTTP {status}", transient=status >= 500 or status == 429)
    return ApiFailure(None, f"{type(error).__name__}: {_redact(str(error))}", transient=True)


def _redact(text: str) -> str:
    """`text` without the access token or the appsecret (requests puts the URL in its errors)."""
    return _SECRET_PARAMS.sub(r"\1=***", text)
