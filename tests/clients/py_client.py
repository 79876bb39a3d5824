#!/usr/bin/env python3
"""One Python MySQL driver run through the client-matrix scenarios.

Prints one canonical JSON document describing exactly what the driver handed back
(Python type names and values, column descriptions, errors), so that run_matrix.py can
diff the output obtained through our server against the output from MariaDB directly.

Drivers: pymysql, connector-pure, connector-cext, connector-prepared (C extension with a
prepared=True cursor, i.e. the binary protocol), connector-pure-prepared, mysqldb.
"""

import argparse
import datetime
import decimal
import json
import sys

DRIVERS = (
    "pymysql",
    "connector-pure",
    "connector-cext",
    "connector-prepared",
    "connector-pure-prepared",
    "mysqldb",
)

# Parameters sent through placeholders: every Python type the drivers can bind.
PARAMS = [
    ("int_min", -(2**63)),
    ("int_max", 2**63 - 1),
    ("uint_max", 2**64 - 1),
    ("zero", 0),
    ("bool", True),
    ("decimal", decimal.Decimal("-12345.678")),
    ("float", 1.5),
    ("float_big", 3.14e300),
    ("date", datetime.date(2024, 2, 29)),
    ("datetime_us", datetime.datetime(2024, 2, 29, 12, 34, 56, 789012)),
    ("time_negative", -datetime.timedelta(hours=1, minutes=2, seconds=3, microseconds=500000)),
    ("str_emoji", "emoji \U0001F600 世界"),
    ("bytes_invalid_utf8", b"\xff\x00\xfe\x80\xc3("),
    ("none", None),
]


COLUMNS = (
    "ti tiu si siu mi miu i iu bi biu dec_small dec_wide f d dt dtm ts tm yr"
    " c vc tx vb bl j bt bt1 e st"
).split()

# Parameters a driver cannot bind without breaking its own connection state.
UNBINDABLE = {
    # the C extension's binary protocol raises SystemError on an unsigned 64-bit value
    "connector-prepared": {"uint_max"},
}


def tag(value):
    """A driver value as [python type name, canonical text]."""
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray, memoryview)):
        return [type(value).__name__, bytes(value).hex()]
    if isinstance(value, float):
        return ["float", repr(value)]
    if isinstance(value, (set, frozenset)):
        return [type(value).__name__, sorted(tag(v) for v in value)]
    if isinstance(value, (int, decimal.Decimal, str, datetime.date, datetime.time, datetime.timedelta)):
        return [type(value).__name__, str(value)]
    return [type(value).__name__, repr(value)]


def describe(description):
    if description is None:
        return None
    return [[tag(part) for part in column] for column in description]


