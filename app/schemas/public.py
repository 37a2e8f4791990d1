"""Response schemas of the public API, built from the data layer's views (`from_attributes`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from policy_db.lookup import MeasurePage


class View(BaseModel):
    """A schema read from a view dataclass's attributes (one definition of the fields' meaning)."""

    model_config = ConfigDict(from_attributes=True)


class MeasurePublic(View):
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


class RoutePublic(View):
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

    @classmethod
    def from_page(cls, page: MeasurePage) -> MeasureList:
        """The schema of a lookup's page."""
        return cls.model_validate(page, from_attributes=True)


class UnitPublic(View):
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


class CategoryPublic(View):
    """A category of measures."""

    document_id: int
    ordinal: int
    title: str
    section: str
    measures: list[int]


class DocumentPublic(View):
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
