#!/usr/bin/env bash
# Congestion test: fires N createTask calls, then polls /getSystemStatus and reports when the system turns
# `congested` and when it is `OK` again. Stops by itself after TIMEOUT seconds.
#
#   scripts/congestion.sh N COOKIE                       through oauth2-proxy (COOKIE = value of _oauth2_proxy;
#                                                        its account must be in ADMIN_USERS for the status)
#   scripts/congestion.sh N --user U --email E [--admin-email A]
#                                                        a stack without the proxy (CI override, `make run`)
# Options: --repo URL  (or REPO_URL) the Go function to run (required)
#          --param P   a parameter of every task (repeatable), e.g. --param sleep --param 5
#          --parallel K  concurrent createTask calls [8]
# Environment: BASE_URL [http://localhost:4180], TIMEOUT [300] seconds, POLL_SECONDS [2]
set -euo pipefail

usage() { sed -n '2,14p' "$0" >&2; exit 2; }

BASE_URL="${BASE_URL:-http://localhost:4180}"
TIMEOUT="${TIMEOUT:-300}"
POLL_SECONDS="${POLL_SECONDS:-2}"
REPO_URL="${REPO_URL:-}"
PARALLEL=8
COOKIE="" USER_ID="" EMAIL="" ADMIN_EMAIL=""
PARAMS=()

[ $# -ge 1 ] || usage
N=$1; shift
[[ "$N" =~ ^[0-9]+$ ]] && [ "$N" -gt 0 ] || { echo "N must be a positive number" >&2; usage; }
while [ $# -gt 0 ]; do
  case "$1" in
    --user) USER_ID=${2:?}; shift 2 ;;
    --email) EMAIL=${2:?}; shift 2 ;;
    --admin-email) ADMIN_EMAIL=${2:?}; shift 2 ;;
    --repo) REPO_URL=${2:?}; shift 2 ;;
    --param) PARAMS+=("${2?}"); shift 2 ;;
    --parallel) PARALLEL=${2:?}; shift 2 ;;
    -h|--help) usage ;;
    -*) echo "unknown option: $1" >&2; usage ;;
    *) [ -z "$COOKIE" ] || usage; COOKIE=$1; shift ;;
  esac
done
[ -n "$REPO_URL" ] || { echo "set the function's repository: --repo URL (or REPO_URL=...)" >&2; exit 2; }
if [ -n "$COOKIE" ]; then
  user_auth=(-H "Cookie: _oauth2_proxy=${COOKIE}")
  admin_auth=("${user_auth[@]}")
  mode="cookie (through oauth2-proxy)"
elif [ -n "$USER_ID" ]; then
  user_auth=(-H "X-Forwarded-User: ${USER_ID}")
  [ -z "$EMAIL" ] || user_auth+=(-H "X-Forwarded-Email: ${EMAIL}")
  admin_auth=(-H "X-Forwarded-User: ${USER_ID}" -H "X-Forwarded-Email: ${ADMIN_EMAIL:-$EMAIL}")
  mode="identity headers (no proxy)"
else
  echo "give a COOKIE, or --user (and --email / --admin-email) for a stack without the proxy" >&2
  usage
fi

json_escape() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '"%s"' "$s"; }
params_json=""
for p in "${PARAMS[@]+"${PARAMS[@]}"}"; do params_json+="${params_json:+,}$(json_escape "$p")"; done
body="{\"url\": $(json_escape "$REPO_URL"), \"parameters\": [${params_json}]}"

field() { # field NAME JSON -> the value of a top-level string or number field (no jq needed)
  sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\"\{0,1\}\([^\",}]*\)\"\{0,1\}.*/\1/p" <<<"$2" | head -n 1
}
system_status() {
  curl -sS -m 10 "${admin_auth[@]}" -w '\n%{http_code}' "$BASE_URL/getSystemStatus" 2>/dev/null || printf '\n000'
}

start=$SECONDS
stamp() { printf '[%4ds]' $(( SECONDS - start )); }

first=$(system_status)
code=${first##*$'\n'}
if [ "$code" != 200 ]; then
  echo "GET /getSystemStatus answered $code: the identity used must be an admin (ADMIN_USERS) -- ${first%$'\n'*}" >&2
  exit 1
fi
echo "$(stamp) $mode, $BASE_URL; before: status=$(field status "$first") workers=$(field number_of_workers "$first") backlog=$(field backlog "$first")"

echo "$(stamp) firing $N createTask calls ($PARALLEL at a time) for $REPO_URL"
codes=$(seq "$N" | xargs -P "$PARALLEL" -I{} curl -sS -m 30 -o /dev/null -w '%{http_code}\n' \
          "${user_auth[@]}" -H 'Content-Type: application/json' -d "$body" "$BASE_URL/createTask" 2>/dev/null || true)
created=$(grep -c '^201$' <<<"$codes" || true)
echo "$(stamp) createTask answers: $(sort <<<"$codes" | uniq -c | awk '{printf "%s x%s  ", $2, $1}')"
[ "$created" -gt 0 ] || { echo "no task was created" >&2; exit 1; }

seen_congested="" seen_ok_again="" last=""
while [ $(( SECONDS - start )) -lt "$TIMEOUT" ]; do
  s=$(system_status)
  json=${s%$'\n'*}
  status=$(field status "$json")
  line="status=${status:-?} workers=$(field number_of_workers "$json") live=$(field live_workers "$json") backlog=$(field backlog "$json")"
  [ "$line" = "$last" ] || echo "$(stamp) $line"
  last=$line
  if [ "$status" = congested ] && [ -z "$seen_congested" ]; then
    seen_congested=$(( SECONDS - start )); echo "$(stamp) >>> congested"
  elif [ "$status" = OK ] && [ -n "$seen_congested" ]; then
    seen_ok_again=$(( SECONDS - start )); echo "$(stamp) >>> OK again"
    break
  fi
  sleep "$POLL_SECONDS"
done

if [ -n "$seen_ok_again" ]; then
  echo "congested after ${seen_congested} s, OK again after ${seen_ok_again} s ($created tasks created)"
elif [ -n "$seen_congested" ]; then
  echo "congested after ${seen_congested} s, still congested at the ${TIMEOUT} s timeout" >&2; exit 1
else
  echo "never saw 'congested' within ${TIMEOUT} s ($created tasks; try a larger N, or a function that runs longer)" >&2
  exit 1
fi
