"""The staff console, admin pages and insights in headless Chromium, against the real app (no bot needed)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from policy_db.auth import issue_token
from policy_db.config import PROJECT_ROOT
from policy_db.db import Database
from policy_db.question_log import log_question, save_rating
from tests.e2e.test_admin_to_bot import issue_admin_token
from tools.stack import Stack

pytestmark = [pytest.mark.browser]

DESKTOP = {"width": 1366, "height": 860}
ARTIFACTS = PROJECT_ROOT / "artifacts"
NEW_TITLE = "企业名称自主申报"
ANSWER_20 = (
    "根据《普陀区深化推进一流营商环境建设行动方案》第20条：积极实施企业名称告知承诺制,"
    "减少“近似名称”人工干预，责任单位：区市场监管局。"
)


@pytest.fixture(scope="module")
def admin_secret(app_stack: Stack, stack_db: str) -> str:
    """An admin token of the running stack."""
    return issue_admin_token(stack_db, name="控制台测试管理员")


@pytest.fixture
def desktop(chromium: Browser, app_stack: Stack) -> Iterator[BrowserContext]:
    """A fresh desktop browser profile allowed to use the clipboard.

    bypass_csp: Playwright's waiting helpers evaluate strings, which the pages' CSP forbids.
    """
    context = chromium.new_context(
        viewport=DESKTOP, locale="zh-CN", base_url=app_stack.app_url, bypass_csp=True, accept_downloads=True
    )
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app_stack.app_url)
    context.set_default_timeout(20_000)
    yield context
    context.close()


def sign_in(page: Page, path: str, secret: str) -> None:
    """Open a console page and sign in with a token, as a person would."""
    page.goto(path)
    page.get_by_label("访问令牌").fill(secret)
    page.keyboard.press("Enter")
    expect(page.locator("#app")).to_be_visible()
    expect(page.locator("#account")).to_contain_text("管理员")


def open_measure(page: Page, reference: str, number: int) -> None:
    """Pick a measure in the admin editor by typing its reference ("1:20") and pressing Enter."""
    picker = page.locator("#tab-measures [role=combobox]")
    picker.fill(reference)
    expect(page.locator(".picker__option").first).to_contain_text(f"第{number}条")
    picker.press("Enter")
    expect(page.locator(".editor__head h2")).to_contain_text(f"第{number}条")


def shot(page: Page, name: str, *, full_page: bool = False) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=full_page)


def test_an_admin_edit_shows_up_in_the_staff_console(desktop: BrowserContext, admin_secret: str) -> None:
    page = desktop.new_page()
    sign_in(page, "/admin", admin_secret)
    open_measure(page, "1:20", 20)
    expect(page.locator("#m-title")).to_have_value("企业名称告知承诺制")
    page.locator("#m-title").fill(NEW_TITLE)
    expect(page.get_by_text("有未保存的修改")).to_be_visible()
    page.get_by_role("button", name="保存修改").click()
    expect(page.locator("#m-version")).to_contain_text("第2版")
    expect(page.get_by_text("有未保存的修改")).to_be_hidden()
    expect(page.locator(".editor__head h2")).to_contain_text(NEW_TITLE)
    shot(page, "admin.png")

    page.goto("/staff")  # same tab: the token is still in sessionStorage
    search = page.get_by_label("搜索政策措施")
    expect(search).to_be_focused()
    page.locator(".hint").click()
    page.keyboard.press("/")
    expect(search).to_be_focused()
    page.keyboard.type("自主申报")
    first = page.locator(".result").first
    expect(first.locator(".result__no")).to_have_text("第20条")
    expect(first.locator(".result__title")).to_have_text(NEW_TITLE)
    expect(first.locator("mark").first).to_be_visible()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")
    expect(page.locator("#detail-title")).to_have_text(f"第20条 {NEW_TITLE}")
    expect(page.locator("#answer-text")).to_have_text(ANSWER_20)
    page.get_by_role("button", name="复制答复").click()
    assert page.evaluate("navigator.clipboard.readText()") == ANSWER_20

    with page.expect_download() as download:
        page.get_by_role("button", name="导出 CSV").click()
    content = Path(download.value.path()).read_bytes()
    assert content.startswith(b"\xef\xbb\xbf") and NEW_TITLE in content.decode("utf-8-sig")

    search.fill("")
    page.keyboard.type("企业名称申报要多久")
    expect(page.locator("#summary")).to_contain_text("企业名称")  # the matched words of this query
    expect(page.locator(".result").first).to_contain_text(NEW_TITLE)
    expect(page.locator("#toast")).to_have_css("opacity", "0")  # the export notice has faded
    shot(page, "console.png")


def test_a_stale_edit_keeps_the_typed_text_and_loads_the_other_version(
    desktop: BrowserContext, admin_secret: str, app_stack: Stack
) -> None:
    page = desktop.new_page()
    sign_in(page, "/admin", admin_secret)
    open_measure(page, "1:21", 21)
    version = int(httpx.get(f"{app_stack.app_url}/api/measures/1/21").json()["version"])
    theirs = {"title": "注销套餐服务", "text": "提供企业“套餐式”注销服务（同事刚改过）。"}
    other = httpx.patch(
        f"{app_stack.app_url}/api/admin/measures/1/21",
        json=theirs,
        headers={"Authorization": f"Bearer {admin_secret}", "If-Match": str(version)},
    )
    assert other.status_code == 200, other.text

    page.locator("#m-title").fill("企业注销一次办")
    page.get_by_role("button", name="保存修改").click()
    conflict = page.locator("#m-conflict")
    expect(conflict).to_contain_text("已被他人修改")
    expect(conflict).to_contain_text("注销套餐服务")  # their title, where both edited the same field
    expect(page.locator("#m-title")).to_have_value("企业注销一次办")
    expect(page.locator("#m-text")).to_have_value(theirs["text"])
    expect(page.locator("#m-version")).to_contain_text(f"第{version + 1}版")

    page.get_by_role("button", name="保存修改").click()
    expect(page.locator("#m-version")).to_contain_text(f"第{version + 2}版")
    expect(conflict).to_be_hidden()
    saved = httpx.get(f"{app_stack.app_url}/api/measures/1/21").json()
    assert (saved["title"], saved["text"]) == ("企业注销一次办", theirs["text"])


UNMATCHED = {"员工落户积分怎么算": 5, "社保断缴了会怎样": 3, "公司楼下停车位怎么申请": 2}
TOPICS = {
    "topic_opening": ["1:19", "1:20"],
    "topic_tax": ["1:25"],
    "topic_financing": ["1:40"],
    "topic_property": ["1:32"],
    "topic_talent": ["1:72"],
}


RATING_CYCLE = ("满意", "满意", "一般", "满意", "不满意", "满意", "一般")


def seed_history(database_url: str) -> None:
    """Two weeks of questions and ratings, as the bot logs them (rows and daily counters)."""
    now = dt.datetime.now(dt.timezone.utc)
    database = Database(database_url)
    try:
        with database.session() as session:
            for day in range(14):
                at = now - dt.timedelta(days=day, minutes=30)
                for i, (topic, measures) in enumerate(TOPICS.items()):
                    for n in range((day * 7 + i * 3) % 6 + 1):
                        log_question(
                            session,
                            sender_id=f"seed-{day}-{i}-{n // 2}",
                            text="示例问题",
                            intent=topic,
                            outcome="answered",
                            measures=measures,
                            top_score=0.7,
                            at=at,
                        )
                    for k in range((day + i) % 3):
                        save_rating(
                            session,
                            sender_id=f"seed-{day}-{i}-{k}",
                            topic=topic,
                            at=at,
                            rating=RATING_CYCLE[(day * 3 + i + k) % len(RATING_CYCLE)],
                        )
            for question, count in UNMATCHED.items():
                for n in range(count):
                    log_question(
                        session,
                        sender_id=f"seed-u-{n}",
                        text=question,
                        intent="nlu_fallback",
                        outcome="no_match",
                        at=now - dt.timedelta(days=n),
                    )
    finally:
        database.dispose()


def test_insights_show_unmatched_questions_that_become_examples(
    desktop: BrowserContext, admin_secret: str, app_stack: Stack, stack_db: str
) -> None:
    seed_history(stack_db)
    page = desktop.new_page()
    sign_in(page, "/admin/insights", admin_secret)
    expect(page.locator(".kpi").first).to_contain_text("提问数")
    expect(page.locator("#unmatched tr").first).to_contain_text("员工落户积分怎么算")
    row = page.locator("#unmatched tr", has_text="员工落户积分怎么算")
    expect(row).to_contain_text("5")
    row.get_by_role("button", name="加为例句").click()

    dialog = page.get_by_role("dialog")
    picker = dialog.get_by_role("combobox")
    expect(picker).to_have_value("员工落户积分怎么算")
    picker.fill("1:72")
    expect(dialog.locator(".picker__option").first).to_contain_text("第72条")
    picker.press("Enter")
    expect(dialog).to_contain_text("将加为 第72条")
    dialog.get_by_role("button", name="加为例句").click()
    expect(dialog).to_be_hidden()
    expect(row).to_contain_text("已加为 第72条")

    examples = httpx.get(
        f"{app_stack.app_url}/api/admin/measures/1/72/examples",
        headers={"Authorization": f"Bearer {admin_secret}"},
    ).json()
    assert "员工落户积分怎么算" in [e["text"] for e in examples]
    page.reload()
    expect(page.locator("#unmatched tr", has_text="员工落户积分怎么算")).to_contain_text("已加为 第72条")
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "insights.png", full_page=True)


def test_pages_refuse_the_wrong_token(desktop: BrowserContext, stack_db: str) -> None:
    database = Database(stack_db)
    try:
        with database.session() as session:
            _, staff = issue_token(session, name="窗口工作人员", role="staff")
    finally:
        database.dispose()
    page = desktop.new_page()
    page.goto("/admin")
    page.get_by_label("访问令牌").fill(staff)
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert").filter(has_text="管理员令牌")).to_be_visible()
    expect(page.locator("#app")).to_be_hidden()
    page.goto("/staff")  # the staff token was kept: the console lets staff in
    expect(page.locator("#app")).to_be_visible()
    expect(page.get_by_role("link", name="数据管理")).to_be_hidden()
    page.get_by_role("button", name="退出").click()
    expect(page.get_by_label("访问令牌")).to_be_visible()


PLAN_TITLE = "普陀区深化推进一流营商环境建设行动方案"


def admin_headers(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def category_titles(app_url: str) -> list[str]:
    """The titles of document 1's categories, as the public API lists them."""
    return [c["title"] for c in httpx.get(f"{app_url}/api/categories").json() if c["document_id"] == 1]


