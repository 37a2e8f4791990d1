"""Request and response schemas of the admin API, and Chinese messages for invalid requests."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, Field

from policy_db.catalogue import DocumentView
from policy_db.input_text import PlainTextModel
from policy_db.kinds import Role, Status, UnitKind, UnitRole


class _Request(PlainTextModel):
    """A request body: unknown fields refused, text fields one line without control characters."""


class WhoAmI(BaseModel):
    """The caller behind a token."""

    name: str
    role: Role
    token_id: int | None = None


class TokenCreate(_Request):
    """A new token's name and role."""

    name: str = Field(min_length=1, max_length=80)
    role: Role = "staff"


class TokenPublic(BaseModel):
    """A token without its secret."""

    id: int
    name: str
    role: Role
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked: bool


class TokenIssued(TokenPublic):
    """A new token with its secret, shown this once only."""

    token: str


class UnitAssignment(_Request):
    """A unit named by a measure, with its role (default: keep the current role, or responsible)."""

    name: str = Field(min_length=1, max_length=100)
    role: UnitRole | None = None


UnitList = list[str | UnitAssignment]


class MeasureCreate(_Request):
    """A new measure in a document's category."""

    multiline_fields = frozenset({"text"})

    document_id: int = Field(ge=1)
    number: int = Field(ge=1, le=100_000)
    category: int | str = Field(description="类别序号或标题")
    text: str = Field(min_length=1, max_length=5000)
    title: str = Field("", max_length=120)
    units: UnitList = Field(min_length=1, max_length=30, description="单位名称或别名，牵头单位在前")
    tags: list[str] = Field(default_factory=list, max_length=30)


class MeasureUpdate(_Request):
    """Fields to change; the ones left out stay as they are."""

    multiline_fields = frozenset({"text"})

    text: str | None = Field(None, min_length=1, max_length=5000)
    title: str | None = Field(None, max_length=120)
    units: UnitList | None = Field(None, min_length=1, max_length=30)
    category: int | str | None = Field(None, description="类别序号或标题")
    tags: list[str] | None = Field(None, max_length=30)
    status: Status | None = None


class ExampleCreate(_Request):
    """An example question that should find the measure."""

    text: str = Field(min_length=1, max_length=300)


class ExamplePublic(BaseModel):
    """A curated example question of a measure."""

    id: int
    text: str
    source: str
    document_id: int
    number: int


class UnitCreate(_Request):
    """A new responsible unit."""

    name: str = Field(min_length=1, max_length=100)
    full_name: str = Field("", max_length=200)
    aliases: list[str] = Field(default_factory=list, max_length=50)
    kind: UnitKind = "district_department"
    phone: str = Field("", max_length=60)
    address: str = Field("", max_length=200)
    remit: list[Annotated[str, Field(max_length=30)]] = Field(default_factory=list, max_length=60)


class UnitUpdate(_Request):
    """Unit fields to change (a new name renames the unit in every measure)."""

    name: str | None = Field(None, min_length=1, max_length=100)
    full_name: str | None = Field(None, max_length=200)
    aliases: list[str] | None = Field(None, max_length=50)
    kind: UnitKind | None = None
    phone: str | None = Field(None, max_length=60)
    address: str | None = Field(None, max_length=200)
    remit: list[Annotated[str, Field(max_length=30)]] | None = Field(None, max_length=60)


class UnitAdmin(BaseModel):
    """A unit's editable fields."""

    name: str
    full_name: str
    aliases: list[str]
    kind: str
    phone: str
    address: str
    remit: list[str] = []


class CategoryCreate(_Request):
    """A new category in a section of a document."""

    multiline_fields = frozenset({"lead"})

    document_id: int = Field(ge=1)
    section: int = Field(ge=1, description="章序号")
    ordinal: int | None = Field(None, ge=1, description="类别序号；省略则排在最后")
    title: str = Field(min_length=1, max_length=300)
    lead: str = Field("", max_length=2000)


class CategoryUpdate(_Request):
    """Category fields to change."""

    multiline_fields = frozenset({"lead"})

    title: str | None = Field(None, min_length=1, max_length=300)
    lead: str | None = Field(None, max_length=2000)


class CategoryAdmin(BaseModel):
    """A category's fields."""

    document_id: int
    ordinal: int
    section: int
    section_title: str
    title: str
    lead: str


class CategoryDetail(CategoryAdmin):
    """A category's fields and the number of its active measures."""

    measures: int


class DocumentMetadataFields(_Request):
    """A document's title, 文号 and dates; a field left out keeps what the document states."""

    title: str | None = Field(default=None, min_length=1, max_length=300)
    document_number: str | None = Field(default=None, max_length=80, examples=["普府办〔2022〕5号"])
    issued_on: dt.date | None = None
    effective_on: dt.date | None = None
    expires_on: dt.date | None = None


class DocumentUpdate(DocumentMetadataFields):
    """Edit a document's metadata; `superseded_by` is the id of the document replacing it, or null."""

    superseded_by: int | None = Field(default=None, ge=1)


