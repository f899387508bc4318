#!/usr/bin/env bash
# Transfers against the server the platform most likely runs: OpenSSH's sshd (Debian's openssh-server) on a loopback
# port with an sftp-only, chrooted user (as an SFTP service has; the chroot needs root), through bench/DelayProxy.java
# (a fixed one-way delay each way, nothing else). For each delay and size, RUNS runs of OpenSSH's `sftp` put and get and
# of the courier's own SFTP client (bench/SftpBench.java: ParallelSftp, the code the service runs) with each channel
# count; every figure is the median of the runs, with min and max.
#
#   sudo BENCH_DELAYS="25 100" BENCH_SIZES="256M" BENCH_RUNS=3 BENCH_CHANNELS="1 4 8" bench/sshd.sh
#
# (one-way ms: 25 and 100 are 50 and 200 ms round trips.) Writes docs/benchmarks-sshd.md (BENCH_OUT overrides).
set -euo pipefail
cd "$(dirname "$0")/.."
DELAYS=(${BENCH_DELAYS:-25 100})
SIZES=(${BENCH_SIZES:-256M})
RUNS=${BENCH_RUNS:-3}
CHANNELS=(${BENCH_CHANNELS:-1 4 8})
OUT=${BENCH_OUT:-docs/benchmarks-sshd.md}
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
  for delay in "${DELAYS[@]}"; do
    PX=$(free_port)
    java bench/DelayProxy.java "$PX" "$SSHD" "$delay" 0 7200 >"$WORK/proxy.log" 2>&1 & PIDS+=($!)
    for _ in $(seq 1 60); do grep -q DelayProxy "$WORK/proxy.log" && break; sleep 0.5; done
    echo "[127.0.0.1]:$PX $(cut -d' ' -f1,2 "$WORK/hostkey.pub")" >"$WORK/known_hosts"
    ssh_opts=(-q -i "$WORK/key" -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$WORK/known_hosts" -P "$PX")
    declare -A t=()
    for run in $(seq 1 "$RUNS"); do
      echo "put $WORK/src upload/sftp" >"$WORK/put"; echo "get upload/sftp $WORK/got" >"$WORK/get"
      s=$(date +%s%N); sftp "${ssh_opts[@]}" -b "$WORK/put" courier-bench@127.0.0.1 >/dev/null; e=$(date +%s%N)
      t[sftp_up]+="$(( (e - s) / 1000000 )) "
      s=$(date +%s%N); sftp "${ssh_opts[@]}" -b "$WORK/get" courier-bench@127.0.0.1 >/dev/null; e=$(date +%s%N)
      t[sftp_down]+="$(( (e - s) / 1000000 )) "; rm -f "$WORK/got"
      for ch in "${CHANNELS[@]}"; do
        for dir in up down; do
          line=$(java -cp "$JAR" bench/SftpBench.java "$dir" "$PX" courier-bench "$WORK/key" "$WORK/known_hosts" \
            "$WORK/$( [ $dir = up ] && echo src || echo got)" "upload/$( [ $dir = up ] && echo courier || echo sftp)" "$ch" 2>"$WORK/bench.err") \
            || { cat "$WORK/bench.err" >&2; exit 1; }
          t[courier_${dir}_$ch]+="$(awk '{ printf "%d", $3 * 1000 }' <<<"$line") "; rm -f "$WORK/got"
        done
      done
    done
    for dir in up down; do
      base=$(tr ' ' '\n' <<<"${t[sftp_$dir]}" | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
      rows+=("| $size | $((delay * 2)) ms | $dir | OpenSSH sftp | $(tr ' ' '\n' <<<"${t[sftp_$dir]}" | grep . | awk '{ print $1 / 1000 }' | median) s | 1.00× |")
      for ch in "${CHANNELS[@]}"; do
        med=$(tr ' ' '\n' <<<"${t[courier_${dir}_$ch]}" | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
        rows+=("| $size | $((delay * 2)) ms | $dir | courier, $ch channel(s) | $(tr ' ' '\n' <<<"${t[courier_${dir}_$ch]}" | grep . | awk '{ print $1 / 1000 }' | median) s | $(awk -v a="$base" -v b="$med" 'BEGIN { printf "%.2f", a / b }')× |")
      done
    done
    unset t
  done
done

{
  echo "# Transfers against OpenSSH's sshd"
  echo
  echo "Written by \`bench/sshd.sh\` on $(date -u +%Y-%m-%d) ($(nproc) cores, ${OPENSSH_VERSION}). The server: Debian's OpenSSH \`sshd\`"
  echo "on loopback, an sftp-only chrooted user (\`internal-sftp\`); between client and server \`bench/DelayProxy.java\`, a fixed"
  echo "one-way delay each way and nothing else. Both clients are timed from the connection's start (SSH handshake included;
the courier's JVM start not) to the end of the transfer."
  echo "Each time is the median of $RUNS runs (min–max); the factor is OpenSSH's median time over the courier's."
  echo
  echo "| size | round trip | direction | client | time | vs OpenSSH |"
  echo "|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
} >"$OUT"
cat "$OUT"
