"""Saving, viewing and cancelling an enterprise profile in conversation, on the widget and on WeChat.

The real stack (trained model, action server, app, its own SQLite database; WeChat in safe mode).
Widget turns go through the app's /api/chat as the widget sends them, quick replies by their
payloads; the WeChat follower types what the reply offers, as a follower does.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from policy_db.models import AuditEntry
from policy_db.push.profiles import CONSENT_TEXT, get_profile
from policy_db.topics import load_topics
from tests.e2e.conftest import LOG_DIR, port, require_model, seeded_database
from tests.wechat.wechat_sim import ACCOUNT, WeChatSim, new_aes_key, text_xml, xml_fields
from tools.stack import ROOT, Stack

pytestmark = pytest.mark.bot

WECHAT = WeChatSim(f"t{uuid.uuid4().hex[:12]}", new_aes_key(), f"wx{uuid.uuid4().hex[:16]}")
FINANCING = str(load_topics(ROOT / "seeds")["topic_financing"]["label"])
Replies = list[dict[str, Any]]


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return seeded_database(f"sqlite:///{tmp_path_factory.mktemp('subscriptions') / 'policy.db'}")


@pytest.fixture(scope="module")
def stack(database_url: str) -> Iterator[Stack]:
    require_model()
    running = Stack(
        rasa_port=port(5731),
        action_port=port(5781),
        app_port=port(8731),
        log_dir=LOG_DIR,
        env={
            "DATABASE_URL": database_url,
            "REDIS_URL": "",
            "WECHAT_TOKEN": WECHAT.token,
            "WECHAT_AES_KEY": WECHAT.aes_key or "",
            "WECHAT_APPID": WECHAT.appid or "",
        },
    )
    with running:
        say(running, f"warm{uuid.uuid4().hex[:8]}", "你好")  # the first turn of a fresh stack is slow
        yield running


def say(stack: Stack, sender: str, message: str) -> Replies:
    """One widget message through the app's chat endpoint."""
    reply = httpx.post(
        f"{stack.app_url}/api/chat",
        json={"sender": sender, "message": message, "client_id": uuid.uuid4().hex},
        timeout=60,
    )
    reply.raise_for_status()
    return list(reply.json()["replies"])


def text_of(replies: Replies) -> str:
    return "\n".join(str(r.get("text") or "") for r in replies)


def press(stack: Stack, sender: str, replies: Replies, title: str) -> Replies:
    """Click the quick reply `title` of the last reply (fails when it was not offered)."""
    offered = {b["title"]: b["payload"] for r in replies for b in r.get("buttons") or []}
    assert title in offered, f"no “{title}” among {sorted(offered)}: {text_of(replies)}"
    return say(stack, sender, offered[title])


def new_sender() -> str:
    return f"sub{uuid.uuid4().hex[:16]}"


def saved_profile(database_url: str, channel: str, user_id: str) -> dict[str, Any] | None:
    engine = sa.create_engine(database_url)
    try:
        with Session(engine) as session:
            found = get_profile(session, channel=channel, channel_user_id=user_id)
            if found is None:
                return None
            return {
                "enterprise_types": list(found.enterprise_types),
                "topics": list(found.topics),
                "industry": found.industry,
                "consent_text_version": found.consent_text_version,
            }
    finally:
        engine.dispose()


def match(stack: Stack, sender: str) -> Replies:
    """A software start-up tells about itself in its own words and gets matched."""
    assert "哪一类" in text_of(say(stack, sender, "帮我看看我们能享受哪些政策"))
    asked = say(stack, sender, "我们是做软件的小公司")
    assert "阶段" in text_of(asked), text_of(asked)
    say(stack, sender, "刚起步")
    matched = say(stack, sender, "主要是缺钱")
    assert any((r.get("custom") or {}).get("type") == "measures" for r in matched), text_of(matched)
    return matched


def test_a_company_subscribes_with_consent_views_it_and_cancels(stack: Stack, database_url: str) -> None:
    sender = new_sender()
    offer = press(stack, sender, match(stack, sender), "订阅相关政策通知")

    assert CONSENT_TEXT in text_of(offer)
    assert all(word in text_of(offer) for word in ("中小微企业", FINANCING, "软件"))
    assert saved_profile(database_url, "widget", sender) is None  # shown, not saved yet

    saved = press(stack, sender, offer, "同意并保存")
    assert "已保存" in text_of(saved) and "取消订阅" in text_of(saved)
    profile = saved_profile(database_url, "widget", sender)
    assert profile is not None
    assert profile["enterprise_types"] == ["中小微企业"] and profile["topics"] == ["topic_financing"]
    assert profile["industry"] == "软件" and profile["consent_text_version"]

    shown = say(stack, sender, "我的订阅")
    assert all(word in text_of(shown) for word in ("中小微企业", FINANCING, "软件", "通知"))

    cancelled = press(stack, sender, shown, "取消订阅")
    assert "已取消订阅" in text_of(cancelled)
    assert saved_profile(database_url, "widget", sender) is None
    engine = sa.create_engine(database_url)
    with Session(engine) as session:
        audit = session.scalars(sa.select(AuditEntry).where(AuditEntry.entity == "profile")).all()
        assert audit and not [a for a in audit if sender in f"{a.actor} {a.entity_key} {a.before} {a.after}"]
    engine.dispose()
    assert "没有保存" in text_of(say(stack, sender, "我的订阅"))
    assert "没有保存过" in text_of(say(stack, sender, "取消订阅"))


