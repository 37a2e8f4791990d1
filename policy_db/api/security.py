"""Bearer-token dependencies: `require_staff`, `require_admin` (401 without a valid token, 403 wrong role)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from policy_db.api.deps import RuntimeDep
from policy_db.auth import ROLES, Principal, authenticate

bearer = HTTPBearer(auto_error=False, scheme_name="API 令牌",
                    description="`make admin-token` 生成的令牌，或环境变量 ADMIN_BOOTSTRAP_TOKEN 的值")
CredentialsDep = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(401, message, headers={"WWW-Authenticate": "Bearer"})


def current_principal(runtime: RuntimeDep, credentials: CredentialsDep) -> Principal:
    """The caller of a valid, unrevoked token; 401 otherwise."""
    if credentials is None:
        raise _unauthorized("需要登录：请在请求头中提供 Authorization: Bearer <令牌>")
    # Its own short transaction: recording last use must not hold locks for the whole request.
    with runtime.database.session() as session:
        principal = authenticate(session, credentials.credentials,
                                 bootstrap=runtime.settings.admin_bootstrap_token)
    if principal is None:
        raise _unauthorized("令牌无效或已被吊销")
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def require_staff(principal: PrincipalDep) -> Principal:
    """Any signed-in staff member or admin."""
    if principal.role not in ROLES:
        raise HTTPException(403, "没有访问权限")
    return principal


def require_admin(principal: PrincipalDep) -> Principal:
    """An admin; 403 for staff tokens."""
    if not principal.is_admin:
        raise HTTPException(403, "需要管理员权限：工作人员令牌不能修改政策数据")
    return principal


StaffDep = Annotated[Principal, Depends(require_staff)]
AdminDep = Annotated[Principal, Depends(require_admin)]
