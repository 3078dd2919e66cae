# MiniFaaS in containers: `make up`, `make up-cluster`, `make down`, `make logs` (docs/CONTAINERS.md,
# docs/SCALING.md). Included by the Makefile, which defines `build`.

# One fixed project name, so that `down` finds what `up` made whatever the folder is called.
COMPOSE_PROJECT_NAME ?= minifaas
export COMPOSE_PROJECT_NAME
# `docker compose` (the v2 plugin) when it is there, else docker-compose 1.29 (Debian 12's package), which
# honours deploy.replicas only with --compatibility.
COMPOSE ?= $(shell docker compose version >/dev/null 2>&1 && echo "docker compose" || echo "docker-compose --compatibility")
# The compose files, by name. With `COMPOSE_FILES="docker-compose.yml docker-compose.ci.yml"`: the registry-free
# stack of the smoke test (NATS built from Debian, no oauth2-proxy, frontend on 127.0.0.1:18080 taking identity
# headers). (The older form, with `-f` before each name, still works.)
COMPOSE_FILES ?= docker-compose.yml
# `make up-cluster`: the same stack on a 3-node NATS JetStream cluster (docs/SCALING.md). `down` and `logs`
# always name it too, so that they also find its nodes and volumes (and do no harm without them).
CLUSTER_FILES = docker-compose.cluster.yml
# `-f FILE` for each file named once (a list that already has `-f`s works too)
uniq = $(if $(1),$(firstword $(1)) $(call uniq,$(filter-out $(firstword $(1)),$(1))))
compose_f = $(addprefix -f ,$(call uniq,$(filter-out -f,$(1))))
# The file of the secrets and settings compose reads (COMPOSE_ENV_FILE; .env unless set): the smoke test passes
# one of its own, so that a developer's .env stays out of its stack.
COMPOSE_ENV_FILE ?=
ENV_FILE = $(or $(COMPOSE_ENV_FILE),.env)
DC = $(strip $(COMPOSE) $(if $(COMPOSE_ENV_FILE),--env-file $(COMPOSE_ENV_FILE)))
# docker-compose 1.29's classic builder keeps a failed step's container unless told otherwise
COMPOSE_BUILD_FLAGS ?= $(if $(findstring docker-compose,$(COMPOSE)),--force-rm)
# BUILD_JARS=no: `up` uses the jars already in */target (the smoke test, after `make build` or `make test`)
BUILD_JARS ?= yes
# The observer reaches the Docker socket through the socket's group (docker-compose.yml: group_add).
DOCKER_GID ?= $(shell stat -c %g /var/run/docker.sock 2>/dev/null || echo 0)
export DOCKER_GID
# `down` and `logs` need no secrets: placeholders keep compose's required-variable checks quiet without .env.
NO_SECRETS = OAUTH2_PROXY_CLIENT_ID=- OAUTH2_PROXY_CLIENT_SECRET=- OAUTH2_PROXY_COOKIE_SECRET=- NATS_TOKEN=- \
  NATS_CLUSTER_PASSWORD=-

.PHONY: up up-cluster down logs

## up: build the jars and the images, then start the stack in the background (oauth2-proxy on :4180)
up:
	@test -f $(ENV_FILE) || { echo "no $(ENV_FILE): cp .env.example .env and fill it in (docs/CONTAINERS.md)" >&2; exit 1; }
	@grep -Eq '^NATS_TOKEN=[A-Za-z][A-Za-z0-9]*$$' $(ENV_FILE) || { echo "NATS_TOKEN in $(ENV_FILE) must be letters and digits, a letter first (NATS reads a value that starts with digits as a number and would not start): echo \"t\$$(openssl rand -hex 24)\"" >&2; exit 1; }
	$(if $(filter no,$(BUILD_JARS)),,$(MAKE) build)
	scripts/debian-base-image.sh $(if $(findstring docker-compose.ci.yml,$(COMPOSE_FILES)),--nats)
	$(DC) $(call compose_f,$(COMPOSE_FILES)) build $(COMPOSE_BUILD_FLAGS)
	$(DC) $(call compose_f,$(COMPOSE_FILES)) up -d
	@echo "MiniFaaS is starting: $(if $(findstring docker-compose.ci.yml,$(COMPOSE_FILES)),http://127.0.0.1:$${CI_FRONTEND_PORT:-18080} (no proxy: send X-Forwarded-User),http://localhost:4180 (oauth2-proxy)). make logs; make down"

## up-cluster: as `up`, with three NATS servers in one JetStream cluster (needs NATS_CLUSTER_PASSWORD in .env)
up-cluster:
	@test -f $(ENV_FILE) || { echo "no $(ENV_FILE): cp .env.example .env and fill it in (docs/CONTAINERS.md)" >&2; exit 1; }
	@grep -Eq '^NATS_CLUSTER_PASSWORD=[A-Za-z][A-Za-z0-9]*$$' $(ENV_FILE) || { echo "no NATS_CLUSTER_PASSWORD in $(ENV_FILE): add one, letters and digits, a letter first (echo \"p\$$(openssl rand -hex 24)\"; docs/SCALING.md)" >&2; exit 1; }
	$(MAKE) up COMPOSE_FILES="$(COMPOSE_FILES) $(CLUSTER_FILES)"

## down: stop and remove the stack: its containers, networks and volumes, and the workers the observer started
down:
	-$(NO_SECRETS) $(DC) $(call compose_f,$(COMPOSE_FILES) $(CLUSTER_FILES)) stop observer
	-docker ps -aq --filter label=minifaas.role=worker --filter label=minifaas.group=$(COMPOSE_PROJECT_NAME) \
	  | xargs -r docker rm -f -v
	$(NO_SECRETS) $(DC) $(call compose_f,$(COMPOSE_FILES) $(CLUSTER_FILES)) down -v --remove-orphans

## logs: follow the logs of every service
logs:
	$(NO_SECRETS) $(DC) $(call compose_f,$(COMPOSE_FILES) $(CLUSTER_FILES)) logs -f --tail=100
