"""Property tests: documents written in many shapes parse back to what generated them.

The writer here is independent of ``render_document``: it varies bracket and punctuation
width, the way units are named, where category-level units sit, wraps lines, indents
and sprinkles half- and full-width spaces. ``shaped_documents`` adds the other shapes
(sections → measures, 第X条 articles with or without chapters, (1) sub-points), units under
section and chapter headings and in a closing table, the 文号, the validity sentences of a
closing paragraph or closing articles, and the issuing body and date at the bottom.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policy_db.parser import (
    InvalidDocument,
    ParsedCategory,
    ParsedDocument,
    ParsedMeasure,
    ParsedSection,
    Shape,
    UnitRef,
    parse_document,
    render_document,
)

SEED = Path(__file__).resolve().parents[2] / "seeds" / "putuo-2021-business-environment.txt"
PROPERTY_SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Characters that carry meaning to the parser at a line's end or start (numerals, title and
# issuer endings, unit keywords, 具体措施, dates) are left out of free text on purpose.
_RESERVED = set("一二三四五六七八九十牵配责具案划见施知法则室会府局委办厅部院心日")
CJK = "".join(
    c
    for c in "加强推进优化服务企业政策平台建设完善提升创新管理数据资源信息开放深化落实市场"
    "监管审批营商环境科技金融人才园区街镇税费登记产业项目重点培育发展"
    if c not in _RESERVED
)
ASCII = "AGIR5028%"
MARKS = "，、；：“”《》-"
OPENERS, CLOSERS = "(（〔[【", ")）〕]】"
SPACES = [" ", "\u3000", "\t", "  ", "\u3000\u3000"]


def is_ascii_word(char: str) -> bool:
    return char.isascii() and char.isalnum()


def numeral(value: int) -> str:
    digits = "一二三四五六七八九"
    tens, ones = divmod(value, 10)
    return (
        ("" if tens < 2 else digits[tens - 1]) + ("十" if tens else "") + (digits[ones - 1] if ones else "")
    )


# --- canonical content (strategies built once: building them per draw is slow) ----------


def plain(alphabet: str, min_size: int = 1, max_size: int = 8) -> st.SearchStrategy[str]:
    return st.text(alphabet, min_size=min_size, max_size=max_size)


def choice(*options: str) -> st.SearchStrategy[str]:
    return st.sampled_from(options)


# An inner parenthesis, like (不含6亩): never a unit keyword inside.
BRACKETED = st.builds(
    lambda pair, inside: pair[0] + inside + pair[1],
    st.sampled_from([("(", ")"), ("（", "）")]),
    plain(CJK + ASCII + "、", 1, 6),
)


def rich(alphabet: str, max_chunks: int = 4) -> st.SearchStrategy[str]:
    chunk = st.one_of(plain(alphabet), BRACKETED)
    return st.lists(chunk, min_size=1, max_size=max_chunks).map("".join)


BODY_TEXT = rich(CJK + ASCII + MARKS + "。")
# "3.5…" right after a measure that ends mid-sentence is ambiguous (a wrapped decimal?) and reported.
MEASURE_TEXT = BODY_TEXT.map(lambda text: "推" + text if text[0].isdigit() else text)
TITLE_TEXT = rich(CJK + ASCII + "，、“”")
SECTION_TEXT = rich(CJK + ASCII + "，、“”", max_chunks=2)
UNIT_NAMES = st.one_of(
    choice("各相关单位", "各街镇", "区府办", "区科委", "区市场监管局"),
    st.builds(
        lambda middle, suffix: "区" + middle + suffix,
        plain(CJK, 1, 4),
        choice("局", "办", "委", "中心", "服务中心"),
    ),
)
SPACE = st.sampled_from(SPACES)
INDENT = choice("", "", " ", "\u3000\u3000")
BLANK_LINES = st.lists(choice("", "  ", "\u3000"), max_size=1)
PICKS = st.lists(st.integers(0, 10_000), max_size=3)  # positions, taken modulo the choices
UNIT_SEPARATOR = choice("、", "，", ",", "；", ";", " 、 ", "、\u3000")
GROUP_SEPARATOR = choice(",", "，", ";", "；", " ; ")
COLON = choice(":", "：", " : ", "")
DATES = st.none() | st.dates(datetime.date(1990, 1, 1), datetime.date(2099, 12, 31))
ISSUERS = st.lists(
    choice("中共上海市普陀区委办公室", "上海市普陀区人民政府办公室", "上海市普陀区财政局"),
    max_size=2,
    unique=True,
)
TITLES = st.one_of(st.just(""), plain(CJK, 2, 10).map(lambda text: text + "行动方案"))
PREAMBLES = st.one_of(st.just(""), BODY_TEXT.map(lambda text: "为" + text + "："))


@dataclass
class Written:
    """A document as the writer laid it out, and what the parser should make of it."""

    lines: list[str] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)  # 1-based line of every measure

    def add(self, draw: st.DrawFn, head: str, body: str) -> None:
        for index, chunk in enumerate(wrap(draw, body)):
            line = (head if index == 0 else "") + sprinkle(draw, chunk)
            self.lines.append(draw(INDENT) + line)
        self.lines += draw(BLANK_LINES)


# --- layout: wrapping and stray whitespace -----------------------------------------------


def _joinable(text: str, index: int) -> bool:
    """Whether text may be cut or spaced at index without changing what it means."""
    before = text[index - 1] if index > 0 else ""
    after = text[index] if index < len(text) else ""
    return not (is_ascii_word(before) and is_ascii_word(after))


def pick(draw: st.DrawFn, spots: list[int]) -> list[int]:
    return sorted({spots[i % len(spots)] for i in draw(PICKS)}) if spots else []


SUBPOINT_START = re.compile(r"[(（]\d")


def wrap(draw: st.DrawFn, body: str) -> list[str]:
    """Cut body into lines; a line never starts with a digit, like a real wrapped measure,
    nor with a bracketed number: a line starting "(1)" is a measure's sub-point."""
    cuts = [
        i
        for i in range(1, len(body))
        if _joinable(body, i) and not body[i].isdigit() and not SUBPOINT_START.match(body, i)
    ]
    edges = [0, *pick(draw, cuts), len(body)]
    return [body[start:end] for start, end in zip(edges, edges[1:], strict=False)]


