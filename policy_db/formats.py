"""Read a policy document saved as .txt, .docx, .pdf or .html into plain text, one paragraph per line.

The parser (``policy_db.parser``) takes plain text; this module turns the formats offices actually
send into that text, and refuses what it cannot read with a clear Chinese message
(``UnreadableDocument``; ``UnsupportedDocumentType`` when the type is wrong). No HTTP here.

* ``.txt``: UTF-8 (with or without BOM), UTF-16 with a BOM, else GB18030 (a superset of GBK and
  GB2312, what Chinese Windows saves as "ANSI"). Binary content (NUL bytes) is refused.
* ``.docx`` (python-docx): the body's paragraphs and tables in document order. Word's automatic
  list numbers ("1." "（一）" "一、" that are not typed) are rendered in front of their paragraph.
  A table row becomes one line, its cells joined by a TAB (the parser treats it as whitespace,
  and the cell boundaries stay visible); merged cells count once. Inserted tracked changes are
  read, deleted ones are not; text boxes, headers, footers and footnotes are not read.
  The zip is checked before it is opened: at most ``MAX_ZIP_MEMBERS`` members, at most
  ``MAX_UNPACKED_BYTES`` uncompressed in all, no member packed more than ``MAX_ZIP_RATIO`` to 1.
* ``.pdf`` (pdfminer.six): the text layer, with each character's position.
  Visual lines are joined back into paragraphs: a line continues the one above when that line
  runs to the right edge of the text, this one starts at the left edge (not indented, not
  centred), they are one line pitch apart (or the paragraph crosses a page break), and this
  line does not start a numbered item right after a sentence ended. Page numbers ("- 3 -",
  "第3页 共9页") and a header or footer repeated on most pages are dropped. A PDF that needs a
  password to open is refused; one that only restricts printing or copying is read. Kangxi
  radicals that some Chinese PDF fonts emit (⼀ U+2F00 for 一) become the ordinary characters.
  Compressed streams may inflate to ``MAX_PDF_INFLATED_BYTES`` in all (pdfminer's zlib is
  bounded), and a PDF has at most ``MAX_PDF_PAGES`` pages.
* ``.html``/``.htm`` (lxml): the article body of a saved government web page. Scripts, styles,
  forms, ``nav``/``header``/``footer``/``aside``, hidden elements and elements whose class or id
  names navigation, breadcrumbs, sharing, related links or the copyright are removed; the body
  is then the smallest element holding most (``_BODY_SHARE``) of the page's running text, link
  text not counted. Inside it, link lists (mostly link text) and the page furniture lines
  ("相关链接", "【打印本页】", "分享到") are dropped. The nearest heading before the body is kept
  as its first line when the body lacks it (the title is often outside the text's ``div``).
"""

from __future__ import annotations

import codecs
import contextlib
import io
import re
import statistics
import threading
import unicodedata
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from policy_db.errors import InvalidInput

__all__ = [
    "ACCEPTED_SUFFIXES",
    "MAX_FILE_BYTES",
    "MAX_PDF_PAGES",
    "MAX_UNPACKED_BYTES",
    "UnreadableDocument",
    "UnsupportedDocumentType",
    "read_document",
]

MAX_FILE_BYTES = 20_000_000
"""The largest file read at all (the extracted text has its own limit where it is imported)."""
MAX_UNPACKED_BYTES = 20_000_000
"""The most a .docx may unpack to, all members together."""
MAX_ZIP_MEMBERS = 1_000
MAX_ZIP_RATIO = 100
"""No member of a .docx may be packed more tightly than this (text XML packs about 5-20 to 1)."""
MAX_PDF_PAGES = 1_000
ACCEPTED_SUFFIXES = (".txt", ".docx", ".pdf", ".html", ".htm")
ACCEPTED_TEXT = "只能导入 .txt、.docx、.pdf、.html（.htm）文件"
NO_TEXT_LAYER = "该PDF没有文字层（可能是扫描件），需要先做文字识别(OCR)再导入"


class UnreadableDocument(InvalidInput):
    """A document file could not be read into text; the message says why, in Chinese."""


class UnsupportedDocumentType(UnreadableDocument):
    """The file is of a type that is not accepted, or its content is not what its name says."""


