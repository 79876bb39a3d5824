#!/bin/bash
# Starts vttablet in a tablet pod once the mariadb container next to it accepts connections.
# vttablet talks to its MariaDB over the shared socket; the Tablet record advertises the pod's
# DNS name and port 3306, which is where the shard's replicas replicate from.
# Env: POD_NAME, POD_NAMESPACE, CELL, KEYSPACE, SHARD, TABLET_TYPE, TOPO_GLOBAL_SERVER_ADDRESS,
# VT_DB_PASSWORD (read by vttablet itself), VT_REPL_PASSWORD. The rest only to run it outside a
# pod (k8s/tools/smoke.py): VTDATAROOT, TABLET_HOSTNAME, MYSQL_SOCKET, MYSQL_PORT,
# VTTABLET_PORT, VTTABLET_GRPC_PORT, VTTABLET_BIND_ADDRESS.
set -euo pipefail

uid=$(cat "${VTDATAROOT:-/vtdataroot}/tabletdata/tablet-uid")
alias=$(printf '%s-%010d' "$CELL" "$uid")
host="${TABLET_HOSTNAME:-$POD_NAME.vttablet.$POD_NAMESPACE.svc}"
mysql_port="${MYSQL_PORT:-3306}"

# The mariadb image opens TCP only after its first-start initialisation is over.
until (exec 3<>"/dev/tcp/127.0.0.1/$mysql_port") 2>/dev/null; do
    echo "vttablet-start: waiting for MariaDB"
    sleep 2
done

exec vttablet \
    --topo-implementation=etcd2 \
    --topo-global-server-address="$TOPO_GLOBAL_SERVER_ADDRESS" \
    --topo-global-root=/vitess/global \
    --tablet-path="$alias" \
    --tablet-hostname="$host" \
    --init-keyspace="$KEYSPACE" \
    --init-shard="$SHARD" \
    --init-tablet-type="$TABLET_TYPE" \
    --port="${VTTABLET_PORT:-15002}" \
    --grpc-port="${VTTABLET_GRPC_PORT:-16002}" \
    --bind-address="${VTTABLET_BIND_ADDRESS:-0.0.0.0}" \
    --db-socket="${MYSQL_SOCKET:-/run/mysqld/mysqld.sock}" \
    --db-host="$host" \
    --db-port="$mysql_port" \
    --db-user=root \
    --db-repl-user=vt_repl \
    --db-repl-password="$VT_REPL_PASSWORD" \
    --health-check-interval=5s \
    --service-map=grpc-queryservice,grpc-tabletmanager,grpc-updatestream
