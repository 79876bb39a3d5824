#!/bin/bash
# Usage: wait-for-primary.sh <keyspace> <shard>...
# Waits until each named shard of <keyspace> has a primary tablet.
# Env: TOPO_GLOBAL_SERVER_ADDRESS.
set -uo pipefail
keyspace="$1"
shift
for shard in "$@"; do
    until vtctl --topo-implementation=etcd2 --topo-global-server-address="$TOPO_GLOBAL_SERVER_ADDRESS" \
        --topo-global-root=/vitess/global \
        GetTablets --keyspace "$keyspace" --shard "$shard" | awk '$4 == "primary" { found = 1 } END { exit !found }'; do
        echo "wait-for-primary: $keyspace/$shard has no primary yet"
        sleep 5
    done
done
