"""The subscription actions with Tracker fixtures and a CollectingDispatcher, on a real migrated database."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import actions.base
from actions.profile import ActionMatchProfile, ValidateProfileForm
from actions.subscriptions import ActionMySubscription, ActionSubscribe, ActionUnsubscribe
from policy_db.config import PROJECT_ROOT
from policy_db.models import AuditEntry
from policy_db.push.profiles import CONSENT_TEXT, CONSENT_TEXT_VERSION, count_profiles, get_profile
from policy_db.runtime import Runtime

RESPONSES = yaml.safe_load((PROJECT_ROOT / "bot" / "domain.yml").read_text(encoding="utf-8"))["responses"]
MATCHED = {"enterprise_type": "科技企业", "stage": "初创期", "need": "缺钱", "industry": "软件"}


@pytest.fixture(autouse=True)
def use_runtime(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    monkeypatch.setattr(actions.base, "get_runtime", lambda: runtime)
    return runtime


def user(text: str, channel: str = "rest", **parse: Any) -> dict[str, Any]:
    return {"event": "user", "text": text, "input_channel": channel, "parse_data": parse}


def tracker(
    text: str,
    intent: str,
    *,
    slots: dict[str, Any] | None = None,
    entities: dict[str, str] | None = None,
    events: list[dict[str, Any]] | None = None,
    channel: str = "rest",
    sender: str = "widget-client-0001",
    active_loop: str | None = None,
) -> Tracker:
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 1.0},
        "entities": [{"entity": k, "value": v} for k, v in (entities or {}).items()],
    }
    return Tracker.from_dict(
        {
            "sender_id": sender,
            "slots": slots or {},
            "events": [*(events or []), user(text, channel)],
            "paused": False,
            "followup_action": None,
            "active_loop": {"name": active_loop} if active_loop else {},
            "latest_action_name": "action_listen",
            "latest_message": latest,
        }
    )


def rendered(message: dict[str, Any]) -> str:
    name = message.get("response")
    if not name:
        return str(message.get("text") or "")
    template = str(RESPONSES[name][0]["text"])
    return re.sub(r"\{(\w+)\}", lambda m: str(message.get(m.group(1), m.group(0))), template)


async def run(action: Any, track: Tracker) -> tuple[str, list[dict[str, Any]], list[dict[str, Any]]]:
    """The reply text, the buttons offered (domain ones included), and the events."""
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, track, {})
    buttons = [b for m in dispatcher.messages for b in m.get("buttons") or []]
    buttons += [
        b
        for m in dispatcher.messages
        if m.get("response")
        for b in RESPONSES[m["response"]][0].get("buttons", [])
    ]
    return "\n".join(rendered(m) for m in dispatcher.messages), buttons, events


def slots(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def payload_of(buttons: list[dict[str, Any]], title: str) -> str:
    return next(str(b["payload"]) for b in buttons if b["title"] == title)


def entities_of(payload: str) -> dict[str, str]:
    return dict(json.loads(payload[payload.index("{") :])) if "{" in payload else {}


async def test_a_match_offers_the_subscription_and_keeps_what_it_used() -> None:
    form = [
        user("我们是做软件的小公司，有哪些政策适合"),
        {"event": "active_loop", "name": "profile_form"},
        user('/inform{"enterprise_type":"科技企业"}'),
        user("刚起步"),
    ]
    track = tracker(
        "主要是缺钱",
        "inform",
        slots={"enterprise_type": "科技企业", "stage": "初创期", "need": "缺钱"},
        events=form,
    )
    text, buttons, events = await run(ActionMatchProfile(), track)
    assert "第" in text and payload_of(buttons, "订阅相关政策通知") == "/subscribe"
    kept = slots(events)
    assert kept["matched_profile"] == MATCHED
    assert kept["enterprise_type"] is None and kept["need"] is None


async def test_subscribing_shows_the_consent_text_and_what_would_be_saved_and_saves_nothing(
    runtime: Runtime,
) -> None:
    text, buttons, _ = await run(
        ActionSubscribe(), tracker("我想订阅", "subscribe", slots={"matched_profile": MATCHED})
    )
    assert CONSENT_TEXT in text
    assert "科技企业" in text and str(runtime.topics["topic_financing"]["label"]) in text and "软件" in text
    agree, decline = payload_of(buttons, "同意并保存"), payload_of(buttons, "暂不保存")
    assert agree.startswith("/subscribe") and entities_of(agree)["consent"] == "agree"
    assert entities_of(decline)["consent"] == "decline"
    with runtime.database.session() as session:
        assert count_profiles(session) == 0


async def test_consent_saves_the_profile_under_the_channel_user(runtime: Runtime) -> None:
    consent = {"consent": "agree", "consent_version": CONSENT_TEXT_VERSION}
    track = tracker("/subscribe", "subscribe", slots={"matched_profile": MATCHED}, entities=consent)
    text, buttons, _ = await run(ActionSubscribe(), track)
    assert "已保存" in text and "我的订阅" in text and "取消订阅" in text
    with runtime.database.session() as session:
        saved = get_profile(session, channel="widget", channel_user_id="widget-client-0001")
        assert saved is not None
        assert saved.enterprise_types == ["科技企业"] and saved.topics == ["topic_financing"]
        assert saved.industry == "软件" and saved.consent_text_version == CONSENT_TEXT_VERSION


async def test_on_wechat_the_profile_is_keyed_by_the_openid(runtime: Runtime) -> None:
    track = tracker(
        "/subscribe",
        "subscribe",
        slots={"matched_profile": MATCHED},
        entities={"consent": "agree"},
        channel="wechat",
        sender="oWeChatFollower0001",
    )
    await run(ActionSubscribe(), track)
    with runtime.database.session() as session:
        assert get_profile(session, channel="wechat", channel_user_id="oWeChatFollower0001") is not None
        assert get_profile(session, channel="widget", channel_user_id="oWeChatFollower0001") is None


async def test_declining_saves_nothing(runtime: Runtime) -> None:
    track = tracker(
        "/subscribe", "subscribe", slots={"matched_profile": MATCHED}, entities={"consent": "decline"}
    )
    text, _, _ = await run(ActionSubscribe(), track)
    assert "没有保存" in text
    with runtime.database.session() as session:
        assert count_profiles(session) == 0


async def test_consent_to_an_older_consent_text_is_refused_and_the_current_one_shown(
    runtime: Runtime,
) -> None:
    consent = {"consent": "agree", "consent_version": "2020-01"}
    track = tracker("/subscribe", "subscribe", slots={"matched_profile": MATCHED}, entities=consent)
    text, _, _ = await run(ActionSubscribe(), track)
    assert "没能保存" in text and CONSENT_TEXT in text
    with runtime.database.session() as session:
        assert count_profiles(session) == 0


async def test_without_a_match_the_form_comes_first_then_the_consent_prompt() -> None:
    text, _, events = await run(ActionSubscribe(), tracker("订阅政策推送", "subscribe"))
    assert "先了解" in text
    assert {"event": "followup", "name": "profile_form"} in [
        {k: e.get(k) for k in ("event", "name")} for e in events
    ]
    assert slots(events)["subscribe_pending"] is True
    after_form = tracker(
        '/inform{"topic":"人才"}',
        "inform",
        slots={"enterprise_type": "外资企业", "stage": "发展期", "need": "人才", "subscribe_pending": True},
    )
    text, buttons, events = await run(ActionMatchProfile(), after_form)
    assert CONSENT_TEXT in text and "外资企业" in text
    assert entities_of(payload_of(buttons, "同意并保存"))["consent"] == "agree"
    assert slots(events)["subscribe_pending"] is None


async def test_my_subscription_shows_the_profile_or_how_to_create_one() -> None:
    text, buttons, _ = await run(ActionMySubscription(), tracker("我的订阅", "my_subscription"))
    assert "还没有保存" in text and payload_of(buttons, "帮我匹配政策") == "/match_profile"
    consent = {"consent": "agree", "consent_version": CONSENT_TEXT_VERSION}
    await run(
        ActionSubscribe(),
        tracker("/subscribe", "subscribe", slots={"matched_profile": MATCHED}, entities=consent),
    )
    text, buttons, _ = await run(ActionMySubscription(), tracker("我的订阅", "my_subscription"))
    assert "科技企业" in text and "软件" in text and "暂时还没有通知" in text
    assert payload_of(buttons, "取消订阅") == "/unsubscribe"


async def test_unsubscribing_deletes_the_profile_and_the_audit_keeps_no_user_id(runtime: Runtime) -> None:
    consent = {"consent": "agree", "consent_version": CONSENT_TEXT_VERSION}
    await run(
        ActionSubscribe(),
        tracker("/subscribe", "subscribe", slots={"matched_profile": MATCHED}, entities=consent),
    )
    text, _, _ = await run(ActionUnsubscribe(), tracker("取消订阅", "unsubscribe"))
    assert "已取消订阅" in text and "彻底删除" in text
    with runtime.database.session() as session:
        assert count_profiles(session) == 0
        audit = session.scalars(sa.select(AuditEntry).where(AuditEntry.entity == "profile")).all()
        assert audit and all(
            "widget-client-0001" not in f"{a.actor} {a.entity_key} {a.before} {a.after}" for a in audit
        )
    text, _, _ = await run(ActionUnsubscribe(), tracker("取消订阅", "unsubscribe"))
    assert "没有保存过" in text


async def test_a_form_opened_for_a_subscription_asks_its_questions_even_after_a_concrete_question() -> None:
    slots_asked = ["enterprise_type", "stage", "need"]
    question = "留抵退税怎么办理"  # a concrete question: a plain "match me" turn answers it directly
    plain = tracker(question, "match_profile")
    assert await ValidateProfileForm().required_slots(slots_asked, CollectingDispatcher(), plain, {}) == []
    waiting = tracker(question, "subscribe", slots={"subscribe_pending": True})
    asked = await ValidateProfileForm().required_slots(slots_asked, CollectingDispatcher(), waiting, {})
    assert asked == slots_asked
