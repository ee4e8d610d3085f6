# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_OUT ?= demo-output

export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false

.PHONY: install pdf-engine demo test test-fast benchmark clean

install: $(STAMP) pdf-engine

# The PDF reports use WeasyPrint, which needs the system's Pango library. It is on the
# project's machine image; elsewhere it is installed from Debian's packages when make
# runs as root, or named so that the user can install it.
PANGO_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core
pdf-engine:
	@if ! PATH="$$PATH:/sbin:/usr/sbin" ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so.0'; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing the Pango library for PDF reports: $(PANGO_PACKAGES)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(PANGO_PACKAGES); \
	  else \
	    echo "PDF reports need the Pango library: install $(PANGO_PACKAGES) (Debian/Ubuntu names)" >&2; \
	    exit 1; \
	  fi; \
	fi

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

demo: install
	$(BIN)/qaloop demo --out $(DEMO_OUT)

test: install
	$(BIN)/python -m pytest

# Everything but the end-to-end flow runs (tests marked `flow`): a couple of minutes.
test-fast: install
	$(BIN)/python -m pytest -m "not flow"

# Issue 17's targets: the monthly run (12,000 and 50,000 children, the re-run), then the
# region of 10 LAs with 1 and 2 workers (a Prefect server on PostgreSQL, as the tests).
benchmark: install
	$(BIN)/python benchmarks/bench_monthly.py
	$(BIN)/python benchmarks/bench_region.py

clean:
	rm -rf $(VENV) $(DEMO_OUT) .qaloop
