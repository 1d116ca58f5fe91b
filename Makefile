# `make run` and `make test` work on a machine with only Python 3.11+ and a C compiler:
# they create .venv and install the project into it when pyproject.toml has changed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Extra arguments for pytest: make test ARGS="-k devstack -x"
ARGS ?=

.PHONY: run test lint format venv venv-dev

run: venv
	$(BIN)/python -m agenthost.devstack run

test: venv-dev
	$(BIN)/python -m agenthost.devstack test $(ARGS)

lint: venv-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run

format: venv-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# A stamp in .venv holds the checksum of the pyproject.toml last installed from, one
# stamp per flavour; a dev install also satisfies a plain one.
define install
	@test -x $(BIN)/python || { \
		$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
			{ echo "agenthost needs Python 3.11+ (set PYTHON=...)" >&2; exit 1; }; \
		$(PYTHON) -m venv $(VENV); }
	@sum="$$(cksum < pyproject.toml)"; \
	if [ "$$(cat $(VENV)/.installed-$(1) 2>/dev/null)" != "$$sum" ]; then \
		echo "Installing $(2) into $(VENV)..."; \
		$(BIN)/python -m pip install --quiet -e '$(2)' && \
		for stamp in $(3); do echo "$$sum" > $(VENV)/.installed-$$stamp; done; \
	fi
endef

venv:
	$(call install,base,.,base)

venv-dev:
	$(call install,dev,.[dev],base dev)
