"""Every failure a user can meet, as one named exception with a sentence a person understands.

The CLI maps these to exit codes (``exit_code``) and the API to HTTP statuses (``http_status``),
each in one place. Messages never contain secrets or raw personal identifiers.
"""

from __future__ import annotations

from dataclasses import dataclass


class TutelaError(Exception):
    """Base of every error Tutela raises on purpose."""

    exit_code = 1
    http_status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class PolicyProblem:
    """One problem found in a policy file, located by file and line."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"


class PolicyError(TutelaError):
    """The policy file is malformed or inconsistent; carries every problem found at once."""

    exit_code = 2
    http_status = 422

    def __init__(self, problems: list[PolicyProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class ConfigurationError(TutelaError):
    """Something outside the policy (environment, files, keyring) is missing or wrong."""

    exit_code = 2
    http_status = 500


class SchemaMismatch(TutelaError):
    """The policy names a table or column that the live database does not have."""

    exit_code = 1
    http_status = 409


class NotFound(TutelaError):
    """A thing asked for by id or identity does not exist (or is not visible to the caller)."""

    exit_code = 1
    http_status = 404


class InvalidInput(TutelaError):
    """A request, identifier or file given to Tutela is malformed."""

    exit_code = 2
    http_status = 422


class NotAuthenticated(TutelaError):
    """No credentials, or credentials that are malformed, unknown or revoked."""

    exit_code = 1
    http_status = 401


class RateLimited(TutelaError):
    """Too many attempts in a short time; the caller may try again after ``retry_after`` seconds."""

    exit_code = 1
    http_status = 429

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class NotAllowed(TutelaError):
    """The caller's role or tenant does not allow the action."""

    exit_code = 1
    http_status = 403


class Conflict(TutelaError):
    """The action is not possible in the current state (e.g. running an unverified request)."""

    exit_code = 1
    http_status = 409


class AuditTampered(TutelaError):
    """The audit chain does not verify; names the first bad event."""

    exit_code = 1
    http_status = 409
