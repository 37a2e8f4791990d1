"""Hostile and odd input to the running stack: a polite reply or a clear 4xx, never a 500.

Every message goes both to Rasa's REST channel and through the app's /api/chat (what the widget
uses); the API endpoints get malformed bodies, wrong content types, oversized uploads and
unknown ids. Afterwards the measure table still holds the 100 seeded measures.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.e2e.conftest import RASA_TOKEN, socketio_chat, text_of
from tests.e2e.test_admin_to_bot import issue_admin_token
from tools.stack import Stack

pytestmark = [pytest.mark.bot]

MESSAGES = {
    "empty": "",
    "whitespace": " \t\n  　",
    "long": "我想了解一下贷款和税收优惠政策。" * 625,  # 10,000 characters
    "emoji": "😀🎉👍🚀💰",
    "mixed": "我想apply一个bank loan，有什么policy可以help我们公司吗？",
    "sql": "'; DROP TABLE measure; --",
    "script": "<script>alert('x')</script><img src=x onerror=alert(1)>",
}
REJECTED_BY_THE_APP = {"empty", "whitespace", "long"}  # 422: empty, or over 2,000 characters
MAX_DOCUMENT_BYTES = 1_000_000


def sender() -> str:
    """A new conversation id (each message its own sender, away from the rate limit)."""
    return f"bad-{uuid.uuid4().hex[:12]}"


def measure_count(database_url: str) -> int:
    """Rows in the measure table."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(sa.text("SELECT count(*) FROM measure")).scalar_one())
    finally:
        engine.dispose()


def no_traceback(response: httpx.Response) -> None:
    """Neither a server error nor a Python traceback leaks to the client."""
    assert response.status_code < 500, response.text
    assert "Traceback" not in response.text and 'File "' not in response.text


@pytest.fixture(scope="module")
def admin(bot_stack: Stack, stack_db: str) -> dict[str, str]:
    """An admin's Authorization header for the stack."""
    return {"Authorization": f"Bearer {issue_admin_token(stack_db, '坏输入测试管理员')}"}


@pytest.mark.parametrize("kind", MESSAGES)
def test_rasa_rest_answers_every_message_politely(bot_stack: Stack, kind: str) -> None:
    response = httpx.post(
        f"{bot_stack.rasa_url}/webhooks/rest/webhook",
        timeout=120,
        json={"sender": sender(), "message": MESSAGES[kind]},
    )
    no_traceback(response)
    replies: list[dict[str, Any]] = response.json()
    assert response.status_code == 200 and text_of(replies).strip(), replies


@pytest.mark.parametrize("kind", MESSAGES)
def test_the_widget_endpoint_answers_or_rejects_clearly(bot_stack: Stack, kind: str) -> None:
    response = httpx.post(
        f"{bot_stack.app_url}/api/chat",
        timeout=120,
        json={"sender": sender(), "message": MESSAGES[kind], "client_id": uuid.uuid4().hex},
    )
    no_traceback(response)
    if kind in REJECTED_BY_THE_APP:
        assert response.status_code == 422 and response.json()["detail"]
    else:
        assert response.status_code == 200 and text_of(response.json()["replies"]).strip()


def test_injection_attempts_left_the_measures_alone(bot_stack: Stack, stack_db: str) -> None:
    injection = MESSAGES["sql"]
    no_traceback(
        httpx.post(
            f"{bot_stack.rasa_url}/webhooks/rest/webhook",
            timeout=120,
            json={"sender": sender(), "message": injection},
        )
    )
    no_traceback(
        httpx.post(
            f"{bot_stack.app_url}/api/chat",
            timeout=120,
            json={"sender": sender(), "message": injection, "client_id": uuid.uuid4().hex},
        )
    )
    for params in ({"q": injection}, {"unit": injection}, {"category": injection}):
        no_traceback(httpx.get(f"{bot_stack.app_url}/api/measures", params=params, timeout=60))
    assert measure_count(stack_db) == 100
    assert httpx.get(f"{bot_stack.app_url}/health", timeout=30).json()["measures"] == 100


