"""Parse a Chinese government action plan (行动方案) into sections, categories and measures.

Pure text in, frozen dataclasses out; no database. The rules, line by line (blank lines
are skipped, every line is stripped of whitespace, full-width spaces included):

* ``一、标题`` (一…九十九, then 、 . or ．) starts a section; ``(一)``/``（一）`` a category;
  ``12.`` ``12．`` ``12、`` a measure. ``3.5亿`` at a line start is a decimal continuing the
  line above, unless 3 is the next measure number due (then it is measure 3: "5亿…").
* Header: the lines before the first section/category/measure. ``2021年3月5日`` gives
  ``issued_on``; a line of bodies ending in 办公室/委员会/人民政府/局/委… (several may
  share a line, split by spaces) gives ``issuers``; the title is the last remaining line
  ending in 方案/计划/意见/措施/通知/办法/规划/细则 (optionally + a bracketed year) with no
  sentence punctuation; the remaining lines after it, joined, are the preamble. Lines
  before the title (addressees, cover letter) are dropped. Without a title every remaining
  line is preamble. Every header part may be missing.
* Wrapped lines: any other line continues the heading or measure above it and is joined
  to it — except after a measure that already ends with its units clause, where the line
  is reported as stray (unless it holds only the 。 closing that clause). Whitespace is
  then dropped, except one space between two ASCII letters/digits ("Open Data").
* A measure's units are its trailing bracketed clause naming 责任单位/牵头/配合 (see
  ``parser_units``); inner brackets are text. Category-level units: when a category
  heading — after joining its wrapped lines, so including a units line placed directly
  under it — ends with a units clause (before or after 具体措施:), each of its measures
  without a clause of its own gets those units. A units line placed after a measure
  belongs to that measure. ParsedCategory does not keep them.
* Heading text: category title is the text before the first 。, lead the rest, minus a
  trailing 具体措施: or 具体措施如下:. A section title must not hold a 。 (a paragraph).
* Numbering: sections 一, 二, … in order; categories continue across sections or restart
  at (一) in a new section; measures 1, 2, 3, … across the whole document.

``parse_document`` collects every problem before raising ``InvalidDocument``. The ``line``
of sections, categories and measures (1-based, where each starts) is left out of equality,
so a document equals its re-parsed canonical rendering.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from typing import Literal

from policy_db.errors import DocumentProblem, InvalidDocument
from policy_db.parser_units import (
    CLAUSE_TRAILERS,
    UnitRef,
    UnitRole,
    has_unclosed_bracket,
    join_lines,
    normalize_space,
    parse_units,
    render_units,
    split_trailing_clause,
)

__all__ = [
    "DocumentProblem",
    "InvalidDocument",
    "ParsedCategory",
    "ParsedDocument",
    "ParsedMeasure",
    "ParsedSection",
    "UnitRef",
    "UnitRole",
    "parse_document",
    "render_document",
]

_NUMERAL = "[一二三四五六七八九十]+"
_SECTION = re.compile(rf"^({_NUMERAL})\s*[、.．]\s*(.*)$")
_CATEGORY = re.compile(rf"^[(（]\s*({_NUMERAL})\s*[)）]\s*(.*)$")
_MEASURE = re.compile(r"^(\d+)\s*([.．、])\s*(.*)$")
_DATE = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$")
_ISSUER = re.compile(r"^[^\s,，。:：;；、]{2,40}(办公室|办公厅|委员会|人民政府|政府|局|委|办|厅|部|院|中心)$")
_TITLE = re.compile(r"(方案|计划|意见|措施|通知|办法|规划|细则)([(（][^()（）]*[)）])?$")
_SENTENCE_MARK = re.compile(r"[。,，:：;；!！?？]")
_MEASURES_INTRO = re.compile(r"具体措施(如下)?[:：]?$")
_HEADINGS: tuple[tuple[Literal["section", "category"], re.Pattern[str]], ...] = (
    ("section", _SECTION),
    ("category", _CATEGORY),
)
_DIGITS = "一二三四五六七八九"
_STRAY = "无法识别的行：上一条措施已以责任单位结尾，应为章节“一、…”、类别“(一)…”或措施“1.…”"
_MISSING_UNITS = "措施缺少责任单位，应以“(责任单位:…)”结尾"


@dataclass(frozen=True)
class ParsedMeasure:
    """A numbered measure; text is without its units clause."""

    number: int
    text: str
    units: tuple[UnitRef, ...]
    line: int = field(compare=False)


@dataclass(frozen=True)
class ParsedCategory:
    """A category heading such as (一)提升线上服务友好度。… and its measures."""

    ordinal: int
    title: str
    lead: str
    measures: tuple[ParsedMeasure, ...]
    line: int = field(compare=False)


@dataclass(frozen=True)
class ParsedSection:
    """A section heading such as 一、让企业办事更省心 and its categories."""

    ordinal: int
    title: str
    categories: tuple[ParsedCategory, ...]
    line: int = field(compare=False)


@dataclass(frozen=True)
class ParsedDocument:
    """A whole action plan: header parts and the section tree."""

    title: str
    issuers: tuple[str, ...]
    issued_on: datetime.date | None
    preamble: str
    sections: tuple[ParsedSection, ...]

    def measures(self) -> list[tuple[ParsedSection, ParsedCategory, ParsedMeasure]]:
        """List every measure with its section and category, in document order."""
        return [
            (section, category, measure)
            for section in self.sections
            for category in section.categories
            for measure in category.measures
        ]


@dataclass
class _Block:
    kind: Literal["section", "category", "measure"]
    line: int
    number: int
    parts: list[str]


@dataclass
class _Category:
    parsed: ParsedCategory
    units: tuple[UnitRef, ...] | None
    units_failed: bool
    measures: list[tuple[ParsedMeasure, bool]] = field(default_factory=list)


@dataclass
class _Section:
    ordinal: int
    title: str
    line: int
    categories: list[_Category] = field(default_factory=list)


class _Problems(list[DocumentProblem]):
    def add(self, line: int, message: str) -> None:
        self.append(DocumentProblem(line, message))


def _to_numeral(value: int) -> str:
    tens, ones = divmod(value, 10)
    tens_text = "" if tens < 2 else _DIGITS[tens - 1]
    return tens_text + ("十" if tens else "") + (_DIGITS[ones - 1] if ones else "")


_ORDINALS = {_to_numeral(value): value for value in range(1, 100)}


def _start_block(line: str, number: int, next_measure: int) -> _Block | None:
    for kind, pattern in _HEADINGS:
        match = pattern.match(line)
        ordinal = _ORDINALS.get(match[1]) if match else None
        if match and ordinal is not None:
            return _Block(kind, number, ordinal, [match[2]])
    match = _MEASURE.match(line)
    if match is None:
        return None
    # "3.5亿元" wrapped onto a line start is a decimal, unless 3 is the next measure ("3.5G…").
    if match[2] in ".．" and match[3][:1].isdigit() and int(match[1]) != next_measure:
        return None
    return _Block("measure", number, int(match[1]), [match[3]])


def _is_closed_measure(block: _Block) -> bool:
    return block.kind == "measure" and split_trailing_clause(join_lines(block.parts))[1] is not None


def _scan(text: str, problems: _Problems) -> tuple[list[tuple[int, str]], list[_Block]]:
    header: list[tuple[int, str]] = []
    blocks: list[_Block] = []
    last_measure = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.lstrip("\ufeff").strip()
        if not line:
            continue
        block = _start_block(line, number, last_measure + 1)
        if block is not None and block.kind == "measure":
            last_measure = block.number
        if block is not None:
            blocks.append(block)
        elif not blocks:
            header.append((number, line))
        elif _is_closed_measure(blocks[-1]) and line.strip(CLAUSE_TRAILERS):
            problems.add(number, _STRAY)
        else:
            blocks[-1].parts.append(line)
    return header, blocks


def _date(match: re.Match[str], line: int, problems: _Problems) -> datetime.date | None:
    try:
        return datetime.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        problems.add(line, f"日期“{match[0]}”无效，应为“2021年3月5日”这样的日期")
        return None


def _parse_header(
    header: list[tuple[int, str]], problems: _Problems
) -> tuple[str, tuple[str, ...], datetime.date | None, str]:
    issuers: list[str] = []
    texts: list[str] = []
    issued_on: datetime.date | None = None
    for number, line in header:
        text = normalize_space(line)
        date_match = _DATE.match(text)
        if date_match:
            issued_on = issued_on or _date(date_match, number, problems)
        elif all(_ISSUER.match(body) for body in line.split()):
            issuers += [normalize_space(body) for body in line.split()]
        else:
            texts.append(text)
    titles = [i for i, text in enumerate(texts) if _TITLE.search(text)]
    titles = [i for i in titles if not _SENTENCE_MARK.search(texts[i])]
    if not titles:
        return "", tuple(issuers), issued_on, join_lines(texts)
    return texts[titles[-1]], tuple(issuers), issued_on, join_lines(texts[titles[-1] + 1 :])


def _units(content: str, line: int, problems: _Problems) -> tuple[UnitRef, ...] | None:
    try:
        return parse_units(content)
    except ValueError as error:
        problems.add(line, str(error))
        return None


def _split_units(block: _Block, problems: _Problems) -> tuple[str, tuple[UnitRef, ...] | None, bool]:
    """Cut the trailing units clause off a block: (rest, units, whether a problem was found)."""
    text = join_lines(block.parts)
    failed = has_unclosed_bracket(text)
    if failed:
        problems.add(block.line, "括号未闭合，应以“)”结束")
    if block.kind == "category":
        text = _MEASURES_INTRO.sub("", text)
    rest, clause = split_trailing_clause(text)
    if clause is None:
        return text, None, failed
    units = _units(clause, block.line, problems)
    if split_trailing_clause(rest)[1] is not None:
        problems.add(block.line, "重复的责任单位：只应在末尾写一个“(责任单位:…)”")
    return rest, units, failed or units is None


def _measure(block: _Block, problems: _Problems) -> tuple[ParsedMeasure, bool]:
    text, units, failed = _split_units(block, problems)
    if not text:
        problems.add(block.line, f"措施{block.number}内容为空，应为“{block.number}.措施内容(责任单位:…)”")
    return ParsedMeasure(block.number, text, units or (), block.line), failed or units is not None


def _category(block: _Block, problems: _Problems) -> _Category:
    text, units, failed = _split_units(block, problems)
    title, _, lead = _MEASURES_INTRO.sub("", text).partition("。")
    if not title:
        problems.add(block.line, "类别标题为空，应为“(一)标题。说明”")
    return _Category(ParsedCategory(block.number, title, lead, (), block.line), units, failed)


def _section(block: _Block, problems: _Problems) -> _Section:
    title = join_lines(block.parts)
    if not title or "。" in title:
        problems.add(block.line, "章节标题应为“一、标题”，正文段落应放在类别“(一)…”之下")
    return _Section(block.number, title, block.line)


def _check_order(block: _Block, last: dict[str, int], restart: bool, problems: _Problems) -> None:
    """Report a number that does not follow the previous one (categories may restart at 1)."""
    expected = last[block.kind] + 1
    last[block.kind] = block.number
    if block.number == expected or (restart and block.number == 1):
        return
    if block.kind == "measure":
        wanted, got = f"{expected}", f"{block.number}"
    else:
        wanted, got = _to_numeral(expected), _to_numeral(block.number)
    name = {"section": "章节", "category": "类别", "measure": "措施"}[block.kind]
    problems.add(block.line, f"{name}编号应为“{wanted}”，实际为“{got}”（重复或缺号）")


def _assemble(blocks: list[_Block], problems: _Problems) -> list[_Section]:
    sections: list[_Section] = []
    last = {"section": 0, "category": 0, "measure": 0}
    for block in blocks:
        new_section = bool(sections) and not sections[-1].categories
        _check_order(block, last, block.kind == "category" and new_section, problems)
        if block.kind == "section":
            sections.append(_section(block, problems))
        elif block.kind == "category":
            category = _category(block, problems)
            if sections:
                sections[-1].categories.append(category)
            else:
                problems.add(block.line, "类别出现在章节之前，应先有章节标题“一、…”")
        elif sections and sections[-1].categories:
            sections[-1].categories[-1].measures.append(_measure(block, problems))
        else:
            _measure(block, problems)
            problems.add(block.line, "措施出现在类别之前，应先有类别标题“(一)…”")
    return sections


def _finish_category(category: _Category, problems: _Problems) -> ParsedCategory:
    measures = []
    for measure, settled in category.measures:
        if not settled and category.units is None and not category.units_failed:
            problems.add(measure.line, _MISSING_UNITS)
        elif not settled and category.units is not None:
            measure = ParsedMeasure(measure.number, measure.text, category.units, measure.line)
        measures.append(measure)
    parsed = category.parsed
    return ParsedCategory(parsed.ordinal, parsed.title, parsed.lead, tuple(measures), parsed.line)


def parse_document(text: str) -> ParsedDocument:
    """Parse an action plan's text; raise InvalidDocument listing every problem found."""
    problems = _Problems()
    header, blocks = _scan(text, problems)
    title, issuers, issued_on, preamble = _parse_header(header, problems)
    drafts = _assemble(blocks, problems)
    sections = tuple(
        ParsedSection(
            draft.ordinal,
            draft.title,
            tuple(_finish_category(category, problems) for category in draft.categories),
            draft.line,
        )
        for draft in drafts
    )
    document = ParsedDocument(title, issuers, issued_on, preamble, sections)
    if not any(block.kind == "measure" for block in blocks):
        problems.add(1, "文档中没有编号措施，应有“1.措施内容(责任单位:…)”这样的行")
    if problems:
        raise InvalidDocument(sorted(problems, key=lambda problem: problem.line))
    return document


def render_document(doc: ParsedDocument) -> str:
    """Write a document as canonical text that parses back to an equal document."""
    lines = list(doc.issuers)
    if doc.issued_on is not None:
        day = doc.issued_on
        lines.append(f"{day.year}年{day.month}月{day.day}日")
    lines += [part for part in (doc.title, doc.preamble) if part]
    for section in doc.sections:
        lines.append(f"{_to_numeral(section.ordinal)}、{section.title}")
        for category in section.categories:
            lines.append(f"({_to_numeral(category.ordinal)}){category.title}。{category.lead}具体措施:")
            lines += [
                f"{measure.number}.{measure.text}{render_units(measure.units)}"
                for measure in category.measures
            ]
    return "\n".join(lines) + "\n"
