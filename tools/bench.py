"""`make bench`: query embedding time; index build (cold and from stored vectors) and search latency
at 100 and 10,000 measures (SQLite and PostgreSQL) next to a plain BM25 baseline measured in the
same run; then the bot's REST round trip and throughput.

Then the import of the 100-measure plan as .docx and .pdf (read, parse, ingest into a new SQLite file),
and 20 documents of 100 measures each, one in force (tools/bench_documents.py).

Then policy notifications: `profiles_for_change` over 100,000 generated profiles (a new tag, a typo
fix) and publishing a change with its notifications, SQLite and PostgreSQL; the worker's deliveries
per second to the widget's inbox and to a stand-in for WeChat's API (one worker; two on PostgreSQL).

Prints figures; asserts nothing. Options: --skip-bot, --skip-postgres, --skip-import, --only-import,
--skip-documents, --only-documents, --skip-push, --only-push, --synthetic N.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import functools
import html
import importlib
import io
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from policy_db.auth import Principal  # noqa: E402
from policy_db.catalogue import active_measures  # noqa: E402
from policy_db.clock import utc_now  # noqa: E402
from policy_db.config import Settings, get_settings  # noqa: E402
from policy_db.embedding import shared_embedder  # noqa: E402
from policy_db.evaluation import bm25_answer, evaluate, load_items, matcher_answer  # noqa: E402
from policy_db.formats import read_document  # noqa: E402
from policy_db.ingest import ingest_document  # noqa: E402
from policy_db.migrate import upgrade_database  # noqa: E402
from policy_db.models import ResponsibleUnit  # noqa: E402
from policy_db.parser import (  # noqa: E402
    ParsedCategory,
    ParsedDocument,
    ParsedMeasure,
    ParsedSection,
    UnitRef,
    parse_document,
)
from policy_db.runtime import Runtime, build_runtime, prepare_database  # noqa: E402
from policy_db.search import PolicySearch  # noqa: E402
from tools.bench_documents import bench_documents  # noqa: E402
from tools.stack import Stack  # noqa: E402

EVAL_FILE = ROOT.parent / "shared" / "eval" / "dev.jsonl"
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    """p50, p95, p99 in milliseconds."""
    ordered = sorted(samples)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return pick(0.50), pick(0.95), pick(0.99)


def runtime_for(url: str, tmp: Path) -> Runtime:
    settings = Settings(database_url=url, dictionary_path=tmp / "userdict.txt")
    runtime = build_runtime(settings)
    prepare_database(runtime)
    return runtime


def synthetic_document(runtime: Runtime, size: int, seed: int = 7) -> ParsedDocument:
    """A plan of `size` measures recombined from the seed's clauses and units."""
    rng = random.Random(seed)
    with runtime.database.session() as session:
        measures = active_measures(session)
        clauses = [c for m in measures for c in m.text.replace("。", ",").split(",") if len(c) > 4]
        units = sorted({u for m in measures for u in m.unit_names})
    categories, number = [], 1
    per_category = 50
    for ordinal in range(1, size // per_category + 1):
        items = []
        for _ in range(per_category):
            text = ",".join(rng.sample(clauses, 3)) + "。"
            refs = tuple(UnitRef(u, "responsible") for u in rng.sample(units, rng.randint(1, 3)))
            items.append(ParsedMeasure(number, text, refs, 0))
            number += 1
        categories.append(ParsedCategory(ordinal, f"合成类别{ordinal}", "合成", tuple(items), 0))
    sections = tuple(
        ParsedSection(i + 1, f"合成部分{i + 1}", tuple(categories[i * 20 : (i + 1) * 20]), 0)
        for i in range((len(categories) + 19) // 20)
    )
    return ParsedDocument("合成行动方案", (), None, "", sections)


def time_search(runtime: Runtime, questions: list[str], rounds: int = 3) -> list[float]:
    runtime.search.index()
    samples = []
    for _ in range(rounds):
        for question in questions:
            started = time.perf_counter()
            runtime.search.search(question, limit=10)
            samples.append(time.perf_counter() - started)
    return samples


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def bench_embedding(questions: list[str]) -> None:
    """The query embedding alone: what dense retrieval adds to every question."""
    embedder = shared_embedder(get_settings().embedding_model)
    if embedder is None:
        print("[embedding] EMBEDDING_MODEL=none: dense retrieval off")
        return
    embedder.embed(questions[:2], mode="query")
    samples = [timed(functools.partial(embedder.embed, [q], mode="query")) for q in questions * 3]
    p50, p95, _ = percentiles(samples)
    print(f"[embedding] {embedder.name}: query p50 {p50:.1f} ms, p95 {p95:.1f} ms")


def index_builds(runtime: Runtime, label: str, size: int) -> None:
    """Index build with every vector embedded (cold), then in a new process state from stored vectors."""
    vectors = runtime.search.vectors
    before = vectors.embedded if vectors else 0
    cold = timed(runtime.search.index)
    embedded = (vectors.embedded if vectors else 0) - before
    restarted = PolicySearch(
        runtime.database,
        topics=runtime.search.topics,
        embedder=vectors.embedder if vectors else None,
        calibration=runtime.search.calibration,
    )
    warm = timed(restarted.index)
    print(
        f"[{label}] {size} measures: index build cold {cold:.1f} s ({embedded} texts embedded), "
        f"from stored vectors {warm:.1f} s"
    )


def bench_search(url: str, label: str, synthetic: int, questions: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        runtime = runtime_for(url, Path(tmp))
        index_builds(runtime, label, 100)
        items = load_items(EVAL_FILE)
        ours = evaluate(items, matcher_answer(runtime.search))
        bm25 = bm25_answer(runtime.search)
        theirs = evaluate(items, bm25)
        p50, p95, _ = percentiles(time_search(runtime, questions))
        b_samples = [timed(functools.partial(bm25, q)) for q in questions * 3]
        b50, b95, _ = percentiles(b_samples)
        print(
            f"[{label}] 100 measures: search p50 {p50:.2f} ms, p95 {p95:.2f} ms | "
            f"BM25 p50 {b50:.2f} ms, p95 {b95:.2f} ms | time ratio p95 ours/BM25 {p95 / b95:.2f}"
        )
        print(
            f"[{label}] dev set: ours top-1 {ours.top1:.3f} top-3 {ours.top3:.3f} "
            f"oos {ours.oos_rejection} | BM25 top-1 {theirs.top1:.3f} top-3 {theirs.top3:.3f} "
            f"oos {theirs.oos_rejection} | top-1 ratio {ours.top1 / max(theirs.top1, 1e-9):.2f}"
        )
        with runtime.database.session() as session:
            ingest_document(session, synthetic_document(runtime, synthetic), slug="synthetic", source_text="")
        index_builds(runtime, label, synthetic + 100)
        p50, p95, _ = percentiles(time_search(runtime, questions))
        bm25 = bm25_answer(runtime.search)
        b_samples = [timed(functools.partial(bm25, q)) for q in questions]
        b50, b95, _ = percentiles(b_samples)
        print(
            f"[{label}] {synthetic + 100} measures: search p50 {p50:.2f} ms, "
            f"p95 {p95:.2f} ms | BM25 p50 {b50:.2f} ms, p95 {b95:.2f} ms | ratio {p95 / b95:.2f}"
        )
        runtime.database.dispose()


def postgres_schema() -> tuple[str, sa.Engine, str]:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(POSTGRES)
    with engine.begin() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    return f"{POSTGRES}?options=-csearch_path%3D{schema}", engine, schema


def resident_mb(pid: int) -> float:
    """A process's resident set size (Linux /proc), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def bot_round_trips(url: str, messages: list[str], concurrency: int) -> tuple[list[float], float]:
    """Send each message from its own sender, `concurrency` at a time; latencies and msgs/s."""
    samples: list[float] = []
    queue = list(messages)
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:

        async def worker() -> None:
            while queue:
                text = queue.pop()
                started = time.perf_counter()
                reply = await client.post(
                    "/webhooks/rest/webhook", json={"sender": f"bench-{uuid.uuid4().hex}", "message": text}
                )
                reply.raise_for_status()
                samples.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return samples, len(samples) / elapsed


def bench_bot(questions: list[str]) -> None:
    with Stack(rasa_port=5105, action_port=5155, app_port=8100, log_dir=ROOT / "var" / "log") as stack:
        asyncio.run(bot_round_trips(stack.rasa_url, questions[:10], 2))  # warm-up
        policy, _ = asyncio.run(bot_round_trips(stack.rasa_url, questions * 2, 1))
        greet, _ = asyncio.run(bot_round_trips(stack.rasa_url, ["你好"] * len(questions) * 2, 1))
        p50, p95, _ = percentiles(policy)
        g50, g95, _ = percentiles(greet)
        print(
            f"[bot] REST round trip: policy question p50 {p50:.0f} ms, p95 {p95:.0f} ms | "
            f"greeting p50 {g50:.0f} ms, p95 {g95:.0f} ms | ratio p95 {p95 / g95:.2f}"
        )
        for concurrency in (8, 32):
            samples, rate = asyncio.run(bot_round_trips(stack.rasa_url, questions * 3, concurrency))
            c50, c95, _ = percentiles(samples)
            print(
                f"[bot] {concurrency} concurrent senders: {rate:.1f} msgs/s, p50 {c50:.0f} ms, "
                f"p95 {c95:.0f} ms"
            )
        memory = ", ".join(
            f"{name} {resident_mb(process.pid):.0f} MB" for name, process in stack.processes.items()
        )
        print(f"[bot] resident memory after the runs: {memory}")


def plan_as_docx(text: str) -> bytes:
    """The plan as a Word file, one paragraph per line."""
    import docx

    document = docx.Document()
    for line in filter(None, map(str.strip, text.splitlines())):
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def plan_as_pdf(text: str) -> bytes | None:
    """The plan as a Chinese PDF (reportlab's built-in CID font; a dev dependency), or None."""
    try:
        from reportlab.lib.styles import ParagraphStyle
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.cidfonts import UnicodeCIDFont
        from reportlab.platypus import Paragraph, SimpleDocTemplate
    except ImportError:
        return None
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    style = ParagraphStyle("body", fontName="STSong-Light", fontSize=12, leading=20, wordWrap="CJK")
    style.firstLineIndent = 24
    buffer = io.BytesIO()
    lines = filter(None, map(str.strip, text.replace("·", "\u30fb").splitlines()))
    SimpleDocTemplate(buffer).build([Paragraph(html.escape(line), style) for line in lines])
    return buffer.getvalue()


def bench_import(rounds: int = 3) -> None:
    """`policybot import` of the seed plan as .docx and .pdf: read, parse, ingest into a new SQLite file."""
    text = (ROOT / "seeds" / "putuo-2021-business-environment.txt").read_text(encoding="utf-8")
    for suffix, data in ((".docx", plan_as_docx(text)), (".pdf", plan_as_pdf(text))):
        if data is None:
            print(f"[import] {suffix}: reportlab not installed (pip install -e '.[dev]'), skipped")
            continue
        reads, parses, ingests = [], [], []
        for _ in range(rounds):
            with tempfile.TemporaryDirectory() as tmp:
                url = f"sqlite:///{tmp}/import.db"
                upgrade_database(url)
                runtime = build_runtime(
                    Settings(database_url=url, dictionary_path=Path(tmp) / "userdict.txt")
                )
                started = time.perf_counter()
                document = read_document(data, f"plan{suffix}")
                read = time.perf_counter()
                parsed = parse_document(document)
                parse = time.perf_counter()
                with runtime.database.session() as session:
                    report = ingest_document(session, parsed, slug="plan", source_text=document)
                reads.append(read - started)
                parses.append(parse - read)
                ingests.append(time.perf_counter() - parse)
                runtime.database.dispose()
        read_s, parse_s, ingest_s = (sorted(x)[len(x) // 2] for x in (reads, parses, ingests))
        print(
            f"[import] {suffix} {len(data) / 1000:.0f} kB, {len(report.created)} measures: "
            f"read {read_s * 1000:.0f} ms + parse {parse_s * 1000:.0f} ms + ingest {ingest_s * 1000:.0f} ms "
            f"= {(read_s + parse_s + ingest_s) * 1000:.0f} ms (median of {rounds})"
        )


PUSH_PROFILES = 100_000
PUSH_DELIVERIES = 1_000


def push_profiles(count: int, seed: int = 11) -> list[dict[str, object]]:
    """Profiles as companies fill them in: zero to two kinds, up to three topics, often an industry."""
    from policy_db.push.profiles import ENTERPRISE_TYPES, match_key

    rng = random.Random(seed)
    topics = [f"topic_{t}" for t in ("tax", "financing", "ip", "talent", "opening", "construction", "parks")]
    industries = [
        "",
        "",
        "软件开发",
        "跨境电商",
        "生物医药",
        "餐饮",
        "集成电路",
        "文化创意",
        "物流",
        "金融服务",
    ]
    now = utc_now()
    rows: list[dict[str, object]] = []
    for n in range(count):
        kinds = rng.sample(ENTERPRISE_TYPES, rng.choice((0, 1, 1, 2)))
        followed = rng.sample(topics, rng.choice((0, 1, 2, 3)))
        industry = rng.choice(industries)
        rows.append(
            {
                "channel": "widget",
                "channel_user_id": f"bench{n:07d}",
                "enterprise_types": kinds,
                "topics": followed,
                "industry": industry,
                "street": "",
                "size": "",
                "match_key": match_key(kinds, followed, industry),
                "consent_text_version": "2026-12",
                "consented_at": now,
                "created_at": now,
                "updated_at": now,
            }
        )
    return rows


def bench_push_matching(runtime: Runtime, label: str, rounds: int = 3) -> None:
    """profiles_for_change over 100,000 profiles: a new tag (many concerned) and a typo fix (none)."""
    from policy_db.models import EnterpriseProfile
    from policy_db.push.matching import ProfileMatcher, measure_states, profiles_for_change
    from policy_db.push.outbox import publish_change
    from policy_db.services.measures import create_measure

    rows = push_profiles(PUSH_PROFILES)
    started = time.perf_counter()
    with runtime.database.session() as session:
        for start in range(0, len(rows), 10_000):
            session.execute(sa.insert(EnterpriseProfile), rows[start : start + 10_000])
    inserted = time.perf_counter() - started
    with runtime.database.session() as session:
        signatures = session.scalar(sa.select(sa.func.count(sa.distinct(EnterpriseProfile.match_key))))
        before = measure_states(session, ["1:23"])
        state = before["1:23"]
        tagged = dataclasses.replace(state, tags=state.tags | {"科技企业"})
        typo = dataclasses.replace(state, text=state.text.replace("。", "；", 1))
        ProfileMatcher.build(session, runtime.search)  # jieba's dictionary, once per process
        for name, after in (("new tag", tagged), ("typo fix", typo)):
            times, found = [], set()
            for _ in range(rounds):
                t0 = time.perf_counter()
                found = profiles_for_change(session, runtime.search, before, [after])
                times.append(time.perf_counter() - t0)
            median = sorted(times)[len(times) // 2]
            print(
                f"[push] {label}: profiles_for_change, {name}: {len(found)} of {PUSH_PROFILES} profiles "
                f"({signatures} signatures) in {median * 1000:.0f} ms (median of {rounds})"
            )
    admin = Principal("bench", "admin")
    with runtime.database.session() as session:
        unit = session.scalars(sa.select(ResponsibleUnit.name).order_by(ResponsibleUnit.id).limit(1)).one()
        t0 = time.perf_counter()
        create_measure(
            session,
            actor=admin,
            document_id=1,
            number=901,
            category=7,
            text="支持软件开发和集成电路企业建设研发中心。",
            units=[unit],
            tags=["科技企业"],
            notify=False,
        )
        published = publish_change(
            session, actor=admin, kind="new", measures=["1:901"], search=runtime.search
        )
        elapsed = time.perf_counter() - t0
    added = published.notifications if published else 0
    print(
        f"[push] {label}: {PUSH_PROFILES} profiles inserted in {inserted:.1f} s; a new measure published "
        f"with {added} notifications in {elapsed * 1000:.0f} ms (one transaction)"
    )


def bench_push_delivery(runtime: Runtime, label: str, workers: int = 1) -> None:
    """The worker's deliveries per second: widget inbox, and WeChat template messages to the stand-in."""
    import threading

    from channels.wechat.official_api import MemoryTokens, OfficialAccountAPI
    from policy_db.db import Database
    from policy_db.models import EnterpriseProfile, Notification
    from policy_db.push.config import PushSettings
    from policy_db.push.delivery import InboxChannel, WeChatTemplateChannel
    from policy_db.push.outbox import publish_change
    from policy_db.push.profiles import match_key
    from policy_db.push.worker import Channel, Worker
    from policy_db.services.measures import create_measure

    # The tests' stand-in for WeChat's API servers (imported by name: the tests are not type-checked).
    stand_ins = importlib.import_module("tests.wechat.api_stand_in")
    stand_in = stand_ins.WeChatApiStandIn("wxbench0000000000", "bench-secret-0123456789abcdef").start()
    tokens = MemoryTokens()
    admin = Principal("bench", "admin")
    try:
        for channel in ("widget", "wechat"):
            tag = f"基准{channel}{workers}企业"
            now = utc_now()
            profiles = [
                {
                    "channel": channel,
                    "channel_user_id": f"{'o' if channel == 'wechat' else 'w'}{tag}{n:05d}",
                    "enterprise_types": [tag],
                    "topics": [],
                    "industry": "",
                    "street": "",
                    "size": "",
                    "match_key": match_key([tag], [], ""),
                    "consent_text_version": "2026-12",
                    "consented_at": now,
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(PUSH_DELIVERIES)
            ]
            number = 910 + 2 * workers + (channel == "wechat")
            with runtime.database.session() as session:
                session.execute(sa.insert(EnterpriseProfile), profiles)
                unit = session.scalars(
                    sa.select(ResponsibleUnit.name).order_by(ResponsibleUnit.id).limit(1)
                ).one()
                create_measure(
                    session,
                    actor=admin,
                    document_id=1,
                    number=number,
                    category=7,
                    text=f"面向{tag}的专项支持措施。",
                    units=[unit],
                    tags=[tag],
                    notify=False,
                )
                publish_change(session, actor=admin, kind="new", measures=[f"1:{number}"])

            def work() -> None:
                database = Database(runtime.database.url)
                api = OfficialAccountAPI(
                    stand_in.appid, stand_in.secret, base_url=stand_in.base_url, tokens=tokens, timeout=5
                )
                channels: list[Channel] = [InboxChannel(), WeChatTemplateChannel(api, "TPL-bench")]
                worker = Worker(database, channels, PushSettings(push_batch_size=50))
                try:
                    while worker.run_once().claimed:
                        pass
                finally:
                    database.dispose()

            started = time.perf_counter()
            threads = [threading.Thread(target=work) for _ in range(workers)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - started
            with runtime.database.session() as session:
                sent = session.scalar(
                    sa.select(sa.func.count())
                    .select_from(Notification)
                    .join(EnterpriseProfile)
                    .where(
                        EnterpriseProfile.match_key == match_key([tag], [], ""), Notification.state == "sent"
                    )
                )
            where = "the inbox" if channel == "widget" else "the WeChat stand-in (~45 ms per HTTP call)"
            print(
                f"[push] {label}: {workers} worker{'s' if workers > 1 else ''}, {sent} of {PUSH_DELIVERIES} "
                f"delivered to {where} in {elapsed:.1f} s = {(sent or 0) / elapsed:.0f} deliveries/s"
            )
    finally:
        stand_in.stop()


def bench_push(skip_postgres: bool) -> None:
    """Policy notifications on SQLite and (unless skipped) PostgreSQL, matching and delivery apart."""
    for part in ("matching", "delivery"):
        with tempfile.TemporaryDirectory() as tmp:
            runtime = runtime_for(f"sqlite:///{tmp}/push.db", Path(tmp))
            if part == "matching":
                bench_push_matching(runtime, "sqlite")
            else:
                bench_push_delivery(runtime, "sqlite")
            runtime.database.dispose()
        if skip_postgres:
            continue
        url, engine, schema = postgres_schema()
        try:
            with tempfile.TemporaryDirectory() as tmp:
                runtime = runtime_for(url, Path(tmp))
                if part == "matching":
                    bench_push_matching(runtime, "postgres")
                else:
                    bench_push_delivery(runtime, "postgres")
                    bench_push_delivery(runtime, "postgres", workers=2)
                runtime.database.dispose()
        finally:
            with engine.begin() as connection:
                connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--synthetic", type=int, default=9900)
    parser.add_argument("--skip-bot", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--only-import", action="store_true", help="only the document import figures")
    parser.add_argument("--skip-documents", action="store_true")
    parser.add_argument("--only-documents", action="store_true", help="only 20 documents, 2,000 measures")
    parser.add_argument("--skip-push", action="store_true")
    parser.add_argument("--only-push", action="store_true", help="only the policy notification figures")
    args = parser.parse_args()
    if args.only_push:
        bench_push(args.skip_postgres)
        return
    if args.only_documents:
        with tempfile.TemporaryDirectory() as tmp:
            bench_documents(runtime_for(f"sqlite:///{tmp}/documents.db", Path(tmp)), EVAL_FILE)
        return
    if args.only_import:
        bench_import()
        return
    questions = [i.q for i in load_items(EVAL_FILE)]
    bench_embedding(questions)
    with tempfile.TemporaryDirectory() as tmp:
        bench_search(f"sqlite:///{tmp}/bench.db", "sqlite", args.synthetic, questions)
    if not args.skip_postgres:
        url, engine, schema = postgres_schema()
        try:
            bench_search(url, "postgres", args.synthetic, questions)
        finally:
            with engine.begin() as connection:
                connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    if not args.skip_import:
        bench_import()
    if not args.skip_documents:
        with tempfile.TemporaryDirectory() as tmp:
            bench_documents(runtime_for(f"sqlite:///{tmp}/documents.db", Path(tmp)), EVAL_FILE)
    if not args.skip_push:
        bench_push(args.skip_postgres)
    if not args.skip_bot:
        bench_bot(questions)


if __name__ == "__main__":
    main()
