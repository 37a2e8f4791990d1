"""Faults in a running stack: Redis gone, action server gone, database unreachable, restarts.

The stack has its own Redis server (a subprocess on a spare port, killed mid-run: the shared
Redis stays up for everyone else) and reaches its PostgreSQL schema through a TCP proxy in this
process, so "the database is unreachable" is one `proxy.stop()` away.

What a user must see in every case: an answer or a polite message; never silence, a 500
or a traceback. Rasa 3.6.21 itself answers 200 `[]` when the tracker or lock store is down or
the action server is gone (the custom action's events are dropped: "Bot will continue, but the
actions events are lost"); our REST channel (channels/rest.py) turns a turn without a reply
into a polite fallback that offers the service centre, and the widget shows it.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.conftest import POSTGRES_URL
from tests.e2e.conftest import (
    LOG_DIR,
    chat_with,
    measures_in,
    port,
    require_model,
    seeded_schema,
    socketio_chat,
    text_of,
)
from tests.e2e.test_admin_to_bot import issue_admin_token
from tools.stack import Stack

pytestmark = [pytest.mark.bot, pytest.mark.postgres]


class OwnRedis:
    """A throw-away redis-server on its own port, which a test may kill and start again."""

    def __init__(self, redis_port: int) -> None:
        self.port = redis_port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the server (no persistence) and wait until it accepts connections."""
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1):
            raise RuntimeError(f"port {self.port} is taken: set E2E_PORT_OFFSET")
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_port(self.port)

    def kill(self) -> None:
        """SIGKILL: the server is gone at once, as in a crash."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


class TcpProxy:
    """Forwards 127.0.0.1:listen_port to target_port; `stop` cuts every connection."""

    def __init__(self, listen_port: int, target_port: int) -> None:
        self.listen_port, self.target_port = listen_port, target_port
        self._server: socket.socket | None = None
        self._sockets: list[socket.socket] = []

    def start(self) -> None:
        """Listen and forward until stopped."""
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.listen_port))
        server.listen(64)
        self._server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def stop(self) -> None:
        """Refuse new connections and reset the open ones: the database is unreachable."""
        if self._server is not None:
            with contextlib.suppress(OSError):  # wakes the blocked accept(); close alone does not
                self._server.shutdown(socket.SHUT_RDWR)
            self._server.close()
            self._server = None
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self._sockets.clear()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                return
            self._sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(source, sink), daemon=True).start()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    for sock in (source, sink):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _wait_for_port(number: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", number), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on port {number}")


@pytest.fixture(scope="module")
def schema_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The stack's own PostgreSQL schema (direct URL, for reading back), dropped afterwards."""
    yield from seeded_schema(tmp_path_factory.mktemp("faults"))


@pytest.fixture(scope="module")
def own_redis() -> Iterator[OwnRedis]:
    """The stack's private Redis server."""
    server = OwnRedis(port(5991))
    server.start()
    yield server
    server.kill()


@pytest.fixture(scope="module")
def proxy() -> Iterator[TcpProxy]:
    """The stack's only way to PostgreSQL."""
    forwarder = TcpProxy(port(5992), sa.engine.make_url(POSTGRES_URL).port or 5432)
    forwarder.start()
    yield forwarder
    forwarder.stop()


@pytest.fixture(scope="module")
def fault_stack(schema_url: str, own_redis: OwnRedis, proxy: TcpProxy) -> Iterator[Stack]:
    """Rasa (:5931), actions (:5981), app (:8931) on the private Redis and the proxied database."""
    require_model()
    proxied = schema_url.replace(":5432/", f":{proxy.listen_port}/")
    assert proxied != schema_url
    stack = Stack(
        rasa_port=port(5931),
        action_port=port(5981),
        app_port=port(8931),
        log_dir=LOG_DIR,
        env={"DATABASE_URL": proxied, "REDIS_URL": f"redis://127.0.0.1:{own_redis.port}/0"},
    )
    with stack:
        yield stack


def widget(stack: Stack, message: str, sender: str | None = None) -> httpx.Response:
    """One message through the app's /api/chat, as the web widget sends it."""
    sender = sender or f"faults-{uuid.uuid4().hex[:12]}"
    return httpx.post(
        f"{stack.app_url}/api/chat",
        timeout=90,
        json={"sender": sender, "message": message, "client_id": uuid.uuid4().hex},
    )


def rasa_rest(stack: Stack, message: str) -> httpx.Response:
    """One message straight to Rasa's REST channel."""
    return httpx.post(
        f"{stack.rasa_url}/webhooks/rest/webhook",
        timeout=90,
        json={"sender": f"faults-{uuid.uuid4().hex[:12]}", "message": message},
    )


def rasa_log(stack: Stack) -> str:
    """What the stack's Rasa server has logged so far."""
    assert stack.log_dir is not None
    return (stack.log_dir / f"rasa-{stack.rasa_port}.log").read_text(errors="replace")


def health(stack: Stack) -> httpx.Response:
    """The app's /health."""
    return httpx.get(f"{stack.app_url}/health", timeout=30)


def answers_with_measures(stack: Stack, timeout: float = 30.0) -> list[dict[str, Any]]:
    """Ask through the widget until the bot cites measures again (after a recovery)."""
    deadline = time.monotonic() + timeout
    while True:
        replies = widget(stack, "留抵退税能退吗").json()["replies"]
        if measures_in(replies) or time.monotonic() > deadline:
            return replies
        time.sleep(1)


def is_fallback(replies: list[dict[str, Any]]) -> bool:
    """One apology that offers the service centre's hotline, and no measure pretending to answer."""
    return (
        len(replies) == 1
        and "抱歉" in text_of(replies)
        and "12345" in text_of(replies)
        and not measures_in(replies)
    )


