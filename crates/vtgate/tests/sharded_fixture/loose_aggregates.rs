//! Aggregates whose result MySQL leaves partly unspecified, merged across shards.
//!
//! GROUP_CONCAT: each shard's partial concatenation, joined in vtgate with the separator.
//! Without ORDER BY the order of the values is unspecified, in one MariaDB as across shards,
//! so every group here concatenates equal values (grouped by the value itself, or filtered to
//! one value), and the check is their number, separators, NULLs and empty groups.
//!
//! A column neither grouped nor aggregated in a scalar aggregation (allowed without
//! ONLY_FULL_GROUP_BY) is any matching row's value: here every matching row has the same one,
//! or only one row (on one shard) matches, or none does (NULL).

use super::{q, Query};

pub(super) fn any_value_queries(out: &mut Vec<Query>) {
    for sql in [
        "select score, count(*) from customer where score = 10",
        "select score, count(*), sum(big) from customer where score = 10 having count(*) > 1",
        "select score + 1, min(balance) from customer where score = -3",
        "select score, count(*) from customer where score is null",
        "select email, count(*) from customer where email = 'user5@Example.COM'",
        "select email, name, max(score) from customer where email = 'user77@Example.COM'",
        "select region, count(*), avg(score) from customer where binary region = 'eu'",
        "select name, count(*) from customer where score > 1000",
        "select qty, count(*), sum(price) from corder where qty = 3 and sku = 'SKU3'",
    ] {
        out.push(q(sql, false));
    }
}

pub(super) fn group_concat_queries(out: &mut Vec<Query>) {
    for sql in [
        "select score, group_concat(score) from customer group by score",
        "select score, group_concat(score separator '') from customer group by score",
        "select qty, group_concat(qty separator '; '), count(*) from corder group by qty",
        "select sku, group_concat(sku, '/', qty separator '|') from corder where qty = 3 group by sku",
        "select qty, group_concat(sku) from corder where sku = 'SKU7' group by qty",
        "select group_concat(qty) from corder where qty = 4",
        "select group_concat(qty), count(*), sum(price) from corder where qty = 6",
        "select group_concat(sku) from corder where qty = 99",
        "select group_concat(note) from corder where note is null",
        "select big, group_concat(big separator ' ') from customer where big > 9000000000000000000 group by big",
        "select balance, group_concat(balance) from customer where balance < 200 group by balance",
        "select qty, group_concat(qty) from corder group by qty having count(*) > 300",
    ] {
        out.push(q(sql, false));
    }
    out.push(q(
        "select qty, group_concat(qty) as g, count(*) from corder group by qty \
         order by count(*) desc, qty limit 4",
        true,
    ));
    // DISTINCT or ORDER BY inside: the shards send their rows, vtgate sorts each group's.
    // (ORDER BY keys here are unique within a group: ties may come in any order.)
    for sql in [
        "select customer_id, group_concat(order_id order by order_id) from corder \
         where customer_id < 30 group by customer_id",
        "select sku, group_concat(distinct qty) from corder group by sku",
        "select sku, group_concat(distinct qty order by qty desc separator '/') from corder \
         group by sku",
        "select group_concat(distinct region) from customer",
        "select group_concat(distinct score) from customer where customer_id < 200",
        "select region, group_concat(name order by customer_id) from customer \
         where customer_id < 60 group by region",
        "select qty, group_concat(sku, '-', order_id order by order_id desc) from corder \
         where order_id < 200 group by qty",
        "select group_concat(distinct note) from corder where order_id > 95000",
        "select sku, count(*), group_concat(order_id order by price, order_id) from corder \
         where order_id < 3000 group by sku having count(*) > 3 order by sku",
        "select c.region, group_concat(o.order_id order by o.order_id) from customer c \
         join corder o on o.customer_id = c.customer_id where c.customer_id < 20 \
         group by c.region",
        // Over a grouped derived table MariaDB 10.11 puts NULL keys of a GROUP_CONCAT's
        // ORDER BY last (first over a table, as vtgate does): vtgate README gap 16.
        "select x.sku, group_concat(x.n order by x.qty) from (select sku, qty, count(*) as n \
         from corder where qty is not null group by sku, qty) x group by x.sku",
        "select x.sku, group_concat(concat(x.n, '@', x.qty) order by x.n desc, x.qty) \
         from (select sku, qty, count(*) as n from corder where qty is not null \
         group by sku, qty) x group by x.sku",
        "select group_concat(distinct big order by big) from customer",
        // COUNT(DISTINCT) of several expressions: the first by the rows' order, the others
        // in a set per group.
        "select region, count(distinct score), count(distinct name) from customer \
         group by region",
        "select count(distinct qty), count(distinct sku), count(distinct customer_id) \
         from corder",
        "select sku, count(distinct qty), count(distinct note), count(*) from corder \
         where order_id > 95000 group by sku",
        "select count(distinct big), count(distinct balance) from customer",
        "select qty, count(distinct sku), count(distinct price) from corder \
         group by qty having count(distinct sku) > 2 order by qty",
        // Refused: DISTINCT ordered by another value, and two in-group orders.
        "select group_concat(distinct name order by customer_id) from customer",
        "select group_concat(distinct qty), group_concat(order_id order by order_id) \
         from corder where customer_id < 5",
    ] {
        out.push(q(sql, false));
    }
}
