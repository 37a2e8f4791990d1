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
    Index,
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


# --- policies find the company: saved profiles, policy changes, the outbox, the widget's inbox ---


class EnterpriseProfile(Timestamped, Base):
    """A company's saved profile (with its consent), matched against every published change.

    It holds no personal data beyond the channel user id (the widget's client id or the WeChat
    openid): the company's kinds, industry, street, size and topics, and which consent text it
    agreed to when. `match_key` is the canonical (types, topics, industry) signature: matching
    runs once per distinct signature, not once per row.
    """

    __tablename__ = "enterprise_profile"
    __table_args__ = (UniqueConstraint("channel", "channel_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(10))
    channel_user_id: Mapped[str] = mapped_column(String(120))
    enterprise_types: Mapped[list[str]] = mapped_column(default=list)
    industry: Mapped[str] = mapped_column(String(60), default="")
    street: Mapped[str] = mapped_column(String(60), default="")
    size: Mapped[str] = mapped_column(String(20), default="")
    topics: Mapped[list[str]] = mapped_column(default=list)
    match_key: Mapped[str] = mapped_column(String(1000), index=True)
    consent_text_version: Mapped[str] = mapped_column(String(20))
    consented_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    @validates("industry", "street")
    def _masked(self, _key: str, value: str) -> str:
        return redact(value)  # typed-in words: a phone number or an ID never gets stored


class PolicyChange(Base):
    """One published admin change (new or edited measures, a document's import) and whether it notified.

    `fingerprint` identifies the content published (each measure's key and matched fields), so
    publishing the same content again reuses this row and its notifications instead of repeating them.
    """

    __tablename__ = "policy_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    measure_keys: Mapped[list[str]] = mapped_column(default=list)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    actor: Mapped[str] = mapped_column(String(80))
    notified: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)


class Notification(Base):
    """The outbox: one change for one profile, delivered once by a worker (or merged into a digest).

    States: pending → sending (leased by a worker until `lease_until`) → sent, or back to pending
    with a later `next_attempt_at`, or failed after the last attempt; `merged` when its measures
    travel in another notification of the same profile (`merged_into_id`, the digest).
    """

    __tablename__ = "notification"
    __table_args__ = (
        UniqueConstraint("profile_id", "change_id"),
        Index("ix_notification_due", "state", "next_attempt_at"),
        Index("ix_notification_profile_state", "profile_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("enterprise_profile.id", ondelete="CASCADE"))
    change_id: Mapped[int] = mapped_column(ForeignKey("policy_change.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(10))
    measure_keys: Mapped[list[str]] = mapped_column(default=list)
    state: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    lease_owner: Mapped[str | None] = mapped_column(String(80))
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str] = mapped_column(String(300), default="")
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("notification.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class InboxItem(Base):
    """A notification delivered to the widget: stored here is delivered; `read_at` once it was opened."""

    __tablename__ = "inbox_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(
        ForeignKey("enterprise_profile.id", ondelete="CASCADE"), index=True
    )
    notification_id: Mapped[int | None] = mapped_column(
        ForeignKey("notification.id", ondelete="SET NULL"), unique=True
    )
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text, default="")
    measure_keys: Mapped[list[str]] = mapped_column(default=list)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    read_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
