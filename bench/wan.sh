#!/usr/bin/env bash
# The WAN benchmark: the service and the tools partners use today, through a delay proxy on loopback (a fixed
# one-way delay each way, no rate limit unless BENCH_RATE bytes/s), against the built-in simulator.
#
#   sudo BENCH_DELAYS="0 25 100" bench/run.sh [size]     (one-way ms; default size 256M)
#
# First (as root; BENCH_SSHD=0 leaves it out) bench/sshd.sh: the courier's SFTP client and OpenSSH's sftp against
# OpenSSH's sshd, BENCH_SIZES (256M 1G), BENCH_RUNS (3) runs each; then bench/rsync.sh: jsonrpc's rsync as the courier
# runs it beside Odoo's own client's, 256M.
#
# For each delay: OpenSSH sftp put/get and curl upload/download of one request, and the service with SFTP upload +
# HTTPS download, then HTTPS upload + SFTP download. Writes docs/benchmarks-wan.md (BENCH_OUT overrides).
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE=${1:-256M}
DELAYS=(${BENCH_DELAYS:-0 25 100})
RATE=${BENCH_RATE:-0}
OUT=${BENCH_OUT:-docs/benchmarks-wan.md}
XMX=128m
JAR=target/odoo-upgrade-courier.jar
[ -f "$JAR" ] || mvn -B -q package -DskipTests
for tool in curl jq sftp ssh-keygen numfmt java; do command -v "$tool" >/dev/null || { echo "bench: $tool is missing" >&2; exit 2; }; done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/courier-wan.XXXXXX")
# first the server the platform most likely runs: OpenSSH's sshd (root, for its chroot; BENCH_SSHD=0 leaves it out)
if [ "${BENCH_SSHD:-1}" = 1 ]; then
  [ "$(id -u)" = 0 ] || { echo "bench: run as root for the rows against OpenSSH's sshd (or BENCH_SSHD=0)" >&2; exit 2; }
  BENCH_DELAYS="${DELAYS[*]}" BENCH_OUT="$WORK/sshd.md" bench/sshd.sh
  BENCH_DELAYS="${DELAYS[*]}" BENCH_SIZE=256M BENCH_OUT="$WORK/rsync.md" bench/rsync.sh
