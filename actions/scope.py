"""Where a question is about: the plan covers Putuo District only."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.base import record_question, user_text
from actions.replies import topic_buttons
from policy_db.places import tied_to_putuo
from policy_db.runtime import Runtime


def elsewhere(tracker: Tracker, text: str) -> str | None:
    """The other district, city or province the question is about, if it is not about Putuo."""
    place = next(tracker.get_latest_entity_values("other_region"), None)
    if place is None or tied_to_putuo(text):
        return None
    return str(place)


def declined_elsewhere(dispatcher: CollectingDispatcher, tracker: Tracker, runtime: Runtime) -> bool:
    """Decline a question about another place (logged as out of scope); False if it is not one."""
    place = elsewhere(tracker, user_text(tracker))
    if place is None:
        return False
    record_question(runtime, tracker, "out_of_scope")
    dispatcher.utter_message(
        response="utter_other_region", place=place, buttons=topic_buttons(runtime.topics, limit=4)
    )
    return True