def sprinkle(draw: st.DrawFn, text: str) -> str:
    """Insert stray half/full-width spaces where the parser must ignore them."""
    for spot in reversed(pick(draw, [i for i in range(len(text) + 1) if _joinable(text, i)])):
        text = text[:spot] + draw(SPACE) + text[spot:]
    return text


# --- units clauses ----------------------------------------------------------------------


def joined(draw: st.DrawFn, names: list[str]) -> str:
    return names[0] + "".join(draw(UNIT_SEPARATOR) + name for name in names[1:])


@st.composite
def unit_clauses(draw: st.DrawFn) -> tuple[str, tuple[UnitRef, ...]]:
    """A units clause in one of the ways Chinese plans write it, and the units it names."""
    colon = draw(COLON)
    style = draw(choice("responsible", "phrased", "labelled"))
    if style == "responsible":
        names = draw(st.lists(UNIT_NAMES, min_size=1, max_size=5))
        content = draw(choice("责任单位", "责任部门")) + colon + joined(draw, names)
        units = tuple(UnitRef(name, "responsible") for name in names)
    else:
        leads = draw(st.lists(UNIT_NAMES, max_size=2))
        helpers = draw(st.lists(UNIT_NAMES, min_size=0 if leads else 1, max_size=3))
        if style == "phrased":
            parts = [joined(draw, leads) + "牵头"] if leads else []
            parts += [joined(draw, helpers) + "配合"] if helpers else []
        else:
            parts = ["牵头单位" + colon + joined(draw, leads)] if leads else []
            parts += ["配合单位" + colon + joined(draw, helpers)] if helpers else []
        content = draw(GROUP_SEPARATOR).join(parts)
        units = tuple(UnitRef(n, "lead") for n in leads)
        units += tuple(UnitRef(n, "cooperating") for n in helpers)
    opener, closer = draw(st.sampled_from(OPENERS)), draw(st.sampled_from(CLOSERS))
    return opener + content + closer + draw(choice("", "", "。")), units


