.PHONY: run test check bench

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

bench:
	.venv/bin/python bench/pipeline.py
