"""Answering policy questions: matching measures, more results, a measure's details."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import PolicyAction, record_question, user_intent, user_text
from actions.replies import (
    button,
    clarify_payload,
    contact_text,
    follow_up_buttons,
    measure_button,
    measure_line,
    measures_payload,
    parse_key,
    several_documents,
    topic_buttons,
    trim,
    units_payload,
)
from actions.scope import declined_elsewhere
from policy_db import catalogue
from policy_db.catalogue import MeasureView, measure_key
from policy_db.errors import MeasureNotFound
from policy_db.kinds import EXPIRED, IN_FORCE, PENDING
from policy_db.retrieval import RemitRoute
from policy_db.runtime import Runtime
from policy_db.text import parse_chinese_number
from policy_db.topics import keywords_of

PAGE = 3


def topic_query(runtime: Runtime, intent: str, text: str) -> str:
    """The words to search: the user's text, or a topic's label and keywords for a topic button."""
    if text.startswith("/") and intent in runtime.topics:
        topic = runtime.topics[intent]
        return " ".join([str(topic.get("label", "")), *keywords_of(topic)])
    return text


def present_measures(
    dispatcher: CollectingDispatcher, measures: list[MeasureView], *, intro: str, more: bool
) -> None:
    """Utter a numbered list with follow-up buttons and the measures payload."""
    named = several_documents(measures)
    lines = [measure_line(i, m, with_document=named) for i, m in enumerate(measures, 1)]
    text = trim("\n".join([intro, *lines, "点“详情”看全文，或问“这个找哪个部门”。"]), 260)
    dispatcher.utter_message(
        text=text, buttons=follow_up_buttons(measures, more), json_message=measures_payload(measures)
    )


def no_match_reply(
    dispatcher: CollectingDispatcher, runtime: Runtime, suggestions: list[str] | None = None
) -> None:
    """Say honestly that nothing matched; suggest topics and offer the service center."""
    dispatcher.utter_message(
        response="utter_no_match",
        contact=contact_text(runtime.service_center),
        buttons=[*topic_buttons(runtime.topics, suggestions, limit=4), button("转人工", "human_handoff")],
    )


CLARIFY_INTRO = "您是想了解以下哪一项？点一下我给您详细说明："
RELATED_INTRO = "行动方案中可能相关的措施，点一下查看详情："


def clarify_reply(
    dispatcher: CollectingDispatcher, measures: list[MeasureView], intro: str = CLARIFY_INTRO
) -> None:
    """Plausible but not sure: offer the candidates as quick replies; the click is logged."""
    named = several_documents(measures)
    lines = [measure_line(i, m, with_document=named) for i, m in enumerate(measures, 1)]
    text = trim("\n".join([intro, *lines]), 260)
    buttons = [measure_button(f"第{m.number}条 {m.title}"[:24], m, choice="clarify") for m in measures]
    buttons.append(button("都不是，转人工", "human_handoff"))
    dispatcher.utter_message(text=text, buttons=buttons, json_message=clarify_payload(measures))


def outdated_notice(dispatcher: CollectingDispatcher, measure: MeasureView) -> None:
    """Say that a measure comes from a document no longer (or not yet) in force, and which."""
    common = {"document": measure.document_title, "number": str(measure.number)}
    if measure.validity == PENDING:
        dispatcher.utter_message(response="utter_measure_pending", **common)
    elif measure.validity == EXPIRED:
        dispatcher.utter_message(response="utter_measure_expired", **common)
    else:
        dispatcher.utter_message(response="utter_measure_replaced", replaced_by=measure.replaced_by, **common)


def remit_reply(
    dispatcher: CollectingDispatcher,
    runtime: Runtime,
    route: RemitRoute,
    candidates: Sequence[MeasureView] = (),
) -> None:
    """No measure answers for sure, but the matter is a unit's remit: name the unit honestly.

    Measures that may still be related follow as quick replies (a click is logged like a clarify
    pick); the reply then does not claim that the plan has nothing on the matter.
    """
    contact = runtime.search.unit_contact(route.unit)
    dispatcher.utter_message(
        response="utter_remit_related" if candidates else "utter_remit",
        phrase=route.phrase,
        unit=route.unit,
        unit_contact=contact or route.unit,
        contact=contact_text(runtime.service_center),
        buttons=[] if candidates else [button("转人工", "human_handoff")],
        json_message=units_payload({route.unit: []}),
    )
    if candidates:
        clarify_reply(dispatcher, list(candidates), intro=RELATED_INTRO)


def answer_question(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    runtime: Runtime,
    *,
    query: str,
    topic: str | None,
    out_of_scope: bool = False,
) -> list[dict[str, Any]]:
    """Answer, clarify, route by remit or decline; an out-of-scope label needs a strong match to answer."""
    result = runtime.search.search(query, topic=topic, limit=PAGE)
    outcome, route = result.outcome, result.route
    for old in result.outdated_measures:
        # The best match is in a replaced or expired document: say so before what is in force.
        outdated_notice(dispatcher, old)
        if outcome == "decline":
            dispatcher.utter_message(
                response="utter_no_current_measure", contact=contact_text(runtime.service_center)
            )
            record_question(runtime, tracker, "no_match", top_score=result.top_score)
            return []
    if out_of_scope and outcome in ("answer", "clarify") and result.top_score < runtime.search.override:
        # Not a plan question by NLU, not a confident match: a unit's remit, or out of scope.
        route = runtime.search.route(query)
        outcome = "remit" if route else "decline"
    if outcome == "answer":
        measures = result.measures
        intro = "现行文件中相关的措施：" if result.outdated else "为您找到这些相关措施："
        present_measures(dispatcher, measures, intro=intro, more=result.total > PAGE)
        record_question(runtime, tracker, "answered", measures, measures[0].score)
    elif outcome == "clarify":
        clarify_reply(dispatcher, result.measures)
        record_question(runtime, tracker, "clarified", result.measures, result.top_score)
        return [
            SlotSet("last_query", query),
            SlotSet("last_measures", [measure_key(m) for m in result.measures]),
            SlotSet("last_offset", float(PAGE)),
            SlotSet("last_topic", topic),
        ]
    elif route is not None:
        # Measures as candidates only where the NLU did not call the question out of scope.
        candidates = result.measures[:3] if outcome == result.outcome and not out_of_scope else []
        remit_reply(dispatcher, runtime, route, candidates)
        record_question(runtime, tracker, "routed", candidates, top_score=result.top_score)
        if candidates:
            return [
                SlotSet("last_query", query),
                SlotSet("last_measures", [measure_key(m) for m in candidates]),
            ]
        return []
    else:
        return []  # the caller declines in its own words
    return [
        SlotSet("last_measures", [measure_key(m) for m in result.measures]),
        SlotSet("last_query", query),
        SlotSet("last_offset", float(PAGE)),
        SlotSet("last_topic", topic or tracker.get_slot("last_topic")),
    ]


class ActionAnswerPolicy(PolicyAction):
    """A topic question (or an unsure NLU guess): the measures, a clarifying question, the unit, or no."""

    def name(self) -> str:
        return "action_answer_policy"

    def answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any], runtime: Runtime
    ) -> list[dict[str, Any]]:
        intent = user_intent(tracker)
        if declined_elsewhere(dispatcher, tracker, runtime):
            return [SlotSet("last_intent", intent)]
        query = topic_query(runtime, intent, user_text(tracker))
        topic = intent if intent in runtime.topics else None
        events = answer_question(dispatcher, tracker, runtime, query=query, topic=topic)
        if not dispatcher.messages:
            guesses = runtime.search.candidates(query, topic=topic)
            record_question(runtime, tracker, "no_match", top_score=guesses[0].score if guesses else 0.0)
            no_match_reply(dispatcher, runtime, _topics_of(runtime, guesses, topic))
        return [*events, SlotSet("last_intent", intent)]


def _topics_of(runtime: Runtime, guesses: list[Any], topic: str | None) -> list[str]:
    """Topics worth offering for a vague question: the NLU topic, then those of near misses."""
    names = [topic] if topic else []
    for guess in guesses:
        for name, data in runtime.topics.items():
            keywords = keywords_of(data)
            if any(k in guess.measure.category for k in keywords) and name not in names:
                names.append(name)
    return names


class ActionShowMore(PolicyAction):
    """更多: the next page of the last question's measures."""

    def name(self) -> str:
        return "action_show_more"

    def answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any], runtime: Runtime
    ) -> list[dict[str, Any]]:
        query = tracker.get_slot("last_query")
        if not query:
            dispatcher.utter_message(
                response="utter_ask_which_more", buttons=topic_buttons(runtime.topics, limit=6)
            )
            return []
        offset = int(tracker.get_slot("last_offset") or PAGE)
        result = runtime.search.search(query, topic=tracker.get_slot("last_topic"), limit=PAGE, offset=offset)
        if not result.measures:
            dispatcher.utter_message(
                response="utter_no_more_measures", contact=contact_text(runtime.service_center)
            )
            return [SlotSet("last_offset", float(offset))]
        present_measures(
            dispatcher, result.measures, intro="还有这些相关措施：", more=result.total > offset + PAGE
        )
        return [
            SlotSet("last_measures", [measure_key(m) for m in result.measures]),
            SlotSet("last_offset", float(offset + PAGE)),
        ]


