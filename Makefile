# MiniFaaS — `make run` (local stack, no Docker), `make test`, `make cli` (bin/minifaas); with Docker: `make` / `make up`, `make down`, `make logs`.
MVN ?= mvn -B -q
.DEFAULT_GOAL := up
JARS = frontend/target/frontend.jar worker/target/worker.jar observer/target/observer.jar injector/target/injector.jar

.PHONY: build test run clean cli

## build: compile and package the four service jars (tests skipped)
build:
	$(MVN) -DskipTests package

## test: every unit and integration test (needs nats-server, go, git on PATH; see README), then `make run`'s own test
test:
	$(MVN) verify
	scripts/test-run-local.sh

## run: the whole system on this machine without Docker (nats-server, frontend, worker x3, observer, injector)
run: build
	scripts/run-local.sh

## cli: the `minifaas` command line client, cli/target/cli.jar, run by bin/minifaas (docs/CLI.md)
cli:
	$(MVN) -DskipTests -pl cli -am package

clean:
	$(MVN) clean
	rm -rf .run

# up, down, logs: the Docker Compose stack (docs/CONTAINERS.md)
include make/containers.mk
