# Two commands for a fresh machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench bench-pg setup db demo clean messages

$(STAMP): requirements.lock
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	touch $(STAMP)

setup: $(STAMP)

db: setup
	mkdir -p var
	$(BIN)/python manage.py migrate --noinput -v 0

demo: db
	@echo "正在准备演示数据（首次约 15 秒）…"
	$(BIN)/python manage.py load_demo

run: demo
	$(BIN)/python manage.py demo_accounts
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py runserver 127.0.0.1:8000

test: setup
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy .

# Figures, not timed tests. The first run builds the data (a few minutes) and caches it.
bench: setup
	$(BIN)/python bench/run.py
	$(BIN)/python bench/items.py
	$(BIN)/python bench/inbox.py
	$(BIN)/python bench/issue_export.py
	$(BIN)/python bench/scoring_engine.py
	$(BIN)/python bench/scoring.py

# The same on PostgreSQL; the database is created on first use.
BENCH_PG ?= postgres://postgres@127.0.0.1:5432/baosong_bench
bench-pg: setup
	BENCH_DATABASE_URL=$(BENCH_PG) $(BIN)/python bench/run.py
	BENCH_DATABASE_URL=$(BENCH_PG) $(BIN)/python bench/items.py
	BENCH_DATABASE_URL=$(BENCH_PG) $(BIN)/python bench/inbox.py
	BENCH_DATABASE_URL=$(BENCH_PG) $(BIN)/python bench/scoring.py

# The Chinese UI text is the msgid. After this, translate the new entries in
# baosong/locale/en/LC_MESSAGES/django.po (no fuzzy ones), then run it again to compile.
messages: setup
	cd baosong && ../$(BIN)/python ../manage.py makemessages -l en --no-obsolete && ../$(BIN)/python ../manage.py compilemessages -l en

clean:
	rm -rf $(VENV) var
