"""Publishing a change: the `PolicyChange` and one notification per newly concerned profile, written
in the caller's transaction (a transactional outbox: the edit and its notifications commit or roll
back together, and the worker only ever sees committed ones).

Publishing the same content again (a retried request, a second import of the same text) finds the
change by its fingerprint and adds nothing for profiles already notified of it: the unique
(profile_id, change_id) of `notification` makes a duplicate impossible.

Also here: the preview ("this change will notify N enterprises"), the outbox by state, the per-change
delivery report and the subscription counts for the console.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, get_args

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from policy_db.auth import Principal
from policy_db.clock import as_utc, shanghai_today, utc_now
from policy_db.errors import InvalidInput, NotFound
from policy_db.kinds import ACTIVE, EXPIRED, REPLACED, STATUSES
from policy_db.models import Category, EnterpriseProfile, Notification, PolicyChange, PolicyDocument
from policy_db.push.matching import (
    MeasureState,
    ProfileMatcher,
    Signature,
    concerned_profiles,
    measure_states,
)

if TYPE_CHECKING:
    from policy_db.search import PolicySearch

ChangeKind = Literal["new", "edited", "document"]
CHANGE_KINDS: tuple[ChangeKind, ...] = get_args(ChangeKind)
# merged: its measures travel in another notification of the same profile (a digest).
State = Literal["pending", "sending", "sent", "failed", "merged"]
STATES: tuple[State, ...] = get_args(State)
PENDING, SENDING, SENT, FAILED, MERGED = STATES
SAMPLE = 5
INSERT_CHUNK = 5000


@dataclass(frozen=True)
class Published:
    """What a publish wrote: the change, and how many notifications it added now."""

    change: PolicyChange
    notifications: int
    reused: bool = False


@dataclass(frozen=True)
class Preview:
    """How many profiles a change would newly concern, and a few of their ids."""

    count: int
    sample: list[int] = field(default_factory=list)


def fingerprint(states: Iterable[MeasureState]) -> str:
    """The identity of published content: each measure's key and everything matching reads of it."""
    parts = sorted(
        (
            s.key,
            s.live,
            sorted(s.tags),
            list(s.category),
            hashlib.sha256(f"{s.title}\n{s.text}".encode()).hexdigest(),
        )
        for s in states
    )
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()


def preview_change(
    session: Session,
    *,
    after: Iterable[MeasureState],
    before: Mapping[str, MeasureState] | Iterable[MeasureState] = (),
    search: PolicySearch | None = None,
    sample: int = SAMPLE,
) -> Preview:
    """How many profiles the change would newly concern, with up to `sample` profile ids."""
    if session.scalar(select(EnterpriseProfile.id).limit(1)) is None:
        return Preview(0)  # nobody to match (and no tokenizer to load for it)
    matcher = ProfileMatcher.build(session, search)
    found = concerned_profiles(session, matcher, before, list(after))
    return Preview(len(found), sorted(found)[:sample])


def preview_measure_edit(
    session: Session,
    *,
    document_id: int,
    number: int,
    text: str | None = None,
    title: str | None = None,
    tags: list[str] | None = None,
    category: int | str | None = None,
    status: str | None = None,
    search: PolicySearch | None = None,
    sample: int = SAMPLE,
) -> Preview:
    """The preview of creating (when the number is free) or editing a measure as given, before writing.

    A new measure needs its `category` (ordinal or title) and `text`; None keeps a field as it is.
    """
    key = f"{document_id}:{number}"
    current = measure_states(session, [key]).get(key)
    document = session.get(PolicyDocument, document_id)
    if document is None:
        raise NotFound(f"没有编号为{document_id}的政策文件")
    if current is None and (category is None or not (text or "").strip()):
        raise InvalidInput("预览新措施需要类别（category）和内容（text）")
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"状态应为 {'、'.join(STATUSES)} 之一")
    ordinal = _category_ordinal(session, document_id, category) if category is not None else None
    base = current or MeasureState(key, "", "", frozenset(), (document_id, 0), live=False)
    document_live = document.status == ACTIVE and document.validity(shanghai_today()) not in (
        EXPIRED,
        REPLACED,
    )
    if status is None and current is not None:
        live = base.live  # the status stays: so does whether it applies
    else:
        live = document_live and (status or ACTIVE) == ACTIVE
    after = replace(
        base,
        title=base.title if title is None else title.strip(),
        text=base.text if text is None else text.strip(),
        tags=base.tags if tags is None else frozenset(t.strip() for t in tags if t.strip()),
        category=base.category if ordinal is None else (document_id, ordinal),
        live=live,
    )
    if not after.title:
        after = replace(after, title=after.text[:20])
    return preview_change(
        session, after=[after], before={key: current} if current else {}, search=search, sample=sample
    )


