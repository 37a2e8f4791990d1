"""Saved enterprise profiles in the conversation: subscribe (only with consent), view, unsubscribe.

After a profile match (actions/profile.py) the bot offers "订阅相关政策通知". The profile it would
save is what the match used: the enterprise type, the topics the stated need falls under, and
industry words the company named. It is shown with the consent text, and saved only when the
reply carries an explicit consent entity (the "同意并保存" quick reply). The profile is keyed by
the channel ("wechat" or "widget") and the Rasa sender id (the openid, the widget's client id).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import PolicyAction, channel_of
from actions.replies import button
from policy_db.clock import as_utc
from policy_db.errors import InvalidInput
from policy_db.push.delivery import inbox
from policy_db.push.profiles import (
    CONSENT_TEXT,
    CONSENT_TEXT_VERSION,
    ProfileInput,
    delete_profile,
    get_profile,
    profile_view,
    save_profile,
)
from policy_db.runtime import Runtime
from policy_db.topics import keywords_of

log = logging.getLogger(__name__)

MATCHED_SLOT = "matched_profile"  # what the last match used: enterprise_type, stage, need, industry
PENDING_SLOT = "subscribe_pending"  # the user asked to subscribe before any match: offer it after one
PROFILE_FORM = "profile_form"
AGREE, DECLINE = "agree", "decline"
INBOX_SHOWN = 3

# Words of a stated need ("缺钱", "招人", "办事方便点") beyond a topic's label and keywords.
NEED_CUES: dict[str, tuple[str, ...]] = {
    "topic_opening": ("开办", "注册", "开公司", "营业执照", "注销"),
    "topic_tax": ("税", "发票"),
    "topic_property": ("不动产", "房产证", "产权"),
    "topic_financing": ("融资", "贷款", "资金", "缺钱", "钱", "上市", "担保", "信贷"),
    "topic_gov_services": ("政务服务", "办事", "一网通办", "审批", "跑腿", "窗口"),
    "topic_ip": ("知识产权", "专利", "商标", "版权"),
    "topic_procurement": ("采购", "招投标", "投标"),
    "topic_supervision": ("监管", "执法", "检查", "处罚"),
    "topic_legal": ("法律", "法治", "诉讼", "纠纷", "合同"),
    "topic_policies": ("惠企政策", "补贴", "补助", "扶持", "奖励", "优惠", "资助"),
    "topic_innovation": ("创新", "创业", "孵化", "研发"),
    "topic_talent": ("人才", "招聘", "招人", "缺人", "人手", "落户", "用工", "就业"),
    "topic_parks": ("园区", "场地", "办公", "楼宇", "厂房", "租金", "房租"),
    "topic_investment": ("招商", "投资"),
    "topic_foreign": ("外资", "涉外", "外籍", "跨境", "进出口"),
    "topic_construction": ("工程", "施工", "建设"),
    "topic_e_seal": ("电子印章", "印章"),
}

# Industry words a company may name while telling about itself (canonical word: its cues).
INDUSTRIES: dict[str, tuple[str, ...]] = {
    "软件": ("软件", "saas"),
    "互联网": ("互联网", "网络科技"),
    "人工智能": ("人工智能", "大模型"),
    "电商": ("电商", "网店"),
    "餐饮": ("餐饮", "饭店", "餐厅", "饭馆", "小吃", "奶茶", "咖啡"),
    "零售": ("零售", "门店", "便利店", "超市"),
    "贸易": ("贸易", "进出口", "外贸", "批发"),
    "制造": ("制造", "工厂", "加工", "生产"),
    "物流": ("物流", "快递", "运输", "仓储"),
    "生物医药": ("生物医药", "医药", "制药", "医疗器械"),
    "医疗": ("医疗", "诊所", "医院"),
    "教育": ("教育", "培训"),
    "设计": ("设计",),
    "文化传媒": ("传媒", "影视", "动漫", "广告", "出版", "游戏"),
    "咨询": ("咨询",),
    "建筑": ("建筑", "装修", "装饰"),
    "金融": ("金融", "投资管理", "基金"),
    "检验检测": ("检测", "认证"),
}
MAX_INDUSTRY_WORDS = 2


def topics_for_need(need: str, topics: Mapping[str, Mapping[str, object]]) -> list[str]:
    """The topic names (keys of topics.yml) a stated need falls under, in topics.yml's order."""
    text = need.lower()
    found = []
    for name, topic in topics.items():
        cues = [str(topic.get("label") or ""), *keywords_of(dict(topic)), *NEED_CUES.get(name, ())]
        if any(cue and cue in text for cue in cues):
            found.append(name)
    return found


