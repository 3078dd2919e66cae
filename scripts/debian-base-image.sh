#!/usr/bin/env bash
# Makes sure the base images of MiniFaaS's containers exist in the local Docker engine:
#   debian:trixie-slim   pulled when a registry answers; otherwise bootstrapped from the Debian mirror
#                        (debootstrap --variant=minbase) and imported under the same tag.
#   minifaas/nats:local  only with --nats: NATS from Debian's nats-server package, built on the image above,
#                        for machines that reach no container registry (CI).
# Usage: scripts/debian-base-image.sh [--nats] [--force]
#   --force  rebuild both even if they exist (the debootstrap path needs root).
# Environment: DEBIAN_MIRROR [http://deb.debian.org/debian], DOCKER [docker]
set -euo pipefail
cd "$(dirname "$0")/.."

BASE_IMAGE=debian:trixie-slim
NATS_IMAGE=minifaas/nats:local
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
DOCKER="${DOCKER:-docker}"
want_nats=false
force=false
for arg in "$@"; do
  case "$arg" in
    --nats) want_nats=true ;;
    --force) force=true ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done

have_image() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }

bootstrap_base() {
  if ! command -v debootstrap >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ]; then
      echo "no registry answers and debootstrap is missing: run this script as root, or: sudo apt-get install debootstrap" >&2
      exit 1
    fi
    echo "installing debootstrap"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  fi
  if [ "$(id -u)" != 0 ]; then
    echo "debootstrap needs root: run this script with sudo" >&2
    exit 1
  fi
  local rootfs
  rootfs=$(mktemp -d /tmp/minifaas-trixie.XXXXXX)
  # the rootfs is a few hundred files owned by root; remove it whatever happens
  trap 'rm -rf "$rootfs"' EXIT
  echo "bootstrapping Debian trixie (minbase) from $MIRROR"
  local start=$SECONDS
  debootstrap --variant=minbase trixie "$rootfs" "$MIRROR" >"$rootfs.log" 2>&1 || {
    tail -20 "$rootfs.log" >&2; rm -f "$rootfs.log"; exit 1; }
  rm -f "$rootfs.log"

  # What the official -slim images do: no docs, man pages or translations, and apt leaves no caches behind.
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
CFG
  cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'CFG'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CFG
  echo 'Acquire::Languages "none";' >"$rootfs/etc/apt/apt.conf.d/docker-no-languages"
  echo 'APT::AutoRemove::SuggestsImportant "false";' >"$rootfs/etc/apt/apt.conf.d/docker-autoremove-suggests"
  rm -f "$rootfs/etc/apt/sources.list"
  cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<SRC
Types: deb
URIs: ${MIRROR}
Suites: trixie trixie-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${MIRROR%/debian}/debian-security
Suites: trixie-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
  find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
  rm -rf "$rootfs"/usr/share/{man,groff,info,lintian,linda,locale}/* \
         "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/var/cache/debconf/*-old \
         "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/* "$rootfs"/tmp/* "$rootfs"/root/.bash_history
  mkdir -p "$rootfs"/usr/share/man/man{1..8} # some postinst scripts (the JRE's) link man pages there
  : >"$rootfs/etc/machine-id"
  echo "debian" >"$rootfs/etc/hostname"

  tar --numeric-owner -C "$rootfs" -c . | "$DOCKER" import \
    --change 'CMD ["bash"]' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "LABEL org.opencontainers.image.source=debootstrap org.opencontainers.image.description=\"Debian trixie minbase from $MIRROR\"" \
    - "$BASE_IMAGE" >/dev/null
  rm -rf "$rootfs"
  trap - EXIT
  echo "imported $BASE_IMAGE ($(( SECONDS - start )) s)"
}

if $force || ! have_image "$BASE_IMAGE"; then
  if ! $force && timeout 180 "$DOCKER" pull -q "$BASE_IMAGE" >/dev/null 2>&1; then
    echo "pulled $BASE_IMAGE"
  else
    $force || echo "cannot pull $BASE_IMAGE (no registry reachable?); building it locally"
    bootstrap_base
  fi
else
  echo "$BASE_IMAGE: present"
fi

if $want_nats; then
  if $force || ! have_image "$NATS_IMAGE"; then
    echo "building $NATS_IMAGE from Debian's nats-server package"
    "$DOCKER" build -q --force-rm -t "$NATS_IMAGE" -f docker/nats.Dockerfile docker >/dev/null
    echo "built $NATS_IMAGE"
  else
    echo "$NATS_IMAGE: present"
  fi
fi
