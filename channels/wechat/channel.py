"""The Rasa input channel `wechat`: a WeChat Official Account server-side endpoint.

Routes (under Rasa's /webhooks/wechat/): GET `/` health, GET|POST `/webhook` for WeChat.
Register it in credentials.yml::

    channels.wechat.WeChatInput:
      token: ${WECHAT_TOKEN}
      aes_key: ${WECHAT_AES_KEY}   # optional: safe mode (EncodingAESKey, 43 characters)
      appid: ${WECHAT_APPID}       # required with aes_key, and to send late answers

Answers slower than WeChat's three deliveries (~15 s) are sent as customer-service messages when
they are ready; that needs the appid and WECHAT_APPSECRET (optionally WECHAT_API_BASE_URL).

Rasa aborts start-up when a `${VAR}` in credentials.yml is unset, so either export the
variables (empty is fine) or leave keys out: a missing or empty key falls back to the
environment variable. Without a token the channel stays up but answers 503.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from wechatpy.messages import BaseMessage

from channels.ratelimit import RateLimiter
from channels.texts import (
    FALLBACK_TEXT,
    WECHAT_EMPTY_TEXT,
    WECHAT_LATE_REPLY,
    WECHAT_LATE_REPLY_UNSENT,
    WECHAT_RATE_LIMITED,
    WECHAT_TEXT_ONLY,
    WECHAT_WELCOME,
)
from channels.wechat.formatting import format_reply
from channels.wechat.official_api import OfficialAccountAPI
from channels.wechat.protocol import (
    Incoming,
    WeChatProtocol,
    WeChatRequestError,
    dedupe_key,
    is_event,
    resolve_setting,
)
from channels.wechat.state import RecentButtons, ReplyCache, SendLater, SharedReplies

logger = logging.getLogger(__name__)

WELCOME_EVENTS = {"subscribe", "subscribe_scan"}

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


class WeChatInput(InputChannel):
    """Rasa input channel for a WeChat Official Account (plain and safe mode)."""

    @classmethod
    def name(cls) -> str:
        """The channel name: routes live under /webhooks/wechat/."""
        return "wechat"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WeChatInput:
        """Build the channel from its credentials.yml section (or the WECHAT_* variables)."""
        credentials = credentials or {}
        return cls(
            token=resolve_setting(credentials, "token", "WECHAT_TOKEN"),
            aes_key=resolve_setting(credentials, "aes_key", "WECHAT_AES_KEY"),
            appid=resolve_setting(credentials, "appid", "WECHAT_APPID"),
            appsecret=resolve_setting(credentials, "appsecret", "WECHAT_APPSECRET"),
        )

    def __init__(
        self,
        token: str | None,
        aes_key: str | None = None,
        appid: str | None = None,
        appsecret: str | None = None,
        *,
        replies: ReplyCache | None = None,
        limiter: RateLimiter | None = None,
        api: OfficialAccountAPI | None = None,
    ) -> None:
        self.protocol = WeChatProtocol(token, aes_key, appid) if token else None
        if self.protocol is None:
            logger.warning("WeChat channel has no token (WECHAT_TOKEN): its webhook answers 503")
        # Sends the answers that come after WeChat's last delivery (customer-service messages).
        self.api = api or OfficialAccountAPI.from_environment(appid=appid, secret=appsecret)
        if self.protocol is not None and self.api is None:
            logger.warning(
                "WeChat channel has no WECHAT_APPID/WECHAT_APPSECRET: answers slower than WeChat's "
                "three deliveries (~15 s) cannot be sent later; the user is told they are delayed"
            )
        self.replies = replies or ReplyCache(
            late_reply=WECHAT_LATE_REPLY,
            unsent_late_reply=WECHAT_LATE_REPLY_UNSENT,
            shared=SharedReplies.from_environment(),
        )
        self.buttons = RecentButtons()
        # WeChat's servers retry any answer but 200 and then show the user an error page, so
        # a sender over the limit gets a polite text reply here rather than an HTTP 429.
        self.limiter = limiter or RateLimiter.from_environment(scope="wechat")

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        """The Sanic routes: a health check and the WeChat webhook."""
        bp = Blueprint("wechat_webhook", __name__)

        @bp.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok", "configured": self.protocol is not None})

        @bp.route("/webhook", methods=["GET", "POST"])
        async def webhook(request: Request) -> HTTPResponse:
            return await self._handle(request, on_new_message)

        return bp

    async def _handle(self, request: Request, on_new_message: OnNewMessage) -> HTTPResponse:
        if self.protocol is None:
            return response.text("wechat channel is not configured", status=503)
        query = {key: request.args.get(key) for key in request.args}
        try:
            if request.method == "GET":
                return response.text(self.protocol.handshake(query))
            incoming = self.protocol.parse(query, request.body)
        except WeChatRequestError as exc:
            logger.warning("WeChat request refused (%s): %s", exc.status, exc)
            return response.text(str(exc), status=exc.status)
        content = await self._reply_content(incoming, on_new_message)
        if content is None:
            # "success" tells WeChat there is nothing to show and nothing to retry.
            return response.text("success")
        xml = self.protocol.render_text(incoming, content)
        return response.text(xml, content_type="application/xml; charset=utf-8")

    async def _reply_content(self, incoming: Incoming, on_new_message: OnNewMessage) -> str | None:
        message = incoming.message
        if is_event(message):
            return WECHAT_WELCOME if getattr(message, "event", "") in WELCOME_EVENTS else None
        text = _message_text(message)
        if text is None:
            return WECHAT_TEXT_ONLY
        # Rasa reads "/intent{...}" as a ready-made intent; on WeChat only a button's
        # payload (see RecentButtons) may do that, never text the user typed.
        text = text.strip().lstrip("/").strip()
        if not text:
            return WECHAT_EMPTY_TEXT
        key = dedupe_key(message)
        return await self.replies.answer(
            key,
            lambda: self._bot_turn(message, text, on_new_message),
            self._sender_later(message.source, key),
        )

    def _sender_later(self, openid: str, key: str) -> SendLater | None:
        """How to send `openid` the answer its last delivery promised (WECHAT_LATE_REPLY)."""
        api = self.api
        if api is None:
            return None

        async def send(answer: str) -> None:
            # wechatpy is synchronous; its retries must not hold up the event loop.
            result = await asyncio.to_thread(api.send_text, openid, answer)
            logger.info("WeChat: late answer to %s: %s", key, result.outcome.value)

        return send

    async def _bot_turn(self, message: BaseMessage, text: str, on_new_message: OnNewMessage) -> str:
        sender = message.source
        # Counted inside the deduplicated turn: WeChat's retries of one message count once.
        wait = self.limiter.hit(sender)
        if wait:
            return WECHAT_RATE_LIMITED.format(wait=wait)
        collector = CollectingOutputChannel()
        user_message = UserMessage(
            self.buttons.payload_for(sender, text) or text,
            collector,
            sender_id=sender,
            input_channel=self.name(),
            metadata={"wechat": _metadata(message)},
        )
        try:
            await on_new_message(user_message)
        except Exception:
            # The turn runs detached from the request; a failure must still become a reply.
            logger.exception("WeChat: the bot failed on %s", dedupe_key(message))
            return FALLBACK_TEXT
        offered = [b for m in collector.messages for b in m.get("buttons") or []]
        self.buttons.remember(sender, offered)
        return format_reply(collector.messages)


def _message_text(message: BaseMessage) -> str | None:
    """The text to hand to the bot, or None for messages it cannot read."""
    if message.type == "text":
        return message.content or ""
    # With speech recognition switched on for the account, WeChat sends the transcript.
    if message.type == "voice" and message.recognition:
        return message.recognition
    return None


def _metadata(message: BaseMessage) -> dict[str, Any]:
    return {
        "openid": message.source,
        "account": message.target,
        "msg_id": message.id,
        "create_time": message.time,
    }
