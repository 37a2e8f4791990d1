"""A person's data end to end: masked for staff in the browser, and gone after "删除我的记录".

The whole stack runs with Redis trackers. A user sends a phone number and an ID number through
the widget's chat endpoint; staff see them masked on the insights page; the user asks to delete
their records; afterwards no table of the database and no Redis key or value holds the user's id,
and the day's aggregate counts on the insights page are what they were.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis
import sqlalchemy as sa
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import LOG_DIR, port, require_model, seeded_database
from tests.e2e.test_admin_to_bot import issue_admin_token
from tests.wechat.wechat_sim import ACCOUNT, WeChatSim, new_aes_key, text_xml, xml_fields
from tools.stack import Stack

pytestmark = [pytest.mark.redis, pytest.mark.browser]

REDIS_DB = 8  # trackers in 8, locks in 9
PHONE, ID_CARD = "13912345678", "110101199003074514"
WECHAT = WeChatSim(f"t{uuid.uuid4().hex[:12]}", new_aes_key(), f"wx{uuid.uuid4().hex[:16]}")


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return seeded_database(f"sqlite:///{tmp_path_factory.mktemp('privacy') / 'policy.db'}")


@pytest.fixture(scope="module")
def stack(database_url: str) -> Iterator[Stack]:
    require_model()
    for db in (REDIS_DB, REDIS_DB + 1):
        redis.Redis(host="127.0.0.1", port=6379, db=db).flushdb()
    running = Stack(
        rasa_port=port(5505),
        action_port=port(5555),
        app_port=port(8500),
        log_dir=LOG_DIR,
        env={
            "DATABASE_URL": database_url,
            "REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
            "WECHAT_TOKEN": WECHAT.token,
            "WECHAT_AES_KEY": WECHAT.aes_key or "",
            "WECHAT_APPID": WECHAT.appid or "",
        },
    )
    with running:
        yield running


def say(stack: Stack, sender: str, message: str) -> list[dict[str, Any]]:
    reply = httpx.post(
        f"{stack.app_url}/api/chat",
        json={"sender": sender, "message": message, "client_id": uuid.uuid4().hex},
        timeout=60,
    )
    reply.raise_for_status()
    return list(reply.json()["replies"])


def wechat_say(stack: Stack, openid: str, message: str, msg_id: int) -> str:
    """Send a text message the way WeChat does (safe mode) and return the passive reply's text."""
    query, body = WECHAT.encrypt(text_xml(message, msg_id=msg_id, openid=openid))
    response = httpx.post(f"{stack.rasa_url}/webhooks/wechat/webhook", params=query, content=body, timeout=30)
    assert response.status_code == 200, response.text
    fields = xml_fields(WECHAT.decrypt_reply(response.text))
    assert (fields["ToUserName"], fields["FromUserName"]) == (openid, ACCOUNT)
    return fields["Content"]


def rows_naming(database_url: str, needle: str) -> list[str]:
    """Every row of every table whose text (any column) contains `needle`."""
    engine = sa.create_engine(database_url)
    found = []
    try:
        with engine.connect() as connection:
            metadata = sa.MetaData()
            metadata.reflect(bind=connection)
            for table in metadata.sorted_tables:
                for row in connection.execute(sa.select(table)):
                    if needle in " ".join(str(v) for v in row):
                        found.append(f"{table.name}: {row}")
    finally:
        engine.dispose()
    return found


def redis_naming(needle: str) -> list[str]:
    found = []
    for db in (REDIS_DB, REDIS_DB + 1):
        client = redis.Redis(host="127.0.0.1", port=6379, db=db)
        for key in client.scan_iter():
            value = client.dump(key) or b""
            if needle.encode() in key or needle.encode() in value:
                found.append(f"db {db}: {key!r}")
    return found


def test_staff_see_masked_text_and_deletion_leaves_nothing(
    stack: Stack, database_url: str, chromium: Browser
) -> None:
    sender = f"privacy{uuid.uuid4().hex[:16]}"
    # No measure answers this; the unit is named, and the question is listed for staff (转责任单位).
    replies = say(stack, sender, f"我的手机{PHONE}，身份证{ID_CARD}，我想咨询下社保缴费基数")
    assert replies
    say(stack, sender, "留抵退税怎么办理")
    admin = issue_admin_token(database_url, name="隐私测试管理员")
    headers = {"Authorization": f"Bearer {admin}"}
    before = httpx.get(f"{stack.app_url}/api/admin/insights", headers=headers, timeout=30).json()

    context = chromium.new_context(locale="zh-CN", base_url=stack.app_url, bypass_csp=True)
    page = context.new_page()
    page.goto("/admin/insights")
    page.get_by_label("访问令牌").fill(admin)
    page.keyboard.press("Enter")
    expect(page.locator("#app")).to_contain_text("[手机号]")
    content = page.content()
    context.close()
    assert "[身份证号]" in content and PHONE not in content and ID_CARD not in content

    assert rows_naming(database_url, sender) and redis_naming(sender)
    forgotten = say(stack, sender, "删除我的记录")
    assert "已删除" in " ".join(str(r.get("text", "")) for r in forgotten)

    assert rows_naming(database_url, sender) == []
    assert redis_naming(sender) == []
    assert rows_naming(database_url, PHONE) == [] and rows_naming(database_url, ID_CARD) == []
    after = httpx.get(f"{stack.app_url}/api/admin/insights", headers=headers, timeout=30).json()
    assert after["totals"] == before["totals"] and after["per_day"] == before["per_day"]


def test_the_widget_says_what_is_kept_before_the_first_message(stack: Stack, chromium: Browser) -> None:
    context = chromium.new_context(locale="zh-CN", base_url=stack.app_url)
    page = context.new_page()
    page.goto("/")
    notice = page.locator("#privacy")
    notice.get_by_text("隐私说明").click()
    expect(notice).to_contain_text("180天")
    expect(notice).to_contain_text("删除我的记录")
    expect(notice).to_contain_text("遮盖")
    context.close()


def test_a_wechat_follower_deletes_their_records_too(stack: Stack, database_url: str) -> None:
    openid = f"oPrivacy{uuid.uuid4().hex[:20]}"
    say(stack, f"warm{uuid.uuid4().hex[:8]}", "你好")  # the first turn of a fresh stack is slow
    msg_ids = iter(range(int(uuid.uuid4().int % 10**12), 10**13))
    answer = wechat_say(stack, openid, f"我手机{PHONE}，企业开办能全程网办吗", next(msg_ids))
    assert "第" in answer and "条" in answer
    wechat_say(stack, openid, "留抵退税怎么办理", next(msg_ids))
    admin = issue_admin_token(database_url, name="隐私测试管理员")
    headers = {"Authorization": f"Bearer {admin}"}
    before = httpx.get(f"{stack.app_url}/api/admin/insights", headers=headers, timeout=30).json()
    assert rows_naming(database_url, openid) and redis_naming(openid)
    assert rows_naming(database_url, PHONE) == []

    reply = wechat_say(stack, openid, "删除我的记录", next(msg_ids))

    assert "已删除" in reply
    assert rows_naming(database_url, openid) == []
    assert redis_naming(openid) == []
    after = httpx.get(f"{stack.app_url}/api/admin/insights", headers=headers, timeout=30).json()
    assert after["totals"] == before["totals"] and after["per_day"] == before["per_day"]
