"""Policy documents as .txt, .docx, .pdf and .html read into the same text, and what is refused."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from html import escape
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn
from docx.shared import Pt
from lxml import etree
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate

from policy_db.formats import (
    MAX_FILE_BYTES,
    NO_TEXT_LAYER,
    UnreadableDocument,
    UnsupportedDocumentType,
    read_document,
)
from policy_db.parser import ParsedDocument, parse_document

SEED = Path(__file__).resolve().parents[2] / "seeds" / "putuo-2021-business-environment.txt"
FONT = "STSong-Light"  # reportlab's built-in CID font: no font file needed
pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def seed_text() -> str:
    """The district's plan, 100 measures."""
    return SEED.read_text(encoding="utf-8")


def seed_excerpt(measures: int = 10) -> str:
    """The plan's header and its first `measures` measures (with their sections and categories)."""
    lines = seed_text().splitlines()
    end = next(i for i, line in enumerate(lines) if line.startswith(f"{measures + 1}."))
    return "\n".join(lines[:end]) + "\n"


def paragraphs(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


# --- building the same plan in each format ---------------------------------------------------------


def docx_bytes(text: str, *, numbered: bool = False, table: list[list[str]] | None = None) -> bytes:
    """A Word file, one paragraph per line; `numbered`: measures numbered by Word, not typed."""
    document = docx.Document()
    for line in paragraphs(text):
        typed = re.match(r"^\d+\.(.*)$", line)
        if numbered and typed:
            document.add_paragraph(typed[1], style="List Number")
        else:
            paragraph = document.add_paragraph(line)
            paragraph.paragraph_format.first_line_indent = Pt(24)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for row, values in zip(grid.rows, table, strict=True):
            for cell, value in zip(row.cells, values, strict=True):
                cell.text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def pdf_bytes(
    text: str,
    *,
    indent: bool = True,
    furniture: bool = True,
    title_size: float = 18,
    width_mm: float = 160,
    encrypt: object = None,
) -> bytes:
    """A Chinese PDF (CID font) with wrapped paragraphs, the title centred in a larger type,
    a running header and a page number on every page (`furniture`).

    The middle dot is written as U+30FB: the font's encoding (UniGB-UCS2-H) has no glyph for
    U+00B7, so every reader shows nothing there; U+30FB is GB's middle dot, read back as U+00B7."""
    document = parse_document(text)
    body = ParagraphStyle("body", fontName=FONT, fontSize=12, leading=20, wordWrap="CJK")
    body.firstLineIndent = 24 if indent else 0
    title = ParagraphStyle(
        "title", parent=body, fontSize=title_size, leading=title_size * 1.5, alignment=TA_CENTER
    )
    title.firstLineIndent = 0

    def page_furniture(pdf: canvas.Canvas, template: SimpleDocTemplate) -> None:
        if furniture:
            pdf.setFont(FONT, 10)
            pdf.drawCentredString(A4[0] / 2, A4[1] - 15 * mm, "普陀区人民政府文件")
            pdf.drawCentredString(A4[0] / 2, 12 * mm, f"— {pdf.getPageNumber()} —")

    buffer = io.BytesIO()
    margin = (A4[0] - width_mm * mm) / 2
    template = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=margin, rightMargin=margin, encrypt=encrypt)
    story = [
        Paragraph(escape(line.replace("·", "\u30fb")), title if line == document.title else body)
        for line in paragraphs(text)
    ]
    template.build(story, onFirstPage=page_furniture, onLaterPages=page_furniture)
    return buffer.getvalue()


