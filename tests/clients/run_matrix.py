#!/usr/bin/env python3
"""Runs every client driver against MariaDB directly and through a server under test, and
diffs what the drivers handed back.

Each driver (py_client.py for the Python drivers, node/client.js for mysql2) prints one canonical
JSON document of every value, type, column description and error it saw. The fixture
(fixture.sql) is applied afresh, through MariaDB directly, before each run, so both runs see the
same data. Exit status 0 means every driver saw exactly the same thing through the server under
test as directly; otherwise the differing paths are printed.

Usage: run_matrix.py --port P [--direct-port 3306] [--db NAME] [--server-db NAME]
                     [--drivers pymysql,connector-prepared,...]
--server-db is the database name to give the server under test when it differs from the
database it ends up in (vtgate: a keyspace name).
"""

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PY_DRIVERS = ["pymysql", "connector-pure", "connector-cext", "connector-prepared",
              "connector-pure-prepared", "mysqldb"]
NODE_DRIVERS = ["mysql2-query", "mysql2-execute"]


def mariadb(port, sql, db=None):
    cmd = ["mariadb", "-h", "127.0.0.1", "-P", str(port), "-u", "root"]
    if db:
        cmd.append(db)
    subprocess.run(cmd, input=sql, text=True, check=True, capture_output=True)


def run_driver(driver, port, db):
    if driver.startswith("mysql2-"):
        mode = driver.split("-", 1)[1]
        cmd = ["node", os.path.join(HERE, "node", "client.js"), "--mode", mode,
               "--port", str(port), "--db", db]
    else:
        cmd = [sys.executable, os.path.join(HERE, "py_client.py"), "--driver", driver,
               "--port", str(port), "--db", db]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        return {"crashed": proc.returncode, "stderr": proc.stderr[-2000:]}
    return json.loads(proc.stdout)


# Error-message keys of the drivers' JSON; vtgate wraps the tablet's MySQL message in its own
# context (`target: ks.shard.type: vttablet: ...`), so with --wrapped-errors the direct message only
# has to appear inside the server's.
MESSAGE_KEYS = {"msg", "message"}
WRAPPED_ERRORS = False


def diff(a, b, path="", out=None):
    out = [] if out is None else out
    if WRAPPED_ERRORS and path.rsplit("/", 1)[-1] in MESSAGE_KEYS and isinstance(a, str) and isinstance(b, str):
        if a not in b:
            out.append(f"{path}: direct message {a!r} not within server message {b!r}")
        return out
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            diff(a.get(key, "<missing>"), b.get(key, "<missing>"), f"{path}/{key}", out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            diff(x, y, f"{path}[{i}]", out)
    elif a != b:
        out.append(f"{path}: direct={json.dumps(a, ensure_ascii=False)[:300]} "
                   f"server={json.dumps(b, ensure_ascii=False)[:300]}")
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True, help="port of the server under test")
    parser.add_argument("--direct-port", type=int, default=3306)
    parser.add_argument("--db", default=f"client_matrix_{os.getpid()}")
    parser.add_argument("--server-db", help="database name to use through the server under test")
    parser.add_argument("--drivers", default=",".join(PY_DRIVERS + NODE_DRIVERS))
    parser.add_argument("--keep-db", action="store_true", help="the caller creates and drops --db")
    parser.add_argument("--wrapped-errors", action="store_true",
                        help="error messages may be wrapped in server context (vtgate)")
    args = parser.parse_args()
    global WRAPPED_ERRORS
    WRAPPED_ERRORS = args.wrapped_errors

    fixture = open(os.path.join(HERE, "fixture.sql")).read()
    if not args.keep_db:
        mariadb(args.direct_port, f"DROP DATABASE IF EXISTS `{args.db}`; CREATE DATABASE `{args.db}`")
    failures = 0
    try:
        for driver in args.drivers.split(","):
            mariadb(args.direct_port, fixture, args.db)
            direct = run_driver(driver, args.direct_port, args.db)
            mariadb(args.direct_port, fixture, args.db)
            through = run_driver(driver, args.port, args.server_db or args.db)
            problems = diff(direct, through)
            if "crashed" in direct:
                problems.insert(0, f"driver failed against MariaDB directly: {direct['stderr']}")
            status = "ok" if not problems else f"{len(problems)} differences"
            print(f"{driver}: {status}")
            for p in problems[:40]:
                print(f"  {p}")
            failures += bool(problems)
    finally:
        if not args.keep_db:
            mariadb(args.direct_port, f"DROP DATABASE IF EXISTS `{args.db}`")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
