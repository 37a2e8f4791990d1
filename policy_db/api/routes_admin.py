"""Admin writes to the catalogue under /api/admin: measures, examples, units, categories, synonyms.

Every endpoint needs an admin token; every write is validated, audited and bumps the
catalogue revision, so the bot's matcher sees it from the next question on. Measure edits
need `If-Match: <version>` (428 without it, 409 when stale) and answer with an `ETag`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Response

from policy_db import catalog
from policy_db.admin import catalogue as units_admin
from policy_db.admin.measures import MeasureEdit, add_example, create_measure, delete_example, edit_measure
from policy_db.api.deps import SessionDep
from policy_db.api.schemas import MeasurePublic
from policy_db.api.schemas_admin import (
    CategoryAdmin,
    CategoryCreate,
    CategoryDetail,
    CategoryUpdate,
    ExampleCreate,
    ExamplePublic,
    MeasureCreate,
    MeasureUpdate,
    SynonymCreate,
    SynonymPublic,
    UnitAdmin,
    UnitCreate,
    UnitUpdate,
)
from policy_db.api.security import AdminDep, AuthenticatedRoute, require_admin
from policy_db.models import Measure

router = APIRouter(prefix="/api/admin", tags=["admin"], dependencies=[Depends(require_admin)],
                   route_class=AuthenticatedRoute)
MEASURE = "/measures/{document_id}/{number}"


def expected_version(
    if_match: Annotated[str | None, Header(alias="If-Match", description="措施的当前版本号")] = None,
) -> int:
    """The version an edit is based on, from `If-Match` (3, "3" or W/"3"); 428 when missing."""
    if if_match is None:
        raise HTTPException(428, "修改措施需要 If-Match 请求头，值为措施的当前版本号（version）")
    value = if_match.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise HTTPException(422, f"If-Match 应为版本号（整数），而不是“{if_match}”")
    return int(value)


VersionDep = Annotated[int, Depends(expected_version)]


def _measure_reply(measure: Measure, response: Response) -> MeasurePublic:
    response.headers["ETag"] = f'"{measure.version}"'
    return MeasurePublic.model_validate(catalog.measure_view(measure).payload())


@router.post("/measures", status_code=201, response_model=MeasurePublic)
def post_measure(body: MeasureCreate, admin: AdminDep, session: SessionDep,
                 response: Response) -> MeasurePublic:
    """Add a measure to a document's category (409 when the number is taken)."""
    values = body.model_dump(mode="json")
    measure = create_measure(session, actor=admin, **values)
    return _measure_reply(measure, response)


@router.patch(MEASURE, response_model=MeasurePublic)
def patch_measure(document_id: int, number: int, body: MeasureUpdate, admin: AdminDep,
                  version: VersionDep, session: SessionDep, response: Response) -> MeasurePublic:
    """Edit text, title, units, category, tags or status of the version in `If-Match`."""
    edit = MeasureEdit(**body.model_dump(mode="json", exclude_unset=True, exclude_none=True))
    measure = edit_measure(session, actor=admin, document_id=document_id, number=number,
                           expected_version=version, edit=edit)
    return _measure_reply(measure, response)


@router.post(MEASURE + "/retire", response_model=MeasurePublic)
def retire_measure(document_id: int, number: int, admin: AdminDep, version: VersionDep,
                   session: SessionDep, response: Response) -> MeasurePublic:
    """Take a measure out of the answers (kept, and restorable)."""
    measure = edit_measure(session, actor=admin, document_id=document_id, number=number,
                           expected_version=version, edit=MeasureEdit(status="retired"),
                           action="retire")
    return _measure_reply(measure, response)


@router.post(MEASURE + "/restore", response_model=MeasurePublic)
def restore_measure(document_id: int, number: int, admin: AdminDep, version: VersionDep,
                    session: SessionDep, response: Response) -> MeasurePublic:
    """Bring a retired measure back into the answers."""
    measure = edit_measure(session, actor=admin, document_id=document_id, number=number,
                           expected_version=version, edit=MeasureEdit(status="active"),
                           action="restore")
    return _measure_reply(measure, response)


@router.get(MEASURE + "/examples", response_model=list[ExamplePublic])
def list_examples(document_id: int, number: int, session: SessionDep) -> list[ExamplePublic]:
    """A measure's example questions, with the ids needed to delete one."""
    measure = catalog.get_measure(session, document_id=document_id, number=number)
    return [ExamplePublic(id=e.id, text=e.text, source=e.source, document_id=document_id,
                          number=number) for e in sorted(measure.examples, key=lambda e: e.id)]


