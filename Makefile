# The two commands of the README: `make run` and `make test`. Each sets up .venv itself.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
HOST    ?= 127.0.0.1
PORT    ?= 9999
ALLOWED_HOSTS ?=
# More options for servers/stack.py, e.g. its TLS ones (README: "Running it exposed")
STACK_ARGS ?=
# A new machine's first minutes often hold the dpkg lock (unattended upgrades): wait for
# it, up to 10 minutes, instead of failing at once.
APT_WAIT := -o DPkg::Lock::Timeout=600

.PHONY: run test lint bench fuzz clean tools pyodide uplot screenshots

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

# Command-line tools the tests and benchmarks drive (curl, wrk, Debian's Chromium for the
# browser tests: Playwright drives /usr/bin/chromium, nothing downloads a browser;
# iproute2 and iptables for the cluster tests' network namespaces and faults; PostgreSQL
# and etcd, which the tests start privately on free ports; openssl for the README's
# private-CA walk-through, which a test runs; Go, whose encoding/gob and net/rpc the gob
# tests run against, built from tests/gob/go); installed only when missing.
tools:
	@command -v curl >/dev/null && command -v wrk >/dev/null && test -x /usr/bin/chromium && \
	  command -v ip >/dev/null && command -v iptables-legacy >/dev/null && \
	  ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 && command -v etcd >/dev/null && \
	  command -v openssl >/dev/null && command -v go >/dev/null || \
	  { apt-get $(APT_WAIT) update -qq && apt-get $(APT_WAIT) install -y -qq curl wrk chromium iproute2 iptables \
	    postgresql etcd-server openssl golang-go >/dev/null; } || \
	  echo "warning: could not install curl/wrk/chromium/iproute2/iptables/postgresql/etcd-server/openssl/golang-go"

# Pyodide (CPython in WebAssembly) for the /demo/wasm pages, from npm, pinned by
# examples/wasm/package.json and its lock file; served by geetrio, never from a CDN.
PYODIDE := examples/wasm/node_modules/pyodide/pyodide.js
pyodide: $(PYODIDE)
$(PYODIDE): examples/wasm/package.json examples/wasm/package-lock.json
	@command -v npm >/dev/null || { apt-get $(APT_WAIT) update -qq && apt-get $(APT_WAIT) install -y -qq nodejs npm >/dev/null; }
	npm ci --prefix examples/wasm --no-audit --no-fund --silent
	@touch $@

# uPlot for the stack's live dashboard (/stats), likewise pinned and served by geetrio.
UPLOT := servers/dashboard_ui/node_modules/uplot/dist/uPlot.iife.min.js
uplot: $(UPLOT)
$(UPLOT): servers/dashboard_ui/package.json servers/dashboard_ui/package-lock.json
	@command -v npm >/dev/null || { apt-get $(APT_WAIT) update -qq && apt-get $(APT_WAIT) install -y -qq nodejs npm >/dev/null; }
	npm ci --prefix servers/dashboard_ui --no-audit --no-fund --silent
	@touch $@

run: $(STAMP) $(PYODIDE) $(UPLOT)
	$(BIN)/python servers/stack.py --host $(HOST) --port $(PORT) --allowed-hosts "$(ALLOWED_HOSTS)" $(STACK_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: $(STAMP) tools lint $(PYODIDE) $(UPLOT)
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 $(BIN)/pytest

# The README's pictures, taken by the stack's browser test.
screenshots: $(STAMP) tools $(PYODIDE) $(UPLOT)
	mkdir -p docs
	GEETRIO_SCREENSHOTS=docs PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 $(BIN)/pytest -q tests/test_stack.py -k the_stack

# purerpc (gRPC on trio) needs h2 < 4: it gets a venv of its own for the RPC benchmark.
PURERPC := .venv-purerpc
$(PURERPC)/.installed:
	@{ $(PY) -m venv $(PURERPC) && $(PURERPC)/bin/pip install --quiet "purerpc==0.8.0" "h2>=3.2,<4" \
	  "protobuf>=5" "trio>=0.30" && touch $@; } || echo "warning: purerpc could not be installed; its benchmark is skipped"

bench: $(STAMP) tools $(PURERPC)/.installed
	@command -v redis-server >/dev/null || { apt-get $(APT_WAIT) update -qq && apt-get $(APT_WAIT) install -y -qq redis-server >/dev/null; }
	$(BIN)/python benchmarks/run_all.py

# Coverage-guided fuzzing (atheris) of the targets that `make test` fuzzes briefly with
# hypothesis: FUZZ_SECONDS each; a crash stops it and leaves its input in fuzz/crashes/.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := http_request http_response rpc_stream cache_peer bridge_message
fuzz: $(STAMP)
	$(BIN)/pip install --quiet -e '.[fuzz]'
	@for target in $(FUZZ_TARGETS); do \
	  echo "fuzzing $$target for $(FUZZ_SECONDS) s"; \
	  $(BIN)/python fuzz/run.py $$target -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	    -rss_limit_mb=2048 -print_final_stats=1 || exit 1; \
	done

clean:
	rm -rf $(VENV) $(PURERPC) examples/wasm/node_modules servers/dashboard_ui/node_modules .pytest_cache .mypy_cache .ruff_cache
