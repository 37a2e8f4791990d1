"""The fallback, apology, contact and rate-limit wording comes from one place per side.

The bot's wording is in bot/domain.yml (actions send `response=`), the channels' few fixed texts
in channels/texts.py; no other module spells out an apology, the hotline or a contact line.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
# Words only fixed reply texts use: an apology, the hotline, "try again later", "out of my scope".
MARKERS = ("抱歉", "稍后再试", "12345", "热线", "超出了我的范围", "转人工服务", "消息太频繁")
TEXTS_MODULE = ROOT / "channels" / "texts.py"


def string_constants(path: Path) -> list[tuple[int, str]]:
    """Every string literal of a module, with its line (f-string parts included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def domain_responses() -> dict[str, list[dict[str, object]]]:
    return yaml.safe_load((ROOT / "bot" / "domain.yml").read_text(encoding="utf-8"))["responses"]


def test_no_module_but_the_texts_module_spells_out_a_fixed_reply() -> None:
    offenders = []
    for package in ("actions", "channels", "app"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == TEXTS_MODULE:
                continue
            offenders += [
                f"{path.relative_to(ROOT)}:{line}: {text}"
                for line, text in string_constants(path)
                if any(marker in text for marker in MARKERS)
            ]
    assert not offenders, "\n".join(offenders)


def test_the_fallback_and_rate_limit_texts_are_defined_once() -> None:
    import channels.texts as texts

    assert "12345" in texts.FALLBACK_TEXT and "稍后再试" in texts.RATE_LIMITED_TEXT


def test_every_response_an_action_sends_exists_in_the_domain() -> None:
    responses = domain_responses()
    sent = set()
    for path in sorted((ROOT / "actions").rglob("*.py")):
        sent |= set(re.findall(r'response="(utter_[a-z_]+)"', path.read_text(encoding="utf-8")))
        sent |= set(re.findall(r'"(utter_rating_thanks_[a-z]+)"', path.read_text(encoding="utf-8")))
    assert sent and not sent - set(responses), sorted(sent - set(responses))


def test_replies_that_offer_help_name_the_contact_from_the_database() -> None:
    # {contact} is filled with the service center's line from seeds/units.yml: never a second copy.
    for name in (
        "utter_no_match",
        "utter_out_of_scope",
        "utter_policy_db_unavailable",
        "utter_remit",
        "utter_remit_related",
        "utter_handoff",
        "utter_no_more_measures",
        "utter_profile_no_match",
    ):
        text = str(domain_responses()[name][0]["text"])
        assert "{contact}" in text and "12345" not in text, name
