"""The outbox worker: claim due notifications, keep the rate limit, deliver, record the outcome.

Claiming (one short transaction per batch):
- due are pending notifications whose `next_attempt_at` has come, and `sending` ones whose lease
  ran out (their worker died or hung: nothing is lost, they are claimed again);
- on PostgreSQL the rows are selected `FOR UPDATE SKIP LOCKED`, and their profiles
  `FOR NO KEY UPDATE SKIP LOCKED`, so concurrent workers take disjoint rows and never two workers
  decide the rate limit of one company at once; each claim is also a compare-and-set on (state,
  attempts). SQLite has no row locks: run one worker there (writers are serialised anyway, so a
  second one would gain nothing; the compare-and-set still keeps it from claiming a row twice, but
  the rate limit assumes one);
- a claimed notification is `sending`, leased to this worker until `lease_until`, its attempts
  counted (a worker's death counts as an attempt, so a notification that kills workers ends failed).

Rate limit (per company, `PUSH_RATE_LIMIT` deliveries in `PUSH_RATE_WINDOW_DAYS`): a company with
free slots gets its due notifications one by one, except that the last free slot carries all the
rest as one digest; a company without a free slot has its pending notifications merged into one
digest that waits until a slot frees. Merged notifications are `merged`, pointing at the digest.

Delivering (outside the claim transaction; never holding a row lock over an HTTP call):
- widget: the inbox item is written in the transaction that marks the notification sent, and
  only while this worker still holds the lease: exactly once;
- WeChat: the lease is renewed (and checked) just before the call, the outcome recorded after it,
  again only while the lease is held. A worker that dies between WeChat's acceptance and that
  record leaves a notification that is sent again after the lease: at-least-once at that edge,
  which no queue can avoid without WeChat taking an idempotency key.
- sent → sent; retry → pending again after `PUSH_RETRY_SECONDS` · 2^(attempts-1) (capped), or
  failed once `PUSH_MAX_ATTEMPTS` attempts are used; failed → failed with `last_error`.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from policy_db.clock import as_utc, utc_now
from policy_db.db import Database
from policy_db.models import EnterpriseProfile, Notification
from policy_db.push.config import PushSettings
from policy_db.push.delivery import DeliveryResult, InboxChannel, Notice, compose_notice
from policy_db.push.outbox import FAILED, MERGED, PENDING, SENDING, SENT

log = logging.getLogger(__name__)
NO_MEASURE = "措施已停用或删除，不再发送"


class ExternalChannel(Protocol):
    """A channel that delivers outside the database (WeChat): one call per notification."""

    name: str

    def send(self, user_id: str, notice: Notice) -> DeliveryResult:
        """Deliver the notice to the channel's user id."""


Channel = InboxChannel | ExternalChannel


@dataclass(frozen=True)
class Claim:
    """A notification leased to this worker."""

    id: int
    profile_id: int
    channel: str
    channel_user_id: str
    measure_keys: list[str]
    attempts: int  # including this one