def test_an_admin_adds_and_renames_a_category(
    desktop: BrowserContext, admin_secret: str, app_stack: Stack
) -> None:
    page = desktop.new_page()
    sign_in(page, "/admin", admin_secret)
    page.get_by_role("tab", name="文件与类别").click()
    rows = page.locator("#c-list tr")
    expect(rows).to_have_count(len(category_titles(app_stack.app_url)))
    expect(rows.first).to_contain_text("提升线上服务友好度")

    page.get_by_role("button", name="新建类别").click()
    page.get_by_label("类别名称").fill("推进低空经济服务")
    page.get_by_label("导语").fill("支持低空经济企业落地。")
    page.get_by_role("button", name="新建", exact=True).click()
    created = rows.filter(has_text="推进低空经济服务")
    expect(created.locator("td").last).to_have_text("0")  # no measures yet
    ordinal = int(created.locator("td").first.inner_text())

    page.get_by_role("button", name="新建类别").click()  # the same ordinal again: the 409 is shown
    page.get_by_label("类别序号").fill(str(ordinal))
    page.get_by_label("类别名称").fill("重复的类别")
    page.get_by_role("button", name="新建", exact=True).click()
    expect(page.locator("#c-error")).to_have_text(f"与现有类别冲突：文件1中已有第{ordinal}个类别")

    created.click()
    expect(page.get_by_label("导语")).to_have_value("支持低空经济企业落地。")
    page.get_by_label("类别名称").fill("发展低空经济")
    page.get_by_role("button", name="保存类别").click()
    expect(rows.filter(has_text="发展低空经济")).to_have_count(1)
    expect(rows.filter(has_text="推进低空经济服务")).to_have_count(0)
    titles = category_titles(app_stack.app_url)
    assert "发展低空经济" in titles and "推进低空经济服务" not in titles and "重复的类别" not in titles
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "admin_categories.png", full_page=True)

    page.get_by_role("tab", name="措施编辑").click()  # the renamed category can be chosen for a measure
    open_measure(page, "1:99", 99)
    expect(page.locator("#m-category option", has_text="发展低空经济")).to_have_count(1)


