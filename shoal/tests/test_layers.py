"""Keep the layers honest: importing low layers pulls in nothing heavy."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ["numpy", "pandas", "asyncio", "bokeh", "psutil", "tornado", "shoal.distributed"]


@pytest.mark.parametrize("module", ["shoal", "shoal.graph", "shoal.local", "shoal.config", "shoal.delayed"])
def test_import_is_light(module):
    code = (
        f"import sys, {module}\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_graph_does_not_import_upper_layers():
    code = (
        "import sys, shoal.graph\n"
        "upper = [m for m in sys.modules if m.startswith(('shoal.local', 'shoal.delayed', 'shoal.base'))]\n"
        "assert not upper, upper\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
