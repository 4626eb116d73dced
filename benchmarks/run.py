"""Run every benchmark (``bench_*.py`` in this folder) and print its report.

``make bench`` runs this in ``.venv-bench``, where Dask is installed so each
report shows Dask's figure from the same run beside shoal's. Pass names to
run a subset: ``python benchmarks/run.py overhead``.
"""

from __future__ import annotations

import importlib
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent


def main(argv: list[str]) -> None:
    sys.path.insert(0, str(HERE))
    names = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if argv:
        names = [n for n in names if any(a in n for a in argv)]
    for name in names:
        importlib.import_module(name).main()


if __name__ == "__main__":
    main(sys.argv[1:])
