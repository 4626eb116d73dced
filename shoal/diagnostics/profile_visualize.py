"""Bokeh plots of the records kept by the profilers in :mod:`shoal.diagnostics`.

:func:`visualize` turns one profiler or several into one column of plots
that share their time axis (zooming one zooms all) and writes them to a
self-contained HTML file, with Bokeh's JavaScript inlined so the file opens
offline. One plot per profiler:

- :class:`~shoal.diagnostics.Profiler`: a task stream, one row per worker,
  one bar per task from its start to its end, coloured by key prefix;
- :class:`~shoal.diagnostics.ResourceProfiler`: CPU % (left axis) and memory
  in MB (right axis) over time;
- :class:`~shoal.diagnostics.CacheProfiler`: the metric of the results held in
  the cache over time, in total and per key prefix.

Times are shown in seconds since the earliest record of any of the profilers
drawn together. Colours come from one prefix -> colour map shared by every
plot of the column, so ``inc`` is the same colour in the task stream and the
cache plot.

Bokeh is imported inside the functions, so importing this module is cheap and
works without Bokeh installed.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shoal.diagnostics.profile import (
        CacheData,
        CacheProfiler,
        Profiler,
        ResourceData,
        ResourceProfiler,
        TaskData,
    )

    AnyProfiler = Profiler | ResourceProfiler | CacheProfiler

__all__ = ["key_prefix", "plot_cache", "plot_resources", "plot_tasks", "visualize"]

_DEFAULT_FIGURE = {
    "width": 800,
    "height": 300,
    "tools": "pan,xwheel_zoom,box_zoom,reset,save",
}
#: Longest key text shown in a tooltip; keys of huge tuples stay readable.
_MAX_KEY_TEXT = 80


def key_prefix(key: Hashable) -> str:
    """Name a key by its prefix: the key without its trailing token.

    Keys made by shoal's collections look like ``"inc-9f3ac..."`` or
    ``("sum-aggregate-1b2c...", 3)``. The prefix keeps the leading words of
    the name (the first element of a tuple key) up to the first segment that
    looks like a token: one that contains a digit, or is eight or more hex
    letters.

    Parameters
    ----------
    key : str or tuple
        A graph key.

    Returns
    -------
    str

    Examples
    --------
    >>> key_prefix("inc-abc123")
    'inc'
    >>> key_prefix(("sum-aggregate-5e1f0c", 0, 1))
    'sum-aggregate'
    >>> key_prefix("read-parquet")
    'read-parquet'
    >>> key_prefix("x")
    'x'
    """
    while isinstance(key, tuple) and key:
        key = key[0]
    if isinstance(key, bytes):
        key = key.decode(errors="replace")
    name = key if isinstance(key, str) else str(key)
    words = name.split("-")
    kept = [words[0]]
    for word in words[1:]:
        if _is_token(word):
            break
        kept.append(word)
    return "-".join(kept)


def _is_token(word: str) -> bool:
    if not word or any(c.isdigit() for c in word):
        return True
    return len(word) >= 8 and all(c in "abcdefABCDEF" for c in word)


def _key_text(key: Hashable) -> str:
    text = str(key)
    if len(text) > _MAX_KEY_TEXT:
        text = text[: _MAX_KEY_TEXT - 3] + "..."
    return text


def _import_bokeh() -> None:
    try:
        import bokeh  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            "shoal.diagnostics.visualize draws its plots with Bokeh, which is not "
            "installed. Install it with `pip install shoal[diagnostics]` "
            "(or `pip install bokeh`)."
        ) from exc


def _prefix_colors(prefixes: Iterable[str], palette: Sequence[str] | None) -> dict[str, str]:
    # Sorted, so the same prefixes get the same colours from run to run.
    if palette is None:
        from bokeh.palettes import Category20

        palette = Category20[20]
    return {p: palette[i % len(palette)] for i, p in enumerate(sorted(set(prefixes)))}


def _figure(defaults: Mapping[str, Any], kwargs: Mapping[str, Any]) -> Any:
    from bokeh.plotting import figure

    return figure(**{**_DEFAULT_FIGURE, **defaults, **kwargs})


def plot_tasks(
    results: Sequence[TaskData],
    *,
    origin: float = 0.0,
    colors: Mapping[str, str] | None = None,
    **kwargs: Any,
) -> Any:
    """Draw :class:`~shoal.diagnostics.profile.TaskData` records as a task stream.

    Parameters
    ----------
    results : sequence of TaskData
        What :attr:`Profiler.results <shoal.diagnostics.Profiler.results>` holds.
    origin : float, optional
        The time shown as 0 s.
    colors : mapping, optional
        Key prefix -> colour; by default a Category20 colour per prefix.
    **kwargs
        Passed to :func:`bokeh.plotting.figure` (``width``, ``height``,
        ``title``, ``x_range``, ...).

    Returns
    -------
    bokeh.plotting.figure
    """
    _import_bokeh()
    from bokeh.models import ColumnDataSource, HoverTool

    prefixes = [key_prefix(r.key) for r in results]
    if colors is None:
        colors = _prefix_colors(prefixes, None)
    workers = sorted({r.worker_id for r in results})
    source = ColumnDataSource(
        {
            "worker": [str(r.worker_id) for r in results],
            "start": [r.start_time - origin for r in results],
            "end": [r.end_time - origin for r in results],
            "duration": [r.end_time - r.start_time for r in results],
            "key": [_key_text(r.key) for r in results],
            "prefix": prefixes,
            "color": [colors[p] for p in prefixes],
        }
    )
    p = _figure(
        {
            "title": "Profile Results",
            # Worker 0 on top, as in a task stream.
            "y_range": [str(w) for w in reversed(workers)] or ["0"],
            "x_axis_label": "Time (s)",
            "y_axis_label": "Worker ID",
        },
        kwargs,
    )
    p.hbar(
        y="worker",
        left="start",
        right="end",
        height=0.8,
        fill_color="color",
        line_color="color",
        source=source,
        legend_field="prefix",
    )
    p.add_tools(
        HoverTool(
            tooltips=[
                ("Key", "@key"),
                ("Prefix", "@prefix"),
                ("Worker", "@worker"),
                ("Duration", "@duration{0.000} s"),
            ]
        )
    )
    p.legend.click_policy = "hide"
    p.legend.location = "top_left"
    return p


def plot_resources(
    results: Sequence[ResourceData],
    *,
    origin: float = 0.0,
    **kwargs: Any,
) -> Any:
    """Draw :class:`~shoal.diagnostics.profile.ResourceData` samples: CPU and memory.

    Parameters
    ----------
    results : sequence of ResourceData
        What :attr:`ResourceProfiler.results <shoal.diagnostics.ResourceProfiler.results>`
        holds.
    origin : float, optional
        The time shown as 0 s.
    **kwargs
        Passed to :func:`bokeh.plotting.figure`.

    Returns
    -------
    bokeh.plotting.figure
    """
    _import_bokeh()
    from bokeh.models import ColumnDataSource, HoverTool, LinearAxis, Range1d
    from bokeh.palettes import Category10

    source = ColumnDataSource(
        {
            "time": [r.time - origin for r in results],
            "cpu": [r.cpu for r in results],
            "mem": [r.mem for r in results],
        }
    )
    # Both ranges start at 0: usage is easier to judge against nothing used.
    top_cpu = max((r.cpu for r in results), default=0.0)
    top_mem = max((r.mem for r in results), default=0.0)
    p = _figure(
        {
            "title": "Profile Results - Resources",
            "x_axis_label": "Time (s)",
            "y_axis_label": "% CPU",
            "y_range": Range1d(0, max(top_cpu * 1.1, 100.0)),
        },
        kwargs,
    )
    cpu_color, mem_color = Category10[10][0], Category10[10][1]
    p.line(
        x="time", y="cpu", source=source, line_color=cpu_color, line_width=2, legend_label="% CPU"
    )
    p.extra_y_ranges = {"memory": Range1d(0, max(top_mem * 1.1, 1.0))}
    p.add_layout(LinearAxis(y_range_name="memory", axis_label="Memory (MB)"), "right")
    p.line(
        x="time",
        y="mem",
        source=source,
        y_range_name="memory",
        line_color=mem_color,
        line_width=2,
        legend_label="Memory",
    )
    p.add_tools(
        HoverTool(
            tooltips=[
                ("Time", "@time{0.00} s"),
                ("CPU", "@cpu{0.0} %"),
                ("Memory", "@mem{0.0} MB"),
            ],
            mode="vline",
        )
    )
    p.legend.click_policy = "hide"
    p.legend.location = "top_left"
    return p


def plot_cache(
    results: Sequence[CacheData],
    *,
    metric_name: str = "count",
    origin: float = 0.0,
    colors: Mapping[str, str] | None = None,
    **kwargs: Any,
) -> Any:
    """Draw :class:`~shoal.diagnostics.profile.CacheData` records: the cache over time.

    Parameters
    ----------
    results : sequence of CacheData
        What :attr:`CacheProfiler.results <shoal.diagnostics.CacheProfiler.results>`
        holds.
    metric_name : str, optional
        Label of the y axis.
    origin : float, optional
        The time shown as 0 s.
    colors : mapping, optional
        Key prefix -> colour; by default a Category20 colour per prefix.
    **kwargs
        Passed to :func:`bokeh.plotting.figure`.

    Returns
    -------
    bokeh.plotting.figure
    """
    _import_bokeh()

    times, total, by_prefix = _cache_steps(results, origin)
    if colors is None:
        colors = _prefix_colors(by_prefix, None)
    p = _figure(
        {
            "title": "Profile Results - Cache",
            "x_axis_label": "Time (s)",
            "y_axis_label": f"Cache Size ({metric_name})",
        },
        kwargs,
    )
    for prefix in sorted(by_prefix):
        p.step(
            times,
            by_prefix[prefix],
            mode="after",
            line_color=colors[prefix],
            line_width=2,
            legend_label=prefix,
        )
    p.step(times, total, mode="after", line_color="black", line_width=2, legend_label="Total")
    p.legend.click_policy = "hide"
    p.legend.location = "top_left"
    return p


def _cache_steps(
    results: Sequence[CacheData], origin: float
) -> tuple[list[float], list[Any], dict[str, list[Any]]]:
    """Sum the metric of what is cached, after every change, in total and per prefix.

    A sweep over the (cache_time, +metric) and (free_time, -metric) events
    sorted by time: O(n log n) for the sort plus one row per distinct time.
    """
    events: list[tuple[float, str, Any]] = []
    for r in results:
        prefix = key_prefix(r.key)
        events.append((r.cache_time - origin, prefix, r.metric))
        events.append((r.free_time - origin, prefix, -r.metric))
    events.sort(key=lambda e: e[0])
    prefixes = sorted({e[1] for e in events})
    level: dict[str, Any] = defaultdict(int)
    times: list[float] = []
    total: list[Any] = []
    by_prefix: dict[str, list[Any]] = {p: [] for p in prefixes}
    i = 0
    while i < len(events):
        now = events[i][0]
        # Apply every change made at the same instant before taking a row, so
        # a result freed as another is cached shows no spurious spike.
        while i < len(events) and events[i][0] == now:
            level[events[i][1]] += events[i][2]
            i += 1
        times.append(now)
        total.append(sum(level[p] for p in prefixes))
        for p in prefixes:
            by_prefix[p].append(level[p])
    return times, total, by_prefix


def visualize(
    profilers: AnyProfiler | Sequence[AnyProfiler],
    filename: str | os.PathLike[str] = "profile.html",
    show: bool = False,
    save: bool = True,
    mode: str | None = None,
    *,
    palette: Sequence[str] | None = None,
    **kwargs: Any,
) -> Any:
    """Plot profiler results in one column with a shared time axis.

    Mirrors ``dask.diagnostics.visualize``; differences: ``show`` defaults to
    False, so scripts and tests do not open a browser.

    Parameters
    ----------
    profilers : profiler or sequence of profilers
        :class:`~shoal.diagnostics.Profiler`,
        :class:`~shoal.diagnostics.ResourceProfiler` or
        :class:`~shoal.diagnostics.CacheProfiler` objects, drawn top to bottom.
    filename : str or path, optional
        The HTML file to write.
    show : bool, optional
        Open the plot in a browser.
    save : bool, optional
        Write ``filename``.
    mode : {"inline", "cdn"}, optional
        How the file gets Bokeh's JavaScript. ``"inline"`` (the default) embeds
        it, so the file works offline; ``"cdn"`` makes it much smaller.
    palette : sequence of str, optional
        Colours for key prefixes; defaults to Bokeh's Category20.
    **kwargs
        Passed to every :func:`bokeh.plotting.figure` (``width``, ``height``,
        ``tools``, ``title``, ...).

    Returns
    -------
    bokeh.models.Column
        The column of plots.

    Raises
    ------
    ImportError
        If Bokeh is not installed.
    TypeError
        If an object is not one of the profilers above.
    """
    _import_bokeh()
    from bokeh.io import output_file
    from bokeh.io import save as bokeh_save
    from bokeh.io import show as bokeh_show
    from bokeh.layouts import column
    from bokeh.resources import Resources

    from shoal.diagnostics.profile import CacheProfiler, Profiler, ResourceProfiler

    items = list(profilers) if isinstance(profilers, Sequence) else [profilers]
    for item in items:
        if not isinstance(item, Profiler | ResourceProfiler | CacheProfiler):
            raise TypeError(
                f"visualize() got {type(item).__name__!r}, which it cannot plot. "
                "Pass a Profiler, ResourceProfiler or CacheProfiler (or a list of them), "
                "for example visualize([prof, rprof])."
            )
    origins = [o for o in (item._time_origin() for item in items) if o is not None]
    origin = min(origins, default=0.0)
    prefixes = [
        key_prefix(r.key)
        for item in items
        if isinstance(item, Profiler | CacheProfiler)
        for r in item.results
    ]
    colors = _prefix_colors(prefixes, palette)

    plots = []
    for item in items:
        # Every plot after the first shares its time axis, so zooms stay in step.
        extra = {"x_range": plots[0].x_range} if plots else {}
        options = {**kwargs, **extra}
        if isinstance(item, Profiler):
            plots.append(plot_tasks(item.results, origin=origin, colors=colors, **options))
        elif isinstance(item, ResourceProfiler):
            plots.append(plot_resources(item.results, origin=origin, **options))
        else:
            plots.append(
                plot_cache(
                    item.results,
                    metric_name=item.metric_name,
                    origin=origin,
                    colors=colors,
                    **options,
                )
            )
    layout = column(*plots)

    resources = Resources(mode=mode or "inline")
    if save:
        bokeh_save(layout, filename=filename, resources=resources, title="Profile Results")
    if show:
        output_file(filename, title="Profile Results", mode=mode or "inline")
        bokeh_show(layout)
    return layout
