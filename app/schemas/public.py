"""Response schemas of the public API: the data layer's views, and the health report."""

from __future__ import annotations

from pydantic import BaseModel

from policy_db.catalogue import CategoryView, DocumentView, MeasureView, UnitView
from policy_db.lookup import MeasurePage, Route

# The read model is the data layer's views, served as they are (FastAPI reads dataclasses):
# one definition of each shape, the same as the bot's reply payload (DESIGN.md).
MeasurePublic = MeasureView
RoutePublic = Route
MeasureList = MeasurePage
UnitPublic = UnitView
CategoryPublic = CategoryView
DocumentPublic = DocumentView


class Health(BaseModel):
    """Service health: `ok`, or `degraded` when an optional dependency is down."""

    status: str
    database: str
    redis: str
    measures: int = 0
    revision: int = 0


class Privacy(BaseModel):
    """What the assistant keeps about a person, how long, and how to delete it."""

    retention_days: int
    masked: list[str]
    delete_command: str
