# tranche — two commands: `make demo` and `make test`. Everything they need is installed here:
# the demo only the runtime dependencies, the tests also the `test` extra (pytest, mypy, PySpark, ...).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TESTSTAMP := $(VENV)/.installed-test

.PHONY: demo serve test test-deep install bench soak lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	$(BIN)/python -m compileall -q tranche  # bytecode written now: a start-up never compiles (PYTHONDONTWRITEBYTECODE)
	touch $(STAMP)

$(TESTSTAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(TESTSTAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m compileall -q tranche
	$(BIN)/tranche demo

serve: $(STAMP)
	$(BIN)/tranche demo --serve

test: $(TESTSTAMP)
	$(BIN)/python -m pytest -q --durations=15 tranche tests
	$(BIN)/python -m mypy

test-deep: $(TESTSTAMP)  # the heavy property tests with five times their examples (five times as long)
	TRANCHE_EXAMPLES=5 $(BIN)/python -m pytest -q tranche tests

bench: $(TESTSTAMP)
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python bench/run.py
	$(BIN)/python bench/analysis_bench.py
	$(BIN)/python bench/startup_bench.py

soak: $(STAMP)
	$(BIN)/python bench/soak.py --minutes $${SOAK_MINUTES:-3}

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .hypothesis test-artifacts
