"""Policy documents uploaded as .txt/.docx/.pdf/.html through the admin API and `policybot import`;
hostile uploads are refused with a clear message and write nothing."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from httpx import Response
from reportlab.lib.pdfencrypt import StandardEncryption
from typer.testing import CliRunner

from app import cli
from policy_db.config import get_settings
from policy_db.formats import NO_TEXT_LAYER
from tests.integration.admin_support import AdminApi, admin_api, seeded_runtime_of
from tests.unit.test_formats import (
    BUILDERS,
    docx_bytes,
    pdf_bytes,
    scanned_pdf_bytes,
    seed_excerpt,
    zip_bytes,
)

URL = "/api/admin/documents/upload"
PLAN = seed_excerpt(10)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AdminApi]:
    with (
        seeded_runtime_of("sqlite", tmp_path_factory.mktemp("formats")) as runtime,
        admin_api(runtime) as admin,
    ):
        yield admin


def upload(api: AdminApi, name: str, data: bytes, **form: str) -> Response:
    return api.client.post(URL, headers=api.admin, data=form, files={"file": (name, data)})


def state(api: AdminApi) -> tuple[int, int]:
    """How many documents there are, and the catalogue revision."""
    documents = api.client.get("/api/documents").json()
    return len(documents), api.client.get("/health").json()["revision"]


@pytest.mark.parametrize("suffix", list(BUILDERS))
def test_every_format_previews_as_the_same_plan(api: AdminApi, suffix: str) -> None:
    before = state(api)
    expected = upload(api, "plan.txt", PLAN.encode()).json()
    response = upload(api, f"Plan{suffix}", BUILDERS[suffix](PLAN))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["committed"] is False and answer["report"]["slug"] == "plan"
    assert answer["summary"] == expected["summary"] and answer["summary"]["measures"] == 10
    assert answer["report"]["created"] == list(range(1, 11))
    assert answer["report"]["new_units"] == expected["report"]["new_units"]
    assert state(api) == before


def test_a_pdf_upload_commits_and_is_searchable(api: AdminApi) -> None:
    documents, revision = state(api)
    response = upload(api, "plan.pdf", pdf_bytes(PLAN), slug="putuo-pdf-excerpt", commit="true")
    assert response.status_code == 200, response.text
    assert response.json()["committed"] is True
    assert state(api) == (documents + 1, revision + 1)
    slugs = {d["slug"] for d in api.client.get("/api/documents").json()}
    assert "putuo-pdf-excerpt" in slugs


def encrypted_pdf() -> bytes:
    return pdf_bytes(PLAN, encrypt=StandardEncryption("secret", "owner"))


def zip_bomb() -> bytes:
    return zip_bytes({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<" + b" " * 30_000_000})


HOSTILE = [
    (
        "setup.exe",
        lambda: b"MZ\x90\x00\x03" + bytes(200),
        415,
        "不支持的文件类型“.exe”：只能导入 .txt、.docx、.pdf、.html",
    ),
    ("photo.png", lambda: b"\x89PNG\r\n\x1a\n" + bytes(200), 415, "不支持的文件类型“.png”"),
    ("plan.docx", zip_bomb, 422, "解压后过大"),
    ("plan.docx", lambda: zip_bytes({"photos/a.jpg": b"\xff\xd8\xff" + bytes(100)}), 415, "不是有效的Word"),
    ("plan.docx", lambda: docx_bytes(PLAN)[:3000], 422, "已损坏"),
    ("scan.pdf", scanned_pdf_bytes, 422, NO_TEXT_LAYER),
    ("plan.pdf", encrypted_pdf, 422, "已加密"),
    ("plan.pdf", lambda: b"%PDF-1.7\n1 0 obj << /Type /Catalog", 422, "PDF文件已损坏"),
    ("plan.pdf", lambda: docx_bytes(PLAN), 415, "不是有效的PDF文件，内容实为压缩包(zip)"),
]


@pytest.mark.parametrize(("name", "make", "status", "words"), HOSTILE)
def test_hostile_uploads_are_refused_clearly_and_write_nothing(
    api: AdminApi, name: str, make: object, status: int, words: str
) -> None:
    before = state(api)
    response = upload(api, name, make(), commit="true")  # type: ignore[operator]
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert words in detail and "Traceback" not in response.text
    assert state(api) == before


def test_a_50_mb_upload_gets_413_and_writes_nothing(api: AdminApi) -> None:
    before = state(api)
    response = upload(api, "huge.pdf", b"%PDF-1.7\n" + bytes(50_000_000), commit="true")
    assert response.status_code == 413 and response.json()["detail"] == "文件过大：上限为 20 MB"
    assert state(api) == before


def test_a_small_file_with_too_much_text_gets_413(api: AdminApi) -> None:
    before = state(api)
    rng = random.Random(7)
    lines = ("".join(chr(0x4E00 + rng.randrange(5000)) for _ in range(1000)) for _ in range(400))
    text = "一、总则\n" + "\n".join(lines)  # 1.2 MB of text in a docx of about 0.8 MB
    response = upload(api, "long.docx", docx_bytes(text))
    assert response.status_code == 413 and "文字" in response.json()["detail"]
    assert state(api) == before


def test_a_gb18030_text_file_is_read(api: AdminApi) -> None:
    response = upload(api, "plan.txt", PLAN.encode("gb18030"))
    assert response.status_code == 200 and response.json()["summary"]["measures"] == 10


# --- policybot import -----------------------------------------------------------------------------


def run_cli(api: AdminApi, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *args: str) -> str:
    monkeypatch.setenv("DATABASE_URL", api.runtime.settings.database_url)
    monkeypatch.setenv("DICTIONARY_PATH", str(tmp_path / "userdict.txt"))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli.app, ["import", *args])
    finally:
        get_settings.cache_clear()
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return f"{result.exit_code}\n{result.output}"


def test_cli_dry_run_of_a_docx(api: AdminApi, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    before = state(api)
    plan = tmp_path / "putuo-docx.docx"
    plan.write_bytes(docx_bytes(PLAN, numbered=True))
    output = run_cli(api, monkeypatch, tmp_path, str(plan), "--dry-run")
    assert output.startswith("0\n"), output
    flat = re.sub(r"\s+", "", output)  # rich wraps at the terminal's width
    assert "普陀区深化推进一流营商环境建设行动方案" in flat and "dryrun,nothingwritten" in flat
    assert "10(1,2,3" in flat
    assert state(api) == before


def test_cli_imports_a_pdf_and_an_html_page(
    api: AdminApi, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    documents, _ = state(api)
    (tmp_path / "cli-plan.pdf").write_bytes(pdf_bytes(PLAN))
    (tmp_path / "cli-page.html").write_bytes(BUILDERS[".html"](PLAN))
    output = run_cli(
        api, monkeypatch, tmp_path, str(tmp_path / "cli-plan.pdf"), str(tmp_path / "cli-page.html")
    )
    assert output.startswith("0\n"), output
    assert state(api)[0] == documents + 2
    assert (tmp_path / "userdict.txt").exists()


def test_cli_refuses_unreadable_files_without_a_traceback(
    api: AdminApi, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    before = state(api)
    (tmp_path / "scan.pdf").write_bytes(scanned_pdf_bytes())
    (tmp_path / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (tmp_path / "bomb.docx").write_bytes(zip_bomb())
    output = run_cli(
        api, monkeypatch, tmp_path, *(str(tmp_path / n) for n in ("scan.pdf", "photo.png", "bomb.docx"))
    )
    assert output.startswith("1\n"), output
    flat = re.sub(r"\s+", "", output)  # rich wraps at the terminal's width
    assert NO_TEXT_LAYER in flat and "不支持的文件类型“.png”" in flat and "解压后过大" in flat
    assert flat.count("notimported") == 3 and "Traceback" not in output
    assert state(api) == before
