#!/usr/bin/env bash
# sysbench oltp_point_select and oltp_read_only, threads 1 and 16, text protocol
# (--db-ps-mode=disable) and prepared (--db-ps-mode=auto), against four paths in ONE run:
#   direct       MariaDB on 127.0.0.1:3306
#   relay        a do-nothing tokio byte relay in front of it (benches/src/bin/relay.rs)
#   passthrough  mysql-server's passthrough example (the crate + a mysql_async backend)
#   vtgate       vtgate -> vttablet -> MariaDB of a local cluster (vtlocal, port offset 20000)
#   vtgate-sharded  the same vtgate, table sbtest1 in keyspace customer sharded -80/80- by xxhash(id)
#                (the cluster is then `vtlocal up --example sharded`; the unsharded path stays commerce)
#   mysqld-1     controls for the two above, without vtgate or tablets: sysbench straight to the
#   mysqld-2     commerce primary's MariaDB, or spread over the two customer primaries' MariaDBs
#                (each holding all of sbtest1), so mysqld-2 / mysqld-1 is what this machine
#                charges for serving one load from two MariaDBs instead of one
#   vtgate-2-pairs  the same vtgate and commerce, read by two sysbench processes of half the
#                threads each, at `commerce@primary` and `commerce@replica`: two tablet + MariaDB
#                pairs on the unsharded pass-through path, the control for vtgate-sharded (not
#                run at 1 thread, which cannot be split)
# For each (test, threads, mode) the four paths run back to back (interleaved), ROUNDS times,
# so each ratio to "direct" compares runs made minutes apart at most.
#
# Usage: benches/sysbench.sh            (from anywhere; builds release binaries first)
# Env:   DURATION=10 (s per run)  ROUNDS=1  TABLE_SIZE=10000  SKIP_BUILD=1
#        TARGETS="direct relay passthrough vtgate" (add vtgate-sharded for the 2-shard path)
#        TESTS="oltp_point_select oltp_read_only"
#        CARGO_TARGET_DIR (default: scripts/target-dir.sh)  MYSQL_PORT=3306
# Output: a markdown table on stdout; raw sysbench logs and results.tsv under $WORK (printed).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/target-dir.sh
TARGET_DIR=$(cd "$ROOT" && . scripts/target-dir.sh && echo "$CARGO_TARGET_DIR")
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-1}
TABLE_SIZE=${TABLE_SIZE:-10000}
MYSQL_PORT=${MYSQL_PORT:-3306}
TARGETS=${TARGETS:-direct relay passthrough vtgate}
TESTS=${TESTS:-oltp_point_select oltp_read_only}
VTGATE_PORT=35306
VT_PRIMARY_PORT=37100
# The customer primaries' MariaDBs in the sharded example (uids 200 and 300).
SHARD_PRIMARY_PORTS=(37200 37300)
DB=sbtest_bench_$$
WORK=$(mktemp -d /tmp/vt-sysbench.XXXXXX)
PIDS=()
VTLOCAL_UP=0

log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }

cleanup() {
    set +e
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    if [[ $VTLOCAL_UP == 1 ]]; then
        (cd "$ROOT" && "$TARGET_DIR/release/vtlocal" --dataroot "$WORK/vtdataroot" --port-offset 20000 down) \
            >>"$WORK/vtlocal.log" 2>&1
        rm -rf "$WORK/vtdataroot"
    fi
    mariadb -h 127.0.0.1 -P "$MYSQL_PORT" -u root -e "DROP DATABASE IF EXISTS $DB" 2>/dev/null
}
trap cleanup EXIT

# Starts a binary that prints "listening on 127.0.0.1:PORT"; sets LISTEN_PORT.
start_listener() {
    local name=$1; shift
    "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
    PIDS+=($!)
    for _ in $(seq 100); do
        if grep -q '^listening on ' "$WORK/$name.out"; then
            LISTEN_PORT=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$WORK/$name.out" | head -1)
            return
        fi
        sleep 0.1
    done
    log "$name did not start: $(cat "$WORK/$name.err")"
    exit 1
}

# shellcheck source=benches/sbtest.sh
. "$ROOT/benches/sbtest.sh"

# p50 and p95 (ms) from sysbench's --histogram output.
percentiles() {
    awk '/Latency histogram/ {h=1; next}
         h && /\|/ { v[n]=$1; c[n]=$NF; t+=$NF; n++ }
         h && /^$/ && n { h=0 }
         END { a=0; p50=""; p95="";
               for (i=0;i<n;i++) { a+=c[i];
                   if (p50=="" && a>=0.50*t) p50=v[i];
                   if (p95=="" && a>=0.95*t) p95=v[i] }
               printf "%s %s\n", p50, p95 }' "$1"
}

if [[ -z ${SKIP_BUILD:-} ]]; then
    log "building release binaries (cargo build --release --bins --examples)"
    (cd "$ROOT" && CARGO_TARGET_DIR=$TARGET_DIR cargo build --release --bins --examples)
fi

