# The two commands of the README:
#   make        install everything (Debian packages, .venv) and run the default workflow
#   make test   lint (ruff, snakefmt, snakemake --lint) and the whole test suite
# `make test-fast` skips the slow workflow and SLURM tests.
# `make install-host` is the cluster login node's install: Snakemake and the SLURM plugin
# only (envs/host.txt, hash-checked), no apt, no sudo, no CUDA wheels; stages run in images.

VENV := .venv
PY := $(VENV)/bin/python
SNAKEMAKE := $(VENV)/bin/snakemake
# Debian packages: espeak-ng speaks the synthetic corpus; slurm-wlm and munge run the real
# SLURM cluster the cluster tests start; bubblewrap runs the tests' Apptainer stand-in
# (tests/workflow/fake_apptainer.py); ffmpeg and p7zip unpack some source corpora; curl
# makes the URL downloads (and their tests); zip writes a converter test's split archive;
# headless chromium reads the dashboard in the monitoring test.
APT_PACKAGES := python3-venv espeak-ng slurm-wlm munge bubblewrap ffmpeg p7zip-full curl zip chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all workflow install install-host test test-fast lint
all: workflow

$(VENV)/.installed: envs/cpu.txt pyproject.toml
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --no-deps --require-hashes -r envs/cpu.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

install: $(VENV)/.installed

PYTHON ?= python3
install-host: envs/host.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || \
		{ echo "install-host needs Python 3.11 (e.g. module load python/3.11; PYTHON=python3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --no-deps --require-hashes -r envs/host.txt

workflow: install
	$(SNAKEMAKE) --cores 2

lint: install
	$(VENV)/bin/ruff check scripts tests bench
	$(VENV)/bin/ruff format --check scripts tests bench
	$(VENV)/bin/snakefmt --check workflow
	$(SNAKEMAKE) --lint

# Two pytest-xdist workers, one module each at a time, in the order tests/conftest.py
# gives them (the default run's first user first). Not loadgroup: pytest 9.2's node ids
# no longer carry its groups (pytest-dev/pytest-xdist#1386).
PYTEST_WORKERS ?= 2
PYTEST := $(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadscope --no-loadscope-reorder

test: lint
	$(PYTEST)

test-fast: lint
	$(PYTEST) -m "not slow"
