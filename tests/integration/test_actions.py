"""Custom actions with Tracker fixtures and a CollectingDispatcher, on a real seeded database."""

from __future__ import annotations

import base64
import dataclasses
import re
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

import actions.base
from actions.policy import ActionAnswerPolicy, ActionMeasureDetail, ActionShowMore
from actions.profile import ValidateProfileForm
from actions.service import ActionOutOfScope, ActionSaveRating
from actions.units import ActionResponsibleUnit, ActionUnitDuties
from policy_db.config import PROJECT_ROOT, Settings
from policy_db.models import QuestionLog, Rating
from policy_db.runtime import Runtime, build_runtime


@pytest.fixture(autouse=True)
def use_runtime(seeded_runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    monkeypatch.setattr(actions.base, "get_runtime", lambda: seeded_runtime)
    return seeded_runtime


def tracker(
    text: str,
    intent: str,
    slots: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
    sender: str = "unit-test",
) -> Tracker:
    return Tracker.from_dict(
        {
            "sender_id": sender,
            "slots": slots or {},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
            "latest_message": {
                "text": text,
                "intent": {"name": intent, "confidence": 0.9},
                "entities": entities or [],
            },
        }
    )


DOMAIN_RESPONSES = yaml.safe_load((PROJECT_ROOT / "bot" / "domain.yml").read_text(encoding="utf-8"))[
    "responses"
]


def rendered(message: dict[str, Any]) -> dict[str, Any]:
    """A dispatched message as Rasa sends it: a `response=` filled in from bot/domain.yml."""
    name = message.get("response")
    if not name:
        return message
    template = str(DOMAIN_RESPONSES[name][0]["text"])
    text = re.sub(r"\{(\w+)\}", lambda m: str(message.get(m.group(1), m.group(0))), template)
    return {**message, "text": text}


async def run(action: Any, track: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, track, {})
    return [rendered(m) for m in dispatcher.messages], events


def slots(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def measures(messages: list[dict[str, Any]]) -> list[int]:
    for message in messages:
        custom = message.get("custom") or {}
        if custom.get("type") == "measures":
            return [m["number"] for m in custom["measures"]]
    return []


async def test_answer_cites_measures_and_remembers_them() -> None:
    messages, events = await run(ActionAnswerPolicy(), tracker("留抵退税能退吗", "topic_tax"))
    assert measures(messages)[0] == 25
    assert "第25条" in messages[0]["text"] and "区税务局" in messages[0]["text"]
    assert {b["title"] for b in messages[0]["buttons"]} >= {"哪个部门负责", "第25条详情"}
    assert slots(events)["last_measures"][0] == "1:25"


async def test_topic_button_answers_with_that_topic() -> None:
    messages, _ = await run(ActionAnswerPolicy(), tracker("/topic_financing", "topic_financing"))
    assert set(measures(messages)) & {74, 75, 76, 77}


async def test_no_match_is_honest(seeded_runtime: Runtime) -> None:
    messages, events = await run(
        ActionAnswerPolicy(), tracker("火星登陆需要什么手续", "nlu_fallback", sender="nomatch")
    )
    assert measures(messages) == [] and "没有找到" in messages[0]["text"]
    assert any(b["title"] == "转人工" for b in messages[0]["buttons"])
    with seeded_runtime.database.session() as session:
        outcome = session.scalar(select(QuestionLog.outcome).where(QuestionLog.sender_id == "nomatch"))
    assert outcome in ("no_match", "clarified")


async def test_detail_of_the_second_item_shown() -> None:
    shown = {"last_measures": ["1:74", "1:75", "1:76"]}
    messages, _ = await run(
        ActionMeasureDetail(),
        tracker("第二条详细说说", "ask_detail", shown, [{"entity": "measure_number", "value": "第二条"}]),
    )
    assert measures(messages) == [75] and "区金融办" in messages[0]["text"]


async def test_measure_by_number() -> None:
    messages, _ = await run(
        ActionMeasureDetail(), tracker("第七十七条", "ask_measure", {"measure_number": "七十七"})
    )
    assert measures(messages) == [77]


async def test_responsible_unit_of_the_last_answer() -> None:
    messages, _ = await run(
        ActionResponsibleUnit(), tracker("这个找哪个部门？", "ask_unit", {"last_measures": ["1:42"]})
    )
    units = next(m["custom"] for m in messages if (m.get("custom") or {}).get("type") == "units")
    assert units["units"][0]["name"] == "区建管委" and "区建管委" in messages[0]["text"]


async def test_responsible_unit_of_the_matter_asked() -> None:
    messages, _ = await run(ActionResponsibleUnit(), tracker("留抵退税归哪个部门管", "ask_unit"))
    assert "区税务局" in messages[0]["text"] and measures(messages) == [25]


async def test_who_handles_a_matter_no_measure_covers_names_the_unit_whose_remit_it_is() -> None:
    messages, _ = await run(ActionResponsibleUnit(), tracker("想开个KTV 娱乐场所许可证找谁办", "ask_unit"))
    assert payload(messages, "units") == {"type": "units", "units": [{"name": "区文旅局", "measures": []}]}
    assert measures(messages) == [] and "区文旅局" in messages[0]["text"]


async def test_unit_duties_by_alias() -> None:
    messages, _ = await run(
        ActionUnitDuties(),
        tracker("工商管哪些事", "ask_unit_duties", entities=[{"entity": "unit", "value": "区市场监管局"}]),
    )
    assert "区市场监管局" in messages[0]["text"]
    assert measures(messages)[:3] == [10, 18, 19]  # measures it leads, in order


async def test_more_continues_the_last_question() -> None:
    first, events = await run(ActionAnswerPolicy(), tracker("知识产权保护", "topic_ip"))
    more, _ = await run(ActionShowMore(), tracker("还有吗", "more", slots(events)))
    assert measures(more) and not set(measures(more)) & set(measures(first))


async def test_rating_is_stored(seeded_runtime: Runtime) -> None:
    messages, _ = await run(
        ActionSaveRating(),
        tracker("不满意，没找到我要的", "rate", {"last_measures": ["1:25"]}, sender="rater"),
    )
    assert "抱歉" in messages[0]["text"]
    with seeded_runtime.database.session() as session:
        row = session.scalars(select(Rating).where(Rating.sender_id == "rater")).one()
    assert (row.rating, row.measures, row.comment) == ("不满意", ["1:25"], "不满意，没找到我要的")


async def test_out_of_scope_has_no_measures() -> None:
    messages, _ = await run(ActionOutOfScope(), tracker("今天天气怎么样", "out_of_scope"))
    assert measures(messages) == [] and "12345" in messages[0]["text"]


def place(name: str) -> list[dict[str, Any]]:
    return [{"entity": "other_region", "value": name, "extractor": "RegexEntityExtractor"}]


@pytest.mark.parametrize(
    "action, text, intent",
    [
        (ActionAnswerPolicy(), "杭州注册公司要什么材料", "topic_opening"),
        (ActionResponsibleUnit(), "杭州注册公司找哪个部门", "ask_unit"),
        (ActionOutOfScope(), "杭州注册公司要什么材料", "out_of_scope"),
    ],
)
async def test_another_city_gets_no_putuo_measures(
    action: Any, text: str, intent: str, seeded_runtime: Runtime
) -> None:
    sender = f"hangzhou-{action.name()}"
    messages, _ = await run(action, tracker(text, intent, entities=place("杭州"), sender=sender))
    assert measures(messages) == [] and len(messages) == 1
    assert "杭州" in messages[0]["text"] and "普陀" in messages[0]["text"]
    with seeded_runtime.database.session() as session:
        outcomes = session.scalars(select(QuestionLog.outcome).where(QuestionLog.sender_id == sender)).all()
    assert outcomes == ["out_of_scope"]


async def test_moving_from_another_district_to_putuo_is_answered_in_putuo() -> None:
    messages, _ = await run(
        ActionAnswerPolicy(),
        tracker("公司从嘉定迁到普陀要办什么手续", "topic_opening", entities=place("嘉定")),
    )
    # Not declined as a question about another district: Putuo's measures, or the Putuo unit
    # whose remit it is (with its contact).
    assert measures(messages) or payload(messages, "units")
    assert "嘉定" not in messages[0]["text"] and "超出" not in messages[0]["text"]


async def test_database_down_gives_a_polite_reply(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    broken = build_runtime(
        Settings(
            database_url="postgresql+psycopg://nobody@127.0.0.1:1/none", dictionary_path=tmp_path / "d.txt"
        )
    )
    monkeypatch.setattr(actions.base, "get_runtime", lambda: broken)
    messages, events = await run(ActionAnswerPolicy(), tracker("留抵退税", "topic_tax"))
    assert events == [] and "抱歉" in messages[0]["text"] and measures(messages) == []


def test_profile_form_normalises_answers() -> None:
    form = ValidateProfileForm()
    dispatcher = CollectingDispatcher()
    track = tracker("", "inform")
    assert form.validate_enterprise_type("我们是外商独资的", dispatcher, track, {}) == {
        "enterprise_type": "外资企业"
    }
    assert form.validate_stage("公司刚成立半年", dispatcher, track, {}) == {"stage": "初创期"}
    assert form.validate_enterprise_type("说不清", dispatcher, track, {}) == {"enterprise_type": None}
    assert dispatcher.messages  # asked again politely


async def test_a_concrete_question_skips_the_profile_form() -> None:
    from actions.profile import ActionMatchProfile

    form = ValidateProfileForm()
    slots_asked = ["enterprise_type", "stage", "need"]
    concrete = tracker("我们是以色列的科技公司，想进中国市场", "match_profile")
    vague = tracker("帮我看看我们能享受哪些政策", "match_profile")
    assert await form.required_slots(slots_asked, CollectingDispatcher(), concrete, {}) == []
    assert await form.required_slots(slots_asked, CollectingDispatcher(), vague, {}) == slots_asked
    messages, _ = await run(ActionMatchProfile(), concrete)
    assert measures(messages)[0] == 68


async def test_a_question_the_nlu_takes_for_company_details_is_answered_not_met_with_the_form() -> None:
    from actions.profile import ActionMatchProfile

    form = ValidateProfileForm()
    slots_asked = ["enterprise_type", "stage", "need"]
    # No measure answers it, but it asks about a tax office's matter: route it, as any question.
    question = tracker("公司刚开业还没有收入，每个季度也要报税吗", "inform", {"stage": "初创期"})
    assert await form.required_slots(slots_asked, CollectingDispatcher(), question, {}) == []
    messages, _ = await run(ActionMatchProfile(), question)
    assert "区税务局" in messages[0]["text"] and payload(messages, "units") is not None
    # Some tax measures still look related: they are offered, and the plan is not said to be silent.
    assert payload(messages, "clarify") is not None and "没有专门" not in messages[0]["text"]
    # Telling what the company does, without asking anything, still starts the profile questions.
    details = tracker("我们公司做跨境电商的，刚起步", "inform", {"stage": "初创期"})
    assert await form.required_slots(slots_asked, CollectingDispatcher(), details, {}) == slots_asked


async def test_a_question_naming_an_enterprise_type_is_answered() -> None:
    from actions.profile import ActionMatchProfile

    form = ValidateProfileForm()
    question = tracker("拟上市企业梯队库怎么进？", "inform", {"enterprise_type": "拟上市企业"})
    assert (
        await form.required_slots(["enterprise_type", "stage", "need"], CollectingDispatcher(), question, {})
        == []
    )
    messages, _ = await run(ActionMatchProfile(), question)
    assert measures(messages)[0] == 77


def payload(messages: list[dict[str, Any]], kind: str) -> dict[str, Any] | None:
    return next((m["custom"] for m in messages if (m.get("custom") or {}).get("type") == kind), None)


async def test_out_of_scope_label_never_overrides_a_confident_match() -> None:
    messages, _ = await run(ActionOutOfScope(), tracker("留抵退税能退吗", "out_of_scope"))
    assert measures(messages)[0] == 25
    messages, _ = await run(ActionOutOfScope(), tracker("今天上海天气怎么样", "out_of_scope"))
    assert measures(messages) == [] and "超出了我的范围" in messages[0]["text"]


async def test_a_matter_no_measure_covers_is_routed_to_the_unit_with_its_contact() -> None:
    messages, _ = await run(ActionAnswerPolicy(), tracker("我想咨询下社保缴费基数", "topic_talent"))
    routed = payload(messages, "units")
    assert routed == {"type": "units", "units": [{"name": "区人社局", "measures": []}]}
    assert measures(messages) == []
    assert "没有专门" in messages[0]["text"] and "区人社局" in messages[0]["text"]
    assert "12345" in messages[0]["text"]  # the service center is offered too


async def test_plausible_but_unsure_asks_which_and_logs_the_pick(seeded_runtime: Runtime) -> None:
    search = seeded_runtime.search
    calibration = search.calibration
    assert calibration is not None
    # An answer bar no question reaches: every plausible match becomes a clarifying question.
    search.use_calibration(
        dataclasses.replace(calibration, thresholds=dataclasses.replace(calibration.thresholds, answer=1.01))
    )
    try:
        question = "公司要注销但还有税没清完"
        messages, events = await run(
            ActionAnswerPolicy(), tracker(question, "topic_opening", sender="clarify-test")
        )
    finally:
        search.use_calibration(calibration)
    offered = payload(messages, "clarify")
    assert offered is not None and measures(messages) == []
    numbers = [m["number"] for m in offered["measures"]]
    assert 21 in numbers and messages[0]["text"].startswith("您是想了解以下哪一项")
    buttons = [b for b in messages[0]["buttons"] if b["payload"].startswith("/ask_measure")]
    assert len(buttons) == len(numbers) and '"choice": "clarify"' in buttons[0]["payload"]
    picked = tracker(
        "/ask_measure",
        "ask_measure",
        slots=slots(events),
        sender="clarify-test",
        entities=[{"entity": "measure_number", "value": "21"}, {"entity": "choice", "value": "clarify"}],
    )
    messages, _ = await run(ActionMeasureDetail(), picked)
    assert measures(messages) == [21]
    with seeded_runtime.database.session() as session:
        logged = session.scalars(
            select(QuestionLog).where(QuestionLog.sender_id == "clarify-test").order_by(QuestionLog.id)
        ).all()
        assert [(q.outcome, q.text) for q in logged] == [
            ("clarified", question),
            ("clarify_choice", question),
        ]
        assert logged[1].measures == ["1:21"]


async def test_not_a_plan_question_and_no_confident_match_is_routed_by_remit() -> None:
    # NLU says out of scope; retrieval finds only a loose match (below the override bar), and
    # the matter is a unit's remit: the unit is named instead of a loose measure or a refusal.
    question = "劳动合同到期不续签要赔钱吗"
    messages, _ = await run(ActionOutOfScope(), tracker(question, "out_of_scope"))
    assert measures(messages) == []
    assert payload(messages, "units") == {"type": "units", "units": [{"name": "区人社局", "measures": []}]}


async def test_a_unit_named_for_an_out_of_scope_label_comes_without_measure_candidates() -> None:
    # The same matter asked as a topic question may offer possibly related measures; when the NLU
    # calls it out of scope, the unit alone is named (no loose measures as quick replies).
    question = "公司想给员工办理居住证积分"
    as_topic, _ = await run(ActionAnswerPolicy(), tracker(question, "topic_talent", sender="remit-topic"))
    as_other, _ = await run(ActionOutOfScope(), tracker(question, "out_of_scope", sender="remit-oos"))
    for messages in (as_topic, as_other):
        assert measures(messages) == []
        assert payload(messages, "units") == {
            "type": "units",
            "units": [{"name": "区人社局", "measures": []}],
        }
    assert payload(as_topic, "clarify") is not None
    assert payload(as_other, "clarify") is None


def _with_nlu_vector(text: str, intent: str, vector: Any, model: str) -> Tracker:
    track = tracker(text, intent, sender="nlu-vector")
    track.latest_message["sentence_embedding"] = {
        "model": model,
        "text": text,
        "vector": base64.b64encode(vector.astype("float32").tobytes()).decode(),
    }
    return track


async def test_the_nlu_vector_of_the_question_is_reused_not_embedded_again(seeded_runtime: Runtime) -> None:
    store = seeded_runtime.search.vectors
    assert store is not None
    text = "开办餐饮店要跑几个部门"
    vector = store.embedder.embed([text], mode="query")[0]
    before = store.queries_embedded
    track = _with_nlu_vector(text, "ask_policy", vector, store.embedder.name)
    messages, _ = await run(ActionAnswerPolicy(), track)
    assert measures(messages) and store.queries_embedded == before
    # A vector from another model is not trusted: the question is embedded by the matcher's model.
    other = "开个小超市要办哪些证"
    await run(ActionAnswerPolicy(), _with_nlu_vector(other, "ask_policy", vector, "another-model"))
    assert store.queries_embedded == before + 1
