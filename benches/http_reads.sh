#!/usr/bin/env bash
# Authenticated reads against the HTTP ceiling: `GET /v1/members/{id}` with a bearer token beside `GET /health/live`,
# with wrk (64 connections, 2 threads, 15 s each), on the release binary.
#
#   cargo build --release && benches/http_reads.sh                       # SQLite, a fresh database in a temp folder
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/mm_bench \
#     MATCHMAKER_JWT_KEY="$(target/release/matchmaker keys new)" benches/http_reads.sh   # PostgreSQL (an empty database)
#
# wrk runs on the same machine as the server and takes its share of the CPU: the figures are a floor.
set -euo pipefail
cd "$(dirname "$0")/.."

binary="$PWD/target/release/matchmaker"
[ -x "$binary" ] || { echo "build first: cargo build --release" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)" >&2; exit 1; }

work="$(mktemp -d)"
port="${PORT:-18098}"
base="http://127.0.0.1:$port"
export DATABASE_URL="${DATABASE_URL:-sqlite://$work/bench.db}"
export MATCHMAKER_ADDR="127.0.0.1:$port" MATCHMAKER_SCHEDULER=off MATCHMAKER_PUBLIC_URL="$base" RUST_LOG=warn
export MATCHMAKER_UNSUBSCRIBE_KEY="${MATCHMAKER_UNSUBSCRIBE_KEY:-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')}"
password="bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"

cd "$work"
"$binary" migrate >/dev/null
"$binary" serve >"$work/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 50); do curl -fs "$base/health/ready" >/dev/null && break; sleep 0.2; done

MATCHMAKER_PASSWORD="$password" "$binary" user add --email "bench-$port@example.org" --role admin >/dev/null
json() { python3 -c "import sys, json; print(json.load(sys.stdin)$1)"; }
token="$(curl -fs -X POST "$base/v1/auth/token" -d grant_type=password -d "username=bench-$port@example.org" \
    -d "password=$password" | json '["access_token"]')"
member="$(curl -fs -X POST "$base/v1/members" -H "Authorization: Bearer $token" -H 'content-type: application/json' \
    -d '{"name": "Atelier Banc d essai", "country": "LU", "sectors": ["design"], "contact_email": "bench@example.org",
         "offers": [{"term": "graphic design", "level": 4}, {"term": "Fotografie", "level": 3}],
         "needs": [{"term": "3D modelling", "priority": 3}], "interests": [{"term": "cultural heritage"}],
         "languages": ["en", "fr"], "preferred_language": "fr"}' | json '["id"]')"

echo "== GET /health/live"
wrk -t2 -c64 -d15s --latency "$base/health/live" | grep -E "Requests/sec|^ +(50|99)%|Non-2xx"
echo "== GET /v1/members/$member (authenticated)"
wrk -t2 -c64 -d15s --latency -H "Authorization: Bearer $token" "$base/v1/members/$member" \
    | grep -E "Requests/sec|^ +(50|99)%|Non-2xx"
