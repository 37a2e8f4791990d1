"""Editing measures with optimistic concurrency, and curating their example questions."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from policy_db.audit import record
from policy_db.auth import Principal
from policy_db.catalogue import bump_revision, get_measure, measure_key
from policy_db.errors import Conflict, InvalidInput, NotFound, VersionConflict
from policy_db.ingest import default_title
from policy_db.kinds import RETIRED, STATUSES, UNIT_ROLES, Status
from policy_db.models import (
    ACTIVE,
    Category,
    ExampleQuestion,
    Measure,
    MeasureUnit,
    PolicyDocument,
    ResponsibleUnit,
)
from policy_db.push.matching import measure_states
from policy_db.push.outbox import publish_change
from policy_db.text import normalize

if TYPE_CHECKING:
    from policy_db.search import PolicySearch

UnitRef = str | dict[str, Any]
# Edits of these fields can make a measure concern companies it did not concern before.
MATCHED_FIELDS = frozenset({"text", "title", "tags", "category_id", "status"})


@dataclass(frozen=True)
class MeasureEdit:
    """The fields an admin may change; None leaves a field as it is."""

    text: str | None = None
    title: str | None = None
    units: list[UnitRef] | None = None
    category: int | str | None = None
    tags: list[str] | None = None
    status: str | None = None

    def is_empty(self) -> bool:
        """True when no field is given."""
        return all(getattr(self, f.name) is None for f in fields(self))


def measure_snapshot(measure: Measure) -> dict[str, Any]:
    """A measure's editable state, for the audit trail."""
    return {
        "document_id": measure.document_id,
        "number": measure.number,
        "title": measure.title,
        "text": measure.text,
        "category": measure.category.ordinal,
        "category_title": measure.category.title,
        "tags": list(measure.tags or []),
        "units": [{"name": link.unit.name, "role": link.role} for link in measure.unit_links],
        "status": measure.status,
        "version": measure.version,
    }


def edit_measure(
    session: Session,
    *,
    actor: Principal,
    document_id: int,
    number: int,
    expected_version: int,
    edit: MeasureEdit,
    action: str = "update",
    notify: bool = True,
    search: PolicySearch | None = None,
) -> Measure:
    """Apply an edit if the measure is still at `expected_version`; else VersionConflict, nothing written.

    An edit of what matching reads (text, title, tags, category, status) is published as a policy
    change; with `notify`, companies whose profiles it newly concerns are notified (a corrected
    typo concerns nobody new).
    """
    if edit.is_empty():
        raise InvalidInput("没有要修改的字段")
    measure = get_measure(session, document_id=document_id, number=number)
    values = _changed_values(session, measure, edit)
    if measure.version != expected_version:
        raise _conflict(measure, measure.version)
    if not values:
        return measure
    before = measure_snapshot(measure)
    matched_before = measure_states(session, [measure.id]) if MATCHED_FIELDS & values.keys() else None
    _claim_version(session, measure, expected_version)
    _apply(session, measure, values)
    record(
        session,
        actor=actor,
        action=action,
        entity="measure",
        key=measure_key(measure),
        before=before,
        after=measure_snapshot(measure),
    )
    bump_revision(session)
    if matched_before is not None:
        publish_change(
            session,
            actor=actor,
            kind="edited",
            measures=[measure.id],
            before=matched_before,
            notify=notify,
            search=search,
        )
    return measure


def set_measure_status(
    session: Session,
    *,
    actor: Principal,
    key: tuple[int, int],
    expected_version: int,
    status: Status,
    notify: bool = True,
) -> Measure:
    """Retire a measure (out of the answers, kept and restorable) or restore it; audited as such.

    A restored measure is published like an edit (its companies are told it applies again).
    """
    document_id, number = key
    return edit_measure(
        session,
        actor=actor,
        document_id=document_id,
        number=number,
        expected_version=expected_version,
        edit=MeasureEdit(status=status),
        action="retire" if status == RETIRED else "restore",
        notify=notify,
    )


