"""The parser on the common shapes of Shanghai district policy documents, their metadata and traps.

Each document below is written the way district offices publish them: a cover notice or a 文号,
the plan's title, numbered content in one of the shapes, a closing paragraph with its validity,
and the issuing body and date at the bottom.
"""

from __future__ import annotations

import datetime

import pytest

from policy_db.parser import (
    SHAPE_LABELS,
    SHAPES,
    DocumentProblem,
    InvalidDocument,
    ParsedDocument,
    parse_document,
    render_document,
    shape_label,
)
from policy_db.services.documents import document_summary

Day = datetime.date


def by_number(doc: ParsedDocument) -> dict[int, tuple[str, list[tuple[str, str]]]]:
    return {m.number: (m.text, [(u.name, u.role) for u in m.units]) for _, _, m in doc.measures()}


def roles(doc: ParsedDocument, number: int) -> list[tuple[str, str]]:
    return by_number(doc)[number][1]


def text_of(doc: ParsedDocument, number: int) -> str:
    return by_number(doc)[number][0]


def problems_of(text: str) -> list[DocumentProblem]:
    with pytest.raises(InvalidDocument) as caught:
        parse_document(text)
    return caught.value.problems


def assert_round_trip(doc: ParsedDocument) -> None:
    assert parse_document(render_document(doc)) == doc


def lead(*names: str) -> list[tuple[str, str]]:
    return [(name, "lead") for name in names]


def coop(*names: str) -> list[tuple[str, str]]:
    return [(name, "cooperating") for name in names]


def resp(*names: str) -> list[tuple[str, str]]:
    return [(name, "responsible") for name in names]


# --- sections → categories → measures (today's shape, now with its metadata) -----------------

CATEGORIES_PLAN = """\
各街道、镇，区政府各委、办、局：
经区政府同意，现将《普陀区加快推进城市更新优化营商环境实施方案》印发给你们，请认真按照执行。
上海市普陀区人民政府办公室
普府办［2022］15号
普陀区加快推进城市更新优化营商环境实施方案
为贯彻落实市委、市政府关于城市更新的部署，结合本区实际，制定本方案。
一、优化建设项目审批
（一）推进审批提速。对社会投资项目实行分类审批。具体措施：
1．对总建筑面积不大于2万平方米的项目(不含地下室)，实行“桩基先行”。（责任单位：区建设管理委、区规划资源局）
2．推行联合验收，验收时限压缩至5个工作日。（责任单位：区建设管理委）
（二）降低企业成本。（区财政局牵头，区税务局、区发展改革委配合）具体措施：
3．设立城市更新专项资金，三年内安排
5.5亿元，支持重点片区改造。
4．落实城市更新项目税费减免政策(2022-2025年)，重点做好两件事：1.梳理清单；2.加快兑现。
二、强化要素保障
（三）加强土地保障。
5．盘活存量工业用地，对符合条件的项目给予容积率奖励(不超过原容积率的20%)。（牵头单位：区规划资源局；配合单位：区经委、区发展改革委）
6．建立低效用地退出机制，第(3)类用地优先收储。（区规划资源局牵头，各街镇配合）
本方案自2022年5月1日起施行，有效期至2025年4月30日。
上海市普陀区人民政府办公室
2022年4月6日
"""  # noqa: E501


def test_sections_categories_measures_with_metadata() -> None:
    doc = parse_document(CATEGORIES_PLAN)
    assert doc.shape == "sections-categories-measures"
    assert doc.title == "普陀区加快推进城市更新优化营商环境实施方案"
    assert doc.issuers == ("上海市普陀区人民政府办公室",)
    assert doc.document_number == "普府办〔2022〕15号"
    assert (doc.issued_on, doc.effective_on, doc.expires_on) == (
        Day(2022, 4, 6),
        Day(2022, 5, 1),
        Day(2025, 4, 30),
    )
    assert doc.preamble == "为贯彻落实市委、市政府关于城市更新的部署，结合本区实际，制定本方案。"
    assert [m.number for _, _, m in doc.measures()] == [1, 2, 3, 4, 5, 6]
    assert [c.title for s in doc.sections for c in s.categories] == [
        "推进审批提速",
        "降低企业成本",
        "加强土地保障",
    ]
    assert by_number(doc)[1] == (
        "对总建筑面积不大于2万平方米的项目(不含地下室)，实行“桩基先行”。",
        resp("区建设管理委", "区规划资源局"),
    )
    category_units = lead("区财政局") + coop("区税务局", "区发展改革委")
    assert by_number(doc)[3] == (
        "设立城市更新专项资金，三年内安排5.5亿元，支持重点片区改造。",
        category_units,
    )
    assert (
        text_of(doc, 4)
        == "落实城市更新项目税费减免政策(2022-2025年)，重点做好两件事：1.梳理清单；2.加快兑现。"
    )
    assert roles(doc, 4) == category_units
    assert roles(doc, 5) == lead("区规划资源局") + coop("区经委", "区发展改革委")
    assert by_number(doc)[6] == (
        "建立低效用地退出机制，第(3)类用地优先收储。",
        lead("区规划资源局") + coop("各街镇"),
    )
    assert "本方案自" not in text_of(doc, 6)
    assert_round_trip(doc)


