#!/usr/bin/env bash
# Instructions per point select in vtgate and in vttablet, counted by callgrind: the one
# measure of the per-query path that this project's shared, noisy VMs repeat exactly (the same
# binary and inputs give the same count within a fraction of a percent, whatever else runs).
#
# Brings up the sharded local cluster (vtlocal, port offset 1000: vtgate on 16306, every port
# below Linux's ephemeral range), puts sysbench's sbtest1 in `commerce` (unsharded) and in
# `customer` (-80/80-, xxhash on id), restarts vtgate and commerce's primary tablet under
# `valgrind --tool=callgrind` with their own arguments and one tokio worker (as vtlocal runs
# them), and counts N sysbench point selects at one thread after a warm-up.
#
# Usage: benches/callgrind.sh           (builds release binaries first)
# Env:   N=2000 (queries counted per row)  SKIP_BUILD=1  CARGO_TARGET_DIR (default:
#        scripts/target-dir.sh)  KEEP=1 (keep the callgrind files, for callgrind_annotate)
# Output: a markdown table on stdout; callgrind files under $WORK (printed) with KEEP=1.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/target-dir.sh
TARGET_DIR=$(cd "$ROOT" && . scripts/target-dir.sh && echo "$CARGO_TARGET_DIR")
BIN=$TARGET_DIR/release
N=${N:-2000}
VTGATE_PORT=16306
ETCD=127.0.0.1:3379
COMMERCE_PRIMARY_PORT=18100
WORK=$(mktemp -d /tmp/vt-callgrind.XXXXXX)
DATAROOT=$WORK/vtdataroot
VG_PIDS=()

log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }

cleanup() {
    set +e
    for pid in "${VG_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    (cd "$ROOT" && "$BIN/vtlocal" --dataroot "$DATAROOT" --port-offset 1000 down) >>"$WORK/vtlocal.log" 2>&1
    rm -rf "$DATAROOT"
    [[ -n ${KEEP:-} ]] || rm -rf "$WORK"
}
trap cleanup EXIT

for tool in valgrind callgrind_control sysbench; do
    command -v "$tool" >/dev/null || { log "$tool is not installed"; exit 1; }
done
if [[ -z ${SKIP_BUILD:-} ]]; then
    log "building release binaries"
    (cd "$ROOT" && CARGO_TARGET_DIR=$TARGET_DIR cargo build --release --bins)
fi

TABLE_SIZE=10000
# shellcheck source=benches/sbtest.sh
. "$ROOT/benches/sbtest.sh"

log "starting the local cluster in $DATAROOT"
(cd "$ROOT" && "$BIN/vtlocal" --dataroot "$DATAROOT" --port-offset 1000 up --detach \
    --example sharded --config-dir config) >"$WORK/vtlocal.log" 2>&1 ||
    { log "vtlocal up failed:"; tail -15 "$WORK/vtlocal.log" >&2; exit 1; }
log "preparing sbtest1 in commerce and in customer"
sb oltp_read_only $COMMERCE_PRIMARY_PORT vt_commerce prepare >"$WORK/prepare-commerce.log" 2>&1
sbtest_in_customer "$BIN/vtctl" $ETCD $VTGATE_PORT

# Restarts this cluster's process NAME (its pid file under the dataroot: vtgate,
# vttablet-100) under callgrind, with its own arguments, working directory and one tokio
# worker; sets VG_PID. The pid file, not a pattern, so another cluster on this machine is
# never touched.
under_callgrind() {
    local name=$1 pid cwd
    pid=$(cat "$DATAROOT/pids/$name.pid" 2>/dev/null || true)
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || { log "$name is not running"; exit 1; }
    mapfile -d '' -t args <"/proc/$pid/cmdline"
    cwd=$(readlink "/proc/$pid/cwd")
    kill "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
    (cd "$cwd" && exec env TOKIO_WORKER_THREADS=1 valgrind --tool=callgrind \
        --callgrind-out-file="$WORK/${name%%-*}.%p" "${args[@]}") >"$WORK/$name.valgrind.log" 2>&1 &
    VG_PID=$!
    VG_PIDS+=("$VG_PID")
}

# Waits until a point select through vtgate on DB works (the restarted process serves).
wait_serving() {
    for _ in $(seq 120); do
        if mariadb -h 127.0.0.1 -P $VTGATE_PORT -u root -e "select c from $1.sbtest1 where id = 1" \
            >/dev/null 2>&1; then return; fi
        sleep 1
    done
    log "vtgate does not serve $1 under callgrind"; exit 1
}

# Prints the instructions per query of process PID for N point selects on DB in MODE.
count() {
    local pid=$1 db=$2 mode=$3
    sb oltp_point_select $VTGATE_PORT "$db" --threads=1 --events=300 --time=0 \
        --db-ps-mode="$mode" run >/dev/null
    callgrind_control -z "$pid" >/dev/null 2>&1
    sb oltp_point_select $VTGATE_PORT "$db" --threads=1 --events="$N" --time=0 \
        --db-ps-mode="$mode" run >"$WORK/run-$db-$mode.log"
    touch "$WORK/mark"
    callgrind_control -d "$pid" >/dev/null 2>&1
    local file=
    for _ in $(seq 100); do
        file=$(find "$WORK" -name "*.$pid.*" -newer "$WORK/mark" | head -1)
        [[ -n $file ]] && break
        sleep 0.1
    done
    [[ -n $file ]] || { log "callgrind wrote no dump for $pid"; exit 1; }
    sleep 0.5 # let callgrind finish writing it
    awk -v n="$N" '/^summary:/ { printf "%.1fk", $2 / n / 1000 }' "$file"
}

echo "| process | keyspace | protocol | instructions per point select |"
echo "|---|---|---|---|"
log "vtgate under callgrind"
under_callgrind vtgate
wait_serving commerce
for db in commerce customer; do
    for mode in disable auto; do
        protocol=text; [[ $mode == auto ]] && protocol=prepared
        per_query=$(count "$VG_PID" "$db" "$mode")
        echo "| vtgate | $db | $protocol | $per_query |"
    done
done
log "commerce's primary tablet under callgrind"
under_callgrind vttablet-100
wait_serving commerce
per_query=$(count "$VG_PID" commerce disable)
echo "| vttablet (commerce primary) | commerce | text | $per_query |"
if [[ -n ${KEEP:-} ]]; then log "callgrind files kept in $WORK"; fi
