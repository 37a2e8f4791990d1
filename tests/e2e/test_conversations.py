"""Conversations with the trained bot through Rasa's REST channel (real model, actions, database)."""

from __future__ import annotations

import sqlalchemy as sa

from tests.e2e.conftest import Chat, chat_with, measures_in, text_of, units_in
from tools.stack import Stack


def test_greeting_introduces_the_assistant(chat: Chat) -> None:
    reply = chat("你好")
    assert "政策助手" in text_of(reply) and not measures_in(reply)
    assert any(m.get("buttons") for m in reply)


def test_opening_question_cites_measures_and_the_market_regulator(chat: Chat) -> None:
    reply = chat("开公司要跑几个部门？")
    measures = measures_in(reply)
    assert measures and any("区市场监管局" in m["units"] for m in measures)
    assert all(
        {"document_id", "number", "title", "text", "category", "units", "score"} <= m.keys() for m in measures
    )
    assert "第" in text_of(reply) and "条" in text_of(reply)


def test_vat_refund_answer(chat: Chat) -> None:
    measures = measures_in(chat("留抵退税能退吗"))
    assert measures[0]["number"] == 25 and measures[0]["units"] == ["区税务局"]


def test_follow_ups_resolve_from_context(chat: Chat) -> None:
    first = [m["number"] for m in measures_in(chat("公司资金紧张，想找银行贷款"))]
    assert len(first) >= 2
    detail = measures_in(chat("第二条详细说说"))
    assert [m["number"] for m in detail] == [first[1]]
    units = units_in(chat("这个找哪个部门？"))
    assert units and first[1] in units[0]["measures"]
    more = [m["number"] for m in measures_in(chat("还有吗"))]
    assert not set(more) & set(first[:3])


def test_topic_switch(chat: Chat) -> None:
    chat("注册公司能一次办完吗")
    measures = measures_in(chat("那税务方面呢"))
    assert measures and all("区税务局" in m["units"] for m in measures[:2])


def test_measure_by_number(chat: Chat) -> None:
    measures = measures_in(chat("第77条"))
    assert [m["number"] for m in measures] == [77] and measures[0]["units"] == ["区金融办"]


def test_unit_duties(chat: Chat) -> None:
    reply = chat("税务局管哪些事？")
    units = units_in(reply)
    assert units and units[0]["name"] == "区税务局" and {23, 24, 25} <= set(units[0]["measures"])
    assert measures_in(reply)[0]["number"] == 23


def test_out_of_scope_gets_no_measures(chat: Chat) -> None:
    for question in ("今天天气怎么样", "给我讲个笑话"):
        reply = chat(question)
        assert not measures_in(reply) and text_of(reply)


def test_another_city_is_declined_without_putuo_measures(chat: Chat) -> None:
    reply = chat("苏州那边的惠企政策有哪些")
    assert not measures_in(reply) and "苏州" in text_of(reply)


def test_no_match_is_honest_and_offers_the_service_center(chat: Chat) -> None:
    reply = chat("火星登陆需要什么手续")
    assert not measures_in(reply)
    assert "12345" in text_of(reply) or "服务中心" in text_of(reply)


def test_human_handoff_gives_the_contact(chat: Chat) -> None:
    assert "12345" in text_of(chat("转人工"))


def test_profile_form_matches_tagged_measures(chat: Chat) -> None:
    assert chat("帮我看看我们能享受哪些政策")
    chat('/inform{"enterprise_type":"外资企业"}')
    chat('/inform{"stage":"发展期"}')
    reply = chat('/inform{"topic":"融资"}')
    measures = measures_in(reply)
    assert measures, text_of(reply)


def test_rating_is_stored_with_the_measures_shown(bot_stack: Stack, stack_db: str) -> None:
    chat = chat_with(bot_stack.rasa_url)
    shown = [m["number"] for m in measures_in(chat("留抵退税"))]
    reply = chat('/rate{"rating":"满意"}')
    assert "谢谢" in text_of(reply)
    engine = sa.create_engine(stack_db)
    with engine.connect() as connection:
        row = connection.execute(
            sa.text("SELECT rating, measures FROM rating WHERE sender_id = :s"), {"s": chat.sender}
        ).one()  # type: ignore[attr-defined]
    assert row.rating == "满意" and f"1:{shown[0]}" in row.measures


def test_questions_are_logged_for_insights(bot_stack: Stack, stack_db: str) -> None:
    chat = chat_with(bot_stack.rasa_url)
    chat("留抵退税")
    chat("今天天气怎么样")
    engine = sa.create_engine(stack_db)
    with engine.connect() as connection:
        outcomes = (
            connection.execute(
                sa.text("SELECT outcome FROM question_log WHERE sender_id = :s ORDER BY id"),
                {"s": chat.sender},
            )
            .scalars()
            .all()
        )  # type: ignore[attr-defined]
    assert outcomes == ["answered", "out_of_scope"]