class Driver:
    """A DB-API connection plus the few things DB-API leaves to each driver."""

    def __init__(self, name, args):
        self.name = name
        self.prepared = name.endswith("-prepared")
        self.args = args
        self.conn = self._connect(args)

    def reconnect(self):
        """A fresh connection after a driver-side failure left the old one unusable."""
        try:
            self.conn.close()
        except Exception:  # the old connection is broken; closing it is best effort
            pass
        self.conn = self._connect(self.args)

    def _connect(self, args):
        common = dict(
            host=args.host, port=args.port, user=args.user, password=args.password, database=args.db
        )
        if self.name == "pymysql":
            import pymysql
            from pymysql.constants import CLIENT

            ssl = {"ca": args.ssl_ca} if args.ssl_ca else None
            return pymysql.connect(
                charset="utf8mb4",
                client_flag=CLIENT.MULTI_STATEMENTS,
                autocommit=True,
                ssl=ssl,
                **common,
            )
        if self.name == "mysqldb":
            import MySQLdb
            from MySQLdb.constants import CLIENT

            tls = dict(ssl_mode="REQUIRED", ssl={"ca": args.ssl_ca}) if args.ssl_ca else dict(ssl_mode="DISABLED")
            common["passwd"] = common.pop("password")
            return MySQLdb.connect(
                charset="utf8mb4",
                client_flag=CLIENT.MULTI_STATEMENTS,
                autocommit=True,
                **tls,
                **common,
            )
        # mysql-connector-python. Its C extension ships an OpenSSL newer than Debian 12's:
        # load it before anything pulls the system libssl in through the ssl module.
        use_pure = self.name in ("connector-pure", "connector-pure-prepared")
        if not use_pure:
            import _mysql_connector  # noqa: F401
        import mysql.connector

        if not use_pure and not mysql.connector.HAVE_CEXT:
            raise SystemExit("mysql-connector-python C extension is not available")
        options = dict(
            use_pure=use_pure, charset="utf8mb4", collation="utf8mb4_general_ci", autocommit=True
        )
        if args.ssl_ca:
            options.update(ssl_ca=args.ssl_ca, ssl_disabled=False)
        else:
            options.update(ssl_disabled=True)
        if args.auth_plugin:
            options.update(auth_plugin=args.auth_plugin)
        return mysql.connector.connect(**options, **common)

    def check_tls(self):
        """Fails the run if --ssl-ca was given but the connection is not encrypted."""
        if self.name == "pymysql":
            import ssl

            secure = isinstance(self.conn._sock, ssl.SSLSocket)
        elif self.name == "mysqldb":
            secure = True  # ssl_mode=REQUIRED: libmariadb refuses a plain connection itself
        else:
            secure = self.conn.is_secure
        if not secure:
            raise SystemExit(f"{self.name}: connection is not encrypted although --ssl-ca was given")

    def cursor(self):
        if self.prepared:
            return self.conn.cursor(prepared=True)
        return self.conn.cursor()

    def begin(self):
        if self.name.startswith("connector"):
            self.conn.start_transaction()
        else:
            self.conn.begin()

    def error(self, exc):
        errno = getattr(exc, "errno", None)
        if errno is None and exc.args and isinstance(exc.args[0], int):
            errno = exc.args[0]
        if self.name == "mysqldb":
            sqlstate = self.conn.sqlstate() if errno and errno < 2000 else None
            msg = exc.args[1] if len(exc.args) > 1 else str(exc)
            if isinstance(msg, bytes):
                msg = msg.decode("utf-8", "replace")
        else:
            sqlstate = getattr(exc, "sqlstate", None)
            msg = getattr(exc, "msg", None) or (exc.args[1] if len(exc.args) > 1 else str(exc))
        return {"error": type(exc).__name__, "errno": errno, "sqlstate": sqlstate, "msg": msg}


def run_query(driver, sql, params=None):
    """Executes one statement; returns every result set it produced."""
    cur = driver.cursor()
    try:
        if params is None:
            cur.execute(sql)
        else:
            cur.execute(sql, params)
        results = []
        while True:
            entry = {"columns": describe(cur.description), "rowcount": cur.rowcount}
            if cur.description is not None:
                entry["rows"] = [[tag(v) for v in row] for row in cur.fetchall()]
            if cur.lastrowid:
                entry["lastrowid"] = cur.lastrowid
            results.append(entry)
            if driver.prepared or not cur.nextset():
                break
        return results
    except Exception as exc:
        # Taken before close(): closing a cursor can reset what the driver knows of the error.
        exc.matrix_error = driver.error(exc)
        raise
    finally:
        cur.close()


def guarded(driver, fn):
    try:
        return fn()
    except Exception as exc:  # the error itself is what we compare
        error = getattr(exc, "matrix_error", None) or driver.error(exc)
        if not (isinstance(error["errno"], int) and 0 < error["errno"] < 2000):
            # Not an error the server sent: the driver itself failed (a decoding bug, a
            # lost connection). Record it and carry on over a new connection.
            error["reconnected"] = True
            driver.reconnect()
        return error


