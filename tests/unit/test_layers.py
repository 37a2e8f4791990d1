"""The one direction of imports, checked on the source: data layer, services, web app, actions, channels."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HTTP_MODULES = ("fastapi", "starlette", "httpx", "requests", "urllib.request", "http", "aiohttp", "uvicorn")


def imports_of(path: Path) -> set[str]:
    """Every module a file imports (absolute names; `from x import y` gives x and x.y)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def starts(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


@pytest.mark.parametrize("path", modules("policy_db"), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_data_layer_knows_no_http_no_web_app_no_dialogue_no_channel(path: Path) -> None:
    bad = {
        name
        for name in imports_of(path)
        if starts(name, HTTP_MODULES) or starts(name, ("app", "actions", "channels", "rasa_sdk", "rasa"))
    }
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


@pytest.mark.parametrize("path", modules("policy_db/services"), ids=lambda p: p.name)
def test_services_import_no_web_framework(path: Path) -> None:
    assert not {n for n in imports_of(path) if starts(n, ("fastapi", "starlette", "pydantic.fields"))}


@pytest.mark.parametrize("path", modules("app/routes"), ids=lambda p: p.name)
def test_no_route_module_imports_another(path: Path) -> None:
    others = {n for n in imports_of(path) if n.startswith("app.routes")}
    assert not others, f"{path.name} imports {sorted(others)}"


@pytest.mark.parametrize("package", ["actions", "channels"])
def test_actions_and_channels_do_not_reach_into_the_web_app(package: str) -> None:
    for path in modules(package):
        assert not {n for n in imports_of(path) if starts(n, ("app",))}, path


def test_there_is_one_asgi_entry_point() -> None:
    apps = [
        path.relative_to(ROOT)
        for package in ("policy_db", "app", "actions", "channels", "tools")
        for path in modules(package)
        if "FastAPI(" in path.read_text(encoding="utf-8")
    ]
    assert apps == [Path("app/main.py")]