UNIT_CLAUSES = unit_clauses()
CATEGORY_UNITS = st.one_of(st.just(("", None)), UNIT_CLAUSES)


# --- whole documents --------------------------------------------------------------------


def write_header(draw: st.DrawFn, out: Written) -> tuple[str, tuple[str, ...], datetime.date | None, str]:
    issuers, issued_on = draw(ISSUERS), draw(DATES)
    title, preamble = draw(TITLES), draw(PREAMBLES)
    if title:  # addressees and cover letter: dropped by the parser
        out.lines += ["各部、委、办、局,各街道、镇:", f"《{title}》已经区政府同意,现印发给你们。"]
    if len(issuers) == 2 and draw(st.booleans()):
        out.lines.append(issuers[0] + draw(SPACE) + issuers[1])
    else:
        out.lines += issuers
    if issued_on is not None:
        out.lines.append(f"{issued_on.year} 年{issued_on.month:02d}月 {issued_on.day}日")
    if title:
        out.lines.append(sprinkle(draw, title))
    if preamble:
        out.add(draw, "", preamble)
    return title, tuple(issuers), issued_on, preamble


def write_measure(
    draw: st.DrawFn, out: Written, number: int, shared: tuple[UnitRef, ...] | None
) -> ParsedMeasure:
    text = draw(MEASURE_TEXT)
    clause, units = draw(UNIT_CLAUSES) if shared is None or draw(st.booleans()) else ("", shared)
    head = str(number) + draw(choice(".", "．", "、", " . ", "、 "))
    out.starts.append(len(out.lines) + 1)
    out.add(draw, head, text + clause)
    return ParsedMeasure(number, text, units, 0)


def write_category(draw: st.DrawFn, out: Written, ordinal: int, first_measure: int) -> ParsedCategory:
    title, lead = draw(TITLE_TEXT), draw(st.one_of(st.just(""), BODY_TEXT))
    intro = draw(choice("具体措施:", "具体措施：", "具体措施如下：", ""))
    clause, shared = draw(CATEGORY_UNITS)
    place = draw(choice("before intro", "after intro", "own line"))
    stop = "。" if lead or draw(st.booleans()) else ""
    heading = title + stop + lead + (clause if place == "before intro" else "") + intro
    heading += clause if place == "after intro" else ""
    opener, closer = draw(choice("(", "（", "( ")), draw(choice(")", "）", " ）"))
    out.add(draw, opener + numeral(ordinal) + closer, heading)
    if place == "own line" and clause:
        out.add(draw, "", clause)
    count = draw(st.integers(1, 3))
    measures = tuple(write_measure(draw, out, first_measure + i, shared) for i in range(count))
    return ParsedCategory(ordinal, title, lead, measures, 0)


@st.composite
def written_documents(draw: st.DrawFn) -> tuple[str, ParsedDocument, list[int]]:
    """Text of a generated plan, the document it must parse to, and its measures' lines."""
    out = Written()
    title, issuers, issued_on, preamble = write_header(draw, out)
    restart = draw(st.booleans())
    sections, category, measure = [], 0, 1
    for ordinal in range(1, draw(st.integers(1, 2)) + 1):
        section_title = draw(SECTION_TEXT)
        out.add(draw, numeral(ordinal) + draw(choice("、", ".", "．", " 、")), section_title)
        category = 0 if restart else category
        categories = []
        for _ in range(draw(st.integers(1, 2))):
            category += 1
            categories.append(write_category(draw, out, category, measure))
            measure += len(categories[-1].measures)
        sections.append(ParsedSection(ordinal, section_title, tuple(categories), 0))
    document = ParsedDocument(title, issuers, issued_on, preamble, tuple(sections))
    return "\n".join(out.lines), document, out.starts


@PROPERTY_SETTINGS
@given(written_documents())
def test_written_documents_parse_back_to_what_generated_them(
    written: tuple[str, ParsedDocument, list[int]],
) -> None:
    text, expected, starts = written
    parsed = parse_document(text)
    assert parsed == expected
    assert [measure.line for _, _, measure in parsed.measures()] == starts
    assert parse_document(render_document(expected)) == expected, "render_document round trip"


