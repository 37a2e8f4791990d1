"""Ingesting documents of the other shapes: sections → measures and a 第X条 regulation."""

from __future__ import annotations

from sqlalchemy import select

from policy_db.catalogue import get_measure, measure_view
from policy_db.ingest import ingest_document
from policy_db.models import Category, Measure, PolicyDocument, Section
from policy_db.parser import parse_document
from policy_db.runtime import Runtime
from tests.unit.test_parser_shapes import ARTICLES_WITHOUT_CHAPTERS, MEASURES_PLAN, REGULATION


def ingest(runtime: Runtime, text: str, slug: str) -> int:
    with runtime.database.session() as session:
        report = ingest_document(session, parse_document(text), slug=slug, source_text=text)
        assert report.document_id is not None
        return report.document_id


def units_with_roles(runtime: Runtime, document_id: int, number: int) -> list[tuple[str, str]]:
    with runtime.database.session() as session:
        measure = get_measure(session, document_id=document_id, number=number)
        return [(link.unit.name, link.role) for link in measure.unit_links]


def test_sections_without_categories_are_ingested_under_their_section(runtime: Runtime) -> None:
    document_id = ingest(runtime, MEASURES_PLAN, "putuo-2023-smes")
    assert units_with_roles(runtime, document_id, 1) == [
        ("区税务局", "lead"),
        ("区财政局", "cooperating"),
        ("区发展改革委", "cooperating"),
    ]
    # Units given once under the section heading reach its measures.
    assert units_with_roles(runtime, document_id, 4) == [
        ("区金融办", "lead"),
        ("区财政局", "cooperating"),
        ("人民银行普陀支行", "cooperating"),
    ]
    with runtime.database.session() as session:
        view = measure_view(get_measure(session, document_id=document_id, number=3))
        assert view.text == "扩大中小企业政策性融资担保规模，全年新增担保贷款5.5亿元以上。"
        assert (view.section, view.category) == ("强化金融服务", "强化金融服务")  # never an empty "（）"
        titles = session.execute(
            select(Category.ordinal, Category.title).where(Category.document_id == document_id)
        ).all()
        assert [tuple(row) for row in titles] == [
            (1, "加大财税支持力度"),
            (2, "强化金融服务"),
            (3, "优化服务保障"),
        ]
        document = session.get(PolicyDocument, document_id)
        assert document is not None and document.issued_on is not None
        assert document.issued_on.isoformat() == "2023-03-15"


def test_a_regulation_is_ingested_with_articles_as_measures(runtime: Runtime) -> None:
    document_id = ingest(runtime, REGULATION, "putuo-2022-headquarters")
    assert units_with_roles(runtime, document_id, 7) == [
        ("区公安分局", "lead"),
        ("区教育局", "cooperating"),
        ("区人才局", "cooperating"),
    ]
    with runtime.database.session() as session:
        numbers = session.scalars(
            select(Measure.number).where(Measure.document_id == document_id).order_by(Measure.number)
        ).all()
        assert numbers == [1, 2, 3, 4, 5, 6, 7]  # 第八条 and 第九条 close the document
        m3 = get_measure(session, document_id=document_id, number=3)
        assert "（一）注册资本1亿元以上的，给予1000万元资助；" in m3.text
        assert measure_view(m3).section == "支持政策"
        chapters = session.scalars(
            select(Section.title).where(Section.document_id == document_id).order_by(Section.ordinal)
        ).all()
        assert chapters == ["总则", "支持政策", "服务保障", "附则"]


def test_articles_without_chapters_and_a_closing_table(runtime: Runtime) -> None:
    document_id = ingest(runtime, ARTICLES_WITHOUT_CHAPTERS, "putuo-2021-innovation-vouchers")
    assert units_with_roles(runtime, document_id, 4) == [
        ("区科委", "lead"),
        ("区财政局", "cooperating"),
        ("区审计局", "cooperating"),
    ]
    with runtime.database.session() as session:
        view = measure_view(get_measure(session, document_id=document_id, number=2))
        assert view.section == view.category == "普陀区科技创新券管理办法（试行）"


def test_reingesting_a_document_of_another_shape_changes_nothing(runtime: Runtime) -> None:
    ingest(runtime, REGULATION, "putuo-2022-headquarters")
    with runtime.database.session() as session:
        again = ingest_document(
            session, parse_document(REGULATION), slug="putuo-2022-headquarters", source_text=REGULATION
        )
    assert not again.changed and again.unchanged == [1, 2, 3, 4, 5, 6, 7]
