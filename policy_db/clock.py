"""Time in UTC: the database stores UTC, and SQLite hands back naive datetimes that mean UTC."""

from __future__ import annotations

import datetime as dt


def utc_now() -> dt.datetime:
    """The current time, timezone-aware, in UTC."""
    return dt.datetime.now(dt.timezone.utc)


def as_utc(moment: dt.datetime) -> dt.datetime:
    """A stored or given time in UTC (a naive one is taken to be UTC already)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc)


# The district's own time zone: days of the insights page, documents' effective and expiry dates.
SHANGHAI = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")


def shanghai_today() -> dt.date:
    """Today's date in Shanghai."""
    return utc_now().astimezone(SHANGHAI).date()
