"""Reads a sharded keyspace through PyMySQL (text protocol) and mysql-connector-python
(prepared statements, binary protocol); prints what it got so the caller can compare vtgate
with plain MariaDB holding the same rows.

Usage: sharded_clients.py PORT DATABASE. Exits 77 when a client library is missing."""
import sys

try:
    import mysql.connector
    import pymysql
except ImportError as e:  # pragma: no cover
    print(f"missing client library: {e}", file=sys.stderr)
    sys.exit(77)

port, db = int(sys.argv[1]), sys.argv[2]

QUERIES = [
    ("select customer_id, email, score, balance from customer where customer_id = %s", (4,)),
    ("select customer_id, name from customer where customer_id in (%s, %s, %s) order by customer_id", (1, 2, 6)),
    ("select region, count(*), sum(score) from customer group by region order by region", ()),
    ("select customer_id, big from customer order by big desc, customer_id limit %s", (3,)),
    ("select c.customer_id, o.order_id, o.price from customer c join corder o "
     "on c.customer_id = o.customer_id where o.price > %s order by o.order_id", (15,)),
    ("select count(*), max(balance), min(email) from customer where score > %s", (0,)),
]

conn = pymysql.connect(host="127.0.0.1", port=port, user="root", database=db)
cur = conn.cursor()
for sql, args in QUERIES:
    cur.execute(sql, args)
    print("pymysql", sql[:40], cur.fetchall())

conn2 = mysql.connector.connect(host="127.0.0.1", port=port, user="root", database=db)
cur2 = conn2.cursor(prepared=True)
for sql, args in QUERIES:
    cur2.execute(sql, args)
    print("connector", sql[:40], cur2.fetchall())
