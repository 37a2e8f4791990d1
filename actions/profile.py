"""Enterprise-profile matching: a form asks type, stage and need, then matching measures follow."""

from __future__ import annotations

from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import base
from actions.base import PolicyAction, record_question
from actions.policy import ActionAnswerPolicy, present_measures
from actions.replies import contact_text
from actions.subscriptions import MATCHED_SLOT, PENDING_SLOT, industry_words, offer_consent, profile_input
from policy_db.catalogue import measure_key
from policy_db.runtime import Runtime
from policy_db.search import match_profile
from policy_db.text import reads_as_question

ENTERPRISE_TYPES = {
    "外资企业": ("外资", "外企", "外商", "合资", "独资"),
    "拟上市企业": ("上市", "ipo", "新三板", "挂牌"),
    "科技企业": ("科技", "高新", "技术", "研发", "软件", "互联网", "智能"),
    "文创企业": ("文创", "文化", "创意", "传媒", "设计", "影视", "动漫"),
    "新设企业": ("新设", "新成立", "刚成立", "初创", "新公司", "刚注册", "筹备"),
    "中小微企业": ("中小", "小微", "小企业", "微型", "个体", "小公司"),
    "民营企业": ("民营", "私企", "民企", "私营"),
}
STAGES = {
    "筹备期": ("筹备", "准备开", "还没注册", "打算开", "想开"),
    "初创期": ("初创", "刚成立", "刚注册", "起步", "新成立", "创业"),
    "拟上市": ("上市", "ipo", "挂牌"),
    "发展期": ("发展", "成长", "扩张", "稳定", "成熟", "几年"),
}
STAGE_WORDS = {
    "筹备期": "企业开办 名称",
    "初创期": "创业 孵化 创业服务",
    "发展期": "融资 人才",
    "拟上市": "上市 拟上市企业",
}


def classify(value: str, table: dict[str, tuple[str, ...]]) -> str | None:
    """The canonical value whose cue words occur in the user's answer."""
    text = value.lower()
    for canonical, cues in table.items():
        if canonical in text or any(cue in text for cue in cues):
            return canonical
    return None


# Words of a request to be matched ("帮我看看我们能享受哪些政策"), as opposed to a concrete question.
PROFILE_WORDS = frozenset(
    {
        "政策",
        "享受",
        "适合",
        "推荐",
        "匹配",
        "企业",
        "公司",
        "我们",
        "我司",
        "能",
        "哪些",
        "什么",
        "帮",
        "帮我",
        "看看",
        "看",
        "符合",
        "条件",
        "扶持",
        "支持",
        "优惠",
        "有",
        "啥",
        "这种",
        "这类",
        "类",
        "型",
        "可以",
        "申请",
        "一下",
        "情况",
        "了解",
        "类型",
        "企业类型",
        "对口",
    }
)


def asks_a_concrete_question(text: str, runtime: Runtime) -> bool:
    """True when a "match me" turn names a concrete matter to answer directly, not a profile.

    A measure that answers it confidently makes it one; so does a question ("…也要零申报吗") whose
    matter is a unit's remit or close to some measures: it gets that answer, not the form.
    """
    cues = {c for table in (ENTERPRISE_TYPES, STAGES) for cues in table.values() for c in cues}
    cues |= set(ENTERPRISE_TYPES) | set(STAGES)
    tokens = runtime.search.index().tokenizer.tokens(text)
    matter = [t for t in tokens if t not in PROFILE_WORDS and not any(c in t for c in cues)]
    if not matter:
        return False
    result = runtime.search.search(text, limit=1)
    return result.confident or result.outcome in ("remit", "clarify") and reads_as_question(text)


