"""`policybot`: set up the database, import policy documents, search, evaluate."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import track
from rich.table import Table

from app.bot_client import bot_answer
from policy_db.auth import Principal
from policy_db.calibration import save_calibration
from policy_db.config import PROJECT_ROOT
from policy_db.dictionary import export_dictionary
from policy_db.errors import PolicyError
from policy_db.evaluation import bm25_answer, evaluate, is_frozen, load_items, matcher_answer
from policy_db.formats import ACCEPTED_SUFFIXES, MAX_FILE_BYTES, UnreadableDocument, read_document
from policy_db.kinds import ADMIN
from policy_db.migrate import upgrade_database
from policy_db.runtime import build_runtime, prepare_database
from policy_db.services.documents import add_document_text

app = typer.Typer(help="普陀营商政策助手 — policy database tools", no_args_is_help=True)
console = Console()


@app.command()
def init(export: bool = typer.Option(True, help="also export the jieba dictionary")) -> None:
    """Migrate the database, seed it when empty, export the jieba dictionary."""
    runtime = build_runtime()
    reports = prepare_database(runtime, export_dict=export)
    for report in reports:
        console.print(f"seeded {report.slug}: {len(report.created)} measures")
    console.print(f"database ready: {runtime.settings.database_url}")


# Imports from the command line are audited under this name.
CLI_ACTOR = Principal(name="policybot import", role=ADMIN)


@app.command("import")
def import_files(
    files: list[Path] = typer.Argument(
        ..., exists=True, dir_okay=False, help=f"document files: {', '.join(ACCEPTED_SUFFIXES)}"
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="parse and preview, write nothing"),
    supersedes: str = typer.Option(None, help="slug of the document this one replaces (one file only)"),
    document_number: str = typer.Option(None, help="文号, when the document does not state it"),
    effective_on: datetime.datetime = typer.Option(None, formats=["%Y-%m-%d"], help="施行日期"),
    expires_on: datetime.datetime = typer.Option(None, formats=["%Y-%m-%d"], help="失效日期 (last day)"),
    notify: bool = typer.Option(True, help="notify the saved enterprise profiles the new measures concern"),
) -> None:
    """Import policy documents (idempotent: re-importing the same text changes nothing).

    The slug is the file name without its extension, in lower case. Title, 文号 and dates are read
    from the document; the options correct them. Imports are audited like the console's.
    """
    metadata = {
        name: value.date() if isinstance(value, datetime.datetime) else value
        for name, value in (
            ("document_number", document_number),
            ("effective_on", effective_on),
            ("expires_on", expires_on),
        )
        if value is not None
    }
    if (supersedes or metadata) and len(files) > 1:
        console.print("[red]--supersedes and the metadata options apply to one file at a time[/red]")
        raise typer.Exit(2)
    runtime = build_runtime()
    upgrade_database(runtime.settings.database_url)
    failed = False
    for path in track(files, description="importing", console=console):
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise UnreadableDocument(f"文件过大：上限为 {MAX_FILE_BYTES // 1_000_000} MB")
            text = read_document(path.read_bytes(), path.name)
            with runtime.database.session() as session:
                result = add_document_text(
                    session,
                    actor=CLI_ACTOR,
                    text=text,
                    slug=path.stem.lower(),
                    commit=not dry_run,
                    dictionary_path=runtime.settings.dictionary_path,
                    metadata=metadata,
                    supersedes=supersedes,
                    notify=notify,
                )
        except PolicyError as error:  # unreadable, unparseable, a bad slug, an unknown --supersedes
            console.print(f"[red]{escape(str(path))}: not imported[/red]\n{escape(str(error))}")
            failed = True
            continue
        _print_result(result, dry_run)
    raise typer.Exit(1 if failed else 0)


def _print_result(result: dict[str, Any], dry_run: bool) -> None:
    report, summary, metadata = result["report"], result["summary"], result["metadata"]
    title = f"{metadata['title']} ({report['slug']}){' — dry run, nothing written' if dry_run else ''}"
    table = Table(title=title)
    for column in ("created", "updated", "unchanged", "retired", "new units"):
        table.add_column(column)
    table.add_row(
        *(_numbers(report[k]) for k in ("created", "updated", "unchanged", "retired")),
        "、".join(report["new_units"]) or "-",
    )
    console.print(table)
    dates = "  ".join(
        f"{k}={metadata[k]}" for k in ("issued_on", "effective_on", "expires_on") if metadata[k]
    )
    shape = summary.get("shape_label") or summary.get("shape")
    console.print(f"structure: {shape}  {metadata['document_number']}  {dates}")
    console.print(f"enterprises to notify: {result['notifications'].get('count', 0)}")
    if result.get("supersedes"):
        console.print(f"replaces: {result['supersedes']['title']} ({result['supersedes']['slug']})")


def _numbers(values: list[int]) -> str:
    if not values:
        return "0"
    return f"{len(values)} ({', '.join(map(str, values[:8]))}{'…' if len(values) > 8 else ''})"


@app.command("export-dict")
def export_dict(path: Path = typer.Argument(None, help="defaults to DICTIONARY_PATH")) -> None:
    """Write the jieba user dictionary used by the matcher and the Rasa pipeline."""
    runtime = build_runtime()
    target = path or runtime.settings.dictionary_path
    with runtime.database.session() as session:
        count = export_dictionary(session, target)
    console.print(f"{count} words → {target}")


@app.command()
def search(question: str, limit: int = 5) -> None:
    """Search the measures as the bot would."""
    runtime = build_runtime()
    result = runtime.search.search(question, limit=limit)
    console.print(
        f"kind={result.kind} outcome={result.outcome} unit={result.unit} "
        f"top={result.top_score:.3f} route={result.route}"
    )
    for m in result.measures:
        console.print(f"{m.score:.3f} 第{m.number}条 {m.title} ({'、'.join(m.units)})")


@app.command()
def calibrate(
    nlu: Path = typer.Option(PROJECT_ROOT / "bot" / "data" / "nlu", help="Rasa NLU data (in/out of scope)"),
    tuning: Path = typer.Option(
        PROJECT_ROOT / "eval",
        help="folder of the tuning sets: remit_tuning*, inscope_tuning*, oos_bureaus*.jsonl",
    ),
    write: bool = typer.Option(True, help="store the result in policy_db/data/calibration.json"),
) -> None:
    """Fit the hybrid score and its answer / clarify / remit thresholds on the tuning data."""
    # the fitting code is not needed by any other command
    from policy_db.calibrate import fit, tuning_questions

    runtime = build_runtime()
    runtime.search.use_calibration(None)
    calibration, report = fit(runtime.search, tuning_questions(nlu, tuning))
    for line in report:
        console.print(line)
    console.print(f"thresholds: {calibration.thresholds}")
    if write:
        save_calibration(calibration)
        console.print(f"saved for {calibration.model}")


@app.command("eval")
def eval_command(
    file: Path = typer.Argument(..., exists=True, dir_okay=False),
    via: str = typer.Option("matcher", help="matcher or bot"),
    rasa_url: str = typer.Option(None, help="defaults to RASA_URL"),
    show_misses: bool | None = typer.Option(
        None, "--show-misses/--no-show-misses", help="list the misses (default: yes, except for a frozen set)"
    ),
) -> None:
    """Print top-1, top-3, unit accuracy and out-of-scope rejection for a JSONL question file."""
    runtime = build_runtime()
    if via == "bot":
        answer = bot_answer(rasa_url or runtime.settings.rasa_url)
    elif via == "matcher":
        answer = matcher_answer(runtime.search)
    else:
        raise typer.BadParameter("via must be matcher or bot")
    items = load_items(file)
    report = evaluate(items, answer)
    if show_misses is None:
        show_misses = not is_frozen(file)
    if show_misses:
        for miss in report.misses:
            console.print("  miss: " + json.dumps(miss, ensure_ascii=False))
    console.print(f"[bold]eval via {via}[/bold] on {file}")
    for line in report.lines():
        console.print(line)
    console.print("[bold]plain BM25[/bold] (same questions, measure text only, never declines)")
    for line in evaluate(items, bm25_answer(runtime.search)).lines():
        console.print(line)


@app.command("admin-token")
def admin_token(
    name: str = typer.Option("admin", help="who the token is for (shown in the audit trail)"),
    role: str = typer.Option("admin", help="admin (edits the policy database) or staff (console)"),
) -> None:
    """Issue an API token; it is printed once, as the last line, and stored only as a hash."""
    from policy_db.auth import issue_token

    runtime = build_runtime()
    upgrade_database(runtime.settings.database_url)
    with runtime.database.session() as session:
        token, secret = issue_token(session, name=name, role=role)
        token_id = token.id
    console.print(f"{role} token #{token_id} “{name}” (shown once — keep it safe):")
    print(secret)


@app.command()
def purge(
    days: int = typer.Option(None, min=1, help="keep this many days (defaults to RETENTION_DAYS, 180)"),
) -> None:
    """Delete questions, ratings and chat messages older than the retention period (counters stay)."""
    from policy_db.clock import utc_now
    from policy_db.retention import cutoff
    from policy_db.retention import purge as purge_rows

    runtime = build_runtime()
    days, now = days or runtime.settings.retention_days, utc_now()
    with runtime.database.session() as session:
        counts = purge_rows(session, now=now, days=days)
    console.print(
        f"deleted rows older than {days} days (before {cutoff(now=now, days=days):%Y-%m-%d %H:%M} UTC):"
    )
    for table, count in counts.items():
        console.print(f"  {table}: {count}")


@app.command("export-json")
def export_json(path: Path = typer.Argument(..., dir_okay=False, help="file to write")) -> None:
    """Write the whole catalogue (documents, measures, units, examples, lexicon) as JSON."""
    from policy_db.services.backup import export_backup

    runtime = build_runtime()
    with runtime.database.session() as session:
        data = export_backup(session)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    console.print(f"{len(data['documents'])} documents, {len(data['units'])} units → {path}")


@app.command("import-json")
def restore_json(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="an export-json file"),
    replace: bool = typer.Option(False, "--replace", help="delete the current catalogue first"),
) -> None:
    """Load a JSON export into an empty catalogue (or, with --replace, instead of the current one)."""
    from policy_db.auth import Principal
    from policy_db.errors import PolicyError
    from policy_db.services.backup import CatalogueBackup, restore_backup

    runtime = build_runtime()
    upgrade_database(runtime.settings.database_url)
    data = CatalogueBackup.model_validate_json(path.read_text(encoding="utf-8"))
    try:
        with runtime.database.session() as session:
            counts = restore_backup(
                session,
                actor=Principal("cli", "admin"),
                data=data,
                replace=replace,
                dictionary_path=runtime.settings.dictionary_path,
            )
    except PolicyError as error:
        console.print(f"[red]not imported:[/red] {error}")
        raise typer.Exit(1) from error
    console.print(", ".join(f"{n} {name}" for name, n in counts.items()))


@app.command()
def worker(
    once: bool = typer.Option(False, "--once", help="deliver what is due now, then stop"),
    batch: int = typer.Option(None, min=1, help="notifications per claim (defaults to PUSH_BATCH_SIZE, 50)"),
) -> None:
    """Deliver policy notifications from the outbox: the widget's inbox, and WeChat template messages.

    WeChat needs WECHAT_APPID, WECHAT_APPSECRET and WECHAT_TEMPLATE_ID (tokens shared in REDIS_URL);
    without them WeChat notifications wait in the outbox. Run any number of workers on PostgreSQL,
    one on SQLite. SIGTERM or Ctrl-C: the notification in hand is finished, the rest given back.
    """
    import logging
    import signal
    import threading

    from policy_db.config import get_settings
    from policy_db.db import Database
    from policy_db.push.config import PushSettings
    from policy_db.push.delivery import InboxChannel, WeChatTemplateChannel
    from policy_db.push.worker import Channel, RunReport, Worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    upgrade_database(settings.database_url)
    push = PushSettings()
    if batch:
        push = push.model_copy(update={"push_batch_size": batch})
    channels: list[Channel] = [InboxChannel()]
    try:
        from channels.wechat.official_api import OfficialAccountAPI  # wechatpy: see the README

        api = OfficialAccountAPI.from_environment()
    except ImportError as error:
        api = None
        console.print(f"[yellow]WeChat client unavailable ({error}): WeChat notifications wait[/yellow]")
    if api is not None and push.wechat_template_id:
        channels.append(WeChatTemplateChannel(api, push.wechat_template_id, push.wechat_template_url))
    else:
        console.print(
            "WeChat notifications wait in the outbox (WECHAT_APPID, WECHAT_APPSECRET, WECHAT_TEMPLATE_ID)"
        )
    database = Database(settings.database_url)
    runner = Worker(database, channels, push)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    console.print(f"worker {runner.name}: {', '.join(sorted(runner.channels))}")
    try:
        if once:
            report = RunReport()
            while not stop.is_set():
                step = runner.run_once(stop)
                report.add(step)
                if step.claimed == 0:
                    break
        else:
            report = runner.run(stop)
    finally:
        database.dispose()
    console.print(
        f"claimed {report.claimed}, sent {report.sent}, retried {report.retried}, failed {report.failed}, "
        f"deferred digests {report.deferred}, leases lost {report.lost}"
    )


if __name__ == "__main__":
    app()
