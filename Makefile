# The two quickstart commands: `make demo` and `make test`. Both install what they need
# into .venv first (Python 3.11 is the only thing the machine must have).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint docs clean

# --no-compile: modules are byte-compiled when first imported, not all at install (most of
# pyspark, playwright and schemathesis never are): a clean install in 45 s instead of 90.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --no-compile -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/openeis demo

# worksteal: a worker that runs out of tests takes some of the other's, so that one long test
# near the end does not leave a core idle.
test: install
	$(BIN)/pytest -n 2 --dist worksteal --durations=15

# The linter, the type checker and the import rules (pyproject.toml); .ci/run runs them first.
lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

# Regenerate the documents that are generated from code (tests fail when they drift).
docs: install
	$(BIN)/python -m openeis.schema_docs > docs/data-model.md
	$(BIN)/openeis config docs > docs/config.md

clean:
	rm -rf $(VENV) openeis-demo .pytest_cache