def assert_polite_fallback(response: httpx.Response) -> None:
    """Rasa's REST channel itself answered politely instead of with silence (`[]`)."""
    assert response.status_code == 200 and is_fallback(response.json()), response.text


def test_redis_down_the_bot_keeps_answering_and_health_says_degraded(
    fault_stack: Stack, own_redis: OwnRedis
) -> None:
    assert health(fault_stack).json()["redis"] == "ok"
    assert measures_in(widget(fault_stack, "留抵退税能退吗").json()["replies"])

    own_redis.kill()
    body = health(fault_stack).json()
    assert (body["status"], body["redis"], body["database"]) == ("degraded", "down", "ok")
    # Degraded, not down: locks fall back to process memory, trackers to Rasa's in-memory store.
    direct = rasa_rest(fault_stack, "留抵退税能退吗")
    assert direct.status_code == 200 and measures_in(direct.json()), direct.text
    assert measures_in(widget(fault_stack, "不动产登记要多久").json()["replies"])
    assert "Redis lock store unreachable" in rasa_log(fault_stack)

    own_redis.start()
    assert measures_in(answers_with_measures(fault_stack))
    assert health(fault_stack).json()["status"] == "ok"
    # Back on Redis: a conversation's context is stored again, so a follow-up resolves.
    sender = f"faults-{uuid.uuid4().hex[:12]}"
    first = measures_in(widget(fault_stack, "企业融资有哪些支持", sender).json()["replies"])
    detail = measures_in(widget(fault_stack, "第二条详细说说", sender).json()["replies"])
    assert len(first) >= 2 and [m["number"] for m in detail] == [first[1]["number"]], detail
    assert "Redis lock store reachable again" in rasa_log(fault_stack)


def test_action_server_down_rasa_sends_a_polite_fallback(fault_stack: Stack) -> None:
    fault_stack.stop_one("actions")
    try:
        assert_polite_fallback(rasa_rest(fault_stack, "留抵退税能退吗"))
        response = widget(fault_stack, "留抵退税能退吗")
        assert response.status_code == 200 and is_fallback(response.json()["replies"])
        [turn] = socketio_chat(fault_stack, f"faults-{uuid.uuid4().hex[:12]}", "留抵退税能退吗")
        assert is_fallback(turn), turn
    finally:
        fault_stack.start_one("actions")
        fault_stack.wait_ready()
    assert measures_in(answers_with_measures(fault_stack))


def test_database_unreachable_api_answers_503_and_the_bot_apologises(
    fault_stack: Stack, proxy: TcpProxy
) -> None:
    proxy.stop()
    try:
        search = httpx.get(f"{fault_stack.app_url}/api/measures", params={"q": "贷款"}, timeout=60)
        assert search.status_code == 503 and "数据库" in search.json()["detail"]
        assert health(fault_stack).status_code == 503
        chat = widget(fault_stack, "留抵退税能退吗")
        assert chat.status_code == 503 and "数据库" in chat.json()["detail"]
        direct = rasa_rest(fault_stack, "留抵退税能退吗")
        assert direct.status_code == 200 and "抱歉" in text_of(direct.json())
        assert not measures_in(direct.json())
    finally:
        proxy.start()
    assert measures_in(answers_with_measures(fault_stack))
    assert health(fault_stack).json()["status"] == "ok"


def _rated_conversation(stack: Stack) -> str:
    chat = chat_with(stack.rasa_url)
    assert measures_in(chat("留抵退税能退吗"))
    assert "谢谢" in text_of(chat('/rate{"rating":"满意"}'))
    return str(chat.sender)  # type: ignore[attr-defined]


def _edit_measure(stack: Stack, headers: dict[str, str], number: int, text: str) -> int:
    url = f"{stack.app_url}/api/measures/1/{number}"
    version = httpx.get(url, timeout=30).json()["version"]
    response = httpx.patch(
        f"{stack.app_url}/api/admin/measures/1/{number}",
        json={"text": text},
        headers={**headers, "If-Match": str(version)},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return int(response.json()["version"])


def test_ratings_audit_and_edits_survive_restarts_of_app_and_actions(
    fault_stack: Stack, schema_url: str
) -> None:
    sender = _rated_conversation(fault_stack)
    headers = {"Authorization": f"Bearer {issue_admin_token(schema_url, '重启测试管理员')}"}
    text = f"重启之前的管理员修改（{uuid.uuid4().hex[:6]}）：企业可在线申请留抵退税，税务部门限时办结。"
    version = _edit_measure(fault_stack, headers, 25, text)

    for name in ("app", "actions"):
        fault_stack.stop_one(name)
        fault_stack.start_one(name)
    fault_stack.wait_ready()

    measure = httpx.get(f"{fault_stack.app_url}/api/measures/1/25", timeout=30).json()
    assert (measure["text"], measure["version"]) == (text, version)
    audit = httpx.get(
        f"{fault_stack.app_url}/api/admin/audit", params={"entity": "measure"}, headers=headers, timeout=30
    ).json()["items"]
    assert any(e["key"] == "1:25" and e["actor"] == "重启测试管理员" for e in audit), audit
    with sa.create_engine(schema_url).connect() as connection:
        ratings = (
            connection.execute(sa.text("SELECT rating FROM rating WHERE sender_id = :s"), {"s": sender})
            .scalars()
            .all()
        )
    assert ratings == ["满意"]
    # The running bot answers from the edited text after the restarts.
    cited = measures_in(chat_with(fault_stack.rasa_url)("留抵退税能退吗"))
    assert any(m["number"] == 25 and m["text"] == text for m in cited), cited
