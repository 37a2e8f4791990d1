"""Sign-in check and API tokens under /api/admin.

`whoami` answers any valid token (staff or admin); tokens need an admin token.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from app.deps import SessionDep
from app.schemas.admin import TokenCreate, TokenIssued, TokenPublic, WhoAmI
from app.security import AdminDep, AuthenticatedRoute, StaffDep, require_staff
from policy_db.auth import list_tokens, token_view
from policy_db.services import tokens

router = APIRouter(
    prefix="/api/admin", tags=["admin"], dependencies=[Depends(require_staff)], route_class=AuthenticatedRoute
)


@router.get("/whoami", response_model=WhoAmI)
def whoami(principal: StaffDep) -> WhoAmI:
    """The caller's name and role (the console's sign-in check; staff tokens too)."""
    return WhoAmI(name=principal.name, role=principal.role, token_id=principal.token_id)  # type: ignore[arg-type]


@router.get("/tokens", response_model=list[TokenPublic])
def get_tokens(admin: AdminDep, session: SessionDep) -> list[TokenPublic]:
    """Every token, newest first, without secrets."""
    return [TokenPublic(**token_view(t)) for t in list_tokens(session)]  # type: ignore[arg-type]


@router.post("/tokens", status_code=201, response_model=TokenIssued)
def post_token(body: TokenCreate, admin: AdminDep, session: SessionDep) -> TokenIssued:
    """Issue a staff or admin token; the secret is in this answer only."""
    token, secret = tokens.issue(session, actor=admin, name=body.name, role=body.role)
    return TokenIssued(**token_view(token), token=secret)  # type: ignore[arg-type]


@router.delete("/tokens/{token_id}", status_code=204)
def delete_token(token_id: int, admin: AdminDep, session: SessionDep) -> Response:
    """Revoke a token; it stops working at once."""
    tokens.revoke(session, actor=admin, token_id=token_id)
    return Response(status_code=204)