class DocumentImport(_Request):
    """A policy document's text; `commit` false (the default) only previews.

    `metadata` corrects what the parser read from the document; `supersedes` is the slug of the
    document this one replaces (it is then marked replaced and kept for staff searches).
    """

    multiline_fields = frozenset({"text"})

    text: str = Field(min_length=1)
    slug: str = Field(min_length=1, max_length=120, examples=["putuo-2022-plan"])
    commit: bool = False
    metadata: DocumentMetadataFields | None = None
    supersedes: str | None = Field(default=None, min_length=1, max_length=120, examples=["putuo-2021-plan"])
    notify: bool = True  # notify the saved enterprise profiles the new or changed measures concern


class DocumentSummary(BaseModel):
    """What the parser found in a document."""

    title: str
    issuers: list[str]
    issued_on: str | None
    sections: int
    categories: int
    measures: int
    units: list[str]
    shape: str = ""
    shape_label: str = ""
    document_number: str | None = None
    effective_on: str | None = None
    expires_on: str | None = None


class ImportReportPublic(BaseModel):
    """What an import did, or in a preview would do (measure numbers)."""

    slug: str
    document_id: int | None
    created: list[int]
    updated: list[int]
    unchanged: list[int]
    retired: list[int]
    new_units: list[str]
    inherited: list[int] = Field(default_factory=list)  # took titles, tags, examples from the replaced one


class DocumentImportResult(BaseModel):
    """A preview or a committed import."""

    committed: bool
    summary: DocumentSummary
    report: ImportReportPublic
    metadata: dict[str, str | None]  # what is (or would be) stored: the document's words, corrected
    supersedes: DocumentView | None = None  # the replaced document, as it is (or would be) after
    notifications: dict[str, Any] = Field(default_factory=dict)  # {"count", "sample"}: who is notified


class SynonymCreate(_Request):
    """A colloquial variant and the plan's term it should expand to."""

    term: str = Field(min_length=1, max_length=60, examples=["融资"])
    variant: str = Field(min_length=1, max_length=60, examples=["贷款"])


class SynonymPublic(BaseModel):
    """A lexicon entry."""

    id: int
    term: str
    variant: str


class AuditEntryPublic(BaseModel):
    """One admin write."""

    id: int
    actor: str
    token_id: int | None
    action: str
    entity: str
    key: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    created_at: dt.datetime


class AuditList(BaseModel):
    """Audit entries, newest first."""

    items: list[AuditEntryPublic]


class CatalogueCounts(BaseModel):
    """How much of each the catalogue holds."""

    documents: int
    measures: int
    units: int
    synonyms: int
    stopwords: int


_MESSAGES = {
    "missing": "缺少此项",
    "extra_forbidden": "不认识的字段",
    "json_invalid": "不是有效的 JSON",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "int_from_float": "应为整数",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "string_type": "应为文本",
    "list_type": "应为列表",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "model_attributes_type": "应为对象",
    "datetime_parsing": "应为日期时间，如 2024-01-31T08:00:00",
    "datetime_from_date_parsing": "应为日期时间，如 2024-01-31T08:00:00",
    "date_parsing": "应为日期，如 2024-01-31",
    "date_from_datetime_parsing": "应为日期，如 2024-01-31",
}


def _message(error: dict[str, Any]) -> str:
    kind, ctx = error.get("type", ""), dict(error.get("ctx") or {})
    if kind == "string_too_short":
        return "不能为空" if ctx.get("min_length") == 1 else f"至少{ctx.get('min_length')}个字符"
    ctx["expected"] = str(ctx.get("expected", "")).replace(" or ", ", ")
    templates = {
        "string_too_long": "最多{max_length}个字符",
        "too_short": "至少{min_length}项",
        "too_long": "最多{max_length}项",
        "greater_than_equal": "应不小于{ge}",
        "less_than_equal": "应不大于{le}",
        "greater_than": "应大于{gt}",
        "less_than": "应小于{lt}",
        "literal_error": "应为以下之一：{expected}",
    }
    if kind in templates:
        return templates[kind].format(
            **{k: ctx.get(k, "") for k in ("max_length", "min_length", "ge", "le", "gt", "lt", "expected")}
        )
    return _MESSAGES.get(kind, str(error.get("msg", "无效")))


def _is_union_tag(part: object) -> bool:
    # pydantic names the alternative of a union in the location: "str", "UnitAssignment", "int"…
    return isinstance(part, str) and (part[:1].isupper() or "[" in part or part in _SCALARS)


_SCALARS = {"str", "int", "float", "bool", "list", "dict", "none"}


def validation_messages(errors: list[dict[str, Any]]) -> list[str]:
    """One Chinese message per invalid field, such as "text：不能为空"."""
    found: list[tuple[str, str, bool]] = []
    for error in errors:
        loc = [p for p in error.get("loc", ()) if p not in ("body", "query", "path", "header")]
        scalar_branch = bool(loc) and loc[-1] in _SCALARS
        if error.get("type") == "json_invalid":
            loc = []
        where = "".join(
            f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc if not _is_union_tag(p)
        ).lstrip(".")
        found.append((where, _message(error), scalar_branch))
    messages: list[str] = []
    for where, message, scalar_branch in found:
        # "should be text" for a union item is noise when its object form says what is wrong
        if scalar_branch and any(w != where and w.startswith(where) for w, _, _ in found):
            continue
        text = f"{where}：{message}" if where else message
        if text not in messages:
            messages.append(text)
    return messages
