"""Response and request schemas of the API."""

from __future__ import annotations

from pydantic import BaseModel, Field


class MeasurePublic(BaseModel):
    """A measure as presented by the API and in the bot's reply payload."""

    document_id: int
    number: int
    title: str
    text: str
    category: str
    units: list[str]
    score: float = 0.0
    section: str = ""
    document_title: str = ""
    tags: list[str] = Field(default_factory=list)
    status: str = "active"
    version: int = 1


class RoutePublic(BaseModel):
    """The unit whose remit a question belongs to when no measure answers it."""

    unit: str
    phrase: str
    contact: str = ""


class MeasureList(BaseModel):
    """Ranked search results."""

    items: list[MeasurePublic]
    total: int
    kind: str = "search"
    unit: str | None = None
    terms: list[str] = Field(default_factory=list)
    # answer | clarify | remit | decline: what the bot would do with this question (search only)
    outcome: str = "answer"
    route: RoutePublic | None = None


class UnitPublic(BaseModel):
    """A responsible unit and the numbers of its active measures."""

    name: str
    full_name: str
    aliases: list[str]
    kind: str
    phone: str = ""
    address: str = ""
    remit: list[str] = []
    measures: list[int]
    lead_measures: list[int]


class CategoryPublic(BaseModel):
    """A category of measures."""

    document_id: int
    ordinal: int
    title: str
    section: str
    measures: list[int]


class DocumentPublic(BaseModel):
    """A policy document."""

    id: int
    slug: str
    title: str
    issuers: list[str]
    issued_on: str | None
    status: str
    measures: int


class Health(BaseModel):
    """Service health: `ok`, or `degraded` when an optional dependency is down."""

    status: str
    database: str
    redis: str
    measures: int = 0
    revision: int = 0