@PROPERTY_SETTINGS
@given(
    st.lists(
        st.text("一二十、.．()（）1234。:责任单位牵头配合区府办局方案2021年3月5日 \u3000", max_size=30),
        max_size=12,
    )
)
def test_any_text_parses_or_raises_invalid_document(lines: list[str]) -> None:
    try:
        document = parse_document("\n".join(lines))
    except InvalidDocument as error:
        assert error.problems
        assert all(problem.line >= 1 for problem in error.problems)
    else:
        assert document.measures()
        assert parse_document(render_document(document)) == document


def test_seed_round_trips_through_render_document() -> None:
    seed = parse_document(SEED.read_text(encoding="utf-8"))
    assert parse_document(render_document(seed)) == seed


# --- the other shapes, units under headings and in a closing table, the ending ---------------

SHAPE_CHOICE: st.SearchStrategy[Shape] = st.sampled_from(
    ["sections-categories-measures", "sections-measures", "articles", "nested"]
)
DOC_NUMBER_PREFIX = choice("普府办", "沪府规", "普府", "普发改委规", "沪普府")
NUMBER_BRACKETS = st.sampled_from(
    [("〔", "〕"), ("[", "]"), ("［", "］"), ("(", ")"), ("（", "）"), ("【", "】")]
)
REGULATION_TITLES = st.one_of(st.just(""), plain(CJK, 2, 10).map(lambda text: text + "管理办法"))
VALIDITY_DATES = st.dates(datetime.date(2000, 1, 1), datetime.date(2080, 12, 31))
CN_DIGITS = "〇一二三四五六七八九"


def cn_date(day: datetime.date) -> str:
    year = "".join(CN_DIGITS[int(digit)] for digit in str(day.year))
    return f"{year}年{numeral(day.month)}月{numeral(day.day)}日"


