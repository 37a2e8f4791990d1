"""A socket.io chat user, run with .venv-rasa's python (python-socketio lives there).

    python socketio_client.py URL SESSION_ID MESSAGE...          one turn after another
    python socketio_client.py URL SESSION_ID --burst N MESSAGE   N copies sent at once

Prints one JSON line: for each turn, the bot messages received until the bot is quiet (a burst
is one "turn" holding everything received).
"""

from __future__ import annotations

import asyncio
import json
import sys

import socketio

QUIET_SECONDS = 1.5
TURN_TIMEOUT_SECONDS = 60


async def until_quiet(received: asyncio.Queue[dict], quiet: float) -> list[dict]:
    """Everything the bot says until it has been silent for `quiet` seconds."""
    messages: list[dict] = []
    while True:
        try:
            messages.append(await asyncio.wait_for(received.get(), quiet))
        except asyncio.TimeoutError:
            return messages


async def chat(url: str, session_id: str, messages: list[str], burst: bool = False) -> list[list[dict]]:
    """Send each message in turn (or all at once) and collect what the bot says."""
    client = socketio.AsyncClient()
    received: asyncio.Queue[dict] = asyncio.Queue()
    confirmed = asyncio.Event()
    client.on("bot_uttered", lambda data: received.put_nowait(data))
    client.on("session_confirm", lambda _: confirmed.set())
    # long-polling: engineio 4.15's websocket transport needs a newer aiohttp than Rasa pins
    await client.connect(url, transports=["polling"])
    await client.emit("session_request", {"session_id": session_id})
    await asyncio.wait_for(confirmed.wait(), 10)
    replies: list[list[dict]] = []
    if burst:
        for message in messages:
            await client.emit("user_uttered", {"message": message, "session_id": session_id})
            await asyncio.sleep(0.05)  # engine.io refuses a long-poll payload of > 16 packets
        replies.append(await until_quiet(received, 3 * QUIET_SECONDS))
    else:
        for message in messages:
            await client.emit("user_uttered", {"message": message, "session_id": session_id})
            first = await asyncio.wait_for(received.get(), TURN_TIMEOUT_SECONDS)
            replies.append([first, *await until_quiet(received, QUIET_SECONDS)])
    await client.disconnect()
    return replies


if __name__ == "__main__":
    url, session_id, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
    if rest[:1] == ["--burst"]:
        result = asyncio.run(chat(url, session_id, [rest[2]] * int(rest[1]), burst=True))
    else:
        result = asyncio.run(chat(url, session_id, rest))
    print(json.dumps(result, ensure_ascii=False))
