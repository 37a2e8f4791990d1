"""Policy notifications: a company's profile and inbox (/api/profile, /api/inbox), and the admins'
views of the outbox (/api/admin/push).

The company is identified as the widget's chat endpoints identify a client: by its `sender` (the
random client id the widget keeps in localStorage, the same pattern), here as a query parameter;
writes count against the same per-sender limit as chat messages (429 + Retry-After). WeChat users
save their profile in the conversation (the bot's dialogue calls `policy_db.push.profiles`), not here.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request

from app.deps import RuntimeDep, SessionDep
from app.schemas.push import (
    ChangeList,
    ChangeReport,
    ChangeSummary,
    ConsentPublic,
    InboxItemPublic,
    InboxPublic,
    OutboxSummary,
    ProfileBody,
    ProfileDeleted,
    ProfilePublic,
    PushActivityPublic,
    PushPreview,
    Subscriptions,
)
from app.security import AdminDep, AuthenticatedRoute, require_admin
from channels.texts import RATE_LIMITED_TEXT
from policy_db.kinds import Status
from policy_db.push import outbox
from policy_db.push.delivery import inbox, inbox_view, mark_read
from policy_db.push.outbox import State
from policy_db.push.profiles import (
    CONSENT_TEXT,
    CONSENT_TEXT_VERSION,
    ENTERPRISE_TYPES,
    SIZES,
    ProfileInput,
    delete_profile,
    get_profile,
    profile_view,
    require_profile,
    save_profile,
)
from policy_db.push.reports import FOLLOW_UP_DAYS, MAX_DAYS, MAX_WINDOW_DAYS, push_activity

WIDGET = "widget"
SenderQuery = Annotated[
    str,
    Query(pattern=r"^[A-Za-z0-9_-]{8,80}$", description="对话框的客户端标识（与 /api/chat 的 sender 相同）"),
]

company = APIRouter(prefix="/api", tags=["subscriptions"])
admin = APIRouter(
    prefix="/api/admin/push",
    tags=["admin"],
    dependencies=[Depends(require_admin)],
    route_class=AuthenticatedRoute,
)


def _limit(http: Request, sender: str) -> None:
    wait = http.app.state.chat_limiter.hit(sender)
    if wait:
        raise HTTPException(429, RATE_LIMITED_TEXT, headers={"Retry-After": str(wait)})


# --- the company -------------------------------------------------------------------------------


@company.get("/profile/consent", response_model=ConsentPublic)
def get_consent(runtime: RuntimeDep) -> ConsentPublic:
    """What a company agrees to by saving its profile, and the choices of its fields."""
    topics = {name: str(topic.get("label") or name) for name, topic in runtime.topics.items()}
    return ConsentPublic(
        version=CONSENT_TEXT_VERSION,
        text=CONSENT_TEXT,
        enterprise_types=list(ENTERPRISE_TYPES),
        sizes=list(SIZES),
        topics=topics,
    )


@company.get("/profile", response_model=ProfilePublic, responses={404: {"description": "no profile saved"}})
def get_my_profile(sender: SenderQuery, session: SessionDep) -> ProfilePublic:
    """The company's saved profile (404 when there is none)."""
    return profile_view(require_profile(session, channel=WIDGET, channel_user_id=sender))


@company.put("/profile", response_model=ProfilePublic, responses={429: {"description": "too many requests"}})
def put_my_profile(
    sender: SenderQuery, body: ProfileBody, runtime: RuntimeDep, session: SessionDep, http: Request
) -> ProfilePublic:
    """Save (or replace) the company's profile; needs `consent: true` (422 without)."""
    _limit(http, sender)
    profile = save_profile(
        session,
        channel=WIDGET,
        channel_user_id=sender,
        profile=ProfileInput(
            enterprise_types=body.enterprise_types,
            industry=body.industry,
            street=body.street,
            size=body.size,
            topics=body.topics,
        ),
        consent=body.consent,
        consent_version=body.consent_version,
        topics=list(runtime.topics),
    )
    return profile_view(profile)


@company.delete("/profile", response_model=ProfileDeleted)
def delete_my_profile(sender: SenderQuery, session: SessionDep, http: Request) -> ProfileDeleted:
    """Delete the profile, its notifications and inbox for good (the counts; zeros when there was none)."""
    _limit(http, sender)
    return ProfileDeleted(**delete_profile(session, channel=WIDGET, channel_user_id=sender))