def test_an_admin_retires_and_restores_a_whole_document(
    desktop: BrowserContext, admin_secret: str, app_stack: Stack
) -> None:
    def answers() -> list[int]:
        items = httpx.get(f"{app_stack.app_url}/api/measures", params={"q": "留抵退税"}).json()["items"]
        return [m["number"] for m in items if m["document_id"] == 1]

    active = next(d for d in httpx.get(f"{app_stack.app_url}/api/documents").json() if d["id"] == 1)
    assert active["status"] == "active" and 25 in answers()
    page = desktop.new_page()
    sign_in(page, "/admin", admin_secret)
    page.get_by_role("tab", name="文件与类别").click()
    row = page.locator("#d-list tr", has_text=PLAN_TITLE)
    expect(row).to_contain_text("有效")
    expect(row).to_contain_text(f"{active['measures']} 条")

    page.once("dialog", lambda dialog: dialog.dismiss())  # changing one's mind changes nothing
    row.get_by_role("button", name=f"停用《{PLAN_TITLE}》").click()
    expect(row.get_by_role("button", name=f"停用《{PLAN_TITLE}》")).to_be_visible()
    assert 25 in answers()

    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    row.get_by_role("button", name=f"停用《{PLAN_TITLE}》").click()
    expect(row).to_contain_text("已停用")
    assert f"{active['measures']} 条措施不再出现" in asked[0]
    assert answers() == []  # the bot and the console no longer answer from it

    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name=f"恢复《{PLAN_TITLE}》").click()
    expect(row).to_contain_text("有效")
    assert 25 in answers()


