"""The Rasa input channel `rest`, hardened for the public: validation, rate limit, never silence.

It keeps Rasa's REST contract (POST /webhooks/rest/webhook {"sender", "message", "metadata"}
→ a JSON list of bot messages) and replaces Rasa 3.6's stock RestInput, which
- answers a JSON body that is not an object with a bare 500 (`request.json.get`);
- answers 200 `[]` when a turn produced nothing: the action server is down ("the actions
  events are lost"), or the tracker/lock store failed — the user sees silence;
- has no per-sender limit.
Here a malformed body gets a 400 with a message, a sender over CHAT_RATE_LIMIT messages per
CHAT_RATE_WINDOW_SECONDS gets a 429 with Retry-After (counted in Redis when REDIS_URL is
set), and a turn without a reply gets a polite fallback that offers the service centre.
Streaming (`?stream=true`) is not offered: nothing of ours uses it.

Register it in credentials.yml under its module path (the URL stays /webhooks/rest/)::

    channels.rest.PublicRestInput:
"""

from __future__ import annotations

import logging
from asyncio import CancelledError
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.ratelimit import RateLimiter
from channels.texts import FALLBACK_TEXT, RATE_LIMITED_TEXT

logger = logging.getLogger(__name__)

MAX_SENDER_CHARS = 128
MAX_MESSAGE_CHARS = 10_000
# No buttons in the fallback: a button's turn would need the same action server that just failed.
FALLBACK = {"text": FALLBACK_TEXT}

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


class BadRequest(ValueError):
    """A request body the channel refuses, with the reason for the client."""


class PublicRestInput(InputChannel):
    """Rasa's REST channel contract with validation, a per-sender rate limit and no silent turns."""

    @classmethod
    def name(cls) -> str:
        """The channel name: routes live under /webhooks/rest/, as with Rasa's own channel."""
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> PublicRestInput:
        """Build the channel; the rate limit comes from the environment, like the app's."""
        return cls(RateLimiter.from_environment(scope="rest"))

    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        """The Sanic routes: a health check and the webhook."""
        bp = Blueprint("public_rest_webhook", __name__)

        @bp.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @bp.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            return await self._receive(request, on_new_message)

        return bp

    async def _receive(self, request: Request, on_new_message: OnNewMessage) -> HTTPResponse:
        try:
            sender, text, metadata = parse_body(request)
        except BadRequest as error:
            return response.json({"error": str(error)}, status=400)
        wait = self.limiter.hit(sender)
        if wait:
            return response.json({"error": RATE_LIMITED_TEXT}, status=429, headers={"Retry-After": str(wait)})
        collector = CollectingOutputChannel()
        try:
            await on_new_message(
                UserMessage(text, collector, sender, input_channel=self.name(), metadata=metadata)
            )
        except CancelledError:
            logger.error("REST turn of %s timed out", sender)
        except Exception:
            logger.exception("REST turn of %s failed", sender)
        if not collector.messages:
            # Rasa logs the cause (action server or tracker store unreachable) but sends nothing.
            logger.warning("REST turn of %s produced no reply: sending the fallback", sender)
            return response.json([{"recipient_id": sender, **FALLBACK}])
        return response.json(collector.messages)


def parse_body(request: Request) -> tuple[str, str, dict[str, Any] | None]:
    """Sender, message text and metadata of a webhook body, or BadRequest saying what is wrong."""
    try:
        body = request.json
    except Exception as error:  # Sanic raises its own BadRequest for invalid JSON
        raise BadRequest('body must be JSON: {"sender": ..., "message": ...}') from error
    if not isinstance(body, dict):
        raise BadRequest('body must be a JSON object: {"sender": ..., "message": ...}')
    sender, text, metadata = body.get("sender"), body.get("message"), body.get("metadata")
    if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_CHARS:
        raise BadRequest(f"sender must be a non-empty string of at most {MAX_SENDER_CHARS} characters")
    if not isinstance(text, str):
        raise BadRequest("message must be a string")
    if len(text) > MAX_MESSAGE_CHARS:
        raise BadRequest(f"message must be at most {MAX_MESSAGE_CHARS} characters")
    if metadata is not None and not isinstance(metadata, dict):
        raise BadRequest("metadata must be a JSON object")
    return sender, text, metadata
