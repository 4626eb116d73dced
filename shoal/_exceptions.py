"""Every exception shoal raises on purpose, in one place.

Users catch :class:`ShoalError` to catch anything shoal itself refuses; each
class also derives from the builtin a Dask user would already catch (a bad
graph is a ``ValueError``, a value that cannot travel is a ``TypeError``), so
code written against Dask keeps working::

    ShoalError
    ├── GraphError (ValueError)
    │   ├── CycleError              a graph whose tasks depend on each other in a loop
    │   └── MissingDependencyError  a task refers to a key that is not in the graph
    ├── UnknownSchedulerError (ValueError)
    ├── ConfigError (ValueError)
    └── SerializationError (TypeError)  a function or value could not be pickled

    PerformanceWarning (UserWarning)    a cheap-looking call that does expensive work

Every field is passed to ``super().__init__`` so the exceptions pickle, which
they must: they cross process boundaries in the processes scheduler and
the distributed workers.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ConfigError",
    "CycleError",
    "GraphError",
    "MissingDependencyError",
    "PerformanceWarning",
    "SerializationError",
    "ShoalError",
    "UnknownSchedulerError",
]


class ShoalError(Exception):
    """Base class of the errors shoal raises itself."""


class GraphError(ShoalError, ValueError):
    """A task graph that cannot be run as given."""


class CycleError(GraphError):
    """Tasks that depend on each other in a loop.

    ``keys`` holds the keys along the cycle, in order.
    """

    def __init__(self, message: str, keys: list[Any] | None = None) -> None:
        super().__init__(message, keys)
        self.keys = list(keys or [])

    def __str__(self) -> str:
        return str(self.args[0])


class MissingDependencyError(GraphError, KeyError):
    """A task refers to a key that is neither in the graph nor supplied."""

    def __init__(self, message: str, key: Any = None, missing: Any = None) -> None:
        super().__init__(message, key, missing)
        self.key = key
        self.missing = missing

    def __str__(self) -> str:
        return str(self.args[0])


class UnknownSchedulerError(ShoalError, ValueError):
    """``scheduler=`` named something shoal does not know."""


class ConfigError(ShoalError, ValueError):
    """A configuration value that shoal cannot use."""


class SerializationError(ShoalError, TypeError):
    """A function or value could not be serialized to cross a process boundary."""


class PerformanceWarning(UserWarning):
    """A call that looks cheap but does expensive work; the message names the cheap one."""
