#!/bin/bash
# Init step of a tablet pod (image vtgate-rs). Derives a stable tablet uid from the pod's
# StatefulSet ordinal (TABLET_UID_BASE + ordinal), records it on the data volume, writes the
# MariaDB settings the tablet needs (server-id, GTID binlog) for the mariadb container, and
# registers the cell in the topology (idempotent).
# Env: POD_NAME, POD_NAMESPACE, CELL, TABLET_UID_BASE, TOPO_GLOBAL_SERVER_ADDRESS; VTDATAROOT and
# MYSQL_CONF_DIR only to run it outside a pod (k8s/tools/smoke.py).
set -euo pipefail
vtdataroot="${VTDATAROOT:-/vtdataroot}"
conf_dir="${MYSQL_CONF_DIR:-/mysql-conf}"

ordinal="${POD_NAME##*-}"
case "$ordinal" in
    '' | *[!0-9]*) echo "init-tablet: pod name $POD_NAME has no ordinal" >&2; exit 1 ;;
esac
uid=$((TABLET_UID_BASE + ordinal))
uid10=$(printf '%010d' "$uid")

mkdir -p "$vtdataroot/tabletdata"
# The mariadb container (uid 999, group 999 = the pod's fsGroup) owns its data directory.
if [ ! -d "$vtdataroot/mysql" ]; then
    mkdir -m 2770 "$vtdataroot/mysql"
fi
previous=$(cat "$vtdataroot/tabletdata/tablet-uid" 2>/dev/null || true)
if [ -n "$previous" ] && [ "$previous" != "$uid" ]; then
    echo "init-tablet: volume belongs to tablet uid $previous, not $uid" >&2
    exit 1
fi
echo "$uid" > "$vtdataroot/tabletdata/tablet-uid"

cat > "$conf_dir/vitess.cnf" <<CNF
# Written by init-tablet.sh for tablet $CELL-$uid10.
[mysqld]
server-id = $uid
port = 3306
bind-address = 0.0.0.0
socket = /run/mysqld/mysqld.sock
skip-name-resolve = ON
report-host = $POD_NAME.vttablet.$POD_NAMESPACE.svc
report-port = 3306
log-bin = vt-$uid10-bin
relay-log = vt-$uid10-relay-bin
binlog_format = ROW
binlog_row_image = FULL
binlog_row_metadata = FULL
log_slave_updates = ON
gtid_strict_mode = ON
gtid_domain_id = 0
skip-slave-start = ON
character-set-server = utf8mb4
collation-server = utf8mb4_general_ci
max_allowed_packet = 64M
max_connections = 300
CNF

vtctl --topo-implementation=etcd2 --topo-global-server-address="$TOPO_GLOBAL_SERVER_ADDRESS" \
    --topo-global-root=/vitess/global \
    AddCellInfo --root "/vitess/$CELL" --server-address "$TOPO_GLOBAL_SERVER_ADDRESS" "$CELL"
echo "init-tablet: $POD_NAME is tablet $CELL-$uid10"
