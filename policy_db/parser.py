"""Parse a Chinese policy document (行动方案, 实施意见, 办法…) into sections, categories and measures.

Pure text in, frozen dataclasses out; no database. The rules, line by line (blank lines
are skipped, every line is stripped of whitespace, full-width spaces included):

Shapes (``ParsedDocument.shape``, labels in ``SHAPE_LABELS``):

* ``sections-categories-measures`` (章节→类别→措施): ``一、标题`` (一…九十九, then 、 . or ．)
  starts a section; ``(一)``/``（一）`` a category; ``12.`` ``12．`` ``12、`` a measure.
* ``sections-measures`` (章节→措施): the same without any category line; the measures of a
  section hang on an *implicit* category (ordinal = the section's ordinal, empty title and
  lead; ``ParsedCategory.implicit``). A document has categories everywhere or nowhere: once
  some category line exists, a measure directly under a section is a problem.
* ``nested`` (多级编号): either of the above where some measure holds sub-points: a line
  starting ``(1)``/``（1）`` continues the measure when its number is the next due within
  that measure (1, 2, 3…); sub-points are text, never measures. A units clause may close
  the measure's first line (before its ``(1)``) or its last sub-point, not a sub-point in
  between.
* ``articles`` (第X条): when some line before any closing table starts with ``第一条`` or
  ``第一章`` (or 第1条), only ``第X章 标题`` (a section) and ``第X条 正文`` (a measure numbered
  X) start blocks; every other line, ``(一)``/``1.``/``一、`` items included, continues the
  article (a line starting ``第三条…`` always starts article 3). Articles with
  no chapter at all go into one implicit section (ordinal 1, empty title); with chapters,
  every article must be in one. ``第X节`` is not supported (a problem). Trailing articles
  without a units clause whose sentences are all closing sentences (see validity) are the
  closing provisions, not measures.

Numbering: sections (chapters) 一, 二, … in order; categories continue across sections or
restart at (一) in a new section; measures (articles) 1, 2, 3, … across the whole document.
Article and chapter numbers may be Chinese (up to 九百九十九) or Arabic.

* ``3.5亿`` at a line start (a digit after the dot) continues the line above when 3 is not
  the next measure number, or when a later line starts measure 3. Otherwise it is measure 3
  ("5亿…") — unless the measure above ends mid-sentence (no 。；！？ and no units clause):
  then it is ambiguous and reported.
* Header: the lines before the first block. ``2021年3月5日`` (or 二〇二一年三月五日) gives
  ``issued_on``; a line of bodies ending in 办公室/委员会/人民政府/局/委… (several may
  share a line, split by spaces) gives ``issuers``; a line that is a 文号 such as
  ``普府办〔2021〕12号`` (brackets 〔〕 [] ［］ () （） 【】, normalised to 〔〕; optional
  ``文号:`` label) gives ``document_number``; the title is the last remaining line ending in
  方案/计划/意见/措施/通知/办法/规划/细则/条例/规定/规则/指引 (optionally + a bracketed
  year) with no sentence punctuation; the remaining lines after it, joined, are the preamble.
  Lines before the title (addressees, cover letter) are dropped. Without a title every
  remaining line is preamble. Every header part may be missing.
* Wrapped lines: any other line continues the heading or measure above it and is joined
  to it — except after a measure that already ends with its units clause, where the line
  is reported as stray (unless it holds only the 。 closing that clause, or is a due
  sub-point, or starts the ending below). Whitespace is then dropped, except one space
  between two ASCII letters/digits ("Open Data").
* Ending: in a measure (article), after a line that completes a sentence (ends in 。！？；,
  outside any open bracket) or a units clause, these lines start the ending, which runs to
  the end of the text (a numbered line inside it is a problem):
  - a closing paragraph: a line starting ``本…方案/办法/措施/意见/计划/细则/规定/条例/
    政策/通知`` + 自/由/有效期/施行…, or ``自…起施行``, ``有效期…``, ``此前…``; its
    following lines continue it (a date or issuer line only counts as one after a line that
    completes a sentence). Each of its sentences (split at 。；！？) must start like one
    (本…方案/办法…, 自…起, 有效期, 此前, 以前, 原) and be a validity sentence (below) or name
    解释/为准/废止/失效; anything else is a problem;
  - a date line: ``issued_on`` when the header has none (a different header date is a
    problem);
  - a line of issuing bodies (no brackets): added to ``issuers`` after the header's;
  - a closing table (below), which may also start without a completed sentence.
* Validity (``effective_on``, ``expires_on``), read in the ending (the closing paragraph or
  closing articles) and in the header's clauses (split at 。；，) that start like a closing
  sentence, so a cited text's "《条例》自…起施行" is not this document's:
  ``自2022年1月1日起施行`` (实施/执行/试行/生效) or ``自…起至2024年12月31日止``;
  ``自印发之日起施行`` (发布/公布/颁布/签发) = ``issued_on``; ``有效期至2024年12月31日``;
  ``有效期3年``/``有效期为两年`` = effective + N years − 1 day.
  Two different values for one date are a problem; a date that cannot be worked out
  (N years without an effective date) stays None.
* Units (see ``parser_units``): a measure's units are its trailing bracketed clause naming
  责任单位/牵头/配合 — ``(责任单位:X、Y)``, ``(X牵头,Y、Z配合)``, ``(牵头单位:X;配合单位:Y、Z)``,
  any bracket and punctuation width; inner brackets are text. A measure without its own
  clause takes, in this order, its category's units, its section's units, or its row of the
  closing table. Category/section units: the heading — after joining its wrapped lines, so
  including a units line placed directly under it — ends with a units clause (before or
  after 具体措施:). A units line placed after a measure belongs to that measure. Headings do
  not keep their units. A measure with no units from any of these is a problem.
* Closing table: a line ``附件：责任分工``/``附件1:…分工表``, a title line naming 分工 (or
  分解) and ending in 表 (责任单位分工表, 任务分工一览表), or a line ``附件`` followed by such
  a title — after any line — then one row per line:
  ``<refs> <units>`` where refs are measure (article) numbers ``12``, ranges ``1-3``
  (- — ~ 至 到), lists ``1、3、5``, each optionally written ``第12条`` / ``第十二条`` /
  ``第1-3条``; the units are a clause content or names (see ``parse_table_units``; tabs or
  spaces separate). An optional first row ``序号 牵头单位 配合单位`` gives column roles. A
  row naming a measure that is missing, already named, or has units of its own or from its
  heading is a problem; date and issuer lines may follow the table.
* Heading text: category title is the text before the first 。, lead the rest, minus a
  trailing 具体措施: or 具体措施如下: (also dropped from section titles). A section (chapter)
  title must not hold a 。 (a paragraph) and must not be empty.

``parse_document`` collects every problem before raising ``InvalidDocument``: nothing is
parsed from a text with a problem. The ``line`` of sections, categories and measures
(1-based, where each starts) is left out of equality, so a document equals its re-parsed
canonical rendering (``render_document``), whatever its shape.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from typing import Literal, get_args

from policy_db.errors import DocumentProblem, InvalidDocument
from policy_db.parser_units import (
    CLAUSE_TRAILERS,
    UnitRef,
    UnitRole,
    has_unclosed_bracket,
    join_lines,
    normalize_space,
    parse_table_units,
    parse_units,
    render_units,
    split_trailing_clause,
    table_columns,
)

__all__ = [
    "SHAPES",
    "SHAPE_LABELS",
    "DocumentProblem",
    "InvalidDocument",
    "ParsedCategory",
    "ParsedDocument",
    "ParsedMeasure",
    "ParsedSection",
    "Shape",
    "UnitRef",
    "UnitRole",
    "parse_document",
    "render_document",
    "shape_label",
]

Shape = Literal["sections-categories-measures", "sections-measures", "articles", "nested"]
SHAPES: tuple[Shape, ...] = get_args(Shape)
SHAPE_LABELS: dict[Shape, str] = {
    "sections-categories-measures": "章节→类别→措施",
    "sections-measures": "章节→措施",
    "articles": "第X条",
    "nested": "多级编号",
}


def shape_label(shape: str) -> str:
    """The Chinese label of a document shape, for the import preview."""
    for known, label in SHAPE_LABELS.items():
        if known == shape:
            return label
    return shape


_NUMERAL = "[一二三四五六七八九十]+"
_BIG_NUMERAL = r"(?:[一二三四五六七八九十百零〇两]+|\d+)"
_SECTION = re.compile(rf"^({_NUMERAL})\s*[、.．]\s*(.*)$")
_CATEGORY = re.compile(rf"^[(（]\s*({_NUMERAL})\s*[)）]\s*(.*)$")
_MEASURE = re.compile(r"^(\d+)\s*([.．、])\s*(.*)$")
_SUBPOINT = re.compile(r"^[(（]\s*(\d{1,2})\s*[)）]")
_INLINE_SUBPOINT = re.compile(r"[(（](\d{1,2})[)）]")
_CHAPTER = re.compile(rf"^第\s*({_BIG_NUMERAL})\s*章\s*(.*)$")
_ARTICLE = re.compile(rf"^第\s*({_BIG_NUMERAL})\s*条\s*(.*)$")
_PART = re.compile(rf"^第\s*{_BIG_NUMERAL}\s*节")
_ARTICLES_MARK = re.compile(r"^第\s*(?:一|1)\s*[条章]")
_DATE = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$")
_CN_DAY_PART = "([一二三四五六七八九十]{1,3})"
_CN_DATE = re.compile(rf"^([〇零一二三四五六七八九]{{4}})年{_CN_DAY_PART}月{_CN_DAY_PART}日$")
_ISSUER = re.compile(  # no punctuation or brackets: "(区府办" is a wrapped units clause
    r"^[^\s,，。:：;；、()（）〔〕\[\]【】]{2,40}(办公室|办公厅|委员会|人民政府|政府|局|委|办|厅|部|院|中心)$"
)
_TITLE = re.compile(r"(方案|计划|意见|措施|通知|办法|规划|细则|条例|规定|规则|指引)([(（][^()（）]*[)）])?$")
_SENTENCE_MARK = re.compile(r"[。,，:：;；!！?？]")
_MEASURES_INTRO = re.compile(r"具体措施(如下)?[:：]?$")
_DOCUMENT_NUMBER = re.compile(
    r"^(?:文号[:：])?([\u4e00-\u9fff]{1,12}?)[〔\[［(（【](\d{4})[〕\]］)）】](\d{1,4})号$"
)
_HEADINGS: tuple[tuple[Literal["section", "category"], re.Pattern[str]], ...] = (
    ("section", _SECTION),
    ("category", _CATEGORY),
)
_SENTENCE_END = "。！？!?；;"
_DIGITS = "一二三四五六七八九"

# The ending: closing paragraph, validity sentences, closing table.
_DOC_KIND = r"本[^，,。；;：:]{0,12}?(?:方案|办法|措施|意见|计划|细则|规定|条例|政策|通知|规则)"
_CLOSING_START = re.compile(
    rf"^(?:{_DOC_KIND}(?:自|由|有效期|施行|实施|执行|试行|的解释|解释|与)"
    r"|自[^。；;]*?起(?:施行|实施|执行|试行|生效|至)|有效期|此前|以前)"
)
_DAY = r"(\d{4})年(\d{1,2})月(\d{1,2})日"
_EFFECTIVE = re.compile(rf"自(?:{_DAY}|(印发|发布|公布|颁布|签发)之日)起(?:施行|实施|执行|试行|生效|至)")
_UNTIL = re.compile(rf"(?:有效期限?(?:为|是)?(?:至|到)|起至|(?:施行|实施|执行)至){_DAY}")
_YEARS = re.compile(r"有效期限?(?:为|是)?(\d{1,2}|[一二两三四五六七八九十])年")
_CLOSING_SENTENCE = re.compile(rf"^(?:{_DOC_KIND}|自[^。；;]*?起|有效期|此前|以前|原)")
_VALIDITY_WORDS = re.compile(r"施行|实施|执行|试行|生效|有效期")
_OTHER_CLOSING_WORDS = re.compile(r"解释|为准|废止|失效")
_SENTENCES = re.compile(r"[^。；;！!？?]+")
_CLAUSES = re.compile(r"[^。；;！!？?，,]+")
_ATTACHMENT = re.compile(r"^附件\s*[0-9０-９一二三四五六七八九十]*\s*[:：]?\s*(.*)$")
_TABLE_TITLE = re.compile(r"^[^。，,；;：:]*(?:分工|分解)[^。，,；;：:]{0,6}$")
_REF_NUMBER = r"(?:\d+|[一二三四五六七八九十百零〇两]+)"
_REF = rf"第?\s*{_REF_NUMBER}\s*条?(?:\s*[-—–~～至到]\s*第?\s*{_REF_NUMBER}\s*条?)?"
_TABLE_ROW = re.compile(rf"^({_REF}(?:\s*[、,，]\s*{_REF})*)\s*[:：]?\s*(.*)$")
_REF_PARTS = re.compile(rf"^(第?)({_REF_NUMBER})(条?)(?:[-—–~～至到](第?)({_REF_NUMBER})(条?))?$")

_STRAY = "无法识别的行：上一条措施已以责任单位结尾，应为章节“一、…”、类别“(一)…”或措施“1.…”"
_MISSING_UNITS = "措施缺少责任单位，应以“(责任单位:…)”结尾"
_AFTER_ENDING = "结尾（施行日期、落款或分工表）之后不应再有章节、类别或措施"
_STRAY_ENDING = "无法识别的结尾行：结尾只能是“本方案自…起施行”等结尾段落、落款单位、日期或“附件：责任分工”表"
_CLOSING_HELP = "措施应编号；结尾只写“本方案自…起施行”、有效期、“由…负责解释”或“以本方案为准”"
_VALIDITY_HELP = "应写作“自2022年1月1日起施行”“自印发之日起施行”“有效期至2024年12月31日”或“有效期3年”"


@dataclass(frozen=True)
class ParsedMeasure:
    """A numbered measure (or article); text is without its units clause."""

    number: int
    text: str
    units: tuple[UnitRef, ...]
    line: int = field(compare=False)


@dataclass(frozen=True)
class ParsedCategory:
    """A category heading such as (一)提升线上服务友好度。… and its measures.

    A category with an empty title is implicit: the document has no category lines and its
    section's measures hang on it (ordinal = the section's ordinal); it renders without a heading.
    """

    ordinal: int
    title: str
    lead: str
    measures: tuple[ParsedMeasure, ...]
    line: int = field(compare=False)

    @property
    def implicit(self) -> bool:
        """True for the stand-in category of a section (or chapter) without category lines."""
        return not self.title


@dataclass(frozen=True)
class ParsedSection:
    """A section heading such as 一、让企业办事更省心 (or a chapter 第一章 总则) and its categories.

    A section with an empty title is implicit: the articles of a regulation without chapters.
    """

    ordinal: int
    title: str
    categories: tuple[ParsedCategory, ...]
    line: int = field(compare=False)

    @property
    def implicit(self) -> bool:
        """True for the one stand-in section of articles written without chapters."""
        return not self.title


@dataclass(frozen=True)
class ParsedDocument:
    """A whole policy document: header parts, the section tree, its shape and validity."""

    title: str
    issuers: tuple[str, ...]
    issued_on: datetime.date | None
    preamble: str
    sections: tuple[ParsedSection, ...]
    shape: Shape = "sections-categories-measures"
    document_number: str = ""  # 文号, e.g. 普府办〔2021〕12号
    effective_on: datetime.date | None = None
    expires_on: datetime.date | None = None  # the last day it applies

    def measures(self) -> list[tuple[ParsedSection, ParsedCategory, ParsedMeasure]]:
        """List every measure with its section and category, in document order."""
        return [
            (section, category, measure)
            for section in self.sections
            for category in section.categories
            for measure in category.measures
        ]


# --- numerals ---------------------------------------------------------------------------


def _to_numeral(value: int) -> str:
    if value >= 100:  # 一百, 一百零五, 一百一十, 一百二十三
        hundreds, rest = divmod(value, 100)
        text = _DIGITS[hundreds - 1] + "百"
        if rest == 0:
            return text
        if rest < 10:
            return text + "零" + _DIGITS[rest - 1]
        tens, ones = divmod(rest, 10)
        return text + _DIGITS[tens - 1] + "十" + (_DIGITS[ones - 1] if ones else "")
    tens, ones = divmod(value, 10)
    tens_text = "" if tens < 2 else _DIGITS[tens - 1]
    return tens_text + ("十" if tens else "") + (_DIGITS[ones - 1] if ones else "")


_ORDINALS = {_to_numeral(value): value for value in range(1, 1000)}


def _number(text: str) -> int | None:
    """An Arabic or Chinese number (一…九百九十九, 两/〇 accepted), else None."""
    if text.isdigit():
        return int(text)
    return _ORDINALS.get(text.replace("〇", "零").replace("两", "二"))


# --- scanning: lines into header, blocks and ending ---------------------------------------


@dataclass
class _Block:
    kind: Literal["section", "category", "measure"]
    line: int
    number: int
    parts: list[str]
    subs: list[tuple[int, int]] = field(default_factory=list)  # (part index, line) of each (k)


@dataclass
class _Paragraph:
    line: int
    parts: list[str]


class _Problems(list[DocumentProblem]):
    def add(self, line: int, message: str) -> None:
        self.append(DocumentProblem(line, message))


def _is_closed_measure(block: _Block) -> bool:
    return block.kind == "measure" and split_trailing_clause(join_lines(block.parts))[1] is not None


def _is_issuer_line(line: str) -> bool:
    return all(_ISSUER.match(body) for body in line.split())


def _date_line(text: str) -> re.Match[str] | None:
    return _DATE.match(text) or _CN_DATE.match(text)


def _table_heading(line: str) -> Literal["table", "intro"] | None:
    text = normalize_space(line)
    attachment = _ATTACHMENT.match(text)
    if attachment:
        if not attachment[1]:
            return "intro"
        return "table" if _TABLE_TITLE.match(attachment[1]) else None
    return "table" if _TABLE_TITLE.match(text) and text.endswith("表") else None


@dataclass
class _Scan:
    header: list[tuple[int, str]] = field(default_factory=list)
    blocks: list[_Block] = field(default_factory=list)
    paragraphs: list[_Paragraph] = field(default_factory=list)
    dates: list[tuple[int, str]] = field(default_factory=list)
    issuers: list[str] = field(default_factory=list)
    rows: list[tuple[int, str]] = field(default_factory=list)


class _Scanner:
    """One pass over the lines: body, then the ending (closing paragraph, signature, table)."""

    def __init__(self, lines: list[tuple[int, str]], articles: bool, problems: _Problems) -> None:
        self.lines = lines
        self.articles = articles
        self.problems = problems
        self.scan = _Scan()
        self.state: Literal["body", "ending", "table"] = "body"
        self.prev = ""
        self.last_measure = 0
        self.paragraph_open = False
        self.awaiting_table_title = False
        self.plain_measures: dict[int, int] = {}  # measure number -> last line starting it plainly
        if not articles:
            for number, line in lines:
                if _table_heading(line) is not None:
                    break  # rows such as "3、区科委" are no measures
                match = _MEASURE.match(line)
                if match and not (match[2] in ".．" and match[3][:1].isdigit()):
                    self.plain_measures[int(match[1])] = number

    def run(self) -> _Scan:
        for number, line in self.lines:
            if self.state == "table":
                self._table(number, line)
            elif self.state == "ending":
                self._ending(number, line)
            else:
                self._body(number, line)
            self.prev = line
        return self.scan

    def _complete(self, block: _Block) -> bool:
        """Whether the text so far ends a sentence (outside brackets) or a units clause."""
        if _is_closed_measure(block):
            return True
        return self.prev[-1:] in _SENTENCE_END and not has_unclosed_bracket(join_lines(block.parts))

    def _start(self, number: int, line: str) -> _Block | None:
        if self.articles:
            return self._start_article(number, line)
        for kind, pattern in _HEADINGS:
            match = pattern.match(line)
            ordinal = _ORDINALS.get(match[1]) if match else None
            if match and ordinal is not None:
                return _Block(kind, number, ordinal, [match[2]])
        match = _MEASURE.match(line)
        if match is None:
            return None
        value = int(match[1])
        if match[2] in ".．" and match[3][:1].isdigit():  # "3.5亿元": a decimal or measure 3?
            if value != self.last_measure + 1 or self.plain_measures.get(value, 0) > number:
                return None
            last = self.scan.blocks[-1] if self.scan.blocks else None
            if last is not None and last.kind == "measure" and not self._complete(last):
                self.problems.add(
                    number,
                    f"无法判断“{line[:12]}”是措施{value}还是上一行中的小数："
                    "上一条措施应以句号或责任单位结束，小数不应在行首折行",
                )
                return None
        self.last_measure = value
        return _Block("measure", number, value, [match[3]])

    def _start_article(self, number: int, line: str) -> _Block | None:
        chapter, article = _CHAPTER.match(line), _ARTICLE.match(line)
        if chapter and (value := _number(chapter[1])) is not None:
            return _Block("section", number, value, [chapter[2]])
        if article and (value := _number(article[1])) is not None:
            return _Block("measure", number, value, [article[2]])
        if _PART.match(line):
            self.problems.add(number, "不支持“第X节”：请删去节标题，或把各节改为章“第X章”")
        return None

    def _looks_like_block(self, line: str) -> bool:
        if self.articles:
            return bool(_CHAPTER.match(line) or _ARTICLE.match(line))
        return bool(_SECTION.match(line) or _CATEGORY.match(line) or _MEASURE.match(line))

    def _body(self, number: int, line: str) -> None:
        block = self._start(number, line)
        if block is not None:
            self.scan.blocks.append(block)
            return
        if not self.scan.blocks:
            self.scan.header.append((number, line))
            return
        last = self.scan.blocks[-1]
        heading = _table_heading(line)
        if heading is not None:
            self._enter_table(heading)
        elif last.kind == "measure" and self._subpoint(number, line, last):
            pass
        elif last.kind == "measure" and self._complete(last) and self._ending_line(number, line):
            self.state = "ending"
        elif _is_closed_measure(last) and line.strip(CLAUSE_TRAILERS):
            self.problems.add(number, _STRAY)
        else:
            last.parts.append(line)

    def _subpoint(self, number: int, line: str, block: _Block) -> bool:
        match = _SUBPOINT.match(line)
        if self.articles or match is None or int(match[1]) != len(block.subs) + 1:
            return False
        block.subs.append((len(block.parts), number))
        block.parts.append(line)
        return True

    def _ending_line(self, number: int, line: str) -> bool:
        """Take a date, issuer or closing-paragraph line of the ending; False if it is none."""
        text = normalize_space(line)
        if _date_line(text):
            self.scan.dates.append((number, text))
            self.paragraph_open = False
        elif _CLOSING_START.match(text):  # before issuers: "本方案由区发展改革委" is no signature
            self.scan.paragraphs.append(_Paragraph(number, [line]))
            self.paragraph_open = True
        elif _is_issuer_line(line):
            self.scan.issuers += [normalize_space(body) for body in line.split()]
            self.paragraph_open = False
        else:
            return False
        return True

    def _ending(self, number: int, line: str) -> None:
        heading = _table_heading(line)
        if heading is not None:
            self._enter_table(heading)
        elif self._looks_like_block(line):
            self.problems.add(number, _AFTER_ENDING)
        elif self.paragraph_open and self.prev[-1:] not in _SENTENCE_END:
            self.scan.paragraphs[-1].parts.append(line)  # a closing sentence wrapped mid-way
        elif self._ending_line(number, line):
            pass
        elif self.paragraph_open:
            self.scan.paragraphs[-1].parts.append(line)
        else:
            self.problems.add(number, _STRAY_ENDING)

    def _enter_table(self, heading: Literal["table", "intro"]) -> None:
        self.state = "table"
        self.awaiting_table_title = heading == "intro"

    def _table(self, number: int, line: str) -> None:
        text = normalize_space(line)
        if self.awaiting_table_title:
            self.awaiting_table_title = False
            if not _TABLE_TITLE.match(text):
                self.problems.add(number, "附件只能是责任分工表，标题应含“分工”，如“重点任务责任分工表”")
        elif _date_line(text):
            self.scan.dates.append((number, text))
        elif _is_issuer_line(line):
            self.scan.issuers += [normalize_space(body) for body in line.split()]
        else:
            self.scan.rows.append((number, line))


# --- header, dates and validity -------------------------------------------------------------


def _date(match: re.Match[str], line: int, problems: _Problems) -> datetime.date | None:
    """The date of a match whose groups 1-3 are year, month and day (Arabic or Chinese)."""
    year_text = match[1].replace("零", "〇")
    if year_text.isdigit():
        year = int(year_text)
    else:  # 二〇二一: digit by digit
        year = int("".join(str("〇一二三四五六七八九".index(char)) for char in year_text))
    month, day = _number(match[2]), _number(match[3])
    try:
        return datetime.date(year, month or 0, day or 0)
    except ValueError:
        problems.add(line, f"日期“{match[1]}年{match[2]}月{match[3]}日”无效，应为“2021年3月5日”这样的日期")
        return None


def _day_text(day: datetime.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


@dataclass
class _Fact:
    """One statement of validity: an effective date (or 'the issue date') or an expiry."""

    line: int
    kind: Literal["effective", "expires"]
    date: datetime.date | None = None
    issued: bool = False
    years: int | None = None


def _validity_facts(text: str, line: int, problems: _Problems) -> list[_Fact]:
    facts: list[_Fact] = []
    for match in _EFFECTIVE.finditer(text):
        if match[4]:
            facts.append(_Fact(line, "effective", issued=True))
        else:
            facts.append(_Fact(line, "effective", _date(match, line, problems)))
    for match in _UNTIL.finditer(text):
        facts.append(_Fact(line, "expires", _date(match, line, problems)))
    for match in _YEARS.finditer(text):
        years = 2 if match[1] == "两" else _number(match[1])
        facts.append(_Fact(line, "expires", years=years))
    return facts  # a fact whose date is invalid (already reported) has date None


def _closing_facts(text: str, line: int, problems: _Problems) -> list[_Fact]:
    """Facts of a closing paragraph or article; a sentence that is not a closing one is a problem."""
    facts: list[_Fact] = []
    for sentence in _SENTENCES.findall(text):
        if not _CLOSING_SENTENCE.match(sentence):
            problems.add(line, f"结尾段落中无法识别的句子“{sentence}”：{_CLOSING_HELP}")
            continue
        found = _validity_facts(sentence, line, problems)
        facts += found
        if not found and not _OTHER_CLOSING_WORDS.search(sentence):
            if _VALIDITY_WORDS.search(sentence):
                problems.add(line, f"无法识别施行日期或有效期“{sentence}”：{_VALIDITY_HELP}")
            else:
                problems.add(line, f"结尾段落中无法识别的句子“{sentence}”：{_CLOSING_HELP}")
    return facts


@dataclass
class _Header:
    title: str = ""
    issuers: list[str] = field(default_factory=list)
    issued_on: datetime.date | None = None
    preamble: str = ""
    document_number: str = ""
    facts: list[_Fact] = field(default_factory=list)


def _parse_header(header: list[tuple[int, str]], problems: _Problems) -> _Header:
    result = _Header()
    texts: list[str] = []
    for number, line in header:
        text = normalize_space(line)
        date_match = _date_line(text)
        doc_number = _DOCUMENT_NUMBER.match(text)
        if date_match:
            result.issued_on = result.issued_on or _date(date_match, number, problems)
        elif doc_number:
            normalised = f"{doc_number[1]}〔{doc_number[2]}〕{doc_number[3]}号"
            result.document_number = result.document_number or normalised
        elif _is_issuer_line(line):
            result.issuers += [normalize_space(body) for body in line.split()]
        else:
            texts.append(text)
    for clause in _CLAUSES.findall(join_lines(texts)):  # not "《条例》自…起施行": another text's date
        if _CLOSING_SENTENCE.match(clause):
            result.facts += _validity_facts(clause, header[0][0], problems)
    titles = [i for i, text in enumerate(texts) if _TITLE.search(text)]
    titles = [i for i in titles if not _SENTENCE_MARK.search(texts[i])]
    if not titles:
        result.preamble = join_lines(texts)
    else:
        result.title, result.preamble = texts[titles[-1]], join_lines(texts[titles[-1] + 1 :])
    return result


def _add_years(day: datetime.date, years: int) -> datetime.date:
    """The last day of a validity of `years` years starting on `day`."""
    try:
        end = day.replace(year=day.year + years)
    except ValueError:  # 29 February
        end = datetime.date(day.year + years, 3, 1)
    return end - datetime.timedelta(days=1)


def _resolve_validity(
    facts: list[_Fact], issued_on: datetime.date | None, problems: _Problems
) -> tuple[datetime.date | None, datetime.date | None]:
    effective: datetime.date | None = None
    for fact in facts:
        if fact.kind != "effective":
            continue
        value = issued_on if fact.issued else fact.date
        if value is not None and effective is not None and value != effective:
            problems.add(fact.line, f"施行日期不一致：{_day_text(effective)}与{_day_text(value)}")
        effective = effective or value
    expires: datetime.date | None = None
    for fact in facts:
        if fact.kind != "expires":
            continue
        value = fact.date
        if fact.years is not None:
            value = _add_years(effective, fact.years) if effective is not None else None
        if value is not None and expires is not None and value != expires:
            problems.add(fact.line, f"有效期不一致：至{_day_text(expires)}与至{_day_text(value)}")
        expires = expires or value
    if effective is not None and expires is not None and expires < effective:
        problems.add(facts[-1].line, f"有效期截止日{_day_text(expires)}早于施行日期{_day_text(effective)}")
    return effective, expires


# --- assembling blocks into the section tree ----------------------------------------------


@dataclass
class _Measure:
    parsed: ParsedMeasure
    own: bool  # it has a units clause of its own (or a malformed one, already reported)
    subpoints: bool


@dataclass
class _Category:
    parsed: ParsedCategory
    units: tuple[UnitRef, ...] | None
    units_failed: bool
    measures: list[_Measure] = field(default_factory=list)


@dataclass
class _Section:
    ordinal: int
    title: str
    line: int
    units: tuple[UnitRef, ...] | None
    units_failed: bool
    categories: list[_Category] = field(default_factory=list)


Mode = Literal["categories", "measures", "articles"]


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
    if block.kind != "measure":
        text = _MEASURES_INTRO.sub("", text)
    rest, clause = split_trailing_clause(text)
    if block.subs:
        rest, clause, failed = _subpoint_units(block, rest, clause, failed, problems)
    if clause is None:
        return text, None, failed
    units = _units(clause, block.line, problems)
    if split_trailing_clause(rest)[1] is not None:
        problems.add(block.line, "重复的责任单位：只应在末尾写一个“(责任单位:…)”")
    return rest, units, failed or units is None


def _subpoint_units(
    block: _Block, rest: str, clause: str | None, failed: bool, problems: _Problems
) -> tuple[str, str | None, bool]:
    """A measure with (1)… sub-points: its clause may also close the line before its (1)."""
    starts = [index for index, _ in block.subs]
    for (start, line), end in zip(block.subs, [*starts[1:], len(block.parts)], strict=True):
        if end < len(block.parts) and split_trailing_clause(join_lines(block.parts[start:end]))[1]:
            problems.add(line, "分项不应带责任单位：(1)(2)…是措施的一部分，责任单位应写在整条措施的末尾")
            failed = True
    head_rest, head_clause = split_trailing_clause(join_lines(block.parts[: starts[0]]))
    if head_clause is None:
        return rest, clause, failed
    if clause is not None:
        problems.add(block.line, "重复的责任单位：只应在末尾写一个“(责任单位:…)”")
        return rest, clause, True
    return join_lines([head_rest, *block.parts[starts[0] :]]), head_clause, failed


def _measure(block: _Block, problems: _Problems) -> _Measure:
    text, units, failed = _split_units(block, problems)
    if not text:
        problems.add(block.line, f"措施{block.number}内容为空，应为“{block.number}.措施内容(责任单位:…)”")
    own = failed or units is not None
    return _Measure(ParsedMeasure(block.number, text, units or (), block.line), own, bool(block.subs))


def _category(block: _Block, problems: _Problems) -> _Category:
    text, units, failed = _split_units(block, problems)
    title, _, lead = _MEASURES_INTRO.sub("", text).partition("。")
    if not title:
        problems.add(block.line, "类别标题为空，应为“(一)标题。说明”")
    return _Category(ParsedCategory(block.number, title, lead, (), block.line), units, failed)


def _section(block: _Block, mode: Mode, problems: _Problems) -> _Section:
    title, units, failed = _split_units(block, problems)
    if mode == "articles" and (not title or "。" in title):
        problems.add(block.line, "章标题应为“第一章 标题”，条文应写在“第X条”之后")
    elif not title or "。" in title:
        problems.add(block.line, "章节标题应为“一、标题”，正文段落应放在类别“(一)…”之下")
    section = _Section(block.number, title, block.line, units, failed)
    if mode != "categories":
        section.categories.append(_implicit_category(section.ordinal, block.line))
    return section


def _implicit_category(ordinal: int, line: int) -> _Category:
    return _Category(ParsedCategory(ordinal, "", "", (), line), None, False)


def _label(kind: str, number: int, mode: Mode) -> tuple[str, str]:
    if mode == "articles":
        name = "章" if kind == "section" else "条"
        return name, f"第{_to_numeral(number)}{name}"
    name = {"section": "章节", "category": "类别", "measure": "措施"}[kind]
    return name, str(number) if kind == "measure" else _to_numeral(number)


def _measure_name(number: int, mode: Mode) -> str:
    return f"第{_to_numeral(number)}条" if mode == "articles" else f"措施{number}"


def _check_order(block: _Block, last: dict[str, int], restart: bool, mode: Mode, problems: _Problems) -> None:
    """Report a number that does not follow the previous one (categories may restart at 1)."""
    expected = last[block.kind] + 1
    last[block.kind] = block.number
    if block.number == expected or (restart and block.number == 1):
        return
    name, wanted = _label(block.kind, expected, mode)
    got = _label(block.kind, block.number, mode)[1]
    problems.add(block.line, f"{name}编号应为“{wanted}”，实际为“{got}”（重复或缺号）")


def _assemble(blocks: list[_Block], mode: Mode, problems: _Problems) -> list[_Section]:
    sections: list[_Section] = []
    last = {"section": 0, "category": 0, "measure": 0}
    chapters = any(block.kind == "section" for block in blocks)
    for block in blocks:
        new_section = bool(sections) and not sections[-1].categories
        _check_order(block, last, block.kind == "category" and new_section, mode, problems)
        if block.kind == "section":
            sections.append(_section(block, mode, problems))
        elif block.kind == "category":
            category = _category(block, problems)
            if sections:
                sections[-1].categories.append(category)
            else:
                problems.add(block.line, "类别出现在章节之前，应先有章节标题“一、…”")
        else:
            if mode == "articles" and not chapters and not sections:
                sections.append(_Section(1, "", block.line, None, False, [_implicit_category(1, block.line)]))
            measure = _measure(block, problems)
            if sections and sections[-1].categories:
                sections[-1].categories[-1].measures.append(measure)
            elif mode == "articles":
                problems.add(block.line, "条款出现在第一章之前：有章时，每一条都应在某一章之下")
            elif mode == "measures":
                problems.add(block.line, "措施出现在章节之前，应先有章节标题“一、…”")
            else:
                problems.add(block.line, "措施出现在类别之前，应先有类别标题“(一)…”")
    return sections


def _take_closing_articles(sections: list[_Section], problems: _Problems) -> tuple[list[_Fact], int]:
    """Remove the trailing closing provisions (本办法自…起施行) of a regulation; return their facts."""
    facts: list[_Fact] = []
    taken = 0
    for section in reversed(sections):
        for category in reversed(section.categories):
            while category.measures:
                measure = category.measures[-1]
                trial = _Problems()
                found = _closing_facts(measure.parsed.text, measure.parsed.line, trial)
                if measure.own or trial or not measure.parsed.text:
                    return facts, taken
                facts[:0] = found
                category.measures.pop()
                taken += 1
    return facts, taken


# --- units from headings and the closing table ----------------------------------------------


def _parse_table(
    rows: list[tuple[int, str]], mode: Mode, problems: _Problems
) -> dict[int, tuple[int, tuple[UnitRef, ...]]]:
    """Closing-table rows: measure number -> (row line, units)."""
    table: dict[int, tuple[int, tuple[UnitRef, ...]]] = {}
    columns: tuple[UnitRole, ...] | None = None
    for index, (number, line) in enumerate(rows):
        row = _TABLE_ROW.match(line)
        if index == 0 and row is None:
            try:
                columns = table_columns(line.split())
            except ValueError as error:
                problems.add(number, str(error))
                continue
            if columns is not None:
                continue
        numbers = _ref_numbers(re.sub(r"\s+", "", row[1]), number, problems) if row else None
        if numbers is None:
            problems.add(
                number,
                "分工表中无法识别的行，应为“编号 单位”，如“1 区市场监管局 区税务局”"
                "“1-3 区发展改革委牵头，区财政局配合”或“第5条 牵头单位:区商务委”",
            )
            continue
        try:
            units = parse_table_units(row[2] if row else "", columns)
        except ValueError as error:
            problems.add(number, str(error))
            continue
        for value in numbers:
            if value in table:
                problems.add(number, f"{_measure_name(value, mode)}在分工表中重复出现")
            table[value] = (number, units)
    return table


def _ref_numbers(refs: str, line: int, problems: _Problems) -> list[int] | None:
    numbers: list[int] = []
    for ref in re.split(r"[、,，]", refs):
        match = _REF_PARTS.match(ref)
        if match is None:
            return None
        first, last = _number(match[2]), _number(match[5]) if match[5] else None
        chinese = not match[2].isdigit() or (match[5] is not None and not match[5].isdigit())
        if first is None or (match[5] and last is None) or (chinese and not (match[1] or match[3])):
            return None
        last = last or first
        if last < first:
            problems.add(line, f"分工表中的范围“{ref}”应从小到大")
            return []
        numbers += range(first, last + 1)
    return numbers


def _finish(
    sections: list[_Section],
    table: dict[int, tuple[int, tuple[UnitRef, ...]]],
    mode: Mode,
    problems: _Problems,
) -> tuple[ParsedSection, ...]:
    placed: set[int] = set()
    result = []
    for section in sections:
        categories = []
        for category in section.categories:
            measures = []
            for draft in category.measures:
                measure = draft.parsed
                placed.add(measure.number)
                units: tuple[UnitRef, ...] | None = None
                row = table.get(measure.number)
                if draft.own or category.units is not None or section.units is not None:
                    units = None if draft.own else (category.units or section.units)
                    if row is not None:
                        name = _measure_name(measure.number, mode)
                        problems.add(row[0], f"{name}已有责任单位，分工表中不应再列")
                elif category.units_failed or section.units_failed:
                    pass
                elif row is not None:
                    units = row[1]
                else:
                    problems.add(measure.line, _MISSING_UNITS)
                if units is not None:
                    measure = ParsedMeasure(measure.number, measure.text, units, measure.line)
                measures.append(measure)
            parsed = category.parsed
            categories.append(
                ParsedCategory(parsed.ordinal, parsed.title, parsed.lead, tuple(measures), parsed.line)
            )
        result.append(ParsedSection(section.ordinal, section.title, tuple(categories), section.line))
    for value, (line, _) in sorted(table.items()):
        if value not in placed:
            problems.add(line, f"分工表中的{_measure_name(value, mode)}不存在")
    return tuple(result)


# --- the whole document ---------------------------------------------------------------------


def _shape(mode: Mode, sections: list[_Section]) -> Shape:
    if mode == "articles":
        return "articles"
    if any(m.subpoints for s in sections for c in s.categories for m in c.measures):
        return "nested"
    return "sections-categories-measures" if mode == "categories" else "sections-measures"


def _issued_on(header: _Header, dates: list[tuple[int, str]], problems: _Problems) -> datetime.date | None:
    issued_on = header.issued_on
    for number, text in dates:
        match = _date_line(text)
        day = _date(match, number, problems) if match else None
        if day is not None and issued_on is not None and day != issued_on:
            problems.add(number, f"落款日期{_day_text(day)}与文首日期{_day_text(issued_on)}不一致")
        issued_on = issued_on or day
    return issued_on


def parse_document(text: str) -> ParsedDocument:
    """Parse a policy document's text; raise InvalidDocument listing every problem found."""
    problems = _Problems()
    lines = [(number, raw.lstrip("\ufeff").strip()) for number, raw in enumerate(text.splitlines(), start=1)]
    lines = [(number, line) for number, line in lines if line]
    articles = False
    for _, line in lines:  # a closing table's "第1条 区府办" rows do not make a regulation
        if _table_heading(line) is not None:
            break
        articles = articles or bool(_ARTICLES_MARK.match(line))
    scan = _Scanner(lines, articles, problems).run()
    header = _parse_header(scan.header, problems)
    mode: Mode = "articles" if articles else "measures"
    if not articles and any(block.kind == "category" for block in scan.blocks):
        mode = "categories"
    drafts = _assemble(scan.blocks, mode, problems)
    facts = list(header.facts)
    for paragraph in scan.paragraphs:
        facts += _closing_facts(join_lines(paragraph.parts), paragraph.line, problems)
    closing_articles = 0
    if mode == "articles":
        closing, closing_articles = _take_closing_articles(drafts, problems)
        facts += closing
    sections = _finish(drafts, _parse_table(scan.rows, mode, problems), mode, problems)
    issued_on = _issued_on(header, scan.dates, problems)
    issuers = list(header.issuers)
    issuers += [name for name in dict.fromkeys(scan.issuers) if name not in issuers]
    effective_on, expires_on = _resolve_validity(facts, issued_on, problems)
    document = ParsedDocument(
        header.title,
        tuple(issuers),
        issued_on,
        header.preamble,
        sections,
        _shape(mode, drafts),
        header.document_number,
        effective_on,
        expires_on,
    )
    if sum(block.kind == "measure" for block in scan.blocks) <= closing_articles:
        problems.add(1, "文档中没有编号措施，应有“1.措施内容(责任单位:…)”或“第一条 …”这样的行")
    if problems:
        raise InvalidDocument(sorted(problems, key=lambda problem: problem.line))
    return document


