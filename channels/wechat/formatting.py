"""Turn Rasa bot messages into one compact WeChat text reply.

WeChat passive replies are a single plain-text bubble (no buttons, no cards), and the
Content is limited to 2048 bytes of UTF-8. Measures keep their citation: the measure
number and its responsible units, so every answer can be checked against the plan.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from channels.texts import FALLBACK_TEXT

# WeChat's passive-reply limit is 2048 bytes; stay below it so the XML escaping of the
# odd character and a future prefix never push a reply over.
MAX_REPLY_BYTES = 2000
MAX_UNITS_SHOWN = 3
MAX_NUMBERS_SHOWN = 10
TITLE_FALLBACK_CHARS = 30

MORE_HINT = "……内容较长，回复“更多”查看更多"
EMPTY_REPLY = FALLBACK_TEXT  # Rasa answered nothing: the turn failed somewhere


def format_reply(messages: Sequence[dict[str, Any]], *, max_bytes: int = MAX_REPLY_BYTES) -> str:
    """Render Rasa bot messages (text, buttons, custom payloads) as one WeChat text reply."""
    body: list[str] = []
    titles: list[str] = []
    for message in messages:
        body.extend(_message_lines(message))
        titles.extend(button_titles(message.get("buttons") or []))
    tail = [_button_hint(titles)] if titles else []
    if not body and not tail:
        return EMPTY_REPLY
    return _fit(body, tail, max_bytes)


def button_titles(buttons: Iterable[dict[str, Any]]) -> list[str]:
    """The non-empty button titles, in order."""
    return [str(b["title"]).strip() for b in buttons if str(b.get("title") or "").strip()]


def _message_lines(message: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    text = (message.get("text") or "").strip()
    if text:
        lines.extend(line for line in text.splitlines() if line.strip())
    for key in ("image", "attachment"):
        if message.get(key):
            lines.append(str(message[key]))
    custom = message.get("custom")
    if isinstance(custom, dict):
        lines.extend(_custom_lines(custom))
    return lines


def _custom_lines(custom: dict[str, Any]) -> list[str]:
    kind = custom.get("type")
    if kind == "measures":
        items = custom.get("measures") or []
        return [f"{i}. {_measure_line(m)}" for i, m in enumerate(items, 1)]
    if kind == "units":
        items = custom.get("units") or []
        return [f"{i}. {_unit_line(u)}" for i, u in enumerate(items, 1)]
    # Other payloads are for the web widget only; a plain-text bubble cannot show them.
    return []


def _measure_line(measure: dict[str, Any]) -> str:
    number = measure.get("number")
    label = f"第{number}条 " if number is not None else ""
    title = (measure.get("title") or "").strip() or _shorten(measure.get("text") or "")
    units = [str(u) for u in measure.get("units") or []]
    shown = "、".join(units[:MAX_UNITS_SHOWN]) + ("等" if len(units) > MAX_UNITS_SHOWN else "")
    return f"{label}{title}" + (f"（{shown}）" if shown else "")


def _unit_line(unit: dict[str, Any]) -> str:
    numbers = [str(n) for n in unit.get("measures") or []]
    name = str(unit.get("name") or "")
    if not numbers:
        return name
    shown = "、".join(numbers[:MAX_NUMBERS_SHOWN])
    more = f"等{len(numbers)}条" if len(numbers) > MAX_NUMBERS_SHOWN else "条"
    return f"{name}：第{shown}{more}"


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= TITLE_FALLBACK_CHARS else text[:TITLE_FALLBACK_CHARS] + "…"


def _button_hint(titles: list[str]) -> str:
    unique = list(dict.fromkeys(titles))
    if unique == ["更多"]:
        return "回复“更多”查看更多"
    return "可回复" + "或".join(f"“{t}”" for t in unique)


def _size(lines: Sequence[str]) -> int:
    return len("\n".join(lines).encode("utf-8"))


def _fit(body: list[str], tail: list[str], max_bytes: int) -> str:
    """Join the lines, dropping whole lines from the end of the body until it fits."""
    if _size(body + tail) <= max_bytes:
        return "\n".join(body + tail)
    # When the buttons already offer "更多", the cut marker need not say it again.
    marker = "……" if any("“更多”" in line for line in tail) else MORE_HINT
    kept = list(body)
    while kept and _size([*kept, marker, *tail]) > max_bytes:
        kept.pop()
    if not kept and body:
        # A single line longer than the budget: keep as much of it as fits.
        kept = [_cut_to_bytes(body[0], max_bytes - _size([marker, *tail]) - 1)]
    return _cut_to_bytes("\n".join([*kept, marker, *tail]), max_bytes)


def _cut_to_bytes(text: str, max_bytes: int) -> str:
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    # errors="ignore" drops a multi-byte character split by the cut instead of mangling it.
    return encoded[: max(max_bytes, 0)].decode("utf-8", errors="ignore")
