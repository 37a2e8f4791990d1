"""The matcher as the bot and the staff console use it, on the seeded plan."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from policy_db.catalogue import bump_revision, get_measure
from policy_db.models import ExampleQuestion
from policy_db.runtime import Runtime


def top(runtime: Runtime, question: str, **kw: object):  # type: ignore[no-untyped-def]
    result = runtime.search.search(question, **kw)  # type: ignore[arg-type]
    return result.measures[0] if result.measures else None


def test_vat_refund_finds_measure_25_with_its_unit(shared_runtime: Runtime) -> None:
    first = top(shared_runtime, "留抵退税")
    assert first is not None and first.number == 25 and first.units == ["区税务局"]
    assert 0 < first.score <= 1


@pytest.mark.parametrize(
    ("question", "category"),
    [
        ("开公司要跑几个部门", "简化企业开办和注销流程"),
        ("公司不干了怎么关掉", "简化企业开办和注销流程"),
        ("想找银行贷款有什么渠道", "推进企业融资服务"),
        ("报税能不能在网上弄", "改善企业纳税环境"),
        ("房产证过户要跑几次", "落实财产登记“全网通”改革"),
        ("我们的产品被人山寨了怎么办", "加强知识产权创造、保护和运用"),
    ],
)
def test_colloquial_words_reach_the_right_category(
    seeded_runtime: Runtime, question: str, category: str
) -> None:
    first = top(seeded_runtime, question)
    assert first is not None, question
    assert first.category == category


@pytest.mark.parametrize(
    "question", ["今天天气怎么样", "给我推荐个好吃的火锅店", "比特币能涨吗", "周末去哪玩", "asdfgh", "？？？"]
)
def test_questions_the_plan_does_not_cover_get_no_measures(seeded_runtime: Runtime, question: str) -> None:
    assert seeded_runtime.search.search(question).measures == []


@pytest.mark.parametrize("question", ["第12条", "第十二条", "12条"])
def test_measure_number_lookup(seeded_runtime: Runtime, question: str) -> None:
    result = seeded_runtime.search.search(question)
    assert result.kind == "number" and [m.number for m in result.measures] == [12]


def test_unit_lookup_by_alias_lists_lead_measures_first(seeded_runtime: Runtime) -> None:
    result = seeded_runtime.search.search("税务局管哪些", limit=100)
    assert result.kind == "unit" and result.unit == "区税务局"
    numbers = [m.number for m in result.measures]
    assert numbers[:3] == [23, 24, 25]
    assert all("区税务局" in m.units for m in result.measures)
    assert set(numbers) == {21, 23, 24, 25, 30, 31, 33}


def test_alias_resolution(seeded_runtime: Runtime) -> None:
    assert seeded_runtime.search.resolve_unit("工商") == "区市场监管局"
    assert seeded_runtime.search.resolve_unit("府办") == "区府办"


def test_filters_by_unit_category_and_document(seeded_runtime: Runtime) -> None:
    by_unit = seeded_runtime.search.search("", unit="法院", limit=100).measures
    assert by_unit and all("区法院" in m.units for m in by_unit)
    in_category = seeded_runtime.search.search("服务", category="推进企业融资服务", limit=100).measures
    assert in_category and {m.category for m in in_category} == {"推进企业融资服务"}
    assert seeded_runtime.search.search("", document_id=99).measures == []


def test_index_follows_data_changes_without_restart(runtime: Runtime) -> None:
    question = "我们想搞个直播带货的网店"
    before = runtime.search.search(question).measures
    assert not before or before[0].number != 38 or before[0].score < 0.9
    with runtime.database.session() as session:
        measure = get_measure(session, document_id=1, number=38)
        session.add(ExampleQuestion(measure_id=measure.id, text=question, source="admin"))
        bump_revision(session)
    after = runtime.search.search(question).measures
    assert after and after[0].number == 38


def test_exported_dictionary_has_units_and_plan_terms(shared_runtime: Runtime) -> None:
    words = {
        line.split()[0]
        for line in shared_runtime.settings.dictionary_path.read_text(encoding="utf-8").splitlines()
    }
    assert {"区市场监管局", "一网通办", "高效办成一件事", "批次贷", "税务局"} <= words


def test_examples_are_in_the_database(seeded_runtime: Runtime) -> None:
    with seeded_runtime.database.session() as session:
        assert len(session.scalars(select(ExampleQuestion)).all()) >= 300
