"""The widget's chat endpoints: validation, retries answered once, history, rate limits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from fastapi.testclient import TestClient

from app.main import build_app
from channels.ratelimit import RateLimiter
from policy_db.runtime import Runtime

SENDER = "widget-test-sender-1"


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    # No Rasa listens on this port: the endpoint must still answer, with an apology.
    runtime.settings.rasa_url = "http://127.0.0.1:9"
    with TestClient(build_app(runtime, prepare=False)) as test_client:
        yield test_client


def send(client: TestClient, message: str, client_id: str, sender: str = SENDER):  # type: ignore[no-untyped-def]
    return client.post("/api/chat", json={"sender": sender, "message": message, "client_id": client_id})


def test_bot_down_gives_an_apology_not_an_error(client: TestClient) -> None:
    response = send(client, "留抵退税", "m1")
    assert response.status_code == 200 and "抱歉" in response.json()["replies"][0]["text"]


def test_a_retried_message_is_answered_once(client: TestClient) -> None:
    first = send(client, "留抵退税", "same-id").json()
    again = send(client, "留抵退税", "same-id").json()
    assert again["duplicate"] and again["replies"] == first["replies"]
    history = client.get(f"/api/chat/{SENDER}/history").json()["messages"]
    assert [m["role"] for m in history] == ["user", "bot"] and history[0]["text"] == "留抵退税"


@pytest.mark.parametrize(
    "body",
    [
        {"sender": SENDER, "message": "", "client_id": "a"},
        {"sender": SENDER, "message": "   ", "client_id": "b"},
        {"sender": SENDER, "message": "好" * 10_000, "client_id": "c"},
        {"sender": "x", "message": "你好", "client_id": "d"},
        {"sender": "bad sender with spaces", "message": "你好", "client_id": "e"},
        {"sender": SENDER, "message": "你好"},
    ],
)
def test_bad_messages_get_a_clear_422(client: TestClient, body: dict[str, str]) -> None:
    response = client.post("/api/chat", json=body)
    assert response.status_code == 422 and response.json()["detail"]


def test_malformed_json_and_wrong_content_type(client: TestClient) -> None:
    assert (
        client.post(
            "/api/chat", content=b"{not json", headers={"Content-Type": "application/json"}
        ).status_code
        == 422
    )
    assert (
        client.post("/api/chat", content=b"sender=a", headers={"Content-Type": "text/plain"}).status_code
        == 422
    )


def test_history_of_unknown_sender_is_empty_and_bad_sender_rejected(client: TestClient) -> None:
    assert client.get("/api/chat/nobody-here-yet/history").json()["messages"] == []
    assert client.get("/api/chat/a%20b/history").status_code == 422


def test_rate_limit_answers_429_with_retry_after(client: TestClient) -> None:
    client.app.state.chat_limiter = RateLimiter(limit=3, window=60, scope="widget")  # type: ignore[attr-defined]
    codes = [send(client, f"问题{i}", f"r{i}").status_code for i in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]
    limited = send(client, "再问一次", "r9")
    assert int(limited.headers["Retry-After"]) >= 1 and limited.json()["detail"]
    assert send(client, "别人的问题", "o1", sender="another-sender-2").status_code == 200


@pytest.mark.redis
def test_rate_limit_shared_through_redis() -> None:
    url = "redis://127.0.0.1:6379/14"
    redis.Redis.from_url(url).flushdb()
    first, second = (RateLimiter(2, 60, url, scope="widget") for _ in range(2))  # two processes
    assert [first.hit("s"), second.hit("s")] == [0, 0]
    assert first.hit("s") > 0 and second.hit("s") > 0
    assert RateLimiter(2, 60, url, scope="rest").hit("s") == 0, "each channel counts on its own"


def test_rate_limit_survives_redis_down() -> None:
    limiter = RateLimiter(1, 60, "redis://127.0.0.1:1/0", scope="widget")
    assert limiter.hit("s") == 0 and limiter.hit("s") > 0
