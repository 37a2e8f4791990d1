"""The insights API under /api/admin: what companies asked, what found nothing, how they rated it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel

from app.deps import RuntimeDep, SessionDep
from app.exports import csv_response
from app.security import AuthenticatedRoute, require_admin
from policy_db.insights import REPORT_TZ, insights_report
from policy_db.question_log import RATINGS

router = APIRouter(
    prefix="/api/admin",
    tags=["insights"],
    dependencies=[Depends(require_admin)],
    route_class=AuthenticatedRoute,
)
DaysQuery = Annotated[int, Query(ge=1, le=366, description="统计最近多少天（含今天，按北京时间）")]
OUTCOME_NAMES = {
    "no_match": "未匹配",
    "clarified": "需追问",
    "routed": "转责任单位",
    "clarify_choice": "追问后选定",
}
# Labels of the bot's intents that are not topics (topics are labelled in seeds/topics.yml).
INTENT_LABELS = {
    "ask_unit": "询问责任单位",
    "ask_unit_duties": "单位职责",
    "ask_measure": "按编号查措施",
    "ask_detail": "措施详情",
    "match_profile": "按企业情况匹配",
    "inform": "补充信息",
    "more": "查看更多",
    "out_of_scope": "超出范围",
    "nlu_fallback": "未能识别",
    "human_handoff": "转人工",
    "rate": "评价",
    "greet": "问候",
}


class DayInsights(BaseModel):
    """One day's counts; `ratings` maps 满意/一般/不满意 to a count."""

    date: str
    conversations: int
    questions: int
    answered: int
    unmatched: int
    ratings: dict[str, int]


class InsightTotals(BaseModel):
    """The window's totals; rates are fractions (null without data)."""

    conversations: int
    questions: int
    answered: int
    unmatched: int
    ratings: dict[str, int]
    satisfaction: float | None
    unmatched_rate: float | None


class TopicCount(BaseModel):
    """How often a topic intent was asked."""

    topic: str
    label: str
    questions: int


class MeasureCount(BaseModel):
    """How often a measure was in an answer."""

    key: str
    document_id: int
    number: int
    title: str
    questions: int


class UnmatchedQuestion(BaseModel):
    """A question that found no measure (or needed clarifying), with how often and when."""

    text: str
    count: int
    outcome: str
    last_asked: dt.datetime
    example_of: list[str]
    chosen: list[str] = []  # the measure ("1:26") a user picked after a clarifying question


class TopicRatings(BaseModel):
    """Ratings given after answers on a topic."""

    topic: str
    label: str
    ratings: dict[str, int]


class InsightsReport(BaseModel):
    """The insights page's data."""

    days: int
    since: dt.datetime
    timezone: str
    totals: InsightTotals
    per_day: list[DayInsights]
    top_topics: list[TopicCount]
    top_measures: list[MeasureCount]
    unmatched: list[UnmatchedQuestion]
    ratings_by_topic: list[TopicRatings]


def _report(runtime: RuntimeDep, session: SessionDep, days: int) -> dict[str, Any]:
    labels = {
        **INTENT_LABELS,
        **{name: str(topic.get("label", name)) for name, topic in runtime.topics.items()},
    }
    return insights_report(session, days=days, topic_labels=labels)


@router.get("/insights", response_model=InsightsReport)
def get_insights(runtime: RuntimeDep, session: SessionDep, days: DaysQuery = 30) -> dict[str, Any]:
    """Conversations and questions per day, top topics and measures, unmatched questions, ratings."""
    return _report(runtime, session, days)


@router.get(
    "/insights.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "UTF-8（带 BOM）CSV"}},
)
def get_insights_csv(runtime: RuntimeDep, session: SessionDep, days: DaysQuery = 30) -> Response:
    """The same report as CSV: one block per table, each with its own header row."""
    report = _report(runtime, session, days)
    return csv_response(
        ["统计", f"最近{days}天（北京时间）"], _csv_rows(report), filename=f"policy-insights-{days}d.csv"
    )


def _csv_rows(report: dict[str, Any]) -> Iterator[list[Any]]:
    yield []
    yield ["日期", "对话数", "提问数", "已答复", "未匹配", *RATINGS]
    for day in report["per_day"]:
        yield [
            day["date"],
            day["conversations"],
            day["questions"],
            day["answered"],
            day["unmatched"],
            *(day["ratings"][r] for r in RATINGS),
        ]
    yield []
    yield ["热门话题", "话题名称", "提问数"]
    for topic in report["top_topics"]:
        yield [topic["topic"], topic["label"], topic["questions"]]
    yield []
    yield ["热门措施", "简称", "被引用次数"]
    for measure in report["top_measures"]:
        yield [f"文件{measure['document_id']}第{measure['number']}条", measure["title"], measure["questions"]]
    yield []
    yield ["未匹配问题", "次数", "结果", "最近提问时间", "已加为例句"]
    for question in report["unmatched"]:
        asked = question["last_asked"].astimezone(REPORT_TZ).strftime("%Y-%m-%d %H:%M")
        yield [
            question["text"],
            question["count"],
            OUTCOME_NAMES.get(question["outcome"], ""),
            asked,
            " ".join(question["example_of"]),
        ]
    yield []
    yield ["话题评价", "话题名称", *RATINGS]
    for topic in report["ratings_by_topic"]:
        yield [topic["topic"], topic["label"], *(topic["ratings"][r] for r in RATINGS)]
