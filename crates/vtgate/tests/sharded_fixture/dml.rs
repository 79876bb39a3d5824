//! DML sequences of the sharded differential: statements run on both sides, then queries
//! that compare what they left.

use super::*;

/// DML sequences: statements run on both sides, then checks.
pub fn dml_sequences() -> Vec<(Vec<String>, Vec<Query>)> {
    let whole = || {
        vec![
            q("select * from customer order by customer_id", true),
            q("select * from corder order by order_id", true),
        ]
    };
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    vec![
        (literals::literal_dml(), whole()),
        (literals::savepoint_sequence(), whole()),
        (collation::collation_setup(), collation::collation_checks()),
        (
            collation::numeric_text_setup(),
            collation::numeric_text_checks(),
        ),
        // Values of an unsigned column that vtgate binds (a pulled-out subquery's, a join
        // side's) stay unsigned: `1 - 5` on them is MySQL's 1690, not -4.
        (
            s(&[
                "alter table tally add column u int unsigned",
                "update tally set u = n",
                // No column list: vtgate writes out the tracked columns to route each row.
                "insert into tally values (501, 2, 9), (502, 5, 1), (9000000000000000001, 0, 0)",
            ]),
            vec![
                q("select * from tally where id > 500 order by id", true),
                // Each on the shard its id routes to.
                q("select n, u from tally where id = 501", false),
                q("select n, u from tally where id = 502", false),
                q("select n, u from tally where id = 9000000000000000001", false),
                q(
                    "select id, (select min(u) from tally where id between 1 and 3) - 5 \
                     from tally where id < 4",
                    false,
                ),
                q(
                    "select id, (select max(u) from tally where id < 10) - 5 \
                     from tally where id < 4",
                    false,
                ),
                q(
                    "select t.id, w.w from tally t join word w on w.id = t.u + 1 \
                     where t.id < 30",
                    false,
                ),
                q(
                    "select t.id from tally t join word w on w.id = t.u - 3 where t.id < 30",
                    false,
                ),
            ],
        ),
        // A SET subquery on the unsharded keyspace, run first.
        (
            s(&["update corder set note = (select max(city) from commerce.warehouse) \
                 where order_id < 40"]),
            vec![q("select * from corder order by order_id", true)],
        ),
        // INSERT ... SELECT from the sharded keyspace into the unsharded one.
        (
            s(&[
                "insert into commerce.warehouse (sku, stock, city) \
                 select concat('c-', sku), price, 'copied' from product",
                "insert into commerce.warehouse (sku, stock, city) \
                 select concat('o-', order_id), qty, 'order' from corder where order_id < 60",
            ]),
            vec![q("select * from commerce.warehouse order by sku", true)],
        ),
        (
            s(&[
                "update customer set score = score + 1 where customer_id = 7",
                "update customer set name = 'Zed' where customer_id in (1, 2, 3, 4)",
                "update customer set balance = balance * 2 where region = 'eu'",
                "update corder set qty = null where price < 300",
            ]),
            whole(),
        ),
        (
            s(&[
                "delete from corder where customer_id = 20",
                "delete from corder where price > 9800",
                "delete from customer where score is null and region = 'ap'",
            ]),
            whole(),
        ),
        (
            s(&[
                "insert into customer (customer_id, email, name) values (5000, 'new@x', 'New'), \
                 (5001, 'NEW2@x', 'new'), (9100000000000000000, 'huge@x', NULL)",
                "insert into corder (order_id, customer_id, sku, price) values (90001, 5000, 'SKU1', 10), \
                 (90002, 5001, 'SKU2', 20)",
                "update customer set big = -1 where customer_id >= 5000",
            ]),
            whole(),
        ),
        (
            s(&[
                "begin",
                "update customer set score = 1000 where customer_id in (5, 6, 8, 9)",
                "delete from corder where order_id in (11, 12, 13)",
                "rollback",
            ]),
            whole(),
        ),
        (
            s(&[
                "insert into customer (customer_id, email, score) values (7, 'dup@x', 1), \
                 (5002, 'fresh@x', 2) on duplicate key update score = score + 100",
                "delete from corder where customer_id in (1, 2, 3, 5000) and price > 100",
                "update corder set note = 'Bulk' where order_id between 100 and 160",
                "update customer set region = null where customer_id in (10, 30, 50) or score = 7",
                "begin",
                "insert into customer (customer_id, email) values (6001, 'a@t'), (6002, 'b@t'), \
                 (6003, 'c@t'), (6004, 'd@t')",
                "update customer set score = -1 where customer_id between 6001 and 6004",
                "commit",
            ]),
            whole(),
        ),
        (
            s(&[
                "begin",
                "update customer set score = 2000 where customer_id in (5, 6, 8, 9)",
                "insert into corder (order_id, customer_id, price) values (90003, 5, 1), (90004, 6, 2)",
                "commit",
            ]),
            whole(),
        ),
        // Tables not on their targets' shards, and LIMIT over several shards: the rows'
        // primary keys are selected first, then each target changed by them.
        (
            s(&[
                "delete t from tally t join customer c on c.customer_id = t.id \
                 where c.region = 'eu' and t.id < 300",
                "update customer c join tally t on t.id = c.customer_id \
                 set c.score = t.n + 1000 where t.n < 60",
                "update corder o join tally t on t.id = o.order_id \
                 set o.note = concat('t', t.n), o.qty = o.qty + 1 where t.n between 10 and 40",
                "delete c, o from customer c join corder o on o.customer_id = c.customer_id \
                 join tally t on t.id = o.order_id where t.n > 95",
                "delete from corder where price > 5000 order by price desc, order_id limit 7",
                "update customer set score = 77 where region = 'us' order by customer_id desc limit 5",
                "update tally set n = n + 1 order by id limit 4",
                "delete w from word w join tally t on t.id = w.id where t.n = 3",
                "update corder set qty = 0 where qty is null limit 3",
                // MySQL's comma-separated tables; an unsharded target joined with a
                // reference table of the sharded keyspace.
                "update customer c, tally t set c.big = t.n where t.id = c.customer_id and t.n < 20",
                "update commerce.warehouse w, product p set w.stock = w.stock + p.price \
                 where w.sku = concat('c-', p.sku)",
                // The NULL side of a LEFT JOIN has no row to change.
                "delete t from tally t left join word w on w.id = t.id \
                 where w.id is null and t.id between 200 and 260",
                "update tally t left join word w on w.id = t.id \
                 set t.n = w.id + 1000 where t.id between 300 and 340",
            ]),
            {
                let mut checks = whole();
                checks.push(q("select * from tally order by id", true));
                checks.push(q("select * from word order by id", true));
                checks.push(q("select * from commerce.warehouse order by sku", true));
                checks
            },
        ),
        // Last: it adds columns to corder.
        (
            collation::column_collations_setup(),
            collation::column_collations_checks(),
        ),
    ]
}