def scenarios(driver):
    q = lambda sql, params=None: guarded(driver, lambda: run_query(driver, sql, params))  # noqa: E731
    out = {}
    out["select_all_types"] = q("SELECT * FROM all_types ORDER BY id")
    out["select_expressions"] = q(
        "SELECT 1 AS one, -1 AS neg, 18446744073709551615 AS umax, 1.50 AS dec_lit, 1e0 AS dbl,"
        " 'str' AS s, _binary X'FF00' AS bin, NULL AS nul, CAST('2024-01-02' AS DATE) AS d,"
        " CAST('-00:00:01.5' AS TIME(1)) AS t, CAST(2.5 AS DECIMAL(5,2)) AS dec_cast"
    )
    out["select_each_column"] = {
        column: q(f"SELECT {column} FROM all_types ORDER BY id") for column in COLUMNS
    }
    out["select_empty"] = q("SELECT id, vc FROM all_types WHERE id < 0")
    skip = UNBINDABLE.get(driver.name, set())
    out["params_select"] = {
        name: q("SELECT %s AS p", (value,)) for name, value in PARAMS if name not in skip
    }
    out["params_where"] = q("SELECT * FROM all_types WHERE id >= %s ORDER BY id", (1,))
    row = {n: v for n, v in PARAMS}
    out["params_insert"] = q(
        "INSERT INTO params_t (id, bi, biu, dec_small, f, d, dt, dtm, tm, vc, vb, j, ti)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            10,
            row["int_min"],
            row["uint_max"],
            row["decimal"],
            row["float"],
            row["float_big"],
            row["date"],
            row["datetime_us"],
            row["time_negative"],
            row["str_emoji"],
            row["bytes_invalid_utf8"],
            '{"a": 1}',
            None,
        ),
    )
    out["params_insert_readback"] = q("SELECT * FROM params_t ORDER BY id")
    out["error_unknown_table"] = q("SELECT * FROM no_such_table")
    out["after_error"] = q("SELECT 1 AS still_alive")
    out["error_syntax"] = q("SELEC 1")
    out["after_syntax_error"] = q("SELECT 2 AS still_alive")
    if not driver.prepared:  # a prepared statement holds exactly one statement
        out["multi_statement"] = q("SELECT 1 AS a; SELECT 'two' AS b, NULL AS c; DO 1")
        out["after_multi_statement"] = q("SELECT 3 AS still_alive")
    out["null_handling"] = q(
        "SELECT NULL AS a, NULL IS NULL AS b, COALESCE(NULL, 'x') AS c, CAST(NULL AS CHAR) AS d,"
        " %s IS NULL AS e",
        (None,),
    )
    out["dml"] = {
        "insert": q("INSERT INTO tx_t (v) VALUES ('a'), ('b')"),
        "update": q("UPDATE tx_t SET v = 'c' WHERE id = 1"),
        "update_unchanged": q("UPDATE tx_t SET v = 'c' WHERE id = 1"),
        "delete": q("DELETE FROM tx_t"),
    }

    def transaction():
        driver.begin()
        steps = {
            "insert": run_query(driver, "INSERT INTO tx_t (v) VALUES ('in-tx')"),
            "count_in_tx": run_query(driver, "SELECT COUNT(*) AS n FROM tx_t"),
        }
        driver.conn.rollback()
        steps["count_after_rollback"] = run_query(driver, "SELECT COUNT(*) AS n FROM tx_t")
        return steps

    out["transaction_rollback"] = guarded(driver, transaction)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--driver", choices=DRIVERS, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--user", default="root")
    parser.add_argument("--password", default="")
    parser.add_argument("--db", required=True)
    parser.add_argument("--ssl-ca", help="require TLS, trusting this CA/certificate")
    parser.add_argument("--auth-plugin", help="mysql-connector auth_plugin, e.g. caching_sha2_password")
    parser.add_argument("--connect-only", action="store_true", help="connect and SELECT 1 only")
    args = parser.parse_args()

    try:
        driver = Driver(args.driver, args)
    except SystemExit:
        raise
    except Exception as exc:
        errno = getattr(exc, "errno", None) or (exc.args[0] if exc.args and isinstance(exc.args[0], int) else None)
        sqlstate = getattr(exc, "sqlstate", None)
        out = {"connect": {"error": type(exc).__name__, "errno": errno, "sqlstate": sqlstate}}
        json.dump(out, sys.stdout, indent=1, sort_keys=True, ensure_ascii=False)
        print()
        return
    if args.ssl_ca:
        driver.check_tls()
    if args.connect_only:
        out = {"connect": "ok", "select": run_query(driver, "SELECT 1 AS ok")}
    else:
        out = scenarios(driver)
    driver.conn.close()
    json.dump(out, sys.stdout, indent=1, sort_keys=True, ensure_ascii=False)
    print()


if __name__ == "__main__":
    main()