def industry_words(texts: Iterable[str]) -> str:
    """The industry words (at most two, space-separated) named in what the company said."""
    text = " ".join(texts).lower()
    found = [word for word, cues in INDUSTRIES.items() if any(cue in text for cue in cues)]
    return " ".join(found[:MAX_INDUSTRY_WORDS])


def profile_input(matched: Mapping[str, Any], topics: Mapping[str, Mapping[str, object]]) -> ProfileInput:
    """The profile a match would save: its enterprise type, the need's topics, industry words."""
    kind = str(matched.get("enterprise_type") or "").strip()
    return ProfileInput(
        enterprise_types=[kind] if kind else [],
        topics=topics_for_need(str(matched.get("need") or ""), topics),
        industry=str(matched.get("industry") or "").strip(),
    )


def describe(
    topics: Mapping[str, Mapping[str, object]], *, kinds: list[str], followed: list[str], industry: str
) -> str:
    """A profile in words: "企业类型：科技企业；关注主题：融资与上市；行业：软件"."""
    labels = [str((topics.get(t) or {}).get("label") or t) for t in followed]
    parts = [f"企业类型：{'、'.join(kinds) or '未填写'}", f"关注主题：{'、'.join(labels) or '未填写'}"]
    if industry:
        parts.append(f"行业：{industry}")
    return "；".join(parts)


def describe_input(profile: ProfileInput, topics: Mapping[str, Mapping[str, object]]) -> str:
    """The words of a profile about to be saved."""
    return describe(
        topics, kinds=profile.enterprise_types, followed=profile.topics, industry=profile.industry
    )


def channel_name(tracker: Tracker) -> str:
    """The profile channel of the conversation: "wechat" on WeChat, "widget" anywhere else."""
    return "wechat" if channel_of(tracker) == "wechat" else "widget"


def consent_of(tracker: Tracker) -> str:
    """The consent entity of the user's turn ("agree", "decline"), set only by the quick replies."""
    return str(next(tracker.get_latest_entity_values("consent"), "") or "")


def offer_consent(
    dispatcher: CollectingDispatcher, profile: ProfileInput, topics: Mapping[str, Mapping[str, object]]
) -> None:
    """The consent text, exactly what would be saved, and the two quick replies."""
    dispatcher.utter_message(
        response="utter_subscription_consent",
        consent=CONSENT_TEXT,
        summary=describe_input(profile, topics),
        buttons=[
            button("同意并保存", "subscribe", consent=AGREE, consent_version=CONSENT_TEXT_VERSION),
            button("暂不保存", "subscribe", consent=DECLINE),
        ],
    )


