# epimap: `make run` serves the demo portal, `make test` runs the whole suite.
# Both install what they need (apt packages, virtualenv, front-end assets, a local PostGIS).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= $(or $(EPIMAP_PORT),8000)
STAMP := $(VENV)/.installed

.PHONY: run test setup system assets db demo lint bench bench-smoke clean

# The job worker (feed previews and publications) runs beside gunicorn and stops with it.
run: setup demo
	$(BIN)/epimap worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn --workers 4 --bind 127.0.0.1:$(PORT) --access-logfile - 'portal:create_app()'

# The tests run the queued jobs themselves, or start `epimap worker` processes (tests/officials/test_jobs.py).
test: setup db
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/pytest
	$(BIN)/python -m bench.gate

setup: system $(STAMP) assets

system:
	scripts/install-system-packages

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

assets: portal/assets/node_modules/.package-lock.json

portal/assets/node_modules/.package-lock.json: portal/assets/package.json portal/assets/package-lock.json
	npm ci --prefix portal/assets --no-audit --no-fund --loglevel=error

db: $(STAMP)
	$(BIN)/epimap db up
	$(BIN)/epimap db migrate

demo: db
	$(BIN)/epimap demo load --if-absent
	$(BIN)/epimap accounts ensure-admin

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# Each benchmark compares epimap with the reference tools in one run and prints its ratios; the
# five run in turn (ingest, tiles, nearby, ogc, requests: citizens' requests' intake under load, its
# targets PASS/MISS) and every ratio is printed again at the end; then bench.load (a mixed citizen load
# for 10 minutes and three faults), its targets and faults last.
bench: setup db
	$(BIN)/python -m bench.gate --full

# The gate `make test` ends with: the smoke runs, each ratio held to a floor (bench/gate.py).
bench-smoke: setup db
	$(BIN)/python -m bench.gate

clean:
	-$(BIN)/epimap db down
	rm -rf $(VENV) .var portal/assets/node_modules
