#!/usr/bin/env bash
# Transfers against the server the platform most likely runs: OpenSSH's sshd (Debian's openssh-server) on a loopback
# port with an sftp-only, chrooted user (as an SFTP service has; the chroot needs root), through bench/DelayProxy.java
# (a fixed one-way delay each way, nothing else). For each delay and size, RUNS runs of OpenSSH's `sftp` put and get and
# of the courier's own SFTP client (bench/SftpBench.java: ParallelSftp, the code the service runs) with each channel
# count; every figure is the median of the runs, with min and max. Prints a Markdown section (BENCH_OUT: a file instead).
#
#   sudo BENCH_DELAYS="0 25 100" BENCH_SIZES="256M 1G" BENCH_RUNS=3 BENCH_CHANNELS="1 8" BENCH_CHANNELS_LARGE=8 bench/sshd.sh
#
# (one-way ms: 25 and 100 are 50 and 200 ms round trips; a channel count is the most the courier may open, upgrade.sftp.channels;
# BENCH_JAVA_OPTS: options for the courier's JVM, e.g. a profiler.) bench/wan.sh puts its section first in docs/benchmarks-wan.md.
set -euo pipefail
cd "$(dirname "$0")/.."
DELAYS=(${BENCH_DELAYS:-0 25 100})
SIZES=(${BENCH_SIZES:-256M 1G})
RUNS=${BENCH_RUNS:-3}
CHANNELS_SMALL=(${BENCH_CHANNELS:-1 8})
CHANNELS_LARGE=(${BENCH_CHANNELS_LARGE:-8}) # for sizes of 1 GiB and more: one channel moves what OpenSSH moves, shown on the smaller size
OUT=${BENCH_OUT:-/dev/stdout} # bench/wan.sh puts it first in docs/benchmarks-wan.md
JAR=target/odoo-upgrade-courier.jar
[ "$(id -u)" = 0 ] || { echo "bench/sshd.sh: run as root (sshd's chroot needs it)" >&2; exit 2; }
[ -x /usr/sbin/sshd ] || { echo "bench/sshd.sh: install openssh-server" >&2; exit 2; }
[ -f "$JAR" ] || mvn -B -q package -DskipTests

WORK=$(mktemp -d "${TMPDIR:-/tmp}/courier-sshd.XXXXXX")
CHROOT=$(mktemp -d /srv/courier-sftp.XXXXXX) # sshd wants every part of the chroot's path owned by root, not writable by others
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK" "$CHROOT"; }
trap cleanup EXIT
free_port() { local p; while :; do p=$((20000 + RANDOM % 40000)); (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }; done; }
median() { sort -g | awk '{ v[NR] = $1 } END { printf "%.1f (%.1f–%.1f)", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2), v[1], v[NR] }'; }

id courier-bench >/dev/null 2>&1 || useradd -M -d /nonexistent -s /usr/sbin/nologin courier-bench
usermod -p '*' courier-bench # no password, but not locked: keys only
chmod 755 "$CHROOT"; mkdir "$CHROOT/upload"; chown courier-bench "$CHROOT/upload"
ssh-keygen -q -t ed25519 -N '' -f "$WORK/hostkey"; ssh-keygen -q -t ed25519 -N '' -f "$WORK/key"
mkdir "$WORK/keys"; cp "$WORK/key.pub" "$WORK/keys/courier-bench"; chmod 755 "$WORK" "$WORK/keys"; chmod 644 "$WORK/keys/courier-bench"
SSHD=$(free_port)
cat >"$WORK/sshd_config" <<CONF
Port $SSHD
ListenAddress 127.0.0.1
HostKey $WORK/hostkey
PidFile $WORK/sshd.pid
AuthorizedKeysFile $WORK/keys/%u
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
Subsystem sftp internal-sftp
Match User courier-bench
  ChrootDirectory $CHROOT
  ForceCommand internal-sftp
  AllowTcpForwarding no
CONF
mkdir -p /run/sshd
/usr/sbin/sshd -D -f "$WORK/sshd_config" -E "$WORK/sshd.log" & PIDS+=($!)
sleep 1
OPENSSH_VERSION=$(ssh -V 2>&1)

