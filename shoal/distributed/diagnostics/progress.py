"""``progress``: a live bar for futures (a text bar in a terminal, an ipywidgets bar in Jupyter).

The bar counts the futures passed in (for a persisted collection, one per
output partition) and advances as each finishes or fails; it is driven by
polling the futures' states, which the client updates from the scheduler.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any, TextIO

from shoal.base import is_dask_collection
from shoal.distributed._pack import futures_of

__all__ = ["TextProgressBar", "progress"]

_WIDTH = 40


def _counts(futures: list[Any]) -> tuple[int, int]:
    """(finished, erred) among ``futures``; cancelled ones count as erred."""
    done = erred = 0
    for f in futures:
        if f.done():
            done += 1
            if f.status != "finished":
                erred += 1
    return done, erred


class TextProgressBar:
    """Redraw ``[####    ] | 50% Completed | 3 / 6 | 1.2s`` in place until every future has finished.

    Parameters
    ----------
    futures : list of Future
        What to follow.
    interval : float
        Seconds between redraws.
    out : file-like, optional
        Where to draw (``sys.stdout`` when the bar is drawn, by default).
    """

    def __init__(self, futures: list[Any], interval: float = 0.1, out: TextIO | None = None) -> None:
        self.futures = futures
        self.interval = interval
        self._out = out
        self.start = time.monotonic()

    @property
    def out(self) -> TextIO:
        return self._out if self._out is not None else sys.stdout

    def draw(self) -> tuple[int, int]:
        done, erred = _counts(self.futures)
        total = len(self.futures)
        fraction = done / total if total else 1.0
        bar = "#" * int(_WIDTH * fraction)
        note = f" | {erred} erred" if erred else ""
        self.out.write(f"\r[{bar:<{_WIDTH}}] | {fraction:4.0%} Completed | {done} / {total}{note} | "
                       f"{time.monotonic() - self.start:.1f}s")
        self.out.flush()
        return done, total

    def run(self, timeout: float | None = None) -> None:
        """Redraw until all futures are done (or ``timeout`` seconds pass), then end the line."""
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while True:
                done, total = self.draw()
                if done == total or (deadline is not None and time.monotonic() >= deadline):
                    break
                time.sleep(self.interval)
        finally:
            self.out.write("\n")
            self.out.flush()


class WidgetProgressBar:  # pragma: no cover - needs ipywidgets and a notebook front end
    """An ``ipywidgets.IntProgress`` updated from a background thread; returns at once."""

    def __init__(self, futures: list[Any], interval: float = 0.1) -> None:
        import ipywidgets
        from IPython.display import display

        self.futures = futures
        self.interval = interval
        self.bar = ipywidgets.IntProgress(min=0, max=max(len(futures), 1), value=0, bar_style="info")
        self.label = ipywidgets.HTML()
        self.widget = ipywidgets.HBox([self.bar, self.label])
        display(self.widget)
        self.thread = threading.Thread(target=self._follow, name="shoal-progress-widget", daemon=True)
        self.thread.start()

    def _follow(self) -> None:
        start = time.monotonic()
        while True:
            done, erred = _counts(self.futures)
            self.bar.value = done
            self.label.value = f"{done} / {len(self.futures)} ({time.monotonic() - start:.1f}s)"
            if done == len(self.futures):
                self.bar.bar_style = "danger" if erred else "success"
                return
            time.sleep(self.interval)


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        ip = shell.get_ipython()  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - a half-initialised IPython is "not a notebook"
        return False
    return type(ip).__name__ == "ZMQInteractiveShell"


def _have_widgets() -> bool:
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


def progress(*futures: Any, notebook: bool | None = None, interval: float = 0.1, timeout: float | None = None,
             out: TextIO | None = None) -> Any:
    """Show the progress of futures, or of collections already persisted on the cluster.

    In a terminal this draws a text bar and blocks until everything has
    finished (or failed). In Jupyter, with ``ipywidgets`` installed, it shows
    a widget and returns at once; without ``ipywidgets`` it falls back to the
    text bar.

    Parameters
    ----------
    *futures : Future, list of Futures, or persisted collections
        What to follow.
    notebook : bool, optional
        Force the widget (True) or the text bar (False); detected by default.
    interval : float
        Seconds between updates.
    timeout : float, optional
        Stop drawing the text bar after this many seconds.
    out : file-like, optional
        Where the text bar goes (standard output by default).

    Examples
    --------
    >>> import io
    >>> from shoal.distributed import Client, progress
    >>> with Client(processes=False, n_workers=1, set_as_default=False) as client:
    ...     fs = client.map(abs, [-1, -2, 3])
    ...     buf = io.StringIO()
    ...     progress(fs, out=buf)
    >>> buf.getvalue().rstrip().split("\\r")[-1].split(" | ")[1:3]
    ['100% Completed', '3 / 3']
    """
    found = futures_of(list(futures))
    if not found:
        if any(is_dask_collection(f) for f in futures):
            raise ValueError("progress() follows work on the cluster, but the collection passed has no futures: "
                             "persist it first, e.g. `x = client.persist(x); progress(x)`.")
        raise ValueError(f"progress() expects futures or persisted collections, got {futures!r}.")
    use_widget = (_in_notebook() if notebook is None else notebook) and _have_widgets()
    if use_widget:  # pragma: no cover - needs a notebook
        return WidgetProgressBar(found, interval)
    TextProgressBar(found, interval, out).run(timeout)
    return None
