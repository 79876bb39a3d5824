#!/usr/bin/env bash
# Runs every test of vtgate-rs: unit tests, real-process integration tests (etcd, mariadbd,
# vttablet, vtgate) and the client matrix. Installs what is missing first (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/target-dir.sh
. scripts/target-dir.sh
export CARGO_TERM_COLOR=never

scripts/setup.sh

# The shared MariaDB on 127.0.0.1:3306 is the differential reference for many tests.
if ! mariadb -h 127.0.0.1 -P 3306 -u root -e 'select 1' >/dev/null 2>&1; then
    echo "test: starting the machine's MariaDB on 127.0.0.1:3306"
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
    for _ in $(seq 1 60); do
        mariadb -h 127.0.0.1 -P 3306 -u root -e 'select 1' >/dev/null 2>&1 && break
        sleep 0.5
    done
fi

# Binaries and examples the integration tests start as real processes.
cargo build --workspace --bins --examples
status=0
cargo test --workspace --no-fail-fast || status=$?
# Kubernetes manifests and Dockerfile, offline, against the binaries just built.
scripts/check-k8s.sh || status=$?
exit $status
