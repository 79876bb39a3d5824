# Sourced by benches/sysbench.sh and benches/callgrind.sh: sysbench's one table, sbtest1, in
# the places both benchmarks put it. Needs TABLE_SIZE, WORK and ROOT set by the caller.

# sb TEST PORT DB [args...]: one sysbench command against 127.0.0.1:PORT as root.
sb() {
    local test=$1 port=$2 db=$3; shift 3
    sysbench "$test" --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port="$port" \
        --mysql-user=root --mysql-password= --mysql-db="$db" \
        --tables=1 --table-size="$TABLE_SIZE" "$@"
}

# sbtest_in_customer VTCTL TOPO VTGATE_PORT: adds sbtest1 (xxhash on id) to the sharded
# `customer` keyspace's VSchema and fills it through vtgate.
sbtest_in_customer() {
    local vtctl=$1 topo=$2 vtgate_port=$3
    python3 -c 'import json, sys
v = json.load(open(sys.argv[1]))
v["tables"]["sbtest1"] = {"column_vindexes": [{"column": "id", "name": "xxhash"}]}
json.dump(v, sys.stdout)' "$ROOT/config/vschema_customer_sharded.json" >"$WORK/vschema_customer_sbtest.json"
    "$vtctl" --topo-server "$topo" ApplyVSchema \
        --vschema-file "$WORK/vschema_customer_sbtest.json" customer >>"$WORK/vtlocal.log" 2>&1
    sleep 2 # vtgate picks the new SrvVSchema up from its watch
    # Explicit ids (--auto_inc=off): the sharded table has no sequence.
    sb oltp_read_only "$vtgate_port" customer --auto_inc=off prepare \
        >"$WORK/prepare-vtgate-sharded.log" 2>&1
}