def _category_ordinal(session: Session, document_id: int, ref: int | str) -> int:
    stmt = select(Category.ordinal).where(Category.document_id == document_id)
    text = str(ref).strip()
    if isinstance(ref, int) or text.isdigit():
        found = session.scalar(stmt.where(Category.ordinal == int(text)))
    else:
        found = session.scalar(stmt.where(Category.title == text))
    if found is None:
        raise InvalidInput(f"文件{document_id}中没有类别“{ref}”")
    return int(found)


def publish_change(
    session: Session,
    *,
    actor: Principal | str,
    kind: ChangeKind,
    measures: Iterable[int | str],
    before: Mapping[str, MeasureState] | Iterable[MeasureState] = (),
    notify: bool = True,
    search: PolicySearch | None = None,
    now: dt.datetime | None = None,
) -> Published | None:
    """Record a published change of `measures` (ids or "document_id:number" keys, as they are now).

    `before` holds the measures' states before the change (`measure_states` taken before writing);
    a measure missing there is new. With `notify`, every profile the change newly concerns gets a
    pending notification; without, the change is recorded as not notified. Runs in the caller's
    transaction; None when no measure is given.
    """
    if kind not in CHANGE_KINDS:
        raise InvalidInput(f"变更类型应为 {'、'.join(CHANGE_KINDS)} 之一")
    session.flush()
    after = measure_states(session, list(measures))
    if not after:
        return None
    states = [after[k] for k in sorted(after)]
    change, reused = _change(session, kind, states, actor if isinstance(actor, str) else actor.name, now)
    if not notify:
        return Published(change, 0, reused)
    change.notified = True
    if session.scalar(select(EnterpriseProfile.id).limit(1)) is None:
        return Published(change, 0, reused)  # nobody to match (and no tokenizer to load for it)
    concerned = concerned_profiles(session, ProfileMatcher.build(session, search), before, states)
    added = _add_notifications(session, change.id, concerned, now or utc_now())
    return Published(change, added, reused)


def _change(
    session: Session, kind: str, states: list[MeasureState], actor: str, now: dt.datetime | None
) -> tuple[PolicyChange, bool]:
    mark = fingerprint(states)
    values = {
        "kind": kind,
        "measure_keys": [s.key for s in states],
        "fingerprint": mark,
        "actor": actor[:80],
        "notified": False,
        "created_at": now or utc_now(),
    }
    # ON CONFLICT DO NOTHING: of concurrent publishes of the same content, one row; the others use it.
    stmt = (
        _insert(session)(PolicyChange).values(values).on_conflict_do_nothing(index_elements=["fingerprint"])
    )
    created = session.execute(stmt.returning(PolicyChange.id)).scalar() is not None
    change = session.scalar(select(PolicyChange).where(PolicyChange.fingerprint == mark))
    assert change is not None
    return change, not created


def _insert(session: Session) -> Any:
    """The dialect's INSERT, which has ON CONFLICT (PostgreSQL and SQLite alike)."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def _add_notifications(
    session: Session, change_id: int, concerned: Mapping[int, tuple[str, list[str]]], now: dt.datetime
) -> int:
    if not concerned:
        return 0
    count = select(func.count()).select_from(Notification).where(Notification.change_id == change_id)
    before = session.scalar(count) or 0
    rows = [
        {
            "profile_id": profile_id,
            "change_id": change_id,
            "channel": channel,
            "measure_keys": keys,
            "state": PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "last_error": "",
            "created_at": now,
        }
        for profile_id, (channel, keys) in sorted(concerned.items())
    ]
    insert = _insert(session)
    for start in range(0, len(rows), INSERT_CHUNK):
        stmt = insert(Notification).on_conflict_do_nothing(index_elements=["profile_id", "change_id"])
        session.execute(stmt, rows[start : start + INSERT_CHUNK])
    return (session.scalar(count) or 0) - before


# --- the console's views ------------------------------------------------------------------------


def change_view(change: PolicyChange) -> dict[str, Any]:
    """A change as the console lists it."""
    return {
        "id": change.id,
        "kind": change.kind,
        "measure_keys": list(change.measure_keys or []),
        "actor": change.actor,
        "notified": change.notified,
        "created_at": as_utc(change.created_at),
    }


def recent_changes(session: Session, *, limit: int = 50) -> list[dict[str, Any]]:
    """The latest changes, newest first, each with its notifications' count."""
    changes = list(session.scalars(select(PolicyChange).order_by(PolicyChange.id.desc()).limit(limit)))
    rows = session.execute(
        select(Notification.change_id, func.count())
        .where(Notification.change_id.in_([c.id for c in changes]))
        .group_by(Notification.change_id)
    )
    counts: dict[int, int] = {change_id: n for change_id, n in rows}
    return [{**change_view(c), "notifications": int(counts.get(c.id, 0))} for c in changes]