@company.get("/inbox", response_model=InboxPublic)
def get_inbox(
    sender: SenderQuery, session: SessionDep, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> InboxPublic:
    """The company's notifications, newest first, and the unread count (empty without a profile)."""
    profile = get_profile(session, channel=WIDGET, channel_user_id=sender)
    if profile is None:
        return InboxPublic(items=[], unread=0)
    return InboxPublic.model_validate(inbox(session, profile_id=profile.id, limit=limit))


@company.post("/inbox/{item_id}/read", response_model=InboxItemPublic)
def read_inbox_item(
    item_id: Annotated[int, Path(ge=1)], sender: SenderQuery, session: SessionDep
) -> InboxItemPublic:
    """Mark one of the company's notifications read (404 when it is not theirs)."""
    profile = require_profile(session, channel=WIDGET, channel_user_id=sender)
    return InboxItemPublic.model_validate(
        inbox_view(mark_read(session, profile_id=profile.id, item_id=item_id))
    )


# --- the admins --------------------------------------------------------------------------------


@admin.get("/preview", response_model=PushPreview)
def preview(
    admin: AdminDep,
    session: SessionDep,
    runtime: RuntimeDep,
    document_id: Annotated[int, Query(ge=1)],
    number: Annotated[int, Query(ge=1)],
    text: Annotated[str | None, Query(max_length=5000, description="新的措施内容")] = None,
    title: Annotated[str | None, Query(max_length=120)] = None,
    tags: Annotated[list[str] | None, Query(description="新的标签（可重复）")] = None,
    category: Annotated[str | None, Query(max_length=300, description="类别序号或标题")] = None,
    status: Annotated[Status | None, Query()] = None,
) -> PushPreview:
    """How many companies creating or editing this measure as given would notify, before writing it."""
    result = outbox.preview_measure_edit(
        session,
        document_id=document_id,
        number=number,
        text=text,
        title=title,
        tags=tags,
        category=category,
        status=status,
        search=runtime.search,
    )
    return PushPreview(count=result.count, sample=result.sample, message=f"此变更将通知{result.count}家企业")


@admin.get("/outbox", response_model=OutboxSummary)
def get_outbox(
    admin: AdminDep,
    session: SessionDep,
    state: Annotated[State | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> OutboxSummary:
    """Notifications by state, how many are due, and the latest ones (of `state` if given)."""
    return OutboxSummary.model_validate(outbox.outbox_summary(session, state=state, limit=limit))


@admin.get("/changes", response_model=ChangeList)
def get_changes(
    admin: AdminDep, session: SessionDep, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> ChangeList:
    """The latest published changes with their notifications' counts."""
    return ChangeList(
        items=[ChangeSummary.model_validate(c) for c in outbox.recent_changes(session, limit=limit)]
    )


@admin.get("/changes/{change_id}", response_model=ChangeReport)
def get_change(change_id: Annotated[int, Path(ge=1)], admin: AdminDep, session: SessionDep) -> ChangeReport:
    """The delivery report of one change (404 when there is none)."""
    return ChangeReport.model_validate(outbox.change_report(session, change_id))


@admin.get("/subscriptions", response_model=Subscriptions)
def get_subscriptions(admin: AdminDep, session: SessionDep) -> Subscriptions:
    """How many companies follow each kind and topic, by channel."""
    return Subscriptions.model_validate(outbox.subscription_counts(session))


@admin.get("/activity", response_model=PushActivityPublic)
def get_activity(
    admin: AdminDep,
    session: SessionDep,
    days: Annotated[int, Query(ge=1, le=MAX_DAYS, description="统计最近多少天（北京时间，含今天）")] = 30,
    window: Annotated[
        int, Query(ge=1, le=MAX_WINDOW_DAYS, description="推送送达后多少天内的咨询算作“推送后咨询”")
    ] = FOLLOW_UP_DAYS,
) -> PushActivityPublic:
    """Notifications delivered per day, and the conversations of companies that followed a delivery."""
    return push_activity(session, days=days, window_days=window)


router = APIRouter()
router.include_router(company)
router.include_router(admin)
