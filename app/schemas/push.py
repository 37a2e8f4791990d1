"""Request and response schemas of policy notifications: the company's profile and inbox, the admin views."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, Field

from policy_db.input_text import PlainTextModel
from policy_db.push.profiles import MAX_WORDS, ProfileView
from policy_db.push.reports import PushActivity

ProfilePublic = ProfileView  # the data layer's view, served as it is
PushActivityPublic = PushActivity  # pushes and follow-up conversations per day, served as they are


class ProfileBody(PlainTextModel):
    """A company's profile, saved only with `consent: true` to the text of GET /api/profile/consent."""

    consent: bool = Field(description="已阅读并同意说明（GET /api/profile/consent）；必须为 true")
    consent_version: str | None = Field(default=None, max_length=20, description="所同意说明的版本")
    enterprise_types: Annotated[list[Annotated[str, Field(max_length=20)]], Field(max_length=10)] = []
    industry: str = Field(default="", max_length=MAX_WORDS)
    street: str = Field(default="", max_length=MAX_WORDS)
    size: str = Field(default="", max_length=10)
    topics: Annotated[list[Annotated[str, Field(max_length=60)]], Field(max_length=30)] = []


class ConsentPublic(BaseModel):
    """The text a company agrees to when saving its profile, and its version."""

    version: str
    text: str
    enterprise_types: list[str]
    sizes: list[str]
    topics: dict[str, str]  # topic name → label


class ProfileDeleted(BaseModel):
    """How many rows went with the profile (0 everywhere when there was none)."""

    enterprise_profile: int
    notification: int
    inbox_item: int


class InboxItemPublic(BaseModel):
    """One notification in the widget's inbox."""

    id: int
    title: str
    text: str
    measure_keys: list[str]
    created_at: dt.datetime
    read_at: dt.datetime | None


class InboxPublic(BaseModel):
    """The inbox, newest first, and how many items are unread."""

    items: list[InboxItemPublic]
    unread: int


class PushPreview(BaseModel):
    """How many companies a change would notify, and up to five of their profile ids."""

    count: int
    sample: list[int]
    message: str


class OutboxItem(BaseModel):
    """One notification of the outbox (no personal data beyond the channel user id)."""

    id: int
    change_id: int
    channel: str
    channel_user_id: str
    measure_keys: list[str]
    state: str
    attempts: int
    next_attempt_at: dt.datetime
    last_error: str
    merged_into_id: int | None
    created_at: dt.datetime
    sent_at: dt.datetime | None


class OutboxSummary(BaseModel):
    """Notifications by state, how many are due now, and the latest ones."""

    counts: dict[str, int]
    due: int
    items: list[OutboxItem]


class ChangeSummary(BaseModel):
    """One published change."""

    id: int
    kind: str
    measure_keys: list[str]
    actor: str
    notified: bool
    created_at: dt.datetime
    notifications: int = 0


class ChangeList(BaseModel):
    """The latest published changes, newest first."""

    items: list[ChangeSummary]


class DeliveryFailure(BaseModel):
    """A notification of the change that could not be delivered, and why."""

    notification_id: int
    channel: str
    channel_user_id: str
    error: str


class ChangeReport(ChangeSummary):
    """The delivery report of a change: its notifications by state and channel, and the failures."""

    total: int
    by_state: dict[str, int]
    by_channel: dict[str, int]
    digested: int
    failures: list[DeliveryFailure]


class Subscriptions(BaseModel):
    """How many companies follow what (counts only)."""

    profiles: int
    by_channel: dict[str, int]
    by_type: dict[str, int]
    by_topic: dict[str, int]
    with_industry: int
