"""Recording what users asked and how they rated the answers."""

from __future__ import annotations

from sqlalchemy.orm import Session

from policy_db.models import QuestionLog, Rating

# clarify_choice: the candidate a user picked after "您是想了解以下哪一项？" (logged with the
# original question: a free example question); routed: named the unit whose remit it is.
OUTCOMES = ("answered", "no_match", "out_of_scope", "clarified", "clarify_choice", "routed")
RATINGS = ("满意", "一般", "不满意")


def log_question(
    session: Session,
    *,
    sender_id: str,
    text: str,
    outcome: str,
    channel: str = "",
    intent: str = "",
    measures: list[str] | None = None,
    top_score: float = 0.0,
) -> None:
    """Store one question and its outcome (matched measure keys like "1:25", or none)."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    session.add(
        QuestionLog(
            sender_id=sender_id[:120],
            channel=channel[:30],
            text=text[:2000],
            intent=intent[:60],
            outcome=outcome,
            measures=measures or [],
            top_score=round(top_score, 4),
        )
    )


def save_rating(
    session: Session,
    *,
    sender_id: str,
    rating: str,
    comment: str = "",
    measures: list[str] | None = None,
    topic: str = "",
) -> Rating:
    """Store a satisfaction rating (满意/一般/不满意) with the measures that were shown."""
    if rating not in RATINGS:
        raise ValueError(f"rating must be one of {RATINGS}")
    row = Rating(
        sender_id=sender_id[:120],
        rating=rating,
        comment=comment[:1000],
        measures=measures or [],
        topic=topic[:60],
    )
    session.add(row)
    return row
