"""Diagnostics for computations on the local schedulers.

Mirrors ``dask.diagnostics``. Everything here is a
:class:`~shoal.local.callbacks.Callback`, so it works with every local
scheduler (sync, threads, processes):

- :class:`ProgressBar` draws a text progress bar;
- :class:`Profiler`, :class:`ResourceProfiler` and :class:`CacheProfiler`
  record tasks, memory and CPU, and the scheduler's cache;
- :func:`visualize` plots profiler records with Bokeh.

Bokeh and psutil are optional (``pip install shoal[diagnostics]``) and are
imported only when a plot is drawn or resources are sampled.
"""

from __future__ import annotations

from shoal.diagnostics.profile import CacheProfiler, Profiler, ResourceProfiler
from shoal.diagnostics.profile_visualize import visualize
from shoal.diagnostics.progress import ProgressBar
from shoal.local.callbacks import Callback

__all__ = [
    "CacheProfiler",
    "Callback",
    "Profiler",
    "ProgressBar",
    "ResourceProfiler",
    "visualize",
]
