//! Uncorrelated subqueries pulled out of where they stand: select items (scalar, EXISTS,
//! inside arithmetic and aggregates), ON conditions of cross-shard joins, and WHERE
//! conditions under OR and NOT. Each runs first and its result is bound into the outer query.

use super::{q, Query};

pub(super) fn pullout_queries(out: &mut Vec<Query>) {
    for sql in [
        "select c.customer_id, (select max(price) from corder) from customer c \
         where c.customer_id < 20",
        "select customer_id, 1 + (select count(*) from corder where qty > 5) as n \
         from customer where score > 70",
        "select (select min(order_id) from corder where price > 9000), \
         (select count(*) from customer where region = 'us') from corder where customer_id = 7",
        "select exists (select 1 from corder where price > 9990)",
        "select exists (select 1 from corder where price > 100000), \
         not exists (select 1 from customer where customer_id = 1501)",
        "select max((select max(qty) from corder)) from customer where customer_id = 3",
        "select count(*), (select count(*) from corder where note = 'gift') from customer \
         where score < 0",
        "select w.sku, (select count(*) from corder o where o.price > 9000) as n \
         from commerce.warehouse w where w.stock > 30",
        "select (select name from customer where customer_id = 7) as n, \
         (select max(note) from corder where price < 0)",
        // More than one row: MySQL's error 1242 on both.
        "select customer_id, (select order_id from corder where price > 9000) from customer \
         where customer_id = 3",
        // Under OR and NOT.
        "select customer_id, name from customer where customer_id = 7 \
         or customer_id in (select customer_id from corder where price > 9950)",
        "select count(*) from customer where score < 0 or customer_id not in \
         (select customer_id from corder where customer_id is not null and price > 500)",
        "select customer_id from customer where not customer_id in \
         (select customer_id from corder where qty = 9 and customer_id is not null) \
         and customer_id < 30",
        // NULLs in the list: NOT IN is never true, NOT (x IN ...) neither. (Only ids in
        // the range of `qty`'s INT: for a larger one MariaDB answers `x NOT IN (subquery
        // with NULLs)` with 1 where SQL, and vtgate, say NULL.)
        "select count(*) from customer where customer_id < 100000 \
         and customer_id not in (select qty from corder)",
        "select count(*) from customer where customer_id < 100000 \
         and (not (customer_id in (select qty from corder)) or score = 5)",
        "select count(*) from customer where customer_id in (select qty from corder where \
         qty > 100) or not exists (select 1 from corder where price > 100000)",
        "select customer_id, score from customer where score > (select max(qty) from corder) \
         * 9 or score = (select min(qty) from corder where qty > 0)",
        // In ON conditions of nested-loop joins.
        "select c.customer_id, o.order_id from customer c join corder o \
         on o.qty = c.score and o.price > (select max(price) - 3000 from corder) \
         where c.customer_id < 50",
        "select w.city, c.customer_id from commerce.warehouse w join customer c \
         on c.customer_id = w.stock and c.score > (select min(qty) from corder)",
        "select c.customer_id, o.order_id from customer c left join corder o \
         on o.qty = c.score and o.order_id in (select order_id from corder where price > 9000) \
         where c.customer_id < 40",
        "select (select max(qty) from corder) as m, c.customer_id, o.order_id from customer c \
         join corder o on c.customer_id = o.qty where o.order_id < 30",
    ] {
        out.push(q(sql, false));
    }
    out.push(q(
        "select customer_id, (select count(*) from corder where qty = 3) as n from customer \
         where region = 'eu' order by customer_id limit 5",
        true,
    ));
}
