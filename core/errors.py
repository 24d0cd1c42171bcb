"""The one exception tree of Reverie.

Errors come in two families. `EnvironmentProblem` covers what the user or the machine
caused (a bad input file, a locked data directory, a missing model); the UI shows its
message plainly and nothing is logged as a crash. Anything else that escapes is a bug:
logged with its traceback and reported.
"""

from __future__ import annotations


class ReverieError(Exception):
    """Root of every error Reverie raises on purpose."""


class EnvironmentProblem(ReverieError):
    """A problem of the input or the machine, explained to the user as it is."""


class BadInput(EnvironmentProblem):
    """An input (file, query, argument) that Reverie refuses; nothing was changed."""


class InputFileError(BadInput):
    """A file to import holds bad records; `problems` lists them by line number."""

    def __init__(self, path: str, problems: list[tuple[int, str]]) -> None:
        self.path = path
        self.problems = problems
        shown = "; ".join(f"line {line}: {why}" for line, why in problems[:10])
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        super().__init__(f"{path}: nothing imported, {len(problems)} bad line(s): {shown}{more}")


class DataDirLocked(EnvironmentProblem):
    """Another Reverie process owns the data directory."""


class StoreError(EnvironmentProblem):
    """The store cannot be opened or used (newer schema, unreadable file, ...)."""


class WrongKey(StoreError):
    """The key or passphrase does not open this ledger; nothing was changed."""


class PassphraseRequired(EnvironmentProblem):
    """No usable keyring and no passphrase was given: nothing was opened or written."""


class ModelError(EnvironmentProblem):
    """A model file is missing, fails verification, or cannot be loaded."""


class Cancelled(ReverieError):
    """A long job stopped because the user asked it to."""
