#!/bin/bash
# preStop of vttablet: when this tablet is its shard's primary, hand the role to another
# replica-type tablet of the shard before the pod stops. Failures are logged, not fatal:
# Kubernetes stops the pod either way.
# Env: CELL, KEYSPACE, SHARD, TOPO_GLOBAL_SERVER_ADDRESS (VTDATAROOT outside a pod).
set -uo pipefail

uid=$(cat "${VTDATAROOT:-/vtdataroot}/tabletdata/tablet-uid")
alias=$(printf '%s-%010d' "$CELL" "$uid")
# GetTablets prints: alias keyspace shard type vt-address mysql-address tags term-start.
tablets=$(vtctl --topo-implementation=etcd2 --topo-global-server-address="$TOPO_GLOBAL_SERVER_ADDRESS" \
    --topo-global-root=/vitess/global \
    GetTablets --keyspace "$KEYSPACE" --shard "$SHARD") || exit 0
# (Pipes, not here-strings: the root filesystem is read-only.)
own_type=$(printf '%s\n' "$tablets" | awk -v a="$alias" '$1 == a { print $4 }')
if [ "$own_type" != "primary" ]; then
    exit 0
fi
candidate=$(printf '%s\n' "$tablets" | awk -v a="$alias" '$1 != a && $4 == "replica" { print $1; exit }')
if [ -z "$candidate" ]; then
    echo "vttablet-prestop: $alias is primary of $KEYSPACE/$SHARD and no replica can take over" >&2
    exit 0
fi
vtctl --topo-implementation=etcd2 --topo-global-server-address="$TOPO_GLOBAL_SERVER_ADDRESS" \
    --topo-global-root=/vitess/global \
    PlannedReparentShard --new-primary "$candidate" "$KEYSPACE/$SHARD" \
    || echo "vttablet-prestop: handing $KEYSPACE/$SHARD to $candidate failed" >&2
