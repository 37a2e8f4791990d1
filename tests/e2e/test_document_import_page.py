"""The import page in headless Chromium: a Word file of a 2022 plan is uploaded, its structure, 文号
and dates previewed and corrected, and it is imported as replacing the seeded 2021 plan; the
documents page shows each document's validity and edits it; the staff console finds the new
plan's measures at once, and the 2021 plan's only with "包括已失效/已被替代的文件", badged 已被替代.

The app runs alone (no bot needed) on its own database: replacing the seeded plan would change
the answers the other end-to-end tests expect from the shared one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import docx
import httpx
import pytest
from docx.shared import Pt
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from tests.e2e.conftest import app_alone, seeded_database
from tests.e2e.test_admin_to_bot import issue_admin_token
from tests.e2e.test_console import DESKTOP, shot, sign_in
from tools.stack import Stack

pytestmark = [pytest.mark.browser]

OLD_TITLE = "普陀区深化推进一流营商环境建设行动方案"
TITLE = "普陀区2022年企业服务提质行动方案"
SLUG = "putuo-2022-service-plan"
# Today's shape: 文号, issuer and date above the title; sections 一、, categories (一)…。, measures
# 1.…(责任单位:…); the closing sentence after the last measure gives the effective and expiry dates.
PLAN = [
    "普府办〔2022〕9号",
    "上海市普陀区人民政府办公室",
    "2022年5月6日",
    TITLE,
    "为进一步优化营商环境，提升企业服务水平，制定本方案。",
    "一、便利企业开办",
    "(一)压缩开办时间。推进企业开办全程网办。具体措施:",
    "1.推行企业开办智能审核，实现营业执照当日领取、印章刻制免费寄递。(责任单位:区市场监管局)",
    "2.推广电子营业执照在银行开户中的应用。(责任单位:区市场监管局、区金融办)",
    "二、优化监管服务",
    "(二)推进包容审慎监管。完善轻微违法免罚清单。具体措施:",
    "3.对首次轻微违法行为实行免罚清单管理，开展柔性执法回访。(责任单位:区市场监管局)",
    "本方案自2022年6月1日起施行，有效期至2025年5月31日。",
]
ONLY_NEW = "印章刻制免费寄递"  # in the 2022 plan only
ONLY_OLD = "远程身份核验和电子签章"  # the 2021 plan's measure 2, which the 2022 plan does not have


@pytest.fixture(scope="module")
def import_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The app alone on a seeded database of its own."""
    database = seeded_database(f"sqlite:///{tmp_path_factory.mktemp('import-page') / 'policy.db'}")
    with app_alone(database, app_port=8220, rasa_port=5225, action_port=5275) as stack:
        yield stack


@pytest.fixture(scope="module")
def admin_secret(import_stack: Stack) -> str:
    return issue_admin_token(import_stack.env["DATABASE_URL"], name="导入页测试管理员")


@pytest.fixture
def desktop(chromium: Browser, import_stack: Stack) -> Iterator[BrowserContext]:
    """A fresh desktop profile (bypass_csp: Playwright's waiting helpers evaluate strings)."""
    context = chromium.new_context(
        viewport=DESKTOP, locale="zh-CN", base_url=import_stack.app_url, bypass_csp=True
    )
    context.set_default_timeout(20_000)
    yield context
    context.close()


def plan_docx(folder: Path) -> Path:
    """The 2022 plan as a Word file, one paragraph per line, the title centred in a larger type."""
    document = docx.Document()
    for line in PLAN:
        paragraph = document.add_paragraph(line)
        if line == TITLE:
            paragraph.alignment = 1  # centred
            paragraph.runs[0].font.size = Pt(18)
        else:
            paragraph.paragraph_format.first_line_indent = Pt(24)
    path = folder / f"{SLUG}.docx"
    document.save(str(path))
    return path


def label(scope: Page | Locator, text: str) -> Locator:
    """The form control labelled exactly `text` in `scope`."""
    return scope.get_by_label(text, exact=True)


