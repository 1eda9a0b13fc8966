# promo-engine: the two commands a new user needs are `make serve` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install serve test lint check-redis bench loadtest clean

# Re-installs only when pyproject.toml changes: a second `make install` is instant.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

serve: install
	$(BIN)/promo serve examples --store memory

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check dsl engine api tests benchmarks loadtests
	$(BIN)/mypy

check-redis:
	@command -v redis-server >/dev/null || { \
	  echo "error: redis-server is not installed; the Redis tests need it."; \
	  echo "       install it with: sudo apt-get install -y redis-server"; exit 1; }

test: install check-redis lint
	$(BIN)/pytest -q -x -p no:cacheprovider
	@# The shared spec examples sit beside the checkout when it has them; a failure is a failure.
	if [ -d ../shared/spec/examples ]; then $(BIN)/promo check ../shared/spec/examples examples; \
	else $(BIN)/promo check examples; fi

bench: install check-redis
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	$(BIN)/python benchmarks/run_all.py

loadtest: install check-redis
	$(BIN)/python -m loadtests.run $(LOADTEST_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
