# Every target makes its own environment from nothing but python3.11 and make.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BENCH_VENV := .venv-bench
STAMP := $(VENV)/.installed

.PHONY: demo test bench clean browser

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e ".[complete,test]"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/python examples/demo.py

# The dashboard's browser tests drive Debian's Chromium and visualize() renders with Graphviz's dot; where
# either is missing and apt-get can install it (as root), it is installed first. Otherwise those tests skip,
# saying why.
TOOLS := chromium:chromium dot:graphviz
browser:
	@for pair in $(TOOLS); do \
		cmd=$${pair%%:*}; pkg=$${pair#*:}; \
		command -v $$cmd >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
			echo "installing Debian's $$pkg for the tests that need $$cmd" && \
			{ timeout 600 apt-get install -y -q $$pkg >/dev/null 2>&1 || \
			  { timeout 300 apt-get update -q >/dev/null 2>&1 && timeout 600 apt-get install -y -q $$pkg >/dev/null 2>&1; }; }; } || \
			echo "$$pkg is not installed: the tests that need $$cmd will be skipped"; \
	done

test: $(STAMP) browser
	$(VENV)/bin/python -m pytest -q

$(BENCH_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet -e ".[complete]"
	# Dask (and Polars, DuckDB) are installed here only, as what shoal is measured against.
	-$(BENCH_VENV)/bin/python -m pip install --quiet "dask[array,dataframe,diagnostics,distributed]==2026.8.0" polars duckdb
	touch $(BENCH_VENV)/.installed

bench: $(BENCH_VENV)/.installed
	$(BENCH_VENV)/bin/python benchmarks/run.py

clean:
	rm -rf $(VENV) $(BENCH_VENV) build *.egg-info
