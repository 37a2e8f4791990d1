"""Where a question is about: the plan covers Putuo District only."""

from __future__ import annotations

# Words that tie a question about another place back to Putuo ("从嘉定搬到普陀", "杭州的公司想迁过来").
TIES_TO_PUTUO = ("普陀", "迁", "搬", "来沪", "来上海", "来这", "过来", "本区", "这边", "这里", "咱们区")


def tied_to_putuo(text: str) -> bool:
    """True when a question that names another place is still about coming to, or being in, Putuo."""
    return any(word in text for word in TIES_TO_PUTUO)