MALFORMED = [
    (b"{not json", "application/json"),
    (b'{"sender": "bad-sender-0001", "message": ', "application/json"),
    (b"[1, 2, 3]", "application/json"),
    (b"sender=bad-sender-0001&message=hi", "application/x-www-form-urlencoded"),
    ("你好".encode("gbk"), "text/plain; charset=gbk"),
    (b"\x00\xff\xfe\x00", "application/octet-stream"),
]


@pytest.mark.parametrize(("content", "content_type"), MALFORMED)
def test_malformed_bodies_to_the_widget_endpoint_get_a_clear_422(
    bot_stack: Stack, content: bytes, content_type: str
) -> None:
    response = httpx.post(
        f"{bot_stack.app_url}/api/chat", content=content, headers={"Content-Type": content_type}, timeout=60
    )
    no_traceback(response)
    assert response.status_code == 422 and response.json()["detail"]


@pytest.mark.parametrize(("content", "content_type"), MALFORMED)
def test_malformed_bodies_to_rasa_rest_get_a_clear_400(
    bot_stack: Stack, content: bytes, content_type: str
) -> None:
    # Rasa's stock RestInput answers a JSON array with a 500 (`request.json.get`); ours says why.
    response = httpx.post(
        f"{bot_stack.rasa_url}/webhooks/rest/webhook",
        content=content,
        headers={"Content-Type": content_type},
        timeout=60,
    )
    no_traceback(response)
    assert response.status_code == 400 and response.json()["error"], response.text


@pytest.mark.parametrize(
    ("body", "wrong"),
    [
        ({"message": "你好"}, "sender"),
        ({"sender": "", "message": "你好"}, "sender"),
        ({"sender": "x" * 129, "message": "你好"}, "sender"),
        ({"sender": "bad-sender-0002", "message": 42}, "message"),
        ({"sender": "bad-sender-0003", "message": "你" * 10_001}, "message"),
        ({"sender": "bad-sender-0004", "message": "你好", "metadata": [1]}, "metadata"),
    ],
)
def test_rasa_rest_names_the_wrong_field(bot_stack: Stack, body: dict[str, Any], wrong: str) -> None:
    response = httpx.post(f"{bot_stack.rasa_url}/webhooks/rest/webhook", json=body, timeout=60)
    assert response.status_code == 400 and response.json()["error"].startswith(wrong), response.text


def test_rasa_rest_limits_each_sender_with_429_and_retry_after(bot_stack: Stack) -> None:
    flooder, bystander = sender(), sender()
    limit = 30  # CHAT_RATE_LIMIT's default, per 60 s
    codes = [
        httpx.post(
            f"{bot_stack.rasa_url}/webhooks/rest/webhook",
            timeout=60,
            json={"sender": flooder, "message": "/greet"},
        ).status_code
        for _ in range(limit + 2)
    ]
    assert codes[:limit] == [200] * limit and codes[limit:] == [429, 429]
    limited = httpx.post(
        f"{bot_stack.rasa_url}/webhooks/rest/webhook", timeout=60, json={"sender": flooder, "message": "你好"}
    )
    assert limited.status_code == 429 and 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.json()["error"]
    answered = httpx.post(
        f"{bot_stack.rasa_url}/webhooks/rest/webhook",
        timeout=60,
        json={"sender": bystander, "message": "你好"},
    )
    assert answered.status_code == 200 and text_of(answered.json())


def test_malformed_admin_bodies_get_a_clear_4xx(bot_stack: Stack, admin: dict[str, str]) -> None:
    url = f"{bot_stack.app_url}/api/admin/measures/1/25/examples"
    for content, content_type in (
        (b"{oops", "application/json"),
        (b"text=x", "text/plain"),
        (b'{"text": ""}', "application/json"),
        (b'{"text": 42}', "application/json"),
    ):
        response = httpx.post(
            url, content=content, timeout=60, headers={**admin, "Content-Type": content_type}
        )
        no_traceback(response)
        assert response.status_code == 422 and response.json()["detail"], response.text


