"""An admin's edit reaches the running bot at once: no retraining, no restart."""

from __future__ import annotations

import httpx
import pytest

from policy_db.auth import issue_token
from policy_db.db import Database
from tests.e2e.conftest import chat_with, measures_in, text_of
from tools.stack import Stack

pytestmark = [pytest.mark.bot]

QUESTION = "我们想搞个直播带货的网店"


def issue_admin_token(database_url: str, name: str = "端到端测试管理员") -> str:
    """A new admin token in the stack's own database, made with the product's token function."""
    database = Database(database_url)
    try:
        with database.session() as session:
            _, secret = issue_token(session, name=name, role="admin")
    finally:
        database.dispose()
    return secret


def score_of(measures: list[dict], number: int) -> float:  # type: ignore[type-arg]
    """The score the bot gave measure `number` of document 1 (0 when it was not shown)."""
    return next((m["score"] for m in measures if (m["document_id"], m["number"]) == (1, number)), 0.0)


def test_an_example_question_added_by_an_admin_answers_the_next_question(bot_stack: Stack,
                                                                         stack_db: str) -> None:
    before = measures_in(chat_with(bot_stack.rasa_url)(QUESTION))
    headers = {"Authorization": f"Bearer {issue_admin_token(stack_db)}"}
    response = httpx.post(f"{bot_stack.app_url}/api/admin/measures/1/38/examples",
                          json={"text": QUESTION}, headers=headers, timeout=30)
    assert response.status_code == 201, response.text
    assert response.json()["source"] == "admin"

    reply = chat_with(bot_stack.rasa_url)(QUESTION)
    after = measures_in(reply)
    assert after, text_of(reply)
    assert (after[0]["document_id"], after[0]["number"]) == (1, 38)
    assert after[0]["units"] == ["区市场监管局"]
    # The example itself is now matched: the bot is surer of measure 38 than before the edit.
    assert after[0]["score"] > score_of(before, 38)


def test_only_admins_may_add_examples_to_the_running_bot(bot_stack: Stack) -> None:
    url = f"{bot_stack.app_url}/api/admin/measures/1/38/examples"
    assert httpx.post(url, json={"text": "匿名添加"}, timeout=30).status_code == 401
    forged = httpx.post(url, json={"text": "伪造令牌"}, headers={"Authorization": "Bearer forged"},
                        timeout=30)
    assert forged.status_code == 401
