"""Admin writes to the catalogue's reference data under /api/admin: units, categories, synonyms.

Every endpoint needs an admin token; every write is validated, audited and bumps the catalogue
revision, so the bot's matcher sees it from the next question on.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from app.deps import SessionDep
from app.schemas.admin import (
    CategoryAdmin,
    CategoryCreate,
    CategoryDetail,
    CategoryUpdate,
    SynonymCreate,
    SynonymPublic,
    UnitAdmin,
    UnitCreate,
    UnitUpdate,
)
from app.security import AdminDep, AuthenticatedRoute, require_admin
from policy_db.services import categories, synonyms, units

router = APIRouter(
    prefix="/api/admin", tags=["admin"], dependencies=[Depends(require_admin)], route_class=AuthenticatedRoute
)


@router.post("/units", status_code=201, response_model=UnitAdmin)
def post_unit(body: UnitCreate, admin: AdminDep, session: SessionDep) -> UnitAdmin:
    """Add a responsible unit (409 when its name or an alias belongs to another unit)."""
    unit = units.create_unit(session, actor=admin, values=body.model_dump())
    return UnitAdmin(**units.unit_snapshot(unit))


@router.patch("/units/{name}", response_model=UnitAdmin)
def patch_unit(name: str, body: UnitUpdate, admin: AdminDep, session: SessionDep) -> UnitAdmin:
    """Change a unit's name, full name, aliases, kind or contacts."""
    values = body.model_dump(exclude_unset=True, exclude_none=True)
    unit = units.update_unit(session, actor=admin, name=name, values=values)
    return UnitAdmin(**units.unit_snapshot(unit))


@router.delete("/units/{name}", status_code=204)
def remove_unit(name: str, admin: AdminDep, session: SessionDep) -> Response:
    """Delete a unit that no measure names (409 otherwise)."""
    units.delete_unit(session, actor=admin, name=name)
    return Response(status_code=204)


@router.get("/categories", response_model=list[CategoryDetail])
def get_categories(
    session: SessionDep, document_id: Annotated[int | None, Query(ge=1)] = None
) -> list[CategoryDetail]:
    """Every category (of one document) with its section, lead sentence and active measure count."""
    return [CategoryDetail(**c) for c in categories.category_overview(session, document_id=document_id)]


@router.post("/categories", status_code=201, response_model=CategoryAdmin)
def post_category(body: CategoryCreate, admin: AdminDep, session: SessionDep) -> CategoryAdmin:
    """Add a category to a section of a document."""
    category = categories.create_category(session, actor=admin, **body.model_dump())
    return CategoryAdmin(**categories.category_view(category))


@router.patch("/categories/{document_id}/{ordinal}", response_model=CategoryAdmin)
def patch_category(
    document_id: int, ordinal: int, body: CategoryUpdate, admin: AdminDep, session: SessionDep
) -> CategoryAdmin:
    """Change a category's title or lead sentence."""
    category = categories.update_category(
        session, actor=admin, document_id=document_id, ordinal=ordinal, title=body.title, lead=body.lead
    )
    return CategoryAdmin(**categories.category_view(category))


@router.get("/synonyms", response_model=list[SynonymPublic])
def get_synonyms(session: SessionDep) -> list[SynonymPublic]:
    """The synonym lexicon (variant → term)."""
    return [SynonymPublic(**synonyms.synonym_view(s)) for s in synonyms.list_synonyms(session)]


@router.post("/synonyms", status_code=201, response_model=SynonymPublic)
def post_synonym(body: SynonymCreate, admin: AdminDep, session: SessionDep) -> SynonymPublic:
    """Add a variant → term expansion used by the matcher."""
    synonym = synonyms.create_synonym(session, actor=admin, term=body.term, variant=body.variant)
    return SynonymPublic(**synonyms.synonym_view(synonym))


@router.delete("/synonyms/{synonym_id}", status_code=204)
def remove_synonym(synonym_id: int, admin: AdminDep, session: SessionDep) -> Response:
    """Delete a lexicon entry."""
    synonyms.delete_synonym(session, actor=admin, synonym_id=synonym_id)
    return Response(status_code=204)
