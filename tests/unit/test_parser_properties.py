"""Property tests: documents written in many shapes parse back to what generated them.

The writer here is independent of ``render_document``: it varies bracket and punctuation
width, the way units are named, where category-level units sit, wraps lines, indents
and sprinkles half- and full-width spaces.
"""

from __future__ import annotations

import datetime
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


# --- canonical content ------------------------------------------------------------------


def plain(alphabet: str, min_size: int = 1, max_size: int = 8) -> st.SearchStrategy[str]:
    return st.text(alphabet, min_size=min_size, max_size=max_size)


@st.composite
def bracketed(draw: st.DrawFn) -> str:
    """An inner parenthesis, like (不含6亩): never a unit keyword inside."""
    opener, closer = draw(st.sampled_from([("(", ")"), ("（", "）")]))
    return opener + draw(plain(CJK + ASCII + "、", 1, 6)) + closer


@st.composite
def rich(draw: st.DrawFn, alphabet: str, max_chunks: int = 4) -> str:
    chunks = draw(st.lists(st.one_of(plain(alphabet), bracketed()), min_size=1, max_size=max_chunks))
    return "".join(chunks)


unit_names = st.one_of(
    st.sampled_from(["各相关单位", "各街镇", "区府办", "区科委", "区市场监管局"]),
    st.builds(
        lambda middle, suffix: "区" + middle + suffix,
        plain(CJK, 1, 4),
        st.sampled_from(["局", "办", "委", "中心", "服务中心"]),
    ),
)


@dataclass
class Written:
    """A document as the writer laid it out, and what the parser should make of it."""

    lines: list[str] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)  # 1-based line of every measure

    def add(self, draw: st.DrawFn, head: str, body: str) -> None:
        for index, chunk in enumerate(wrap(draw, body)):
            line = (head if index == 0 else "") + sprinkle(draw, chunk)
            self.lines.append(draw(st.sampled_from(["", " ", "\u3000\u3000"])) + line)
        for _ in range(draw(st.integers(0, 1))):
            self.lines.append(draw(st.sampled_from(["", "  ", "\u3000"])))


# --- layout: wrapping and stray whitespace -----------------------------------------------


def _joinable(text: str, index: int) -> bool:
    """Whether text may be cut or spaced at index without changing what it means."""
    before = text[index - 1] if index > 0 else ""
    after = text[index] if index < len(text) else ""
    return not (is_ascii_word(before) and is_ascii_word(after))


def wrap(draw: st.DrawFn, body: str) -> list[str]:
    """Cut body into lines; a line never starts with a digit, like a real wrapped measure."""
    cuts = [i for i in range(1, len(body)) if _joinable(body, i) and not body[i].isdigit()]
    chosen = sorted(set(draw(st.lists(st.sampled_from(cuts), max_size=3)))) if cuts else []
    edges = [0, *chosen, len(body)]
    return [body[start:end] for start, end in zip(edges, edges[1:], strict=False)]


def sprinkle(draw: st.DrawFn, text: str) -> str:
    """Insert stray half/full-width spaces where the parser must ignore them."""
    spots = [i for i in range(len(text) + 1) if _joinable(text, i)]
    for spot in sorted(set(draw(st.lists(st.sampled_from(spots), max_size=3))), reverse=True):
        text = text[:spot] + draw(st.sampled_from(SPACES)) + text[spot:]
    return text


# --- units clauses ----------------------------------------------------------------------


def joined(draw: st.DrawFn, names: list[str]) -> str:
    text = names[0]
    for name in names[1:]:
        text += draw(st.sampled_from(["、", "，", ",", "；", ";", " 、 ", "、\u3000"])) + name
    return text


