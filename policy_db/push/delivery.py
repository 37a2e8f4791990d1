"""The channels a notification goes out on, and what their answers mean for the outbox.

- widget: an inbox item, written in the same transaction that marks the notification sent —
  stored is delivered, exactly once (`inbox_item.notification_id` is unique as well).
- wechat: a template message through the Official Account API (`channels/wechat/official_api.py`,
  handed in by the worker's entry point: the data layer imports no HTTP client). Its outcome:

  | API outcome | errcode | outbox |
  |---|---|---|
  | sent (a stale token was refreshed by the client) | 0 | sent |
  | quota (45009, 45011, 45047) | | retried later, with backoff |
  | failed, no answer or WeChat busy (HTTP 5xx, network, -1) | None, -1 | retried later, with backoff |
  | failed, a fresh token rejected too | 40001, 40014, 42001 | retried later |
  | outside_window: unsubscribed or unreachable (45015) | 45015 | failed, not retried |
  | failed, the request refused (40003 openid, 40037 template, 43004 …) | other | failed, not retried |

The inbox item is the notification as shown; reading it (`mark_read`) and listing the inbox are here too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from policy_db.clock import as_utc, shanghai_today, utc_now
from policy_db.errors import NotFound
from policy_db.models import InboxItem
from policy_db.push.matching import measure_states

Status = Literal["sent", "retry", "failed"]
TOKEN_INVALID = frozenset({40001, 40014, 42001})
BUSY = frozenset({-1})
MAX_LINES = 5
TITLE_CHARS = 30


@dataclass(frozen=True)
class Notice:
    """What a notification says: the measures it names, as a title and a few lines."""

    title: str
    text: str
    measure_keys: list[str]
    numbers: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class DeliveryResult:
    """What became of one delivery: sent, to retry later, or failed for good (with why)."""

    status: Status
    error: str = ""


def compose_notice(session: Session, measure_keys: Sequence[str]) -> Notice | None:
    """The notice for these measures as they are now (retired ones left out); None when none is left."""
    states = measure_states(session, list(measure_keys))
    live = [states[k] for k in measure_keys if k in states and states[k].live]
    if not live:
        return None
    numbers = [int(s.key.partition(":")[2]) for s in live]
    lines = [f"第{n}条 {s.title[:TITLE_CHARS]}" for n, s in zip(numbers, live, strict=True)]
    title = f"政策更新：{lines[0]}" if len(live) == 1 else f"政策更新：{len(live)}条措施与您的企业相关"
    shown = lines[:MAX_LINES] + ([f"等共{len(lines)}条"] if len(lines) > MAX_LINES else [])
    text = "\n".join(shown) + f"\n回复“第{numbers[0]}条”查看措施全文和责任单位。"
    return Notice(title=title, text=text, measure_keys=[s.key for s in live], numbers=numbers)


class InboxChannel:
    """The widget: the notice is stored in the company's inbox, in the worker's transaction."""

    name = "widget"
    transactional = True

    def store(self, session: Session, *, profile_id: int, notification_id: int, notice: Notice) -> None:
        """Add the inbox item (the caller marks the notification sent in the same transaction)."""
        session.add(
            InboxItem(
                profile_id=profile_id,
                notification_id=notification_id,
                title=notice.title[:200],
                text=notice.text,
                measure_keys=notice.measure_keys,
            )
        )


class TemplateSender(Protocol):
    """What the worker needs of the Official Account API client (`OfficialAccountAPI`)."""

    def send_template(
        self, openid: str, template_id: str, data: Mapping[str, Any], url: str | None = None
    ) -> Any:
        """Send a template message; the result's `outcome`: sent, outside_window, quota or failed."""


class WeChatTemplateChannel:
    """WeChat: a template message to the profile's openid."""

    name = "wechat"
    transactional = False

    def __init__(self, api: TemplateSender, template_id: str, url: str | None = None) -> None:
        if not template_id:
            raise ValueError("WeChat notifications need the template id (WECHAT_TEMPLATE_ID)")
        self.api, self.template_id, self.url = api, template_id, url or None

    def send(self, openid: str, notice: Notice) -> DeliveryResult:
        """Send the notice and say what its outcome means for the outbox."""
        result = self.api.send_template(openid, self.template_id, template_data(notice), self.url)
        return wechat_result(result)


def template_data(notice: Notice, today: dt.date | None = None) -> dict[str, dict[str, str]]:
    """The template's fields: first (headline), keyword1 (the measures), keyword2 (date), remark."""
    measures = "；".join(notice.text.splitlines()[:-1])
    first = notice.numbers[0] if notice.numbers else ""
    return {
        "first": {"value": "您关注的营商政策有更新"},
        "keyword1": {"value": measures[:200]},
        "keyword2": {"value": (today or shanghai_today()).isoformat()},
        "remark": {"value": f"回复“第{first}条”查看措施全文和责任单位。"},
    }


def wechat_result(result: Any) -> DeliveryResult:
    """The outbox's reading of an `OfficialAccountAPI` send result (see the table above)."""
    outcome = str(getattr(result.outcome, "value", result.outcome))
    errcode = getattr(result, "errcode", None)
    if outcome == "sent":
        return DeliveryResult("sent")
    if outcome == "quota":
        return DeliveryResult("retry", f"微信接口额度已用完（errcode {errcode}），稍后重试")
    if outcome == "outside_window":
        return DeliveryResult("failed", f"用户已取消关注或无法接收消息（errcode {errcode}）")
    if errcode is None or errcode in BUSY:
        return DeliveryResult(
            "retry", f"微信接口暂时不可用（{'无应答' if errcode is None else errcode}），稍后重试"
        )
    if errcode in TOKEN_INVALID:
        return DeliveryResult("retry", f"微信访问令牌无效（errcode {errcode}），稍后重试")
    return DeliveryResult("failed", f"微信拒绝了消息（errcode {errcode}）")


# --- the inbox ---------------------------------------------------------------------------------


def inbox(session: Session, *, profile_id: int, limit: int = 50) -> dict[str, Any]:
    """The company's inbox, newest first, and how many items are unread."""
    items = session.scalars(
        select(InboxItem).where(InboxItem.profile_id == profile_id).order_by(InboxItem.id.desc()).limit(limit)
    )
    unread = session.scalar(
        select(func.count())
        .select_from(InboxItem)
        .where(InboxItem.profile_id == profile_id, InboxItem.read_at.is_(None))
    )
    return {"items": [inbox_view(i) for i in items], "unread": int(unread or 0)}


def inbox_view(item: InboxItem) -> dict[str, Any]:
    """One inbox item as the widget shows it."""
    return {
        "id": item.id,
        "title": item.title,
        "text": item.text,
        "measure_keys": list(item.measure_keys or []),
        "created_at": as_utc(item.created_at),
        "read_at": as_utc(item.read_at) if item.read_at else None,
    }


def mark_read(
    session: Session, *, profile_id: int, item_id: int, now: dt.datetime | None = None
) -> InboxItem:
    """Mark one of the company's inbox items read (once: the first reading time stays)."""
    item = session.get(InboxItem, item_id)
    if item is None or item.profile_id != profile_id:
        raise NotFound(f"消息箱中没有编号为{item_id}的消息")
    session.execute(
        update(InboxItem)
        .where(InboxItem.id == item_id, InboxItem.read_at.is_(None))
        .values(read_at=now or utc_now())
        .execution_options(synchronize_session=False)
    )
    session.refresh(item)
    return item