class ActionMeasureDetail(PolicyAction):
    """第12条 / 第二条详细说说: one measure's full text, units and source."""

    def name(self) -> str:
        return "action_measure_detail"

    def answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any], runtime: Runtime
    ) -> list[dict[str, Any]]:
        measure = self._chosen(tracker, runtime)
        if measure is None:
            dispatcher.utter_message(response="utter_measure_not_found")
            return [SlotSet("measure_number", None)]
        if measure.validity != IN_FORCE:
            outdated_notice(dispatcher, measure)
        text = trim(
            f"第{measure.number}条（{measure.category}）：{measure.text}\n"
            f"责任单位：{'、'.join(measure.units)}\n出自：{measure.document_title}",
            240,
        )
        buttons = [button("哪个部门负责", "ask_unit"), button("转人工", "human_handoff")]
        dispatcher.utter_message(text=text, json_message=measures_payload([measure]), buttons=buttons)
        if next(tracker.get_latest_entity_values("choice"), None) == "clarify":
            # The user picked a candidate we offered: their question is a free example for staff.
            record_question(
                runtime,
                tracker,
                "clarify_choice",
                [measure],
                1.0,
                text=str(tracker.get_slot("last_query") or ""),
            )
        else:
            record_question(runtime, tracker, "answered", [measure], 1.0)
        return [SlotSet("measure_number", None), SlotSet("last_measures", [measure_key(measure)])]

    def _chosen(self, tracker: Tracker, runtime: Runtime) -> MeasureView | None:
        raw = tracker.get_slot("measure_number") or next(
            tracker.get_latest_entity_values("measure_number"), None
        )
        if raw is not None and ":" in str(raw):  # a quick reply names the measure by its key
            try:
                return _load(runtime, *parse_key(str(raw)))
            except (ValueError, MeasureNotFound):
                return None
        number = _number(raw)
        last = [parse_key(k) for k in tracker.get_slot("last_measures") or []]
        if user_intent(tracker) == "ask_detail" and last:
            if number is None:
                return _load(runtime, *last[0])
            if 1 <= number <= len(last):  # "第二条详细说说" is the 2nd item of the list shown
                return _load(runtime, *last[number - 1])
        if number is None:
            return None
        # The user's words may name the document by its year ("2021年方案第5条").
        asked = f"{user_text(tracker)} 第{number}条"
        result = runtime.search.search(asked, limit=1)
        return result.measures[0] if result.measures else None


def _number(raw: object) -> int | None:
    if raw is None:
        return None
    digits = "".join(ch for ch in str(raw) if ch not in "第条项个 ")
    return parse_chinese_number(digits)


def _load(runtime: Runtime, document_id: int, number: int) -> MeasureView:
    with runtime.database.session() as session:
        return catalogue.measure_view(catalogue.get_measure(session, document_id=document_id, number=number))