# --- rendering ------------------------------------------------------------------------------


def _split_subpoints(text: str) -> list[str]:
    """Cut a measure's text before its inline (1), (2)… so they start lines again."""
    cuts: list[int] = []
    wanted, position = 1, 0
    while True:
        match = next(
            (m for m in _INLINE_SUBPOINT.finditer(text, position) if int(m[1]) == wanted),
            None,
        )
        before = text[cuts[-1] if cuts else 0 : match.start()] if match else ""
        if match is None or split_trailing_clause(before)[1] is not None:
            break
        cuts.append(match.start())
        wanted, position = wanted + 1, match.end()
    edges = [0, *cuts, len(text)]
    return [text[start:end] for start, end in zip(edges, edges[1:], strict=False)]


def _render_measure(measure: ParsedMeasure, head: str, nested: bool) -> list[str]:
    """A measure's lines: one, or in a nested document its head and then one per sub-point."""
    chunks = _split_subpoints(measure.text) if nested else [measure.text]
    chunks[0] = head + chunks[0]
    chunks[-1] += render_units(measure.units)
    return chunks


def _validity_sentence(doc: ParsedDocument, subject: str) -> str:
    parts = []
    if doc.effective_on is not None:
        parts.append(f"自{_day_text(doc.effective_on)}起施行")
    if doc.expires_on is not None:
        parts.append(f"有效期至{_day_text(doc.expires_on)}")
    return subject + "，".join(parts) + "。" if parts else ""


