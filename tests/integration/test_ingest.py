"""Importing policy documents: the seed's shape, idempotence, new versions, bad input."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import func, select

from policy_db.catalogue import current_revision, get_measure
from policy_db.errors import InvalidDocument
from policy_db.ingest import ingest_document
from policy_db.models import Category, Measure, PolicyDocument, Section
from policy_db.parser import parse_document
from policy_db.runtime import Runtime
from tests.conftest import SEEDS

SEED = (SEEDS / "putuo-2021-business-environment.txt").read_text(encoding="utf-8")
SLUG = "putuo-2021-business-environment"


def count(runtime: Runtime, model: type) -> int:
    with runtime.database.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_seed_has_the_plan_shape(runtime: Runtime) -> None:
    assert (count(runtime, Section), count(runtime, Category), count(runtime, Measure)) == (5, 23, 100)
    with runtime.database.session() as session:
        m17 = get_measure(session, document_id=1, number=17)
        assert m17.unit_names == ["区科委", "区府办", "区大数据中心", "区行政服务中心", "区市场监管局"]
        assert get_measure(session, document_id=1, number=9).unit_names[-1] == "各相关单位"
        assert "(年度企业办事频次前20%的事项)" in get_measure(session, document_id=1, number=2).text
        document = session.scalar(select(PolicyDocument))
        assert document is not None and document.issued_on is not None
        assert document.issued_on.isoformat() == "2021-03-05"


def test_reimporting_the_same_text_changes_nothing(runtime: Runtime) -> None:
    with runtime.database.session() as session:
        before = current_revision(session)
        report = ingest_document(session, parse_document(SEED), slug=SLUG, source_text=SEED)
    assert not report.changed and len(report.unchanged) == 100
    with runtime.database.session() as session:
        assert current_revision(session) == before
        assert get_measure(session, document_id=1, number=25).version == 1


def test_a_new_version_updates_in_place_and_keeps_identities(runtime: Runtime) -> None:
    with runtime.database.session() as session:
        old_id = get_measure(session, document_id=1, number=25).id
    reordered = "(责任单位:区房管局、区规划资源局、区税务局)"
    new_text = SEED.replace("留抵退税等优惠政策", "留抵退税、研发费用加计扣除等优惠政策").replace(
        "(责任单位:区规划资源局、区税务局、区房管局)", reordered
    )
    new_text = new_text[: new_text.index("100.参照")]
    with runtime.database.session() as session:
        report = ingest_document(session, parse_document(new_text), slug=SLUG, source_text=new_text)
    assert report.updated == [25, 30] and report.retired == [100]
    with runtime.database.session() as session:
        m25 = get_measure(session, document_id=1, number=25)
        assert m25.id == old_id and m25.version == 2 and "研发费用加计扣除" in m25.text
        assert get_measure(session, document_id=1, number=30).unit_names[0] == "区房管局"
        assert get_measure(session, document_id=1, number=100).status == "retired"
    assert count(runtime, PolicyDocument) == 1


def test_renaming_only_a_category_reaches_readers(runtime: Runtime) -> None:
    # No measure changes, yet every process must drop its cached catalogue: the revision moves.
    renamed = SEED.replace("(一)提升线上服务友好度。", "(一)提升线上服务体验。", 1)
    with runtime.database.session() as session:
        before = current_revision(session)
        report = ingest_document(session, parse_document(renamed), slug=SLUG, source_text=renamed)
    assert report.changed and report.outline_changed and not report.updated
    with runtime.database.session() as session:
        assert current_revision(session) > before
        assert session.scalar(select(Category.title).where(Category.ordinal == 1)) == "提升线上服务体验"


def test_a_malformed_document_writes_nothing(runtime: Runtime) -> None:
    broken = "一、办事\n(一)线上服务。具体措施:\n1.推进网办。(责任单位:区府办)\n2.没有单位的措施。\n"
    with pytest.raises(InvalidDocument) as error:
        parse_document(broken)
    assert any(p.line == 4 for p in error.value.problems)
    assert count(runtime, PolicyDocument) == 1


def test_cli_dry_run_previews_without_writing(runtime: Runtime, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "new-plan.txt"
    path.write_text(
        "新的行动方案\n一、办事\n(一)线上服务。具体措施:\n1.推进网办。(责任单位:区府办、区科委)\n",
        encoding="utf-8",
    )
    env = {
        "DATABASE_URL": runtime.settings.database_url,
        "PATH": "/usr/bin:/bin",
        "DICTIONARY_PATH": str(tmp_path / "dict.txt"),
    }
    dry = subprocess.run(
        [sys.executable, "-m", "app.cli", "import", str(path), "--dry-run"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert dry.returncode == 0, dry.stderr
    assert "dry run" in dry.stdout and count(runtime, PolicyDocument) == 1
    real = subprocess.run(
        [sys.executable, "-m", "app.cli", "import", str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert real.returncode == 0, real.stderr
    assert count(runtime, PolicyDocument) == 2


def test_cli_rejects_a_malformed_file_naming_the_line(runtime: Runtime, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.txt"
    path.write_text(
        "一、办事\n(一)线上服务。具体措施:\n1.推进网办。(责任单位:区府办)\n3.跳号了。(责任单位:区府办)\n",
        encoding="utf-8",
    )
    env = {"DATABASE_URL": runtime.settings.database_url, "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "import", str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 1 and "第4行" in result.stdout
    assert count(runtime, PolicyDocument) == 1
