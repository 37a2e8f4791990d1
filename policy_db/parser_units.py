"""Units clauses and text clean-up for the action-plan parser.

A units clause is a bracketed group at the very end of a measure (or category heading)
whose content names a unit keyword: 责任单位/责任部门, 牵头, 配合. Any other bracket in the
text, such as (不含6亩) or 中以(上海)创新园, is part of the text. Brackets of any width and
shape — () （） 〔〕 [] 【】 — nest, and an opener may be closed by any closer.

Accepted clause contents, and the roles they give (order as written):

* labelled: ``责任单位:A、B`` → responsible; ``牵头单位:X;配合单位:Y、Z`` → X lead, Y and Z
  cooperating (labels 责任/牵头/配合 + 单位/部门, colon of either width or none, labels in
  any order and number);
* phrased: ``X牵头,Y、Z配合`` / ``X牵头`` / ``Y配合``.

Unit names are separated by 、 ， , ； or ;. Whitespace is not a separator: the parser
drops it before reading the clause (a line may wrap in the middle of a unit name), so
spaces around separators are harmless.

Units given in a closing table (责任单位分工表) are read row by row by ``parse_table_units``:
the row's text after its measure reference is either a clause content as above, with or
without its brackets (``区发展改革委牵头，区财政局配合``), or plain names separated by
whitespace or the separators above (all responsible). Under a column header such as
``序号 牵头单位 配合单位`` the whitespace-separated cells take the role of their column,
a cell holding one or more names (``区财政局、区商务委``) or a dash / 无 for none; a row
that names roles itself (牵头/配合/责任单位) is read as a clause even under such a header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from policy_db.kinds import UnitRole

OPENERS = "(（〔[【"
CLOSERS = ")）〕]】"
UNIT_KEYWORD = re.compile(r"责任单位|责任部门|牵头|配合")
_LABEL = re.compile(r"(责任|牵头|配合)(?:单位|部门)\s*[:：]?")
_LABEL_ROLES: dict[str, UnitRole] = {"责任": "responsible", "牵头": "lead", "配合": "cooperating"}
_ROLE_LABELS = {role: f"{word}单位" for word, role in _LABEL_ROLES.items()}
_SEPARATORS = re.compile(r"[、,，;；]+")
_PHRASED = re.compile(r"^(?:(?P<lead>.*?)牵头)?[、,，;；\s]*(?:(?P<coop>.*?)配合)?$")
CLAUSE_TRAILERS = "。．.;；"  # punctuation tolerated after a units clause
_WHITESPACE = re.compile(r"\s+")
_COLUMN = re.compile(r"^(责任|牵头|配合)(?:单位|部门)$")
_EMPTY_CELLS = {"—", "——", "-", "--", "－", "/", "／", "无"}
_COLON_SPACE = re.compile(r"\s*([:：])\s*")


@dataclass(frozen=True)
class UnitRef:
    """A unit named by a measure, with the role the document gives it."""

    name: str
    role: UnitRole


def _is_ascii_word(char: str) -> bool:
    return char.isascii() and char.isalnum()


def normalize_space(text: str) -> str:
    """Drop whitespace from Chinese text, keeping one space between two ASCII words."""

    def replace(match: re.Match[str]) -> str:
        before = text[match.start() - 1] if match.start() > 0 else ""
        after = text[match.end()] if match.end() < len(text) else ""
        return " " if _is_ascii_word(before) and _is_ascii_word(after) else ""

    return _WHITESPACE.sub(replace, text)


def join_lines(parts: list[str]) -> str:
    """Join wrapped lines into one whitespace-normalised text."""
    return normalize_space(" ".join(parts))


def has_unclosed_bracket(text: str) -> bool:
    """Tell whether some opening bracket in the text is never closed."""
    depth = 0
    for char in text:
        if char in OPENERS:
            depth += 1
        elif char in CLOSERS and depth:
            depth -= 1
    return depth > 0


def split_trailing_clause(text: str) -> tuple[str, str | None]:
    """Split a trailing bracketed units clause off the text: (text before, clause content)."""
    body = text.rstrip(CLAUSE_TRAILERS)
    if not body or body[-1] not in CLOSERS:
        return text, None
    depth = 0
    for index in range(len(body) - 1, -1, -1):
        if body[index] in CLOSERS:
            depth += 1
        elif body[index] in OPENERS:
            depth -= 1
            if depth == 0:
                content = body[index + 1 : -1]
                if UNIT_KEYWORD.search(content):
                    return body[:index], content
                return text, None
    return text, None


def _names(text: str) -> list[str]:
    return [name.strip() for name in _SEPARATORS.split(text) if name.strip()]


def _labelled_units(content: str) -> list[UnitRef]:
    pieces = _LABEL.split(content)
    if _names(pieces[0]):
        raise ValueError(f"“{pieces[0].strip()}”不应出现在单位标签之前")
    units: list[UnitRef] = []
    for word, names in zip(pieces[1::2], pieces[2::2], strict=True):
        if not _names(names):
            raise ValueError(f"{word}单位为空，应在“{word}单位:”后列出单位")
        units += [UnitRef(name, _LABEL_ROLES[word]) for name in _names(names)]
    return units


def parse_units(content: str) -> tuple[UnitRef, ...]:
    """Read a units clause's content into unit references; raise ValueError if malformed."""
    if _LABEL.search(content):
        return tuple(_labelled_units(content))
    match = _PHRASED.match(content.strip())
    if match is None or (match["lead"] is None and match["coop"] is None):
        raise ValueError(
            f"无法识别单位写法“{content}”，应为“责任单位:A、B”、“X牵头,Y配合”或“牵头单位:X;配合单位:Y”"
        )
    leads = _names(match["lead"] or "")
    cooperating = _names(match["coop"] or "")
    if (match["lead"] is not None and not leads) or (match["coop"] is not None and not cooperating):
        raise ValueError(f"单位为空：“{content}”应在“牵头”“配合”前写明单位")
    return tuple(
        [UnitRef(name, "lead") for name in leads] + [UnitRef(name, "cooperating") for name in cooperating]
    )


