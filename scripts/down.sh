#!/usr/bin/env bash
# Stops the local cluster that scripts/up.sh started (and nothing else).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vtgate-rs/target}"
exec "$CARGO_TARGET_DIR/release/vtlocal" --dataroot "${VTDATAROOT:-$PWD/vtdataroot}" down
