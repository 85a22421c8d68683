# Two commands for a new user:  `make demo`  (set up + run the built-in city)
#                               `make test`  (the whole test suite)
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test setup bench clean browser

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/twin run scenarios/demo.yaml --out runs/demo --overwrite

# the HTML replay test drives a real browser (Debian's chromium + chromedriver) and the
# `twin view` test opens a window on a virtual display (xvfb)
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null && \
	  command -v xvfb-run >/dev/null || \
	  { (apt-get update -qq && apt-get install -y -qq chromium chromium-driver xvfb xauth \
	     >/dev/null) || echo "note: could not install chromium/xvfb; those tests will be skipped"; }

test: $(STAMP) browser
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	for f in benchmarks/bench_*.py; do $(BIN)/python $$f || exit 1; done

clean:
	rm -rf runs .pytest_cache