rows=()
for size in "${SIZES[@]}"; do
  head -c "$(numfmt --from=iec "$size")" /dev/urandom >"$WORK/src"
  if [ "$(numfmt --from=iec "$size")" -ge $((1 << 30)) ]; then CHANNELS=("${CHANNELS_LARGE[@]}"); else CHANNELS=("${CHANNELS_SMALL[@]}"); fi
  for delay in "${DELAYS[@]}"; do
    PX=$(free_port)
    java bench/DelayProxy.java "$PX" "$SSHD" "$delay" 0 7200 >"$WORK/proxy.log" 2>&1 & PIDS+=($!)
    for _ in $(seq 1 60); do grep -q DelayProxy "$WORK/proxy.log" && break; sleep 0.5; done
    for p in "$PX" "$SSHD"; do echo "[127.0.0.1]:$p $(cut -d' ' -f1,2 "$WORK/hostkey.pub")"; done >"$WORK/known_hosts"
    ssh_opts=(-q -i "$WORK/key" -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$WORK/known_hosts" -P "$PX")
    declare -A t=()
    for run in $(seq 1 "$RUNS"); do
      echo "put $WORK/src upload/sftp" >"$WORK/put"; echo "get upload/sftp $WORK/got" >"$WORK/get"
      s=$(date +%s%N); sftp "${ssh_opts[@]}" -b "$WORK/put" courier-bench@127.0.0.1 >/dev/null; e=$(date +%s%N)
      t[sftp_up]+="$(( (e - s) / 1000000 )) "
      s=$(date +%s%N); sftp "${ssh_opts[@]}" -b "$WORK/get" courier-bench@127.0.0.1 >/dev/null; e=$(date +%s%N)
      t[sftp_down]+="$(( (e - s) / 1000000 )) "; rm -f "$WORK/got"
      java ${BENCH_JAVA_OPTS:-} -cp "$JAR" bench/SftpBench.java "$PX" "$SSHD" courier-bench "$WORK/key" "$WORK/known_hosts" "$WORK/src" upload/courier \
        "${CHANNELS[@]}" >"$WORK/bench.out" 2>"$WORK/bench.err" || { cat "$WORK/bench.err" >&2; exit 1; }
      while read -r dir ch secs _; do t[courier_${dir}_$ch]+="$(awk -v s="$secs" 'BEGIN { printf "%d", s * 1000 }') "; done <"$WORK/bench.out"
    done
    for dir in up down; do
      base=$(tr ' ' '\n' <<<"${t[sftp_$dir]}" | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
      rows+=("| $size | $((delay * 2)) ms | $dir | OpenSSH sftp | $(tr ' ' '\n' <<<"${t[sftp_$dir]}" | grep . | awk '{ print $1 / 1000 }' | median) s | 1.00× |")
      for ch in "${CHANNELS[@]}"; do
        med=$(tr ' ' '\n' <<<"${t[courier_${dir}_$ch]}" | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
        rows+=("| $size | $((delay * 2)) ms | $dir | courier, $( [ "$ch" = 1 ] && echo "1 channel" || echo "up to $ch channels") | $(tr ' ' '\n' <<<"${t[courier_${dir}_$ch]}" | grep . | awk '{ print $1 / 1000 }' | median) s | $(awk -v a="$base" -v b="$med" 'BEGIN { printf "%.2f", a / b }')× |")
      done
    done
    unset t
  done
done

{
  echo "## Against OpenSSH's sshd"
  echo
  echo "\`bench/sshd.sh\` on $(date -u +%Y-%m-%d) ($(nproc) cores, ${OPENSSH_VERSION}). The server: Debian's OpenSSH \`sshd\` on"
  echo "loopback, an sftp-only chrooted user (\`internal-sftp\`); between client and server \`bench/DelayProxy.java\`, a fixed"
  echo "one-way delay each way and nothing else. Both clients are timed from the connection's start (SSH handshake included)"
  echo "to the end of the transfer; the courier's JVM first moves 512 MiB straight to the server, untimed (a running service"
  echo "has moved data before; a cold JVM moves its first few hundred MiB up to a third slower while it compiles)."
  echo "\"Up to 8 channels\": \`upgrade.sftp.channels=8\`, the channels found while the transfer runs (it starts with 4)."
  echo "Each time is the median of $RUNS runs (min–max); the factor is OpenSSH's median time over the courier's."
  echo
  echo "| size | round trip | direction | client | time | vs OpenSSH |"
  echo "|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
} >"$OUT"
