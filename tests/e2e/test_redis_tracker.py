"""With REDIS_URL, conversations live in Redis: a restarted Rasa server continues them."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import redis

from tests.e2e.conftest import LOG_DIR, chat_with, measures_in, port, require_model
from tools.stack import Stack

REDIS_DB = 12  # trackers in 12, locks in 13: away from anything else using this Redis


@pytest.fixture(scope="module")
def redis_stack(stack_db: str) -> Iterator[Stack]:
    require_model()
    client = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB)
    client.flushdb()
    stack = Stack(
        rasa_port=port(5305),
        action_port=port(5355),
        app_port=port(8300),
        log_dir=LOG_DIR,
        env={"DATABASE_URL": stack_db, "REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}"},
    )
    with stack:
        yield stack
    client.flushdb()


@pytest.mark.redis
def test_conversation_survives_a_rasa_restart(redis_stack: Stack) -> None:
    chat = chat_with(redis_stack.rasa_url)
    shown = [m["number"] for m in measures_in(chat("公司资金紧张，想找银行贷款"))]
    assert len(shown) >= 2
    keys = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB).keys("*")
    assert any(chat.sender.encode() in key for key in keys), keys  # type: ignore[attr-defined]

    redis_stack.stop_one("rasa")
    redis_stack.start_one("rasa")
    redis_stack.wait_ready()

    detail = measures_in(chat("第二条详细说说"))
    assert [m["number"] for m in detail] == [shown[1]]


@pytest.mark.redis
def test_the_tracker_in_redis_keeps_no_personal_data(redis_stack: Stack) -> None:
    chat = chat_with(redis_stack.rasa_url)
    phone, id_card = "13912345678", "110101199003074514"
    replies = chat(f"我是公司财务，手机{phone}，身份证{id_card}，想问留抵退税怎么办理，第25条")
    assert measures_in(replies)  # the bot answered from the raw text of the turn
    client = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB)
    # The conversation's tracker (a string key); the rate limiter keeps a sorted set per sender too.
    keys = [k for k in client.keys(f"*{chat.sender}*") if client.type(k) == b"string"]  # type: ignore[attr-defined]
    values = [client.get(key) for key in keys]
    assert values and all(values), "the conversation is stored"
    text = "".join(json.dumps(json.loads(v), ensure_ascii=False) for v in values)  # type: ignore[arg-type]
    assert phone not in text and id_card not in text
    assert "[手机号]" in text and "[身份证号]" in text and "25" in text
    assert "sentence_embedding" not in text
    assert 0 < int(client.ttl(keys[0])) <= 604800  # type: ignore[arg-type]
