#!/usr/bin/env bash
# MoveTables copy throughput and write-switch time (issue 5), on a local cluster (vtlocal, port
# offset 20000, release binaries):
#   1. ROWS customers (default 1,000,000) are written straight into commerce's primary MariaDB;
#   2. `vtlocal add-shard customer/0`, then `MoveTables create` for customer;
#   3. copy time: from `create` until the target's _vt.copy_state is empty and its stream runs;
#   4. lag: while sysbench oltp_insert writes RATE rows/s (default 1000) into sbtest1 on the
#      source, a marker row is inserted into customer every half second and the time until the
#      target's MariaDB has it is measured (source commit -> visible on the target);
#   5. `switchtraffic` for rdonly,replica, then for primary, each timed as a whole command.
#
# Usage: benches/movetables.sh   Env: ROWS=1000000 RATE=1000 SKIP_BUILD=1 CARGO_TARGET_DIR
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/target-dir.sh
TARGET_DIR=$(cd "$ROOT" && . scripts/target-dir.sh && echo "$CARGO_TARGET_DIR")
ROWS=${ROWS:-1000000}
RATE=${RATE:-1000}
SOURCE_PORT=37100 # commerce/0 primary's MariaDB (uid 100 + offset)
TARGET_PORT=37200 # customer/0 primary's MariaDB (uid 200 + offset)
WORK=$(mktemp -d /tmp/vt-movetables.XXXXXX)
UP=0

log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }
now() { date +%s.%N; }
vtlocal() { (cd "$ROOT" && "$TARGET_DIR/release/vtlocal" --dataroot "$WORK/vtdataroot" --port-offset 20000 "$@"); }
vtctl() { "$TARGET_DIR/release/vtctl" --topo-server 127.0.0.1:22379 "$@"; }
movetables() { vtctl MoveTables --workflow commerce2customer --target-keyspace customer "$@"; }
target_sql() { mariadb -h 127.0.0.1 -P "$TARGET_PORT" -u root -N -e "$1"; }

cleanup() {
    set +e
    if [[ $UP == 1 ]]; then vtlocal down >>"$WORK/vtlocal.log" 2>&1; fi
    rm -rf "$WORK/vtdataroot"
}
trap cleanup EXIT

if [[ -z ${SKIP_BUILD:-} ]]; then
    log "building release binaries"
    (cd "$ROOT" && CARGO_TARGET_DIR=$TARGET_DIR cargo build --release --bins)
fi

log "starting the local cluster in $WORK/vtdataroot"
UP=1
vtlocal up --detach --config-dir config >"$WORK/vtlocal.log" 2>&1 ||
    { log "vtlocal up failed"; tail -15 "$WORK/vtlocal.log" >&2; exit 1; }

log "writing $ROWS customers into commerce's primary"
mariadb -h 127.0.0.1 -P "$SOURCE_PORT" -u root vt_commerce -e \
    "insert into customer(customer_id, email)
     select seq, concat('user', seq, '@example.com') from seq_1_to_$ROWS"

sysbench oltp_insert --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port="$SOURCE_PORT" \
    --mysql-user=root --mysql-db=vt_commerce --tables=1 --table-size=1000 prepare >"$WORK/sb-prepare.log" 2>&1

log "adding customer/0"
vtlocal add-shard customer/0 >>"$WORK/vtlocal.log" 2>&1

log "MoveTables create"
start=$(now)
movetables create --source-keyspace commerce --tables customer,sbtest1 >"$WORK/create.log" 2>&1
until [[ $(target_sql "select count(*) from _vt.copy_state" 2>/dev/null) == 0 &&
         $(target_sql "select state from _vt.vreplication where workflow = 'commerce2customer'" 2>/dev/null) == Running ]]; do
    sleep 0.2
done
copied=$(now)
copy_s=$(echo "$copied - $start" | bc -l)
target_rows=$(target_sql "select count(*) from vt_customer.customer")
log "copied $target_rows rows in ${copy_s}s"
[[ $target_rows == "$ROWS" ]] || { log "target has $target_rows rows, expected $ROWS"; exit 1; }

log "lag at $RATE writes/s"
sysbench oltp_insert --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port="$SOURCE_PORT" \
    --mysql-user=root --mysql-db=vt_commerce --tables=1 --table-size=1000 --threads=4 \
    --rate="$RATE" --time=14 --report-interval=0 run >"$WORK/sb-insert.log" 2>&1 &
SB=$!
sleep 2
lags=()
for i in $(seq 20); do
    id=$((ROWS + i))
    mariadb -h 127.0.0.1 -P "$SOURCE_PORT" -u root vt_commerce -e \
        "insert into customer(customer_id, email) values ($id, 'lag')"
    sent=$(now)
    until [[ $(target_sql "select count(*) from vt_customer.customer where customer_id = $id") == 1 ]]; do
        sleep 0.005
    done
    lags+=("$(echo "$(now) - $sent" | bc -l)")
    sleep 0.5
done
wait "$SB"
log "lags (s): ${lags[*]}"
writes=$(sed -n 's/^ *write: *\([0-9]*\).*/\1/p' "$WORK/sb-insert.log")
lag_max=$(printf '%s\n' "${lags[@]}" | sort -n | tail -1)
lag_p50=$(printf '%s\n' "${lags[@]}" | sort -n | sed -n 10p)
log "sysbench wrote $writes rows; lag p50 ${lag_p50}s, max ${lag_max}s"

t0=$(now)
movetables switchtraffic --tablet-types rdonly,replica >"$WORK/switch-reads.log" 2>&1
t1=$(now)
movetables switchtraffic --tablet-types primary >"$WORK/switch-writes.log" 2>&1
t2=$(now)

printf '| rows | copy (s) | copy rows/s | lag p50 / max (s) at %s writes/s | switch reads (s) | switch writes (s) |\n' "$RATE"
printf '|---|---|---|---|---|---|\n'
printf '| %s | %.1f | %.0f | %.3f / %.3f | %.2f | %.2f |\n' "$ROWS" "$copy_s" "$(echo "$ROWS / $copy_s" | bc -l)" \
    "$lag_p50" "$lag_max" "$(echo "$t1 - $t0" | bc -l)" "$(echo "$t2 - $t1" | bc -l)"
log "logs in $WORK"
