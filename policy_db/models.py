"""Typed SQLAlchemy 2.x models of the policy database."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates

from policy_db.clock import utc_now
from policy_db.kinds import ACTIVE, EXPIRED, IN_FORCE, PENDING, REPLACED, RETIRED, Validity  # noqa: F401
from privacy import redact, redact_strings


class Base(DeclarativeBase):
    """Declarative base with the JSON type mapped for lists and dicts."""

    type_annotation_map = {list[str]: JSON, dict[str, Any]: JSON, list[Any]: JSON}


def _now() -> dt.datetime:
    return utc_now()


class Timestamped:
    """Created/updated timestamps kept by the database layer."""

    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, onupdate=_now)


class PolicyDocument(Timestamped, Base):
    """A policy document such as the district's action plan."""

    __tablename__ = "policy_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    issuers: Mapped[list[str]] = mapped_column(default=list)
    issued_on: Mapped[dt.date | None] = mapped_column(Date)
    preamble: Mapped[str] = mapped_column(Text, default="")
    source_text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    document_number: Mapped[str] = mapped_column(String(80), default="", server_default="")  # 文号
    effective_on: Mapped[dt.date | None] = mapped_column(Date)
    expires_on: Mapped[dt.date | None] = mapped_column(Date)  # the last day it applies
    superseded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("policy_document.id", ondelete="SET NULL", name="fk_policy_document_superseded_by_id")
    )
    superseded_by: Mapped[PolicyDocument | None] = relationship(remote_side="PolicyDocument.id")

    def validity(self, today: dt.date) -> Validity:
        """Whether the document applies on `today`: in force, pending, expired or replaced."""
        if self.superseded_by_id is not None:
            return REPLACED
        if self.expires_on is not None and today > self.expires_on:
            return EXPIRED
        if self.effective_on is not None and today < self.effective_on:
            return PENDING
        return IN_FORCE

    sections: Mapped[list[Section]] = relationship(
        back_populates="document", order_by="Section.ordinal", cascade="all, delete-orphan"
    )
    measures: Mapped[list[Measure]] = relationship(
        back_populates="document", order_by="Measure.number", cascade="all, delete-orphan"
    )