def read_document(data: bytes, filename: str) -> str:
    """Return the text of a .txt/.docx/.pdf/.html document, one paragraph per line."""
    suffix = PurePath(filename).suffix.lower()
    if suffix not in ACCEPTED_SUFFIXES:
        raise UnsupportedDocumentType(_unsupported_message(suffix))
    if len(data) > MAX_FILE_BYTES:
        raise UnreadableDocument(f"文件过大：上限为 {MAX_FILE_BYTES // 1_000_000} MB")
    if not data.strip():
        raise UnreadableDocument("文件是空的")
    if suffix == ".txt":
        text = _read_txt(data)
    elif suffix == ".docx":
        text = _read_docx(data)
    elif suffix == ".pdf":
        text = _read_pdf(data)
    else:
        text = _read_html(data)
    text = _clean_lines(text)
    if not text:
        raise UnreadableDocument("文件中没有读到文字")
    return text


def _unsupported_message(suffix: str) -> str:
    if suffix in (".doc", ".wps"):
        return f"旧版Word/WPS文件（{suffix}）无法直接导入：请在Word或WPS中另存为 .docx 再导入"
    shown = f"“{suffix}”" if suffix else "（文件名没有扩展名）"
    return f"不支持的文件类型{shown}：{ACCEPTED_TEXT}"


def _mismatch(expected: str, data: bytes) -> UnsupportedDocumentType:
    found = _sniff(data)
    actual = f"，内容实为{found}" if found else ""
    return UnsupportedDocumentType(f"文件内容与扩展名不符：不是有效的{expected}文件{actual}")


def _sniff(data: bytes) -> str:
    head = data[:1024]
    if b"%PDF-" in head:
        return "PDF"
    if head.startswith(b"PK\x03\x04"):
        return "压缩包(zip)"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "旧版Office文档(.doc/.xls)"
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8")):
        return "图片"
    if head.startswith(b"MZ"):
        return "程序文件"
    return ""


_RADICALS = re.compile("[\u2e80-\u2eff\u2f00-\u2fdf]")
# C0/C1 controls that are not line or tab characters; a NUL etc. cannot be stored in PostgreSQL.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\u200b\ufeff]")


