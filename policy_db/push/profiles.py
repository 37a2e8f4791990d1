"""A company's saved profile: created only with consent, viewed, updated, and deleted for real.

A profile holds the company's kinds (the measures' beneficiary tags), industry, street, size and
the topics it follows, under its channel user id (the widget's client id or the WeChat openid),
and which consent text it agreed to when. Nothing else about the company or the person is kept.

Deleting it deletes its notifications and inbox with it; the audit trail records only that a
deletion happened, the counts, and a SHA-256 of the user id (as `forget_sender` does).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal, get_args

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from policy_db.audit import record
from policy_db.auth import Principal
from policy_db.clock import as_utc, utc_now
from policy_db.config import get_settings
from policy_db.db import rowcount
from policy_db.errors import InvalidInput, NotFound
from policy_db.input_text import text_problem
from policy_db.models import EnterpriseProfile, InboxItem, Measure, Notification
from policy_db.services.personal_data import SYSTEM, sender_hash
from policy_db.text import normalize
from policy_db.topics import load_topics

Channel = Literal["widget", "wechat"]
CHANNELS: tuple[Channel, ...] = get_args(Channel)
# The kinds of company the bot's profile form asks about: the beneficiary tags of the measures.
ENTERPRISE_TYPES = ("外资企业", "拟上市企业", "科技企业", "文创企业", "新设企业", "中小微企业", "民营企业")
SIZES = ("微型", "小型", "中型", "大型")
MAX_USER_ID = 120
MAX_WORDS = 30  # industry and street: a few words, not a description

# What the company agrees to; a new wording gets a new version, and profiles keep the version they saw.
CONSENT_TEXT_VERSION = "2026-12"
CONSENT_TEXT = (
    "保存企业画像后，有新的或修改过的政策措施与您的企业类型、行业或关注的主题相关时，我们会通知您"
    "（网页对话框的消息箱或微信公众号模板消息；一段时间内的通知次数有上限，超出的合并为一条）。"
    "我们只保存企业类型、行业、所在街道镇、规模和关注的主题，不保存企业名称、联系人或电话。"
    "您可以随时查看、修改或删除画像；删除后画像和所有通知立即彻底删除。"
)


@dataclass(frozen=True)
class ProfileInput:
    """What a company tells about itself (every field optional, but it must follow something)."""

    enterprise_types: list[str] = field(default_factory=list)
    industry: str = ""
    street: str = ""
    size: str = ""
    topics: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ProfileView:
    """A saved profile as the company (and the bot) sees it."""

    id: int
    channel: str
    channel_user_id: str
    enterprise_types: list[str]
    industry: str
    street: str
    size: str
    topics: list[str]
    consent_text_version: str
    consented_at: dt.datetime
    created_at: dt.datetime
    updated_at: dt.datetime


def profile_view(profile: EnterpriseProfile) -> ProfileView:
    """The view of a loaded profile."""
    return ProfileView(
        id=profile.id,
        channel=profile.channel,
        channel_user_id=profile.channel_user_id,
        enterprise_types=list(profile.enterprise_types or []),
        industry=profile.industry,
        street=profile.street,
        size=profile.size,
        topics=list(profile.topics or []),
        consent_text_version=profile.consent_text_version,
        consented_at=as_utc(profile.consented_at),
        created_at=as_utc(profile.created_at),
        updated_at=as_utc(profile.updated_at),
    )


def match_key(enterprise_types: Iterable[str], topics: Iterable[str], industry: str) -> str:
    """The canonical signature that matching groups profiles by: sorted kinds, sorted topics, industry."""
    return json.dumps(
        [sorted(set(enterprise_types)), sorted(set(topics)), normalize(industry)],
        ensure_ascii=False,
        separators=(",", ":"),
    )


def known_topics() -> list[str]:
    """The topic names of `seeds/topics.yml` (the bot's topics), from the configured seeds folder."""
    return list(load_topics(get_settings().seeds_dir))


def known_types(session: Session) -> set[str]:
    """The kinds a profile may name: the bot's seven, and any tag the catalogue's measures carry."""
    kinds = set(ENTERPRISE_TYPES)
    for tags in session.scalars(select(Measure.tags)):
        kinds.update(tags or [])
    return kinds


def get_profile(session: Session, *, channel: str, channel_user_id: str) -> EnterpriseProfile | None:
    """The profile of a channel user, or None."""
    return session.scalar(
        select(EnterpriseProfile).where(
            EnterpriseProfile.channel == channel, EnterpriseProfile.channel_user_id == channel_user_id
        )
    )


def require_profile(session: Session, *, channel: str, channel_user_id: str) -> EnterpriseProfile:
    """The profile of a channel user; NotFound when none is saved."""
    profile = get_profile(session, channel=channel, channel_user_id=channel_user_id)
    if profile is None:
        raise NotFound("还没有保存企业画像")
    return profile


def save_profile(
    session: Session,
    *,
    channel: str,
    channel_user_id: str,
    profile: ProfileInput,
    consent: bool,
    consent_version: str | None = None,
    topics: Iterable[str] | None = None,
    now: dt.datetime | None = None,
) -> EnterpriseProfile:
    """Create or replace a channel user's profile; only with consent to the current consent text.

    `topics` are the topic names a profile may follow (default: those of the seeds' topics.yml).
    """
    if consent is not True:
        raise InvalidInput("保存企业画像需要您先阅读并同意说明")
    if consent_version is not None and consent_version != CONSENT_TEXT_VERSION:
        raise InvalidInput("说明已更新，请阅读新的说明后再同意")
    channel, user_id = _identity(channel, channel_user_id)
    values = _clean(session, profile, topics)
    moment = now or utc_now()
    existing = get_profile(session, channel=channel, channel_user_id=user_id)
    if existing is None:
        existing = EnterpriseProfile(channel=channel, channel_user_id=user_id, created_at=moment)
        session.add(existing)
    _assign(existing, values)
    existing.consent_text_version = CONSENT_TEXT_VERSION
    existing.consented_at = moment
    existing.updated_at = moment
    session.flush()
    return existing


def update_profile(
    session: Session,
    *,
    channel: str,
    channel_user_id: str,
    enterprise_types: list[str] | None = None,
    industry: str | None = None,
    street: str | None = None,
    size: str | None = None,
    topics: list[str] | None = None,
    known: Iterable[str] | None = None,
) -> EnterpriseProfile:
    """Change some fields of a saved profile (None keeps a field); NotFound without one."""
    current = require_profile(session, channel=channel, channel_user_id=channel_user_id)
    merged = ProfileInput(
        enterprise_types=list(current.enterprise_types) if enterprise_types is None else enterprise_types,
        industry=current.industry if industry is None else industry,
        street=current.street if street is None else street,
        size=current.size if size is None else size,
        topics=list(current.topics) if topics is None else topics,
    )
    _assign(current, _clean(session, merged, known))
    session.flush()
    return current


def delete_profile(
    session: Session, *, channel: str, channel_user_id: str, actor: Principal | None = None
) -> dict[str, int]:
    """Delete the profile with its notifications and inbox; how many rows of each went.

    The audit entry (only when there was a profile) holds the counts and a SHA-256 of the user id.
    """
    channel, user_id = _identity(channel, channel_user_id)
    profile_id = session.scalar(
        select(EnterpriseProfile.id).where(
            EnterpriseProfile.channel == channel, EnterpriseProfile.channel_user_id == user_id
        )
    )
    counts = {"enterprise_profile": 0, "notification": 0, "inbox_item": 0}
    if profile_id is None:
        return counts
    # Explicit deletes (not only ON DELETE CASCADE): the counts, and SQLite without foreign keys.
    counts["inbox_item"] = rowcount(
        session.execute(delete(InboxItem).where(InboxItem.profile_id == profile_id))
    )
    session.execute(
        update(Notification)
        .where(Notification.profile_id == profile_id)
        .values(merged_into_id=None)
        .execution_options(synchronize_session=False)
    )
    counts["notification"] = rowcount(
        session.execute(delete(Notification).where(Notification.profile_id == profile_id))
    )
    counts["enterprise_profile"] = rowcount(
        session.execute(delete(EnterpriseProfile).where(EnterpriseProfile.id == profile_id))
    )
    session.expire_all()
    record(
        session,
        actor=actor or SYSTEM,
        action="delete",
        entity="profile",
        key=f"sha256:{sender_hash(user_id)}",
        after={"channel": channel, **counts},
    )
    return counts


def count_profiles(session: Session) -> int:
    """How many profiles are saved."""
    return session.scalar(select(func.count()).select_from(EnterpriseProfile)) or 0


def _identity(channel: str, channel_user_id: str) -> tuple[str, str]:
    if channel not in CHANNELS:
        raise InvalidInput(f"渠道应为 {'、'.join(CHANNELS)} 之一，而不是“{channel}”")
    user_id = channel_user_id.strip()
    if not user_id or len(user_id) > MAX_USER_ID:
        raise InvalidInput(f"用户标识应为1到{MAX_USER_ID}个字符")
    problem = text_problem(user_id, multiline=False)
    if problem:
        raise InvalidInput(f"用户标识{problem}")
    return channel, user_id


def _clean(session: Session, profile: ProfileInput, topics: Iterable[str] | None) -> dict[str, object]:
    kinds = _unique(profile.enterprise_types, "企业类型")
    allowed_kinds = known_types(session)
    unknown = [k for k in kinds if k not in allowed_kinds]
    if unknown:
        raise InvalidInput(f"未知的企业类型：{'、'.join(unknown)}（可选：{'、'.join(ENTERPRISE_TYPES)}）")
    followed = _unique(profile.topics, "主题")
    allowed = set(known_topics() if topics is None else topics)
    strange = [t for t in followed if t not in allowed]
    if strange:
        raise InvalidInput(f"未知的主题：{'、'.join(strange)}")
    industry, street = _words(profile.industry, "行业"), _words(profile.street, "街道镇")
    size = profile.size.strip()
    if size and size not in SIZES:
        raise InvalidInput(f"企业规模应为 {'、'.join(SIZES)} 之一，而不是“{size}”")
    if not (kinds or followed or industry):
        raise InvalidInput("请至少选择一个企业类型、关注的主题或填写行业，否则没有政策可以通知您")
    return {
        "enterprise_types": kinds,
        "topics": followed,
        "industry": industry,
        "street": street,
        "size": size,
    }


def _assign(profile: EnterpriseProfile, values: dict[str, object]) -> None:
    for name, value in values.items():
        setattr(profile, name, value)
    # From the stored values: the industry as masked by the model.
    profile.match_key = match_key(profile.enterprise_types, profile.topics, profile.industry)


def _unique(values: Iterable[str], what: str) -> list[str]:
    cleaned: list[str] = []
    for value in values:
        value = value.strip()
        if not value:
            raise InvalidInput(f"{what}不能为空")
        if value not in cleaned:
            cleaned.append(value)
    return cleaned


def _words(value: str, what: str) -> str:
    value = value.strip()
    if len(value) > MAX_WORDS:
        raise InvalidInput(f"{what}最多{MAX_WORDS}个字")
    problem = text_problem(value, multiline=False)
    if problem:
        raise InvalidInput(f"{what}{problem}")
    return value
