"""WeChat Official Account message protocol: signatures, safe mode, parsing, passive replies.

Pure logic on wechatpy (no Rasa import), so it is testable in any environment that has
wechatpy. Protocol reference: the Official Account "消息加解密" and "被动回复用户消息" docs.
"""

from __future__ import annotations

import binascii
import logging
import os
import re
import struct
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from xml.parsers.expat import ExpatError

from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.messages import BaseMessage
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

logger = logging.getLogger(__name__)

# WeChat does not publish a replay window; 5 minutes tolerates clock drift between
# WeChat's servers and ours while keeping a captured request from being replayed later.
MAX_CLOCK_SKEW_SECONDS = 300
# Real messages are a few hundred bytes; refuse to parse anything absurdly large.
MAX_BODY_BYTES = 64 * 1024

# Everything a broken or hostile body can raise inside xmltodict / wechatpy's AES code.
_PARSE_ERRORS = (ExpatError, KeyError, ValueError, TypeError, AttributeError, struct.error)
_UNEXPANDED = re.compile(r"^\$\{\w+\}$")


class WeChatRequestError(Exception):
    """A request the connector refuses; `status` is the HTTP status to answer with."""

    status = 400


class InvalidSignature(WeChatRequestError):
    """The request was not signed with our token (forged, or a token mismatch)."""

    status = 403


class StaleRequest(WeChatRequestError):
    """The signed timestamp is outside the accepted window: a replay or a broken clock."""

    status = 403


class MalformedMessage(WeChatRequestError):
    """The body is not a WeChat message we can read."""

    status = 400


@dataclass(frozen=True)
class Incoming:
    """A verified, decrypted WeChat message and how to answer it."""

    message: BaseMessage
    encrypted: bool
    nonce: str


class WeChatProtocol:
    """Verifies, parses and answers the requests WeChat sends to one Official Account."""

    def __init__(
        self,
        token: str,
        aes_key: str | None = None,
        appid: str | None = None,
        *,
        max_clock_skew: float = MAX_CLOCK_SKEW_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not token:
            raise ValueError("a WeChat token is required")
        if aes_key and not appid:
            # wechatpy compares the appid embedded in every ciphertext with ours, so safe
            # mode cannot work without it (every message would fail as InvalidAppId).
            raise ValueError("safe mode (aes_key) also needs the account's appid")
        self.token = token
        self._crypto = _crypto(token, aes_key, appid) if aes_key else None
        self._max_clock_skew = max_clock_skew
        self._clock = clock

    @property
    def safe_mode(self) -> bool:
        """Whether an EncodingAESKey is configured."""
        return self._crypto is not None

    def verify(self, query: Mapping[str, str]) -> None:
        """Check the query's signature over (token, timestamp, nonce) and the timestamp's age."""
        signature = query.get("signature")
        timestamp = query.get("timestamp", "")
        if not signature:
            raise InvalidSignature("missing signature")
        try:
            check_signature(self.token, signature, timestamp, query.get("nonce", ""))
        except InvalidSignatureException as exc:
            raise InvalidSignature("bad signature") from exc
        try:
            age = self._clock() - int(timestamp)
        except ValueError as exc:
            raise StaleRequest("timestamp is not a number") from exc
        if abs(age) > self._max_clock_skew:
            raise StaleRequest(f"timestamp is {age:.0f} s off")

    def handshake(self, query: Mapping[str, str]) -> str:
        """Answer the server-configuration check: the echostr of a correctly signed GET."""
        self.verify(query)
        # For Official Accounts the echostr is plain text even in safe mode.
        return query.get("echostr", "")

    def parse(self, query: Mapping[str, str], body: bytes) -> Incoming:
        """Verify a POST and return its message, decrypting safe-mode bodies."""
        self.verify(query)
        if len(body) > MAX_BODY_BYTES:
            raise MalformedMessage("body too large")
        encrypted = query.get("encrypt_type", "raw").lower() == "aes"
        try:
            xml = self._decrypt(query, body) if encrypted else body.decode("utf-8")
            message = parse_message(xml)
        except (InvalidSignatureException, InvalidAppIdException) as exc:
            raise InvalidSignature("bad msg_signature or appid") from exc
        except (*_PARSE_ERRORS, binascii.Error) as exc:
            raise MalformedMessage(f"unreadable message: {exc!r}") from exc
        if message is None or not message.source:
            raise MalformedMessage("empty message")
        return Incoming(message=message, encrypted=encrypted, nonce=query.get("nonce", ""))

    def _decrypt(self, query: Mapping[str, str], body: bytes) -> str:
        if self._crypto is None:
            raise MalformedMessage("safe-mode message but no aes_key is configured")
        return self._crypto.decrypt_message(
            body, query.get("msg_signature", ""), query.get("timestamp", ""), query.get("nonce", "")
        )

    def render_text(self, incoming: Incoming, content: str) -> str:
        """The passive text reply XML to `incoming`, encrypted when the request was."""
        # wechatpy wraps Content in CDATA without escaping; a "]]>" would end it early.
        safe_content = content.replace("]]>", "]] >")
        xml = TextReply(message=incoming.message, content=safe_content).render()
        if not incoming.encrypted or self._crypto is None:
            return xml
        timestamp = str(int(self._clock()))
        return self._crypto.encrypt_message(xml, incoming.nonce, timestamp)


def _crypto(token: str, aes_key: str, appid: str | None) -> WeChatCrypto:
    try:
        return WeChatCrypto(token, aes_key, appid)
    except (AssertionError, ValueError) as exc:  # wechatpy asserts a 32-byte key
        raise ValueError("aes_key must be the 43-character EncodingAESKey") from exc


def is_event(message: BaseMessage) -> bool:
    """Whether WeChat pushed an event (subscribe, menu click, ...) rather than a user message."""
    # wechatpy parses event types it does not know as UnknownMessage; MsgType still says so.
    raw_type = getattr(message, "_data", {}).get("MsgType")
    return message.type == "event" or str(raw_type).lower() == "event"


def dedupe_key(message: BaseMessage) -> str:
    """The key WeChat's retries of one delivery share: MsgId, or sender + CreateTime for events."""
    # WeChat's docs: dedupe messages by MsgId, events by FromUserName + CreateTime.
    if message.id:
        return f"msg:{message.id}"
    return f"event:{message.source}:{message.time}:{getattr(message, 'event', '')}"


def resolve_setting(
    credentials: Mapping[str, object],
    key: str,
    env_var: str,
    environ: Mapping[str, str] = os.environ,
) -> str | None:
    """A credentials.yml value, falling back to `env_var` when it is missing or empty."""
    value = credentials.get(key)
    text = "" if value is None else str(value).strip()
    if _UNEXPANDED.match(text):
        # Rasa expands ${VAR} only in unquoted YAML scalars; a quoted one arrives as is.
        logger.warning("WeChat credential %r is an unexpanded %s; using $%s", key, text, env_var)
        text = ""
    return text or environ.get(env_var, "").strip() or None
