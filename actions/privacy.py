"""A person's privacy: what is kept and for how long, and "删除我的记录" (delete everything kept)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import Restarted
from rasa_sdk.executor import CollectingDispatcher

from actions.base import PolicyAction
from policy_db.runtime import Runtime
from policy_db.services.personal_data import FORGOTTEN_PAYLOAD, forget_sender

TABLE_NAMES = {
    "question_log": "提问记录",
    "rating": "评价",
    "chat_message": "聊天记录",
    "enterprise_profile": "企业画像",
    "notification": "政策推送",
    "inbox_item": "消息",
}


class ActionPrivacyNotice(PolicyAction):
    """What is stored, how long, masked how, and how to delete it."""

    def name(self) -> str:
        return "action_privacy_notice"

    def answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any], runtime: Runtime
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_privacy_notice", days=runtime.settings.retention_days)
        return []


class ActionForgetMe(PolicyAction):
    """Delete the sender's questions, ratings and chat history; the conversation restarts empty."""

    def name(self) -> str:
        return "action_forget_me"

    def answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any], runtime: Runtime
    ) -> list[dict[str, Any]]:
        with runtime.database.session() as session:
            counts = forget_sender(session, sender_id=tracker.sender_id)
        # The profile tables are named only when there was a profile to delete.
        shown = {t: n for t, n in counts.items() if n or t in ("question_log", "rating", "chat_message")}
        summary = "、".join(f"{TABLE_NAMES.get(table, table)}{n}条" for table, n in shown.items())
        dispatcher.utter_message(
            response="utter_forgotten",
            summary=summary,
            json_message={"type": FORGOTTEN_PAYLOAD, "deleted": counts},
        )
        return [Restarted()]