# --- sections → measures with (X牵头,Y、Z配合) units --------------------------------------------

MEASURES_PLAN = """\
上海市普陀区人民政府
普府〔2023〕9号
普陀区关于进一步支持中小微企业纾困发展的若干措施
为帮助中小微企业应对困难、稳定发展，制定以下措施。
一、加大财税支持力度
1.对符合条件的小型微利企业，年应纳税所得额不超过100万元的部分，减按25%计入应纳税所得额(2023-2024年)。（区税务局牵头，区财政局、区发展改革委配合）
2.对租赁区属国有企业房屋的中小微企业，减免3个月租金(不含转租房屋)。（区国资委牵头，各区属国有企业配合）
二、强化金融服务
（区金融办牵头，区财政局、人民银行普陀支行配合）
3.扩大中小企业政策性融资担保规模，全年新增担保贷款
5.5亿元以上。
4.推广“信易贷”模式，对首贷户给予贷款贴息，贴息比例(3)年内不超过50%。
5.推动银行机构实施延期还本付息，做到应延尽延。（人民银行普陀支行牵头，区金融办配合）
三、优化服务保障
6.开展“千名干部进万企”走访服务，建立问题清单。(区发展改革委、区工商联牵头)
7.畅通政策直达渠道，依托“一网通办”企业专属网页精准推送政策。（区府办牵头,区行政服务中心、区大数据中心配合）
本措施自印发之日起施行，有效期两年。此前本区有关规定与本措施不一致的，以本措施为准。本措施由区发展改革委负责解释。
上海市普陀区人民政府
二〇二三年三月十五日
"""  # noqa: E501


def test_sections_without_categories_with_lead_and_cooperating_units() -> None:
    doc = parse_document(MEASURES_PLAN)
    assert doc.shape == "sections-measures"
    assert doc.title == "普陀区关于进一步支持中小微企业纾困发展的若干措施"
    assert doc.document_number == "普府〔2023〕9号"
    assert doc.issuers == ("上海市普陀区人民政府",)
    assert doc.issued_on == Day(2023, 3, 15)  # only at the bottom, in Chinese numerals
    assert (doc.effective_on, doc.expires_on) == (Day(2023, 3, 15), Day(2025, 3, 14))
    assert [s.title for s in doc.sections] == ["加大财税支持力度", "强化金融服务", "优化服务保障"]
    for section in doc.sections:
        assert [(c.ordinal, c.title, c.lead, c.implicit) for c in section.categories] == [
            (section.ordinal, "", "", True)
        ]
    assert [m.number for _, _, m in doc.measures()] == list(range(1, 8))
    assert by_number(doc)[1] == (
        "对符合条件的小型微利企业，年应纳税所得额不超过100万元的部分，减按25%计入应纳税所得额(2023-2024年)。",
        lead("区税务局") + coop("区财政局", "区发展改革委"),
    )
    assert by_number(doc)[2] == (
        "对租赁区属国有企业房屋的中小微企业，减免3个月租金(不含转租房屋)。",
        lead("区国资委") + coop("各区属国有企业"),
    )
    section_units = lead("区金融办") + coop("区财政局", "人民银行普陀支行")
    assert by_number(doc)[3] == (
        "扩大中小企业政策性融资担保规模，全年新增担保贷款5.5亿元以上。",
        section_units,
    )
    assert by_number(doc)[4] == (
        "推广“信易贷”模式，对首贷户给予贷款贴息，贴息比例(3)年内不超过50%。",
        section_units,
    )
    assert roles(doc, 5) == lead("人民银行普陀支行") + coop("区金融办")
    assert roles(doc, 6) == lead("区发展改革委", "区工商联")
    assert roles(doc, 7) == lead("区府办") + coop("区行政服务中心", "区大数据中心")
    assert "本措施" not in text_of(doc, 7)
    assert_round_trip(doc)
    rendered = render_document(doc)
    assert "(一)" not in rendered and "具体措施" not in rendered  # implicit categories have no heading


