"""Errors raised by policy_db; the API maps them to HTTP in one place."""

from __future__ import annotations

from dataclasses import dataclass


class PolicyError(Exception):
    """Base of all policy_db errors."""


@dataclass(frozen=True)
class DocumentProblem:
    """One thing wrong with a policy document's text, at a 1-based line."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"第{self.line}行: {self.message}"


class InvalidDocument(PolicyError):
    """A policy document's text could not be parsed; lists every problem found."""

    def __init__(self, problems: list[DocumentProblem]) -> None:
        super().__init__(problems)
        self.problems = problems

    def __str__(self) -> str:
        return "\n".join(str(problem) for problem in self.problems)


class NotFound(PolicyError):
    """Something asked for does not exist."""


class MeasureNotFound(NotFound):
    """No measure with that document and number."""


class UnitNotFound(NotFound):
    """No responsible unit with that name or alias."""


class VersionConflict(PolicyError):
    """An edit was based on a stale version of the record."""

    def __init__(self, message: str, current_version: int) -> None:
        super().__init__(message)
        self.current_version = current_version


class InvalidInput(PolicyError):
    """A write was rejected by validation."""


class Conflict(PolicyError):
    """A write clashes with existing data (a duplicate name or number, a unit still in use)."""
