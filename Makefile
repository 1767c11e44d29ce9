# imugait — set-up, demo and tests. `make demo` and `make test` need nothing installed by hand.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: all venv demo test lint bench clean

all: test

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/imugait demo --force

# The suite runs in parallel (pytest-xdist): one worker per core, at most 4 (TEST_WORKERS=0 for
# one process). pytest exits 5 when it collected no test: that is a failure for us, not a pass.
TEST_WORKERS ?= auto
test: $(STAMP)
	@$(PY) -m pytest -q -n $(TEST_WORKERS) --maxprocesses 4 --dist worksteal; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests — failing"; exit 1; fi; \
	exit $$rc

lint: $(STAMP)
	$(VENV)/bin/ruff check imugait tests benchmarks

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