def test_not_now_saves_nothing(stack: Stack, database_url: str) -> None:
    sender = new_sender()
    offer = press(stack, sender, match(stack, sender), "订阅相关政策通知")
    declined = press(stack, sender, offer, "暂不保存")
    assert "没有保存" in text_of(declined)
    assert saved_profile(database_url, "widget", sender) is None
    # Typing agreement is not the consent quick reply: still nothing saved.
    say(stack, sender, "同意")
    assert saved_profile(database_url, "widget", sender) is None


def test_asking_to_subscribe_first_runs_the_match_then_asks_for_consent(
    stack: Stack, database_url: str
) -> None:
    sender = new_sender()
    asked = say(stack, sender, "以后有适合我们的新政策，麻烦通知我")
    assert "企业" in text_of(asked)
    stage = press(stack, sender, asked, "外资企业")
    need = press(stack, sender, stage, "发展期")
    offer = press(stack, sender, need, "人才")
    assert CONSENT_TEXT in text_of(offer) and "外资企业" in text_of(offer)
    assert saved_profile(database_url, "widget", sender) is None
    press(stack, sender, offer, "同意并保存")
    profile = saved_profile(database_url, "widget", sender)
    assert profile is not None and profile["enterprise_types"] == ["外资企业"]
    assert profile["topics"] == ["topic_talent"]


def test_deleting_my_information_deletes_the_profile_too(stack: Stack, database_url: str) -> None:
    sender = new_sender()
    offer = press(stack, sender, match(stack, sender), "订阅相关政策通知")
    press(stack, sender, offer, "同意并保存")
    assert saved_profile(database_url, "widget", sender) is not None
    gone = say(stack, sender, "删除我的信息")
    assert "已删除" in text_of(gone) and "企业画像1条" in text_of(gone)
    assert saved_profile(database_url, "widget", sender) is None


def test_deleting_my_information_in_the_middle_of_the_form_is_not_taken_for_an_answer(
    stack: Stack, database_url: str
) -> None:
    sender = new_sender()
    say(stack, sender, "帮我看看我们能享受哪些政策")
    asked = say(stack, sender, "我们是做软件的小公司")
    assert "阶段" in text_of(asked)
    gone = say(stack, sender, "删除我的信息")
    assert "已删除" in text_of(gone) and "阶段" not in text_of(gone)
    assert "没有保存" in text_of(say(stack, sender, "我的订阅"))


def wechat_say(stack: Stack, openid: str, message: str) -> str:
    """A follower's text message, sent the way WeChat does (safe mode); the passive reply's text."""
    msg_id = uuid.uuid4().int % 10**15
    query, body = WECHAT.encrypt(text_xml(message, msg_id=msg_id, openid=openid))
    response = httpx.post(f"{stack.rasa_url}/webhooks/wechat/webhook", params=query, content=body, timeout=30)
    assert response.status_code == 200, response.text
    fields = xml_fields(WECHAT.decrypt_reply(response.text))
    assert (fields["ToUserName"], fields["FromUserName"]) == (openid, ACCOUNT)
    return fields["Content"]


def offered(reply: str) -> list[str]:
    """The options a WeChat reply offers to type back (its buttons, rendered as text)."""
    hint = reply.splitlines()[-1]
    return re.findall(r"“([^”]+)”", hint) if hint.startswith("可回复") else []


def wechat_choose(stack: Stack, openid: str, reply: str, option: str) -> str:
    assert option in offered(reply), f"“{option}” not offered: {reply}"
    return wechat_say(stack, openid, option)


def test_a_wechat_follower_subscribes_by_replying_with_the_offered_options(
    stack: Stack, database_url: str
) -> None:
    openid = f"oSub{uuid.uuid4().hex[:24]}"
    reply = wechat_say(stack, openid, "帮我匹配一下政策")
    reply = wechat_choose(stack, openid, reply, "科技企业")
    reply = wechat_choose(stack, openid, reply, "刚成立")
    reply = wechat_choose(stack, openid, reply, "融资")
    assert "第" in reply and "条" in reply
    reply = wechat_choose(stack, openid, reply, "订阅相关政策通知")
    assert CONSENT_TEXT[:20] in reply and "科技企业" in reply
    assert saved_profile(database_url, "wechat", openid) is None
    reply = wechat_choose(stack, openid, reply, "同意并保存")
    assert "已保存" in reply
    profile = saved_profile(database_url, "wechat", openid)
    assert profile is not None and profile["enterprise_types"] == ["科技企业"]
    assert profile["topics"] == ["topic_financing"]
    assert saved_profile(database_url, "widget", openid) is None
    assert "科技企业" in wechat_say(stack, openid, "我的订阅")
    assert "已取消订阅" in wechat_say(stack, openid, "取消订阅")
    assert saved_profile(database_url, "wechat", openid) is None
