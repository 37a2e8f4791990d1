"""The closed vocabularies, defined once: unit kinds and roles, statuses, token roles, audit words.

Python code types with the `Literal`s; the tuples list their values (validation, queries); the
console reads the values and their Chinese labels from `GET /api/kinds`.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

UnitKind = Literal["district_department", "court", "street_town", "collective", "other"]
UNIT_KINDS: tuple[UnitKind, ...] = get_args(UnitKind)
UNIT_KIND_LABELS: dict[UnitKind, str] = {
    "district_department": "区级部门",
    "court": "法院",
    "street_town": "街道镇",
    "collective": "多个单位统称",
    "other": "其他",
}

# How a unit is named for a measure: 牵头 (lead), 配合 (cooperating), or plainly responsible.
UnitRole = Literal["responsible", "lead", "cooperating"]
UNIT_ROLES: tuple[UnitRole, ...] = get_args(UnitRole)
UNIT_ROLE_LABELS: dict[UnitRole, str] = {"responsible": "责任", "lead": "牵头", "cooperating": "配合"}

# A document or a measure in the answers (active) or kept out of them (retired).
Status = Literal["active", "retired"]
ACTIVE: Status = "active"
RETIRED: Status = "retired"
STATUSES: tuple[Status, ...] = get_args(Status)
STATUS_LABELS: dict[Status, str] = {"active": "有效", "retired": "已停用"}

# Whether a document applies today: in force, not yet in force, past its expiry date, or replaced by
# a newer document. Derived from the document's dates and supersession, never stored.
Validity = Literal["in_force", "pending", "expired", "replaced"]
IN_FORCE: Validity = "in_force"
PENDING: Validity = "pending"
EXPIRED: Validity = "expired"
REPLACED: Validity = "replaced"
VALIDITIES: tuple[Validity, ...] = get_args(Validity)
VALIDITY_LABELS: dict[Validity, str] = {
    "in_force": "现行有效",
    "pending": "尚未施行",
    "expired": "已失效",
    "replaced": "已被替代",
}

# Who holds an API token.
Role = Literal["admin", "staff"]
ADMIN: Role = "admin"
STAFF: Role = "staff"
ROLES: tuple[Role, ...] = get_args(Role)
ROLE_LABELS: dict[Role, str] = {"staff": "工作人员", "admin": "管理员"}  # the safer role first

# person: a person's records (questions, ratings, chat history) deleted at their request;
# profile: a company's saved enterprise profile (policy notifications) deleted at its request.
AuditEntity = Literal[
    "measure", "example", "unit", "category", "document", "synonym", "token", "catalogue", "person", "profile"
]
AUDIT_ENTITIES: tuple[AuditEntity, ...] = get_args(AuditEntity)
AuditAction = Literal["create", "update", "delete", "retire", "restore", "import", "revoke", "supersede"]
AUDIT_ACTIONS: tuple[AuditAction, ...] = get_args(AuditAction)


def labels() -> dict[str, dict[str, str]]:
    """Every vocabulary with its Chinese labels, in order (for the console)."""
    tables: dict[str, dict[Any, str]] = {
        "unit_kinds": UNIT_KIND_LABELS,
        "unit_roles": UNIT_ROLE_LABELS,
        "statuses": STATUS_LABELS,
        "validities": VALIDITY_LABELS,
        "roles": ROLE_LABELS,
    }
    return {name: {str(k): v for k, v in table.items()} for name, table in tables.items()}
