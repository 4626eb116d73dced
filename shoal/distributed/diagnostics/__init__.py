"""Client-side diagnostics for shoal.distributed: progress bars, performance reports, profiles, worker logs."""

from __future__ import annotations

from shoal.distributed.diagnostics.progress import progress
from shoal.distributed.diagnostics.report import get_worker_logs, performance_report, prefix_summary, profile
from shoal.distributed.diagnostics.task_stream import get_task_stream

__all__ = ["get_task_stream", "get_worker_logs", "performance_report", "prefix_summary", "profile", "progress"]
