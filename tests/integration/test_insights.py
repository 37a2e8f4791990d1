"""The insights API: per-day counts in Shanghai time, topics, measures, unmatched questions, ratings."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from typing import Any

import pytest

from policy_db.insights import REPORT_TZ, local_day, window_start
from policy_db.question_log import log_question, save_rating
from policy_db.runtime import Runtime
from tests.integration.admin_support import AdminApi, admin_api, seeded_runtime_of

NOW = dt.datetime.now(dt.timezone.utc)
RECENT = dt.timedelta(minutes=5)


def ask(
    runtime: Runtime,
    *,
    sender: str,
    text: str,
    outcome: str = "answered",
    intent: str = "",
    measures: list[str] | None = None,
    ago: dt.timedelta = RECENT,
) -> None:
    """Store a question as the bot logs it (row and daily counters), asked `ago` before now."""
    with runtime.database.session() as session:
        log_question(
            session,
            sender_id=sender,
            text=text,
            outcome=outcome,
            intent=intent,
            measures=measures,
            at=NOW - ago,
        )


def rate(runtime: Runtime, *, sender: str, rating: str, topic: str = "", ago: dt.timedelta = RECENT) -> None:
    """Store a rating given `ago` before now (row and daily counters)."""
    with runtime.database.session() as session:
        save_rating(session, sender_id=sender, rating=rating, topic=topic, at=NOW - ago)


TWO_DAYS = dt.timedelta(days=2)
LONG_AGO = dt.timedelta(days=40)


def history(runtime: Runtime) -> None:
    """Today: 2 companies, 4 questions (1 unmatched); 2 days ago: 2 unmatched; 40 days ago: 1."""
    ask(runtime, sender="a", text="留抵退税怎么办", intent="topic_tax", measures=["1:25", "1:23"])
    ask(runtime, sender="a", text="退税要多久", intent="topic_tax", measures=["1:25"])
    ask(runtime, sender="b", text="开公司", intent="topic_opening", measures=["1:19"])
    ask(runtime, sender="b", text="食堂几点开门?", outcome="no_match", intent="nlu_fallback")
    ask(runtime, sender="c", text="食堂几点开门？", outcome="no_match", ago=TWO_DAYS)
    ask(runtime, sender="c", text="=HYPERLINK(1)", outcome="clarified", ago=TWO_DAYS)
    ask(runtime, sender="d", text="很久以前的问题", outcome="no_match", intent="topic_tax", ago=LONG_AGO)
    rate(runtime, sender="a", rating="满意", topic="topic_tax")
    rate(runtime, sender="b", rating="不满意", topic="topic_opening")
    rate(runtime, sender="c", rating="一般", topic="topic_tax", ago=TWO_DAYS)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AdminApi]:
    """One seeded database per backend with the question history above."""
    with (
        seeded_runtime_of(str(request.param), tmp_path_factory.mktemp("insights")) as runtime,
        admin_api(runtime) as admin,
    ):
        history(runtime)
        yield admin


def report(api: AdminApi, days: int = 30) -> dict[str, Any]:
    response = api.client.get("/api/admin/insights", params={"days": days}, headers=api.admin)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize("url", ["/api/admin/insights", "/api/admin/insights.csv"])
def test_insights_are_for_admins_only(api: AdminApi, url: str) -> None:
    assert api.client.get(url).status_code == 401
    staff = api.client.get(url, headers=api.staff)
    assert staff.status_code == 403 and "管理员" in staff.json()["detail"]
    assert api.client.get(url, headers=api.admin).status_code == 200


def test_counts_per_day_in_shanghai_time(api: AdminApi) -> None:
    body = report(api, days=30)
    assert len(body["per_day"]) == 30 and body["timezone"] == "Asia/Shanghai"
    days = {d["date"]: d for d in body["per_day"]}
    today, before = days[local_day(NOW - RECENT)], days[local_day(NOW - TWO_DAYS)]
    assert (today["questions"], today["conversations"], today["answered"], today["unmatched"]) == (4, 2, 3, 1)
    assert (before["questions"], before["conversations"], before["unmatched"]) == (2, 1, 2)
    assert body["totals"]["questions"] == 6 and body["totals"]["unmatched_rate"] == 0.5
    assert report(api, days=60)["totals"]["questions"] == 7  # the 40-day-old question


def test_top_topics_and_measures(api: AdminApi) -> None:
    body = report(api)
    assert [(t["topic"], t["label"], t["questions"]) for t in body["top_topics"]] == [
        ("topic_tax", "纳税办税", 2),
        ("nlu_fallback", "未能识别", 1),
        ("topic_opening", "企业开办与注销", 1),
    ]
    top = body["top_measures"]
    assert [(m["key"], m["questions"]) for m in top] == [("1:25", 2), ("1:19", 1), ("1:23", 1)]
    assert top[0]["title"] == api.measure(25)["title"] and top[0]["number"] == 25


def test_unmatched_questions_are_grouped_most_frequent_first(api: AdminApi) -> None:
    unmatched = report(api)["unmatched"]
    assert [(q["count"], q["outcome"]) for q in unmatched] == [(2, "no_match"), (1, "clarified")]
    assert unmatched[0]["text"] == "食堂几点开门?"  # the latest wording of the group
    last_asked = dt.datetime.fromisoformat(unmatched[0]["last_asked"].replace("Z", "+00:00"))
    assert last_asked > NOW - dt.timedelta(hours=1)
    assert all(q["example_of"] == [] for q in unmatched)


def test_an_unmatched_question_added_as_example_is_marked(api: AdminApi) -> None:
    question = report(api)["unmatched"][0]["text"]
    added = api.client.post("/api/admin/measures/1/38/examples", json={"text": question}, headers=api.admin)
    assert added.status_code == 201, added.text
    marked = {q["text"]: q["example_of"] for q in report(api)["unmatched"]}
    assert marked[question] == ["1:38"]


def test_ratings_per_day_and_per_topic(api: AdminApi) -> None:
    body = report(api)
    days = {d["date"]: d["ratings"] for d in body["per_day"]}
    assert days[local_day(NOW - RECENT)] == {"满意": 1, "一般": 0, "不满意": 1}
    assert days[local_day(NOW - TWO_DAYS)] == {"满意": 0, "一般": 1, "不满意": 0}
    assert body["totals"]["ratings"] == {"满意": 1, "一般": 1, "不满意": 1}
    assert body["totals"]["satisfaction"] == pytest.approx(1 / 3, abs=1e-3)
    by_topic = {t["topic"]: (t["label"], t["ratings"]) for t in body["ratings_by_topic"]}
    assert by_topic == {
        "topic_tax": ("纳税办税", {"满意": 1, "一般": 1, "不满意": 0}),
        "topic_opening": ("企业开办与注销", {"满意": 0, "一般": 0, "不满意": 1}),
    }


def test_csv_has_every_table_with_chinese_headers(api: AdminApi) -> None:
    response = api.client.get("/api/admin/insights.csv", params={"days": 7}, headers=api.admin)
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["统计", "最近7天（北京时间）"]
    assert ["日期", "对话数", "提问数", "已答复", "未匹配", "满意", "一般", "不满意"] in rows
    assert [local_day(NOW - RECENT), "2", "4", "3", "1", "1", "0", "1"] in rows
    assert ["topic_tax", "纳税办税", "2"] in rows
    texts = [row[0] for row in rows if row]
    assert "未匹配问题" in texts and any(t.startswith("食堂几点开门") for t in texts)
    assert "'=HYPERLINK(1)" in texts and "=HYPERLINK(1)" not in texts  # shown, never run


@pytest.mark.parametrize("days", [0, 367, "x"])
def test_days_must_be_a_sensible_number(api: AdminApi, days: object) -> None:
    assert api.client.get(f"/api/admin/insights?days={days}", headers=api.admin).status_code == 422


def test_report_days_start_at_midnight_in_shanghai() -> None:
    late_evening_utc = dt.datetime(2024, 1, 31, 16, 30, tzinfo=dt.timezone.utc)  # 00:30 on 1 Feb there
    assert local_day(late_evening_utc) == "2024-02-01"
    assert local_day(late_evening_utc.replace(tzinfo=None)) == "2024-02-01"  # SQLite's naive UTC
    start = window_start(7, late_evening_utc)
    assert start.astimezone(REPORT_TZ) == dt.datetime(2024, 1, 26, tzinfo=REPORT_TZ)
