"""Exceptions with their exit codes (contract section 6) and a message that says how to fix the problem.

The CLI has one handler that maps a `WocheckError` to its exit code; library code raises, never exits.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit status of every command: the contract's section 6."""

    ok = 0  # nothing found
    findings = 1  # violations (or reviews) found
    bad_input = 2  # bad usage or input


class WocheckError(Exception):
    """Base of the errors that stop a command; ``str(e)`` is the message shown to the user."""

    exit_code: ExitCode = ExitCode.bad_input


class ConfigError(WocheckError):
    """The configuration file (catalog, policy, limits) is missing or invalid."""


class InputFileError(WocheckError):
    """An input file (orders, order, violations, decisions) can't be read at all."""


class OrderInputError(WocheckError):
    """A single order (``wocheck check``) is not a valid order record."""
