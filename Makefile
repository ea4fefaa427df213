# edgeconnect-course: set-up, the whole course headless, the tests.
# `make course` and `make test` each set up a virtual environment first (.venv, once).

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# The CPU build of PyTorch; on a CUDA machine use e.g. `make setup TORCH="torch==2.13.0"` with the
# index of your CUDA version (see README), or any torch >= 2.1 already installed in the venv.
TORCH ?= torch==2.13.0
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg

.PHONY: setup lock course test test-fast notebooks-refresh bench clean browser

setup: $(VENV)/.installed

# constraints.txt pins every package to the versions the committed lesson outputs were made with (`make lock`).
LOCK ?= constraints.txt

$(VENV)/.installed: pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=23"
	$(PY) -m pip install --quiet -c $(LOCK) "$(TORCH)"
	$(PY) -m pip install --quiet -c $(LOCK) -e ".[dev]"
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3" > /dev/null
	touch $@

## Re-resolve the lock file: the newest versions pyproject.toml allows, in a scratch venv, frozen to constraints.txt.
# Then `make notebooks-refresh` and `make test`, and commit constraints.txt with the refreshed lessons.
lock:
	rm -rf .venv-lock
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet --upgrade pip
	.venv-lock/bin/python -m pip install --quiet "$(TORCH)"
	.venv-lock/bin/python -m pip install --quiet -e ".[dev]"
	{ sed -n '1,/^# and .make test./p' $(LOCK); .venv-lock/bin/python -m pip freeze --exclude-editable | sed -E 's/^(torch==[^+]*)\+.*/\1/'; } > $(LOCK).new
	mv $(LOCK).new $(LOCK)
	rm -rf .venv-lock

## Run every lesson headless with papermill; executed copies go to executed/
course: setup
	$(PY) -m edgeconnect_lib.course run --out executed

## The test suite: library tests, one papermill run with non-default parameters, nbval over every lesson
# The stored lesson outputs were made with VGG19's labelled random fallback (no ImageNet file on a fresh
# machine): the tests hide any cached VGG19 file so that they check the same numbers everywhere.
TEST_ENV := EDGECONNECT_OFFLINE=1 EDGECONNECT_VGG19_WEIGHTS= TORCH_HOME=$(CURDIR)/.venv/test-torch-home

test: setup browser
	$(TEST_ENV) $(PY) -m pytest tests notebooks $(NBVAL) -p no:cacheprovider

## Chromium for the real-browser test of the edge editor (tests/test_browser.py; skipped without it).
# On Debian/Ubuntu it is installed with apt (as root, or with sudo when that needs no password); elsewhere,
# or without the rights, a note is printed and the test is skipped. `playwright install` is not used: Playwright
# drives the system's chromium (EDGECONNECT_CHROMIUM=/path/to/chromium for another one).
CHROMIUM ?= /usr/bin/chromium
browser:
	@if [ -x "$(CHROMIUM)" ]; then echo "browser: $$($(CHROMIUM) --version 2>/dev/null || echo $(CHROMIUM))"; \
	elif command -v apt-get > /dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO=none; fi; \
	  if [ "$$SUDO" = none ]; then echo "browser: no $(CHROMIUM) and no root: tests/test_browser.py will be skipped (sudo apt-get install chromium chromium-driver)"; \
	  else $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver > /dev/null 2>&1 \
	    && echo "browser: installed $$($(CHROMIUM) --version)" \
	    || echo "browser: apt-get could not install chromium: tests/test_browser.py will be skipped"; fi; \
	else echo "browser: not Debian/Ubuntu: install Chromium yourself (or the browser test is skipped)"; fi

## Library tests only (no notebooks)
test-fast: setup
	$(TEST_ENV) $(PY) -m pytest tests -p no:cacheprovider

## Re-execute the lessons in place (after editing one), so the committed outputs match their default run
notebooks-refresh: setup
	$(PY) -m edgeconnect_lib.course refresh notebooks/[0-9][0-9]_*.ipynb

## Benchmarks (printed tables)
bench: setup
	$(PY) benchmarks/bench_canny.py
	$(PY) benchmarks/bench_dataset.py
	$(PY) benchmarks/train_step.py

clean:
	rm -rf executed .pytest_cache
