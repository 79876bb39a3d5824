"""Runs the same statements with several Python MySQL drivers against MariaDB directly and
through the proxy, and fails if any driver sees different Python types or values.

Usage: compare.py DIRECT_PORT PROXY_PORT DIRECT_DB PROXY_DB
"""
import sys

DIRECT_PORT, PROXY_PORT, DIRECT_DB, PROXY_DB = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]

QUERIES = [
    "SELECT * FROM t ORDER BY id",
    "SELECT id, d * 2, f + 1, CONCAT(vc, 'x'), NULL AS n FROM t ORDER BY id",
    "SELECT COUNT(*) FROM t WHERE id > 1",
]
PARAM_QUERIES = [
    ("SELECT * FROM t WHERE id >= %s ORDER BY id", (1,)),
    ("SELECT %s, %s, %s, %s", (-5, 18446744073709551615, 2.5, b"\xff\x00\x80")),
]


def rows_of(cursor, sql, params=None, db=""):
    """Column names and types and (type name, value) of every cell, or the error."""
    try:
        cursor.execute(sql, params) if params is not None else cursor.execute(sql)
        desc = [tuple(d[:2]) for d in cursor.description] if cursor.description else None
        rows = cursor.fetchall()
    except Exception as e:  # the driver's own error type and text
        return (type(e).__name__, str(e).replace(db, "<db>"))
    return desc, [tuple((type(v).__name__, v) for v in r) for r in rows]


def run(connect, port, db, prepared=False):
    conn = connect(port, db)
    out = []
    cur = conn.cursor(prepared=True) if prepared else conn.cursor()
    for sql in QUERIES:
        out.append(rows_of(cur, sql, db=db))
    for sql, params in PARAM_QUERIES:
        if prepared:
            sql = sql.replace("%s", "?")
        out.append(rows_of(cur, sql, params, db))
    out.append(rows_of(cur, "SELECT * FROM nosuch", db=db))
    out.append(rows_of(cur, "SELECT 1", db=db))
    conn.close()
    return out


def drivers():
    import pymysql
    import MySQLdb
    import mysql.connector

    yield "pymysql", lambda p, db: pymysql.connect(host="127.0.0.1", port=p, user="root", database=db, charset="utf8mb4"), False
    yield "mysqlclient", lambda p, db: MySQLdb.connect(host="127.0.0.1", port=p, user="root", database=db, charset="utf8mb4"), False
    for pure in (True, False) if mysql.connector.HAVE_CEXT else (True,):
        name = "connector-pure" if pure else "connector-c"

        def connect(p, db, pure=pure):
            return mysql.connector.connect(host="127.0.0.1", port=p, user="root", database=db,
                                           use_pure=pure, charset="utf8mb4", collation="utf8mb4_general_ci")
        yield name, connect, False
        yield name + "-prepared", connect, True


failed = False
for name, connect, prepared in drivers():
    want = run(connect, DIRECT_PORT, DIRECT_DB, prepared)
    got = run(connect, PROXY_PORT, PROXY_DB, prepared)
    if got != want:
        failed = True
        print(f"{name}: DIFFERENT")
        for w, g in zip(want, got):
            if w != g:
                print("  direct:", w)
                print("  proxy: ", g)
    else:
        print(f"{name}: same")
sys.exit(1 if failed else 0)