# Brings up the local cluster (port offset 20000); with vtgate-sharded among the targets, the
# sharded example (commerce plus customer -80/80-).
start_cluster() {
    local example=commerce
    [[ " $TARGETS " == *" vtgate-sharded "* || " $TARGETS " == *" mysqld-2 "* ]] && example=sharded
    # Ports shifted by 20000 lie in Linux's ephemeral range: a client socket (even in
    # TIME-WAIT) on one of them makes mariadbd's bind fail, so wait until they are clear.
    for _ in $(seq 120); do
        ss -tanH | awk '{print $4}' | grep -qE ':(37100|37101|37102|35306|35001|22379|22380|3510[0-2]|3610[0-2])$' || break
        sleep 1
    done
    log "starting the local cluster (vtlocal, port offset 20000) in $WORK/vtdataroot"
    VTLOCAL_UP=1
    (cd "$ROOT" && "$TARGET_DIR/release/vtlocal" --dataroot "$WORK/vtdataroot" --port-offset 20000 \
        up --detach --example "$example" --config-dir config) >"$WORK/vtlocal.log" 2>&1 ||
        { log "vtlocal up failed:"; grep -v '^ ' "$WORK/vtlocal.log" | tail -15 >&2; exit 1; }
}

declare -A PORT DBNAME
for t in $TARGETS; do
    case $t in
    direct) PORT[direct]=$MYSQL_PORT; DBNAME[direct]=$DB ;;
    relay)
        start_listener relay "$TARGET_DIR/release/relay" --port 0 --backend-port "$MYSQL_PORT"
        PORT[relay]=$LISTEN_PORT; DBNAME[relay]=$DB ;;
    passthrough)
        start_listener passthrough "$TARGET_DIR/release/examples/passthrough" \
            --port 0 --backend-port "$MYSQL_PORT" --mysql-auth-server-impl none
        PORT[passthrough]=$LISTEN_PORT; DBNAME[passthrough]=$DB ;;
    vtgate-2-pairs)
        if [[ $VTLOCAL_UP == 0 ]]; then start_cluster; fi
        [[ " $TARGETS " == *" vtgate "* ]] ||
            { log "vtgate-2-pairs reads the sbtest1 that target vtgate prepares: list vtgate first"; exit 1; }
        PORT[vtgate-2-pairs]=$VTGATE_PORT; DBNAME[vtgate-2-pairs]=commerce ;;
    vtgate | vtgate-sharded)
        if [[ $VTLOCAL_UP == 0 ]]; then start_cluster; fi
        if [[ $t == vtgate ]]; then
            PORT[vtgate]=$VTGATE_PORT; DBNAME[vtgate]=commerce
            log "preparing sbtest1 in vt_commerce through the primary's MariaDB ($VT_PRIMARY_PORT)"
            sb oltp_read_only $VT_PRIMARY_PORT vt_commerce prepare >"$WORK/prepare-vtgate.log" 2>&1
        else
            PORT[vtgate-sharded]=$VTGATE_PORT; DBNAME[vtgate-sharded]=customer
            log "adding sbtest1 (xxhash on id) to customer's VSchema; preparing it through vtgate"
            sbtest_in_customer "$TARGET_DIR/release/vtctl" 127.0.0.1:22379 $VTGATE_PORT
        fi ;;
    mysqld-1)
        if [[ $VTLOCAL_UP == 0 ]]; then start_cluster; fi
        PORT[mysqld-1]=$VT_PRIMARY_PORT; DBNAME[mysqld-1]=$DB
        log "preparing $DB on the commerce primary's MariaDB ($VT_PRIMARY_PORT)"
        mariadb -h 127.0.0.1 -P "$VT_PRIMARY_PORT" -u root -e "CREATE DATABASE $DB"
        sb oltp_read_only "$VT_PRIMARY_PORT" "$DB" prepare >"$WORK/prepare-mysqld-1.log" 2>&1 ;;
    mysqld-2)
        if [[ $VTLOCAL_UP == 0 ]]; then start_cluster; fi
        PORT[mysqld-2]=$(IFS=,; echo "${SHARD_PRIMARY_PORTS[*]}"); DBNAME[mysqld-2]=$DB
        for p in "${SHARD_PRIMARY_PORTS[@]}"; do
            log "preparing $DB on a customer primary's MariaDB ($p)"
            mariadb -h 127.0.0.1 -P "$p" -u root -e "CREATE DATABASE $DB"
            sb oltp_read_only "$p" "$DB" prepare >"$WORK/prepare-mysqld-2-$p.log" 2>&1
        done ;;
    *) log "unknown target $t"; exit 1 ;;
    esac
done
log "preparing $DB on 127.0.0.1:$MYSQL_PORT ($TABLE_SIZE rows)"
mariadb -h 127.0.0.1 -P "$MYSQL_PORT" -u root -e "CREATE DATABASE $DB"
sb oltp_read_only "$MYSQL_PORT" "$DB" prepare >"$WORK/prepare-direct.log" 2>&1

