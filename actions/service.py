"""Service turns: ratings (好差评), human handoff, out-of-scope questions, the core fallback."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from actions.base import PolicyAction, record_question, user_text
from actions.policy import answer_question, no_match_reply
from actions.replies import button, contact_text, parse_key, topic_buttons
from actions.scope import declined_elsewhere
from policy_db.question_log import RATINGS, save_rating
from policy_db.runtime import Runtime

RATING_CUES = {
    "不满意": ("不满意", "差", "没用", "没帮", "不行", "失望"),
    "一般": ("一般", "还行", "凑合", "马马虎虎"),
    "满意": ("满意", "好", "不错", "有用", "赞", "谢谢"),
}


def rating_of(text: str) -> str | None:
    """满意/一般/不满意 from the user's words (the negative cues are checked first)."""
    for rating, cues in RATING_CUES.items():
        if any(cue in text for cue in cues):
            return rating
    return None


class ActionSaveRating(PolicyAction):
    """Store a 好差评 rating with the measures shown, and thank the user."""

    def name(self) -> str:
        return "action_save_rating"

    def answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any], runtime: Runtime
    ) -> list[dict[str, Any]]:
        text = user_text(tracker)
        entity = next(tracker.get_latest_entity_values("rating"), None)
        rating = entity if entity in RATINGS else rating_of(text)
        if rating is None:
            dispatcher.utter_message(
                response="utter_ask_rating", buttons=[button(r, "rate", rating=r) for r in RATINGS]
            )
            return []
        comment = "" if text.startswith("/") or text == rating else text
        with runtime.database.session() as session:
            save_rating(
                session,
                sender_id=tracker.sender_id,
                rating=rating,
                comment=comment,
                measures=list(tracker.get_slot("last_measures") or []),
                topic=str(tracker.get_slot("last_topic") or ""),
            )
        thanks = {
            "满意": "utter_rating_thanks_good",
            "一般": "utter_rating_thanks_neutral",
            "不满意": "utter_rating_thanks_bad",
        }[rating]
        dispatcher.utter_message(response=thanks, contact=contact_text(runtime.service_center))
        return [SlotSet("rating", None)]


class ActionHumanHandoff(PolicyAction):
    """转人工: the service-center contact, and the lead unit of the last answer."""

    def name(self) -> str:
        return "action_human_handoff"

    def answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any], runtime: Runtime
    ) -> list[dict[str, Any]]:
        lead_hint = ""
        last = tracker.get_slot("last_measures") or []
        if last:
            document_id, number = parse_key(last[0])
            found = runtime.search.search(f"第{number}条", document_id=document_id, limit=1)
            if found.measures:
                lead = found.measures[0].units[0]
                lead_hint = f"您刚才问的第{number}条由{lead}牵头负责，也可以直接联系该单位。"
        dispatcher.utter_message(
            response="utter_handoff", contact=contact_text(runtime.service_center), lead_hint=lead_hint
        )
        record_question(runtime, tracker, "no_match")
        return []


class ActionOutOfScope(PolicyAction):
    """A question the action plan does not cover: say so, no measures, suggest topics."""

    def name(self) -> str:
        return "action_out_of_scope"

    def answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any], runtime: Runtime
    ) -> list[dict[str, Any]]:
        if declined_elsewhere(dispatcher, tracker, runtime):
            return []
        # The NLU label alone never refuses a question that retrieval answers with confidence.
        events = answer_question(
            dispatcher, tracker, runtime, query=user_text(tracker), topic=None, out_of_scope=True
        )
        if dispatcher.messages:
            return events
        dispatcher.utter_message(
            response="utter_out_of_scope",
            contact=contact_text(runtime.service_center),
            buttons=topic_buttons(runtime.topics, limit=4),
        )
        record_question(runtime, tracker, "out_of_scope")
        return []


class ActionDefaultFallback(PolicyAction):
    """Rasa's core fallback: an honest "not understood" reply; the turn is not kept in history."""

    def name(self) -> str:
        return "action_default_fallback"

    def answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any], runtime: Runtime
    ) -> list[dict[str, Any]]:
        if user_text(tracker):
            record_question(runtime, tracker, "no_match")
        no_match_reply(dispatcher, runtime)
        return [UserUtteranceReverted()]