def test_a_word_file_replaces_the_2021_plan_and_staff_find_both(
    desktop: BrowserContext, admin_secret: str, import_stack: Stack, tmp_path: Path
) -> None:
    later = (dt.date.today() + dt.timedelta(days=730)).isoformat()
    page = desktop.new_page()
    sign_in(page, "/admin", admin_secret)
    page.get_by_role("tab", name="导入文件").click()
    form = page.locator("#tab-import")
    page.locator("#i-file").set_input_files(plan_docx(tmp_path))
    expect(page.locator("#i-slug")).to_have_value(SLUG)
    page.get_by_role("button", name="预览").click()

    summary = page.locator("#i-summary")
    expect(summary).to_contain_text("章节→类别→措施")
    expect(summary).to_contain_text("2 章 · 2 类 · 3 条措施 · 2 个责任单位")
    expect(summary).to_contain_text("3 条（第1、2、3条）")
    expect(label(form, "标题")).to_have_value(TITLE)
    expect(label(form, "文号")).to_have_value("普府办〔2022〕9号")
    expect(label(form, "发布日期")).to_have_value("2022-05-06")
    expect(label(form, "施行日期")).to_have_value("2022-06-01")
    expect(label(form, "失效日期")).to_have_value("2025-05-31")
    commit = page.get_by_role("button", name="确认导入")
    expect(commit).to_be_enabled()

    # The plan says it expired on 2025-05-31 (already past): extend it, and replace the 2021 plan.
    label(form, "失效日期").fill(later)
    expect(commit).to_be_disabled()  # a correction is previewed before it is imported
    page.get_by_label("替代已有文件").select_option(label=f"{OLD_TITLE}（现行有效）")
    page.get_by_role("button", name="预览").click()
    expect(summary).to_contain_text(f"《{OLD_TITLE}》将标为“已被替代”")
    expect(label(form, "失效日期")).to_have_value(later)
    expect(label(form, "文号")).to_have_value("普府办〔2022〕9号")  # not corrected: as the file states
    expect(commit).to_be_enabled()
    assert SLUG not in {d["slug"] for d in httpx.get(f"{import_stack.app_url}/api/documents").json()}
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    shot(page, "admin_import_preview.png", full_page=True)

    commit.click()
    done = page.locator("#i-done")
    expect(done).to_contain_text(f"已导入《{TITLE}》")
    expect(done).to_contain_text("新增 3 条、更新 0 条、未变 0 条、停用 0 条措施")
    expect(done).to_contain_text(f"《{OLD_TITLE}》已标为“已被替代”")
    expect(done).to_contain_text(f"发布 2022-05-06 · 施行 2022-06-01 · 失效 {later}")
    expect(page.locator("#i-meta")).to_be_hidden()
    shot(page, "admin_import_done.png")

    page.get_by_role("tab", name="文件与类别").click()
    old_row = page.locator("#d-list tr[data-validity=replaced]", has_text=OLD_TITLE)
    expect(old_row.locator(".badge--replaced")).to_have_text("已被替代")
    expect(old_row).to_contain_text(f"被《{TITLE}》替代")
    new_row = page.locator("#d-list tr[data-validity=in_force]", has_text=TITLE)
    expect(new_row.locator(".badge--in-force")).to_have_text("现行有效")
    expect(new_row).to_contain_text("普府办〔2022〕9号")
    expect(new_row).to_contain_text("施行 2022-06-01")
    expect(new_row).to_contain_text("3 条")

    new_row.get_by_role("button", name=f"编辑《{TITLE}》的信息").click()
    dialog = page.locator("#document-dialog")
    expect(label(dialog, "失效日期")).to_have_value(later)
    label(dialog, "失效日期").fill("2020-01-01")
    dialog.get_by_role("button", name="保存").click()
    expect(dialog.locator("#d-error")).to_contain_text("失效日期早于施行日期")
    expect(page.locator("#toast")).to_contain_text("失效日期早于施行日期")
    shot(page, "admin_document_edit.png")
    label(dialog, "失效日期").fill(later)
    label(dialog, "文号").fill("普府办〔2022〕10号")
    dialog.get_by_role("button", name="保存").click()
    expect(dialog).to_be_hidden()
    expect(new_row).to_contain_text("普府办〔2022〕10号")
    shot(page, "admin_documents_validity.png")

    page.goto("/staff")  # same tab: the token is still in sessionStorage
    search = page.get_by_label("搜索政策措施")
    search.fill(ONLY_NEW)
    first = page.locator(".result").first
    expect(first.locator(".result__document")).to_have_text(f"《{TITLE}》")
    expect(first.locator(".result__no")).to_have_text("第1条")
    expect(first.locator(".badge--validity")).to_have_count(0)  # in force: no badge

    search.fill(ONLY_OLD)
    expect(page.locator("#summary")).to_contain_text("共")
    expect(page.locator(".result[data-validity=replaced]")).to_have_count(0)
    page.get_by_label("包括已失效/已被替代的文件").check()
    replaced = page.locator(".result[data-validity=replaced]").first
    expect(replaced.locator(".badge--replaced")).to_have_text("已被替代")
    expect(replaced.locator(".result__document")).to_have_text(f"《{OLD_TITLE}》")
    replaced.click()
    expect(page.locator(".detail__outdated")).to_have_text(
        f"该文件已被《{TITLE}》替代，答复前请核对现行文件。"
    )
    expect(page.locator(".detail__source .badge--replaced")).to_have_text("已被替代")
    shot(page, "staff_outdated.png")

    page.get_by_role("button", name="清除筛选").click()  # back to documents in force only
    expect(page.get_by_label("包括已失效/已被替代的文件")).not_to_be_checked()
    expect(page.locator(".result[data-validity=replaced]")).to_have_count(0)
