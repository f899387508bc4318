#!/usr/bin/env bash
# jsonrpc's transfers: rsync over SSH as the courier runs it (transfer/Rsync.java) beside rsync as Odoo's own client
# (upgrade.odoo.com/upgrade) runs it, against OpenSSH's sshd on a loopback port through bench/DelayProxy.java (a fixed
# one-way delay each way, nothing else). Up and down, medians of RUNS runs with min and max. Needs root (a user for
# the server side), Debian's openssh-server and rsync.
#
#   sudo BENCH_DELAYS="0 25 100" BENCH_SIZE=256M BENCH_RUNS=3 bench/rsync.sh
#
# Prints a Markdown section (BENCH_OUT: a file instead).
set -euo pipefail
cd "$(dirname "$0")/.."
DELAYS=(${BENCH_DELAYS:-0 25 100})
SIZE=${BENCH_SIZE:-256M}
RUNS=${BENCH_RUNS:-3}
OUT=${BENCH_OUT:-/dev/stdout}
[ "$(id -u)" = 0 ] || { echo "bench/rsync.sh: run as root (it adds a user for the server side)" >&2; exit 2; }
for tool in /usr/sbin/sshd rsync ssh-keygen; do command -v "$tool" >/dev/null || { echo "bench/rsync.sh: $tool is missing" >&2; exit 2; }; done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/courier-rsync.XXXXXX")
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
free_port() { local p; while :; do p=$((20000 + RANDOM % 40000)); (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }; done; }
median() { sort -g | awk '{ v[NR] = $1 } END { printf "%.1f (%.1f–%.1f)", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2), v[1], v[NR] }'; }
mid() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

# the server side: a user with a shell (rsync runs there), its home in WORK; keys only
id courier-rsync >/dev/null 2>&1 || useradd -M -d "$WORK/home" -s /bin/sh courier-rsync
usermod -d "$WORK/home" -p '*' courier-rsync
mkdir -p "$WORK/home/data"; chown -R courier-rsync "$WORK/home"; chmod 755 "$WORK"
ssh-keygen -q -t ed25519 -N '' -f "$WORK/hostkey"; ssh-keygen -q -t ed25519 -N '' -f "$WORK/key"
mkdir "$WORK/keys"; cp "$WORK/key.pub" "$WORK/keys/courier-rsync"; chmod 755 "$WORK/keys"; chmod 644 "$WORK/keys/courier-rsync"
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
AllowUsers courier-rsync
CONF
mkdir -p /run/sshd
/usr/sbin/sshd -D -f "$WORK/sshd_config" -E "$WORK/sshd.log" & PIDS+=($!)
for _ in $(seq 1 20); do (exec 3<>"/dev/tcp/127.0.0.1/$SSHD") 2>/dev/null && break; sleep 0.2; done
head -c "$(numfmt --from=iec "$SIZE")" /dev/urandom >"$WORK/dump"

rows=()
for delay in "${DELAYS[@]}"; do
  PX=$(free_port)
  java bench/DelayProxy.java "$PX" "$SSHD" "$delay" 0 7200 >"$WORK/proxy.log" 2>&1 & PIDS+=($!)
  for _ in $(seq 1 60); do grep -q DelayProxy "$WORK/proxy.log" && break; sleep 0.5; done
  echo "[127.0.0.1]:$PX $(cut -d' ' -f1,2 "$WORK/hostkey.pub")" >"$WORK/known_hosts"
  remote="courier-rsync@127.0.0.1:data"
  # Odoo's client: upload_dump() and download_dump() of upgrade.odoo.com/upgrade
  odoo_ssh="ssh -p $PX -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=$WORK/known_hosts -i $WORK/key"
  # the courier: transfer/Rsync.java (its ssh options and rsync flags)
  courier_ssh="ssh -p $PX -o IdentitiesOnly=yes -o IdentityAgent=none -o StrictHostKeyChecking=yes -o UserKnownHostsFile=$WORK/known_hosts -o GlobalKnownHostsFile=/dev/null -o BatchMode=yes -o PasswordAuthentication=no -o ConnectTimeout=30 -o ServerAliveInterval=15 -o ServerAliveCountMax=4 -F /dev/null -i $WORK/key"
  declare -A t=()
  timed() { local k=$1; shift; local s e; s=$(date +%s%N); "$@" >/dev/null; e=$(date +%s%N); t[$k]+="$(( (e - s) / 1000000 )) "; }
  for run in $(seq 1 "$RUNS"); do
    rm -rf "$WORK/home/data/"* "$WORK/got"; mkdir -p "$WORK/got"
    timed odoo_up rsync --info=progress2 --delete-after --recursive --links --times "--rsh=$odoo_ssh" "$WORK/dump" "$remote/origin.dump"
    timed odoo_down rsync --info=progress2 -are "$odoo_ssh" --ignore-missing-args "$remote/origin.dump" "$WORK/got/"
    cmp -s "$WORK/dump" "$WORK/got/origin.dump" || { echo "bench/rsync.sh: Odoo's download differs" >&2; exit 1; }
    rm -rf "$WORK/home/data/"* "$WORK/got"; mkdir -p "$WORK/got"
    timed courier_up rsync --info=progress2 --no-inc-recursive --timeout=300 "--rsh=$courier_ssh" --partial --times "$WORK/dump" "$remote/origin.dump"
    timed courier_down rsync --info=progress2 --no-inc-recursive --timeout=300 "--rsh=$courier_ssh" --recursive --links --times --partial \
      --ignore-missing-args "$remote/origin.dump" "$WORK/got/"
    cmp -s "$WORK/dump" "$WORK/got/origin.dump" || { echo "bench/rsync.sh: the courier's download differs" >&2; exit 1; }
  done
  for dir in up down; do
    o=$(tr ' ' '\n' <<<"${t[odoo_$dir]}" | grep . | mid); c=$(tr ' ' '\n' <<<"${t[courier_$dir]}" | grep . | mid)
    rows+=("| $SIZE | $((delay * 2)) ms | $dir | $(tr ' ' '\n' <<<"${t[odoo_$dir]}" | grep . | awk '{ print $1 / 1000 }' | median) s | $(tr ' ' '\n' <<<"${t[courier_$dir]}" | grep . | awk '{ print $1 / 1000 }' | median) s | $(awk -v a="$o" -v b="$c" 'BEGIN { printf "%.2f", a / b }')× |")
  done
  unset t
done

{
  echo "## jsonrpc: rsync as the courier runs it beside Odoo's own client"
  echo
  echo "\`bench/rsync.sh\` on $(date -u +%Y-%m-%d) ($(nproc) cores, $(rsync --version | head -1 | cut -d' ' -f1-4), $(ssh -V 2>&1)). Both run"
  echo "rsync over OpenSSH's ssh to Debian's OpenSSH \`sshd\` on loopback through \`bench/DelayProxy.java\`; Odoo's client with the"
  echo "flags of \`upload_dump()\`/\`download_dump()\` in upgrade.odoo.com/upgrade, the courier with those of \`transfer/Rsync.java\`."
  echo "Each time is the median of $RUNS runs (min–max); the factor is Odoo's client's median time over the courier's."
  echo
  echo "| size | round trip | direction | Odoo's client | the courier | vs Odoo's client |"
  echo "|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
} >"$OUT"
