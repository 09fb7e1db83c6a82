"""The error family: each kind of failure carries the exit code the CLI returns for it."""


class CollectError(Exception):
    """A failure the user can act on: printed as `Error: …`, never as a traceback."""

    exit_code = 1


class UsageError(CollectError):
    """A bad option value or configuration (exit 2)."""

    exit_code = 2


class UnusableInput(CollectError):
    """A whole input file cannot be used: unreadable, unknown kind, missing column (exit 2)."""

    exit_code = 2


class ConfigError(UsageError):
    """collect.toml is invalid; the message names the key."""


class StoreError(CollectError):
    """The database cannot be opened, migrated or written (exit 1)."""


class NoStore(UsageError):
    """--db names no store: a command that reads creates none (exit 2)."""


class Refused(CollectError):
    """A rule forbids the action (exit 6): a contact outside the window or over the caps, a
    plan the eligibility rules refuse. The message starts with the rule id."""

    exit_code = 6


# Exit codes, documented in the README.
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_UNUSABLE = 2
EXIT_REJECTED_ROWS = 3
EXIT_REFUSED = 6


def unwritable(path, exc: OSError) -> CollectError:
    """The error for a file that cannot be written: a bad path (no such folder, a folder, no
    permission) is a bad option value, exit 2; a full disk or the like, exit 1."""
    path_problem = isinstance(exc, FileNotFoundError | NotADirectoryError | IsADirectoryError | PermissionError)
    return (UsageError if path_problem else CollectError)(f"{path}: cannot write: {exc.strerror}")
