"""Reads through PyMySQL (text protocol) and mysql-connector-python (prepared statements,
binary protocol); prints what it got so the caller can compare vtgate with plain MariaDB.

Usage: clients.py PORT DATABASE. Exits 77 when a client library is missing."""
import sys

try:
    import mysql.connector
    import pymysql
except ImportError as e:  # pragma: no cover
    print(f"missing client library: {e}", file=sys.stderr)
    sys.exit(77)

port, db = int(sys.argv[1]), sys.argv[2]

conn = pymysql.connect(host="127.0.0.1", port=port, user="root", database=db)
cur = conn.cursor()
cur.execute("select * from types_t order by id")
print("pymysql types", cur.fetchall())
print("pymysql fields", [d[:2] for d in cur.description])
cur.execute("select sku, price from product where price > %s order by sku", (10,))
print("pymysql product", cur.fetchall())
cur.execute("select vb, bl from types_t where vb = %s", (b"\x00\xff\x10",))
print("pymysql binary param", cur.fetchall())
try:
    cur.execute("select * from no_such_t")
except pymysql.err.ProgrammingError as e:
    print("pymysql error", e.args[0])
cur.execute("select 'after error'")
print("pymysql", cur.fetchall())

conn2 = mysql.connector.connect(host="127.0.0.1", port=port, user="root", database=db)
# YEAR is left out: the connector reads binary YEAR values as strings (also from MariaDB).
cur2 = conn2.cursor(prepared=True)
cur2.execute("select id, i8, u8, i64, u64, d, f, dbl, dt, dtm, ts, tm, ch, vc, vb, bl, tx, js, en, n from types_t where id > %s order by id", (0,))
print("connector types", cur2.fetchall())
cur2.execute("select sku, description, price from product where sku = %s", ("SKU-1002",))
print("connector product", cur2.fetchall())
try:
    cur2.execute("select * from no_such_t where id = %s", (1,))
    cur2.fetchall()
except mysql.connector.Error as e:
    print("connector error", e.errno, e.sqlstate)
cur2.execute("select %s + 1", (41,))
print("connector", cur2.fetchall())