# --- 第X条 articles in chapters, lead and cooperating roles kept ------------------------------

REGULATION = """\
上海市普陀区人民政府
沪普府规（2022）3号
普陀区促进总部经济发展办法
第一章　总则
第一条　为加快集聚总部企业，提升区域经济能级，根据《上海市鼓励跨国公司设立地区总部的规定》，结合本区实际，制定本办法。（牵头单位：区商务委；配合单位：区司法局）
第二条　本办法所称总部企业，是指在本区注册、经认定的跨国公司地区总部和民营企业总部（不含分支机构）。（牵头单位：区商务委；配合单位：区发展改革委、区市场监管局）
第二章　支持政策
第三条　对新认定的总部企业，按以下标准给予开办资助：
（一）注册资本1亿元以上的，给予1000万元资助；
（二）注册资本5000万元以上不满1亿元的，给予500万元资助。
（区商务委牵头，区财政局配合）
第四条　总部企业租用办公用房的，按实际租金的30%给予补贴，补贴期限不超过3年，每年最高
2.5亿元以内统筹安排。（区商务委牵头，区财政局、区国资委配合）
第五条　支持总部企业引进高层次人才，按照本办法第十二条的规定给予人才公寓保障。（牵头单位：区人才局；配合单位：区房管局、区商务委）
第三章　服务保障
第六条　建立总部企业服务专员制度，为企业提供“一企一策”服务。（区商务委牵头，各街镇配合）
第七条　对总部企业办理出入境、子女入学等事项开辟绿色通道。（牵头单位：区公安分局；配合单位：区教育局、区人才局）
第四章　附则
第八条　本办法由区商务委负责解释。
第九条　本办法自2022年7月1日起施行，有效期5年。
"""  # noqa: E501


def test_articles_in_chapters_keep_lead_and_cooperating_roles() -> None:
    doc = parse_document(REGULATION)
    assert doc.shape == "articles"
    assert doc.title == "普陀区促进总部经济发展办法"
    assert doc.document_number == "沪普府规〔2022〕3号"
    assert doc.issuers == ("上海市普陀区人民政府",)
    assert (doc.effective_on, doc.expires_on) == (Day(2022, 7, 1), Day(2027, 6, 30))
    assert [(s.ordinal, s.title) for s in doc.sections] == [
        (1, "总则"),
        (2, "支持政策"),
        (3, "服务保障"),
        (4, "附则"),
    ]
    assert [[c.implicit for c in s.categories] for s in doc.sections] == [[True]] * 4
    assert [m.number for _, _, m in doc.measures()] == [1, 2, 3, 4, 5, 6, 7]  # 8 and 9 close the document
    assert doc.sections[3].categories[0].measures == ()
    assert roles(doc, 1) == lead("区商务委") + coop("区司法局")
    assert roles(doc, 2) == lead("区商务委") + coop("区发展改革委", "区市场监管局")
    assert by_number(doc)[3] == (
        "对新认定的总部企业，按以下标准给予开办资助：（一）注册资本1亿元以上的，给予1000万元资助；"
        "（二）注册资本5000万元以上不满1亿元的，给予500万元资助。",
        lead("区商务委") + coop("区财政局"),
    )
    assert text_of(doc, 4).endswith("每年最高2.5亿元以内统筹安排。")
    assert roles(doc, 4) == lead("区商务委") + coop("区财政局", "区国资委")
    assert "按照本办法第十二条的规定" in text_of(doc, 5)
    assert roles(doc, 5) == lead("区人才局") + coop("区房管局", "区商务委")
    assert roles(doc, 6) == lead("区商务委") + coop("各街镇")
    assert roles(doc, 7) == lead("区公安分局") + coop("区教育局", "区人才局")
    assert_round_trip(doc)


ARTICLES_WITHOUT_CHAPTERS = """\
普陀区科技创新券管理办法（试行）
上海市普陀区科学技术委员会
2021年9月1日
第一条 为降低科技型中小企业创新成本，制定本办法。
第二条 创新券用于购买研发设计、检验检测等科技服务(不含设备购置)。
第三条 每家企业每年申领额度最高30万元。
第四条 创新券有效期为1年，逾期作废。
第五条 本办法自印发之日起施行，有效期3年。
附件：责任分工
序号 牵头单位 配合单位
第1-2条 区科委 区财政局
3 区科委 —
第四条 区科委牵头，区财政局、区审计局配合
"""


