"""A company's saved profile over /api/profile and /api/inbox: consent, view, update, delete for real.

Deleting leaves nothing of the profile, its notifications or its inbox — only an audit line saying
that a deletion happened (counts and a SHA-256 of the id, no content) — and a deleted profile is
sent nothing, not even what was already queued or being delivered for it. Both databases.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from policy_db.auth import Principal
from policy_db.models import AuditEntry, Base, EnterpriseProfile, InboxItem, Notification
from policy_db.push.config import PushSettings
from policy_db.push.delivery import InboxChannel
from policy_db.push.profiles import (
    CONSENT_TEXT_VERSION,
    ProfileInput,
    delete_profile,
    get_profile,
    save_profile,
    update_profile,
)
from policy_db.push.worker import Worker
from policy_db.services.measures import create_measure
from policy_db.services.personal_data import sender_hash
from tests.integration.admin_support import AdminApi, admin_api, seeded_runtime_of

ADMIN = Principal("测试管理员", "admin")
FAST = PushSettings(push_retry_seconds=0, push_lease_seconds=60)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AdminApi]:
    with (
        seeded_runtime_of(str(request.param), tmp_path_factory.mktemp("push-profiles")) as runtime,
        admin_api(runtime) as admin,
    ):
        yield admin


def new_sender() -> str:
    return f"w{secrets.token_urlsafe(16)}"


def body(**fields: object) -> dict[str, object]:
    return {"consent": True, "enterprise_types": ["科技企业"], "topics": ["topic_tax"], **fields}


def add_measure(api: AdminApi, number: int, text: str, tags: list[str]) -> None:
    units = api.measure(23)["units"][:1]
    with api.runtime.database.session() as session:
        create_measure(
            session, actor=ADMIN, document_id=1, number=number, category=6, text=text, units=units, tags=tags
        )


def deliver_all(api: AdminApi) -> None:
    worker = Worker(api.runtime.database, [InboxChannel()], FAST)
    while worker.run_once().claimed:
        pass


def rows_mentioning(api: AdminApi, *needles: str) -> list[str]:
    """Every table.column whose text (strings, JSON) contains one of the needles."""
    found = set()
    with api.runtime.database.session() as session:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, (sa.String, sa.JSON, sa.Text))]
            if not columns:
                continue
            for row in session.execute(sa.select(*columns)):
                for column, value in zip(columns, row, strict=True):
                    text = str(value)
                    if any(n in text for n in needles):
                        found.add(f"{table.name}.{column.name}")
    return sorted(found)


# --- consent, view, update ---------------------------------------------------------------------


def test_the_consent_text_and_the_choices_are_public(api: AdminApi) -> None:
    consent = api.client.get("/api/profile/consent").json()
    assert consent["version"] == CONSENT_TEXT_VERSION and "删除" in consent["text"]
    assert "科技企业" in consent["enterprise_types"] and consent["topics"]["topic_tax"] == "纳税办税"


def test_a_profile_is_saved_only_with_consent_then_viewed_and_updated(api: AdminApi) -> None:
    sender = new_sender()
    assert api.client.get("/api/profile", params={"sender": sender}).status_code == 404
    refused = api.client.put("/api/profile", params={"sender": sender}, json=body(consent=False))
    assert refused.status_code == 422 and "同意" in refused.json()["detail"]
    missing = api.client.put(
        "/api/profile", params={"sender": sender}, json={"enterprise_types": ["科技企业"]}
    )
    assert missing.status_code == 422
    with api.runtime.database.session() as session:
        assert get_profile(session, channel="widget", channel_user_id=sender) is None  # nothing stored

    saved = api.client.put(
        "/api/profile",
        params={"sender": sender},
        json=body(industry="软件开发", street="长征镇", size="小型"),
    )
    assert saved.status_code == 200, saved.text
    profile = saved.json()
    assert profile["channel"] == "widget" and profile["channel_user_id"] == sender
    assert profile["consent_text_version"] == CONSENT_TEXT_VERSION and profile["consented_at"]
    assert api.client.get("/api/profile", params={"sender": sender}).json() == profile

    changed = api.client.put(
        "/api/profile",
        params={"sender": sender},
        json=body(enterprise_types=["外资企业", "外资企业", " 科技企业 "], topics=["topic_ip"]),
    ).json()
    assert changed["id"] == profile["id"] and changed["created_at"] == profile["created_at"]
    assert changed["enterprise_types"] == ["外资企业", "科技企业"] and changed["topics"] == ["topic_ip"]
    assert changed["industry"] == ""  # PUT replaces the profile


@pytest.mark.parametrize(
    ("fields", "word"),
    [
        ({"enterprise_types": ["宇宙企业"]}, "企业类型"),
        ({"topics": ["topic_moon"]}, "主题"),
        ({"enterprise_types": [], "topics": [], "industry": ""}, "至少"),
        ({"size": "巨型"}, "规模"),
        ({"industry": "软件\n开发"}, "换行"),
        ({"consent_version": "1999-01"}, "说明已更新"),
    ],
)
def test_a_profile_is_validated(api: AdminApi, fields: dict[str, object], word: str) -> None:
    response = api.client.put("/api/profile", params={"sender": new_sender()}, json=body(**fields))
    assert response.status_code == 422 and word in str(response.json()["detail"])


def test_the_sender_is_the_widgets_client_id(api: AdminApi) -> None:
    for sender in ("short", "有中文的标识符号码", "a" * 81):
        assert api.client.put("/api/profile", params={"sender": sender}, json=body()).status_code == 422
    assert api.client.get("/api/inbox").status_code == 422  # no sender at all


def test_personal_numbers_typed_into_a_field_are_masked(api: AdminApi) -> None:
    sender = new_sender()
    saved = api.client.put("/api/profile", params={"sender": sender}, json=body(industry="软件 13812345678"))
    assert saved.status_code == 200 and "13812345678" not in saved.text
    assert rows_mentioning(api, "13812345678") == []


def test_the_bot_saves_and_updates_a_wechat_profile_through_the_service(api: AdminApi) -> None:
    openid = f"o{secrets.token_hex(12)}"
    with api.runtime.database.session() as session:
        save_profile(
            session,
            channel="wechat",
            channel_user_id=openid,
            profile=ProfileInput(enterprise_types=["民营企业"]),
            consent=True,
        )
    with api.runtime.database.session() as session:
        updated = update_profile(
            session, channel="wechat", channel_user_id=openid, topics=["topic_financing"]
        )
        assert (updated.enterprise_types, updated.topics) == (["民营企业"], ["topic_financing"])
        assert updated.match_key == '[["民营企业"],["topic_financing"],""]'
    # the widget's API knows only widget profiles: the same id there is another company
    assert api.client.get("/api/profile", params={"sender": openid}).status_code == 404


# --- deletion ---------------------------------------------------------------------------------


def test_deletion_leaves_nothing_but_an_audit_line_without_content(api: AdminApi) -> None:
    sender, marker = new_sender(), "量子光刻"
    api.client.put("/api/profile", params={"sender": sender}, json=body(industry=marker)).raise_for_status()
    add_measure(api, 301, f"支持{marker}企业在普陀发展。", ["科技企业"])
    deliver_all(api)
    inbox = api.client.get("/api/inbox", params={"sender": sender}).json()
    assert inbox["unread"] == 1 and "第301条" in inbox["items"][0]["title"]
    add_measure(api, 302, f"再次支持{marker}企业。", ["科技企业"])  # a second one still queued
    with api.runtime.database.session() as session:
        profile = get_profile(session, channel="widget", channel_user_id=sender)
        assert profile is not None
        profile_id = profile.id
        assert session.scalar(select(sa.func.count()).where(Notification.profile_id == profile_id)) == 2

    deleted = api.client.delete("/api/profile", params={"sender": sender})
    assert deleted.json() == {"enterprise_profile": 1, "notification": 2, "inbox_item": 1}
    assert api.client.get("/api/profile", params={"sender": sender}).status_code == 404
    assert api.client.get("/api/inbox", params={"sender": sender}).json() == {"items": [], "unread": 0}
    with api.runtime.database.session() as session:
        for model in (Notification, InboxItem):
            assert not session.scalars(select(model).where(model.profile_id == profile_id)).all()
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.entity == "profile").order_by(AuditEntry.id.desc())
        ).first()
    assert entry is not None and entry.action == "delete" and entry.actor == "system"
    assert entry.entity_key == f"sha256:{sender_hash(sender)}" and entry.before is None
    assert entry.after == {"channel": "widget", "enterprise_profile": 1, "notification": 2, "inbox_item": 1}
    # nothing names the company any more, and what it typed is gone (the measures say it, of course)
    assert rows_mentioning(api, sender) == []
    assert [r for r in rows_mentioning(api, marker) if r.startswith("enterprise_profile.")] == []
    # deleting again is harmless, and is not audited (there was nothing)
    assert api.client.delete("/api/profile", params={"sender": sender}).json()["enterprise_profile"] == 0


def test_a_deleted_profile_receives_nothing(api: AdminApi) -> None:
    queued, in_flight = new_sender(), new_sender()
    for sender in (queued, in_flight):
        api.client.put(
            "/api/profile", params={"sender": sender}, json=body(industry="星际物流")
        ).raise_for_status()
    add_measure(api, 303, "推动星际物流企业集聚发展。", [])
    worker = Worker(api.runtime.database, [InboxChannel()], FAST)
    claims, _ = worker.claim()  # the worker leases both notifications …
    mine = {c.channel_user_id: c for c in claims}
    assert {queued, in_flight} <= set(mine)
    # … then one company deletes its profile while its notification is in the worker's hands
    assert api.client.delete("/api/profile", params={"sender": in_flight}).json()["notification"] == 1
    assert worker.deliver(mine[in_flight]) == "lost"
    assert worker.deliver(mine[queued]) == "sent"
    for claim in claims:
        if claim.channel_user_id not in (queued, in_flight):
            worker.deliver(claim)
    # the other company deletes too; re-subscribing later starts empty
    api.client.delete("/api/profile", params={"sender": queued}).raise_for_status()
    add_measure(api, 304, "星际物流企业可申请专项扶持。", [])
    deliver_all(api)
    api.client.put(
        "/api/profile", params={"sender": queued}, json=body(industry="星际物流")
    ).raise_for_status()
    deliver_all(api)
    assert api.client.get("/api/inbox", params={"sender": queued}).json() == {"items": [], "unread": 0}
    assert api.client.get("/api/inbox", params={"sender": in_flight}).json() == {"items": [], "unread": 0}


def test_the_inbox_is_read_item_by_item_and_only_by_its_company(api: AdminApi) -> None:
    sender, other = new_sender(), new_sender()
    for who in (sender, other):
        api.client.put(
            "/api/profile", params={"sender": who}, json=body(industry="深海养殖")
        ).raise_for_status()
    add_measure(api, 305, "支持深海养殖企业技术改造。", [])
    deliver_all(api)
    item = api.client.get("/api/inbox", params={"sender": sender}).json()["items"][0]
    assert api.client.post(f"/api/inbox/{item['id']}/read", params={"sender": other}).status_code == 404
    read = api.client.post(f"/api/inbox/{item['id']}/read", params={"sender": sender})
    assert read.status_code == 200 and read.json()["read_at"]
    again = api.client.post(f"/api/inbox/{item['id']}/read", params={"sender": sender}).json()
    assert again["read_at"] == read.json()["read_at"]  # the first reading time stays
    assert api.client.get("/api/inbox", params={"sender": sender}).json()["unread"] == 0
    assert api.client.get("/api/inbox", params={"sender": other}).json()["unread"] == 1


def test_deleting_through_the_service_is_audited_with_the_admin(api: AdminApi) -> None:
    openid = f"o{secrets.token_hex(12)}"
    with api.runtime.database.session() as session:
        save_profile(
            session,
            channel="wechat",
            channel_user_id=openid,
            profile=ProfileInput(topics=["topic_ip"]),
            consent=True,
        )
    with api.runtime.database.session() as session:
        counts = delete_profile(session, channel="wechat", channel_user_id=openid, actor=ADMIN)
        assert counts["enterprise_profile"] == 1
        assert (
            session.scalar(
                select(sa.func.count())
                .select_from(EnterpriseProfile)
                .where(EnterpriseProfile.channel_user_id == openid)
            )
            == 0
        )
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry is not None and (entry.entity, entry.actor) == ("profile", ADMIN.name)
