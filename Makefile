# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAGE ?= dev
BUILD := build/$(STAGE)
STACK ?= herald-$(STAGE)
# For `make deploy`: an S3 bucket you own in the target region, where CloudFormation finds the code.
DEPLOY_BUCKET ?=
PUBLIC_BASE_URL ?=
ALARM_EMAIL ?=
# Only what is given: CloudFormation keeps a parameter's previous value otherwise.
PARAMETERS := $(strip $(if $(PUBLIC_BASE_URL),PublicBaseUrl=$(PUBLIC_BASE_URL)) $(if $(ALARM_EMAIL),AlarmEmail=$(ALARM_EMAIL)))

.PHONY: run test lint unit complexity typecheck fuzz bench install clean package deploy deploy-console

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

run: install
	$(PY) -m infra.local

# Cyclomatic complexity per block, counting what ruff's C90 (statements only) skips: `x if c else y`,
# `and`/`or` and comprehensions. No block worse than C.
COMPLEXITY := $(PY) -m xenon --max-absolute C chalicelib infra app.py
# Types of chalicelib/, every definition annotated (pyproject.toml's [tool.mypy] says what is checked).
TYPECHECK := $(PY) -m mypy

test: install
	bash tests/integration/pds/install.sh
	bash tests/e2e/console/install_chromium.sh
	$(PY) -m ruff check .
	$(COMPLEXITY)
	$(TYPECHECK)
	$(PY) -m pytest

complexity: install
	$(COMPLEXITY)

typecheck: install
	$(TYPECHECK)

unit: install
	$(PY) -m pytest tests/unit

# The fuzz of `make test` at length: more examples per operation and a new seed each run (printed, to replay:
# HERALD_FUZZ_SEED=<seed>). FUZZ_EXAMPLES sets how many.
FUZZ_EXAMPLES ?= 100
fuzz: install
	HERALD_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) HERALD_FUZZ_SEED=$${HERALD_FUZZ_SEED:-random} \
		$(PY) -m pytest tests/functional/api/test_fuzz.py -s -p no:logging -rx

bench: install
	@$(PY) -m bench

# Offline: $(BUILD)/template.json (Chalice's template merged with infra/template.py) and deployment.zip.
package: install
	$(PY) -m infra.package --stage $(STAGE) --out $(BUILD)
	$(VENV)/bin/cfn-lint $(BUILD)/template.json

# Needs the AWS CLI and credentials for the target account. See docs/deploy.md.
deploy: package
	@command -v aws >/dev/null || { echo "make deploy needs the AWS CLI (aws) on PATH"; exit 1; }
	@test -n "$(DEPLOY_BUCKET)" || { echo "Set DEPLOY_BUCKET=<an S3 bucket for the code>"; exit 1; }
	aws cloudformation package --template-file $(BUILD)/template.json --s3-bucket $(DEPLOY_BUCKET) \
		--s3-prefix $(STACK) --output-template-file $(BUILD)/packaged.json --use-json
	aws cloudformation deploy --template-file $(BUILD)/packaged.json --stack-name $(STACK) \
		--capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND --no-fail-on-empty-changeset \
		$(if $(PARAMETERS),--parameter-overrides $(PARAMETERS))
	aws cloudformation describe-stacks --stack-name $(STACK) --query 'Stacks[0].Outputs' --output table

# The web console to the stack's ConsoleBucket (after `make deploy`), with a config.json naming the API, then
# CloudFront's cache cleared. The template already lets the API answer the ConsoleUrl origin (HERALD_CORS_ORIGINS).
OUTPUT = $$(aws cloudformation describe-stacks --stack-name $(STACK) --query "Stacks[0].Outputs[?OutputKey=='$(1)'].OutputValue" --output text)
deploy-console:
	@command -v aws >/dev/null || { echo "make deploy-console needs the AWS CLI (aws) on PATH"; exit 1; }
	@bucket=$(call OUTPUT,ConsoleBucketName); api=$(call OUTPUT,EndpointURL); dist=$(call OUTPUT,ConsoleDistributionId); \
	  aws s3 sync console/ s3://$$bucket/console/ --delete --exclude "*.py" --exclude "config.json" && \
	  aws s3 cp console/index.html s3://$$bucket/index.html && \
	  printf '{"api_url": "%s"}\n' "$${api%/}" | aws s3 cp - s3://$$bucket/console/config.json --content-type application/json && \
	  aws cloudfront create-invalidation --distribution-id $$dist --paths "/*" >/dev/null && \
	  echo "Console: $$(aws cloudformation describe-stacks --stack-name $(STACK) --query "Stacks[0].Outputs[?OutputKey=='ConsoleUrl'].OutputValue" --output text)"

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache build