class Section(Base):
    """A numbered section of a document (一、二、…)."""

    __tablename__ = "section"
    __table_args__ = (UniqueConstraint("document_id", "ordinal"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("policy_document.id", ondelete="CASCADE"))
    ordinal: Mapped[int]
    title: Mapped[str] = mapped_column(String(300))

    document: Mapped[PolicyDocument] = relationship(back_populates="sections")
    categories: Mapped[list[Category]] = relationship(
        back_populates="section", order_by="Category.ordinal", cascade="all, delete-orphan"
    )


class Category(Base):
    """A category of measures ((一)、(二)…) with its lead sentence."""

    __tablename__ = "category"
    __table_args__ = (UniqueConstraint("document_id", "ordinal"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("policy_document.id", ondelete="CASCADE"))
    section_id: Mapped[int] = mapped_column(ForeignKey("section.id", ondelete="CASCADE"))
    ordinal: Mapped[int]
    title: Mapped[str] = mapped_column(String(300))
    lead: Mapped[str] = mapped_column(Text, default="")

    section: Mapped[Section] = relationship(back_populates="categories")
    measures: Mapped[list[Measure]] = relationship(back_populates="category", order_by="Measure.number")


class ResponsibleUnit(Base):
    """A responsible unit (责任单位) with its canonical name as written in the plan."""

    __tablename__ = "responsible_unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    aliases: Mapped[list[str]] = mapped_column(default=list)
    kind: Mapped[str] = mapped_column(String(40), default="district_department")
    phone: Mapped[str] = mapped_column(String(60), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    # The kinds of business matters the unit handles (its public functions): routes a question
    # that no measure answers to the unit whose remit it is.
    remit: Mapped[list[str]] = mapped_column(default=list)


class MeasureUnit(Base):
    """The measure↔unit link, keeping the document's order (position 0 = lead) and role."""

    __tablename__ = "measure_unit"

    measure_id: Mapped[int] = mapped_column(ForeignKey("measure.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("responsible_unit.id"), primary_key=True)
    position: Mapped[int]
    role: Mapped[str] = mapped_column(String(16), default="responsible")

    unit: Mapped[ResponsibleUnit] = relationship(lazy="joined")


class Measure(Timestamped, Base):
    """A numbered measure; `version` increases on every edit (optimistic concurrency)."""

    __tablename__ = "measure"
    __table_args__ = (UniqueConstraint("document_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("policy_document.id", ondelete="CASCADE"))
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id"))
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(120), default="")
    text: Mapped[str] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    version: Mapped[int] = mapped_column(Integer, default=1)

    document: Mapped[PolicyDocument] = relationship(back_populates="measures")
    category: Mapped[Category] = relationship(back_populates="measures", lazy="joined")
    unit_links: Mapped[list[MeasureUnit]] = relationship(
        order_by="MeasureUnit.position", cascade="all, delete-orphan", lazy="selectin"
    )
    examples: Mapped[list[ExampleQuestion]] = relationship(
        back_populates="measure", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def unit_names(self) -> list[str]:
        """Unit names in the document's order, lead unit first."""
        return [link.unit.name for link in self.unit_links]


class ExampleQuestion(Base):
    """A curated example question that should find its measure."""

    __tablename__ = "example_question"
    __table_args__ = (UniqueConstraint("measure_id", "text"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("measure.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(String(20), default="seed")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)

    measure: Mapped[Measure] = relationship(back_populates="examples")


class Synonym(Base):
    """A colloquial variant that expands to a canonical term of the plans (贷款 → 融资)."""

    __tablename__ = "synonym"
    __table_args__ = (UniqueConstraint("variant", "term"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    term: Mapped[str] = mapped_column(String(60))
    variant: Mapped[str] = mapped_column(String(60))


class Stopword(Base):
    """A filler word in questions that carries no topic (请问, 一下)."""

    __tablename__ = "stopword"

    word: Mapped[str] = mapped_column(String(30), primary_key=True)


class TextVector(Base):
    """A stored sentence embedding, keyed by model and text hash, so restarts never re-embed."""

    __tablename__ = "text_vector"

    model: Mapped[str] = mapped_column(String(120), primary_key=True)
    text_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    dim: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class CatalogueRevision(Base):
    """One row counting writes to the catalogue, so every process can notice changes cheaply."""

    __tablename__ = "catalog_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)


class QuestionLog(Base):
    """A question a user asked and its outcome, for the insights page."""

    __tablename__ = "question_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    sender_id: Mapped[str] = mapped_column(String(120), index=True)
    channel: Mapped[str] = mapped_column(String(30), default="")
    text: Mapped[str] = mapped_column(Text)
    intent: Mapped[str] = mapped_column(String(60), default="")
    outcome: Mapped[str] = mapped_column(String(20))
    measures: Mapped[list[Any]] = mapped_column(default=list)
    top_score: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)

    @validates("text")
    def _masked(self, _key: str, value: str) -> str:
        return redact(value)  # personal data never reaches the log (nor the insights or exports)


class Rating(Base):
    """A satisfaction rating (好差评) with the measures that were shown."""

    __tablename__ = "rating"

    id: Mapped[int] = mapped_column(primary_key=True)
    sender_id: Mapped[str] = mapped_column(String(120), index=True)
    rating: Mapped[str] = mapped_column(String(10))
    comment: Mapped[str] = mapped_column(Text, default="")
    measures: Mapped[list[Any]] = mapped_column(default=list)
    topic: Mapped[str] = mapped_column(String(60), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)

    @validates("comment")
    def _masked(self, _key: str, value: str) -> str:
        return redact(value)


class ChatMessage(Base):
    """One message of a widget conversation, kept so the history survives a reload."""

    __tablename__ = "chat_message"
    __table_args__ = (UniqueConstraint("sender_id", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sender_id: Mapped[str] = mapped_column(String(120), index=True)
    client_id: Mapped[str | None] = mapped_column(String(80))
    reply_to: Mapped[int | None] = mapped_column(ForeignKey("chat_message.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(10))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)

    @validates("payload")
    def _masked(self, _key: str, value: dict[str, Any]) -> dict[str, Any]:
        # The user's words, and bot replies that echo them, are kept masked.
        return redact_strings(value)


class ApiToken(Base):
    """An API token of the staff console or an admin; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(10))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[bool] = mapped_column(default=False)


class AuditEntry(Base):
    """One admin write: who, when, what (entity and key), and the record before and after."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor: Mapped[str] = mapped_column(String(80), index=True)
    token_id: Mapped[int | None] = mapped_column(ForeignKey("api_token.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(20), index=True)
    entity: Mapped[str] = mapped_column(String(20), index=True)
    entity_key: Mapped[str] = mapped_column(String(200))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)


class DailyCount(Base):
    """One counter of one report day (Shanghai time): questions, topics, measures, ratings.

    Kept by `log_question` and `save_rating` in the writing transaction and read by the insights
    report, so the figures stay when old rows are purged or a person's records are deleted.
    """

    __tablename__ = "daily_count"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    counter: Mapped[str] = mapped_column(String(20), primary_key=True)
    key: Mapped[str] = mapped_column(String(80), primary_key=True, default="")
    count: Mapped[int] = mapped_column(Integer, default=0)
