"""Issuing and revoking API tokens, audited (the secret itself is never stored or audited)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from policy_db.audit import record
from policy_db.auth import Principal, issue_token, revoke_token
from policy_db.models import ApiToken


def issue(session: Session, *, actor: Principal, name: str, role: str) -> tuple[ApiToken, str]:
    """A new staff or admin token and its secret (shown once)."""
    token, secret = issue_token(session, name=name, role=role)
    record(
        session,
        actor=actor,
        action="create",
        entity="token",
        key=str(token.id),
        after={"name": token.name, "role": token.role},
    )
    return token, secret


def revoke(session: Session, *, actor: Principal, token_id: int) -> ApiToken:
    """Revoke a token; it stops working at once."""
    token = revoke_token(session, token_id)
    record(
        session,
        actor=actor,
        action="revoke",
        entity="token",
        key=str(token.id),
        after={"name": token.name, "role": token.role, "revoked": True},
    )
    return token
