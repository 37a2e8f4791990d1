"""Editing responsible units: names, aliases, kind, contacts and remit."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from policy_db.audit import record
from policy_db.auth import Principal
from policy_db.catalogue import bump_revision
from policy_db.errors import Conflict, InvalidInput, UnitNotFound
from policy_db.kinds import UNIT_KINDS
from policy_db.models import (
    Measure,
    MeasureUnit,
    ResponsibleUnit,
)
from policy_db.text import normalize

UNIT_FIELDS = ("name", "full_name", "aliases", "kind", "phone", "address", "remit")


def unit_snapshot(unit: ResponsibleUnit) -> dict[str, Any]:
    """A unit's editable fields."""
    return {
        "name": unit.name,
        "full_name": unit.full_name,
        "aliases": list(unit.aliases or []),
        "kind": unit.kind,
        "phone": unit.phone,
        "address": unit.address,
        "remit": list(unit.remit or []),
    }


def find_unit(session: Session, name: str) -> ResponsibleUnit:
    """A unit by its exact name; UnitNotFound otherwise."""
    unit = session.scalar(select(ResponsibleUnit).where(ResponsibleUnit.name == name.strip()))
    if unit is None:
        raise UnitNotFound(f"没有名为“{name}”的责任单位")
    return unit


def create_unit(session: Session, *, actor: Principal, values: dict[str, Any]) -> ResponsibleUnit:
    """Add a unit; its name and aliases must not be any other unit's name or alias."""
    unit = ResponsibleUnit(
        name="", full_name="", aliases=[], kind="district_department", phone="", address="", remit=[]
    )
    _set_unit_fields(session, unit, {"kind": "district_department", **values})
    session.add(unit)
    session.flush()
    record(session, actor=actor, action="create", entity="unit", key=unit.name, after=unit_snapshot(unit))
    bump_revision(session)
    return unit


def update_unit(session: Session, *, actor: Principal, name: str, values: dict[str, Any]) -> ResponsibleUnit:
    """Change a unit's fields (renaming it renames it in every measure)."""
    unit = find_unit(session, name)
    before = unit_snapshot(unit)
    _set_unit_fields(session, unit, values)
    if unit_snapshot(unit) != before:
        session.flush()
        record(
            session,
            actor=actor,
            action="update",
            entity="unit",
            key=name,
            before=before,
            after=unit_snapshot(unit),
        )
        bump_revision(session)
    return unit


def delete_unit(session: Session, *, actor: Principal, name: str) -> None:
    """Remove a unit no measure names; Conflict listing the measures otherwise."""
    unit = find_unit(session, name)
    numbers = session.scalars(
        select(Measure.number)
        .join(MeasureUnit)
        .where(MeasureUnit.unit_id == unit.id)
        .order_by(Measure.number)
    ).all()
    if numbers:
        listed = "、".join(str(n) for n in numbers[:10]) + ("…" if len(numbers) > 10 else "")
        raise Conflict(f"“{unit.name}”仍是第{listed}条措施的责任单位，不能删除")
    record(session, actor=actor, action="delete", entity="unit", key=unit.name, before=unit_snapshot(unit))
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
    clashes = [
        f"{word}（已属于{taken[normalize(word)]}）"
        for word in [unit.name, *(unit.aliases or [])]
        if normalize(word) in taken
    ]
    if clashes:
        raise Conflict(f"名称或别名已被其他单位使用：{'、'.join(clashes)}")