# vtgate-2-pairs: two sysbench processes of THREADS/2 each at commerce@primary and
# commerce@replica; writes "qps<TAB>p50<TAB>p95" (QPS summed, percentiles averaged) to OUT.
two_pairs() {
    local test=$1 threads=$2 mode=$3 out=$4 pids=() target
    for target in primary replica; do
        sb "$test" "$VTGATE_PORT" "commerce@$target" --threads=$((threads / 2)) --time="$DURATION" \
            --db-ps-mode="$mode" --histogram=on --percentile=95 --report-interval=0 \
            run >"$out.$target" 2>&1 &
        pids+=($!)
    done
    wait "${pids[0]}" && wait "${pids[1]}" || return 1
    local q1 q2 a1 b1 a2 b2
    q1=$(sed -n 's/^ *queries: *[0-9]* *(\([0-9.]*\) per sec.)/\1/p' "$out.primary")
    q2=$(sed -n 's/^ *queries: *[0-9]* *(\([0-9.]*\) per sec.)/\1/p' "$out.replica")
    read -r a1 b1 < <(percentiles "$out.primary")
    read -r a2 b2 < <(percentiles "$out.replica")
    awk -v q1="$q1" -v q2="$q2" -v a1="$a1" -v a2="$a2" -v b1="$b1" -v b2="$b2" \
        'BEGIN { printf "%.2f\t%.3f\t%.3f\n", q1 + q2, (a1 + a2) / 2, (b1 + b2) / 2 }' >"$out"
}

RESULTS=$WORK/results.tsv
printf 'test\tthreads\tps_mode\ttarget\tround\tqps\tp50_ms\tp95_ms\n' >"$RESULTS"
for test in $TESTS; do
    for threads in 1 16; do
        for mode in disable auto; do
            for round in $(seq "$ROUNDS"); do
                for t in $TARGETS; do
                    out="$WORK/$test-$threads-$mode-$t-$round.log"
                    if [[ $t == vtgate-2-pairs ]]; then
                        [[ $threads -gt 1 ]] || continue
                        log "$test threads=$threads ps=$mode $t (round $round)"
                        two_pairs "$test" "$threads" "$mode" "$out" || {
                            log "FAILED, see $out.*"
                            printf '%s\t%s\t%s\t%s\t%s\tfail\t\t\n' "$test" "$threads" "$mode" "$t" "$round" >>"$RESULTS"
                            continue
                        }
                        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$test" "$threads" "$mode" "$t" "$round" \
                            "$(cat "$out")" >>"$RESULTS"
                        continue
                    fi
                    log "$test threads=$threads ps=$mode $t (round $round)"
                    sb "$test" "${PORT[$t]}" "${DBNAME[$t]}" --threads="$threads" --time="$DURATION" \
                        --db-ps-mode="$mode" --histogram=on --percentile=95 --report-interval=0 \
                        run >"$out" 2>&1 || {
                        log "FAILED, see $out"; tail -2 "$out" >&2
                        printf '%s\t%s\t%s\t%s\t%s\tfail\t\t\n' "$test" "$threads" "$mode" "$t" "$round" >>"$RESULTS"
                        continue
                    }
                    qps=$(sed -n 's/^ *queries: *[0-9]* *(\([0-9.]*\) per sec.)/\1/p' "$out")
                    read -r p50 p95 < <(percentiles "$out")
                    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$test" "$threads" "$mode" "$t" "$round" \
                        "$qps" "$p50" "$p95" >>"$RESULTS"
                done
            done
        done
    done
done

# Mean over rounds; ratio of QPS and p50 difference against "direct" of the same configuration.
echo "| test | threads | ps-mode | path | QPS | ratio to direct | p50 ms | p95 ms | p50 added (µs) |"
echo "|---|---|---|---|---|---|---|---|---|"
awk -F'\t' 'NR>1 { k=$1 FS $2 FS $3 FS $4; if (!(k in seen)) { seen[k]=1; order[m++]=k }
                   if ($6 == "fail") { failed[k]=1; next }
                   q[k]+=$6; a[k]+=$7; b[k]+=$8; n[k]++ }
    END { for (i=0;i<m;i++) { k=order[i]; split(k,f,FS); d=f[1] FS f[2] FS f[3] FS "direct";
              if (!(k in n)) { printf "| %s | %s | %s | %s | fails | - | - | - | - |\n", f[1], f[2], f[3], f[4]; continue }
              note = (k in failed) ? " (some rounds failed)" : "";
              qk=q[k]/n[k]; p5=a[k]/n[k]; p9=b[k]/n[k];
              ratio = (d in q) ? sprintf("%.2f", qk/(q[d]/n[d])) : "-";
              added = (d in q) ? sprintf("%+.0f", 1000*(p5-a[d]/n[d])) : "-";
              printf "| %s | %s | %s | %s | %.0f%s | %s | %.3f | %.3f | %s |\n",
                     f[1], f[2], f[3], f[4], qk, note, ratio, p5, p9, added } }' "$RESULTS"
log "raw logs and results.tsv in $WORK (kept)"
trap - EXIT
cleanup
