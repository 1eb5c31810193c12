# Front door of the project. `make help` lists the targets.
# Every target that needs tools sets them up first (.venv from pinned files,
# the CDK CLI from package-lock.json), so a fresh clone needs no manual step.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
# The Python .venv is built with: the minor version pyproject.toml's requires-python asks for.
PYTHON_WANTED := $(shell sed -nE 's/^requires-python = ">=([0-9]+\.[0-9]+).*/\1/p' pyproject.toml)
VENV := .venv
PY := $(VENV)/bin/python
VENV_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
# The contract tier (tests/contract) runs ml_code under the SageMaker XGBoost image's Python 3.10
# and toolkit pins. PYTHON310: any Python 3.10 (default: the newest pyenv 3.10.x under
# $(PYENV_ROOT), read directly so pyenv need not be on PATH, else python3.10 on PATH).
PYENV_ROOT ?= $(HOME)/.pyenv
PYTHON310 ?= $(or $(lastword $(sort $(wildcard $(PYENV_ROOT)/versions/3.10.*/bin/python))),\
  $(shell command -v python3.10 2>/dev/null))
VENV_CONTRACT := .venv-contract
CONTRACT_STAMP := $(VENV_CONTRACT)/.installed
ENV ?= dev
PORT ?= 8080
# `make mlflow`: the port the demo's MLflow store is served on.
MLFLOW_PORT ?= 5000
# Quiet, offline CDK CLI (no version check, no telemetry, no notices).
CDK := CDK_DISABLE_VERSION_CHECK=1 CDK_DISABLE_CLI_TELEMETRY=true \
       JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 npx --no-install cdk
CDK_OUT ?= cdk.out
# The cdk.json `make use-case` edits (tests point it at a copy).
CDK_JSON ?= cdk.json

.PHONY: help setup contract-env synth demo mlflow mlflow-ui-check test lint format serve deploy destroy diff promote score use-case use-case-remove bench lock clean

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# Fails, naming the version it found, unless $(1) is Python $(PYTHON_WANTED); $(2): a hint to add.
define check_python
$(if $(PYTHON_WANTED),,$(error No requires-python = ">=X.Y..." line in pyproject.toml))
@found=$$("$(1)" -c 'import sys; print("Python " + sys.version.split()[0])' 2>/dev/null) \
   || found="not a runnable Python"; \
 case "$$found" in "Python $(PYTHON_WANTED)"|"Python $(PYTHON_WANTED)".*) ;; *) \
   echo "Needs Python $(PYTHON_WANTED) (pyproject.toml's requires-python), but $(1) is $$found." \
        "Pass another: make $(or $(MAKECMDGOALS),setup) PYTHON=/path/to/python$(PYTHON_WANTED)$(2)" >&2; \
   exit 1;; \
 esac
endef

$(VENV_STAMP): requirements.txt requirements-dev.txt requirements.lock
	$(call check_python,$(or $(wildcard $(PY)),$(PYTHON)),$(if $(wildcard $(PY)), after rm -rf $(VENV)))
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c requirements.lock
	touch $@

# Then what docker/3.0-5/final/Dockerfile.cpu does after its pip install: the sed patch (the
# toolkit's _mapping.py uses collections.Mapping, gone in Python 3.10) and removing the `typing`
# backport the toolkit pulls in.
$(CONTRACT_STAMP): requirements-contract.txt
	@test -n "$(PYTHON310)" && "$(PYTHON310)" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' \
	  || { echo "The contract tier needs Python 3.10 (the SageMaker XGBoost image's) and" \
	       "PYTHON310='$(PYTHON310)' is not one (default: the newest $(PYENV_ROOT)/versions/3.10.*," \
	       "else python3.10 on PATH). Install one (pyenv install 3.10) or pass PYTHON310=/path/to/python3.10."; \
	     exit 1; }
	rm -rf $(VENV_CONTRACT) && "$(PYTHON310)" -m venv $(VENV_CONTRACT)
	$(VENV_CONTRACT)/bin/python -m pip install --quiet --disable-pip-version-check pip==25.2
	$(VENV_CONTRACT)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-contract.txt
	sed -i 's/collections\.Mapping/collections.abc.Mapping/g' \
	  $(VENV_CONTRACT)/lib/python3.10/site-packages/sagemaker_containers/_mapping.py
	$(VENV_CONTRACT)/bin/python -m pip uninstall --quiet --yes typing  # as the image does
	$(VENV_CONTRACT)/bin/python -c 'from sagemaker_containers.beta.framework import server, worker'
	touch $@

