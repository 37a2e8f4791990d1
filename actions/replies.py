"""Reply building: short Chinese text, quick-reply buttons and the `measures`/`units` payloads."""

from __future__ import annotations

import json
from typing import Any

from policy_db.catalogue import MeasureView, measure_key
from policy_db.seeding import DEFAULT_SERVICE_CENTER

TEXT_LIMIT = 200


def parse_key(key: str) -> tuple[int, int]:
    """Back from "document_id:number"."""
    document_id, number = key.split(":")
    return int(document_id), int(number)


def several_documents(measures: list[MeasureView]) -> bool:
    """Whether a list cites more than one document (then each line names its document)."""
    return len({m.document_id for m in measures}) > 1


def measure_line(index: int, measure: MeasureView, *, with_document: bool = False) -> str:
    """One numbered line: "1. 第25条 落实留抵退税（区税务局）", with 〔its document〕 when asked."""
    line = f"{index}. 第{measure.number}条 {measure.title}（{'、'.join(measure.units)}）"
    return f"{line}〔{measure.document_title}〕" if with_document else line


# The DESIGN.md `measures` payload's fields; document_date and validity tell which plan and whether
# it is in force ("in_force", "pending", "expired", "replaced"; replaced_by names the newer one).
PAYLOAD_FIELDS = (
    "document_id",
    "number",
    "title",
    "text",
    "category",
    "units",
    "score",
    "document_title",
    "document_date",
    "validity",
    "replaced_by",
)


def measures_payload(measures: list[MeasureView]) -> dict[str, Any]:
    """The DESIGN.md `measures` payload, best first."""
    return {"type": "measures", "measures": [{k: m.payload()[k] for k in PAYLOAD_FIELDS} for m in measures]}


def clarify_payload(measures: list[MeasureView]) -> dict[str, Any]:
    """The DESIGN.md `clarify` payload: the candidates, in the `measures` shape."""
    return {"type": "clarify", "measures": measures_payload(measures)["measures"]}


def units_payload(units: dict[str, list[int]]) -> dict[str, Any]:
    """The DESIGN.md `units` payload."""
    return {"type": "units", "units": [{"name": n, "measures": ms} for n, ms in units.items()]}


def trim(text: str, limit: int = TEXT_LIMIT) -> str:
    """Keep replies short: cut at `limit` characters with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def button(title: str, intent: str, **entities: str) -> dict[str, str]:
    """A quick reply that sends an intent (with entities) without NLU guessing."""
    payload = f"/{intent}" + (json.dumps(entities, ensure_ascii=False) if entities else "")
    return {"title": title, "payload": payload}


def measure_button(title: str, measure: MeasureView, **entities: str) -> dict[str, str]:
    """A quick reply opening one measure by its key (numbers repeat across documents)."""
    return button(title, "ask_measure", measure_number=measure_key(measure), **entities)


def follow_up_buttons(measures: list[MeasureView], more: bool) -> list[dict[str, str]]:
    """更多 / 第N条详情 / 哪个部门负责."""
    buttons = [measure_button(f"第{m.number}条详情", m) for m in measures[:3]]
    buttons.append(button("哪个部门负责", "ask_unit"))
    if more:
        buttons.insert(0, button("更多", "more"))
    return buttons


def topic_buttons(
    topics: dict[str, dict[str, object]], names: list[str] | None = None, limit: int = 6
) -> list[dict[str, str]]:
    """Buttons for topics (all, or the named ones), payload `/topic_x`."""
    chosen = [n for n in (names or list(topics)) if n in topics][:limit]
    return [button(str(topics[n].get("label", n)), n) for n in chosen]


def contact_text(center: dict[str, str]) -> str:
    """The service-center contact line."""
    parts = [center.get("name") or DEFAULT_SERVICE_CENTER["name"]]
    if center.get("phone"):
        parts.append(f"电话 {center['phone']}")
    if center.get("address"):
        parts.append(center["address"])
    if center.get("hours"):
        parts.append(center["hours"])
    return "，".join(parts)
