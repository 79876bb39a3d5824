#!/usr/bin/env bash
# Stops the local cluster that scripts/up.sh started (and nothing else).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/target-dir.sh
. scripts/target-dir.sh
exec "$CARGO_TARGET_DIR/release/vtlocal" --dataroot "${VTDATAROOT:-$PWD/vtdataroot}" down
