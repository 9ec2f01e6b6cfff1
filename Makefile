# Vetgate's front door. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV_VERSION := 0.13.8
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
PYTEST_ARGS ?=

.PHONY: help
help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

.PHONY: uv
uv:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || \
		python3 -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

.PHONY: install
install: uv ## Install Python deps (uv.lock) and resolve the Kafka jars (Maven, cached)
	$(UV) sync --frozen --quiet
	$(UV) run --frozen vetgate kafka-jars

.PHONY: browser
browser: ## Install Debian's chromium for the browser tests (never a downloaded browser)
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else echo "Browser tests need Debian's chromium: sudo apt-get install chromium"; exit 1; fi; }

.PHONY: run
run: install ## Run the whole system in the foreground (Ctrl-C stops everything)
	$(UV) run --frozen vetgate dev

.PHONY: test
test: install browser ## Lint, typecheck and run the whole test suite (starts its own Postgres, Kafka and SMTP sink)
	$(UV) run --frozen ruff check .
	$(MAKE) --no-print-directory typecheck
	$(UV) run --frozen pytest $(PYTEST_ARGS)

.PHONY: lint
lint: install ## ruff: lint and format check
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

.PHONY: typecheck
typecheck: install ## mypy (strict)
	@# Every test directory has its own conftest.py; mypy needs each checked on its own (one module name).
	$(UV) run --frozen mypy libs services --exclude '/tests/[a-z]+/conftest\.py$$'
	for conftest in services/*/tests/*/conftest.py; do $(UV) run --frozen mypy "$$conftest" || exit 1; done

.PHONY: bench
bench: install ## Outbox relay throughput and commit→handler latency (prints figures)
	$(UV) run --frozen python -m bench.backbone

.PHONY: asyncapi
asyncapi: install ## Regenerate docs/asyncapi.json from the event models
	$(UV) run --frozen vetgate asyncapi > docs/asyncapi.json

.PHONY: clean
clean: ## Forget the dev stack's data (.vetgate/)
	rm -rf .vetgate
