"""An admin's edit reaches the running bot at once: no retraining, no restart."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from policy_db.auth import issue_token
from policy_db.db import Database
from tests.e2e.conftest import chat_with, measures_in, text_of
from tools.stack import Stack

pytestmark = [pytest.mark.bot]

QUESTION = "我们想搞个直播带货的网店"
VARIANT = "想搞个直播带货的网店"
Measures = list[dict[str, Any]]
Edit = dict[str, dict[str, Measures]]


def issue_admin_token(database_url: str, name: str = "端到端测试管理员") -> str:
    """A new admin token in the stack's own database, made with the product's token function."""
    database = Database(database_url)
    try:
        with database.session() as session:
            _, secret = issue_token(session, name=name, role="admin")
    finally:
        database.dispose()
    return secret


def score_of(measures: Measures, number: int) -> float:
    """The score the bot gave measure `number` of document 1 (0 when it was not shown)."""
    return next((m["score"] for m in measures if (m["document_id"], m["number"]) == (1, number)), 0.0)


@pytest.fixture(scope="module")
def edit(bot_stack: Stack, stack_db: str) -> Edit:
    """The bot's measures for QUESTION and VARIANT before and after an admin adds QUESTION to measure 38."""
    ask = {q: chat_with(bot_stack.rasa_url) for q in (QUESTION, VARIANT)}
    before = {q: measures_in(ask[q](q)) for q in ask}
    headers = {"Authorization": f"Bearer {issue_admin_token(stack_db)}"}
    response = httpx.post(
        f"{bot_stack.app_url}/api/admin/measures/1/38/examples",
        json={"text": QUESTION},
        headers=headers,
        timeout=30,
    )
    assert response.status_code == 201, response.text
    assert response.json()["source"] == "admin"
    replies = {q: chat_with(bot_stack.rasa_url)(q) for q in ask}
    for q, reply in replies.items():
        print(f"{q} → {text_of(reply)[:80]} {[m['number'] for m in measures_in(reply)]}")
    return {"before": before, "after": {q: measures_in(reply) for q, reply in replies.items()}}


def test_the_added_example_question_is_answered_with_its_measure(edit: Edit) -> None:
    after = edit["after"][QUESTION]
    assert after, "the bot answered without measures (see the captured reply above)"
    assert (after[0]["document_id"], after[0]["number"]) == (1, 38)
    assert after[0]["units"] == ["区市场监管局"]


def test_the_edit_reaches_the_running_bot_without_retraining(edit: Edit) -> None:
    # The same words, routed by the NLU to a topic: the example is matched at once, so the bot
    # is surer of measure 38 than it was before the edit (no retraining, no restart).
    after = edit["after"][VARIANT]
    assert after and (after[0]["document_id"], after[0]["number"]) == (1, 38)
    assert after[0]["score"] > score_of(edit["before"][VARIANT], 38)


def test_only_admins_may_add_examples_to_the_running_bot(bot_stack: Stack) -> None:
    url = f"{bot_stack.app_url}/api/admin/measures/1/38/examples"
    assert httpx.post(url, json={"text": "匿名添加"}, timeout=30).status_code == 401
    forged = httpx.post(
        url, json={"text": "伪造令牌"}, headers={"Authorization": "Bearer forged"}, timeout=30
    )
    assert forged.status_code == 401
