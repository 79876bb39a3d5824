#!/usr/bin/env bash
# Installs what the client matrix (run_matrix.py) and the sysbench benchmark need on a
# Debian 12 machine, as root. Idempotent: each step checks before it installs.
# Quiet unless something fails; exits non-zero on failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

run() {
    if ! "$@" >>"$log" 2>&1; then
        echo "install.sh: failed: $*" >&2
        tail -n 40 "$log" >&2
        exit 1
    fi
}

# --- Debian packages -------------------------------------------------------
need_apt=()
command -v mariadb >/dev/null 2>&1 || need_apt+=(mariadb-client)
command -v sysbench >/dev/null 2>&1 || need_apt+=(sysbench)
command -v pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
command -v gcc >/dev/null 2>&1 || need_apt+=(gcc)
dpkg -s libmariadb-dev >/dev/null 2>&1 || need_apt+=(libmariadb-dev)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
if [ "${#need_apt[@]}" -gt 0 ]; then
    run apt-get update -qq
    run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

# --- Python drivers (pinned) ------------------------------------------------
python="${PYTHON:-python3}"
if ! "$python" - "$here/requirements.txt" >/dev/null 2>&1 <<'PY'
import sys
from importlib.metadata import version
for line in open(sys.argv[1]):
    line = line.split("#")[0].strip()
    if not line:
        continue
    name, want = line.split("==")
    if version(name) != want:
        sys.exit(1)
import pymysql, mysql.connector, MySQLdb  # noqa: F401  (import must work too)
from mysql.connector import HAVE_CEXT
sys.exit(0 if HAVE_CEXT else 1)
PY
then
    run "$python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"
fi

# --- Node mysql2 (pinned by package-lock.json) -----------------------------
node_dir="$here/node"
if ! (cd "$node_dir" && node -e 'if (require("mysql2/package.json").version !== require("./package-lock.json").packages["node_modules/mysql2"].version) process.exit(1)') >/dev/null 2>&1; then
    run bash -c "cd '$node_dir' && npm ci --no-audit --no-fund --loglevel=error"
fi
