"""Find and mask personal information (PIPL) in Chinese free text before it is stored.

Detected kinds and their placeholders (typed, so a masked message stays readable):

=============  ==============  =====================================================================
kind           placeholder     what is matched
=============  ==============  =====================================================================
email          ``[邮箱]``      e-mail addresses
id_card        ``[身份证号]``  resident ID (GB 11643, 18 chars, may be spaced 6-8-4): check digit, birth date
credit_code    ``[信用代码]``  unified social credit code (GB 32100): charset and check character
mobile         ``[手机号]``    mobiles 1[3-9]x xxxx xxxx, spaced or dashed, after +86, (+86), 0086, 86
bank_card      ``[银行卡号]``  13-19 digits, contiguous or grouped in fours, Luhn valid
=============  ==============  =====================================================================

When spans overlap, the kind listed first wins (an 18-digit run that is a valid ID is an ID even
if it also passes Luhn).  Every match needs a boundary: no ASCII digit or letter right before or
after it, so digits inside a longer code are never partly masked.  Full-width digits, letters and
``＠`` are read as their ASCII forms.  Left alone on purpose: landlines and hotlines (not personal),
measure and article numbers, years, dates, amounts, document numbers, and digit runs that fail
their check.  15-digit first-generation IDs have no check digit and are not recognised as IDs.

Check digits come from python-stdnum (``stdnum.cn.ric``, ``stdnum.cn.uscc``, ``stdnum.luhn``):
pure Python with no dependencies, long maintained, and it has exactly these Chinese validators.
Its full ``ric.validate`` is not used: it also looks the area code up in a table, and an ID whose
area code the table lacks (a new or renamed district) would go unmasked.
"""

from __future__ import annotations

import datetime
import re
import string
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal, TypeVar

from stdnum import luhn
from stdnum.cn import ric, uscc

Kind = Literal["email", "id_card", "credit_code", "mobile", "bank_card"]

T = TypeVar("T")

PLACEHOLDERS: Mapping[Kind, str] = MappingProxyType(
    {
        "email": "[邮箱]",
        "id_card": "[身份证号]",
        "credit_code": "[信用代码]",
        "mobile": "[手机号]",
        "bank_card": "[银行卡号]",
    }
)


@dataclass(frozen=True, slots=True)
class Finding:
    """One piece of personal information: its kind and its span ``text[start:end]``."""

    kind: Kind
    start: int
    end: int


# Full-width forms typed with a Chinese input method, mapped one character to one character so
# that spans found in the mapped text are spans of the original.
# Chinese punctuation (，：) stays as it is: "，2021年" must not read as part of a number.
_TO_ASCII = {ord(c) + 0xFEE0: ord(c) for c in string.digits + string.ascii_letters + "@+-.()"}
_TO_ASCII[0x3000] = 0x20  # ideographic space
_WIDE = re.compile("[" + "".join(map(chr, _TO_ASCII)) + "]")
# Every digit kind holds 6 digits in a row, a spaced mobile, or three groups of four: texts without
# any of these (most messages, including years, dates and amounts) skip the detectors.
_GATE = re.compile("[0-9](?:[0-9]{5}|[0-9]{3}[ -][0-9]{4}[ -][0-9])|1[3-9][0-9][ -][0-9]{4}")

# Boundaries: no ASCII digit or letter right before or after a match.  Each pattern opens with a
# character class and then looks back over it and the character before it (_FIRST), which lets the
# regex engine skip straight to the places where a match can start.
_FIRST = "(?<![0-9A-Za-z].)"
_AFTER = "(?![0-9A-Za-z])"
_SEP = "[ -]?"
_USCC_CHAR = "[0-9A-HJ-NP-RTUWXY]"  # GB 32100: digits and capitals except I, O, S, V, Z

_EMAIL = re.compile(
    r"[A-Za-z0-9](?<![A-Za-z0-9._%+-].)[A-Za-z0-9._%+-]{0,63}"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![A-Za-z0-9-])"
)
_ID_CARD = re.compile(
    rf"[1-8]{_FIRST}[0-9]{{5}}{_SEP}(?:19|20)[0-9]{{2}}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
    rf"{_SEP}[0-9]{{3}}[0-9Xx]{_AFTER}"
)
# First character: the registering authority (1-9, A, N, Y); then 6 digits of region code.
_CREDIT_CODE = re.compile(rf"[1-9ANY]{_FIRST}{_USCC_CHAR}[0-9]{{6}}{_USCC_CHAR}{{10}}{_AFTER}", re.IGNORECASE)
# 1[3-9]x xxxx xxxx after an optional +86, (+86), (86), 0086 or 86.
_MOBILE = re.compile(
    rf"(?:\+86{_SEP}1|\(\+?86\){_SEP}1|0{_FIRST}086{_SEP}1|8{_FIRST}6{_SEP}1|1{_FIRST})"
    rf"[3-9][0-9](?:{_SEP}[0-9]{{4}}){{2}}{_AFTER}"
)
# Runs of digit groups apart by one space or dash; cards are windows of these.  The look-ahead
# skips short runs quickly, but a run can still come out shorter (cut back before a glued letter).
_DIGIT_RUN = re.compile(rf"[0-9]{_FIRST}(?=[0-9 -]{{12}})[0-9]*(?:[ -][0-9]+)*{_AFTER}")
_DIGITS = re.compile("[0-9]+")
_NUMBER_GOES_ON = re.compile("[,.][0-9]")  # the 1 of "1,000,000" is no card's last group
_NOT_DIGIT = re.compile("[^0-9]")
_EARLIEST_BIRTH = datetime.date(1900, 1, 1)


