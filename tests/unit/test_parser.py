"""Behaviour of the action-plan parser on the shipped seed and on hand-written variants."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from policy_db.errors import PolicyError
from policy_db.parser import (
    DocumentProblem,
    InvalidDocument,
    ParsedDocument,
    UnitRef,
    UnitRole,
    parse_document,
    render_document,
)

SEED = Path(__file__).resolve().parents[2] / "seeds" / "putuo-2021-business-environment.txt"
SECTION = "一、让企业办事更省心"
CATEGORY = "(一)提升线上服务友好度。推进网上办理。具体措施:"


@pytest.fixture(scope="module")
def seed() -> ParsedDocument:
    return parse_document(SEED.read_text(encoding="utf-8"))


def measures_by_number(doc: ParsedDocument) -> dict[int, tuple[str, tuple[UnitRef, ...]]]:
    return {measure.number: (measure.text, measure.units) for _, _, measure in doc.measures()}


def names(units: tuple[UnitRef, ...]) -> list[str]:
    return [unit.name for unit in units]


def roles(units: tuple[UnitRef, ...]) -> list[tuple[str, str]]:
    return [(unit.name, unit.role) for unit in units]


def body(*measure_lines: str) -> str:
    return "\n".join([SECTION, CATEGORY, *measure_lines])


def problems_of(text: str) -> list[DocumentProblem]:
    with pytest.raises(InvalidDocument) as caught:
        parse_document(text)
    return caught.value.problems


# --- the shipped seed -------------------------------------------------------------------


def test_seed_has_5_sections_23_categories_100_measures(seed: ParsedDocument) -> None:
    assert len(seed.sections) == 5
    assert sum(len(section.categories) for section in seed.sections) == 23
    assert [measure.number for _, _, measure in seed.measures()] == list(range(1, 101))


def test_seed_header(seed: ParsedDocument) -> None:
    assert seed.title == "普陀区深化推进一流营商环境建设行动方案"
    assert seed.issuers == ("中共上海市普陀区委办公室", "上海市普陀区人民政府办公室")
    assert seed.issued_on == datetime.date(2021, 3, 5)
    assert seed.preamble.startswith("为深入贯彻国家、上海市关于优化营商环境部署安排")
    assert seed.preamble.endswith("特制订本行动方案:")


def test_seed_headings(seed: ParsedDocument) -> None:
    first = seed.sections[0].categories[0]
    assert [section.title for section in seed.sections][::4] == [
        "让企业办事更省心",
        "强化营商环境建设保障",
    ]
    assert (first.ordinal, first.title) == (1, "提升线上服务友好度")
    assert first.lead.startswith("加强系统集成、资源共享和业务协同,推进区级政务服务事项")
    assert first.lead.endswith("提升“一网通办”用户体验。")
    assert [category.ordinal for category in seed.sections[1].categories] == [9, 10, 11, 12, 13]
    assert "放大中以(上海)创新园知识产权集聚效应" in seed.sections[1].categories[0].lead


def test_seed_measure_17_has_five_units_led_by_district_science_commission(
    seed: ParsedDocument,
) -> None:
    _, units = measures_by_number(seed)[17]
    assert names(units) == ["区科委", "区府办", "区大数据中心", "区行政服务中心", "区市场监管局"]
    assert {unit.role for unit in units} == {"responsible"}


def test_seed_measure_9_ends_with_every_relevant_unit(seed: ParsedDocument) -> None:
    assert names(measures_by_number(seed)[9][1]) == ["区府办", "区行政服务中心", "各相关单位"]


@pytest.mark.parametrize(
    ("number", "inner"),
    [
        (2, "(年度企业办事频次前20%的事项)"),
        (26, "(政府委托)"),
        (22, "(告知承诺制)"),
        (75, "商(协)会"),
    ],
)
def test_seed_inner_parentheses_stay_in_the_text(seed: ParsedDocument, number: int, inner: str) -> None:
    text, units = measures_by_number(seed)[number]
    assert inner in text
    assert not any("(" in name or "责任单位" in name for name in names(units))


def test_seed_measure_28_parses_whole(seed: ParsedDocument) -> None:
    text, units = measures_by_number(seed)[28]
    assert text.startswith("开展设计方案容缺审批,在确保安全底线的条件下")
    assert "容缺后补(涉及风貌保护及文物的项目除外)。建筑面积500平方米以下" in text
    assert text.endswith("完全按照方案实行时,设计方案可免于审核。")
    source = SEED.read_text(encoding="utf-8").splitlines()[42]
    assert source == f"28.{text}(责任单位:区规划资源局)"
    assert names(units) == ["区规划资源局"]


def test_seed_line_numbers_point_at_the_source(seed: ParsedDocument) -> None:
    section, category, measure = seed.measures()[0]
    assert (section.line, category.line, measure.line) == (8, 9, 10)
    assert seed.measures()[-1][2].line == 135


def test_render_of_seed_is_a_fixed_point(seed: ParsedDocument) -> None:
    rendered = render_document(seed)
    assert render_document(parse_document(rendered)) == rendered
    assert "17.加强电子印章使用和管理。" in rendered


# --- tolerance --------------------------------------------------------------------------


@pytest.mark.parametrize("marker", ["1.", "1．", "1、", "1 .", "１．", "　1、 "])
def test_measure_number_separators(marker: str) -> None:
    doc = parse_document(body(f"{marker}加强协同。(责任单位:区府办)"))
    assert measures_by_number(doc) == {1: ("加强协同。", (UnitRef("区府办", "responsible"),))}


@pytest.mark.parametrize(
    "heading", ["(一)标题。说明", "（一）标题。说明", "( 一 ) 标题。说明", "（一)标题。说明"]
)
def test_category_brackets(heading: str) -> None:
    doc = parse_document("\n".join([SECTION, heading, "1.措施。(责任单位:区府办)"]))
    category = doc.sections[0].categories[0]
    assert (category.ordinal, category.title, category.lead) == (1, "标题", "说明")


@pytest.mark.parametrize("intro", ["具体措施:", "具体措施：", "具体措施如下：", ""])
def test_category_lead_drops_the_measures_intro(intro: str) -> None:
    doc = parse_document("\n".join([SECTION, f"(一)标题。说明一。说明二。{intro}", "1.措施(责任单位:甲)"]))
    assert doc.sections[0].categories[0].lead == "说明一。说明二。"


def test_category_without_full_stop_is_all_title() -> None:
    doc = parse_document("\n".join([SECTION, "(一)提升服务", "1.措施(责任单位:甲)"]))
    assert (doc.sections[0].categories[0].title, doc.sections[0].categories[0].lead) == (
        "提升服务",
        "",
    )


def test_section_numerals_up_to_twenty_nine_and_categories_up_to_thirty() -> None:
    lines = []
    for ordinal in range(1, 30):
        lines += [f"{_numeral(ordinal)}、章节{ordinal}", f"({_numeral(ordinal)})类别{ordinal}"]
        lines.append(f"{ordinal}.措施{ordinal}(责任单位:甲)")
    lines += ["(三十)类别30", "30.措施30(责任单位:甲)"]
    doc = parse_document("\n".join(lines))
    assert [section.ordinal for section in doc.sections] == list(range(1, 30))
    assert [category.ordinal for section in doc.sections for category in section.categories] == list(
        range(1, 31)
    )
    assert doc.sections[28].title == "章节29"


def _numeral(value: int) -> str:
    digits = "一二三四五六七八九"
    tens, ones = divmod(value, 10)
    return (
        ("" if tens < 2 else digits[tens - 1]) + ("十" if tens else "") + (digits[ones - 1] if ones else "")
    )


def test_categories_may_restart_in_each_section() -> None:
    text = "\n".join(
        ["一、甲", "(一)类甲", "1.措施(责任单位:甲)", "二、乙", "(一)类乙", "2.措施(责任单位:乙)"]
    )
    doc = parse_document(text)
    assert [section.categories[0].ordinal for section in doc.sections] == [1, 1]


def test_wrapped_lines_are_joined() -> None:
    text = "\n".join(
        [
            "一、让企业",
            "办事更省心",
            "(一)提升线上服务",
            "友好度。加强系统集成。",
            "具体措施:",
            "1.推广远程身份核验,实现企业高频事项(年度企业",
            "办事频次前20%的事项)全覆盖。(责任单位:区府办、",
            "区科委、区行政",
            "服务中心)",
            "2.推出AI",
            "助手。(责任单位:区府办)",
        ]
    )
    doc = parse_document(text)
    category = doc.sections[0].categories[0]
    assert doc.sections[0].title == "让企业办事更省心"
    assert (category.title, category.lead) == ("提升线上服务友好度", "加强系统集成。")
    assert measures_by_number(doc)[1] == (
        "推广远程身份核验,实现企业高频事项(年度企业办事频次前20%的事项)全覆盖。",
        tuple(UnitRef(name, "responsible") for name in ["区府办", "区科委", "区行政服务中心"]),
    )
    assert measures_by_number(doc)[2][0] == "推出AI助手。"


def test_blank_lines_and_stray_whitespace_are_ignored() -> None:
    text = (
        "\n\n  一、 让企业 办事更省心\u3000\n\n\u3000\u3000( 一 )提升 服务。加强 协同。\n\n"
        "\t1．  加强 系统集成 。 （ 责任单位 ： 区府办 、 区科委 ）  \n\n"
    )
    doc = parse_document(text)
    assert doc.sections[0].title == "让企业办事更省心"
    assert doc.sections[0].categories[0].lead == "加强协同。"
    assert measures_by_number(doc)[1] == (
        "加强系统集成。",
        (UnitRef("区府办", "responsible"), UnitRef("区科委", "responsible")),
    )


def test_one_space_survives_between_ascii_words() -> None:
    doc = parse_document(body("1.支持 Open Data 应用,推广 5 G 网络。(责任单位:区府办)"))
    assert measures_by_number(doc)[1][0] == "支持Open Data应用,推广5 G网络。"


def test_decimal_at_line_start_continues_the_measure() -> None:
    doc = parse_document(body("1.新增贷款", "3.5亿元。(责任单位:区金融办)"))
    assert measures_by_number(doc)[1][0] == "新增贷款3.5亿元。"


def test_measure_whose_text_starts_with_a_digit_when_that_number_is_due() -> None:
    doc = parse_document(body("1.推进建设。(责任单位:甲)", "2.5G基站全覆盖。(责任单位:乙)"))
    assert measures_by_number(doc)[2][0] == "5G基站全覆盖。"


def test_byte_order_mark_and_windows_line_ends() -> None:
    doc = parse_document("\ufeff" + body("1.措施。(责任单位:甲)").replace("\n", "\r\n"))
    assert doc.sections[0].title == "让企业办事更省心"


# --- units ------------------------------------------------------------------------------


R: UnitRole = "responsible"
L: UnitRole = "lead"
C: UnitRole = "cooperating"


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("(责任单位:A局、B办、C委)", [("A局", R), ("B办", R), ("C委", R)]),
        ("（责任单位：A局）", [("A局", R)]),
        ("(责任单位:A局)。", [("A局", R)]),
        ("【责任部门：A局，B办】", [("A局", R), ("B办", R)]),
        ("(X局牵头,Y办、Z委配合)", [("X局", L), ("Y办", C), ("Z委", C)]),
        ("(X局牵头，Y办、Z委配合)", [("X局", L), ("Y办", C), ("Z委", C)]),
        ("(X局、W委牵头)", [("X局", L), ("W委", L)]),
        ("〔牵头单位:X局;配合单位:Y办、Z委〕", [("X局", L), ("Y办", C), ("Z委", C)]),
        ("[牵头单位：X局；配合单位：Y办]", [("X局", L), ("Y办", C)]),
        ("(牵头单位:X局,配合单位:Y办)", [("X局", L), ("Y办", C)]),
        ("(牵头单位:X局)", [("X局", L)]),
        (
            "(责任单位:A局;B办；C委,D中心，E局)",
            [(n, R) for n in ["A局", "B办", "C委", "D中心", "E局"]],
        ),
        ("(责任单位: A局 、 B办 ，\u3000C委 )", [("A局", R), ("B办", R), ("C委", R)]),
        ("(责任单位:中以(上海)创新园管委会)", [("中以(上海)创新园管委会", R)]),
    ],
)
def test_unit_clause_syntaxes(clause: str, expected: list[tuple[str, str]]) -> None:
    doc = parse_document(body(f"1.措施内容。{clause}"))
    text, units = measures_by_number(doc)[1]
    assert text == "措施内容。"
    assert roles(units) == expected


@pytest.mark.parametrize(
    "category_lines",
    [
        ["(一)标题。说明。具体措施:", "(责任单位:区府办、区科委)"],
        ["(一)标题。说明。(责任单位:区府办、区科委)具体措施:"],
        ["(一)标题。说明。具体措施:(责任单位:区府办、区科委)"],
        ["(一)标题。说明。", "具体措施:(责任单位:区府办、", "区科委)"],
    ],
)
def test_category_units_apply_to_measures_without_their_own(category_lines: list[str]) -> None:
    text = "\n".join(
        [SECTION, *category_lines, "1.措施甲(不含6亩)。", "2.措施乙。(区税务局牵头)", "3.措施丙。"]
    )
    doc = parse_document(text)
    by_number = measures_by_number(doc)
    shared = [("区府办", R), ("区科委", R)]
    assert doc.sections[0].categories[0].lead == "说明。"
    assert (by_number[1][0], roles(by_number[1][1])) == ("措施甲(不含6亩)。", shared)
    assert roles(by_number[2][1]) == [("区税务局", L)]
    assert roles(by_number[3][1]) == shared


def test_full_stop_wrapped_after_the_units_clause() -> None:
    doc = parse_document(body("1.措施甲。(责任单位:区府办)", "。", "2.措施乙。(责任单位:区科委)"))
    assert measures_by_number(doc)[1] == ("措施甲。", (UnitRef("区府办", R),))


def test_units_line_after_a_measure_belongs_to_that_measure() -> None:
    doc = parse_document(body("1.措施甲。", "(责任单位:区府办)"))
    assert measures_by_number(doc)[1] == ("措施甲。", (UnitRef("区府办", R),))


@pytest.mark.parametrize("inner", ["(不含6亩)", "(政府委托)", "(涉及风貌保护及文物的项目除外)"])
def test_trailing_parenthesis_without_unit_keyword_is_text(inner: str) -> None:
    problems = problems_of(body(f"1.措施内容{inner}"))
    assert [(p.line, p.message) for p in problems] == [(3, "措施缺少责任单位，应以“(责任单位:…)”结尾")]


# --- header -----------------------------------------------------------------------------


def test_measures_alone_have_an_empty_header() -> None:
    doc = parse_document(body("1.措施。(责任单位:甲)"))
    assert (doc.title, doc.issuers, doc.issued_on, doc.preamble) == ("", (), None, "")


def test_header_picks_the_plan_title_over_the_notice_title() -> None:
    header = [
        "关于印发《普陀区优化营商环境三年行动计划(2021-2023年)》的通知",
        "各街道、镇:",
        "现将《普陀区优化营商环境三年行动计划(2021-2023年)》印发给你们。",
        "上海市普陀区人民政府办公室  上海市普陀区财政局",
        "2021年3月5日",
        "普陀区优化营商环境三年行动计划(2021-2023年)",
        "为优化营商环境,",
        "制定本计划。",
    ]
    doc = parse_document("\n".join([*header, body("1.措施。(责任单位:甲)")]))
    assert doc.title == "普陀区优化营商环境三年行动计划(2021-2023年)"
    assert doc.issuers == ("上海市普陀区人民政府办公室", "上海市普陀区财政局")
    assert doc.issued_on == datetime.date(2021, 3, 5)
    assert doc.preamble == "为优化营商环境,制定本计划。"


def test_header_without_title_is_all_preamble() -> None:
    doc = parse_document(
        "\n".join(["上海市普陀区财政局", "为优化营商环境,", "特制定:", body("1.措施(责任单位:甲)")])
    )
    assert (doc.title, doc.issuers, doc.preamble) == (
        "",
        ("上海市普陀区财政局",),
        "为优化营商环境,特制定:",
    )


# --- problems ---------------------------------------------------------------------------


def test_missing_units_names_line_and_expectation() -> None:
    text = body("1.措施甲。(责任单位:甲)", "2.措施乙。")
    error = pytest.raises(InvalidDocument, parse_document, text).value
    assert str(error) == "第4行: 措施缺少责任单位，应以“(责任单位:…)”结尾"
    assert isinstance(error, PolicyError)


@pytest.mark.parametrize(
    ("numbers", "line", "expected"),
    [
        ([1, 2, 4], 5, "应为“3”，实际为“4”"),
        ([1, 2, 2], 5, "应为“3”，实际为“2”"),
        ([2, 3], 3, "应为“1”"),
    ],
)
def test_measure_numbers_must_follow_on(numbers: list[int], line: int, expected: str) -> None:
    problems = problems_of(body(*[f"{n}.措施。(责任单位:甲)" for n in numbers]))
    assert [p.line for p in problems] == [line]
    assert expected in problems[0].message


def test_section_and_category_numbers_must_follow_on() -> None:
    text = "\n".join(["二、甲", "(一)类", "1.措施(责任单位:甲)", "(三)类", "2.措施(责任单位:甲)"])
    problems = problems_of(text)
    assert [p.line for p in problems] == [1, 4]
    assert "章节编号应为“一”，实际为“二”" in problems[0].message
    assert "类别编号应为“二”，实际为“三”" in problems[1].message


def test_structure_out_of_order() -> None:
    text = "\n".join(
        ["1.措施(责任单位:甲)", "(一)类", "2.措施(责任单位:甲)", "一、章", "3.措施(责任单位:甲)"]
    )
    problems = problems_of(text)
    assert [(p.line, p.message[:5]) for p in problems] == [
        (1, "措施出现在"),
        (2, "类别出现在"),
        (3, "措施出现在"),
        (5, "措施出现在"),
    ]


@pytest.mark.parametrize(
    ("clause", "fragment"),
    [
        ("(责任单位:)", "责任单位为空"),
        ("(责任单位:、)", "责任单位为空"),
        ("(牵头单位:;配合单位:乙)", "牵头单位为空"),
        ("(牵头,乙配合)", "单位为空"),
        ("(区府办牵头实施)", "无法识别单位写法"),
        ("(区府办等,责任单位:乙)", "不应出现在单位标签之前"),
    ],
)
def test_malformed_units_clause(clause: str, fragment: str) -> None:
    problems = problems_of(body("1.措施。(责任单位:甲)", f"2.措施。{clause}"))
    assert len(problems) == 1
    assert problems[0].line == 4
    assert fragment in problems[0].message


def test_unclosed_bracket_is_reported_once() -> None:
    problems = problems_of(body("1.措施。(责任单位:区府办、区科委", "2.措施。(责任单位:甲)"))
    assert [(p.line, p.message) for p in problems] == [(3, "括号未闭合，应以“)”结束")]


def test_unclosed_inner_bracket_is_reported() -> None:
    problems = problems_of(body("1.措施(不含6亩。(责任单位:甲)"))
    assert [p.line for p in problems] == [3]


def test_stray_line_after_a_complete_measure() -> None:
    problems = problems_of(body("1.措施。(责任单位:甲)", "(此件公开发布)"))
    assert [p.line for p in problems] == [4]
    assert "应为章节" in problems[0].message


def test_section_heading_followed_by_a_paragraph() -> None:
    problems = problems_of("一、总体要求\n坚持问题导向。\n(一)类\n1.措施(责任单位:甲)")
    assert [p.line for p in problems] == [1]


def test_repeated_units_clause() -> None:
    problems = problems_of(body("1.措施。(责任单位:甲)(责任单位:乙)"))
    assert "重复的责任单位" in problems[0].message


def test_invalid_date() -> None:
    problems = problems_of("2021年2月30日\n" + body("1.措施(责任单位:甲)"))
    assert [p.line for p in problems] == [1]


@pytest.mark.parametrize("text", ["", "\n\n", "普陀区行动方案\n为了营商环境。", "一、章\n(一)类。说明"])
def test_text_without_measures_is_invalid(text: str) -> None:
    assert any("没有编号措施" in p.message for p in problems_of(text))


def test_every_problem_is_reported_in_line_order() -> None:
    text = body("1.措施。", "3.措施。(责任单位:)", "4.措施。(责任单位:甲")
    error = pytest.raises(InvalidDocument, parse_document, text).value
    assert [p.line for p in error.problems] == [3, 4, 4, 5]
    assert str(error).splitlines()[0] == "第3行: 措施缺少责任单位，应以“(责任单位:…)”结尾"