@router.post(MEASURE + "/examples", status_code=201, response_model=ExamplePublic)
def post_example(document_id: int, number: int, body: ExampleCreate, admin: AdminDep,
                 session: SessionDep) -> ExamplePublic:
    """Add an example question; the matcher uses it from the next question on."""
    example = add_example(session, actor=admin, document_id=document_id, number=number,
                          text=body.text)
    return ExamplePublic(id=example.id, text=example.text, source=example.source,
                         document_id=document_id, number=number)


@router.delete(MEASURE + "/examples/{example_id}", status_code=204)
def remove_example(document_id: int, number: int, example_id: int, admin: AdminDep,
                   session: SessionDep) -> Response:
    """Delete an example question of a measure."""
    delete_example(session, actor=admin, document_id=document_id, number=number,
                   example_id=example_id)
    return Response(status_code=204)


@router.post("/units", status_code=201, response_model=UnitAdmin)
def post_unit(body: UnitCreate, admin: AdminDep, session: SessionDep) -> UnitAdmin:
    """Add a responsible unit (409 when its name or an alias belongs to another unit)."""
    unit = units_admin.create_unit(session, actor=admin, values=body.model_dump())
    return UnitAdmin(**units_admin.unit_snapshot(unit))


@router.patch("/units/{name}", response_model=UnitAdmin)
def patch_unit(name: str, body: UnitUpdate, admin: AdminDep, session: SessionDep) -> UnitAdmin:
    """Change a unit's name, full name, aliases, kind or contacts."""
    values = body.model_dump(exclude_unset=True, exclude_none=True)
    unit = units_admin.update_unit(session, actor=admin, name=name, values=values)
    return UnitAdmin(**units_admin.unit_snapshot(unit))


@router.delete("/units/{name}", status_code=204)
def remove_unit(name: str, admin: AdminDep, session: SessionDep) -> Response:
    """Delete a unit that no measure names (409 otherwise)."""
    units_admin.delete_unit(session, actor=admin, name=name)
    return Response(status_code=204)


@router.get("/categories", response_model=list[CategoryDetail])
def get_categories(session: SessionDep,
                   document_id: Annotated[int | None, Query(ge=1)] = None) -> list[CategoryDetail]:
    """Every category (of one document) with its section, lead sentence and active measure count."""
    return [CategoryDetail(**c) for c in units_admin.category_overview(session, document_id=document_id)]


@router.post("/categories", status_code=201, response_model=CategoryAdmin)
def post_category(body: CategoryCreate, admin: AdminDep, session: SessionDep) -> CategoryAdmin:
    """Add a category to a section of a document."""
    category = units_admin.create_category(session, actor=admin, **body.model_dump())
    return CategoryAdmin(**units_admin.category_view(category))


@router.patch("/categories/{document_id}/{ordinal}", response_model=CategoryAdmin)
def patch_category(document_id: int, ordinal: int, body: CategoryUpdate, admin: AdminDep,
                   session: SessionDep) -> CategoryAdmin:
    """Change a category's title or lead sentence."""
    category = units_admin.update_category(session, actor=admin, document_id=document_id,
                                           ordinal=ordinal, title=body.title, lead=body.lead)
    return CategoryAdmin(**units_admin.category_view(category))


@router.get("/synonyms", response_model=list[SynonymPublic])
def get_synonyms(session: SessionDep) -> list[SynonymPublic]:
    """The synonym lexicon (variant → term)."""
    return [SynonymPublic(**units_admin.synonym_view(s)) for s in units_admin.list_synonyms(session)]


@router.post("/synonyms", status_code=201, response_model=SynonymPublic)
def post_synonym(body: SynonymCreate, admin: AdminDep, session: SessionDep) -> SynonymPublic:
    """Add a variant → term expansion used by the matcher."""
    synonym = units_admin.create_synonym(session, actor=admin, term=body.term, variant=body.variant)
    return SynonymPublic(**units_admin.synonym_view(synonym))


@router.delete("/synonyms/{synonym_id}", status_code=204)
def remove_synonym(synonym_id: int, admin: AdminDep, session: SessionDep) -> Response:
    """Delete a lexicon entry."""
    units_admin.delete_synonym(session, actor=admin, synonym_id=synonym_id)
    return Response(status_code=204)

