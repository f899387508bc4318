#!/usr/bin/env bash
# Benchmark of Odoo Upgrade Courier against the built-in simulator on loopback, next to curl and OpenSSH.
#
#   bench/run.sh [size ...]        sizes like 256M 2G (default: 256M 2G); BENCH_MANY=20 dumps of
#                                  BENCH_MANY_SIZE (default 32M) for the "at once" line
#   BENCH_DELAYS="0 25 100" bench/run.sh [size]   the same over a long link (one-way ms): bench/wan.sh
#
# Writes a Markdown table to docs/benchmarks.md (BENCH_OUT overrides) and prints it. The service runs with
# -Xmx128m throughout. Needs: java, curl, jq, OpenSSH's sftp and ssh-keygen; builds the jar if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
# BENCH_DELAYS="0 25 100": the WAN benchmark instead (through a delay proxy), see bench/wan.sh
[ -z "${BENCH_DELAYS:-}" ] || exec bench/wan.sh "$@"

SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(256M 2G)
MANY=${BENCH_MANY:-20}
MANY_SIZE=${BENCH_MANY_SIZE:-32M}
OUT=${BENCH_OUT:-docs/benchmarks.md}
XMX=128m
UPGRADE_SECONDS=1   # the simulator's own "upgrade" time: 0 s pending + 1 s processing
SETTLE_MS=${BENCH_SETTLE_MS:-5000}   # courier.settle-time of the end-to-end run (5000 is the default)
# the service runs with the JVM options and environment the systemd unit gives it (its -Xmx aside);
# BENCH_JAVA_OPTS and BENCH_ENV (e.g. "" for the JVM's defaults) override them
UNIT=deploy/odoo-upgrade-courier.service
JAVA_OPTS=${BENCH_JAVA_OPTS-$(sed -n 's|^ExecStart=[^ ]*java \(.*\) -jar .*|\1|p' "$UNIT" | tr ' ' '\n' | { grep -v '^-Xmx' || true; } | xargs)}
SERVICE_ENV=${BENCH_ENV-$(sed -n 's|^Environment=||p' "$UNIT" | xargs)}

JAR=target/odoo-upgrade-courier.jar
[ -f "$JAR" ] || mvn -B -q package -DskipTests
for tool in curl jq sftp ssh-keygen numfmt; do command -v "$tool" >/dev/null || { echo "bench: $tool is missing" >&2; exit 2; }; done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/courier-bench.XXXXXX")
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; [ -n "${BENCH_KEEP:-}" ] && echo "bench: kept $WORK" >&2 || rm -rf "$WORK"; }
trap cleanup EXIT

free_port() { # a port nothing listens on
  local p; while :; do p=$((20000 + RANDOM % 40000)); (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }; done; }
