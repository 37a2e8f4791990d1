"""Many documents at once: 20 reworded versions of the plan (2,000 measures), each replacing the last.

Part of `make bench` (tools/bench.py). Each version rewords the plan's measures with a different
set of phrasings and has its own year; version k+1 supersedes version k, so one document is in
force and nineteen are replaced. Printed: import time, index build, search p95 over the dev
questions, the dev set's top-1/top-3 (answers must come from the document in force), and the staff
lookup with replaced documents included.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from policy_db.auth import Principal
from policy_db.evaluation import evaluate, load_items, matcher_answer
from policy_db.kinds import ADMIN, IN_FORCE
from policy_db.lookup import MeasureQuery, find_measures
from policy_db.runtime import Runtime
from policy_db.services.documents import add_document_text

SEED = Path(__file__).resolve().parent.parent / "seeds" / "putuo-2021-business-environment.txt"
BENCH_ACTOR = Principal(name="bench", role=ADMIN)
TITLE = "普陀区深化推进一流营商环境建设行动方案"
# Phrasings a later plan might use; version k applies those whose bit is set in k.
REWORDINGS = (
    ("推进", "加快推进"),
    ("加强", "进一步加强"),
    ("提升", "持续提升"),
    ("优化", "深化优化"),
    ("建立", "健全"),
    ("实现", "全面实现"),
    ("开展", "组织开展"),
    ("鼓励", "积极鼓励"),
)
VERSIONS = 20


def reworded_plan(version: int) -> str:
    """The seed plan as version `version`: its own title, year and phrasing of the measures."""
    lines = SEED.read_text(encoding="utf-8").splitlines()
    out = []
    for line in lines:
        if line == TITLE:
            line = f"{TITLE}（{version}.0版）"
        elif line == "2021年3月5日":
            line = f"{2001 + version}年3月5日"
        elif line[:1].isdigit():
            for bit, (old, new) in enumerate(REWORDINGS):
                if version >> bit & 1:
                    line = line.replace(old, new)
        out.append(line)
    return "\n".join(out) + "\n"


def percentile_ms(samples: list[float], q: float) -> float:
    """The q-quantile of samples in seconds, as milliseconds."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def bench_documents(runtime: Runtime, dev_file: Path) -> None:
    """Import 20 versions, then time and check search over the one in force."""
    started = time.perf_counter()
    previous = None
    with tempfile.TemporaryDirectory() as tmp:
        dictionary = Path(tmp) / "userdict.txt"
        for version in range(1, VERSIONS + 1):
            slug = f"plan-v{version}"
            with runtime.database.session() as session:
                add_document_text(
                    session,
                    actor=BENCH_ACTOR,
                    text=reworded_plan(version),
                    slug=slug,
                    commit=True,
                    dictionary_path=dictionary,
                    supersedes=previous,
                )
            previous = slug
    imported = time.perf_counter() - started
    started = time.perf_counter()
    runtime.search.index()
    built = time.perf_counter() - started
    items = load_items(dev_file)
    questions = [i.q for i in items]
    samples = []
    in_force = answered = 0
    for question in questions * 3:
        began = time.perf_counter()
        result = runtime.search.search(question, limit=10)
        samples.append(time.perf_counter() - began)
        answered += bool(result.measures)
        in_force += all(m.validity == IN_FORCE for m in result.measures)
    report = evaluate(items, matcher_answer(runtime.search))
    staff = []
    with runtime.database.session() as session:
        for question in questions:
            began = time.perf_counter()
            find_measures(runtime.search, session, MeasureQuery(q=question, include_outdated=True), limit=20)
            staff.append(time.perf_counter() - began)
    total = len(runtime.search.index().measures)
    print(
        f"[documents] {VERSIONS} documents, {total} measures: import {imported:.1f} s "
        f"({imported / VERSIONS:.2f} s each), index build {built:.1f} s"
    )
    print(
        f"[documents] search p50 {statistics.median(samples) * 1000:.2f} ms, "
        f"p95 {percentile_ms(samples, 0.95):.2f} ms; staff search incl. replaced p95 "
        f"{percentile_ms(staff, 0.95):.2f} ms; answers citing only the document in force "
        f"{in_force}/{len(samples)}"
    )
    print(
        f"[documents] dev set: top-1 {report.top1:.3f} top-3 {report.top3:.3f} refusals {report.refusal:.3f}"
    )
