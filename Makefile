# Two commands: `make demo` runs the app on the embedded simulator, `make test` runs every check.
# Both create .venv on first use and reinstall when pyproject.toml changes.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench soak clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -c 'import sys; assert sys.version_info >= (3, 11), "kmm needs Python >= 3.11"'
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/kmm --env sim --demo

test: $(STAMP)
	$(BIN)/ruff check kmm_tui tests bench
	$(BIN)/python -m pytest -q -n 3

lint: $(STAMP)
	$(BIN)/ruff check kmm_tui tests bench

# Every bench runs and prints its figures, targets and verdicts; the target fails at the end if any missed.
bench: $(STAMP)
	@failed=""; for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || failed="$$failed $$b"; done; \
	if [ -n "$$failed" ]; then echo "missed a target:$$failed"; exit 1; fi

# 200 matches quoting for 30 minutes after a 5-minute warm-up: RSS, its slope and where it grew
# (bench/results/soak.json).
soak: $(STAMP)
	$(BIN)/python bench/bench_scale.py --soak-minutes 30

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