def test_articles_without_chapters_take_units_from_the_closing_table() -> None:
    doc = parse_document(ARTICLES_WITHOUT_CHAPTERS)
    assert doc.shape == "articles"
    assert doc.title == "普陀区科技创新券管理办法（试行）"
    assert (doc.issued_on, doc.effective_on, doc.expires_on) == (
        Day(2021, 9, 1),
        Day(2021, 9, 1),
        Day(2024, 8, 31),
    )
    assert [(s.ordinal, s.title, s.implicit) for s in doc.sections] == [(1, "", True)]
    assert by_number(doc) == {
        1: ("为降低科技型中小企业创新成本，制定本办法。", lead("区科委") + coop("区财政局")),
        2: ("创新券用于购买研发设计、检验检测等科技服务(不含设备购置)。", lead("区科委") + coop("区财政局")),
        3: ("每家企业每年申领额度最高30万元。", lead("区科委")),
        4: ("创新券有效期为1年，逾期作废。", lead("区科委") + coop("区财政局", "区审计局")),
    }
    assert_round_trip(doc)
    assert "第一章" not in render_document(doc)


# --- nested numbering 一、/(一)/1./(1) ----------------------------------------------------------

NESTED_PLAN = """\
普陀区优化营商环境专项行动计划(2022-2024年)
为打造国际一流营商环境，制定本计划。
一、优化市场准入
(一)深化商事制度改革。推进照后减证和简化审批。具体措施:
1.推进“证照分离”改革全覆盖，重点做好：
(1)对涉企经营许可事项实行清单管理；
(2)推行告知承诺制(不含涉及安全生产的事项)。(责任单位:区市场监管局、区司法局)
2.开展企业开办“一窗通”服务。(区市场监管局牵头，区税务局、区公安分局配合)
(1)企业开办时间压缩至1个工作日；
(2)新办企业免费刻制印章。
(二)便利市场主体退出。(牵头单位:区市场监管局;配合单位:区法院)
3.推行简易注销，公告时间由45天压缩至20天，材料齐全的在
(3)个工作日内办结。
4.完善府院联动机制：
(1)建立破产案件协调会商制度；
(2)2.加快处置破产企业财产。
二、提升监管效能
(三)推行包容审慎监管。
5.对新业态实行“首违不罚”，(1)类轻微违法行为免予处罚。(责任单位:区市场监管局)
6.推行“双随机、一公开”监管，抽查比例不低于
3.5%。(责任单位:区市场监管局、区城管执法局)
"""  # noqa: E501


def test_nested_numbering_keeps_sub_points_inside_their_measure() -> None:
    doc = parse_document(NESTED_PLAN)
    assert doc.shape == "nested"
    assert [m.number for _, _, m in doc.measures()] == [1, 2, 3, 4, 5, 6]
    assert by_number(doc)[1] == (
        "推进“证照分离”改革全覆盖，重点做好：(1)对涉企经营许可事项实行清单管理；(2)推行告知承诺制(不含涉及安全生产的事项)。",
        resp("区市场监管局", "区司法局"),
    )
    # The clause closing the measure's first line belongs to the whole measure.
    assert by_number(doc)[2] == (
        "开展企业开办“一窗通”服务。(1)企业开办时间压缩至1个工作日；(2)新办企业免费刻制印章。",
        lead("区市场监管局") + coop("区税务局", "区公安分局"),
    )
    # "(3)" wrapped to a line start is not the next sub-point: plain text.
    assert text_of(doc, 3) == "推行简易注销，公告时间由45天压缩至20天，材料齐全的在(3)个工作日内办结。"
    assert text_of(doc, 4) == "完善府院联动机制：(1)建立破产案件协调会商制度；(2)2.加快处置破产企业财产。"
    assert roles(doc, 3) == roles(doc, 4) == lead("区市场监管局") + coop("区法院")
    assert text_of(doc, 5) == "对新业态实行“首违不罚”，(1)类轻微违法行为免予处罚。"
    assert text_of(doc, 6) == "推行“双随机、一公开”监管，抽查比例不低于3.5%。"
    assert_round_trip(doc)
    assert "\n(2)新办企业免费刻制印章。(责任单位" not in render_document(doc)


# --- units in a closing table -----------------------------------------------------------------

TABLE_PLAN = """\
普陀区提升“一网通办”服务能级工作方案
一、深化集成服务
1.推出企业全生命周期“一件事”20项。
2.推行“免申即享”，政策兑现时间压缩50%。
3.扩大“好差评”覆盖面。
二、强化数据赋能
4.归集企业电子证照，实现“免交”材料2000项。
5.建设政务服务“数字孪生”平台，支撑5.5亿条数据共享。
6.开展“一网通办”专项培训。
本方案由区行政服务中心负责解释。
附件
“一网通办”工作责任单位分工表
1	区行政服务中心	区府办
2-3	区发展改革委牵头，区财政局配合
第4条	牵头单位：区大数据中心；配合单位：区市场监管局、区税务局
5、6	（区大数据中心牵头，区科委配合）
"""