def render_units(units: tuple[UnitRef, ...]) -> str:
    """Write units as a canonical clause, e.g. (牵头单位:X;配合单位:Y、Z)."""
    runs: list[tuple[UnitRole, list[str]]] = []
    for unit in units:
        if runs and runs[-1][0] == unit.role:
            runs[-1][1].append(unit.name)
        else:
            runs.append((unit.role, [unit.name]))
    return "(" + ";".join(f"{_ROLE_LABELS[role]}:{'、'.join(names)}" for role, names in runs) + ")"


def table_columns(cells: list[str]) -> tuple[UnitRole, ...] | None:
    """The roles of a closing table's column header (``序号 牵头单位 配合单位``), else None.

    The first cell names the reference column and is not checked; every other cell must be a
    units label (责任/牵头/配合 + 单位/部门). Raise ValueError when some are and some are not.
    """
    labels = [_COLUMN.match(cell) for cell in cells[1:]]
    if not any(labels):
        return None
    unknown = [cell for cell, label in zip(cells[1:], labels, strict=True) if label is None]
    if unknown:
        raise ValueError(
            f"分工表的列“{'、'.join(unknown)}”无法识别：表头除编号列外只能是责任单位、牵头单位或配合单位"
        )
    return tuple(_LABEL_ROLES[label[1]] for label in labels if label is not None)


def parse_table_units(text: str, columns: tuple[UnitRole, ...] | None = None) -> tuple[UnitRef, ...]:
    """Read the units part of a closing-table row; raise ValueError if malformed or empty."""
    text = text.strip()
    if columns is not None and not UNIT_KEYWORD.search(text):
        cells = text.split()
        if len(cells) > len(columns):
            raise ValueError(f"分工表行有{len(cells)}列单位，但表头只有{len(columns)}列")
        units = [
            UnitRef(name, role)
            for cell, role in zip(cells, columns, strict=False)
            if cell not in _EMPTY_CELLS
            for name in _names(cell)
        ]
    elif UNIT_KEYWORD.search(text):
        before, content = split_trailing_clause(text)
        if content is not None and not before.strip():
            text = content  # the whole row is one bracketed clause
        units = list(parse_units(_WHITESPACE.sub("、", _COLON_SPACE.sub(r"\1", text.strip()))))
    else:
        names = _names(_WHITESPACE.sub("、", text))
        units = [UnitRef(name, "responsible") for name in names if name not in _EMPTY_CELLS]
    if not units:
        raise ValueError("分工表行没有列出单位")
    return tuple(units)
