#!/usr/bin/env bash
# Connects the mysql client to vtgate through its NodePort Service, like Vitess's kmysql.sh.
# Usage: ./kmysql.sh [mysql options...]      e.g.  ./kmysql.sh --table < ../config/select_commerce_data.sql
# Env: NAMESPACE (default vitess), VTGATE_SERVICE (default vtgate-zone1), NODE_HOST (default: the
# first node's InternalIP), MYSQL_USER (default user, from the vtgate-users Secret), MYSQL_PWD.
set -euo pipefail

namespace="${NAMESPACE:-vitess}"
service="${VTGATE_SERVICE:-vtgate-zone1}"

port=$(kubectl get service "$service" -n "$namespace" \
    -o jsonpath='{.spec.ports[?(@.name=="mysql")].nodePort}')
if [ -z "$port" ]; then
    echo "kmysql: service $namespace/$service has no mysql NodePort" >&2
    exit 1
fi
host="${NODE_HOST:-$(kubectl get nodes \
    -o jsonpath='{.items[0].status.addresses[?(@.type=="InternalIP")].address}')}"
if [ -z "$host" ]; then
    echo "kmysql: no node address found; set NODE_HOST" >&2
    exit 1
fi

client=mysql
command -v "$client" >/dev/null 2>&1 || client=mariadb
exec "$client" --no-defaults -h "$host" -P "$port" -u "${MYSQL_USER:-user}" --binary-as-hex=false "$@"
