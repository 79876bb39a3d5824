#!/bin/bash
# Usage: wait-for-tablets.sh <keyspace> <shard> <count>
# Waits until <count> tablets of <keyspace>/<shard> are registered in the topology.
# Env: TOPO_GLOBAL_SERVER_ADDRESS.
set -uo pipefail
keyspace="$1" shard="$2" want="$3"
while true; do
    have=$(vtctl --topo-implementation=etcd2 --topo-global-server-address="$TOPO_GLOBAL_SERVER_ADDRESS" \
        --topo-global-root=/vitess/global \
        GetTablets --keyspace "$keyspace" --shard "$shard" | grep -c .)
    if [ "${have:-0}" -ge "$want" ]; then
        exit 0
    fi
    echo "wait-for-tablets: $keyspace/$shard has ${have:-0} of $want tablets"
    sleep 5
done
