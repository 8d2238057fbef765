# wagate: the two commands of the README, and the rest.
#   make run    start the whole system locally (Ctrl-C stops it)
#   make test   every unit and integration test, against a local stack of its own
#   make lint   cargo fmt --check, clippy -D warnings, cfn-lint
#   make bench  the benchmark table

SHELL := /bin/bash
RUN_PORT_BASE ?= 4700
TEST_PORT_BASE ?= 4800

.PHONY: run test lint bench tools build

tools:
	@infra/bootstrap.sh

build:
	cargo build --bins

run: tools build
	@infra/run.sh $(RUN_PORT_BASE)

test: tools build
	@infra/test.sh $(TEST_PORT_BASE)

lint: tools
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings
	.local/tools/venv/bin/cfn-lint template.yaml

bench: tools
	@infra/bench.sh $(TEST_PORT_BASE)
