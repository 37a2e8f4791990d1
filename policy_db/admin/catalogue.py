"""Editing responsible units, categories and the synonym lexicon."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from policy_db.audit import record
from policy_db.auth import Principal
from policy_db.catalog import bump_revision
from policy_db.errors import Conflict, InvalidInput, NotFound, UnitNotFound
from policy_db.models import (
    ACTIVE,
    Category,
    Measure,
    MeasureUnit,
    PolicyDocument,
    ResponsibleUnit,
    Section,
    Synonym,
)
from policy_db.text import normalize

UNIT_KINDS = ("district_department", "court", "street_town", "collective", "other")
UNIT_FIELDS = ("name", "full_name", "aliases", "kind", "phone", "address", "remit")


def unit_snapshot(unit: ResponsibleUnit) -> dict[str, Any]:
    """A unit's editable fields."""
    return {"name": unit.name, "full_name": unit.full_name, "aliases": list(unit.aliases or []),
            "kind": unit.kind, "phone": unit.phone, "address": unit.address,
            "remit": list(unit.remit or [])}


def find_unit(session: Session, name: str) -> ResponsibleUnit:
    """A unit by its exact name; UnitNotFound otherwise."""
    unit = session.scalar(select(ResponsibleUnit).where(ResponsibleUnit.name == name.strip()))
    if unit is None:
        raise UnitNotFound(f"没有名为“{name}”的责任单位")
    return unit


def create_unit(session: Session, *, actor: Principal, values: dict[str, Any]) -> ResponsibleUnit:
    """Add a unit; its name and aliases must not be any other unit's name or alias."""
    unit = ResponsibleUnit(name="", full_name="", aliases=[], kind="district_department",
                           phone="", address="", remit=[])
    _set_unit_fields(session, unit, {"kind": "district_department", **values})
    session.add(unit)
    session.flush()
    record(session, actor=actor, action="create", entity="unit", key=unit.name,
           after=unit_snapshot(unit))
    bump_revision(session)
    return unit


def update_unit(session: Session, *, actor: Principal, name: str,
                values: dict[str, Any]) -> ResponsibleUnit:
    """Change a unit's fields (renaming it renames it in every measure)."""
    unit = find_unit(session, name)
    before = unit_snapshot(unit)
    _set_unit_fields(session, unit, values)
    if unit_snapshot(unit) != before:
        session.flush()
        record(session, actor=actor, action="update", entity="unit", key=name,
               before=before, after=unit_snapshot(unit))
        bump_revision(session)
    return unit


def delete_unit(session: Session, *, actor: Principal, name: str) -> None:
    """Remove a unit no measure names; Conflict listing the measures otherwise."""
    unit = find_unit(session, name)
    numbers = session.scalars(select(Measure.number).join(MeasureUnit)
                              .where(MeasureUnit.unit_id == unit.id).order_by(Measure.number)).all()
    if numbers:
        listed = "、".join(str(n) for n in numbers[:10]) + ("…" if len(numbers) > 10 else "")
        raise Conflict(f"“{unit.name}”仍是第{listed}条措施的责任单位，不能删除")
    record(session, actor=actor, action="delete", entity="unit", key=unit.name,
           before=unit_snapshot(unit))
    session.delete(unit)
    bump_revision(session)


def _set_unit_fields(session: Session, unit: ResponsibleUnit, values: dict[str, Any]) -> None:
    unknown = set(values) - set(UNIT_FIELDS)
    assert not unknown, unknown
    if "name" in values:
        unit.name = values["name"].strip()
        if not unit.name:
            raise InvalidInput("单位名称不能为空")
    if "aliases" in values:
        aliases: list[str] = []
        for alias in (a.strip() for a in values["aliases"]):
            if not alias:
                raise InvalidInput("别名不能为空")
            if alias != unit.name and alias not in aliases:
                aliases.append(alias)
        unit.aliases = aliases
    if "remit" in values:
        # What kinds of matters the unit handles: routes questions no measure answers.
        remit: list[str] = []
        for phrase in (p.strip() for p in values["remit"]):
            if not phrase:
                raise InvalidInput("职能事项不能为空")
            if phrase not in remit:
                remit.append(phrase)
        unit.remit = remit
    if "kind" in values and values["kind"] not in UNIT_KINDS:
        raise InvalidInput(f"单位类型应为 {'、'.join(UNIT_KINDS)} 之一，而不是“{values['kind']}”")
    for field in ("full_name", "kind", "phone", "address"):
        if field in values:
            setattr(unit, field, (values[field] or "").strip())
    _check_names_free(session, unit)


def _check_names_free(session: Session, unit: ResponsibleUnit) -> None:
    taken: dict[str, str] = {}
    with session.no_autoflush:  # compare before the unique constraint would fire
        others = [u for u in session.scalars(select(ResponsibleUnit)) if u is not unit]
    for other in others:
        for word in [other.name, *(other.aliases or [])]:
            taken.setdefault(normalize(word), other.name)
    clashes = [f"{word}（已属于{taken[normalize(word)]}）"
               for word in [unit.name, *(unit.aliases or [])] if normalize(word) in taken]
    if clashes:
        raise Conflict(f"名称或别名已被其他单位使用：{'、'.join(clashes)}")


