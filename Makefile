.PHONY: run test check bench web-dev lock

# Start the whole system on embedded defaults (Ctrl-C stops it).
run:
	./scripts/bootstrap
	.venv/bin/satyamark run

# Every test: unit, integration (real Redis/PostgreSQL), end-to-end (real processes).
test:
	./scripts/bootstrap --test
	.venv/bin/python -m pytest

# Static checks (CI runs them after the tests).
check:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy .
	npm run --silent typecheck
	npm run --silent format:check

# The web app with hot reload on :5173 (/v1 and the socket proxied to `make run`'s :8000).
web-dev:
	npm run dev -w frontend

bench:
	.venv/bin/python bench/pipeline.py

# Re-pin requirements.lock (pip-compile, scripts/lock) after editing pyproject.toml's
# dependencies; ARGS=--upgrade or ARGS='--upgrade-package NAME' to move pins.
lock:
	./scripts/lock $(ARGS)
