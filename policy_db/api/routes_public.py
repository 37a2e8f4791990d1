"""Read-only endpoints for the staff console, the widget and anyone with the URL."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import func, select

from policy_db import catalog
from policy_db.api.deps import RuntimeDep, SessionDep
from policy_db.api.schemas import (
    CategoryPublic,
    DocumentPublic,
    Health,
    MeasureList,
    MeasurePublic,
    RoutePublic,
    UnitPublic,
)
from policy_db.errors import NotFound, UnitNotFound
from policy_db.models import Category, Measure, PolicyDocument

router = APIRouter()


@router.get("/health", response_model=Health, tags=["service"])
def health(runtime: RuntimeDep, session: SessionDep) -> Health:
    """Database and Redis reachability, measure count and catalogue revision."""
    measures = session.scalar(select(func.count()).select_from(Measure)) or 0
    redis_state = runtime.redis_state()
    status = "ok" if redis_state in ("ok", "absent") else "degraded"
    return Health(status=status, database="ok", redis=redis_state, measures=measures,
                  revision=catalog.current_revision(session))


@router.get("/api/measures", response_model=MeasureList, tags=["measures"])
def search_measures(
    runtime: RuntimeDep,
    session: SessionDep,
    q: Annotated[str, Query(max_length=500, description="question or keywords")] = "",
    unit: Annotated[str | None, Query(max_length=100, description="unit name or alias")] = None,
    category: Annotated[str | None, Query(max_length=300, description="category title")] = None,
    document_id: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> MeasureList:
    """Ranked search with the bot's matcher; without `q`, the filtered measures in order."""
    if unit and runtime.search.resolve_unit(unit) is None:
        raise UnitNotFound(f"没有名为“{unit}”的责任单位")
    if category and not session.scalar(select(Category.id).where(Category.title == category)):
        raise NotFound(f"没有名为“{category}”的类别")
    if document_id and session.get(PolicyDocument, document_id) is None:
        raise NotFound(f"没有编号为{document_id}的政策文件")
    result = runtime.search.search(q, unit=unit, category=category, document_id=document_id,
                                   limit=limit, offset=offset)
    route = None
    if result.route is not None:
        route = RoutePublic(unit=result.route.unit, phrase=result.route.phrase,
                            contact=runtime.search.unit_contact(result.route.unit))
    return MeasureList(items=[MeasurePublic(**m.payload()) for m in result.measures],
                       total=result.total, kind=result.kind, unit=result.unit, terms=result.terms,
                       outcome=result.outcome, route=route)


@router.get("/api/measures/{document_id}/{number}", response_model=MeasurePublic, tags=["measures"])
def get_measure(document_id: int, number: int, session: SessionDep) -> MeasurePublic:
    """One measure (retired ones too), with its `version` for editing."""
    measure = catalog.get_measure(session, document_id=document_id, number=number)
    return MeasurePublic(**catalog.measure_view(measure).payload())


@router.get("/api/units", response_model=list[UnitPublic], tags=["catalogue"])
def units(session: SessionDep) -> list[UnitPublic]:
    """Every responsible unit with aliases and measure numbers."""
    return [UnitPublic(**u) for u in catalog.list_units(session)]  # type: ignore[arg-type]


@router.get("/api/categories", response_model=list[CategoryPublic], tags=["catalogue"])
def categories(session: SessionDep) -> list[CategoryPublic]:
    """Every category with its section and measure numbers."""
    return [CategoryPublic(**c) for c in catalog.list_categories(session)]  # type: ignore[arg-type]


@router.get("/api/documents", response_model=list[DocumentPublic], tags=["catalogue"])
def documents(session: SessionDep) -> list[DocumentPublic]:
    """Every policy document."""
    return [DocumentPublic(**d) for d in catalog.list_documents(session)]  # type: ignore[arg-type]