class ActionSubscribe(PolicyAction):
    """ "订阅政策推送": the consent prompt, then (only with explicit consent) the saved profile."""

    def name(self) -> str:
        return "action_subscribe"

    def answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any], runtime: Runtime
    ) -> list[dict[str, Any]]:
        consent = consent_of(tracker)
        if consent == DECLINE:
            dispatcher.utter_message(response="utter_subscription_declined")
            return [SlotSet(PENDING_SLOT, None)]
        matched = tracker.get_slot(MATCHED_SLOT)
        filling_the_form = tracker.active_loop_name == PROFILE_FORM
        if filling_the_form or not isinstance(matched, dict) or not matched.get("enterprise_type"):
            return self._match_first(dispatcher, tracker)
        wanted = profile_input(matched, runtime.topics)
        if consent != AGREE:
            offer_consent(dispatcher, wanted, runtime.topics)
            return []
        version = str(next(tracker.get_latest_entity_values("consent_version"), "") or CONSENT_TEXT_VERSION)
        try:
            with runtime.database.session() as session:
                save_profile(
                    session,
                    channel=channel_name(tracker),
                    channel_user_id=tracker.sender_id,
                    profile=wanted,
                    consent=True,
                    consent_version=version,
                    topics=runtime.topics,
                )
        except InvalidInput as refused:
            log.info("profile not saved: %s", refused)
            dispatcher.utter_message(response="utter_subscription_refused", reason=str(refused))
            if version != CONSENT_TEXT_VERSION:  # agreed to an older wording: show the current one
                offer_consent(dispatcher, wanted, runtime.topics)
            return []
        dispatcher.utter_message(
            response="utter_subscription_saved",
            summary=describe_input(wanted, runtime.topics),
            buttons=[button("我的订阅", "my_subscription"), button("取消订阅", "unsubscribe")],
        )
        return [SlotSet(PENDING_SLOT, None)]

    @staticmethod
    def _match_first(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
        """No match yet: the profile form first; the match then offers the subscription."""
        dispatcher.utter_message(response="utter_subscription_match_first")
        if tracker.active_loop_name == PROFILE_FORM:
            return [SlotSet(PENDING_SLOT, True)]
        return [SlotSet(PENDING_SLOT, True), FollowupAction(PROFILE_FORM)]


class ActionMySubscription(PolicyAction):
    """ "我的订阅": the saved profile and the latest notifications, or how to create one."""

    def name(self) -> str:
        return "action_my_subscription"

    def answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any], runtime: Runtime
    ) -> list[dict[str, Any]]:
        with runtime.database.session() as session:
            saved = get_profile(session, channel=channel_name(tracker), channel_user_id=tracker.sender_id)
            view = profile_view(saved) if saved is not None else None
            box = inbox(session, profile_id=saved.id, limit=INBOX_SHOWN) if saved is not None else None
        if view is None or box is None:
            dispatcher.utter_message(
                response="utter_no_subscription",
                buttons=[button("帮我匹配政策", "match_profile"), button("订阅政策推送", "subscribe")],
            )
            return []
        summary = describe(
            runtime.topics, kinds=view.enterprise_types, followed=view.topics, industry=view.industry
        )
        dispatcher.utter_message(
            response="utter_my_subscription",
            summary=summary,
            since=as_utc(view.consented_at).strftime("%Y-%m-%d"),
            notices=notice_lines(box),
            buttons=[button("取消订阅", "unsubscribe")],
        )
        return []


def notice_lines(box: Mapping[str, Any]) -> str:
    """The latest inbox items as lines ("暂时还没有通知" when there are none)."""
    items = list(box.get("items") or [])
    if not items:
        return "暂时还没有通知。"
    lines = [f"{i}. {item['title']}（{as_utc(item['created_at']):%m-%d}）" for i, item in enumerate(items, 1)]
    unread = int(box.get("unread") or 0)
    head = f"最近的通知（未读{unread}条）：" if unread else "最近的通知："
    return "\n".join([head, *lines])


class ActionUnsubscribe(PolicyAction):
    """ "取消订阅": delete the saved profile with its notifications, for real."""

    def name(self) -> str:
        return "action_unsubscribe"

    def answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any], runtime: Runtime
    ) -> list[dict[str, Any]]:
        try:
            with runtime.database.session() as session:
                counts = delete_profile(
                    session, channel=channel_name(tracker), channel_user_id=tracker.sender_id
                )
        except InvalidInput as refused:  # a sender id the profiles cannot hold: nothing was saved
            log.info("no profile to delete: %s", refused)
            counts = {"enterprise_profile": 0}
        if not counts.get("enterprise_profile"):
            dispatcher.utter_message(response="utter_nothing_to_unsubscribe")
        else:
            dispatcher.utter_message(
                response="utter_unsubscribed",
                notices=max(counts.get("notification", 0), counts.get("inbox_item", 0)),
            )
        return [SlotSet(PENDING_SLOT, None)]
