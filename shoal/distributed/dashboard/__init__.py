"""The scheduler's diagnostic dashboard: live pages, a JSON API, ``/health`` and Prometheus ``/metrics``.

The scheduler starts a :class:`DashboardServer` on its own event loop when it
is given a dashboard address (config ``distributed.dashboard.address``,
``127.0.0.1:8787`` by default; a busy port falls back to a free one). The
pages are plain HTML, JavaScript and canvas shipped in ``static/``: they load
nothing from the internet.
"""

from shoal.distributed.dashboard.http import parse_address
from shoal.distributed.dashboard.server import DashboardServer

__all__ = ["DEFAULT_ADDRESS", "DashboardServer", "parse_address"]

#: Where the dashboard listens unless ``distributed.dashboard.address`` says otherwise.
DEFAULT_ADDRESS = "127.0.0.1:8787"
