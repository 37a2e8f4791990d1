"""The jieba user dictionary of the bot's NLU: unit names, quoted plan terms, lexicon entries, tags.

Rasa tokenises with jieba; words it does not know are split apart. Bulk changes (a document
import, a restored backup) rewrite the file; the next training of the model picks it up.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from policy_db.catalogue import active_measures
from policy_db.models import Category, ResponsibleUnit, Synonym
from policy_db.text import quoted_terms

log = logging.getLogger(__name__)


def dictionary_words(session: Session) -> list[str]:
    """Words jieba must know: unit names and aliases, quoted plan terms, lexicon entries, tags."""
    words: set[str] = set()
    for unit in session.scalars(select(ResponsibleUnit)):
        words.add(unit.name)
        words.update(unit.aliases or [])
    for measure in active_measures(session):
        words.update(quoted_terms(measure.text))
        words.update(measure.tags or [])
    for category in session.scalars(select(Category)):
        words.update(quoted_terms(category.lead))
    for syn in session.scalars(select(Synonym)):
        words.update((syn.term, syn.variant))
    return sorted(w for w in words if 2 <= len(w) <= 16 and " " not in w)


def export_dictionary(session: Session, path: Path) -> int:
    """Write the jieba user dictionary (`word freq tag` lines) for the Rasa pipeline; returns the count."""
    words = dictionary_words(session)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{w} {max(2000, 500 * len(w))} n" for w in words]
    content = "\n".join(lines) + "\n"
    if not path.exists() or path.read_text(encoding="utf-8") != content:
        path.write_text(content, encoding="utf-8")
    return len(words)


def refresh_dictionary(session: Session, path: Path | None) -> None:
    """Rewrite the dictionary after a bulk change; a file that cannot be written is only logged."""
    if path is None:
        return
    try:
        export_dictionary(session, path)
    except OSError as error:
        log.warning("could not export the jieba dictionary: %s", error)
