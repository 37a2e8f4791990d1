"""API tokens of admins and staff: issued once, stored as SHA-256, checked on every request.

Tokens are `secrets.token_urlsafe(32)` (256 random bits), so a plain SHA-256 is enough to
store them: there is nothing to brute-force. `ADMIN_BOOTSTRAP_TOKEN`, when set to at least
16 characters, is accepted as an admin token named "bootstrap" (for a first sign-in before any
token exists, or for automation); a shorter value is ignored with a warning, being guessable.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from policy_db.clock import as_utc, utc_now
from policy_db.errors import InvalidInput, NotFound
from policy_db.kinds import ADMIN, ROLES, STAFF  # noqa: F401  (STAFF re-exported)
from policy_db.models import ApiToken

BOOTSTRAP_NAME = "bootstrap"
MIN_BOOTSTRAP_LENGTH = 16
log = logging.getLogger(__name__)
# last_used_at is refreshed at most this often, so reads do not all turn into writes.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's name, role and id (None for the bootstrap token)."""

    name: str
    role: str
    token_id: int | None = None

    @property
    def is_admin(self) -> bool:
        """True for the admin role."""
        return self.role == ADMIN


def hash_token(secret: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def issue_token(session: Session, *, name: str, role: str) -> tuple[ApiToken, str]:
    """Create a token; returns the row and the secret, which is never shown again."""
    name = name.strip()
    if not name or len(name) > 80:
        raise InvalidInput("令牌名称不能为空，且不超过80个字符")
    if role not in ROLES:
        raise InvalidInput(f"角色应为 {' 或 '.join(ROLES)}，而不是“{role}”")
    secret = secrets.token_urlsafe(32)
    token = ApiToken(name=name, role=role, token_hash=hash_token(secret), revoked=False)
    session.add(token)
    session.flush()
    return token, secret


def authenticate(session: Session, secret: str, *, bootstrap: str | None = None) -> Principal | None:
    """The principal of a valid, unrevoked token (or the bootstrap token), else None."""
    if not secret:
        return None
    if bootstrap and hmac.compare_digest(secret.encode(), bootstrap.encode()):
        if len(bootstrap) >= MIN_BOOTSTRAP_LENGTH:
            return Principal(BOOTSTRAP_NAME, ADMIN)
        log.warning("ADMIN_BOOTSTRAP_TOKEN ignored: shorter than %d characters", MIN_BOOTSTRAP_LENGTH)
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(secret)))
    if token is None or token.revoked:
        return None
    now = utc_now()
    if token.last_used_at is None or now - as_utc(token.last_used_at) > LAST_USED_RESOLUTION:
        session.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now))
    return Principal(token.name, token.role, token.id)


def token_view(token: ApiToken) -> dict[str, object]:
    """A token's public fields (never the hash)."""
    return {
        "id": token.id,
        "name": token.name,
        "role": token.role,
        "created_at": as_utc(token.created_at),
        "revoked": token.revoked,
        "last_used_at": as_utc(token.last_used_at) if token.last_used_at else None,
    }


def list_tokens(session: Session) -> list[ApiToken]:
    """Every token, newest first."""
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id.desc())))


def revoke_token(session: Session, token_id: int) -> ApiToken:
    """Revoke a token (idempotent); raises NotFound for an unknown id."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"没有编号为{token_id}的令牌")
    token.revoked = True
    session.flush()
    return token