def test_units_from_a_closing_table() -> None:
    doc = parse_document(TABLE_PLAN)
    assert doc.shape == "sections-measures"
    assert (doc.effective_on, doc.expires_on) == (None, None)
    assert by_number(doc) == {
        1: ("推出企业全生命周期“一件事”20项。", resp("区行政服务中心", "区府办")),
        2: ("推行“免申即享”，政策兑现时间压缩50%。", lead("区发展改革委") + coop("区财政局")),
        3: ("扩大“好差评”覆盖面。", lead("区发展改革委") + coop("区财政局")),
        4: (
            "归集企业电子证照，实现“免交”材料2000项。",
            lead("区大数据中心") + coop("区市场监管局", "区税务局"),
        ),
        5: ("建设政务服务“数字孪生”平台，支撑5.5亿条数据共享。", lead("区大数据中心") + coop("区科委")),
        6: ("开展“一网通办”专项培训。", lead("区大数据中心") + coop("区科委")),
    }
    assert_round_trip(doc)


@pytest.mark.parametrize(
    "heading", ["责任单位分工表", "附件：责任分工", "附件1：重点任务责任分工表", "附件 2 ：任务分工一览表"]
)
def test_closing_table_headings(heading: str) -> None:
    text = "一、章\n1.措施甲。\n2.措施乙。\n" + heading + "\n1 区市场监管局 区税务局\n2 区府办\n"
    assert by_number(parse_document(text)) == {
        1: ("措施甲。", resp("区市场监管局", "区税务局")),
        2: ("措施乙。", resp("区府办")),
    }


@pytest.mark.parametrize(
    ("rows", "line", "fragment"),
    [
        (["1 区府办", "3 区科委"], 6, "分工表中的措施3不存在"),
        (["1 区府办", "1-2 区科委"], 6, "措施1在分工表中重复出现"),
        (["1-2 区府办", "序号 区科委"], 6, "分工表中无法识别的行"),
        (["2-1 区府办"], 5, "应从小到大"),
        (["序号 重点任务 牵头单位", "1-2 区府办"], 5, "分工表的列“重点任务”无法识别"),
        (["1 区府办", "2 —"], 6, "分工表行没有列出单位"),
    ],
)
def test_closing_table_problems(rows: list[str], line: int, fragment: str) -> None:
    text = "\n".join(["一、章", "1.措施甲。", "2.措施乙。", "附件：责任分工", *rows])
    problems = problems_of(text)
    assert any(p.line == line and fragment in p.message for p in problems), problems


def test_table_row_for_a_measure_with_its_own_units_is_a_problem() -> None:
    text = "一、章\n1.措施甲。(责任单位:区府办)\n2.措施乙。\n责任单位分工表\n1-2 区科委\n"
    assert [(p.line, p.message) for p in problems_of(text)] == [(5, "措施1已有责任单位，分工表中不应再列")]


# --- units clause forms in the sections → measures shape ---------------------------------------


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("(责任单位:区市场监管局、区税务局)", resp("区市场监管局", "区税务局")),
        ("（责任单位：区市场监管局，区税务局）", resp("区市场监管局", "区税务局")),
        ("(区发展改革委牵头,区财政局、区商务委配合)", lead("区发展改革委") + coop("区财政局", "区商务委")),
        ("（区发展改革委牵头，区财政局、区商务委配合）", lead("区发展改革委") + coop("区财政局", "区商务委")),
        (
            "(牵头单位:区发展改革委;配合单位:区财政局、区商务委)",
            lead("区发展改革委") + coop("区财政局", "区商务委"),
        ),
        (
            "（牵头单位：区发展改革委；配合单位：区财政局、区商务委）",
            lead("区发展改革委") + coop("区财政局", "区商务委"),
        ),
        ("〔牵头部门：区发展改革委〕", lead("区发展改革委")),
    ],
)
def test_unit_clause_forms_without_categories(clause: str, expected: list[tuple[str, str]]) -> None:
    doc = parse_document(f"一、优化服务\n1.推行企业服务专员制度。{clause}\n")
    assert doc.shape == "sections-measures"
    assert by_number(doc) == {1: ("推行企业服务专员制度。", expected)}


