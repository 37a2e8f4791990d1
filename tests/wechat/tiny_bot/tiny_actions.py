"""The tiny bot's one custom action: a lookup slower than WeChat's three deliveries (rasa-sdk)."""

import asyncio
import os

from rasa_sdk import Action


class SlowLookup(Action):
    """Answers `utter_slow_answer` after TINY_BOT_SLOW_SECONDS (awaited: Rasa's loop stays free)."""

    def name(self) -> str:
        return "action_slow_lookup"

    async def run(self, dispatcher, tracker, domain):
        await asyncio.sleep(float(os.environ.get("TINY_BOT_SLOW_SECONDS", "16")))
        dispatcher.utter_message(response="utter_slow_answer")
        return []