contract-env: $(CONTRACT_STAMP) ## Create .venv-contract (Python 3.10 + the image's toolkit pins)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(VENV_STAMP) $(NODE_STAMP) ## Create .venv and node_modules from the pinned files

synth: setup ## Synthesize every stack for ENV (default dev) into cdk.out/, offline
	$(CDK) synth --no-notices --quiet -c env=$(ENV) --output $(CDK_OUT)

# USE_CASE=<name>: then that use case of ENV on the same stand-in, and both side by side; ENV defaults
# to cases there (the shipped example env with the use case fraud).
demo: setup ## The whole platform offline: synth, then the pipeline end to end on this machine [USE_CASE=fraud] [THRESHOLD=x]; exit 3 = the gate held the model
	$(PY) -m demo --env $(if $(and $(USE_CASE),$(filter file,$(origin ENV))),cases,$(ENV))$(if $(USE_CASE), --use-case $(USE_CASE)) $(if $(DATA),--data $(DATA)) $(if $(TARGET),--target $(TARGET)) $(if $(PROBLEM),--problem-type $(PROBLEM)) $(if $(THRESHOLD),--threshold $(THRESHOLD))

mlflow: $(VENV_STAMP) ## Open the demo's MLflow runs (.demo/mlflow) in the MLflow UI on 127.0.0.1 [MLFLOW_PORT=5000]
	$(PY) -m emulator.tracking_server --store .demo/mlflow --port $(MLFLOW_PORT)

mlflow-ui-check: setup ## Open the demo's MLflow runs in headless Chromium (installs Debian's chromium), check runs and metrics are shown, screenshot docs/ [POPULATE=1: a dev store instead]
	@command -v chromium >/dev/null || { echo "installing chromium (Debian's package) for the MLflow UI check"; \
	  apt-get install -y chromium || { apt-get update && apt-get install -y chromium; }; }
	$(PY) -m benchmarks.mlflow_ui $(if $(POPULATE),--populate,--store .demo/mlflow --screenshot docs/mlflow-ui.png)

test: setup $(CONTRACT_STAMP) ## Run the test suite (unit, CDK, moto, end to end, contract), offline
	# Two workers (CI's two cores), a test module per worker at a time so each module's synthesized
	# app is built once: 5 min instead of 7 on the 2-core machine (2026-12-06).
	$(PY) -m pytest -n 2 --dist loadfile

lint: setup ## ruff (lint + format check), mypy (strict) and the import contracts (lint-imports)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache --no-logo

format: setup ## Apply ruff's formatting and safe fixes
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

serve: setup ## Serve a model dir or model.tar.gz on the hosting contract: make serve MODEL=DIR [PORT=8080]
	@test -n "$(MODEL)" || { echo "usage: make serve MODEL=path/to/model-dir-or-model.tar.gz [PORT=8080]"; exit 2; }
	$(PY) -m ml_code.serving.serve --model $(MODEL) --port $(PORT)

diff: setup ## cdk diff against the account in your AWS credentials (ENV=...)
	$(CDK) diff --no-notices -c env=$(ENV)

deploy: setup ## cdk deploy every stack of ENV (needs AWS credentials and a bootstrapped account)
	$(CDK) deploy --no-notices -c env=$(ENV) --all --require-approval broadening

promote: setup ## Ship an approved version to a stage by hand (roll back/forward): make promote STAGE=prod [VERSION=3] [ENV=dev] [USE_CASE=fraud]
	@test -n "$(STAGE)" || { echo "usage: make promote STAGE=staging|prod [VERSION=N] [ENV=dev] [USE_CASE=name]"; exit 2; }
	@out=$$($(PY) -m release.promote --env $(ENV) --stage $(STAGE) $(if $(VERSION),--version $(VERSION)) $(if $(USE_CASE),--use-case $(USE_CASE))) || exit $$?; \
	 echo "$$out"; stack=$$(echo "$$out" | tail -n1); \
	 $(CDK) deploy "$$stack" --exclusively --require-approval never --no-notices -c env=$(ENV) && \
	 $(PY) -m release.smoke --env $(ENV) --stage $(STAGE)$(if $(USE_CASE), --use-case $(USE_CASE))

