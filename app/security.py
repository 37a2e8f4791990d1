"""Bearer-token dependencies: `require_staff`, `require_admin` (401 without a valid token, 403 wrong role).

Routers of signed-in pages use `AuthenticatedRoute`, which checks the token before FastAPI reads
the request body: a caller without the right token learns nothing about what the body should be.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.deps import RuntimeDep, get_runtime
from policy_db.auth import ROLES, Principal, authenticate

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="API 令牌",
    description="`make admin-token` 生成的令牌，或环境变量 ADMIN_BOOTSTRAP_TOKEN 的值",
)
CredentialsDep = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(401, message, headers={"WWW-Authenticate": "Bearer"})


def current_principal(request: Request, runtime: RuntimeDep, credentials: CredentialsDep) -> Principal:
    """The caller of a valid, unrevoked token; 401 otherwise."""
    checked = getattr(request.state, "principal", None)
    if isinstance(checked, Principal):  # already authenticated by AuthenticatedRoute
        return checked
    if credentials is None:
        raise _unauthorized("需要登录：请在请求头中提供 Authorization: Bearer <令牌>")
    # Its own short transaction: recording last use must not hold locks for the whole request.
    with runtime.database.session() as session:
        principal = authenticate(
            session, credentials.credentials, bootstrap=runtime.settings.admin_bootstrap_token
        )
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


def _role_check(dependant: Dependant) -> Callable[[Principal], Principal] | None:
    """The role dependency a route needs (admin wins over staff), found in its dependency tree."""
    found: set[Callable[..., Any]] = set()
    pending = [dependant]
    while pending:
        current = pending.pop()
        found.add(current.call)  # type: ignore[arg-type]
        pending.extend(current.dependencies)
    return require_admin if require_admin in found else require_staff if require_staff in found else None


class AuthenticatedRoute(APIRoute):
    """A route that authenticates (401) and checks the role (403) before the body is read (422)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The usual handler, behind the token check of the role the route's dependencies need."""
        handler = super().get_route_handler()
        role_check = _role_check(self.dependant)
        if role_check is None:
            return handler

        async def authenticated(request: Request) -> Response:
            credentials = await bearer(request)
            principal = await run_in_threadpool(current_principal, request, get_runtime(request), credentials)
            request.state.principal = role_check(principal)
            return await handler(request)

        return authenticated
