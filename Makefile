# Two entry points: `make demo` (set up, then bulk-grade the demo class into HTML reports)
# and `make test` (set up, then run the test suite). Both create .venv on first use.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: setup demo test bench

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[ml,test]"
	touch $@

demo: setup
	$(VENV)/bin/grader validate exercises/inf5860
	$(VENV)/bin/grader grade exercises/inf5860 examples/class --out out --jobs 2

test: setup
	$(PY) -m pytest -q $(PYTEST_ARGS)

bench: setup
	$(PY) benchmarks/bulk.py
