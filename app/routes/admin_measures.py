"""Admin writes to measures and their example questions under /api/admin/measures.

Every endpoint needs an admin token; every write is validated, audited and bumps the catalogue
revision, so the bot's matcher sees it from the next question on. Measure edits need
`If-Match: <version>` (428 without it, 409 when stale) and answer with an `ETag`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Response

from app.deps import SessionDep
from app.schemas.admin import ExampleCreate, ExamplePublic, MeasureCreate, MeasureUpdate
from app.schemas.public import MeasurePublic
from app.security import AdminDep, AuthenticatedRoute, require_admin
from policy_db import catalogue
from policy_db.kinds import ACTIVE, RETIRED
from policy_db.models import Measure
from policy_db.services.measures import (
    MeasureEdit,
    add_example,
    create_measure,
    delete_example,
    edit_measure,
    set_measure_status,
)

router = APIRouter(
    prefix="/api/admin", tags=["admin"], dependencies=[Depends(require_admin)], route_class=AuthenticatedRoute
)
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
NotifyQuery = Annotated[
    bool,
    Query(description="通知画像与此变更新相关的企业（false：只修改，不通知，例如改错别字）"),
]


def _measure_reply(measure: Measure, response: Response) -> MeasurePublic:
    response.headers["ETag"] = f'"{measure.version}"'
    return catalogue.measure_view(measure)


@router.post("/measures", status_code=201, response_model=MeasurePublic)
def post_measure(
    body: MeasureCreate, admin: AdminDep, session: SessionDep, response: Response, notify: NotifyQuery = True
) -> MeasurePublic:
    """Add a measure to a document's category (409 when the number is taken)."""
    values = body.model_dump(mode="json")
    measure = create_measure(session, actor=admin, notify=notify, **values)
    return _measure_reply(measure, response)


@router.patch(MEASURE, response_model=MeasurePublic)
def patch_measure(
    document_id: int,
    number: int,
    body: MeasureUpdate,
    admin: AdminDep,
    version: VersionDep,
    session: SessionDep,
    response: Response,
    notify: NotifyQuery = True,
) -> MeasurePublic:
    """Edit text, title, units, category, tags or status of the version in `If-Match`."""
    edit = MeasureEdit(**body.model_dump(mode="json", exclude_unset=True, exclude_none=True))
    measure = edit_measure(
        session,
        actor=admin,
        document_id=document_id,
        number=number,
        expected_version=version,
        edit=edit,
        notify=notify,
    )
    return _measure_reply(measure, response)


@router.post(MEASURE + "/retire", response_model=MeasurePublic)
def retire_measure(
    document_id: int,
    number: int,
    admin: AdminDep,
    version: VersionDep,
    session: SessionDep,
    response: Response,
) -> MeasurePublic:
    """Take a measure out of the answers (kept, and restorable)."""
    measure = set_measure_status(
        session, actor=admin, key=(document_id, number), expected_version=version, status=RETIRED
    )
    return _measure_reply(measure, response)


@router.post(MEASURE + "/restore", response_model=MeasurePublic)
def restore_measure(
    document_id: int,
    number: int,
    admin: AdminDep,
    version: VersionDep,
    session: SessionDep,
    response: Response,
    notify: NotifyQuery = True,
) -> MeasurePublic:
    """Bring a retired measure back into the answers."""
    measure = set_measure_status(
        session,
        actor=admin,
        key=(document_id, number),
        expected_version=version,
        status=ACTIVE,
        notify=notify,
    )
    return _measure_reply(measure, response)


@router.get(MEASURE + "/examples", response_model=list[ExamplePublic])
def list_examples(document_id: int, number: int, session: SessionDep) -> list[ExamplePublic]:
    """A measure's example questions, with the ids needed to delete one."""
    measure = catalogue.get_measure(session, document_id=document_id, number=number)
    return [
        ExamplePublic(id=e.id, text=e.text, source=e.source, document_id=document_id, number=number)
        for e in sorted(measure.examples, key=lambda e: e.id)
    ]


@router.post(MEASURE + "/examples", status_code=201, response_model=ExamplePublic)
def post_example(
    document_id: int, number: int, body: ExampleCreate, admin: AdminDep, session: SessionDep
) -> ExamplePublic:
    """Add an example question; the matcher uses it from the next question on."""
    example = add_example(session, actor=admin, document_id=document_id, number=number, text=body.text)
    return ExamplePublic(
        id=example.id, text=example.text, source=example.source, document_id=document_id, number=number
    )


@router.delete(MEASURE + "/examples/{example_id}", status_code=204)
def remove_example(
    document_id: int, number: int, example_id: int, admin: AdminDep, session: SessionDep
) -> Response:
    """Delete an example question of a measure."""
    delete_example(session, actor=admin, document_id=document_id, number=number, example_id=example_id)
    return Response(status_code=204)