@dataclass
class RunReport:
    """What one or more batches did."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    deferred: int = 0  # digests waiting for a free slot of the rate limit
    lost: int = 0  # leases lost (the profile deleted, or another worker took over)

    def add(self, other: RunReport) -> None:
        """Add another report's counts to this one."""
        for name in ("claimed", "sent", "retried", "failed", "deferred", "lost"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def worker_name() -> str:
    """host:pid:random — who holds a lease (for the outbox view and the logs)."""
    return f"{socket.gethostname()[:50]}:{os.getpid()}:{secrets.token_hex(3)}"


class Worker:
    """Delivers the outbox's notifications over the given channels."""

    def __init__(
        self,
        database: Database,
        channels: Iterable[Channel],
        settings: PushSettings | None = None,
        *,
        name: str | None = None,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self.database = database
        self.channels: dict[str, Channel] = {c.name: c for c in channels}
        self.settings = settings or PushSettings()
        self.name = (name or worker_name())[:80]
        self.clock = clock
        # Notices composed during the current batch (most of a batch tells of the same change).
        self._notices: dict[tuple[str, ...], Notice | None] = {}

    # --- claiming --------------------------------------------------------------------------
    def claim(self) -> tuple[list[Claim], int]:
        """Lease a batch of due notifications (merging into digests where the rate limit says so).

        Returns the claims and how many digests were deferred to a later slot.
        """
        if not self.channels:
            return [], 0
        now = self.clock()
        with self.database.session() as session:
            due = or_(
                and_(Notification.state == PENDING, Notification.next_attempt_at <= now),
                and_(Notification.state == SENDING, Notification.lease_until <= now),
            )
            rows = list(
                session.scalars(
                    select(Notification)
                    .where(Notification.channel.in_(sorted(self.channels)), due)
                    .order_by(Notification.next_attempt_at, Notification.id)
                    .limit(self.settings.push_batch_size)
                    .with_for_update(skip_locked=True)
                )
            )
            if not rows:
                return [], 0
            seen = {r.id: (r.state, r.attempts) for r in rows}
            # The profiles whose rate limit this worker decides now; rows of the others wait.
            locked = session.execute(
                select(EnterpriseProfile.id, EnterpriseProfile.channel_user_id)
                .where(EnterpriseProfile.id.in_(sorted({r.profile_id for r in rows})))
                .order_by(EnterpriseProfile.id)
                .with_for_update(skip_locked=True, key_share=True)
            )
            users: dict[int, str] = {profile_id: user_id for profile_id, user_id in locked}
            chosen: list[Notification] = []
            deferred = 0
            for profile_id in users:
                mine = sorted((r for r in rows if r.profile_id == profile_id), key=lambda r: r.id)
                taken, waiting = self._apply_rate_limit(session, profile_id, mine, now)
                chosen.extend(taken)
                deferred += waiting
            session.flush()
            claims = [c for c in (self._lease(session, row, seen, users, now) for row in chosen) if c]
        if claims:
            log.info("worker %s claimed %d notifications", self.name, len(claims))
        return claims, deferred

    def _apply_rate_limit(
        self, session: Session, profile_id: int, mine: list[Notification], now: dt.datetime
    ) -> tuple[list[Notification], int]:
        """The rows to deliver now (digests merged), and 1 when a digest has to wait for a slot."""
        used, reopens = self._deliveries(session, profile_id, {r.id for r in mine}, now)
        slots = self.settings.push_rate_limit - used
        if slots >= len(mine):
            return mine, 0
        others = list(
            session.scalars(
                select(Notification)
                .where(
                    Notification.profile_id == profile_id,
                    Notification.state == PENDING,
                    Notification.id.not_in([r.id for r in mine]),
                )
                .order_by(Notification.id)
                .with_for_update(skip_locked=True)
            )
        )
        if slots <= 0:
            digest = self._merge(session, mine + others)
            digest.next_attempt_at = max(reopens, as_utc(digest.next_attempt_at))
            digest.state, digest.lease_owner, digest.lease_until = PENDING, None, None
            return [], 1
        return [*mine[: slots - 1], self._merge(session, mine[slots - 1 :] + others)], 0

    def _deliveries(
        self, session: Session, profile_id: int, excluded: set[int], now: dt.datetime
    ) -> tuple[int, dt.datetime]:
        """Deliveries counting against the company's limit now, and when the next slot frees."""
        since = now - self.settings.rate_window
        sent, oldest = session.execute(
            select(func.count(), func.min(Notification.sent_at)).where(
                Notification.profile_id == profile_id,
                Notification.state == SENT,
                Notification.sent_at > since,
            )
        ).one()
        in_flight = session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(
                Notification.profile_id == profile_id,
                Notification.state == SENDING,
                Notification.lease_until > now,
                Notification.id.not_in(excluded),
            )
        )
        lease = dt.timedelta(seconds=self.settings.push_lease_seconds)
        reopens = as_utc(oldest) + self.settings.rate_window if oldest is not None else now + lease
        return int(sent or 0) + int(in_flight or 0), reopens

    def _merge(self, session: Session, rows: list[Notification]) -> Notification:
        """One digest carrying the measures of all `rows` (the oldest row carries them)."""
        rows = sorted(rows, key=lambda r: r.id)
        digest, rest = rows[0], rows[1:]
        if not rest:
            return digest
        keys = list(dict.fromkeys(k for r in rows for k in (r.measure_keys or [])))
        digest.measure_keys = keys
        ids = [r.id for r in rest]
        for row in rest:
            row.state, row.merged_into_id = MERGED, digest.id
            row.lease_owner, row.lease_until = None, None
        session.flush()
        session.execute(
            update(Notification)
            .where(Notification.merged_into_id.in_(ids))
            .values(merged_into_id=digest.id)
            .execution_options(synchronize_session=False)
        )
        log.info("notifications %s merged into digest %d", ids, digest.id)
        return digest

    def _lease(
        self,
        session: Session,
        row: Notification,
        seen: dict[int, tuple[str, int]],
        users: dict[int, str],
        now: dt.datetime,
    ) -> Claim | None:
        state, attempts = seen.get(row.id, (row.state, row.attempts))
        lease_until = now + dt.timedelta(seconds=self.settings.push_lease_seconds)
        claimed = session.execute(
            update(Notification)
            .where(Notification.id == row.id, Notification.state == state, Notification.attempts == attempts)
            .values(state=SENDING, lease_owner=self.name, lease_until=lease_until, attempts=attempts + 1)
            .execution_options(synchronize_session=False)
        )
        if getattr(claimed, "rowcount", 0) != 1:
            return None  # another worker was faster (SQLite, where nothing is locked)
        return Claim(
            id=row.id,
            profile_id=row.profile_id,
            channel=row.channel,
            channel_user_id=users[row.profile_id],
            measure_keys=list(row.measure_keys or []),
            attempts=attempts + 1,
        )

    # --- delivering ------------------------------------------------------------------------
    def deliver(self, claim: Claim) -> str:
        """Deliver one claimed notification; its outcome: sent, retry, failed or lost."""
        channel = self.channels[claim.channel]
        with self.database.session() as session:
            keys = tuple(claim.measure_keys)
            if keys not in self._notices:
                self._notices[keys] = compose_notice(session, keys)
            notice = self._notices[keys]
            if notice is None:
                return self._finish(session, claim, DeliveryResult("failed", NO_MEASURE))
            if isinstance(channel, InboxChannel):
                outcome = self._finish(session, claim, DeliveryResult("sent"))
                if outcome == "sent":
                    channel.store(
                        session, profile_id=claim.profile_id, notification_id=claim.id, notice=notice
                    )
                return outcome
            if not self._renew(session, claim):
                return "lost"
        try:
            result = channel.send(claim.channel_user_id, notice)
        except Exception as error:  # a bug or an unexpected answer: retried, and visible in the outbox
            log.exception("notification %d: delivery raised", claim.id)
            result = DeliveryResult("retry", f"{type(error).__name__}: {error}"[:300])
        with self.database.session() as session:
            outcome = self._finish(session, claim, result)
        if outcome == "lost" and result.status == "sent":
            log.warning(
                "notification %d was sent after its lease ended (another worker may send it too)", claim.id
            )
        return outcome

    def _renew(self, session: Session, claim: Claim) -> bool:
        lease_until = self.clock() + dt.timedelta(seconds=self.settings.push_lease_seconds)
        renewed = session.execute(
            update(Notification)
            .where(
                Notification.id == claim.id,
                Notification.state == SENDING,
                Notification.lease_owner == self.name,
            )
            .values(lease_until=lease_until)
            .execution_options(synchronize_session=False)
        )
        return getattr(renewed, "rowcount", 0) == 1

    def _finish(self, session: Session, claim: Claim, result: DeliveryResult) -> str:
        """Record the outcome, only while this worker holds the lease; the outcome or "lost"."""
        now = self.clock()
        values: dict[str, object] = {
            "lease_owner": None,
            "lease_until": None,
            "last_error": result.error[:300],
        }
        if result.status == "sent":
            outcome, values["state"], values["sent_at"] = "sent", SENT, now
        elif result.status == "retry" and claim.attempts < self.settings.push_max_attempts:
            outcome, values["state"] = "retry", PENDING
            values["next_attempt_at"] = now + self.settings.retry_delay(claim.attempts)
        else:
            outcome, values["state"] = "failed", FAILED
        finished = session.execute(
            update(Notification)
            .where(
                Notification.id == claim.id,
                Notification.state == SENDING,
                Notification.lease_owner == self.name,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if getattr(finished, "rowcount", 0) != 1:
            return "lost"
        if outcome != "sent":
            log.warning(
                "notification %d (attempt %d): %s — %s", claim.id, claim.attempts, outcome, result.error
            )
        return outcome

    def release(self, claims: Iterable[Claim]) -> None:
        """Give back claims not delivered (stopping): pending again, the attempt not counted."""
        with self.database.session() as session:
            for claim in claims:
                session.execute(
                    update(Notification)
                    .where(
                        Notification.id == claim.id,
                        Notification.state == SENDING,
                        Notification.lease_owner == self.name,
                    )
                    .values(state=PENDING, lease_owner=None, lease_until=None, attempts=claim.attempts - 1)
                    .execution_options(synchronize_session=False)
                )

    # --- loops -----------------------------------------------------------------------------
    def run_once(self, stop: threading.Event | None = None) -> RunReport:
        """Claim one batch and deliver it (or, when `stop` is set, give the rest back)."""
        self._notices.clear()  # a new batch reads the measures as they are now
        claims, deferred = self.claim()
        report = RunReport(claimed=len(claims), deferred=deferred)
        for index, claim in enumerate(claims):
            if stop is not None and stop.is_set():
                self.release(claims[index:])
                break
            outcome = self.deliver(claim)
            field = {"sent": "sent", "retry": "retried", "failed": "failed"}.get(outcome, "lost")
            setattr(report, field, getattr(report, field) + 1)
        return report

    def run(self, stop: threading.Event, *, poll_seconds: float | None = None) -> RunReport:
        """Deliver until `stop` is set, waiting `poll_seconds` whenever nothing is due."""
        poll = poll_seconds if poll_seconds is not None else self.settings.push_poll_seconds
        total = RunReport()
        log.info("worker %s delivering %s", self.name, ", ".join(sorted(self.channels)))
        while not stop.is_set():
            try:
                report = self.run_once(stop)
            except Exception:  # the database away: keep trying, the outbox keeps everything
                log.exception("worker %s: batch failed; retrying in %.0f s", self.name, poll)
                stop.wait(poll)
                continue
            total.add(report)
            if report.claimed == 0:
                stop.wait(poll)
        return total