def category_view(category: Category) -> dict[str, Any]:
    """A category's fields as the admin API shows them."""
    return {"document_id": category.document_id, "ordinal": category.ordinal,
            "section": category.section.ordinal, "section_title": category.section.title,
            "title": category.title, "lead": category.lead}


def category_overview(session: Session, *, document_id: int | None = None) -> list[dict[str, Any]]:
    """Every category (of one document) with its section, lead and number of active measures."""
    counts = (select(Measure.category_id, func.count().label("measures"))
              .where(Measure.status == ACTIVE).group_by(Measure.category_id).subquery())
    stmt = (select(Category.document_id, Category.ordinal, Section.ordinal.label("section"),
                   Section.title.label("section_title"), Category.title, Category.lead,
                   func.coalesce(counts.c.measures, 0).label("measures"))
            .join(Section, Section.id == Category.section_id)
            .outerjoin(counts, counts.c.category_id == Category.id)
            .order_by(Category.document_id, Category.ordinal))
    if document_id is not None:
        if session.get(PolicyDocument, document_id) is None:
            raise NotFound(f"没有编号为{document_id}的政策文件")
        stmt = stmt.where(Category.document_id == document_id)
    return [dict(row._mapping) for row in session.execute(stmt)]


def find_category_by_ordinal(session: Session, document_id: int, ordinal: int) -> Category:
    """A document's category by its ordinal; NotFound otherwise."""
    category = session.scalar(select(Category).where(Category.document_id == document_id,
                                                     Category.ordinal == ordinal))
    if category is None:
        raise NotFound(f"文件{document_id}中没有第{ordinal}个类别")
    return category


def create_category(session: Session, *, actor: Principal, document_id: int, section: int,
                    title: str, lead: str = "", ordinal: int | None = None) -> Category:
    """Add a category to a section of a document (numbered after the last one by default)."""
    found = session.scalar(select(Section).where(Section.document_id == document_id,
                                                 Section.ordinal == section))
    if found is None:
        raise InvalidInput(f"文件{document_id}中没有第{section}章")
    if ordinal is None:
        last = session.scalar(select(func.max(Category.ordinal))
                              .where(Category.document_id == document_id))
        ordinal = (last or 0) + 1
    elif session.scalar(select(Category.id).where(Category.document_id == document_id,
                                                  Category.ordinal == ordinal)):
        raise Conflict(f"文件{document_id}中已有第{ordinal}个类别")
    title = title.strip()
    if not title:
        raise InvalidInput("类别标题不能为空")
    category = Category(document_id=document_id, section_id=found.id, ordinal=ordinal,
                        title=title, lead=lead.strip())
    session.add(category)
    session.flush()
    session.refresh(category)
    record(session, actor=actor, action="create", entity="category", key=f"{document_id}:{ordinal}",
           after=category_view(category))
    bump_revision(session)
    return category


def update_category(session: Session, *, actor: Principal, document_id: int, ordinal: int,
                    title: str | None = None, lead: str | None = None) -> Category:
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
        record(session, actor=actor, action="update", entity="category",
               key=f"{document_id}:{ordinal}", before=before, after=category_view(category))
        bump_revision(session)
    return category


def synonym_view(synonym: Synonym) -> dict[str, Any]:
    """A lexicon entry: the variant people say and the plan's term it expands to."""
    return {"id": synonym.id, "term": synonym.term, "variant": synonym.variant}


def list_synonyms(session: Session) -> list[Synonym]:
    """The whole synonym lexicon, by term."""
    return list(session.scalars(select(Synonym).order_by(Synonym.term, Synonym.variant)))


def create_synonym(session: Session, *, actor: Principal, term: str, variant: str) -> Synonym:
    """Add a variant → term expansion (贷款 → 融资)."""
    term, variant = term.strip(), variant.strip()
    if not term or not variant:
        raise InvalidInput("术语和说法都不能为空")
    if normalize(term) == normalize(variant):
        raise InvalidInput("说法与术语相同，无需添加")
    if session.scalar(select(Synonym.id).where(Synonym.term == term, Synonym.variant == variant)):
        raise Conflict(f"“{variant}”→“{term}”已存在")
    synonym = Synonym(term=term, variant=variant)
    session.add(synonym)
    session.flush()
    record(session, actor=actor, action="create", entity="synonym", key=f"{variant}→{term}",
           after=synonym_view(synonym))
    bump_revision(session)
    return synonym


def delete_synonym(session: Session, *, actor: Principal, synonym_id: int) -> None:
    """Remove one lexicon entry."""
    synonym = session.get(Synonym, synonym_id)
    if synonym is None:
        raise NotFound(f"没有编号为{synonym_id}的同义词")
    record(session, actor=actor, action="delete", entity="synonym",
           key=f"{synonym.variant}→{synonym.term}", before=synonym_view(synonym))
    session.delete(synonym)
    bump_revision(session)