def test_section_units_under_the_heading_apply_to_measures_without_their_own() -> None:
    text = "一、优化服务\n（区府办牵头，区科委配合）\n1.措施甲。\n2.措施乙。(责任单位:区税务局)\n"
    doc = parse_document(text)
    assert doc.sections[0].title == "优化服务"
    assert roles(doc, 1) == lead("区府办") + coop("区科委")
    assert roles(doc, 2) == resp("区税务局")


def test_section_units_reach_categories_without_units_of_their_own() -> None:
    text = "一、优化服务(责任单位:区府办)\n(一)类甲。\n1.措施甲。\n(二)类乙。(责任单位:区科委)\n2.措施乙。\n"
    doc = parse_document(text)
    assert (roles(doc, 1), roles(doc, 2)) == (resp("区府办"), resp("区科委"))


# --- traps: numbers in a measure's text are neither units nor measures ------------------------


def test_inline_numbering_and_brackets_stay_text() -> None:
    text = (
        "一、优化服务\n"
        "1.实施三年行动(2021-2023年)，分三步推进：1.摸底；2.加快建设；3.总结评估。(责任单位:区府办)\n"
        "2.新增停车泊位(不含地下室)2000个，其中(3)类区域优先，投入5.5亿元。(责任单位:区建设管理委)\n"
    )
    doc = parse_document(text)
    assert [m.number for _, _, m in doc.measures()] == [1, 2]
    assert text_of(doc, 1) == "实施三年行动(2021-2023年)，分三步推进：1.摸底；2.加快建设；3.总结评估。"
    assert text_of(doc, 2) == "新增停车泊位(不含地下室)2000个，其中(3)类区域优先，投入5.5亿元。"


@pytest.mark.parametrize("inner", ["(不含地下室)", "(2021-2023年)", "(3)"])
def test_a_trailing_bracket_without_unit_keyword_is_not_a_units_clause(inner: str) -> None:
    problems = problems_of(f"一、章\n1.新建停车场{inner}\n")
    assert [(p.line, p.message) for p in problems] == [(2, "措施缺少责任单位，应以“(责任单位:…)”结尾")]


def test_wrapped_decimal_before_the_real_measure_of_that_number_continues_the_text() -> None:
    text = "一、章(责任单位:区府办)\n1.措施甲。\n2.安排资金\n3.5亿元，支持改造\n3.措施丙。\n"
    assert text_of(parse_document(text), 2) == "安排资金3.5亿元，支持改造"


def test_wrapped_decimal_that_could_be_the_next_measure_is_reported() -> None:
    text = "一、章(责任单位:区府办)\n1.措施甲。\n2.安排资金\n3.5亿元，支持改造。\n"
    problems = problems_of(text)
    assert [p.line for p in problems] == [4]
    assert "无法判断“3.5亿元，支持改造。”是措施3还是上一行中的小数" in problems[0].message


def test_a_measure_number_wrapped_to_a_line_start_is_reported_not_swallowed() -> None:
    text = (
        "一、章\n1.重点推进以下工作：1.优化流程；\n2.加快审批。(责任单位:区府办)\n"
        "2.措施乙。(责任单位:区科委)\n"
    )
    problems = problems_of(text)
    assert [p.line for p in problems] == [2, 4]
    assert "措施编号应为“3”，实际为“2”" in problems[1].message


def test_units_on_a_sub_point_other_than_the_last_are_reported() -> None:
    text = "一、章\n(一)类\n1.总述：\n(1)甲；(责任单位:区府办)\n(2)乙。(责任单位:区科委)\n"
    problems = problems_of(text)
    assert [p.line for p in problems] == [4]
    assert "分项不应带责任单位" in problems[0].message


def test_a_clause_before_the_sub_points_and_another_after_them_is_a_problem() -> None:
    text = "一、章\n1.总述。(责任单位:区府办)\n(1)甲；\n(2)乙。(责任单位:区科委)\n"
    assert ["重复的责任单位" in p.message for p in problems_of(text)] == [True]


# --- structure problems of the new shapes ------------------------------------------------------


def test_categories_somewhere_require_categories_everywhere() -> None:
    text = "一、甲\n1.措施。(责任单位:区府办)\n二、乙\n(一)类\n2.措施。(责任单位:区府办)\n"
    assert [(p.line, p.message) for p in problems_of(text)] == [
        (2, "措施出现在类别之前，应先有类别标题“(一)…”")
    ]


def test_measures_before_any_section_without_categories() -> None:
    problems = problems_of("1.措施。(责任单位:区府办)\n一、章\n2.措施。(责任单位:区府办)\n")
    assert [(p.line, p.message) for p in problems] == [(1, "措施出现在章节之前，应先有章节标题“一、…”")]