now_ms() { date +%s%3N; }
# "HH:MM:SS.mmm" at the start of the first log line matching $2 in file $1, as milliseconds of the day
log_ms() {
  local t; t=$(grep -m1 -E "$2" "$1" | cut -c1-12)
  [ -n "$t" ] || { echo "bench: no log line matching '$2' in $1" >&2; return 1; }
  IFS=':.' read -r h m s ms <<<"$t"; echo $(( (10#$h*3600 + 10#$m*60 + 10#$s)*1000 + 10#$ms ))
}
bytes_of() { numfmt --from=iec "$1"; }
# an incompressible dump of $1 bytes in pg_dump's custom format (PGDMP header, random bytes) into $2
make_dump() { { printf 'PGDMP'; head -c $(( $1 - 5 )) /dev/urandom; } >"$2"; }
mbps() { awk -v b="$1" -v ms="$2" 'BEGIN { printf "%.1f", (ms > 0 ? b / 1048576 / (ms / 1000) : 0) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f%%", (b > 0 ? 100 * a / b : 0) }'; }

# ---------------------------------------------------------------- the simulator, alone
SIM_HTTP=$(free_port); SIM_SFTP=$(free_port)
SIMULATOR_HTTP_PORT=$SIM_HTTP SIMULATOR_SFTP_PORT=$SIM_SFTP SIMULATOR_PENDING_TIME=0 \
SIMULATOR_PROCESSING_TIME=$UPGRADE_SECONDS SIMULATOR_STORAGE_DIR="$WORK/sim" \
  java -jar "$JAR" --simulator-only >"$WORK/sim.log" 2>&1 &
PIDS+=($!)
API="http://127.0.0.1:$SIM_HTTP/database/v1"
for _ in $(seq 1 60); do grep -q '^SIMULATOR ' "$WORK/sim.log" && break; sleep 0.5; done
CONTRACT=M-DEMO-COURIER

create() { # → "id key"
  curl -sS "$API/create" --data-urlencode contract=$CONTRACT --data-urlencode email=bench@example.com \
    --data-urlencode target=17.0 --data-urlencode aim=test --data-urlencode "filename=$1" | jq -r '.request | "\(.id) \(.key)"'
}
auth() { echo "request=$1&key=$(jq -rn --arg k "$2" '$k|@uri')"; }
wait_done() { for _ in $(seq 1 600); do
  [ "$(curl -sS "$API/status?$(auth "$1" "$2")" | jq -r .request.state)" = done ] && return; sleep 0.5; done; return 1; }

# ---------------------------------------------------------------- one run of the service
# courier_run NAME FILE [ENV=VALUE ...]: drops FILE, waits until delivered; leaves its log in $WORK/NAME
courier_run() {
  local name=$1 file=$2; shift 2
  local dir="$WORK/$name"; mkdir -p "$dir/drop"
  ( cd "$PWD" && env UPGRADE_API_URL="$API" UPGRADE_CONTRACT=$CONTRACT UPGRADE_EMAIL=bench@example.com \
      UPGRADE_POLL_INTERVAL=1 COURIER_SETTLE_TIME=500 COURIER_PROGRESS_INTERVAL=5 COURIER_HTTP_PORT="$(free_port)" \
      COURIER_DROP_DIR="$dir/drop" COURIER_OUTPUT_URI="file:$dir/out" COURIER_FAILED_DIR="$dir/failed" \
      COURIER_DATA_DIR="$dir/data" COURIER_MAX_PARALLEL_TRANSFERS=2 COURIER_KEEP_DUMPS=delete $SERVICE_ENV "$@" \
      java -Xmx$XMX $JAVA_OPTS -jar "$JAR" >"$dir/log" 2>&1 ) &
  local pid=$!; PIDS+=($pid)
  for _ in $(seq 1 120); do grep -qs 'Odoo Upgrade Courier ready' "$dir/log" && break; sleep 0.5; done
  local count=1; [ -d "$file" ] && count=$(ls "$file" | wc -l)
  if [ -n "${COPY_IN:-}" ]; then
    # as a user copies a dump into the drop folder: it counts from the end of the copy
    cp "$file" "$dir/drop/"; DROP_MS=$(now_ms)
  else
    DROP_MS=$(now_ms)
    if [ -d "$file" ]; then mv "$file"/* "$dir/drop/"; else mv "$file" "$dir/drop/"; fi
  fi
  for _ in $(seq 1 7200); do
    [ "$(grep -c 'DELIVERED' "$dir/log" || true)" -ge "$count" ] && break
    grep -q 'FAILED' "$dir/log" && { echo "bench: $name failed, see its log:" >&2; tail -20 "$dir/log" >&2; exit 1; }
    sleep 0.2
  done
  # when the service logged the last delivery (the log's local time of day, on the day it ended)
  local t; t=$(grep 'DELIVERED' "$dir/log" | tail -1 | cut -c1-12)
  DONE_MS=$(date -d "$(date +%F) $t" +%s%3N)
  [ "$DONE_MS" -le "$(now_ms)" ] || DONE_MS=$((DONE_MS - 86400000))
  # the java process is the child of the subshell
  local jpid; jpid=$(pgrep -P "$pid" java || echo "$pid")
  RSS_KB=$(awk '/VmHWM/ {print $2}' "/proc/$jpid/status" 2>/dev/null || echo 0)
  kill "$pid" "$jpid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  grep -q OutOfMemoryError "$dir/log" && { echo "bench: OutOfMemoryError in $name" >&2; exit 1; }
  return 0
}

ROWS=()
PEAK_RSS=0
for size in "${SIZES[@]}"; do
  bytes=$(bytes_of "$size")
  echo "bench: $size ($bytes bytes)" >&2
  make_dump "$bytes" "$WORK/dump-$size.dump"
  src="$WORK/dump-$size.dump"

  # curl: HTTPS upload, then download of the upgraded archive
  read -r id key < <(create "curl-$size.dump")
  # curl --data-binary reads the whole file into memory first (and refuses 2 GB): -T streams it, as the service does
  t0=$(now_ms); curl -sS -o /dev/null -X POST -H 'Expect:' -H 'Content-Type: application/octet-stream' -T "$src" "$API/upload?$(auth "$id" "$key")"; t1=$(now_ms)
  curl_up=$((t1 - t0))
  curl -sS -o /dev/null "$API/process?$(auth "$id" "$key")"; wait_done "$id" "$key"
  url=$(curl -sS "$API/status?$(auth "$id" "$key")" | jq -r .request.upgraded_dump_url)
  t0=$(now_ms); curl -sS -o "$WORK/curl-archive" "$url"; t1=$(now_ms)
  curl_down=$((t1 - t0)); archive_bytes=$(stat -c %s "$WORK/curl-archive"); rm -f "$WORK/curl-archive"

  # OpenSSH sftp: put to the request's shared file
  read -r id key < <(create "sftp-$size.dump")
  rm -f "$WORK/key" "$WORK/key.pub"; ssh-keygen -q -t ed25519 -N '' -f "$WORK/key"
  access=$(curl -sS "$API/request_sftp_access?$(auth "$id" "$key")" -F "ssh_keys=@$WORK/key.pub")
  user=$(jq -r .request.sftp_user <<<"$access"); shared=$(jq -r .request.shared_file <<<"$access")
  echo "put $src $shared" >"$WORK/batch"
  t0=$(now_ms)
  sftp -q -b "$WORK/batch" -i "$WORK/key" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -P "$SIM_SFTP" "$user@127.0.0.1" >/dev/null
  t1=$(now_ms); openssh_up=$((t1 - t0))

  # the service, HTTPS both ways; the dump copied into the drop folder as a user would
  COPY_IN=1 courier_run "https-$size" "$src" UPGRADE_TRANSFER=https COURIER_SETTLE_TIME=$SETTLE_MS
  log="$WORK/https-$size/log"
  svc_up=$(( $(log_ms "$log" 'uploaded$') - $(log_ms "$log" 'uploading .* over HTTPS') ))
  svc_down=$(( $(log_ms "$log" 'DELIVERED') - $(log_ms "$log" 'downloading the upgraded archive') ))
  e2e=$((DONE_MS - DROP_MS)); https_rss=$RSS_KB
  # the platform's own time: from process until the simulator has written the archive (it reads and writes the whole
  # dump for that) or its processing time ends, whichever is later
  req=$(grep -m1 -oE 'upgrade request [0-9]+ created' "$log" | grep -oE '[0-9]+')
  platform=$(( $(log_ms "$WORK/sim.log" "request $req has its upgraded archive") - $(log_ms "$WORK/sim.log" "request $req is being upgraded") ))
  platform=$(( platform > UPGRADE_SECONDS * 1000 ? platform : UPGRADE_SECONDS * 1000 ))
  overhead=$((e2e - SETTLE_MS - platform - svc_up - svc_down))
  # of it, from the archive being ready until the next status call saw it (upgrade.poll-interval is 1 s here)
  poll_wait=$(( $(log_ms "$log" 'is done: the upgraded database is ready') - $(log_ms "$WORK/sim.log" "request $req has its upgraded archive") ))
  hash_wait=$(( $(log_ms "$log" 'dump, [0-9]+ bytes, sha256') - $(log_ms "$log" ': received$') ))

  # the service, SFTP upload
  cp "$src" "$WORK/sftp-$size.dump"
  courier_run "sftp-$size" "$WORK/sftp-$size.dump" UPGRADE_TRANSFER=sftp
  log="$WORK/sftp-$size/log"
  svc_sftp=$(( $(log_ms "$log" 'uploaded$') - $(log_ms "$log" 'uploading .* over SFTP') ))
  sftp_rss=$RSS_KB
  rss=$(( https_rss > sftp_rss ? https_rss : sftp_rss )); PEAK_RSS=$(( rss > PEAK_RSS ? rss : PEAK_RSS ))

  ROWS+=("| $size | HTTPS upload | $(mbps "$bytes" "$svc_up") MB/s | curl $(mbps "$bytes" "$curl_up") MB/s | $(ratio "$curl_up" "$svc_up") |")
  ROWS+=("| $size | SFTP upload | $(mbps "$bytes" "$svc_sftp") MB/s | OpenSSH sftp $(mbps "$bytes" "$openssh_up") MB/s | $(ratio "$openssh_up" "$svc_sftp") |")
  ROWS+=("| $size | download (+ delivery) | $(mbps "$archive_bytes" "$svc_down") MB/s | curl $(mbps "$archive_bytes" "$curl_down") MB/s | $(ratio "$curl_down" "$svc_down") |")
  ROWS+=("| $size | copied in → delivered | $((e2e)) ms | settle time $SETTLE_MS ms, platform $platform ms, the service's transfers $((svc_up + svc_down)) ms | overhead $overhead ms (received → hashed $hash_wait ms, archive ready → status seen $poll_wait ms) |")
  ROWS+=("| $size | peak RSS (-Xmx$XMX) | $((rss / 1024)) MB | | |")
  rm -f "$src"
done

# many at once vs one alone
mkdir -p "$WORK/stage-one" "$WORK/stage-many"
make_dump "$(bytes_of "$MANY_SIZE")" "$WORK/stage-one/single.dump"
courier_run one "$WORK/stage-one"; one_ms=$((DONE_MS - DROP_MS))
for i in $(seq 1 "$MANY"); do make_dump "$(bytes_of "$MANY_SIZE")" "$WORK/stage-many/db$i.dump"; done
courier_run many "$WORK/stage-many"; many_ms=$((DONE_MS - DROP_MS)); PEAK_RSS=$(( RSS_KB > PEAK_RSS ? RSS_KB : PEAK_RSS ))
ROWS+=("| $MANY × $MANY_SIZE | at once, drop → all delivered | $many_ms ms | one alone: $one_ms ms | $(awk -v a="$many_ms" -v b="$one_ms" 'BEGIN{printf "%.1f×", a/b}') |")

mkdir -p "$(dirname "$OUT")"
{
  echo "# Benchmarks"
  echo
  echo "Run on $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB of memory"
  echo "($(java -version 2>&1 | head -1)); the service with -Xmx$XMX${JAVA_OPTS:+ $JAVA_OPTS}${SERVICE_ENV:+ and $SERVICE_ENV}"
  echo "($([ -n "${BENCH_JAVA_OPTS+set}${BENCH_ENV+set}" ] && echo "BENCH_JAVA_OPTS, BENCH_ENV" || echo "as deploy/odoo-upgrade-courier.service runs it")), against the built-in simulator on loopback."
  echo "Rerun: \`bench/run.sh [sizes]\` (default \`256M 2G\`; \`BENCH_MANY\`, \`BENCH_MANY_SIZE\`, \`BENCH_OUT\`)."
  echo
  echo "| dump | what | the service | reference | service / reference (throughput) |"
  echo "| --- | --- | --- | --- | --- |"
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "Peak resident memory of the service over all runs: $((PEAK_RSS / 1024)) MB."
  [ "$OUT" = docs/benchmarks.md ] && [ -f docs/benchmark-notes.md ] && { echo; cat docs/benchmark-notes.md; }
} >"$OUT"
cat "$OUT"