fi
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
free_port() { local p; while :; do p=$((20000 + RANDOM % 40000)); (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }; done; }
now_ms() { date +%s%3N; }
log_ms() {
  local t; t=$(grep -m1 -E "$2" "$1" | cut -c1-12)
  [ -n "$t" ] || { echo "bench: no log line matching '$2' in $1" >&2; return 1; }
  IFS=':.' read -r h m s ms <<<"$t"; echo $(( (10#$h*3600 + 10#$m*60 + 10#$s)*1000 + 10#$ms ))
}
mbps() { awk -v b="$1" -v ms="$2" 'BEGIN { printf "%.1f", (ms > 0 ? b / 1048576 / (ms / 1000) : 0) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
BYTES=$(numfmt --from=iec "$SIZE")
{ printf 'PGDMP'; head -c $(( BYTES - 5 )) /dev/urandom; } >"$WORK/src.dump"

# the simulator names the proxies' ports in its answers, so every client goes through them
SIM_HTTP=$(free_port); SIM_SFTP=$(free_port); PX_HTTP=$(free_port); PX_SFTP=$(free_port)
SIMULATOR_HTTP_PORT=$SIM_HTTP SIMULATOR_SFTP_PORT=$SIM_SFTP SIMULATOR_PUBLIC_HTTP_PORT=$PX_HTTP SIMULATOR_PUBLIC_SFTP_PORT=$PX_SFTP \
SIMULATOR_PENDING_TIME=0 SIMULATOR_PROCESSING_TIME=1 SIMULATOR_STORAGE_DIR="$WORK/sim" \
  java -jar "$JAR" --simulator-only >"$WORK/sim.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 60); do grep -q '^SIMULATOR ' "$WORK/sim.log" && break; sleep 0.5; done
API="http://127.0.0.1:$PX_HTTP/database/v1"
CONTRACT=M-DEMO-COURIER
PROXIES=()
proxies() { # one-way delay $1 ms on both proxy ports
  for p in "${PROXIES[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; PROXIES=()
  java bench/DelayProxy.java "$PX_HTTP" "$SIM_HTTP" "$1" "$RATE" 7200 >"$WORK/proxy-http.log" 2>&1 & PROXIES+=($!); PIDS+=($!)
  java bench/DelayProxy.java "$PX_SFTP" "$SIM_SFTP" "$1" "$RATE" 7200 >"$WORK/proxy-sftp.log" 2>&1 & PROXIES+=($!); PIDS+=($!)
  for _ in $(seq 1 60); do grep -q DelayProxy "$WORK/proxy-http.log" && grep -q DelayProxy "$WORK/proxy-sftp.log" && return; sleep 0.5; done
  echo "bench: the delay proxies did not start" >&2; exit 1
}
create() { curl -sS "$API/create" --data-urlencode contract=$CONTRACT --data-urlencode email=bench@example.com \
    --data-urlencode target=17.0 --data-urlencode aim=test --data-urlencode "filename=$1" | jq -r '.request | "\(.id) \(.key)"'; }
auth() { echo "request=$1&key=$(jq -rn --arg k "$2" '$k|@uri')"; }
wait_done() { for _ in $(seq 1 600); do
  [ "$(curl -sS "$API/status?$(auth "$1" "$2")" | jq -r .request.state)" = done ] && return; sleep 0.5; done; return 1; }
sftp_batch() { # user, batch file
  sftp -q -b "$2" -i "$WORK/key" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -P "$PX_SFTP" "$1@127.0.0.1" >/dev/null; }

courier_run() { # NAME ENV=VALUE...: one dump through the service; its log in $WORK/NAME/log
  local name=$1; shift
  local dir="$WORK/$name"; mkdir -p "$dir/drop"
  env UPGRADE_API_URL="$API" UPGRADE_CONTRACT=$CONTRACT UPGRADE_EMAIL=bench@example.com UPGRADE_POLL_INTERVAL=1 \
      COURIER_SETTLE_TIME=500 COURIER_HTTP_PORT="$(free_port)" COURIER_DROP_DIR="$dir/drop" COURIER_OUTPUT_URI="file:$dir/out" \
      COURIER_FAILED_DIR="$dir/failed" COURIER_DATA_DIR="$dir/data" COURIER_KEEP_DUMPS=delete "$@" \
      java -Xmx$XMX -jar "$JAR" >"$dir/log" 2>&1 &
  local pid=$!; PIDS+=($pid)
  for _ in $(seq 1 120); do grep -qs 'Odoo Upgrade Courier ready' "$dir/log" && break; sleep 0.5; done
  cp "$WORK/src.dump" "$dir/$name.dump"; mv "$dir/$name.dump" "$dir/drop/"
  for _ in $(seq 1 36000); do
    grep -q 'DELIVERED' "$dir/log" && break
    grep -q 'FAILED' "$dir/log" && { echo "bench: $name failed:" >&2; tail -20 "$dir/log" >&2; exit 1; }
    sleep 0.2
  done
  kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
}

ROWS=()
for d in "${DELAYS[@]}"; do
  echo "bench: $d ms each way ($((2 * d)) ms round trip), $SIZE" >&2
  proxies "$d"
  # the tools: curl up and down, OpenSSH sftp put and get
  read -r id key < <(create "tools.dump")
  t0=$(now_ms); curl -sS -o /dev/null -X POST -H 'Expect:' -H 'Content-Type: application/octet-stream' -T "$WORK/src.dump" "$API/upload?$(auth "$id" "$key")"; curl_up=$(( $(now_ms) - t0 ))
  read -r id key < <(create "tools.dump")
  rm -f "$WORK/key" "$WORK/key.pub"; ssh-keygen -q -t ed25519 -N '' -f "$WORK/key"
  access=$(curl -sS "$API/request_sftp_access?$(auth "$id" "$key")" -F "ssh_keys=@$WORK/key.pub")
  user=$(jq -r .request.sftp_user <<<"$access"); shared=$(jq -r .request.shared_file <<<"$access")
  echo "put $WORK/src.dump $shared" >"$WORK/batch"
  t0=$(now_ms); sftp_batch "$user" "$WORK/batch"; sftp_up=$(( $(now_ms) - t0 ))
  curl -sS -o /dev/null "$API/process?$(auth "$id" "$key")"; wait_done "$id" "$key"
  url=$(curl -sS "$API/status?$(auth "$id" "$key")" | jq -r .request.upgraded_dump_url)
  t0=$(now_ms); curl -sS -o "$WORK/got" "$url"; curl_down=$(( $(now_ms) - t0 )); archive=$(stat -c %s "$WORK/got"); rm -f "$WORK/got"
  echo "get upgraded_$shared $WORK/got" >"$WORK/batch"
  t0=$(now_ms); sftp_batch "$user" "$WORK/batch"; sftp_down=$(( $(now_ms) - t0 )); rm -f "$WORK/got"

  # the service: SFTP upload + HTTPS download, then HTTPS upload + SFTP download
  courier_run "a-$d" UPGRADE_TRANSFER=sftp UPGRADE_DOWNLOAD=url; log="$WORK/a-$d/log"
  svc_sftp_up=$(( $(log_ms "$log" 'uploaded$') - $(log_ms "$log" 'uploading .* over SFTP') ))
  svc_http_down=$(( $(log_ms "$log" 'DELIVERED') - $(log_ms "$log" 'downloading the upgraded archive') ))
  courier_run "b-$d" UPGRADE_TRANSFER=https UPGRADE_DOWNLOAD=sftp; log="$WORK/b-$d/log"
  svc_http_up=$(( $(log_ms "$log" 'uploaded$') - $(log_ms "$log" 'uploading .* over HTTPS') ))
  svc_sftp_down=$(( $(log_ms "$log" 'DELIVERED') - $(log_ms "$log" 'downloading the upgraded archive') ))

  rt="$((2 * d)) ms"
  ROWS+=("| $rt | SFTP upload | $(mbps "$BYTES" "$svc_sftp_up") MB/s | OpenSSH sftp put $(mbps "$BYTES" "$sftp_up") MB/s | $(ratio "$sftp_up" "$svc_sftp_up") |")
  ROWS+=("| $rt | SFTP download (+ delivery) | $(mbps "$archive" "$svc_sftp_down") MB/s | OpenSSH sftp get $(mbps "$archive" "$sftp_down") MB/s | $(ratio "$sftp_down" "$svc_sftp_down") |")
  ROWS+=("| $rt | HTTPS upload | $(mbps "$BYTES" "$svc_http_up") MB/s | curl $(mbps "$BYTES" "$curl_up") MB/s | $(ratio "$curl_up" "$svc_http_up") |")
  ROWS+=("| $rt | HTTPS download (+ delivery) | $(mbps "$archive" "$svc_http_down") MB/s | curl $(mbps "$archive" "$curl_down") MB/s | $(ratio "$curl_down" "$svc_http_down") |")
done

mkdir -p "$(dirname "$OUT")"
{
  echo "# Benchmarks over a long link"
  echo
  [ -f "$WORK/sshd.md" ] && { cat "$WORK/sshd.md"; echo; cat "$WORK/rsync.md"; echo; }
  echo "## Against the built-in simulator"
  echo
  echo "Run on $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) cores ($(java -version 2>&1 | head -1)); $SIZE dumps; the service with"
  echo "-Xmx$XMX; every client (the service, OpenSSH \`sftp\` with its defaults, \`curl\`) reaches the built-in simulator through"
  echo "\`bench/DelayProxy.java\` on loopback: a fixed one-way delay each way$([ "$RATE" = 0 ] && echo ", no rate limit" || echo ", $RATE bytes/s")."
  echo "Rerun: \`BENCH_DELAYS=\"${DELAYS[*]}\" bench/run.sh $SIZE\` (\`BENCH_RATE\` bytes/s, \`BENCH_OUT\`)."
  echo
  echo "| round trip | what | the service | reference | service / reference |"
  echo "| --- | --- | --- | --- | --- |"
  printf '%s\n' "${ROWS[@]}"
  [ "$OUT" = docs/benchmarks-wan.md ] && [ -f docs/benchmark-wan-notes.md ] && { echo; cat docs/benchmark-wan-notes.md; }
} >"$OUT"
cat "$OUT"
