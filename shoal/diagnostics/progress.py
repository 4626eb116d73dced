"""A text progress bar for computations on the local schedulers.

:class:`ProgressBar` is a :class:`~shoal.local.callbacks.Callback`. When a
computation starts it remembers the time and starts one background thread
that, every ``dt`` seconds, redraws a line such as::

    [####################                    ] | 50% Completed | 1.02 s

The fraction is ``len(state.finished) / state.total``, read from the
:class:`~shoal.local.state.ExecutionState` that the loop hands to
``start_state``. The thread only reads the state (the loop writes it) and
only draws once the computation has run for ``minimum`` seconds, so short
computations print nothing at all.

When the computation finishes, the thread is stopped and joined (with a
bound) and the loop's thread draws the last line itself: 100% on success, the
fraction reached so far on error, followed by a newline. A lock keeps the two
writers from interleaving if the thread is slow to stop.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Mapping
from timeit import default_timer
from typing import TYPE_CHECKING, Any, TextIO

from shoal.local.callbacks import Callback

if TYPE_CHECKING:
    from shoal.local.state import ExecutionState

__all__ = ["ProgressBar", "format_time"]

#: How long ``finish`` waits for the drawing thread to stop, in seconds. The
#: thread wakes as soon as it is told to stop, so this is only hit if writing
#: to ``out`` blocks.
_JOIN_TIMEOUT = 5.0


def format_time(seconds: float) -> str:
    """Format a duration for humans, as the progress bar shows it.

    Parameters
    ----------
    seconds : float
        A duration in seconds.

    Returns
    -------
    str

    Examples
    --------
    >>> format_time(1.023)
    '1.02 s'
    >>> format_time(75.5)
    '1min 15.5s'
    >>> format_time(7384)
    '2hr 3min'
    """
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    if hours:
        return f"{hours}hr {minutes}min"
    if minutes:
        return f"{minutes}min {secs:.1f}s"
    return f"{secs:.2f} s"


class ProgressBar(Callback):
    """Show a progress bar for computations on the local schedulers.

    Mirrors ``dask.diagnostics.ProgressBar``.

    Parameters
    ----------
    minimum : float, optional
        Show nothing for computations that take less than this many seconds.
    width : int, optional
        Width of the bar, in characters, between the brackets.
    dt : float, optional
        Seconds between two redraws.
    out : file-like, optional
        Where to write the bar. Defaults to ``sys.stdout``, looked up each time
        the bar is drawn, so redirections made after construction (pytest's
        ``capsys``, :func:`contextlib.redirect_stdout`) are honoured.

    Attributes
    ----------
    last_duration : float
        Wall time of the last computation, in seconds (0 before any).

    See Also
    --------
    shoal.diagnostics.Profiler : record when each task ran.

    Notes
    -----
    Use it as a context manager around one computation, or call
    :meth:`register` to show a bar for every computation until
    :meth:`unregister`.

    Examples
    --------
    >>> import io
    >>> from shoal.local import get_sync
    >>> out = io.StringIO()
    >>> with ProgressBar(out=out) as pbar:
    ...     get_sync({"x": 1, "y": (abs, "x")}, "y")
    1
    >>> out.getvalue().startswith("\\r[" + "#" * 40 + "] | 100% Completed |")
    True
    >>> out.getvalue().endswith("\\n")
    True
    """

    def __init__(
        self,
        minimum: float = 0,
        width: int = 40,
        dt: float = 0.1,
        out: TextIO | None = None,
    ) -> None:
        self._minimum = minimum
        self._width = width
        self._dt = dt
        self._file = out
        self.last_duration = 0.0
        #: Set by ``start_state``; None until the loop has built its state.
        self._state: ExecutionState | None = None
        self._start_time = 0.0
        self._stop = threading.Event()
        self._timer: threading.Thread | None = None
        # Held while writing, so the thread and ``finish`` never interleave.
        self._draw_lock = threading.Lock()

    @property
    def _out(self) -> TextIO:
        return self._file if self._file is not None else sys.stdout

    # -- callback hooks, called from the loop's thread -----------------------

    def _start(self, graph: Mapping[Any, Any]) -> None:
        self._state = None
        self._start_time = default_timer()
        self._stop = threading.Event()
        self._timer = threading.Thread(
            target=self._run_timer,
            args=(self._stop,),
            name="shoal-progressbar",
            daemon=True,
        )
        self._timer.start()

    def _start_state(self, graph: Mapping[Any, Any], state: ExecutionState) -> None:
        self._state = state

    def _finish(
        self, graph: Mapping[Any, Any], state: ExecutionState, errored: bool
    ) -> None:
        self._stop.set()
        if self._timer is not None:
            self._timer.join(timeout=_JOIN_TIMEOUT)
            self._timer = None
        elapsed = default_timer() - self._start_time
        self.last_duration = elapsed
        if elapsed < self._minimum:
            return
        self._state = state
        with self._draw_lock:
            # On error, leave the bar where it stopped so the user sees how far
            # the computation got.
            fraction = self._fraction() if errored else 1.0
            self._write(fraction, elapsed)
            self._out.write("\n")
            self._out.flush()

    # -- drawing --------------------------------------------------------------

    def _run_timer(self, stop: threading.Event) -> None:
        # ``stop`` is passed in rather than read from ``self`` so that a thread
        # left over from an earlier computation can never miss its own signal.
        while not stop.wait(self._dt):
            elapsed = default_timer() - self._start_time
            if elapsed < self._minimum:
                continue
            with self._draw_lock:
                if stop.is_set():
                    return
                self._write(self._fraction(), elapsed)

    def _fraction(self) -> float:
        state = self._state
        if state is None:
            return 0.0
        total = state.total
        if total == 0:
            return 1.0
        return min(len(state.finished) / total, 1.0)

    def _write(self, fraction: float, elapsed: float) -> None:
        bar = "#" * int(self._width * fraction)
        percent = int(100 * fraction)
        line = (
            f"\r[{bar:<{self._width}}] | {percent:3d}% Completed | "
            f"{format_time(elapsed)}"
        )
        out = self._out
        out.write(line)
        out.flush()