score: $(VENV_STAMP) ## Start a batch scoring run on AWS (batch.enabled): make score INPUT=s3://bucket/data/batch/day/ [ENV=dev] [USE_CASE=fraud]
	@test -n "$(INPUT)" || { echo "usage: make score INPUT=s3://<bucket>/<folder>/ [ENV=dev] [USE_CASE=name]"; exit 2; }
	$(PY) -m release.score --env $(ENV) --input "$(INPUT)"$(if $(USE_CASE), --use-case $(USE_CASE))

destroy: setup ## cdk destroy ENV's stacks (stateful resources are retained)
	$(CDK) destroy --no-notices -c env=$(ENV) --all

# Needs only the Python venv: it edits cdk.json and prints the next steps (no CDK CLI, no AWS).
use-case: $(VENV_STAMP) ## Add a use case to cdk.json: make use-case NAME=fraud TARGET=is_fraud PROBLEM=binary [ENV=dev] [INPUT=data/fraud/] [QUALIFIER=q]
	@test -n "$(NAME)" -a -n "$(TARGET)" -a -n "$(PROBLEM)" || { echo "usage: make use-case NAME=<use case>" \
	  "TARGET=<label column> PROBLEM=binary|multiclass|regression [ENV=dev] [INPUT=data/<folder>/] [QUALIFIER=q]"; exit 2; }
	@$(PY) -m release.use_case add --name "$(NAME)" --target "$(TARGET)" --problem "$(PROBLEM)" \
	  --env "$(ENV)" $(if $(INPUT),--input "$(INPUT)") $(if $(QUALIFIER),--qualifier "$(QUALIFIER)") --cdk-json "$(CDK_JSON)"

# Destroy first, while cdk.json still has the use case (the app must synthesize its stacks to select
# them), then remove the entry. cdk destroy asks, naming each stack the pattern selects (only the use
# case's: destroy never takes the stacks they depend on); the pinned CLI exits 1 when the answer is no
# or there is no terminal to ask on, so the entry stays.
use-case-remove: setup ## Destroy a use case's stacks (data stores retained), then remove it from cdk.json: make use-case-remove NAME=fraud [ENV=dev]
	@test -n "$(NAME)" || { echo "usage: make use-case-remove NAME=<use case> [ENV=dev]"; exit 2; }
	@stacks=$$($(PY) -m release.use_case remove --name "$(NAME)" --env "$(ENV)" --print-stacks) || exit $$?; \
	 $(CDK) destroy --no-notices -c env=$(ENV) "$$stacks" && \
	 $(PY) -m release.use_case remove --name "$(NAME)" --env "$(ENV)"

bench: setup $(CONTRACT_STAMP) ## Run the benchmarks (on demand; results go in benchmarks/README.md)
	@# the serving benchmark puts nginx in front of gunicorn, as the SageMaker image does
	@command -v nginx >/dev/null || { echo "installing nginx (Debian's package) for the serving benchmark"; \
	  sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$sudo apt-get install -y nginx || { $$sudo apt-get update && $$sudo apt-get install -y nginx; }; }
	$(PY) -m benchmarks.run

.PHONY: bench-scale
bench-scale: setup $(CONTRACT_STAMP) ## Scale benchmark: 100k/1M/10M rows on 1 and 2 instances (ROWS=100000,1000000 for fewer)
	@# the steps run under the image's Python and library pins (.venv-contract), as on SageMaker
	$(PY) -m benchmarks.bench_scale --python $(VENV_CONTRACT)/bin/python $(if $(ROWS),--rows $(ROWS))

lock: ## Re-resolve requirements and rewrite requirements.lock from the result
	$(call check_python,$(PYTHON))
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet -r requirements-dev.txt
	{ echo "# Full transitive pin set, used as a pip constraints file (-c) so a fresh"; \
	  echo "# install resolves to exactly what CI ran. Regenerate: make lock"; \
	  .venv-lock/bin/pip freeze; } > requirements.lock
	rm -rf .venv-lock

clean: ## Remove build output (keeps .venv, .venv-contract and node_modules)
	rm -rf cdk.out cdk.out.* .build .demo .pytest_cache .mypy_cache .ruff_cache