def _clean_lines(text: str) -> str:
    """Normalise radicals, drop control characters, strip lines, drop empty ones."""
    text = _RADICALS.sub(lambda m: unicodedata.normalize("NFKC", m[0]), text)
    text = _CONTROLS.sub("", text)
    lines = (line.strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


# ---------------------------------------------------------------- .txt


def _read_txt(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as error:
            raise UnreadableDocument("文本文件已损坏：UTF-16 编码无效") from error
    if b"\x00" in data or _sniff(data):
        raise _mismatch("文本", data)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableDocument("无法识别文本编码：请另存为 UTF-8 编码的文本再导入")


# ---------------------------------------------------------------- .docx

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _w(name: str) -> str:
    return f"{{{_W}}}{name}"


def _check_zip(data: bytes) -> None:
    """Refuse a zip bomb from its directory before anything is unpacked."""
    if not data.startswith(b"PK\x03\x04"):
        raise _mismatch("Word(.docx)", data)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise UnreadableDocument("Word(.docx)文件已损坏，无法打开") from error
    if len(members) > MAX_ZIP_MEMBERS:
        raise UnreadableDocument(f"Word(.docx)文件异常：包含 {len(members)} 个部件，上限为 {MAX_ZIP_MEMBERS}")
    unpacked = sum(member.file_size for member in members)
    if unpacked > MAX_UNPACKED_BYTES:
        raise UnreadableDocument(
            f"Word(.docx)文件解压后过大（{unpacked // 1_000_000} MB），"
            f"上限为 {MAX_UNPACKED_BYTES // 1_000_000} MB"
        )
    for member in members:
        if member.file_size > 1_000_000 and member.file_size > MAX_ZIP_RATIO * max(member.compress_size, 1):
            raise UnreadableDocument("Word(.docx)文件异常：压缩比过高，疑似压缩炸弹，已拒绝")
    if "word/document.xml" not in {member.filename for member in members}:
        raise _mismatch("Word(.docx)", b"PK\x03\x04")


def _read_docx(data: bytes) -> str:
    _check_zip(data)
    import docx  # imported on first use: only .docx imports need it
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document: Any = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError) as error:
        raise _mismatch("Word(.docx)", data) from error
    except Exception as error:  # lxml's XMLSyntaxError, zipfile's BadZipFile (a bad CRC), …
        raise UnreadableDocument("Word(.docx)文件已损坏，无法读取其中的文字") from error
    numbering = _Numbering(document)
    lines: list[str] = []
    for block in document.element.body.iterchildren():
        if block.tag == _w("p"):
            lines.append(numbering.label(block) + _paragraph_text(block))
        elif block.tag == _w("tbl"):
            lines.extend(_table_rows(block, numbering))
        elif block.tag == _w("sdt"):  # a content control (a cover page, a table of contents)
            for paragraph in block.iter(_w("p")):
                lines.append(numbering.label(paragraph) + _paragraph_text(paragraph))
    return "\n".join(lines)


_SKIPPED = {_w("del"), _w("moveFrom"), _w("txbxContent"), _w("instrText"), _w("delText")}
_SKIPPED |= {"{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"}


def _paragraph_text(paragraph: Any) -> str:
    """The text of a w:p: its runs, inserted text included, deletions and text boxes left out."""
    parts: list[str] = []
    stack = [paragraph]
    while stack:
        element = stack.pop()
        tag = element.tag
        if tag in _SKIPPED or tag == _w("tbl"):
            continue
        if tag == _w("t"):
            parts.append(element.text or "")
        elif tag in (_w("tab"), _w("ptab")):
            parts.append("\t")
        elif tag in (_w("br"), _w("cr")):
            parts.append("\n")
        elif tag == _w("noBreakHyphen"):
            parts.append("-")
        stack.extend(reversed(list(element)))
    return "".join(parts)


def _table_rows(table: Any, numbering: _Numbering) -> list[str]:
    """One line per row, cells joined by a TAB; a merged cell once; a nested table inline."""
    rows: list[str] = []
    for row in table.iterchildren(_w("tr")):
        cells: list[str] = []
        for cell in row.iterchildren(_w("tc")):
            merge = cell.find(f"{_w('tcPr')}/{_w('vMerge')}")
            if merge is not None and merge.get(_w("val")) != "restart":
                continue  # the continuation of a vertically merged cell is empty
            texts = [
                numbering.label(paragraph) + _paragraph_text(paragraph) for paragraph in cell.iter(_w("p"))
            ]
            cells.append(" ".join(text.strip() for text in texts if text.strip()))
        if any(cells):
            rows.append("\t".join(cell.replace("\n", " ") for cell in cells))
    return rows


_CHINESE_DIGITS = "〇一二三四五六七八九"


def _chinese_number(value: int) -> str:
    if value <= 0 or value >= 100_000:
        return str(value)
    if value < 10:
        return _CHINESE_DIGITS[value]
    if value < 20:
        return "十" + (_CHINESE_DIGITS[value - 10] if value > 10 else "")
    if value < 100:
        tens, ones = divmod(value, 10)
        return _CHINESE_DIGITS[tens] + "十" + (_CHINESE_DIGITS[ones] if ones else "")
    return "".join(_CHINESE_DIGITS[int(digit)] for digit in str(value))


def _roman(value: int) -> str:
    numerals: tuple[tuple[int, str], ...] = ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"))
    numerals += ((100, "C"), (90, "XC"), (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"))
    numerals += ((4, "IV"), (1, "I"))
    out = ""
    for size, letters in numerals:
        count, value = divmod(value, size)
        out += letters * count
    return out


def _letter(value: int) -> str:
    return chr(ord("A") + (value - 1) % 26) * ((value - 1) // 26 + 1) if value > 0 else ""


_FULL_WIDTH_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")


def _format_number(value: int, kind: str) -> str:
    if kind in ("chineseCounting", "chineseCountingThousand", "ideographTraditional", "japaneseCounting"):
        return _chinese_number(value)
    if kind in ("ideographDigital", "taiwaneseDigital", "japaneseDigitalTenThousand"):
        return "".join(_CHINESE_DIGITS[int(digit)] for digit in str(value))
    if kind == "upperRoman":
        return _roman(value)
    if kind == "lowerRoman":
        return _roman(value).lower()
    if kind == "upperLetter":
        return _letter(value)
    if kind == "lowerLetter":
        return _letter(value).lower()
    if kind in ("decimalFullWidth", "decimalFullWidth2"):
        return str(value).translate(_FULL_WIDTH_DIGITS)
    if kind == "decimalZero":
        return f"{value:02d}"
    if kind == "decimalEnclosedCircle" or kind == "decimalEnclosedCircleChinese":
        return chr(0x2460 + value - 1) if 1 <= value <= 20 else str(value)
    if kind in ("none", "bullet"):
        return ""
    return str(value)  # decimal and anything unknown


@dataclass
class _Level:
    kind: str
    text: str
    start: int
    restart: int | None


def _level(lvl: Any) -> tuple[int, _Level]:
    def value(name: str, default: str) -> str:
        element = lvl.find(_w(name))
        found = element.get(_w("val")) if element is not None else None
        return found if found is not None else default

    restart = lvl.find(_w("lvlRestart"))
    return int(lvl.get(_w("ilvl"), "0")), _Level(
        value("numFmt", "decimal"),
        value("lvlText", ""),
        int(value("start", "1")),
        int(restart.get(_w("val"), "0")) if restart is not None else None,
    )


class _Numbering:
    """Word's automatic list numbers: the label each numbered paragraph shows, counted in order."""

    def __init__(self, document: Any) -> None:
        self.levels: dict[str, dict[int, _Level]] = {}  # by numId
        self.abstract_of: dict[str, str] = {}  # numId → abstractNumId, whose counters it shares
        self.counters: dict[str, dict[int, int]] = {}  # by abstractNumId, then level
        self.styles: dict[str, tuple[str, int]] = {}  # a paragraph style numbered by itself
        try:
            root = document.part.numbering_part.element
        except (NotImplementedError, KeyError, AttributeError):
            return
        abstract = {a.get(_w("abstractNumId")): a for a in root.iterchildren(_w("abstractNum"))}
        for num in root.iterchildren(_w("num")):
            num_id, ref = num.get(_w("numId")), num.find(_w("abstractNumId"))
            abstract_id = ref.get(_w("val")) if ref is not None else None
            base = abstract.get(abstract_id)
            if num_id is None or base is None:
                continue
            levels = dict(map(_level, base.iterchildren(_w("lvl"))))
            for override in num.iterchildren(_w("lvlOverride")):
                ilvl = int(override.get(_w("ilvl"), "0"))
                lvl = override.find(_w("lvl"))
                if lvl is not None:
                    levels[ilvl] = _level(lvl)[1]
                start = override.find(_w("startOverride"))
                if start is not None and ilvl in levels:
                    levels[ilvl].start = int(start.get(_w("val"), "1"))
            self.levels[num_id] = levels
            self.abstract_of[num_id] = str(abstract_id)
            self.counters.setdefault(str(abstract_id), {})
        for style in document.styles.element.iterchildren(_w("style")):
            found = style.find(f"{_w('pPr')}/{_w('numPr')}")
            if found is not None and style.get(_w("styleId")):
                self.styles[style.get(_w("styleId"))] = self._reference(found, ("", 0))

    @staticmethod
    def _reference(num_pr: Any, default: tuple[str, int]) -> tuple[str, int]:
        num_id, ilvl = num_pr.find(_w("numId")), num_pr.find(_w("ilvl"))
        return (
            num_id.get(_w("val"), "") if num_id is not None else default[0],
            int(ilvl.get(_w("val"), "0")) if ilvl is not None else default[1],
        )

    def label(self, paragraph: Any) -> str:
        """The automatic number shown before a paragraph ("1." "（一）"), or ""; counts it."""
        properties = paragraph.find(_w("pPr")) if self.levels else None
        if properties is None:
            return ""
        style = properties.find(_w("pStyle"))
        reference = self.styles.get(style.get(_w("val")) if style is not None else "", ("", 0))
        num_pr = properties.find(_w("numPr"))
        num_id, ilvl = self._reference(num_pr, reference) if num_pr is not None else reference
        levels = self.levels.get(num_id)
        if not levels or ilvl not in levels:
            return ""  # numId 0 switches numbering off
        counters = self.counters[self.abstract_of[num_id]]
        counters[ilvl] = counters.get(ilvl, levels[ilvl].start - 1) + 1
        for deeper in [k for k in counters if k > ilvl]:
            restart = levels[deeper].restart if deeper in levels else None
            if restart is None or 0 < restart <= ilvl + 1:
                del counters[deeper]
        level = levels[ilvl]
        if level.kind in ("bullet", "none"):
            return ""

        def number(match: re.Match[str]) -> str:
            index = int(match[1]) - 1
            if index not in levels:
                return ""
            return _format_number(counters.get(index, levels[index].start), levels[index].kind)

        return re.sub(r"%([1-9])", number, level.text)


# ---------------------------------------------------------------- .pdf

MAX_PDF_INFLATED_BYTES = 150_000_000
"""The most a PDF's compressed streams may inflate to, all together (a deflate bomb is refused)."""


class _PdfBomb(Exception):
    pass


class _BoundedZlib:
    """What pdfminer sees as ``zlib``: inflating stops at the document's budget, and a stream with
    a bad checksum gives what precedes the damage (pdfminer's own fallback copies byte by byte)."""

    error = zlib.error
    MAX_WBITS = zlib.MAX_WBITS

    def __init__(self) -> None:
        self._local = threading.local()

    def start(self) -> None:
        self._local.room = MAX_PDF_INFLATED_BYTES

    def decompressobj(self, *args: Any, **kwargs: Any) -> Any:
        return zlib.decompressobj(*args, **kwargs)

    def decompress(self, data: bytes, *args: Any, **kwargs: Any) -> bytes:
        inflater = zlib.decompressobj()
        room = getattr(self._local, "room", MAX_PDF_INFLATED_BYTES)
        out = bytearray()
        for start in range(0, len(data), 65_536):
            chunk, before = data[start : start + 65_536], inflater.copy()
            try:
                out += inflater.decompress(chunk, room - len(out) + 1)
            except zlib.error:
                out += _salvage(before, chunk, room - len(out))
                break
            if len(out) > room or inflater.unconsumed_tail:
                raise _PdfBomb
            if inflater.eof:
                break
        self._local.room = room - len(out)
        return bytes(out)


def _salvage(inflater: Any, chunk: bytes, room: int) -> bytes:
    """Inflate a damaged chunk byte by byte, up to the damage."""
    out = bytearray()
    for index in range(len(chunk)):
        try:
            out += inflater.decompress(chunk[index : index + 1])
        except zlib.error:
            break
        if len(out) > room:
            raise _PdfBomb
    return bytes(out)


_BOUNDED_ZLIB = _BoundedZlib()


@dataclass
class _Line:
    text: str
    left: float
    right: float
    y: float
    em: float
    page: int


@dataclass
class _Page:
    lines: list[_Line]
    left: float
    right: float
    em: float
    pitch: float


def _read_pdf(data: bytes) -> str:
    if b"%PDF-" not in data[:1024]:
        raise _mismatch("PDF", data)
    # imported on first use: only .pdf imports need pdfminer
    from pdfminer import pdftypes
    from pdfminer.converter import PDFPageAggregator
    from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdfparser import PDFParser

    pdftypes.zlib = _BOUNDED_ZLIB  # type: ignore[assignment]
    _BOUNDED_ZLIB.start()
    pages: list[_Page] = []
    encrypted = False
    try:
        document = PDFDocument(PDFParser(io.BytesIO(data)))
        encrypted = document.encryption is not None
        resources = PDFResourceManager(caching=True)
        device = PDFPageAggregator(resources, laparams=None)
        interpreter = PDFPageInterpreter(resources, device)
        for index, page in enumerate(PDFPage.create_pages(document)):
            if index >= MAX_PDF_PAGES:
                raise UnreadableDocument(f"PDF页数过多，上限为 {MAX_PDF_PAGES} 页")
            interpreter.process_page(page)
            pages.append(_pdf_page(device.get_result(), index))
    except PDFPasswordIncorrect as error:
        raise UnreadableDocument(
            "该PDF已加密（需要密码才能打开），请去掉密码或另存为不加密的PDF再导入"
        ) from error
    except PDFEncryptionError as error:
        raise UnreadableDocument("该PDF使用了不支持的加密方式，请另存为不加密的PDF再导入") from error
    except _PdfBomb as error:
        raise UnreadableDocument("PDF文件异常：解压后的数据过大，疑似压缩炸弹，已拒绝") from error
    except UnreadableDocument:
        raise
    except Exception as error:  # pdfminer raises many kinds (and RecursionError) on a damaged file
        raise UnreadableDocument("PDF文件已损坏，无法读取其中的文字") from error
    if not pages:
        raise UnreadableDocument("PDF文件已损坏：没有找到任何页面")
    visible = [c for page in pages for line in page.lines for c in line.text if not c.isspace()]
    if not visible:
        raise UnreadableDocument(NO_TEXT_LAYER)
    if sum(1 for c in visible if c == "\ufffd" or "\ue000" <= c <= "\uf8ff") > len(visible) / 2:
        if encrypted:  # pdfminer leaves the strings of an encrypted file's font dictionaries as they are
            raise UnreadableDocument(
                "该PDF设置了权限保护（如禁止复制），其中的文字无法解码：请另存为不加密的PDF或Word再导入"
            )
        raise UnreadableDocument(
            "该PDF的文字无法正确提取（字体缺少字符编码），需要先做文字识别(OCR)或另存为Word后再导入"
        )
    _drop_page_furniture(pages)
    return "\n".join(_paragraphs(pages)).replace("\ufffd", "")


def _characters(layout: Any) -> Iterator[Any]:
    """The page's characters in drawing order, those inside forms (XObjects) included."""
    from pdfminer.layout import LTChar, LTContainer

    stack = [iter(layout)]
    while stack:
        for item in stack[-1]:
            if isinstance(item, LTChar):
                yield item
            elif isinstance(item, LTContainer):
                stack.append(iter(item))
                break
        else:
            stack.pop()


def _pdf_page(layout: Any, index: int) -> _Page:
    lines = sorted(_page_lines(layout, index), key=lambda line: (-round(line.y), line.left))
    if not lines:
        return _Page([], 0, 0, 1, 1)
    widths = [line.em for line in lines if line.em > 0]
    em = statistics.median(widths) if widths else 10.0
    pitches = [a.y - b.y for a, b in zip(lines, lines[1:], strict=False) if 0.5 * em < a.y - b.y < 4 * em]
    pitch = statistics.median(pitches) if pitches else 1.5 * em
    left = min(line.left for line in lines)
    # The right edge of the text: the typical end of the longest lines (a closing quote may overhang).
    longest = max(line.right for line in lines)
    right = statistics.median([line.right for line in lines if line.right >= longest - 2 * em])
    return _Page(lines, left, right, em, pitch)


def _page_lines(layout: Any, page: int) -> Iterator[_Line]:
    """Visual lines: runs of characters on one baseline, left to right, a space where a gap is."""
    chars: list[Any] = []
    for char in _characters(layout):
        if not char.upright:
            continue  # rotated text: a stamp or a margin note
        if chars:
            last, size = chars[-1], max(chars[-1].size, char.size, 1.0)
            if abs(char.y0 - chars[0].y0) > 0.5 * size or char.x0 < last.x0 - 0.5 * size:
                yield _line(chars, page)
                chars = []
        chars.append(char)
    if chars:
        yield _line(chars, page)


def _line(chars: list[Any], page: int) -> _Line:
    parts: list[str] = []
    wide: list[float] = []
    for previous, char in zip([None, *chars], chars, strict=False):
        text = char.get_text()
        if text.startswith("(cid:"):
            text = "\ufffd"  # a glyph without a character (a font without its encoding)
        if previous is not None and char.x0 - previous.x1 > 0.25 * max(char.size, 1.0):
            parts.append(" ")
        parts.append(text)
        if len(text) == 1 and unicodedata.east_asian_width(text) in "WF" and char.width > 0:
            wide.append(char.width)
    visible = [c for c in chars if c.get_text().strip()] or chars
    em = statistics.median(wide) if wide else statistics.median(c.size for c in chars)
    return _Line(
        "".join(parts),
        min(c.x0 for c in visible),
        max(c.x1 for c in visible),
        statistics.median(c.y0 for c in visible),
        em,
        page,
    )


_PAGE_NUMBER = re.compile(
    r"^[-—–－−·•\s]*(第\s*)?\d{1,4}(\s*页)?(\s*[/／]\s*\d{1,4}|\s*[,，]?\s*共\s*\d{1,4}\s*页)?[-—–－−·•\s]*$"
)


def _drop_page_furniture(pages: list[_Page]) -> None:
    """Remove page numbers and a header or footer line repeated on most pages."""
    edges: Counter[str] = Counter()
    for page in pages:
        for line in {page.lines[0].text.strip(), page.lines[-1].text.strip()} if page.lines else ():
            edges[re.sub(r"\d+", "#", line)] += 1
    repeated = {text for text, count in edges.items() if count >= 2 and count > len(pages) / 2}
    for page in pages:
        for position in (0, -1):
            while page.lines:
                text = page.lines[position].text.strip()
                if _PAGE_NUMBER.match(text) or re.sub(r"\d+", "#", text) in repeated or not text:
                    page.lines.pop(position)
                else:
                    break


_NUMERALS = "[一二三四五六七八九十]+"
_ITEM_START = re.compile(rf"^\s*({_NUMERALS}\s*[、.．]|[(（]\s*{_NUMERALS}\s*[)）]|\d+\s*[.．、])")
_SENTENCE_END = tuple("。；;：:！!？?）)」』”")


def _paragraphs(pages: list[_Page]) -> list[str]:
    paragraphs: list[str] = []
    previous: _Line | None = None
    for page in pages:
        for line in page.lines:
            if previous is not None and _continues(previous, pages[previous.page], line, page):
                paragraphs[-1] = _join(paragraphs[-1], line.text)
            else:
                paragraphs.append(line.text)
            previous = line
    return paragraphs


def _continues(previous: _Line, previous_page: _Page, line: _Line, page: _Page) -> bool:
    """Whether a visual line carries on the paragraph of the line above it (see the docstring)."""
    if previous.page == line.page:
        scale = max(previous.em, line.em, page.em) / page.em  # a title's lines are further apart
        if not 0.3 * page.pitch < previous.y - line.y < 1.6 * page.pitch * scale:
            return False
    elif previous is not previous_page.lines[-1] or line is not page.lines[0]:
        return False
    if _ITEM_START.match(line.text) and previous.text.rstrip().endswith(_SENTENCE_END):
        return False
    if line.left <= page.left + 0.6 * page.em:  # starts at the left edge
        return previous.right >= previous_page.right - 1.2 * previous_page.em
    # A wrapped title: two lines in a larger type, both centred on the text, on one page.
    axis = page.left + page.right
    centred = all(abs(one.left + one.right - axis) / 2 < page.em for one in (previous, line))
    larger = min(previous.em, line.em) > 1.15 * page.em
    return previous.page == line.page and larger and centred


def _join(before: str, after: str) -> str:
    before, after = before.rstrip(), after.lstrip()
    if before[-1:].isascii() and before[-1:].isalnum() and after[:1].isascii() and after[:1].isalnum():
        return f"{before} {after}"
    return before + after


# ---------------------------------------------------------------- .html

_HTML_DROP: tuple[str, ...] = (
    "script",
    "style",
    "noscript",
    "template",
    "iframe",
    "object",
    "embed",
    "svg",
    "canvas",
)
_HTML_DROP += ("form", "button", "select", "input", "textarea", "nav", "aside", "head", "link", "meta")
_HTML_DROP += ("map", "area", "audio", "video")
_BOILERPLATE = re.compile(
    r"(^|[-_\s])(nav|navbar|menu|breadcrumbs?|crumbs?|position|location|share|sharing|bdshare|"
    r"footer|foot|copyright|sidebar|side|related|relate|xgxx|xglj|links?|friendlink|topbar|toolbar|"
    r"banner|print|pager|pagination|search|login|qrcode|ewm)([-_\s]|$)",
    re.IGNORECASE,
)
_FURNITURE = re.compile(
    r"^[【\[\s]*(相关链接|相关文件|相关阅读|相关新闻|相关解读|相关政策|延伸阅读|友情链接|分享到|"
    r"打印本页|打印|关闭窗口|关闭|返回顶部|上一篇|下一篇|扫一扫|字号|【?大】?\s*【?中】?\s*【?小】?)"
)
_BLOCKS = {"address", "article", "blockquote", "body", "center", "dd", "details", "dialog", "dir", "div"}
_BLOCKS |= {"dl", "dt", "fieldset", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "li"}
_BLOCKS |= {"main", "ol", "p", "pre", "section", "summary", "table", "tbody", "thead", "tfoot", "tr", "ul"}
_BLOCKS |= {"caption"}
_BODY_SHARE = 0.85
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def _decode_html(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    declared = _META_CHARSET.search(data[:4096])
    candidates = ["utf-8", "gb18030"]
    if declared:
        name = declared[1].decode("ascii").lower()
        name = "gb18030" if name in ("gb2312", "gbk", "gb_2312-80", "x-gbk", "cp936") else name
        with contextlib.suppress(LookupError):
            candidates.insert(0, codecs.lookup(name).name)
    for encoding in candidates:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace")


def _read_html(data: bytes) -> str:
    if b"\x00" in data[:4096] or _sniff(data):
        raise _mismatch("网页(.html)", data)
    import lxml.html  # imported on first use: only .html imports need it
    from lxml import etree

    markup = re.sub(r"^\s*<\?xml[^>]*\?>", "", _decode_html(data))
    if not markup.strip():
        raise UnreadableDocument("网页文件是空的")
    parser = lxml.html.HTMLParser(remove_comments=True, remove_pis=True, no_network=True)
    try:
        root = lxml.html.document_fromstring(markup, parser=parser)
    except (etree.ParserError, ValueError) as error:
        raise UnreadableDocument("网页文件已损坏，无法读取") from error
    title_candidates = _strip_page_furniture(root)
    body = _find_body(root)
    if body is None:
        return ""
    _strip_link_lists(body)
    text = _html_text(body)
    heading = _heading_before(body, title_candidates)
    if heading and heading not in re.sub(r"\s+", "", text):
        text = f"{heading}\n{text}"
    return text


def _classes(element: Any) -> str:
    return f"{element.get('class', '')} {element.get('id', '')}"


def _strip_page_furniture(root: Any) -> list[Any]:
    """Remove scripts, navigation, headers, footers and hidden parts; return the headings kept."""
    for element in list(root.iter(*_HTML_DROP)):
        _remove(element)
    for element in list(root.iter("header", "footer")):
        if not any(a.tag in ("article", "main") for a in element.iterancestors()):
            _remove(element)
    for element in list(root.iter()):
        if not isinstance(element.tag, str) or element.getparent() is None:
            continue
        style = (element.get("style") or "").replace(" ", "").lower()
        hidden = element.get("hidden") is not None or element.get("aria-hidden") == "true"
        if hidden or "display:none" in style or "visibility:hidden" in style:
            _remove(element)
        elif _BOILERPLATE.search(_classes(element)) and element.tag not in ("body", "html"):
            prose, links = _text_sizes(element)
            if prose < 200 or links > prose:
                _remove(element)
    return list(root.iter("h1", "h2", "h3"))


def _remove(element: Any) -> None:
    """Remove an element but keep its tail text in place."""
    parent = element.getparent()
    if parent is None:
        return
    tail = element.tail
    if tail and tail.strip():
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)


def _text_sizes(element: Any) -> tuple[int, int]:
    """(non-link characters, link characters) of an element, whitespace not counted."""
    total = len(re.sub(r"\s+", "", element.text_content()))
    links = sum(len(re.sub(r"\s+", "", a.text_content())) for a in element.iter("a"))
    return total - links, links


def _find_body(root: Any) -> Any:
    """The deepest element that still holds _BODY_SHARE of the page's non-link text."""
    body = root.find("body")
    if body is None:
        body = root
    total, _ = _text_sizes(body)
    if total == 0:
        return None
    best = body
    while True:
        for child in best.iterchildren():
            if isinstance(child.tag, str) and _text_sizes(child)[0] >= _BODY_SHARE * total:
                best = child
                break
        else:
            return best


def _strip_link_lists(body: Any) -> None:
    """Inside the body: drop blocks that are mostly links, and the page furniture lines."""
    for element in list(body.iter("ul", "ol", "dl", "div", "table", "p", "span", "section")):
        if element is body or element.getparent() is None:
            continue
        prose, links = _text_sizes(element)
        text = re.sub(r"\s+", "", element.text_content())
        if (links and links >= 2 * prose) or (len(text) < 40 and _FURNITURE.match(text)):
            _remove(element)


def _html_text(body: Any) -> str:
    """The element's text with a line break at every block, <br> and table row; cells by TAB."""
    from lxml import etree

    parts: list[str] = []
    for event, element in etree.iterwalk(body, events=("start", "end")):
        tag = element.tag if isinstance(element.tag, str) else ""
        if event == "start":
            if tag in _BLOCKS:
                parts.append("\n")
            elif tag in ("td", "th") and element.getprevious() is not None:
                parts.append("\t")
            elif tag == "br":
                parts.append("\n")
            if element.text and tag:
                parts.append(_collapse(element.text))
        else:
            if tag in _BLOCKS:
                parts.append("\n")
            if element.tail and element is not body:
                parts.append(_collapse(element.tail))
    return "\n".join(re.sub(r" *\t *", "\t", line).strip() for line in "".join(parts).split("\n"))


def _collapse(text: str) -> str:
    return re.sub(r"[ \n\r\f\v\xa0]+", " ", text)


def _heading_before(body: Any, headings: list[Any]) -> str:
    """The text of the last h1-h3 before the body and outside it (the article's title)."""
    found = ""
    for heading in headings:
        if heading.getparent() is None or _is_inside(heading, body):
            continue
        if _precedes(heading, body):
            found = re.sub(r"\s+", "", heading.text_content())
    return found


def _is_inside(element: Any, ancestor: Any) -> bool:
    return any(a is ancestor for a in element.iterancestors())


def _precedes(element: Any, other: Any) -> bool:
    for candidate in element.getroottree().getroot().iter():
        if candidate is element:
            return True
        if candidate is other:
            return False
    return False