def change_report(session: Session, change_id: int) -> dict[str, Any]:
    """The delivery report of one change: its notifications by state and channel, and the failures.

    A notification merged into a digest counts with the state of the digest that carries it.
    """
    change = session.get(PolicyChange, change_id)
    if change is None:
        raise NotFound(f"没有编号为{change_id}的政策变更")
    carrier = aliased(Notification)
    rows = session.execute(
        select(
            Notification.id,
            Notification.channel,
            Notification.state,
            carrier.state,
            carrier.id,
            func.coalesce(carrier.last_error, Notification.last_error),
            EnterpriseProfile.channel_user_id,
        )
        .join(EnterpriseProfile, EnterpriseProfile.id == Notification.profile_id)
        .outerjoin(carrier, carrier.id == Notification.merged_into_id)
        .where(Notification.change_id == change_id)
        .order_by(Notification.id)
    ).all()
    by_state: Counter[str] = Counter()
    by_channel: Counter[str] = Counter()
    failures = []
    for nid, channel, state, carried_state, carrier_id, error, user_id in rows:
        effective = carried_state if state == MERGED and carried_state else state
        by_state[effective] += 1
        by_channel[channel] += 1
        if effective == FAILED:
            failures.append(
                {
                    "notification_id": carrier_id or nid,
                    "channel": channel,
                    "channel_user_id": user_id,
                    "error": error,
                }
            )
    return {
        **change_view(change),
        "total": len(rows),
        "notifications": len(rows),
        "by_state": {s: by_state.get(s, 0) for s in STATES if s != MERGED},
        "by_channel": dict(by_channel),
        "digested": sum(1 for r in rows if r[2] == MERGED),
        "failures": failures[:100],
    }


def outbox_summary(
    session: Session, *, state: str | None = None, limit: int = 100, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Counts by state, and the latest notifications (of one state if given), without personal data

    beyond the channel user id.
    """
    if state is not None and state not in STATES:
        raise InvalidInput(f"状态应为 {'、'.join(STATES)} 之一")
    by_state = session.execute(select(Notification.state, func.count()).group_by(Notification.state))
    counts: dict[str, int] = {state: n for state, n in by_state}
    stmt = (
        select(Notification, EnterpriseProfile.channel_user_id)
        .join(EnterpriseProfile, EnterpriseProfile.id == Notification.profile_id)
        .order_by(Notification.id.desc())
        .limit(limit)
    )
    if state is not None:
        stmt = stmt.where(Notification.state == state)
    items = [
        {
            "id": n.id,
            "change_id": n.change_id,
            "channel": n.channel,
            "channel_user_id": user_id,
            "measure_keys": list(n.measure_keys or []),
            "state": n.state,
            "attempts": n.attempts,
            "next_attempt_at": as_utc(n.next_attempt_at),
            "last_error": n.last_error,
            "merged_into_id": n.merged_into_id,
            "created_at": as_utc(n.created_at),
            "sent_at": as_utc(n.sent_at) if n.sent_at else None,
        }
        for n, user_id in session.execute(stmt)
    ]
    moment = now or utc_now()
    due = session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.state == PENDING, Notification.next_attempt_at <= moment)
    )
    return {"counts": {s: int(counts.get(s, 0)) for s in STATES}, "due": int(due or 0), "items": items}


def subscription_counts(session: Session) -> dict[str, Any]:
    """How many profiles there are, by channel, by kind and by topic (no ids)."""
    by_type: Counter[str] = Counter()
    by_topic: Counter[str] = Counter()
    with_industry = 0
    rows = session.execute(
        select(EnterpriseProfile.match_key, func.count()).group_by(EnterpriseProfile.match_key)
    )
    for match_key, n in rows:
        signature = Signature.from_key(match_key)
        for kind in signature.types:
            by_type[kind] += n
        for topic in signature.topics:
            by_topic[topic] += n
        if signature.industry:
            with_industry += n
    channels = session.execute(
        select(EnterpriseProfile.channel, func.count()).group_by(EnterpriseProfile.channel)
    )
    by_channel: dict[str, int] = {channel: n for channel, n in channels}
    return {
        "profiles": sum(int(v) for v in by_channel.values()),
        "by_channel": {k: int(v) for k, v in by_channel.items()},
        "by_type": dict(by_type.most_common()),
        "by_topic": dict(by_topic.most_common()),
        "with_industry": with_industry,
    }