class ValidateProfileForm(FormValidationAction):
    """Normalise the profile answers; ask again politely when an answer is not understood."""

    def name(self) -> str:
        return "validate_profile_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        """No questions when the turn that opened the form is a concrete question: answer it."""
        opening = tracker.get_slot("requested_slot") is None  # the form starts with this turn
        if opening and not tracker.get_slot(PENDING_SLOT):  # a subscription waits for this match: ask
            text = str(tracker.latest_message.get("text") or "")
            if not text.startswith("/") and asks_a_concrete_question(text, base.get_runtime()):
                return []
        return domain_slots

    def validate_enterprise_type(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """One of the seven enterprise types (外资企业 … 新设企业)."""
        found = classify(str(value or ""), ENTERPRISE_TYPES)
        if found is None:
            dispatcher.utter_message(response="utter_enterprise_type_unclear")
        return {"enterprise_type": found}

    def validate_stage(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """筹备期 / 初创期 / 发展期 / 拟上市."""
        found = classify(str(value or ""), STAGES)
        if found is None:
            dispatcher.utter_message(response="utter_stage_unclear")
        return {"stage": found}

    def validate_need(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Any non-empty description of what the company needs."""
        text = str(value or "").strip()
        if len(text) < 2 or text.startswith("/"):
            dispatcher.utter_message(response="utter_need_unclear")
            return {"need": None}
        return {"need": text[:100]}


class ActionMatchProfile(PolicyAction):
    """After the form: measures for this kind of company and its need."""

    def name(self) -> str:
        return "action_match_profile"

    def answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any], runtime: Runtime
    ) -> list[dict[str, Any]]:
        kind = str(tracker.get_slot("enterprise_type") or "")
        stage = str(tracker.get_slot("stage") or "")
        need = str(tracker.get_slot("need") or "")
        if not (stage and need):  # the form was skipped: answer the question that opened it
            return ActionAnswerPolicy().answer(dispatcher, tracker, domain, runtime)
        matches = match_profile(
            runtime.search, enterprise_type=kind, need=need, stage_words=STAGE_WORDS.get(stage, ""), limit=3
        )
        measures = [m.measure for m in matches]
        if not measures:
            dispatcher.utter_message(
                response="utter_profile_no_match", contact=contact_text(runtime.service_center)
            )
            record_question(runtime, tracker, "no_match")
            return [*_reset(), *_offer_subscription(dispatcher, tracker, runtime)]
        intro = f"按“{kind}、{stage}、需要{need}”为您匹配到："
        present_measures(dispatcher, measures, intro=intro, more=False)
        record_question(runtime, tracker, "answered", measures, matches[0].score)
        return [
            *_reset(),
            *_offer_subscription(dispatcher, tracker, runtime),
            SlotSet("last_measures", [measure_key(m) for m in measures]),
            SlotSet("last_query", f"{need} {kind}"),
            SlotSet("last_offset", 3.0),
        ]


def _reset() -> list[dict[str, Any]]:
    return [SlotSet("enterprise_type", None), SlotSet("stage", None), SlotSet("need", None)]


def _offer_subscription(
    dispatcher: CollectingDispatcher, tracker: Tracker, runtime: Runtime
) -> list[dict[str, Any]]:
    """Keep what the match used; offer to subscribe (or, when asked for before, the consent prompt)."""
    matched = {
        "enterprise_type": str(tracker.get_slot("enterprise_type") or ""),
        "stage": str(tracker.get_slot("stage") or ""),
        "need": str(tracker.get_slot("need") or ""),
        "industry": industry_words(form_texts(tracker)),
    }
    if tracker.get_slot(PENDING_SLOT):
        offer_consent(dispatcher, profile_input(matched, runtime.topics), runtime.topics)
    else:
        dispatcher.utter_message(response="utter_offer_subscription")
    return [SlotSet(MATCHED_SLOT, matched), SlotSet(PENDING_SLOT, None)]


def form_texts(tracker: Tracker) -> list[str]:
    """What the user typed in this profile form, from the turn that opened it (payloads left out)."""
    events = list(tracker.events)
    start = 0
    for i, event in enumerate(events):
        if event.get("event") == "action" and event.get("name") == "action_match_profile":
            start = i + 1  # the previous match's form is not this one
    opened = next(
        (i for i in range(start, len(events)) if _is_form_activation(events[i])),
        len(events),
    )
    opening = max((i for i in range(start, opened) if events[i].get("event") == "user"), default=opened)
    texts = (str(e.get("text") or "") for e in events[opening:] if e.get("event") == "user")
    return [t for t in texts if t and not t.startswith("/")]


def _is_form_activation(event: dict[str, Any]) -> bool:
    return event.get("event") == "active_loop" and event.get("name") == "profile_form"
