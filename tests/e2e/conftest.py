"""The real stack for end-to-end tests: trained Rasa model, action server and app, own ports and database."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, sync_playwright

from policy_db.config import PROJECT_ROOT
from tests.conftest import database_urls, make_runtime
from tools.stack import MODEL, RASA_BIN, Stack

LOG_DIR = PROJECT_ROOT / "var" / "log" / "test"
SOCKETIO_CLIENT = Path(__file__).with_name("socketio_client.py")
# Shift every port of the test stacks, so two checkouts can run their suites side by side.
PORT_OFFSET = int(os.environ.get("E2E_PORT_OFFSET", "0"))


def port(base: int) -> int:
    """A test stack's port, shifted by E2E_PORT_OFFSET."""
    return base + PORT_OFFSET


def require_model() -> None:
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make train` (make test does it first)")


def seeded_database(database_url: str) -> str:
    """`database_url` migrated and seeded, with the seed texts' vectors stored as after a first start.

    A stack on it starts without embedding anything: otherwise its app and action server would
    each embed the whole catalogue first (about a minute apiece on two cores).
    """
    with tempfile.TemporaryDirectory() as tmp:
        make_runtime(database_url, Path(tmp)).database.dispose()
    return database_url


def seeded_schema(tmp: Path) -> Iterator[str]:
    """A PostgreSQL schema of its own, seeded like `seeded_database`, dropped afterwards."""
    urls = database_urls(tmp, "postgres")
    yield seeded_database(next(urls))
    next(urls, None)


@pytest.fixture(scope="session")
def stack_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The end-to-end stack's own SQLite database, seeded."""
    return seeded_database(f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'policy.db'}")


RASA_TOKEN = "e2e-rasa-api-token"  # the stack runs as production should: Rasa's API locked


@pytest.fixture(scope="session")
def bot_stack(stack_db: str) -> Iterator[Stack]:
    """Rasa (:5205), actions (:5255) and app (:8200) with the in-memory tracker store."""
    require_model()
    stack = Stack(
        rasa_port=port(5205),
        action_port=port(5255),
        app_port=port(8200),
        log_dir=LOG_DIR,
        env={"DATABASE_URL": stack_db, "REDIS_URL": "", "RASA_AUTH_TOKEN": RASA_TOKEN},
    )
    with stack:
        yield stack


@contextmanager
def app_alone(database: str, *, app_port: int, rasa_port: int, action_port: int) -> Iterator[Stack]:
    """The app alone on a database (Rasa and actions not started), ready, stopped afterwards."""
    stack = Stack(
        rasa_port=port(rasa_port),
        action_port=port(action_port),
        app_port=port(app_port),
        log_dir=LOG_DIR,
        env={"DATABASE_URL": database, "REDIS_URL": ""},
    )
    stack.start(only=("app",))
    try:
        stack.wait_ready()
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def app_stack(stack_db: str) -> Iterator[Stack]:
    """The app alone (:8210) on the end-to-end database, for pages that never ask the bot.

    No trained model needed: the staff console, admin and insights pages only call the app's API.
    """
    with app_alone(stack_db, app_port=8210, rasa_port=5215, action_port=5265) as stack:
        yield stack


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, driven by Playwright (no downloaded browsers, no network)."""
    if not CHROMIUM.exists():
        pytest.fail("no /usr/bin/chromium: run scripts/ensure-chromium.sh")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


Chat = Callable[[str], list[dict[str, Any]]]


def chat_with(rasa_url: str, sender: str | None = None) -> Chat:
    """A conversation: each call sends one message from the same sender and returns the replies."""
    sender = sender or f"test-{uuid.uuid4().hex[:10]}"
    client = httpx.Client(base_url=rasa_url, timeout=60)

    def send(message: str) -> list[dict[str, Any]]:
        response = client.post("/webhooks/rest/webhook", json={"sender": sender, "message": message})
        response.raise_for_status()
        return list(response.json())

    send.sender = sender  # type: ignore[attr-defined]
    return send


@pytest.fixture
def chat(bot_stack: Stack) -> Chat:
    """A new conversation with the running bot."""
    return chat_with(bot_stack.rasa_url)


def measures_in(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The measures of the first `measures` payload in a reply (empty when none)."""
    for message in messages:
        custom = message.get("custom")
        if isinstance(custom, dict) and custom.get("type") == "measures":
            return list(custom["measures"])
    return []


def units_in(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The units of a `units` payload in a reply (empty when none)."""
    for message in messages:
        custom = message.get("custom")
        if isinstance(custom, dict) and custom.get("type") == "units":
            return list(custom["units"])
    return []


def text_of(messages: list[dict[str, Any]]) -> str:
    """All reply texts joined."""
    return "\n".join(str(m.get("text") or "") for m in messages)


def log_path(name: str) -> Path:
    return LOG_DIR / name


def socketio_chat(stack: Stack, session_id: str, *args: str) -> list[list[dict[str, Any]]]:
    """Talk to Rasa's socket.io channel (the client runs in .venv-rasa, where python-socketio is)."""
    run = subprocess.run(
        [str(RASA_BIN / "python"), str(SOCKETIO_CLIENT), stack.rasa_url, session_id, *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    return json.loads(run.stdout)
