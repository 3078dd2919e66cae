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
new_token() {
  head -c "${1:-24}" /dev/urandom | od -An -tx1 | tr -d ' \n'
}

# write_nats_auth FILE TOKEN — a nats-server configuration that requires TOKEN, readable by its owner only (a
# command line is visible to every user)
write_nats_auth() {
  ( umask 077; printf 'authorization { token: "%s" }\n' "$2" > "$1" )
}
