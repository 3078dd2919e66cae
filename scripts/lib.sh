# shellcheck shell=bash
# What the scripts share; sourced (from the repository root) by .ci/run, scripts/run-local.sh, scripts/bench and
# scripts/ci-container-smoke.sh.

# missing_packages TOOL:PACKAGE... — the Debian packages of the tools not on PATH, one a line
missing_packages() {
  local pair
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || printf '%s\n' "${pair#*:}"
  done
}

# runtime_packages — the Debian packages the function runtimes need and this machine lacks, one a line: Debian's
# python3 (Python functions run /usr/bin/python3, whatever python3 is first on PATH), nodejs and npm only when there
# is no `node` / `npm` command at all (nodesource's nodejs brings its own npm, which Debian's npm conflicts with),
# and on Debian 12 a second Go toolchain, golang-1.23-go from bookworm-backports (see install_packages), unless
# /usr/lib/go-1.23 has one. The worker finds every /usr/lib/go-*/bin/go by itself (GO_TOOLCHAINS unset).
runtime_packages() {
  missing_packages /usr/bin/python3:python3 node:nodejs npm:npm
  [ "$(debian_codename)" != bookworm ] || [ -x /usr/lib/go-1.23/bin/go ] || echo golang-1.23-go
}

# debian_codename — bookworm, trixie... on Debian; empty elsewhere
debian_codename() {
  ( . /etc/os-release 2>/dev/null && [ "${ID:-}" = debian ] && echo "${VERSION_CODENAME:-}" ) || true
}

# add_bookworm_backports — (root) adds Debian 12's bookworm-backports suite, from the mirror bookworm comes from, in a
# sources file of its own, unless an apt source names it already. Nothing comes from backports unless asked for by
# name (the suite is NotAutomatic): it only makes golang-1.23-go installable.
add_bookworm_backports() {
  grep -qsE '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
    /etc/apt/sources.list.d/*.sources && return 0
  local mirror
  mirror=$(awk '/^[[:space:]]*$/ { uris = "" } /^URIs:/ { uris = $2 }
                /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "bookworm") { print uris; exit } }' \
             /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
  [ -n "$mirror" ] || mirror=$(sed -nE 's/^deb +(\[[^]]*\] +)?([^ ]+) +bookworm +.*/\2/p' /etc/apt/sources.list \
                                 2>/dev/null | head -n 1)
  cat >/etc/apt/sources.list.d/bookworm-backports.sources <<SRC
Types: deb
URIs: ${mirror:-http://deb.debian.org/debian}
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
}

# install_packages PACKAGE... — (root) installs them quietly with apt; adds bookworm-backports first when
# golang-1.23-go is one of them
install_packages() {
  case " $* " in *" golang-1.23-go "*) add_bookworm_backports ;; esac
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# require_tools HINT TOOL... — exits at the first tool not on PATH, saying which and HINT (how to install them)
require_tools() {
  local hint=$1 tool
  shift
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "missing: $tool ($hint)"; exit 1; }
  done
}

# ensure_sandbox_accounts — (root) creates, when missing, the low-privilege accounts sandboxes run as: `client`
# (functions, RUN_AS_USER) and `minifaas-build` (builds, BUILD_AS_USER)
ensure_sandbox_accounts() {
  local user
  for user in client minifaas-build; do
    id "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
  done
}

# new_token [BYTES] — BYTES (24) random bytes in hex: a fresh NATS token or secret
# new_token [BYTES] — a random secret: "t" and BYTES (24) random bytes in hex. The letter first: nats-server reads an
# unquoted value that starts with digits as a number (a hex string such as 35e3b5... is "35e3" and an error, so it
# would not start), and its configuration files can only take a secret from the environment unquoted.
new_token() {
  printf 't%s' "$(head -c "${1:-24}" /dev/urandom | od -An -tx1 | tr -d ' \n')"
}

# write_nats_auth FILE TOKEN — a nats-server configuration that requires TOKEN, readable by its owner only (a
# command line is visible to every user)
write_nats_auth() {
  ( umask 077; printf 'authorization { token: "%s" }\n' "$2" > "$1" )
}