@st.composite
def unit_clauses(draw: st.DrawFn) -> tuple[str, tuple[UnitRef, ...]]:
    """A units clause in one of the ways Chinese plans write it, and the units it names."""
    colon = draw(st.sampled_from([":", "：", " : ", ""]))
    style = draw(st.sampled_from(["responsible", "phrased", "labelled"]))
    if style == "responsible":
        names = draw(st.lists(unit_names, min_size=1, max_size=5))
        label = draw(st.sampled_from(["责任单位", "责任部门"]))
        content = label + colon + joined(draw, names)
        units = tuple(UnitRef(name, "responsible") for name in names)
    else:
        leads = draw(st.lists(unit_names, max_size=2))
        helpers = draw(st.lists(unit_names, min_size=0 if leads else 1, max_size=3))
        if style == "phrased":
            parts = [joined(draw, leads) + "牵头"] if leads else []
            parts += [joined(draw, helpers) + "配合"] if helpers else []
        else:
            parts = ["牵头单位" + colon + joined(draw, leads)] if leads else []
            parts += ["配合单位" + colon + joined(draw, helpers)] if helpers else []
        content = draw(st.sampled_from([",", "，", ";", "；", " ; "])).join(parts)
        units = tuple([UnitRef(n, "lead") for n in leads] + [UnitRef(n, "cooperating") for n in helpers])
    brackets = draw(st.sampled_from(OPENERS)), draw(st.sampled_from(CLOSERS))
    return brackets[0] + content + brackets[1] + draw(st.sampled_from(["", "", "。"])), units


# --- whole documents --------------------------------------------------------------------


def write_header(draw: st.DrawFn, out: Written) -> tuple[str, tuple[str, ...], datetime.date | None, str]:
    issuers = draw(
        st.lists(
            st.sampled_from(["中共上海市普陀区委办公室", "上海市普陀区人民政府办公室", "上海市普陀区财政局"]),
            max_size=2,
            unique=True,
        )
    )
    issued_on = draw(st.none() | st.dates(datetime.date(1990, 1, 1), datetime.date(2099, 12, 31)))
    title = draw(st.one_of(st.just(""), plain(CJK, 2, 10).map(lambda t: t + "行动方案")))
    preamble = draw(st.one_of(st.just(""), rich(CJK + ASCII + MARKS + "。").map(lambda t: t + "：")))
    preamble = preamble if not preamble[:1].isdigit() else "为" + preamble
    if title:
        out.lines += ["各部、委、办、局,各街道、镇:", f"《{title}》已经区政府同意,现印发给你们。"]
    if len(issuers) == 2 and draw(st.booleans()):
        out.lines.append(issuers[0] + draw(st.sampled_from(SPACES)) + issuers[1])
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
    text = draw(rich(CJK + ASCII + MARKS + "。"))
    clause, units = draw(unit_clauses()) if shared is None or draw(st.booleans()) else ("", shared)
    head = str(number) + draw(st.sampled_from([".", "．", "、", " . ", "、 "]))
    out.starts.append(len(out.lines) + 1)
    out.add(draw, head, text + clause)
    return ParsedMeasure(number, text, units, 0)


def write_category(draw: st.DrawFn, out: Written, ordinal: int, first_measure: int) -> ParsedCategory:
    title = draw(rich(CJK + ASCII + "，、“”"))
    lead = draw(st.one_of(st.just(""), rich(CJK + ASCII + MARKS + "。")))
    intro = draw(st.sampled_from(["具体措施:", "具体措施：", "具体措施如下：", ""]))
    clause, shared = draw(st.one_of(st.just(("", None)), unit_clauses()))
    place = draw(st.sampled_from(["before intro", "after intro", "own line"]))
    stop = "。" if lead or draw(st.booleans()) else ""
    heading = title + stop + lead + (clause if place == "before intro" else "") + intro
    heading += clause if place == "after intro" else ""
    opener, closer = draw(st.sampled_from(["(", "（", "( "])), draw(st.sampled_from([")", "）", " ）"]))
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
    for ordinal in range(1, draw(st.integers(1, 3)) + 1):
        section_title = draw(rich(CJK + ASCII + "，、“”", max_chunks=2))
        out.add(draw, numeral(ordinal) + draw(st.sampled_from(["、", ".", "．", " 、"])), section_title)
        category = 0 if restart else category
        categories = []
        for _ in range(draw(st.integers(1, 3))):
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


@PROPERTY_SETTINGS
@given(written_documents())
def test_render_document_round_trips_generated_documents(
    written: tuple[str, ParsedDocument, list[int]],
) -> None:
    _, expected, _ = written
    assert parse_document(render_document(expected)) == expected


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