def test_article_numbers_and_chapters_must_follow_on() -> None:
    text = "第一章 总则\n第一条 甲。(责任单位:区府办)\n第三章 附则\n第三条 乙。(责任单位:区府办)\n"
    problems = problems_of(text)
    assert [(p.line, p.message) for p in problems] == [
        (3, "章编号应为“第二章”，实际为“第三章”（重复或缺号）"),
        (4, "条编号应为“第二条”，实际为“第三条”（重复或缺号）"),
    ]


def test_an_article_before_the_first_chapter_is_a_problem() -> None:
    text = "第一条 甲。(责任单位:区府办)\n第一章 总则\n第二条 乙。(责任单位:区府办)\n"
    problems = problems_of(text)
    assert [p.line for p in problems] == [1]
    assert "条款出现在第一章之前" in problems[0].message


def test_article_sections_are_not_supported() -> None:
    text = "第一章 总则\n第一节 一般规定\n第一条 甲。(责任单位:区府办)\n"
    assert [p.line for p in problems_of(text)] == [2]


def test_an_article_without_units_is_a_problem_unless_it_closes_the_document() -> None:
    text = (
        "第一条 为规范管理，制定本办法。\n第二条 甲。(责任单位:区府办)\n第三条 本办法自2022年1月1日起施行。\n"
    )
    assert [(p.line, p.message) for p in problems_of(text)] == [
        (1, "措施缺少责任单位，应以“(责任单位:…)”结尾")
    ]


# --- the ending: closing paragraph, signature, validity ----------------------------------------


def plan_ending(*lines: str, header: str = "") -> str:
    return "\n".join([*([header] if header else []), "一、章", "1.措施甲。(责任单位:区府办)", *lines]) + "\n"


@pytest.mark.parametrize(
    ("ending", "issued", "effective", "expires"),
    [
        (["本方案自2022年1月1日起施行，有效期至2024年12月31日。"], None, Day(2022, 1, 1), Day(2024, 12, 31)),
        (["本方案自2022年1月1日起实施，有效期3年。"], None, Day(2022, 1, 1), Day(2024, 12, 31)),
        (
            ["本方案自印发之日起施行，有效期两年。", "2021年3月5日"],
            Day(2021, 3, 5),
            Day(2021, 3, 5),
            Day(2023, 3, 4),
        ),
        (["本办法自2020年2月29日起施行，有效期为三年。"], None, Day(2020, 2, 29), Day(2023, 2, 28)),
        (["本方案自2022年1月1日起至2023年12月31日止。"], None, Day(2022, 1, 1), Day(2023, 12, 31)),
        (["自发布之日起施行。", "二〇二一年十二月三十一日"], Day(2021, 12, 31), Day(2021, 12, 31), None),
        (["本方案有效期至2025年6月30日。"], None, None, Day(2025, 6, 30)),
        (["本方案有效期3年。"], None, None, None),  # no effective date to count from
        (
            ["本方案由区发展改革委负责解释。", "此前规定与本方案不一致的，", "以本方案为准。"],
            None,
            None,
            None,
        ),
        (["上海市普陀区人民政府办公室", "2022年1月5日"], Day(2022, 1, 5), None, None),
    ],
)
def test_closing_paragraph_and_signature(
    ending: list[str], issued: Day | None, effective: Day | None, expires: Day | None
) -> None:
    doc = parse_document(plan_ending(*ending))
    assert (doc.issued_on, doc.effective_on, doc.expires_on) == (issued, effective, expires)
    assert text_of(doc, 1) == "措施甲。"
    assert_round_trip(doc)


def test_closing_paragraph_after_a_measure_without_its_own_clause() -> None:
    text = "一、章(责任单位:区府办)\n1.措施甲。\n本方案自2022年1月1日起施行。\n"
    doc = parse_document(text)
    assert (text_of(doc, 1), doc.effective_on) == ("措施甲。", Day(2022, 1, 1))


def test_validity_in_the_header() -> None:
    header = (
        "普陀区稳增长行动方案\n2022年6月1日\n"
        "为稳住经济大盘，制定本方案。本方案自印发之日起施行，有效期至2022年12月31日。"
    )
    doc = parse_document(plan_ending(header=header))
    assert (doc.effective_on, doc.expires_on) == (Day(2022, 6, 1), Day(2022, 12, 31))
    assert doc.preamble.startswith("为稳住经济大盘")
    assert_round_trip(doc)


def test_a_cited_regulations_dates_in_the_preamble_are_not_the_documents() -> None:
    header = "普陀区实施方案\n为落实《上海市优化营商环境条例》（自2020年4月10日起施行），制定本方案。"
    doc = parse_document(plan_ending(header=header))
    assert (doc.effective_on, doc.expires_on) == (None, None)


