"""Client-side diagnostics for shoal.distributed: progress bars, performance reports, profiles, worker logs."""

from __future__ import annotations

from shoal.distributed.diagnostics.progress import progress
from shoal.distributed.diagnostics.report import get_worker_logs, performance_report, prefix_summary, profile

__all__ = ["get_worker_logs", "performance_report", "prefix_summary", "profile", "progress"]
