"""Text fields people type: no control characters, and line breaks only where a field is long text.

A NUL, a bell or an escape sequence in a unit's name breaks the database (PostgreSQL refuses NUL),
exports, terminals and the widget; a line break in a one-line field breaks lists and CSV cells.
Every request model of the admin API (and the catalogue import) derives from `PlainTextModel`,
so a new text field is checked without anyone remembering to.
"""

from __future__ import annotations

import unicodedata
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

LINE_BREAKS = frozenset("\n\r\u2028\u2029")
MULTILINE_ALLOWED = frozenset("\n\r\t")


def text_problem(value: str, *, multiline: bool) -> str | None:
    """Why `value` may not be stored as it is (in Chinese), or None when it is fine."""
    for ch in value:
        if multiline and ch in MULTILINE_ALLOWED:
            continue
        if ch in LINE_BREAKS:
            return "不能换行（请写在一行内）"
        if ch == "\t" or unicodedata.category(ch) == "Cc":
            return f"不能包含控制字符（发现 U+{ord(ch):04X}）"
    return None


class PlainTextModel(BaseModel):
    """A request body whose strings are checked; fields named in `multiline_fields` may wrap."""

    model_config = ConfigDict(extra="forbid")
    multiline_fields: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="after")
    @classmethod
    def _plain_text(cls, value: Any, info: ValidationInfo) -> Any:
        multiline = info.field_name in cls.multiline_fields
        items = value if isinstance(value, list) else [value]
        for index, item in enumerate(items):
            problem = text_problem(item, multiline=multiline) if isinstance(item, str) else None
            if problem:
                where = f"第{index + 1}项" if isinstance(value, list) else ""
                raise PydanticCustomError("plain_text", where + problem)
        return value
