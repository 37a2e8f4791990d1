"""Read-only endpoints for the staff console, the widget and anyone with the URL."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import func, select

from app.deps import RuntimeDep, SessionDep
from app.schemas.public import (
    CategoryPublic,
    DocumentPublic,
    Health,
    MeasureList,
    MeasurePublic,
    Privacy,
    UnitPublic,
)
from policy_db import catalogue
from policy_db.lookup import MeasureQuery, find_measures
from policy_db.models import Measure

router = APIRouter()


@router.get("/health", response_model=Health, tags=["service"])
def health(runtime: RuntimeDep, session: SessionDep) -> Health:
    """Database and Redis reachability, measure count and catalogue revision."""
    measures = session.scalar(select(func.count()).select_from(Measure)) or 0
    redis_state = runtime.redis_state()
    status = "ok" if redis_state in ("ok", "absent") else "degraded"
    return Health(
        status=status,
        database="ok",
        redis=redis_state,
        measures=measures,
        revision=catalogue.current_revision(session),
    )


@router.get("/api/privacy", response_model=Privacy, tags=["service"])
def privacy(runtime: RuntimeDep) -> Privacy:
    """The widget's privacy notice: how long conversations are kept, what is masked, how to delete."""
    return Privacy(
        retention_days=runtime.settings.retention_days,
        masked=["手机号", "身份证号", "统一社会信用代码", "银行卡号", "邮箱"],
        delete_command="删除我的记录",
    )


@router.get("/api/measures", response_model=MeasureList, tags=["measures"])
def search_measures(
    runtime: RuntimeDep,
    session: SessionDep,
    q: Annotated[str, Query(max_length=500, description="question or keywords")] = "",
    unit: Annotated[str | None, Query(max_length=100, description="unit name or alias")] = None,
    category: Annotated[str | None, Query(max_length=300, description="category title")] = None,
    document_id: Annotated[int | None, Query(ge=1)] = None,
    include_outdated: Annotated[bool, Query(description="also expired and replaced documents")] = False,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> MeasureList:
    """Ranked search with the bot's matcher; without `q`, the filtered measures in order."""
    query = MeasureQuery(
        q=q, unit=unit, category=category, document_id=document_id, include_outdated=include_outdated
    )
    return find_measures(runtime.search, session, query, limit=limit, offset=offset)


@router.get("/api/measures/{document_id}/{number}", response_model=MeasurePublic, tags=["measures"])
def get_measure(document_id: int, number: int, session: SessionDep) -> MeasurePublic:
    """One measure (retired ones too), with its `version` for editing."""
    measure = catalogue.get_measure(session, document_id=document_id, number=number)
    return catalogue.measure_view(measure)


@router.get("/api/units", response_model=list[UnitPublic], tags=["catalogue"])
def units(session: SessionDep) -> list[UnitPublic]:
    """Every responsible unit with aliases and measure numbers."""
    return catalogue.list_units(session)


@router.get("/api/categories", response_model=list[CategoryPublic], tags=["catalogue"])
def categories(session: SessionDep) -> list[CategoryPublic]:
    """Every category with its section and measure numbers."""
    return catalogue.list_categories(session)


@router.get("/api/documents", response_model=list[DocumentPublic], tags=["catalogue"])
def documents(session: SessionDep) -> list[DocumentPublic]:
    """Every policy document."""
    return catalogue.list_documents(session)