def scanned_pdf_bytes() -> bytes:
    """A PDF with no text layer: shapes and an image, as a scanner makes."""
    from PIL import Image

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.rect(50, 50, 400, 600, fill=1)
    image = Image.new("RGB", (120, 80), (200, 30, 30))
    from reportlab.lib.utils import ImageReader

    pdf.drawImage(ImageReader(image), 100, 400, 240, 160)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def html_bytes(text: str, *, encoding: str = "utf-8") -> bytes:
    """A saved government page: the plan in an article div amid navigation, scripts and footers."""
    body = "\n".join(f"<p style='text-indent:2em'>{escape(line)}</p>" for line in paragraphs(text))
    links = "".join(f"<li><a href='/doc/{n}.html'>普陀区第{n}号相关政策文件的标题</a></li>" for n in range(8))
    page = f"""<!DOCTYPE html>
<html><head><meta charset="{encoding}"><title>关于印发行动方案的通知_上海市普陀区人民政府</title>
<script>var _hmt = _hmt || []; document.write("统计代码，不是正文。");</script>
<style>.nav {{ color: red }}</style></head>
<body>
<div class="header"><h1 class="logo">上海市普陀区人民政府</h1>
  <div class="nav"><a href="/">首页</a><a href="/zw">政务公开</a><a href="/fw">政务服务</a>
    <a href="/hd">互动交流</a></div>
  <div class="search"><form><input name="q"><button>站内搜索</button></form></div></div>
<nav><ul><li><a href="/a">机构概况</a></li><li><a href="/b">政策文件</a></li></ul></nav>
<div class="position">当前位置：<a href="/">首页</a> &gt; <a href="/zw">政务公开</a> &gt; 政策文件</div>
<div class="main">
  <div class="article-title"><h2>关于印发《普陀区深化推进一流营商环境建设行动方案》的通知</h2></div>
  <div class="info">发布日期：2021-03-10　来源：区府办　浏览次数：1024</div>
  <div id="zoom" class="TRS_Editor">
{body}
  </div>
  <div class="share">分享到：<a href="#">微信</a> <a href="#">微博</a></div>
  <div class="tools">【<a href="javascript:print()">打印本页</a>】
    【<a href="javascript:close()">关闭窗口</a>】</div>
  <div class="related"><h3>相关链接</h3><ul>{links}</ul></div>
</div>
<footer><p>版权所有：上海市普陀区人民政府办公室 地址：上海市普陀区大渡河路1668号 邮编：200333</p>
<p>沪ICP备12345678号 网站标识码：3100000000 建议使用1280×800分辨率浏览本站
联系电话：021-52564588</p></footer>
<script src="/js/stat.js"></script>
</body></html>"""
    return page.encode(encoding)


BUILDERS: dict[str, Callable[[str], bytes]] = {
    ".txt": lambda text: text.encode("utf-8"),
    ".docx": docx_bytes,
    ".pdf": pdf_bytes,
    ".html": html_bytes,
}


def same_plan(parsed: ParsedDocument, expected: ParsedDocument) -> None:
    """The same measures, texts, units and roles, and the same header."""
    assert [(m.number, m.text) for _, _, m in parsed.measures()] == [
        (m.number, m.text) for _, _, m in expected.measures()
    ]
    assert [m.units for _, _, m in parsed.measures()] == [m.units for _, _, m in expected.measures()]
    assert (parsed.title, parsed.issuers, parsed.issued_on) == (
        expected.title,
        expected.issuers,
        expected.issued_on,
    )
    assert parsed == expected


@pytest.fixture(scope="module")
def seed_plan() -> ParsedDocument:
    return parse_document(seed_text())


# --- the same plan from every format ------------------------------------------------------------------


@pytest.mark.parametrize("suffix", list(BUILDERS))
def test_every_format_reads_as_the_same_plan(suffix: str, seed_plan: ParsedDocument) -> None:
    text = read_document(BUILDERS[suffix](seed_text()), f"plan{suffix}")
    parsed = parse_document(text)
    assert len(parsed.measures()) == 100
    assert {ref.role for _, _, m in parsed.measures() for ref in m.units} == {
        ref.role for _, _, m in seed_plan.measures() for ref in m.units
    }
    same_plan(parsed, seed_plan)


def test_the_pdf_comes_back_paragraph_for_paragraph() -> None:
    """Wrapped lines are joined again: the text is the .txt's, page numbers and header gone."""
    text = read_document(pdf_bytes(seed_text()), "plan.pdf")
    assert text.splitlines() == paragraphs(seed_text())


@pytest.mark.parametrize(
    "options",
    [
        {"indent": False},  # no first-line indent: the line ends and numbered starts decide
        {"indent": False, "furniture": False, "width_mm": 120},
        {"title_size": 28, "width_mm": 110},  # a title wrapped onto two centred lines
    ],
)
def test_pdf_layouts_without_indent_or_with_a_wrapped_title(options: dict[str, object]) -> None:
    text = read_document(pdf_bytes(seed_excerpt(20), **options), "plan.pdf")  # type: ignore[arg-type]
    same_plan(parse_document(text), parse_document(seed_excerpt(20)))


