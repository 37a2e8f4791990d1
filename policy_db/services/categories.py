"""Editing the categories of a document's sections."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from policy_db.audit import record
from policy_db.auth import Principal
from policy_db.catalogue import bump_revision
from policy_db.errors import Conflict, InvalidInput, NotFound
from policy_db.models import (
    ACTIVE,
    Category,
    Measure,
    PolicyDocument,
    Section,
)


def category_view(category: Category) -> dict[str, Any]:
    """A category's fields as the admin API shows them."""
    return {
        "document_id": category.document_id,
        "ordinal": category.ordinal,
        "section": category.section.ordinal,
        "section_title": category.section.title,
        "title": category.title,
        "lead": category.lead,
    }


def category_overview(session: Session, *, document_id: int | None = None) -> list[dict[str, Any]]:
    """Every category (of one document) with its section, lead and number of active measures."""
    counts = (
        select(Measure.category_id, func.count().label("measures"))
        .where(Measure.status == ACTIVE)
        .group_by(Measure.category_id)
        .subquery()
    )
    stmt = (
        select(
            Category.document_id,
            Category.ordinal,
            Section.ordinal.label("section"),
            Section.title.label("section_title"),
            Category.title,
            Category.lead,
            func.coalesce(counts.c.measures, 0).label("measures"),
        )
        .join(Section, Section.id == Category.section_id)
        .outerjoin(counts, counts.c.category_id == Category.id)
        .order_by(Category.document_id, Category.ordinal)
    )
    if document_id is not None:
        if session.get(PolicyDocument, document_id) is None:
            raise NotFound(f"没有编号为{document_id}的政策文件")
        stmt = stmt.where(Category.document_id == document_id)
    return [dict(row._mapping) for row in session.execute(stmt)]


def find_category_by_ordinal(session: Session, document_id: int, ordinal: int) -> Category:
    """A document's category by its ordinal; NotFound otherwise."""
    category = session.scalar(
        select(Category).where(Category.document_id == document_id, Category.ordinal == ordinal)
    )
    if category is None:
        raise NotFound(f"文件{document_id}中没有第{ordinal}个类别")
    return category


def create_category(
    session: Session,
    *,
    actor: Principal,
    document_id: int,
    section: int,
    title: str,
    lead: str = "",
    ordinal: int | None = None,
) -> Category:
    """Add a category to a section of a document (numbered after the last one by default)."""
    found = session.scalar(
        select(Section).where(Section.document_id == document_id, Section.ordinal == section)
    )
    if found is None:
        raise InvalidInput(f"文件{document_id}中没有第{section}章")
    if ordinal is None:
        last = session.scalar(select(func.max(Category.ordinal)).where(Category.document_id == document_id))
        ordinal = (last or 0) + 1
    elif session.scalar(
        select(Category.id).where(Category.document_id == document_id, Category.ordinal == ordinal)
    ):
        raise Conflict(f"文件{document_id}中已有第{ordinal}个类别")
    title = title.strip()
    if not title:
        raise InvalidInput("类别标题不能为空")
    category = Category(
        document_id=document_id, section_id=found.id, ordinal=ordinal, title=title, lead=lead.strip()
    )
    session.add(category)
    session.flush()
    session.refresh(category)
    record(
        session,
        actor=actor,
        action="create",
        entity="category",
        key=f"{document_id}:{ordinal}",
        after=category_view(category),
    )
    bump_revision(session)
    return category


def update_category(
    session: Session,
    *,
    actor: Principal,
    document_id: int,
    ordinal: int,
    title: str | None = None,
    lead: str | None = None,
) -> Category:
    """Change a category's title or lead sentence."""
    category = find_category_by_ordinal(session, document_id, ordinal)
    before = category_view(category)
    if title is not None:
        if not title.strip():
            raise InvalidInput("类别标题不能为空")
        category.title = title.strip()
    if lead is not None:
        category.lead = lead.strip()
    if category_view(category) != before:
        session.flush()
        record(
            session,
            actor=actor,
            action="update",
            entity="category",
            key=f"{document_id}:{ordinal}",
            before=before,
            after=category_view(category),
        )
        bump_revision(session)
    return category