def _plain(value: str) -> str:
    return value.replace(" ", "").replace("-", "").upper()


def _is_id_card(value: str) -> bool:
    number = _plain(value)
    if number[-1] != ric.calc_check_digit(number):
        return False
    try:
        born = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return _EARLIEST_BIRTH <= born <= datetime.date.today()


def _is_credit_code(value: str) -> bool:
    number = value.upper()
    return number[-1] == uscc.calc_check_digit(number)


def _is_bank_card(value: str) -> bool:
    return luhn.is_valid(_NOT_DIGIT.sub("", value))


def _spans(pattern: re.Pattern[str]) -> Callable[[str], Iterator[tuple[int, int]]]:
    def spans(scan: str) -> Iterator[tuple[int, int]]:
        for match in pattern.finditer(scan):
            yield match.span()

    return spans


def _card_spans(scan: str) -> Iterator[tuple[int, int]]:
    """Card-shaped windows of each run of digit groups: one group of 13-19 digits, or groups of four
    ending in a group of one to four, 13-19 digits in all; from the left, the longest first.

    A run like ``6222 0212 3456 7890 2021`` (a card, then a year) holds the card as a shorter window,
    and ``2021 6222 0212 3456 7890`` as a later one.
    """
    for run in _DIGIT_RUN.finditer(scan):
        if run.group().isdigit():  # one group, the usual way to type a card
            if 13 <= run.end() - run.start() <= 19 and scan[run.start()] != "0":
                yield run.span()
            continue
        groups = [group.span() for group in _DIGITS.finditer(scan, run.start(), run.end())]
        for first, (start, _) in enumerate(groups):
            if scan[start] == "0":
                continue
            windows: list[tuple[int, int]] = []
            count = 0
            for last in range(first, len(groups)):
                size = groups[last][1] - groups[last][0]
                count += size
                if count > 19 or (last > first and size > 4):
                    break
                end = groups[last][1]
                if count >= 13 and not (size < 4 and _NUMBER_GOES_ON.match(scan, end)):
                    windows.append((start, end))
                if size != 4:
                    break  # only a group of four goes on: a long first group is a card on its own
            yield from reversed(windows)


# In order of precedence: a span claimed by one kind is not looked at again by a later one.
_Candidates = Callable[[str], Iterator[tuple[int, int]]]
_DETECTORS: tuple[tuple[Kind, _Candidates, Callable[[str], bool] | None], ...] = (
    ("email", _spans(_EMAIL), None),
    ("id_card", _spans(_ID_CARD), _is_id_card),
    ("credit_code", _spans(_CREDIT_CODE), _is_credit_code),
    ("mobile", _spans(_MOBILE), None),
    ("bank_card", _card_spans, _is_bank_card),
)


def find(text: str) -> list[Finding]:
    """The personal information in `text`, in order of position, without overlaps."""
    scan = text.translate(_TO_ASCII) if _WIDE.search(text) else text
    has_email = "@" in scan
    has_digits = _GATE.search(scan) is not None
    if not (has_email or has_digits):
        return []
    found: list[Finding] = []
    for kind, candidates, check in _DETECTORS:
        if not (has_email if kind == "email" else has_digits):
            continue
        for start, end in candidates(scan):
            if any(start < other.end and other.start < end for other in found):
                continue
            if check is None or check(scan[start:end]):
                found.append(Finding(kind, start, end))
    found.sort(key=lambda finding: finding.start)
    return found


def redact(text: str) -> str:
    """`text` with every finding replaced by its kind's placeholder, e.g. ``[手机号]``."""
    findings = find(text)
    if not findings:
        return text
    parts: list[str] = []
    position = 0
    for finding in findings:
        parts.append(text[position : finding.start])
        parts.append(PLACEHOLDERS[finding.kind])
        position = finding.end
    parts.append(text[position:])
    return "".join(parts)


def contains_personal_data(text: str) -> bool:
    """Whether `text` holds any of the kinds that `redact` masks."""
    return bool(find(text))


def redact_strings(value: T) -> T:
    """`value` with every string inside it (dicts, lists, nested) redacted; other values as they are."""
    if isinstance(value, str):
        return redact(value)  # type: ignore[return-value]
    if isinstance(value, dict):
        return {k: redact_strings(v) for k, v in value.items()}  # type: ignore[return-value]
    if isinstance(value, list):
        return [redact_strings(v) for v in value]  # type: ignore[return-value]
    return value
