"""A new policy document reaches the saved enterprise profiles it concerns (preview, publish, no repeat)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from policy_db.models import Notification
from policy_db.push.profiles import ProfileInput, save_profile
from tests.integration.admin_support import AdminApi, admin_api, seeded_runtime_of

TAX_NOTICE = """普陀区税务局
2023年3月1日
关于优化纳税服务的通知
一、工作要求
(一)优化纳税服务。提升办税便利度。具体措施:
1.推行增值税发票全面数字化，新办纳税人当日即可领用数字化电子发票。(责任单位:区税务局)
"""


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AdminApi]:
    with (
        seeded_runtime_of("sqlite", tmp_path_factory.mktemp("docpush")) as runtime,
        admin_api(runtime) as api,
    ):
        with runtime.database.session() as session:
            for sender, topics in (("taxpayer-co", ["topic_tax"]), ("builder-co", ["topic_construction"])):
                save_profile(
                    session,
                    channel="widget",
                    channel_user_id=sender,
                    profile=ProfileInput(topics=topics),
                    consent=True,
                )
        yield api


def post(api: AdminApi, slug: str, **body: Any) -> dict[str, Any]:
    response = api.client.post(
        "/api/admin/documents", json={"text": TAX_NOTICE, "slug": slug, **body}, headers=api.admin
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def pending(api: AdminApi) -> list[Notification]:
    with api.runtime.database.session() as session:
        return list(session.scalars(select(Notification)))


def test_the_preview_counts_who_would_be_notified_and_writes_nothing(api: AdminApi) -> None:
    preview = post(api, "tax-notice-2023")
    assert preview["notifications"]["count"] == 1 and len(preview["notifications"]["sample"]) == 1
    assert pending(api) == []


def test_publishing_notifies_the_concerned_company_once(api: AdminApi) -> None:
    committed = post(api, "tax-notice-2023", commit=True)
    assert committed["notifications"]["count"] == 1
    notes = pending(api)
    assert len(notes) == 1 and notes[0].state == "pending"
    again = post(api, "tax-notice-2023", commit=True)  # the same text again: nothing new to tell
    assert again["report"]["unchanged"] == [1] and len(pending(api)) == 1


def test_an_import_without_notifying_tells_nobody(api: AdminApi) -> None:
    before = len(pending(api))
    quiet = post(api, "tax-notice-2023-copy", commit=True, notify=False)
    assert quiet["notifications"]["count"] == 0 and len(pending(api)) == before
