"""Personal-information redaction for stored chat text (PIPL): phones, IDs, credit codes, cards, e-mail."""

from privacy.pii import PLACEHOLDERS, Finding, Kind, contains_personal_data, find, redact, redact_strings

__all__ = ["PLACEHOLDERS", "Finding", "Kind", "contains_personal_data", "find", "redact", "redact_strings"]
