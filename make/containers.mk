# MiniFaaS in containers: `make up`, `make up-cluster`, `make down`, `make logs` (docs/CONTAINERS.md,
# docs/SCALING.md). Included by the Makefile, which defines `build`.

# One fixed project name, so that `down` finds what `up` made whatever the folder is called.
COMPOSE_PROJECT_NAME ?= minifaas
export COMPOSE_PROJECT_NAME
# `docker compose` (the v2 plugin) when it is there, else docker-compose 1.29 (Debian 12's package), which
# honours deploy.replicas only with --compatibility.
COMPOSE ?= $(shell docker compose version >/dev/null 2>&1 && echo "docker compose" || echo "docker-compose --compatibility")
# With `COMPOSE_FILES="-f docker-compose.yml -f docker-compose.ci.yml"`: the registry-free stack of the smoke
# test (NATS built from Debian, no oauth2-proxy, frontend on 127.0.0.1:18080 taking identity headers).
COMPOSE_FILES ?= -f docker-compose.yml
# `make up-cluster`: the same stack on a 3-node NATS JetStream cluster (docs/SCALING.md). `down` and `logs`
# always name it too, so that they also find its nodes and volumes (and do no harm without them).
CLUSTER_FILES = -f docker-compose.cluster.yml
# The observer reaches the Docker socket through the socket's group (docker-compose.yml: group_add).
DOCKER_GID ?= $(shell stat -c %g /var/run/docker.sock 2>/dev/null || echo 0)
export DOCKER_GID
# `down` and `logs` need no secrets: placeholders keep compose's required-variable checks quiet without .env.
NO_SECRETS = OAUTH2_PROXY_CLIENT_ID=- OAUTH2_PROXY_CLIENT_SECRET=- OAUTH2_PROXY_COOKIE_SECRET=- NATS_TOKEN=- \
  NATS_CLUSTER_PASSWORD=-

.PHONY: up up-cluster down logs

## up: build the jars and the images, then start the stack in the background (oauth2-proxy on :4180)
up:
	@test -f .env || { echo "no .env: cp .env.example .env and fill it in (docs/CONTAINERS.md)" >&2; exit 1; }
	$(MAKE) build
	scripts/debian-base-image.sh $(if $(findstring docker-compose.ci.yml,$(COMPOSE_FILES)),--nats)
	$(COMPOSE) $(COMPOSE_FILES) build
	$(COMPOSE) $(COMPOSE_FILES) up -d
	@echo "MiniFaaS is starting: $(if $(findstring docker-compose.ci.yml,$(COMPOSE_FILES)),http://127.0.0.1:18080 (no proxy: send X-Forwarded-User),http://localhost:4180 (oauth2-proxy)). make logs; make down"

## up-cluster: as `up`, with three NATS servers in one JetStream cluster (needs NATS_CLUSTER_PASSWORD in .env)
up-cluster:
	@test -f .env || { echo "no .env: cp .env.example .env and fill it in (docs/CONTAINERS.md)" >&2; exit 1; }
	@grep -Eq '^NATS_CLUSTER_PASSWORD=[A-Za-z0-9]+$$' .env || { echo "no NATS_CLUSTER_PASSWORD in .env: add one, letters and digits (openssl rand -hex 24; docs/SCALING.md)" >&2; exit 1; }
	$(MAKE) up COMPOSE_FILES="$(COMPOSE_FILES) $(CLUSTER_FILES)"

## down: stop and remove the stack: its containers, networks and volumes, and the workers the observer started
down:
	-$(NO_SECRETS) $(COMPOSE) $(COMPOSE_FILES) $(CLUSTER_FILES) stop observer
	-docker ps -aq --filter label=minifaas.role=worker --filter label=minifaas.group=$(COMPOSE_PROJECT_NAME) \
	  | xargs -r docker rm -f -v
	$(NO_SECRETS) $(COMPOSE) $(COMPOSE_FILES) $(CLUSTER_FILES) down -v --remove-orphans

## logs: follow the logs of every service
logs:
	$(NO_SECRETS) $(COMPOSE) $(COMPOSE_FILES) $(CLUSTER_FILES) logs -f --tail=100
