"""Where a question is about: the plan covers Putuo District only."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.base import record_question, user_text
from actions.replies import topic_buttons
from policy_db.runtime import Runtime

# Words that tie a question about another place back to Putuo ("从嘉定搬到普陀", "杭州的公司想迁过来").
TIES_TO_PUTUO = ("普陀", "迁", "搬", "来沪", "来上海", "来这", "过来", "本区", "这边", "这里", "咱们区")


def elsewhere(tracker: Tracker, text: str) -> str | None:
    """The other district, city or province the question is about, if it is not about Putuo."""
    place = next(tracker.get_latest_entity_values("other_region"), None)
    if place is None or any(word in text for word in TIES_TO_PUTUO):
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