def day_text(day: datetime.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def years_later(day: datetime.date, years: int) -> datetime.date:
    try:
        end = day.replace(year=day.year + years)
    except ValueError:
        end = datetime.date(day.year + years, 3, 1)
    return end - datetime.timedelta(days=1)


@dataclass
class Plan:
    """What a shaped document's writer decided so far."""

    out: Written
    articles: bool
    nested: bool
    complete_measures: bool  # an ending follows: measures without a clause end with 。
    number: int = 1
    subpoints: bool = False
    rows: list[str] = field(default_factory=list)  # the closing table's rows


def table_units(draw: st.DrawFn) -> tuple[str, tuple[UnitRef, ...]]:
    """The units part of a closing-table row and the units it names."""
    style = draw(choice("names", "clause", "bare"))
    if style == "names":
        names = draw(st.lists(UNIT_NAMES, min_size=1, max_size=3))
        text = names[0] + "".join(draw(choice(" ", "\t", "、", "\u3000")) + name for name in names[1:])
        return text, tuple(UnitRef(name, "responsible") for name in names)
    clause, units = draw(UNIT_CLAUSES)
    if style == "bare":
        clause = clause.rstrip("。")[1:-1]
    return clause, units


def write_shaped_measure(draw: st.DrawFn, plan: Plan, inherited: tuple[UnitRef, ...] | None) -> ParsedMeasure:
    """A measure (or article) with its units from its clause, its heading or the closing table."""
    number, plan.number = plan.number, plan.number + 1
    text = draw(MEASURE_TEXT)
    source = draw(choice("own", "inherited", "table"))
    if source != "own":  # heading units come first; the table only serves measures without any
        source = "table" if inherited is None else "inherited"
    subs: list[str] = []
    if (plan.nested or plan.articles) and draw(st.booleans()):
        subs = draw(st.lists(BODY_TEXT, min_size=1, max_size=3))
    clause, units = "", inherited or ()
    if source == "own":
        clause, units = draw(UNIT_CLAUSES)
    elif source == "table":
        row, units = table_units(draw)
        ref = draw(choice(str(number), f"第{number}条", f"第{numeral(number)}条"))
        plan.rows.append(ref + draw(choice(" ", "\t", "  ", "：", "\u3000")) + row)
    clause_on_head = bool(subs) and not plan.articles and draw(st.booleans())
    if plan.complete_measures and (not clause or clause_on_head):  # an ending follows
        if subs:
            subs[-1] += "。"
        else:
            text += "。"
    if plan.articles:  # items (一)(二) inside an article are its text
        head = "第" + draw(choice(numeral(number), str(number))) + "条" + draw(choice("", " ", "\u3000"))
        markers = [f"（{numeral(k)}）" for k in range(1, len(subs) + 1)]
    else:
        head = str(number) + draw(choice(".", "．", "、"))
        markers = [draw(choice(f"({k})", f"（{k}）")) for k in range(1, len(subs) + 1)]
    plan.out.starts.append(len(plan.out.lines) + 1)
    plan.out.add(draw, head, text + (clause if clause_on_head or not subs else ""))
    for index, (marker, sub) in enumerate(zip(markers, subs, strict=True)):
        last = index == len(subs) - 1
        plan.out.add(draw, marker, sub + (clause if last and not clause_on_head else ""))
    plan.subpoints = plan.subpoints or (bool(subs) and not plan.articles)
    full = text + "".join(marker + sub for marker, sub in zip(markers, subs, strict=True))
    return ParsedMeasure(number, full, units, 0)


def write_heading_units(draw: st.DrawFn, out: Written, head: str, title: str) -> tuple[UnitRef, ...] | None:
    """A section or chapter heading, with units on its line, on a line of their own, or none."""
    clause, units = draw(CATEGORY_UNITS)
    own_line = draw(st.booleans())
    out.add(draw, head, title + ("" if own_line else clause))
    if own_line and clause:
        out.add(draw, "", clause)
    return units


def write_body(draw: st.DrawFn, plan: Plan, shape: Shape) -> list[ParsedSection]:
    """The numbered content in the chosen shape."""
    out, sections = plan.out, []
    if shape == "articles":
        if not draw(st.booleans()):  # no chapters: one implicit section
            measures = tuple(write_shaped_measure(draw, plan, None) for _ in range(draw(st.integers(1, 4))))
            return [ParsedSection(1, "", (ParsedCategory(1, "", "", measures, 0),), 0)]
        for ordinal in range(1, draw(st.integers(1, 3)) + 1):
            title = draw(SECTION_TEXT)
            head = "第" + draw(choice(numeral(ordinal), str(ordinal))) + "章" + draw(choice("", " ", "　"))
            units = write_heading_units(draw, out, head, title)
            measures = tuple(write_shaped_measure(draw, plan, units) for _ in range(draw(st.integers(1, 3))))
            sections.append(ParsedSection(ordinal, title, (ParsedCategory(ordinal, "", "", measures, 0),), 0))
        return sections
    with_categories = shape == "sections-categories-measures" or (shape == "nested" and draw(st.booleans()))
    category = 0
    for ordinal in range(1, draw(st.integers(1, 3)) + 1):
        title = draw(SECTION_TEXT)
        section_units = write_heading_units(draw, out, numeral(ordinal) + draw(choice("、", "．")), title)
        if not with_categories:
            count = draw(st.integers(1, 3))
            measures = tuple(write_shaped_measure(draw, plan, section_units) for _ in range(count))
            implicit = ParsedCategory(ordinal, "", "", measures, 0)
            sections.append(ParsedSection(ordinal, title, (implicit,), 0))
            continue
        categories = []
        for _ in range(draw(st.integers(1, 2))):
            category += 1
            category_title = draw(TITLE_TEXT)
            clause, category_units = draw(CATEGORY_UNITS)
            out.add(draw, f"({numeral(category)})", category_title + "。" + clause)
            inherited = category_units or section_units
            count = draw(st.integers(1, 3))
            measures = tuple(write_shaped_measure(draw, plan, inherited) for _ in range(count))
            categories.append(ParsedCategory(category, category_title, "", measures, 0))
        sections.append(ParsedSection(ordinal, title, tuple(categories), 0))
    return sections


@st.composite
def shaped_documents(draw: st.DrawFn) -> tuple[str, ParsedDocument, list[int]]:
    """Text of a generated document of any shape, the document it must parse to, and its measures' lines."""
    out = Written()
    shape = draw(SHAPE_CHOICE)
    articles = shape == "articles"
    issuers, issued_on = draw(ISSUERS), draw(DATES)
    signed_at_bottom = draw(st.booleans())
    title = draw(REGULATION_TITLES if articles else TITLES)
    preamble = draw(PREAMBLES)
    if not signed_at_bottom:
        out.lines += issuers
        if issued_on is not None:
            out.lines.append(f"{issued_on.year}年{issued_on.month}月{issued_on.day}日")
    document_number = ""
    if draw(st.booleans()):
        prefix, year = draw(DOC_NUMBER_PREFIX), draw(st.integers(2000, 2099))
        serial = draw(st.integers(1, 999))
        opener, closer = draw(NUMBER_BRACKETS)
        out.lines.append(draw(choice("", "文号：")) + f"{prefix}{opener}{year}{closer}{serial}号")
        document_number = f"{prefix}〔{year}〕{serial}号"
    if title:
        out.lines.append(title)
    if preamble:
        out.add(draw, "", preamble)

    effective_kind = draw(choice("none", "date", "issued"))
    expires_kind = draw(choice("none", "date", "years"))
    if effective_kind == "issued" and issued_on is None:
        effective_kind = "date"
    effective = {"none": None, "date": draw(VALIDITY_DATES), "issued": issued_on}[effective_kind]
    years = draw(st.integers(1, 5))
    expires = None
    if expires_kind == "date":
        start = effective or datetime.date(2000, 1, 1)
        expires = start + datetime.timedelta(days=draw(st.integers(0, 3000)))
    elif expires_kind == "years" and effective is not None:
        expires = years_later(effective, years)
    interpretation = draw(st.booleans())
    closing = effective_kind != "none" or expires_kind != "none" or interpretation
    signature = signed_at_bottom and bool(issuers or issued_on)
    plan = Plan(out, articles, shape == "nested", complete_measures=closing or signature)
    sections = write_body(draw, plan, shape)

    subject = "本办法" if articles else draw(choice("本方案", "本措施", "本实施方案"))
    clauses = []
    if effective_kind == "issued":
        clauses.append("自印发之日起施行")
    elif effective is not None:
        clauses.append(f"自{day_text(effective)}起" + draw(choice("施行", "实施", "执行")))
    if expires_kind == "date":
        clauses.append(f"有效期至{day_text(expires)}" if expires else "")
    elif expires_kind == "years":
        clauses.append("有效期" + draw(choice(str(years), "两" if years == 2 else numeral(years))) + "年")
    sentences = [subject + "，".join(clauses) + "。"] if clauses else []
    if interpretation:
        sentences.insert(0, subject + "由区发展改革委负责解释。")
    if articles:
        for sentence in sentences:  # closing articles
            head = "第" + numeral(plan.number) + "条" + draw(choice("", " "))
            plan.number += 1
            out.add(draw, head, sentence)
    elif sentences:  # its first line starts with the closing phrase (本方案自…, 本方案有效期…)
        paragraph = "".join(sentences)
        phrase = re.match(r"^.*?(自|由|有效期)", paragraph)
        assert phrase is not None
        out.add(draw, phrase[0], paragraph[phrase.end() :])
    if signed_at_bottom:
        out.lines += issuers
        if issued_on is not None:
            out.lines.append(draw(choice(day_text(issued_on), cn_date(issued_on))))
    if plan.rows:
        out.lines += draw(choice(["附件：责任分工"], ["责任单位分工表"], ["附件", "重点任务分工表"]))
        out.lines += plan.rows

    if plan.subpoints:
        final_shape: Shape = "nested"
    elif shape == "nested":
        categories = bool(sections[0].categories[0].title)
        final_shape = "sections-categories-measures" if categories else "sections-measures"
    else:
        final_shape = shape
    header = (title, tuple(issuers), issued_on, preamble, tuple(sections))
    document = ParsedDocument(*header, final_shape, document_number, effective, expires)
    return "\n".join(out.lines), document, out.starts


@PROPERTY_SETTINGS
@given(shaped_documents())
def test_documents_of_every_shape_parse_back_to_what_generated_them(
    written: tuple[str, ParsedDocument, list[int]],
) -> None:
    text, expected, starts = written
    parsed = parse_document(text)
    assert parsed == expected
    assert [measure.line for _, _, measure in parsed.measures()] == starts
    assert parse_document(render_document(expected)) == expected, "render_document round trip"
