"""The Rasa input channel `socketio` with the REST channel's per-sender limit and fallback.

Rasa's SocketIOInput, unchanged on the wire (same events, session persistence, path), with
every user message passing two guards: a sender over CHAT_RATE_LIMIT messages per
CHAT_RATE_WINDOW_SECONDS gets a "too frequent" bot message instead of a turn, and a turn that
emitted nothing (action server or a store down) gets the polite fallback instead of silence.

credentials.yml::

    channels.socket_io.PublicSocketIOInput:
      user_message_evt: user_uttered
      bot_message_evt: bot_uttered
      session_persistence: true
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint

from channels.ratelimit import RateLimiter
from channels.texts import FALLBACK_TEXT, RATE_LIMITED_TEXT

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


class PublicSocketIOInput(SocketIOInput):
    """Rasa's socket.io channel behind a per-sender rate limit, never silent."""

    limiter: RateLimiter | None = None  # set by from_credentials

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """Build the channel like Rasa's; the rate limit comes from the environment."""
        channel = super().from_credentials(credentials)
        assert isinstance(channel, PublicSocketIOInput)
        channel.limiter = RateLimiter.from_environment(scope="socketio")
        return channel

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        """Rasa's socket.io blueprint, handing each message through the guards."""
        return super().blueprint(self._guarded(on_new_message))

    def _guarded(self, on_new_message: OnNewMessage) -> OnNewMessage:
        async def guarded(message: UserMessage) -> None:
            output = message.output_channel
            if self.limiter is not None and self.limiter.hit(message.sender_id):
                await output.send_text_message(message.sender_id, RATE_LIMITED_TEXT)
                return
            sent = _count_responses(output)
            try:
                await on_new_message(message)
            except Exception:
                logger.exception("socket.io turn of %s failed", message.sender_id)
            if not sent:
                logger.warning(
                    "socket.io turn of %s produced no reply: sending the fallback", message.sender_id
                )
                await output.send_text_message(message.sender_id, FALLBACK_TEXT)

        return guarded


def _count_responses(output: OutputChannel) -> list[dict[str, Any]]:
    """The bot messages `output` sends from now on, collected as they go out."""
    sent: list[dict[str, Any]] = []
    send_response = output.send_response

    async def counting(recipient_id: str, message: dict[str, Any]) -> None:
        sent.append(message)
        await send_response(recipient_id, message)

    output.send_response = counting  # type: ignore[method-assign]
    return sent
