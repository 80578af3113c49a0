# Two commands for a newcomer: `make run` and `make test`. Both build .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501
# 127.0.0.1: this machine only. FITLAB_HOST=0.0.0.0 make run serves a class on the network (README: Hosting FitLab for a class).
FITLAB_HOST ?= 127.0.0.1

.PHONY: run test lint bench clean

$(VENV)/.stamp-run: requirements.txt
	@echo "First run: creating .venv and installing the pinned requirements (torch, streamlit, ...). This takes a few minutes, once."
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.stamp-dev: $(VENV)/.stamp-run requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

run: $(VENV)/.stamp-run
	@echo "FitLab on http://$(FITLAB_HOST):$(PORT)  (another port: PORT=8600 make run; the network: FITLAB_HOST=0.0.0.0 make run; stop with Ctrl+C)"
	$(PY) -m streamlit run app.py --server.address $(FITLAB_HOST) --server.port $(PORT)

lint: $(VENV)/.stamp-dev
	$(PY) -m ruff check .
	$(PY) -m mypy core ui pages app.py

test: lint
	$(PY) -m pytest

bench: $(VENV)/.stamp-dev
	$(PY) bench/bench_training.py

clean:
	rm -rf $(VENV) test-artifacts .pytest_cache .mypy_cache .ruff_cache
