"""The console's pages: one shell (`console/shell.html`: head, security policy, top bar slot)
around each page's own body (`console/<page>.html`), its stylesheets and its scripts."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from pathlib import Path
from string import Template

CONSOLE_DIR = Path(__file__).resolve().parent / "console"
ASSETS = "/console-static/"


@dataclass(frozen=True)
class ConsolePage:
    """One page of the console: its body file, title, extra stylesheets and scripts."""

    body: str
    title: str
    styles: tuple[str, ...] = ()
    modules: tuple[str, ...] = ()  # ES modules
    libraries: tuple[str, ...] = ()  # vendored classic scripts, loaded deferred before the modules


PAGES = {
    "/staff": ConsolePage("staff.html", "政策查询", modules=("js/staff.js",)),
    "/admin": ConsolePage("admin.html", "数据管理", styles=("admin.css",), modules=("js/admin.js",)),
    "/admin/insights": ConsolePage(
        "insights.html",
        "运行洞察",
        styles=("admin.css",),
        libraries=("vendor/chart.umd.js",),
        modules=("js/insights.js",),
    ),
}


def render(page: ConsolePage, console_dir: Path = CONSOLE_DIR) -> str:
    """The page's HTML: the shell with the page's title, head links and body filled in."""
    head = [f'  <link rel="stylesheet" href="{ASSETS}{s}">' for s in page.styles]
    head += [f'  <script defer src="{ASSETS}{s}"></script>' for s in page.libraries]
    head += [f'  <script type="module" src="{ASSETS}{s}"></script>' for s in page.modules]
    shell = Template((console_dir / "shell.html").read_text(encoding="utf-8"))
    body = (console_dir / page.body).read_text(encoding="utf-8")
    return shell.substitute(title=escape(page.title), head="\n".join(head), body=body)