def test_oversized_uploads_are_refused_with_413(bot_stack: Stack, admin: dict[str, str]) -> None:
    big = ("一、测试\n" + "甲" * (MAX_DOCUMENT_BYTES // 3 + 10)).encode("utf-8")
    assert len(big) > MAX_DOCUMENT_BYTES
    upload = httpx.post(
        f"{bot_stack.app_url}/api/admin/documents/upload",
        headers=admin,
        timeout=60,
        files={"file": ("big.txt", big, "text/plain")},
    )
    assert upload.status_code == 413 and upload.json()["detail"], upload.text
    posted = httpx.post(
        f"{bot_stack.app_url}/api/admin/documents",
        headers=admin,
        timeout=60,
        json={"text": big.decode("utf-8"), "slug": "big"},
    )
    no_traceback(posted)
    assert posted.status_code in (413, 422) and posted.json()["detail"]


def test_a_binary_file_named_txt_is_refused_clearly(bot_stack: Stack, admin: dict[str, str]) -> None:
    upload = httpx.post(
        f"{bot_stack.app_url}/api/admin/documents/upload",
        headers=admin,
        timeout=60,
        files={"file": ("plan.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20, "text/plain")},
    )
    assert upload.status_code in (415, 422) and "文件" in upload.json()["detail"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/measures/1/999"),
        ("GET", "/api/measures/999/1"),
        ("GET", "/api/measures/1/abc"),
        ("GET", "/api/measures/1/-3"),
        ("PATCH", "/api/admin/measures/1/999"),
        ("GET", "/api/admin/measures/1/999/examples"),
        ("DELETE", "/api/admin/measures/1/25/examples/999999"),
        ("DELETE", "/api/admin/tokens/999999"),
        ("DELETE", "/api/admin/synonyms/999999"),
        ("DELETE", "/api/admin/units/不存在的单位"),
        ("POST", "/api/admin/documents/999/retire"),
        ("PATCH", "/api/admin/categories/1/999"),
        ("GET", "/api/chat/bad%20sender/history"),
    ],
)
def test_unknown_ids_get_a_clear_4xx(bot_stack: Stack, admin: dict[str, str], method: str, path: str) -> None:
    headers = {**admin, "If-Match": "1"}
    body = {"text": "新的文字"} if method == "PATCH" else None
    response = httpx.request(method, f"{bot_stack.app_url}{path}", headers=headers, json=body, timeout=60)
    no_traceback(response)
    assert 400 <= response.status_code < 500 and response.json()["detail"], response.text


def test_rasa_api_needs_the_token_but_the_webhook_does_not(bot_stack: Stack) -> None:
    somebody = sender()
    answered = httpx.post(
        f"{bot_stack.rasa_url}/webhooks/rest/webhook",
        timeout=60,
        json={"sender": somebody, "message": "你好"},
    )
    assert answered.status_code == 200 and text_of(answered.json())
    tracker = f"{bot_stack.rasa_url}/conversations/{somebody}/tracker"
    assert httpx.get(tracker, timeout=30).status_code == 401
    assert httpx.get(tracker, params={"token": "wrong"}, timeout=30).status_code in (401, 403)
    events = httpx.post(
        f"{bot_stack.rasa_url}/conversations/{somebody}/tracker/events",
        json=[{"event": "restart"}],
        timeout=30,
    )
    assert events.status_code == 401, "nobody may rewrite a conversation without the token"
    with_token = httpx.get(tracker, params={"token": RASA_TOKEN}, timeout=30)
    assert with_token.status_code == 200 and with_token.json()["sender_id"] == somebody


def test_socketio_answers_and_limits_each_sender(bot_stack: Stack) -> None:
    [greeting, question] = socketio_chat(bot_stack, sender(), "你好", "留抵退税能退吗")
    assert "普陀" in text_of(greeting) and "第25条" in text_of(question)
    [flood] = socketio_chat(bot_stack, sender(), "--burst", "32", "/greet")
    limited = [m for m in flood if "太频繁" in str(m.get("text"))]
    assert len(limited) == 2, [m.get("text") for m in flood]
