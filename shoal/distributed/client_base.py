"""What the parts of :class:`~shoal.distributed.Client` split into mixins rely on.

``Client`` defines these itself; the declarations here only tell readers and
type checkers which attributes and methods a mixin may use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["ClientCore"]


class ClientCore:
    """Attributes and methods every Client mixin may use (provided by ``Client``)."""

    asynchronous: bool
    timeout: float
    status: str
    scheduler_address: str
    cluster: Any
    _pool: Any
    _states: dict[Any, Any]

    if TYPE_CHECKING:
        def _send(self, msg: dict[str, Any]) -> None: ...

        def _check_running(self) -> None: ...

        async def _scheduler_call(self, op: str, **kwargs: Any) -> Any: ...

        def _call(self, op: str, **kwargs: Any) -> Any: ...