def test_word_automatic_numbers_are_read_as_typed(seed_plan: ParsedDocument) -> None:
    text = read_document(docx_bytes(seed_text(), numbered=True), "plan.docx")
    same_plan(parse_document(text), seed_plan)


def test_word_tables_give_one_line_per_row_cells_by_tab() -> None:
    table = [["序号", "工作任务", "责任单位"], ["1", "推广电子印章", "区府办、区科委"], ["2", "", "区税务局"]]
    text = read_document(docx_bytes("一、附表", table=table), "plan.docx")
    assert text.splitlines() == [
        "一、附表",
        "序号\t工作任务\t责任单位",
        "1\t推广电子印章\t区府办、区科委",
        "2\t\t区税务局",
    ]


def test_word_tracked_changes_read_as_accepted() -> None:
    document = docx.Document()
    paragraph = document.add_paragraph("1.推进")
    for tag, word in (("w:ins", "电子证照"), ("w:del", "纸质材料")):
        change = etree.SubElement(paragraph._p, qn(tag), {qn("w:id"): "1", qn("w:author"): "x"})
        run = etree.SubElement(change, qn("w:r"))
        etree.SubElement(run, qn("w:delText" if tag == "w:del" else "w:t")).text = word
    buffer = io.BytesIO()
    document.save(buffer)
    assert read_document(buffer.getvalue(), "x.docx") == "1.推进电子证照"


def test_the_page_text_is_the_article_not_its_surroundings() -> None:
    text = read_document(html_bytes(seed_excerpt(3)), "plan.html")
    for furniture in (
        "首页",
        "统计代码",
        "站内搜索",
        "版权所有",
        "相关链接",
        "相关政策文件",
        "分享到",
        "打印本页",
        "当前位置",
    ):
        assert furniture not in text
    assert text.splitlines()[0] == "关于印发《普陀区深化推进一流营商环境建设行动方案》的通知"
    assert text.splitlines()[-1].startswith("3.推进区级企业专属网页建设")


def test_a_gbk_page_and_a_gb18030_text_are_read() -> None:
    plan = seed_excerpt(3)
    expected = parse_document(plan)
    same_plan(parse_document(read_document(html_bytes(plan, encoding="gbk"), "plan.htm")), expected)
    same_plan(parse_document(read_document(plan.encode("gb18030"), "plan.txt")), expected)


@pytest.mark.parametrize(
    "data",
    [
        "\ufeff一、总则".encode(),
        "一、总则".encode("utf-16"),
        "一、总则".encode("gb18030"),
        "⼀、总则".encode(),
    ],
)
def test_text_encodings_and_radicals(data: bytes) -> None:
    assert read_document(data, "plan.TXT") == "一、总则"


def test_a_table_in_a_page_is_read_row_by_row() -> None:
    page = (
        "<html><body><div><table><tr><td>序号</td><td> 责任单位 </td></tr><tr><td>1</td><td>区府办</td></tr>"
    )
    page += "</table><p>正文第一段。</p><p>正文<br>第二段。</p></div></body></html>"
    assert read_document(page.encode(), "t.html").splitlines() == [
        "序号\t责任单位",
        "1\t区府办",
        "正文第一段。",
        "正文",
        "第二段。",
    ]


# --- what is refused, and how ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("setup.exe", b"MZ\x90\x00", "不支持的文件类型“.exe”"),
        ("scan.png", b"\x89PNG\r\n\x1a\n", ".txt、.docx、.pdf、.html"),
        ("plan", b"text", "没有扩展名"),
        ("old.doc", b"\xd0\xcf\x11\xe0", "另存为 .docx"),
        ("plan.pdf", b"PK\x03\x04 a zip", "不是有效的PDF文件，内容实为压缩包(zip)"),
        ("plan.docx", b"%PDF-1.7 ...", "不是有效的Word(.docx)文件，内容实为PDF"),
        ("plan.txt", b"\x89PNG\r\n\x1a\n\x00\x00", "不是有效的文本文件，内容实为图片"),
        ("plan.html", b"%PDF-1.4", "不是有效的网页(.html)文件"),
    ],
)
def test_wrong_types_are_refused_saying_what_is_accepted(name: str, data: bytes, words: str) -> None:
    with pytest.raises(UnsupportedDocumentType, match=re.escape(words)):
        read_document(data, name)