@pytest.mark.parametrize(
    ("ending", "line", "fragment"),
    [
        (["本方案自2022年起施行。"], 3, "无法识别施行日期或有效期“本方案自2022年起施行”"),
        (
            ["本方案由区发展改革委负责解释。各部门要抓好落实。"],
            3,
            "结尾段落中无法识别的句子“各部门要抓好落实”",
        ),
        (
            ["本方案自2022年1月1日起施行。", "2.措施乙。(责任单位:区府办)"],
            4,
            "结尾（施行日期、落款或分工表）之后",
        ),
        (["2021年3月5日", "各部门要抓好落实。"], 4, "无法识别的结尾行"),
        (["本方案自2022年1月1日起施行。本方案自2022年2月1日起施行。"], 3, "施行日期不一致"),
        (["本方案自2022年1月1日起施行，有效期至2021年12月31日。"], 3, "早于施行日期"),
        (["2021年3月6日"], 4, "落款日期2021年3月6日与文首日期2021年3月5日不一致"),
        (["本方案自2022年2月30日起施行。"], 3, "日期“2022年2月30日”无效"),
    ],
)
def test_ending_problems(ending: list[str], line: int, fragment: str) -> None:
    header = "2021年3月5日" if "2021年3月6日" in ending else ""
    problems = problems_of(plan_ending(*ending, header=header))
    assert any(p.line == line and fragment in p.message for p in problems), problems


def test_stray_text_after_the_last_measure_is_still_reported() -> None:
    problems = problems_of(plan_ending("(此件公开发布)"))
    assert [p.line for p in problems] == [3]


# --- header metadata ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "普府办〔2021〕12号",
        "普府办[2021]12号",
        "普府办［2021］12号",
        "普府办(2021)12号",
        "普府办（2021）12号",
        "文号：普府办【2021】 12 号",
    ],
)
def test_document_number_brackets_are_normalised(written: str) -> None:
    doc = parse_document(plan_ending(header=f"{written}\n普陀区营商环境行动方案"))
    assert doc.document_number == "普府办〔2021〕12号"
    assert (doc.title, doc.preamble) == ("普陀区营商环境行动方案", "")


def test_a_document_number_named_in_the_cover_letter_is_not_the_documents() -> None:
    header = (
        "现将《关于印发〈实施细则〉的通知》（沪府规〔2020〕1号）精神传达如下。\n"
        "沪府规〔2022〕3号\n普陀区实施方案"
    )
    doc = parse_document(plan_ending(header=header))
    assert doc.document_number == "沪府规〔2022〕3号"


def test_issuers_at_the_bottom_follow_the_headers() -> None:
    doc = parse_document(
        plan_ending(
            "中共上海市普陀区委办公室 上海市普陀区人民政府办公室", header="上海市普陀区人民政府办公室"
        )
    )
    assert doc.issuers == ("上海市普陀区人民政府办公室", "中共上海市普陀区委办公室")


# --- every problem at once, shapes and their labels, the summary -------------------------------


def test_every_problem_of_a_regulation_is_listed() -> None:
    text = (
        "第一章 总则\n第一条 甲。\n第三条 乙。(责任单位:)\n第四条 丙。(牵头单位:区府办\n"
        "本办法自2022年2月30日起施行。\n"
    )
    lines = [p.line for p in problems_of(text)]
    assert lines == sorted(lines) and {2, 3, 4} <= set(lines)


def test_shapes_have_chinese_labels() -> None:
    assert set(SHAPE_LABELS) == set(SHAPES)
    assert shape_label("sections-measures") == "章节→措施"
    assert (shape_label("articles"), shape_label("nested")) == ("第X条", "多级编号")
    assert shape_label("unknown") == "unknown"


def test_document_summary_reports_shape_and_metadata() -> None:
    summary = document_summary(parse_document(REGULATION))
    assert summary["shape"] == "articles" and summary["shape_label"] == SHAPE_LABELS["articles"]
    assert summary["document_number"] == "沪普府规〔2022〕3号"
    assert (summary["effective_on"], summary["expires_on"]) == ("2022-07-01", "2027-06-30")
    assert (summary["sections"], summary["categories"], summary["measures"]) == (4, 0, 7)
    assert summary["units"][:2] == ["区商务委", "区司法局"]
    plain = document_summary(parse_document(TABLE_PLAN))
    assert (plain["document_number"], plain["effective_on"], plain["expires_on"]) == (None, None, None)