def test_an_admin_exports_and_reimports_the_catalogue(
    desktop: BrowserContext, admin_secret: str, app_stack: Stack, tmp_path: Path
) -> None:
    page = desktop.new_page()
    sign_in(page, "/admin", admin_secret)
    page.get_by_role("tab", name="整库备份").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="导出 JSON").click()
    backup = tmp_path / download.value.suggested_filename
    download.value.save_as(backup)
    exported = json.loads(backup.read_text(encoding="utf-8"))
    assert backup.name == "policybot-catalogue.json" and exported["format"] == "policybot-catalogue"
    measures = sum(
        len(c["measures"]) for d in exported["documents"] for s in d["sections"] for c in s["categories"]
    )
    assert measures >= 100

    later = httpx.post(
        f"{app_stack.app_url}/api/admin/categories",
        headers=admin_headers(admin_secret),
        json={"document_id": 1, "section": 1, "title": "备份之后新建的类别"},
    )
    assert later.status_code == 201, later.text

    result = page.locator("#x-result")
    page.get_by_label("JSON 文件").set_input_files(
        files=[{"name": "notes.json", "mimeType": "application/json", "buffer": b"not json"}]
    )
    expect(result).to_contain_text("“notes.json”不是有效的 JSON 文件")
    expect(page.get_by_role("button", name="确认导入")).to_be_disabled()

    page.get_by_label("JSON 文件").set_input_files(backup)
    expect(result).to_contain_text("待导入")
    expect(page.locator("#x-counts")).to_contain_text(f"措施{measures} 条")
    page.get_by_role("button", name="确认导入").click()  # not replacing a filled database: refused
    expect(result.get_by_role("alert")).to_contain_text("数据库中已有政策数据")
    assert "备份之后新建的类别" in category_titles(app_stack.app_url)

    page.get_by_label("替换现有全部政策数据").check()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="确认导入").click()
    expect(result).to_contain_text("已导入“policybot-catalogue.json”")
    expect(page.locator("#x-counts")).to_contain_text(f"措施{measures} 条")
    expect(page.locator("#x-counts")).to_contain_text(f"政策文件{len(exported['documents'])} 个")
    shot(page, "admin_transfer.png")
    assert "备份之后新建的类别" not in category_titles(app_stack.app_url)  # back to the backup
    again = httpx.get(f"{app_stack.app_url}/api/admin/export", headers=admin_headers(admin_secret)).json()
    assert again == exported


def test_an_admin_gives_a_unit_a_remit_and_staff_search_names_it(
    desktop: BrowserContext, admin_secret: str
) -> None:
    page = desktop.new_page()
    sign_in(page, "/admin", admin_secret)
    page.get_by_role("tab", name="责任单位").click()
    page.get_by_role("button", name="区文旅局", exact=True).click()
    remit = page.locator("#u-remit")
    expect(remit).not_to_have_value("")  # the seeded remit is shown
    remit.fill(remit.input_value() + "、密室逃脱门店")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.locator("#toast")).to_contain_text("单位信息已保存")

    page.goto("/staff")
    page.get_by_label("搜索政策措施").fill("密室逃脱门店的事找谁")  # no plan word in it
    expect(page.locator("#results .empty")).to_contain_text("一般由区文旅局负责")
    shot(page, "staff_remit.png")