def zip_bytes(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_zip_of_something_else_named_docx_is_refused() -> None:
    with pytest.raises(UnsupportedDocumentType, match="不是有效的Word"):
        read_document(zip_bytes({"photos/1.jpg": b"\xff\xd8\xff" + b"x" * 100}), "plan.docx")


@pytest.mark.parametrize(
    ("members", "words"),
    [
        ({"word/document.xml": b"<" + b" " * 25_000_000}, "解压后过大"),  # 25 MB of spaces, 25 kB packed
        ({"word/document.xml": b"<", "word/media/a.bin": b"\0" * 5_000_000}, "压缩比过高"),
        ({"word/document.xml": b"<", **{f"p/{n}.xml": b"" for n in range(1_001)}}, "上限为 1000"),
    ],
)
def test_zip_bombs_are_refused_before_unpacking(members: dict[str, bytes], words: str) -> None:
    bomb = zip_bytes(members)
    assert len(bomb) < 200_000
    with pytest.raises(UnreadableDocument, match=words):
        read_document(bomb, "plan.docx")


def test_a_corrupt_docx_is_refused() -> None:
    good = docx_bytes(seed_excerpt(3))
    with pytest.raises(UnreadableDocument, match="已损坏"):
        read_document(good[: len(good) // 2], "plan.docx")
    broken = zip_bytes({"[Content_Types].xml": b"<Types", "word/document.xml": b"<w:document"})
    with pytest.raises(UnreadableDocument):
        read_document(broken, "plan.docx")


def test_a_pdf_without_a_text_layer_asks_for_ocr() -> None:
    with pytest.raises(UnreadableDocument) as raised:
        read_document(scanned_pdf_bytes(), "scan.pdf")
    assert (
        str(raised.value) == NO_TEXT_LAYER == "该PDF没有文字层（可能是扫描件），需要先做文字识别(OCR)再导入"
    )
    assert not isinstance(raised.value, UnsupportedDocumentType)


def test_a_pdf_with_an_open_password_is_refused() -> None:
    from reportlab.lib.pdfencrypt import StandardEncryption

    locked = pdf_bytes(seed_excerpt(3), encrypt=StandardEncryption("secret", "owner"))
    with pytest.raises(UnreadableDocument, match="已加密（需要密码才能打开）"):
        read_document(locked, "plan.pdf")


def test_a_pdf_that_only_restricts_copying_is_read_when_its_fonts_can_be_decoded() -> None:
    from reportlab.lib.pdfencrypt import StandardEncryption

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, encrypt=StandardEncryption("", "owner", canCopy=0, canModify=0))
    pdf.drawString(72, 700, "Open Data 2021")
    pdf.save()
    assert read_document(buffer.getvalue(), "plan.pdf") == "Open Data 2021"
    # pdfminer does not decrypt the strings of font dictionaries: a CID font without its own
    # character map (reportlab's STSong-Light) cannot be decoded in an encrypted file.
    restricted = pdf_bytes(seed_excerpt(3), encrypt=StandardEncryption("", "owner", canCopy=0))
    with pytest.raises(UnreadableDocument, match="权限保护"):
        read_document(restricted, "plan.pdf")


@pytest.mark.parametrize(
    "data", [b"%PDF-1.7\n%garbage\n1 0 obj << /Type /Catalog", b"%PDF-1.4\n" + b"\x00" * 64]
)
def test_a_corrupt_pdf_is_refused(data: bytes) -> None:
    with pytest.raises(UnreadableDocument, match="PDF"):
        read_document(data, "plan.pdf")


@pytest.mark.parametrize(
    ("data", "name", "words"),
    [
        (b"", "plan.txt", "空的"),
        (b" \n\r\n\t", "plan.txt", "空的"),
        (b"<html><body><script>x()</script></body></html>", "plan.html", "没有读到文字"),
        (docx_bytes(""), "plan.docx", "没有读到文字"),
        (b"x" * (MAX_FILE_BYTES + 1), "plan.txt", "文件过大"),
    ],
)
def test_empty_and_oversized_files_are_refused(data: bytes, name: str, words: str) -> None:
    with pytest.raises(UnreadableDocument, match=words):
        read_document(data, name)
