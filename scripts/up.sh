#!/usr/bin/env bash
# Brings up the local example cluster (Vitess's examples/local "commerce"): etcd, three MariaDB
# instances with their tablets (commerce/0: primary, replica, rdonly) and vtgate on port 15306.
# Installs what is missing first, builds the binaries, then runs `vtlocal up --detach`.
# Stop it with: scripts/down.sh (or `vtlocal down --dataroot vtdataroot`).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/target-dir.sh
. scripts/target-dir.sh

scripts/setup.sh
cargo build --release --bins
exec "$CARGO_TARGET_DIR/release/vtlocal" --dataroot "${VTDATAROOT:-$PWD/vtdataroot}" up --detach "$@"
