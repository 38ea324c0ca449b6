"""Errors raised by relaynet.

Every error a user can trigger with bad input or bad parameters is a
:class:`RelaynetError`, so callers (and the CLI) can catch one type.
"""

from __future__ import annotations


class RelaynetError(Exception):
    """Base class of every error relaynet raises on purpose."""


class InputError(RelaynetError, ValueError):
    """An input file or table is unusable: unreadable, wrong shape, or bad rows in strict mode."""


class ParameterError(RelaynetError, ValueError):
    """A function or command was called with an invalid parameter value."""


class SolverError(RelaynetError, RuntimeError):
    """An optimization model could not be solved (solver missing, infeasible, failed)."""


class NetworkError(RelaynetError, RuntimeError):
    """A road network could not be built, loaded or downloaded."""


class OutputError(RelaynetError, OSError):
    """An output file or folder cannot be written (read-only folder, disk full …)."""