def render_document(doc: ParsedDocument) -> str:
    """Write a document as canonical text that parses back to an equal document."""
    lines = list(doc.issuers)
    if doc.issued_on is not None:
        lines.append(_day_text(doc.issued_on))
    if doc.document_number:
        lines.append(doc.document_number)
    lines += [part for part in (doc.title, doc.preamble) if part]
    if doc.shape == "articles":
        last = 0
        for section in doc.sections:
            if not section.implicit:
                lines.append(f"第{_to_numeral(section.ordinal)}章 {section.title}")
            for _, _, measure in ((section, c, m) for c in section.categories for m in c.measures):
                lines.append(f"第{_to_numeral(measure.number)}条 {measure.text}{render_units(measure.units)}")
                last = measure.number
        closing = _validity_sentence(doc, "本办法")
        if closing:
            lines.append(f"第{_to_numeral(last + 1)}条 {closing}")
        return "\n".join(lines) + "\n"
    for section in doc.sections:
        lines.append(f"{_to_numeral(section.ordinal)}、{section.title}")
        for category in section.categories:
            if not category.implicit:
                intro = "具体措施:" if category.measures else ""
                lines.append(f"({_to_numeral(category.ordinal)}){category.title}。{category.lead}{intro}")
            for measure in category.measures:
                lines += _render_measure(measure, f"{measure.number}.", doc.shape == "nested")
    closing = _validity_sentence(doc, "本方案")
    if closing:
        lines.append(closing)
    return "\n".join(lines) + "\n"
