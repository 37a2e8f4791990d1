"""The topics a company asks about, read from the seeds' `topics.yml`."""

from __future__ import annotations

from pathlib import Path

import yaml


def load_topics(seeds_dir: Path) -> dict[str, dict[str, object]]:
    """Topic intent name → {"label": ..., "keywords": [...]} (empty when there is no file)."""
    path = seeds_dir / "topics.yml"
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return dict(data.get("topics") or {})


def topic_keywords(topics: dict[str, dict[str, object]]) -> dict[str, list[str]]:
    """Topic → the keywords selecting its categories."""
    return {name: keywords_of(t) for name, t in topics.items()}


def keywords_of(topic: dict[str, object]) -> list[str]:
    """A topic's keywords as strings (the YAML may hold numbers)."""
    keywords = topic.get("keywords") or []
    return [str(k) for k in keywords] if isinstance(keywords, list) else []
