"""Personal data never reaches storage: question log, ratings, chat history, insights and its CSV.

Valid mobiles, resident IDs, credit codes and bank cards inside Chinese sentences are stored masked
on both databases; measure numbers, years and amounts survive. Invalid look-alikes stay as typed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from policy_db.chat_history import claim_message, conversation, store_replies
from policy_db.models import ChatMessage, QuestionLog, Rating
from policy_db.question_log import log_question, save_rating
from tests.integration.admin_support import AdminApi, admin_api, seeded_runtime_of
from tests.unit.test_privacy import AFTER, BEFORE, bank_cards, credit_codes, mobiles, resident_ids

KEPT = "第18条 2021年 500万元"
STORAGE = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AdminApi]:
    with (
        seeded_runtime_of(str(request.param), tmp_path_factory.mktemp("privacy")) as runtime,
        admin_api(runtime) as admin,
    ):
        yield admin


def stored_texts(api: AdminApi, sender: str) -> str:
    """Everything stored for the sender, and what staff and exports show, as one string."""
    with api.runtime.database.session() as session:
        parts = [q.text for q in session.scalars(select(QuestionLog).where(QuestionLog.sender_id == sender))]
        parts += [r.comment for r in session.scalars(select(Rating).where(Rating.sender_id == sender))]
        parts += [
            str(m.payload)
            for m in session.scalars(select(ChatMessage).where(ChatMessage.sender_id == sender))
        ]
        parts += [str(m) for m in conversation(session, sender_id=sender)]
    parts.append(api.client.get("/api/admin/insights", headers=api.admin).text)
    parts.append(api.client.get("/api/admin/insights.csv", headers=api.admin).text)
    return "\n".join(parts)


@STORAGE
@given(
    before=BEFORE,
    after=AFTER,
    value=st.one_of(mobiles(), resident_ids(), credit_codes(), bank_cards()),
)
def test_valid_personal_numbers_are_stored_and_shown_masked(
    api: AdminApi, before: str, after: str, value: str
) -> None:
    sender = f"p-{uuid.uuid4().hex[:12]}"
    text = f"{before}{value}{after} {KEPT}"
    with api.runtime.database.session() as session:
        log_question(session, sender_id=sender, text=text, outcome="no_match", intent="nlu_fallback")
        save_rating(session, sender_id=sender, rating="不满意", comment=text)
        question = claim_message(session, sender_id=sender, client_id="c1", text=text)
        assert question is not None
        store_replies(session, question, [{"text": f"您说的是：{text}"}])
    shown = stored_texts(api, sender)
    assert value not in shown and value.replace(" ", "") not in shown.replace(" ", "")
    assert shown.count("第18条") >= 4 and "2021年" in shown and "500万元" in shown


def test_a_look_alike_with_a_wrong_check_digit_is_kept_as_typed(api: AdminApi) -> None:
    sender = f"p-{uuid.uuid4().hex[:12]}"
    wrong_id = "110101199003074515"  # the check digit of this ID is 4
    with api.runtime.database.session() as session:
        log_question(session, sender_id=sender, text=f"编号{wrong_id}是什么", outcome="no_match")
    assert wrong_id in stored_texts(api, sender)
