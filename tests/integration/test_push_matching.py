"""Which companies a published change notifies: those it newly concerns, once, within the rate limit.

A new measure tagged for a profile's kind, in a followed topic's category, or naming its industry
notifies it; a corrected typo notifies nobody; publishing the same content twice adds nothing; the
preview says what the write then does; more than the rate limit within the window becomes one
digest. Matching 100,000 profiles takes well under the 5 s it may. Both databases.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import secrets
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import insert, select

from policy_db.auth import Principal
from policy_db.catalogue import get_measure
from policy_db.clock import as_utc, utc_now
from policy_db.models import EnterpriseProfile, InboxItem, Notification, PolicyChange
from policy_db.push.config import PushSettings
from policy_db.push.delivery import InboxChannel
from policy_db.push.matching import (
    ProfileMatcher,
    Signature,
    measure_states,
    profiles_for_change,
)
from policy_db.push.outbox import change_report, preview_change, publish_change
from policy_db.push.profiles import ENTERPRISE_TYPES, ProfileInput, match_key, save_profile
from policy_db.push.worker import Worker
from policy_db.runtime import Runtime
from policy_db.services.measures import create_measure
from tests.integration.admin_support import AdminApi, admin_api, seeded_runtime_of

ADMIN = Principal("测试管理员", "admin")
# Categories of the seed plan: 6 纳税 (topic_tax), 7 工程建设 (topic_construction), 9 知识产权 (topic_ip).
TAX, CONSTRUCTION, IP = 6, 7, 9


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AdminApi]:
    with (
        seeded_runtime_of(str(request.param), tmp_path_factory.mktemp("push-matching")) as runtime,
        admin_api(runtime) as admin,
    ):
        yield admin


def profile(runtime: Runtime, **fields: object) -> int:
    """A new widget profile; its id."""
    with runtime.database.session() as session:
        saved = save_profile(
            session,
            channel="widget",
            channel_user_id=f"w{secrets.token_urlsafe(16)}",
            profile=ProfileInput(**fields),
            consent=True,
        )
        return saved.id


def add_measure(
    api: AdminApi, number: int, text: str, *, tags: list[str] | None = None, category: int = CONSTRUCTION
) -> None:
    units = api.measure(23)["units"][:1]
    with api.runtime.database.session() as session:
        create_measure(
            session,
            actor=ADMIN,
            document_id=1,
            number=number,
            category=category,
            text=text,
            units=units,
            tags=tags or [],
        )


def notified(runtime: Runtime, number: int) -> dict[int, list[str]]:
    """Profile id → measure keys of the notifications of every change naming measure 1:number."""
    with runtime.database.session() as session:
        changes = [c.id for c in session.scalars(select(PolicyChange)) if f"1:{number}" in c.measure_keys]
        rows = session.scalars(select(Notification).where(Notification.change_id.in_(changes)))
        return {n.profile_id: list(n.measure_keys) for n in rows}


def changes_of(runtime: Runtime, number: int) -> list[PolicyChange]:
    with runtime.database.session() as session:
        return [c for c in session.scalars(select(PolicyChange)) if f"1:{number}" in c.measure_keys]


# --- who is notified ---------------------------------------------------------------------------


def test_a_new_measure_tagged_for_a_profiles_kind_notifies_it(api: AdminApi) -> None:
    creative = profile(api.runtime, enterprise_types=["文创企业"])
    foreign = profile(api.runtime, enterprise_types=["外资企业"], topics=["topic_ip"])
    preview = api.client.get(
        "/api/admin/push/preview",
        params={
            "document_id": 1,
            "number": 401,
            "text": "支持文创企业参加展会。",
            "tags": ["文创企业"],
            "category": 7,
        },
        headers=api.admin,
    )
    assert preview.status_code == 200, preview.text
    add_measure(api, 401, "支持文创企业参加展会。", tags=["文创企业"])
    who = notified(api.runtime, 401)
    assert who[creative] == ["1:401"] and foreign not in who
    # the preview (through the app's search) said what the write (through the service) then did
    assert preview.json()["count"] == len(who) and set(preview.json()["sample"]) <= set(who)
    assert preview.json()["message"] == f"此变更将通知{len(who)}家企业"
    change = changes_of(api.runtime, 401)[0]
    assert (change.kind, change.actor, change.notified, change.measure_keys) == (
        "new",
        ADMIN.name,
        True,
        ["1:401"],
    )


def test_a_followed_topic_selects_the_categories_its_keywords_name(api: AdminApi) -> None:
    taxpayer = profile(api.runtime, topics=["topic_tax"])
    add_measure(api, 402, "推行电子发票全流程应用。", category=TAX)
    add_measure(api, 403, "设立专利快速预审通道。", category=IP)
    assert taxpayer in notified(api.runtime, 402) and taxpayer not in notified(api.runtime, 403)


def test_an_industry_is_matched_by_its_distinctive_words(api: AdminApi) -> None:
    trader = profile(api.runtime, industry="跨境电商")
    vague = profile(api.runtime, industry="服务")  # a word most measures contain says nothing
    add_measure(api, 404, "为跨境电商企业提供通关和结汇便利服务。")
    who = notified(api.runtime, 404)
    assert trader in who and vague not in who


def test_a_typo_fix_notifies_nobody_and_a_new_tag_only_the_newly_concerned(api: AdminApi) -> None:
    tech = profile(api.runtime, enterprise_types=["科技企业"])
    builder = profile(api.runtime, industry="装配式建筑")
    software = profile(api.runtime, industry="软件")
    add_measure(
        api, 405, "对科技企业的装配式建筑项目，开辟审批绿色通道，软建开发企业可以申请。", tags=["科技企业"]
    )
    first = notified(api.runtime, 405)
    assert tech in first and builder in first and software not in first

    fixed = "对科技企业的装配式建筑项目，开辟审批绿色通道，软件开发企业可以申请。"  # 软建 → 软件
    preview = api.client.get(
        "/api/admin/push/preview", params={"document_id": 1, "number": 405, "text": fixed}, headers=api.admin
    )
    assert preview.json()["count"] == 0 and preview.json()["sample"] == []
    response = api.patch(405, {"text": fixed})
    assert response.status_code == 200, response.text
    edited = [c for c in changes_of(api.runtime, 405) if c.kind == "edited"]
    assert len(edited) == 1 and edited[0].notified  # recorded and matched: nobody newly concerned
    assert notified(api.runtime, 405) == first  # not even the one whose industry it now spells

    foreign = profile(api.runtime, enterprise_types=["外资企业"])
    api.patch(405, {"tags": ["科技企业", "外资企业"]}).raise_for_status()
    after = notified(api.runtime, 405)
    assert foreign in after and first.items() <= after.items()
    with api.runtime.database.session() as session:
        newcomers = session.scalars(
            select(EnterpriseProfile).where(EnterpriseProfile.id.in_(set(after) - set(first)))
        )
        assert all("外资企业" in p.enterprise_types for p in newcomers)  # only those the new tag concerns
        assert len(session.scalars(select(Notification).where(Notification.profile_id == tech)).all()) == 1


def test_a_retired_measure_concerns_nobody_and_its_restoring_tells_only_those_not_told(api: AdminApi) -> None:
    listed = profile(api.runtime, enterprise_types=["拟上市企业"])
    add_measure(api, 406, "拟上市企业可申请上市辅导补贴。", tags=["拟上市企业"])
    assert listed in notified(api.runtime, 406)
    version = api.measure(406)["version"]
    api.client.post("/api/admin/measures/1/406/retire", headers={**api.admin, "If-Match": str(version)})
    later = profile(api.runtime, enterprise_types=["拟上市企业"])
    assert later not in notified(api.runtime, 406)
    version = api.measure(406)["version"]
    restored = api.client.post(
        "/api/admin/measures/1/406/restore", headers={**api.admin, "If-Match": str(version)}
    )
    assert restored.status_code == 200
    who = notified(api.runtime, 406)
    # the same content as first published: the same change, and nobody hears of it twice
    assert later in who and listed in who
    with api.runtime.database.session() as session:
        rows = session.scalars(select(Notification).where(Notification.profile_id == listed)).all()
    assert sum(1 for n in rows if "1:406" in n.measure_keys) == 1
    assert len({c.id for c in changes_of(api.runtime, 406)}) == 2  # the publication and the retirement


# --- once, or not at all -----------------------------------------------------------------------


def test_publishing_the_same_change_twice_creates_no_duplicate(api: AdminApi) -> None:
    member = profile(api.runtime, enterprise_types=["新设企业"])
    add_measure(api, 407, "新设企业首年可免费使用共享办公空间。", tags=["新设企业"])
    with api.runtime.database.session() as session:
        again = publish_change(
            session, actor=ADMIN, kind="new", measures=["1:407"], search=api.runtime.search
        )
    assert again is not None and again.reused and again.notifications == 0
    with api.runtime.database.session() as session:
        measure_id = get_measure(session, document_id=1, number=407).id
        by_id = publish_change(session, actor="import", kind="document", measures=[measure_id])
    assert by_id is not None and by_id.reused and by_id.notifications == 0
    assert len(changes_of(api.runtime, 407)) == 1 and list(notified(api.runtime, 407)).count(member) == 1
    with api.runtime.database.session() as session:
        report = change_report(session, again.change.id)
    assert report["total"] == len(notified(api.runtime, 407)) and report["by_state"]["pending"] >= 1


def test_notify_false_records_the_change_and_notifies_nobody_until_published_with_notify(
    api: AdminApi,
) -> None:
    member = profile(api.runtime, enterprise_types=["中小微企业"], industry="冷链仓储")
    response = api.client.post(
        "/api/admin/measures",
        params={"notify": "false"},
        json={
            "document_id": 1,
            "number": 408,
            "category": CONSTRUCTION,
            "text": "支持冷链仓储设施建设。",
            "units": api.measure(23)["units"][:1],
            "tags": ["中小微企业"],
        },
        headers=api.admin,
    )
    assert response.status_code == 201, response.text
    [change] = changes_of(api.runtime, 408)
    assert not change.notified and notified(api.runtime, 408) == {}
    listed = api.client.get("/api/admin/push/changes", headers=api.admin).json()["items"]
    assert {"id": change.id, "notified": False, "notifications": 0}.items() <= next(
        c for c in listed if c["id"] == change.id
    ).items()
    with api.runtime.database.session() as session:
        published = publish_change(session, actor=ADMIN, kind="new", measures=["1:408"])
    assert published is not None and published.change.id == change.id and published.notifications >= 1
    assert member in notified(api.runtime, 408) and changes_of(api.runtime, 408)[0].notified


def test_the_admin_views_need_an_admin(api: AdminApi) -> None:
    for path in ("/api/admin/push/outbox", "/api/admin/push/changes", "/api/admin/push/subscriptions"):
        assert api.client.get(path).status_code == 401
        assert api.client.get(path, headers=api.staff).status_code == 403
        assert api.client.get(path, headers=api.admin).status_code == 200
    counts = api.client.get("/api/admin/push/subscriptions", headers=api.admin).json()
    assert counts["profiles"] >= 1 and counts["by_channel"]["widget"] >= 1 and counts["by_type"]
    outbox = api.client.get("/api/admin/push/outbox", params={"state": "pending"}, headers=api.admin).json()
    assert set(outbox["counts"]) == {"pending", "sending", "sent", "failed", "merged"}
    assert all(item["state"] == "pending" for item in outbox["items"])
    assert (
        api.client.get("/api/admin/push/outbox", params={"state": "x"}, headers=api.admin).status_code == 422
    )
    assert api.client.get("/api/admin/push/changes/999999", headers=api.admin).status_code == 404
    bad = api.client.get(
        "/api/admin/push/preview", params={"document_id": 1, "number": 999}, headers=api.admin
    )
    assert bad.status_code == 422  # a new measure needs its category and text


# --- the rate limit ----------------------------------------------------------------------------


def test_the_rate_limit_merges_into_a_digest(api: AdminApi) -> None:
    settings = PushSettings(push_rate_limit=3, push_retry_seconds=0)
    busy = profile(api.runtime, industry="量子计算")
    Worker(api.runtime.database, [InboxChannel()], settings).run_once()  # earlier tests' notifications
    for number in range(410, 415):
        add_measure(api, number, f"量子计算第{number}号专项支持措施。")
    worker = Worker(api.runtime.database, [InboxChannel()], settings)
    while worker.run_once().claimed:
        pass
    with api.runtime.database.session() as session:
        inbox = session.scalars(
            select(InboxItem).where(InboxItem.profile_id == busy).order_by(InboxItem.id)
        ).all()
        rows = session.scalars(select(Notification).where(Notification.profile_id == busy)).all()
    assert [i.measure_keys for i in inbox] == [["1:410"], ["1:411"], ["1:412", "1:413", "1:414"]]
    assert "3条措施" in inbox[2].title and "第414条" in inbox[2].text
    digest = next(n for n in rows if n.measure_keys == ["1:412", "1:413", "1:414"])
    assert sorted(n.state for n in rows) == ["merged", "merged", "sent", "sent", "sent"]
    assert {n.merged_into_id for n in rows if n.state == "merged"} == {digest.id}
    with api.runtime.database.session() as session:
        report = change_report(session, changes_of(api.runtime, 414)[0].id)
    assert report["by_state"]["sent"] >= 1 and report["digested"] >= 1

    # a fourth delivery within the week waits, merged with whatever comes next, until a slot frees
    add_measure(api, 415, "量子计算企业可申请算力券。")
    add_measure(api, 416, "量子计算人才可申请落户。")
    report = worker.run_once()
    assert report.deferred == 1 and report.sent == 0
    with api.runtime.database.session() as session:
        waiting = session.scalars(
            select(Notification).where(Notification.profile_id == busy, Notification.state == "pending")
        ).all()
        first_sent = min(as_utc(n.sent_at) for n in rows if n.sent_at)
    assert len(waiting) == 1 and waiting[0].measure_keys == ["1:415", "1:416"]
    assert as_utc(waiting[0].next_attempt_at) >= first_sent + dt.timedelta(days=7) - dt.timedelta(seconds=1)
    next_week = Worker(
        api.runtime.database,
        [InboxChannel()],
        settings,
        clock=lambda: utc_now() + dt.timedelta(days=7, minutes=1),
    )
    assert next_week.run_once().sent >= 1
    with api.runtime.database.session() as session:
        last = session.scalars(
            select(InboxItem).where(InboxItem.profile_id == busy).order_by(InboxItem.id)
        ).all()
    assert len(last) == 4 and last[-1].measure_keys == ["1:415", "1:416"]


# --- scale ---------------------------------------------------------------------------------------


def random_profiles(count: int, seed: int = 11) -> list[dict[str, object]]:
    """Profiles as companies would fill them in: one or two kinds, up to three topics, an industry."""
    rng = random.Random(seed)
    topics = [f"topic_{t}" for t in ("tax", "financing", "ip", "talent", "opening", "construction", "parks")]
    industries = [
        "",
        "",
        "软件开发",
        "跨境电商",
        "生物医药",
        "餐饮",
        "集成电路",
        "文化创意",
        "物流",
        "金融服务",
    ]
    now = utc_now()
    rows = []
    for n in range(count):
        kinds = rng.sample(ENTERPRISE_TYPES, rng.choice((0, 1, 1, 2)))
        followed = rng.sample(topics, rng.choice((0, 1, 2, 3)))
        industry = rng.choice(industries)
        rows.append(
            {
                "channel": "widget" if n % 3 else "wechat",
                "channel_user_id": f"bulk{n:07d}",
                "enterprise_types": kinds,
                "topics": followed,
                "industry": industry,
                "street": "",
                "size": "",
                "match_key": match_key(kinds, followed, industry),
                "consent_text_version": "2026-12",
                "consented_at": now,
                "created_at": now,
                "updated_at": now,
            }
        )
    return rows


def test_100000_profiles_are_matched_in_well_under_five_seconds(runtime: Runtime) -> None:
    with runtime.database.session() as session:
        rows = random_profiles(100_000)
        for start in range(0, len(rows), 10_000):
            session.execute(insert(EnterpriseProfile), rows[start : start + 10_000])
    with runtime.database.session() as session:
        before = measure_states(session, ["1:23"])
        new_tag = dataclasses.replace(before["1:23"], tags=before["1:23"].tags | {"生物医药企业", "科技企业"})
        typo = dataclasses.replace(before["1:23"], text=before["1:23"].text.replace("。", "；", 1))
        ProfileMatcher.build(session, runtime.search)  # jieba's dictionary is loaded once per process
        started = time.perf_counter()
        found = profiles_for_change(session, runtime.search, before, [new_tag])
        elapsed = time.perf_counter() - started
        assert profiles_for_change(session, runtime.search, before, [typo]) == set()
        # the signatures' answer is every row's answer
        matcher = ProfileMatcher.build(session, runtime.search)
        everyone = session.execute(select(EnterpriseProfile.id, EnterpriseProfile.match_key)).all()
        one_by_one = {
            pid for pid, key in everyone if matcher.newly(Signature.from_key(key), before["1:23"], new_tag)
        }
        preview = preview_change(session, after=[new_tag], before=before, search=runtime.search)
    assert found == one_by_one and 1_000 < len(found) < 100_000
    assert preview.count == len(found) and len(preview.sample) == 5
    assert elapsed < 5.0, f"{elapsed:.2f} s"
