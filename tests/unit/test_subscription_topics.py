"""What a subscription saves from a match: the need's topics, industry words, the summary shown."""

from __future__ import annotations

import pytest
import yaml

from actions.subscriptions import NEED_CUES, describe_input, industry_words, profile_input, topics_for_need
from policy_db.config import PROJECT_ROOT
from policy_db.topics import load_topics

TOPICS = load_topics(PROJECT_ROOT / "seeds")


def need_buttons() -> list[str]:
    """The needs the profile form's quick replies send (utter_ask_need in bot/domain.yml)."""
    domain = yaml.safe_load((PROJECT_ROOT / "bot" / "domain.yml").read_text(encoding="utf-8"))
    buttons = domain["responses"]["utter_ask_need"][0]["buttons"]
    return [b["payload"].split('"topic":"')[1].rstrip('"}') for b in buttons]


def test_every_need_button_follows_a_topic_a_profile_accepts() -> None:
    needs = need_buttons()
    assert len(needs) >= 5
    for need in needs:
        found = topics_for_need(need, TOPICS)
        assert found and set(found) <= set(TOPICS), need


@pytest.mark.parametrize(
    ("need", "topic"),
    [
        ("融资", "topic_financing"),
        ("主要是缺钱", "topic_financing"),
        ("想申请贷款", "topic_financing"),
        ("缺人", "topic_talent"),
        ("最头疼的是招人", "topic_talent"),
        ("办事方便点就行", "topic_gov_services"),
        ("知识产权", "topic_ip"),
        ("申请专利", "topic_ip"),
        ("政策补贴", "topic_policies"),
        ("需要场地", "topic_parks"),
        ("留抵退税", "topic_tax"),
    ],
)
def test_a_stated_need_falls_under_its_topic(need: str, topic: str) -> None:
    assert topic in topics_for_need(need, TOPICS)


def test_a_need_can_concern_two_topics_and_keeps_the_topics_order() -> None:
    found = topics_for_need("税收优惠", TOPICS)
    assert found == [t for t in TOPICS if t in ("topic_tax", "topic_policies")] and len(found) == 2


def test_a_need_no_topic_covers_follows_none() -> None:
    assert topics_for_need("市场拓展", TOPICS) == []
    assert topics_for_need("", TOPICS) == []


def test_the_cue_table_names_only_real_topics() -> None:
    assert set(NEED_CUES) <= set(TOPICS)


@pytest.mark.parametrize(
    ("said", "industry"),
    [
        (["我们是做软件的小公司，有哪些政策适合"], "软件"),
        (["我是开小饭店的，有啥政策能用"], "餐饮"),
        (["我们是一家民企，做制造业的"], "制造"),
        (["做跨境电商的外企"], "电商"),
        (["帮我匹配一下政策", "刚起步", "缺钱"], ""),
    ],
)
def test_industry_words_come_from_what_the_company_said(said: list[str], industry: str) -> None:
    assert industry_words(said) == industry


def test_at_most_two_industry_words() -> None:
    assert len(industry_words(["软件 餐饮 物流 教育 设计"]).split()) == 2


def test_the_summary_names_type_topics_by_label_and_industry() -> None:
    wanted = profile_input({"enterprise_type": "科技企业", "need": "缺钱", "industry": "软件"}, TOPICS)
    assert wanted.enterprise_types == ["科技企业"] and wanted.topics == ["topic_financing"]
    summary = describe_input(wanted, TOPICS)
    label = str(TOPICS["topic_financing"]["label"])
    assert "科技企业" in summary and label in summary and "软件" in summary
    assert "topic_" not in summary
