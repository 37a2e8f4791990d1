"""A person's records under /api/admin/people: deleting them at the person's request (PIPL)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel

from app.deps import SessionDep
from app.security import AdminDep, AuthenticatedRoute, require_admin
from policy_db.services.personal_data import MAX_SENDER_ID, forget_sender

router = APIRouter(
    prefix="/api/admin", tags=["admin"], dependencies=[Depends(require_admin)], route_class=AuthenticatedRoute
)
SenderPath = Annotated[
    str, Path(min_length=1, max_length=MAX_SENDER_ID, description="会话标识（各渠道的 sender id）")
]


class PersonalDataDeleted(BaseModel):
    """How many rows of each table were deleted."""

    question_log: int
    rating: int
    chat_message: int
    enterprise_profile: int = 0
    notification: int = 0
    inbox_item: int = 0


@router.delete("/people/{sender_id}", response_model=PersonalDataDeleted)
def delete_person(sender_id: SenderPath, admin: AdminDep, session: SessionDep) -> PersonalDataDeleted:
    """Delete one person's questions, ratings, chat history and saved profile; insights stay as they are."""
    return PersonalDataDeleted(**forget_sender(session, sender_id=sender_id, actor=admin))