def _conflict(measure: Measure, current: int) -> VersionConflict:
    return VersionConflict(f"第{measure.number}条措施已被修改（当前版本{current}），请刷新后再改", current)


def _claim_version(session: Session, measure: Measure, expected: int) -> None:
    # The atomic compare-and-set: of two edits based on the same version exactly one matches
    # a row (PostgreSQL re-checks the WHERE after the row lock; SQLite serialises writers).
    claimed = session.execute(
        update(Measure)
        .where(Measure.id == measure.id, Measure.version == expected)
        .values(version=Measure.version + 1)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        current = session.scalar(select(Measure.version).where(Measure.id == measure.id)) or 0
        raise _conflict(measure, current)
    session.refresh(measure)


def _changed_values(session: Session, measure: Measure, edit: MeasureEdit) -> dict[str, Any]:
    wanted: dict[str, Any] = {}
    if edit.text is not None:
        wanted["text"] = _required_text(edit.text, "措施内容")
    if edit.title is not None:
        wanted["title"] = edit.title.strip() or default_title(wanted.get("text", measure.text))
    if edit.tags is not None:
        wanted["tags"] = clean_tags(edit.tags)
    if edit.status is not None:
        wanted["status"] = _status(edit.status)
    if edit.category is not None:
        wanted["category_id"] = find_category(session, measure.document_id, edit.category).id
    if edit.units is not None:
        current_roles = {link.unit.name: link.role for link in measure.unit_links}
        wanted["unit_links"] = resolve_units(session, edit.units, current_roles)
    current = {"unit_links": [(link.unit_id, link.role) for link in measure.unit_links]}
    return {k: v for k, v in wanted.items() if (current[k] if k in current else getattr(measure, k)) != v}


def _apply(session: Session, measure: Measure, values: dict[str, Any]) -> None:
    links = values.pop("unit_links", None)
    for name, value in values.items():
        setattr(measure, name, value)
    if links is not None:
        measure.unit_links.clear()
        session.flush()
        measure.unit_links.extend(_links(links))
    session.flush()
    session.refresh(measure)


def _links(wanted: list[tuple[int, str]]) -> list[MeasureUnit]:
    return [MeasureUnit(unit_id=uid, position=i, role=role) for i, (uid, role) in enumerate(wanted)]


def _required_text(value: str, what: str) -> str:
    value = value.strip()
    if not value:
        raise InvalidInput(f"{what}不能为空")
    return value


def _status(value: str) -> str:
    if value not in STATUSES:
        raise InvalidInput(f"状态应为 active（有效）或 retired（停用），而不是“{value}”")
    return value


def clean_tags(tags: list[str]) -> list[str]:
    """Trimmed tags without duplicates, in the given order; an empty tag is an error."""
    cleaned: list[str] = []
    for tag in tags:
        tag = tag.strip()
        if not tag:
            raise InvalidInput("标签不能为空")
        if tag not in cleaned:
            cleaned.append(tag)
    return cleaned


def find_category(session: Session, document_id: int, ref: int | str) -> Category:
    """A document's category by ordinal (5, "5") or title; InvalidInput when there is none."""
    stmt = select(Category).where(Category.document_id == document_id)
    text = str(ref).strip()
    if isinstance(ref, int) or text.isdigit():
        category = session.scalar(stmt.where(Category.ordinal == int(text)))
    else:
        category = session.scalar(stmt.where(Category.title == text))
    if category is None:
        raise InvalidInput(f"文件{document_id}中没有类别“{ref}”")
    return category


def resolve_units(
    session: Session, refs: list[UnitRef], current_roles: dict[str, str] | None = None
) -> list[tuple[int, str]]:
    """(unit id, role) for names or aliases in order; InvalidInput listing unknown or repeated ones."""
    lookup: dict[str, ResponsibleUnit] = {}
    units = session.scalars(select(ResponsibleUnit).order_by(ResponsibleUnit.id)).all()
    for unit in units:
        lookup[normalize(unit.name)] = unit
    for unit in units:
        for alias in unit.aliases or []:
            lookup.setdefault(normalize(alias), unit)
    if not refs:
        raise InvalidInput("至少需要一个责任单位")
    resolved: list[tuple[int, str]] = []
    unknown: list[str] = []
    for ref in refs:
        name, role = (ref, None) if isinstance(ref, str) else (str(ref.get("name", "")), ref.get("role"))
        found = lookup.get(normalize(name))
        if found is None:
            unknown.append(name)
            continue
        if any(uid == found.id for uid, _ in resolved):
            raise InvalidInput(f"责任单位重复：{found.name}")
        role = role or (current_roles or {}).get(found.name, "responsible")
        if role not in UNIT_ROLES:
            raise InvalidInput(f"单位角色应为 {'、'.join(UNIT_ROLES)} 之一，而不是“{role}”")
        resolved.append((found.id, role))
    if unknown:
        raise InvalidInput(f"未知的责任单位：{'、'.join(unknown)}（请先在责任单位中新建）")
    return resolved


def create_measure(
    session: Session,
    *,
    actor: Principal,
    document_id: int,
    number: int,
    category: int | str,
    text: str,
    units: list[UnitRef],
    title: str = "",
    tags: list[str] | None = None,
    notify: bool = True,
    search: PolicySearch | None = None,
) -> Measure:
    """Add a measure to a document's category; Conflict when the number is taken.

    Published as a new policy change; with `notify`, companies whose profiles it concerns are notified.
    """
    if session.get(PolicyDocument, document_id) is None:
        raise InvalidInput(f"没有编号为{document_id}的政策文件")
    if number < 1:
        raise InvalidInput("措施编号应为正整数")
    taken = session.scalar(
        select(Measure.id).where(Measure.document_id == document_id, Measure.number == number)
    )
    if taken is not None:
        raise Conflict(f"文件{document_id}中已有第{number}条措施")
    text = _required_text(text, "措施内容")
    measure = Measure(
        document_id=document_id,
        number=number,
        text=text,
        category_id=find_category(session, document_id, category).id,
        title=title.strip() or default_title(text),
        tags=clean_tags(tags or []),
        status=ACTIVE,
        version=1,
    )
    measure.unit_links = _links(resolve_units(session, units))
    session.add(measure)
    session.flush()
    session.refresh(measure)
    record(
        session,
        actor=actor,
        action="create",
        entity="measure",
        key=measure_key(measure),
        after=measure_snapshot(measure),
    )
    bump_revision(session)
    publish_change(session, actor=actor, kind="new", measures=[measure.id], notify=notify, search=search)
    return measure


def add_example(
    session: Session, *, actor: Principal, document_id: int, number: int, text: str
) -> ExampleQuestion:
    """Add a curated example question to a measure (found by the matcher from the next question on)."""
    measure = get_measure(session, document_id=document_id, number=number)
    text = _required_text(text, "例句")
    if any(normalize(e.text) == normalize(text) for e in measure.examples):
        raise Conflict(f"第{number}条措施已有这个例句")
    example = ExampleQuestion(measure_id=measure.id, text=text, source="admin")
    session.add(example)
    session.flush()
    record(
        session,
        actor=actor,
        action="create",
        entity="example",
        key=measure_key(measure),
        after={"id": example.id, "text": text},
    )
    bump_revision(session)
    return example


def delete_example(
    session: Session, *, actor: Principal, document_id: int, number: int, example_id: int
) -> None:
    """Remove one example question of a measure."""
    measure = get_measure(session, document_id=document_id, number=number)
    example = session.get(ExampleQuestion, example_id)
    if example is None or example.measure_id != measure.id:
        raise NotFound(f"第{number}条措施没有编号为{example_id}的例句")
    record(
        session,
        actor=actor,
        action="delete",
        entity="example",
        key=measure_key(measure),
        before={"id": example.id, "text": example.text, "source": example.source},
    )
    session.delete(example)
    bump_revision(session)
