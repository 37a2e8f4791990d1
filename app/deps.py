"""FastAPI dependencies: the runtime built at start-up, and a database session per request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from policy_db.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    """The runtime created by the app's lifespan."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_session(runtime: RuntimeDep) -> Iterator[Session]:
    """A session committed at the end of the request (rolled back on error)."""
    with runtime.database.session() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
