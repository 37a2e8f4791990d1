"""Hybrid retrieval with the bundled embedding model: outcomes, stored vectors, re-embedding on edit."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from policy_db.auth import ADMIN, Principal
from policy_db.embedding import DEFAULT_MODEL, shared_embedder
from policy_db.runtime import Runtime
from policy_db.search import PolicySearch
from policy_db.services.measures import MeasureEdit, edit_measure
from policy_db.services.units import create_unit

ADMIN_ACTOR = Principal("retrieval-test", ADMIN)


def test_bundled_model_embeds_chinese_offline_and_is_safe_from_threads() -> None:
    embedder = shared_embedder(DEFAULT_MODEL)
    assert embedder is not None
    alone = embedder.embed(["公司要注销但还有税没清完"], mode="query")[0]
    assert alone.shape == (embedder.dim,) and np.linalg.norm(alone) == pytest.approx(1.0, abs=1e-3)
    results: list[np.ndarray] = []

    def worker() -> None:
        for _ in range(5):
            results.append(embedder.embed(["公司要注销但还有税没清完"], mode="query")[0])

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 20
    assert all(np.allclose(r, alone, atol=1e-5) for r in results)
    related, unrelated = embedder.embed(["企业注销", "今天天气怎么样"], mode="passage")
    assert float(alone @ related) > float(alone @ unrelated)


def test_colloquial_questions_find_measures_the_words_do_not_share(shared_runtime: Runtime) -> None:
    search = shared_runtime.search
    closing = search.search("公司要注销但还有税没清完")
    assert closing.outcome == "answer" and 21 in [m.number for m in closing.measures[:3]]
    works = search.search("工地开工前那些审批能不能一起办")
    assert works.outcome in ("answer", "clarify")
    assert {26, 27, 28, 29} & {m.number for m in works.measures[:3]}


def test_unrelated_questions_are_declined_with_nothing_shown(shared_runtime: Runtime) -> None:
    for question in ("今天上海天气怎么样", "手机电池不耐用怎么办"):
        result = shared_runtime.search.search(question)
        assert result.outcome == "decline", (question, result.outcome, result.top_score)
        assert result.measures == [] and result.route is None


def test_a_matter_the_plan_is_silent_on_is_routed_to_the_unit_whose_remit_it_is(
    shared_runtime: Runtime,
) -> None:
    result = shared_runtime.search.search("我想咨询下社保缴费基数")
    assert result.outcome == "remit" and result.measures == []
    assert result.route is not None and result.route.unit == "区人社局"


def add_fund_centre(runtime: Runtime, **extra: object) -> None:
    """Add a unit the seeds lack, 区公积金分中心, with a remit on housing-fund matters."""
    with runtime.database.session() as session:
        create_unit(
            session,
            actor=ADMIN_ACTOR,
            values={
                "name": "区公积金分中心",
                "full_name": "上海市公积金管理中心普陀分中心",
                "remit": ["住房公积金缴存", "公积金单位开户", "公积金提取", "单位怎么给员工缴住房公积金"],
                **extra,
            },
        )


def test_a_unit_whose_remit_explains_a_question_better_than_any_measure_is_named(runtime: Runtime) -> None:
    question = "公司要给员工交住房公积金吗，在哪里开户"
    before = runtime.search.search(question)
    assert before.route is None or before.route.unit != "区公积金分中心"
    add_fund_centre(runtime, phone="021-12329")
    after = runtime.search.search(question)  # the next question already sees the new remit
    assert after.outcome == "remit" and after.route is not None
    assert after.route.unit == "区公积金分中心"
    assert "021-12329" in runtime.search.unit_contact("区公积金分中心")
    # A question a measure answers is still answered: the remit competes, it does not take over.
    closing = runtime.search.search("公司要注销但还有税没清完")
    assert closing.outcome == "answer" and 21 in [m.number for m in closing.measures[:3]]


def test_a_question_that_names_a_unit_is_still_routed_by_that_units_remit(runtime: Runtime) -> None:
    # Naming the unit ("公积金中心") must not keep a weak measure ahead of the remit that explains it.
    question = "公积金中心说我们公司要给员工交住房公积金，单位开户在哪里办"
    add_fund_centre(runtime, aliases=["公积金中心"])
    result = runtime.search.search(question)
    assert result.unit == "区公积金分中心"  # the question names it
    assert result.outcome == "remit" and result.route is not None
    assert result.route.unit == "区公积金分中心"


def test_a_matter_that_reads_like_a_bureaus_own_is_routed_past_a_general_measure(
    shared_runtime: Runtime,
) -> None:
    # Measure 22 is about permits in general (告知承诺制); an optician's filing is the market
    # regulator's everyday business. The unit is named; the measure stays a related candidate.
    result = shared_runtime.search.search("开眼镜店要办医疗器械经营备案吗，找谁")
    assert result.outcome == "remit" and result.route is not None
    assert result.route.unit == "区市场监管局"
    assert 22 in [m.number for m in result.measures]
    # A question the plan answers outright is not taken over.
    assert shared_runtime.search.search("留抵退税能退吗").outcome == "answer"


def test_score_is_one_calibrated_probability_in_every_path(shared_runtime: Runtime) -> None:
    result = shared_runtime.search.search("留抵退税能退吗", limit=5)
    scores = [m.score for m in result.measures]
    assert result.measures[0].number == 25
    assert all(0.0 <= s <= 1.0 for s in scores) and scores == sorted(scores, reverse=True)
    assert result.top_score == pytest.approx(scores[0], abs=1e-4)


def test_a_restart_loads_stored_vectors_and_an_edit_embeds_only_the_changed_text(
    cold_runtime: Runtime, tmp_path: Path
) -> None:
    runtime = cold_runtime
    runtime.search.index()
    assert runtime.search.vectors is not None and runtime.search.vectors.embedded > 100
    restarted = PolicySearch(
        runtime.database,
        topics=runtime.search.topics,
        embedder=runtime.search.vectors.embedder,
        calibration=runtime.search.calibration,
    )
    restarted.index()
    assert restarted.vectors is not None
    assert restarted.vectors.embedded == 0 and restarted.vectors.loaded > 100
    question = "无人机航拍要报备吗"
    assert 12 not in [m.number for m in restarted.search(question).measures[:1]]
    with runtime.database.session() as session:
        edit_measure(
            session,
            actor=ADMIN_ACTOR,
            document_id=1,
            number=12,
            expected_version=1,
            edit=MeasureEdit(text="企业使用无人机航拍、低空飞行，可在一网通办在线报备，当天办结。"),
        )
    found = restarted.search(question)
    assert restarted.vectors.embedded == 1  # the edited passage, nothing else
    assert found.measures and found.measures[0].number == 12


def test_without_an_embedding_model_the_lexical_matcher_still_answers(shared_runtime: Runtime) -> None:
    lexical_only = PolicySearch(
        shared_runtime.database, topics=shared_runtime.search.topics, embedder=None, calibration=None
    )
    assert lexical_only.vectors is None
    found = lexical_only.search("留抵退税能退吗")
    assert found.outcome == "answer" and found.measures[0].number == 25
    assert lexical_only.search("今天上海天气怎么样").measures == []


def test_a_routed_question_names_the_unit_whose_whole_remit_fits_not_one_look_alike_phrase(
    runtime: Runtime,
) -> None:
    with runtime.database.session() as session:
        fund = ["住房公积金缴存", "公积金单位开户", "公积金提取", "员工离职了公积金怎么转移"]
        for name, remit in (("区公积金分中心", fund), ("区档案馆", ["档案查询", "档案寄存", "公积金转移"])):
            create_unit(session, actor=ADMIN_ACTOR, values={"name": name, "full_name": name, "remit": remit})
    route = runtime.search.route("员工离职了公积金转移要单位办什么手续")
    # 区档案馆 has the one phrase the question names word for word; the matter is the other's.
    assert route is not None and route.unit == "区公积金分中心"
