//! Outer joins vtgate runs as nested loops: WHERE conditions on a LEFT JOINed table (an
//! inner join when they reject its NULL row, else a filter over the joined rows, such as
//! the anti-join `IS NULL`), `a RIGHT JOIN b` as `b LEFT JOIN a`, STRAIGHT_JOIN,
//! parenthesized inner joins, expressions of a LEFT JOINed table that are not NULL over its
//! missing row (from the NULL row a shard evaluates), and ORDER BY keys not selected.

use super::{q, Query};

pub(super) fn outer_join_queries(out: &mut Vec<Query>) {
    for sql in [
        // Conditions rejecting the NULL row: inner joins.
        "select c.customer_id, o.order_id from customer c left join corder o \
         on o.qty = c.score where o.note = 'Gift' and c.customer_id < 40",
        "select c.customer_id, o.order_id, o.price from customer c left join corder o \
         on o.qty = c.score and o.order_id < 200 where o.price between 1000 and 5000 \
         and c.customer_id < 80",
        "select c.customer_id, o.order_id from customer c left join corder o \
         on o.order_id = c.score where o.qty in (1, 2, 3) or o.note like 'g%'",
        "select c.customer_id, o.order_id from customer c left join corder o \
         on o.order_id = c.score where o.customer_id = c.customer_id",
        "select w.sku, c.name from commerce.warehouse w left join customer c \
         on c.customer_id = w.stock where c.name = 'alice'",
        "select c.customer_id, o.order_id, p.order_id from customer c left join corder o \
         on o.qty = c.score and o.order_id < 40 left join corder p \
         on p.order_id = o.order_id + 1 where p.price > 100 and c.customer_id < 30",
        // Other conditions: run over the joined rows.
        "select c.customer_id, c.score from customer c left join corder o \
         on o.qty = c.score and o.order_id < 100 where o.order_id is null \
         and c.customer_id < 60",
        "select c.customer_id, o.order_id from customer c left join corder o \
         on o.qty = c.score and o.order_id < 100 where (o.order_id is null or o.price > 5000) \
         and c.customer_id < 50",
        "select c.customer_id, o.order_id, o.note from customer c left join corder o \
         on o.qty = c.score and o.order_id < 300 where o.note is null and c.customer_id < 30",
        "select c.customer_id, o.order_id from customer c left join corder o \
         on o.qty = c.score and o.order_id < 300 where not (o.qty > 4) \
         and c.customer_id < 30",
        "select c.customer_id, o.order_id from customer c left join corder o \
         on o.qty = c.score and o.order_id < 100 where o.price > 9000 or c.score < 0",
        "select w.sku, w.stock from commerce.warehouse w left join customer c \
         on c.customer_id = w.stock where c.customer_id is null",
        "select c.customer_id, o.order_id, p.order_id from customer c left join corder o \
         on o.qty = c.score and o.order_id < 40 left join corder p \
         on p.order_id = o.order_id + 1 where p.order_id is null and c.customer_id < 30",
        "select c.customer_id, o.order_id from customer c left join corder o \
         on o.qty = c.score and o.order_id < 300 where o.note is null or o.note = 'gift'",
        // `<=>`, true for the row of NULLs: over the joined rows.
        "select c.customer_id from customer c left join corder o on o.qty = c.score \
         where o.order_id <=> null and c.customer_id < 30",
        "select c.customer_id, o.order_id from customer c left join corder o \
         on o.qty = c.score and o.order_id < 300 where o.note <=> 'gift' or o.qty <=> c.score",
        "select c.customer_id, o.order_id from customer c left join corder o \
         on o.qty = c.score and o.order_id < 300 where not (o.price <=> 10) \
         and c.customer_id < 40",
        // Not computed by vtgate: refused.
        "select c.customer_id from customer c left join corder o on o.qty = c.score \
         where coalesce(o.order_id, 0) = 0 and c.customer_id < 30",
        // RIGHT JOIN.
        "select c.customer_id, w.sku from customer c right join commerce.warehouse w \
         on c.customer_id = w.stock",
        "select o.order_id, c.name from corder o right join customer c \
         on o.qty = c.score and o.order_id < 30 where c.customer_id < 25",
        "select o.order_id, c.name from customer c right join corder o \
         on c.customer_id = o.customer_id where o.order_id < 50",
        "select c.customer_id, w.sku from customer c right join commerce.warehouse w \
         on c.customer_id = w.stock where c.customer_id is null",
        "select c.customer_id, w.sku from customer c join corder o \
         on o.customer_id = c.customer_id right join commerce.warehouse w on w.stock = c.score",
        // `*` over a RIGHT JOIN: the tables' columns in the order written.
        "select * from corder o right join customer c \
         on o.qty = c.score and o.order_id < 30 where c.customer_id < 25",
        "select * from customer c join corder o \
         on o.customer_id = c.customer_id right join commerce.warehouse w on w.stock = c.score",
        "select w.*, o.* from corder o right join commerce.warehouse w on w.stock = o.qty",
        // ... and over a parenthesized group, and beside windows over the joined rows.
        "select * from customer c left join (corder o join product p on p.sku = o.sku) \
         on o.qty = c.score where c.customer_id < 20",
        "select o.*, row_number() over (partition by c.region order by o.order_id) as n \
         from customer c join corder o on o.qty = c.score where c.customer_id < 20",
        // RIGHT JOIN at the head of a longer chain.
        "select c.customer_id, o.order_id, t.n from corder o right join customer c \
         on o.qty = c.score join tally t on t.id = c.customer_id where c.customer_id < 40",
        "select w.id, t.id, c.customer_id from tally t right join word w on t.n = w.id \
         left join customer c on c.score = w.id",
        "select c.customer_id, o.order_id from corder o right join customer c \
         on o.qty = c.score and o.order_id < 60 join tally t on t.n = o.qty \
         where c.customer_id < 30",
        // STRAIGHT_JOIN.
        "select c.customer_id, o.order_id from customer c straight_join corder o \
         on o.qty = c.score where c.customer_id < 20 and o.order_id < 100",
        "select c.customer_id, o.order_id from customer c straight_join corder o \
         on o.customer_id = c.customer_id where c.customer_id in (7, 8)",
        "select w.sku, c.name from commerce.warehouse w straight_join customer c \
         on c.customer_id = w.stock",
        // Parenthesized inner joins, flattened; ORDER BY NULL; `dual` in a FROM list
        // (a syntax error on MariaDB, refused).
        "select c.customer_id, o.order_id, w.city from customer c join \
         (corder o join commerce.warehouse w on w.sku = o.sku) on o.qty = c.score \
         where c.customer_id < 30 and o.order_id < 200",
        "select c.customer_id, o.order_id, p.price from customer c join (corder o join \
         product p) on o.sku = p.sku and o.qty = c.score where c.customer_id < 20 \
         and o.order_id < 100",
        "select c.customer_id, o.order_id from customer c join \
         (corder o left join product p on p.sku = o.sku) on o.qty = c.score \
         where c.customer_id < 10",
        "select 42, customer_id from dual, customer where customer_id < 20",
        "select c.customer_id, o.order_id from customer c join corder o on o.qty = c.score \
         where c.customer_id < 20 and o.order_id < 50 order by null",
    ] {
        out.push(q(sql, false));
    }
    out.push(q(
        "select c.customer_id, o.order_id from customer c left join corder o \
         on o.qty = c.score and o.order_id < 50 where o.order_id is null \
         order by c.customer_id limit 7",
        true,
    ));
    // Expressions over a missing row: MariaDB's value, of the column's type (DECIMAL(12,2)
    // gives `0.00`), the same on every row.
    for sql in [
        "select o.order_id, coalesce(c.balance, 0), c.name is null, \
         if(c.score is null, 'none', c.score) from corder o left join customer c \
         on c.score = o.qty and c.customer_id < 5 where o.order_id < 40",
        "select c.customer_id, case when o.qty > 4 then 'big' else 'small' end, \
         ifnull(o.note, 'x'), o.price div 7, concat(o.sku, '/', o.note) from customer c \
         left join corder o on o.qty = c.score and o.order_id < 30 where c.customer_id < 25",
        "select o.order_id, coalesce(w.stock, -1), w.city is null, lower(w.city) \
         from corder o left join commerce.warehouse w on w.sku = o.sku and w.stock > 10 \
         where o.order_id < 60",
        "select c.customer_id, coalesce(o.qty, (select count(*) from corder where price > 9000)) \
         from customer c left join corder o on o.qty = c.score and o.order_id < 30 \
         where c.customer_id < 25",
        "select c.region, count(*), sum(if(o.order_id is null, 1, 0)), \
         sum(coalesce(o.price, 0.5)) from customer c left join corder o \
         on o.qty = c.score and o.order_id < 100 where c.customer_id < 50 group by c.region",
    ] {
        out.push(q(sql, false));
    }
    // WHERE conditions of a LEFT JOINed table vtgate cannot evaluate: `(c) IS TRUE` in its
    // table's query (and over its NULL row), under AND and OR.
    for sql in [
        "select c.customer_id, o.order_id from customer c left join corder o \
         on o.qty = c.score and o.order_id < 100 where coalesce(o.order_id, 0) = 0 \
         and c.customer_id < 40",
        "select c.customer_id, o.order_id from customer c left join corder o \
         on o.qty = c.score and o.order_id < 100 where (o.note like 'g%' or c.score > 60) \
         and c.customer_id < 40",
        "select c.customer_id, o.order_id from customer c left join corder o \
         on o.qty = c.score and o.order_id < 100 where not (o.note like 'G%') \
         and c.customer_id < 40",
        "select o.order_id, w.sku from corder o left join commerce.warehouse w \
         on w.sku = o.sku and w.stock > 15 where (ifnull(w.city, 'none') = 'none' \
         or (o.price > 5000 and lower(w.city) = 'paris')) and o.order_id < 120",
    ] {
        out.push(q(sql, false));
    }
    // ORDER BY keys that are not selected, of an inner and of a LEFT JOINed table.
    for sql in [
        "select c.name from customer c join corder o on o.qty = c.score \
         where c.customer_id < 20 and o.order_id < 60 order by o.price desc, o.order_id, \
         c.customer_id limit 15",
        "select c.customer_id from customer c left join corder o on o.qty = c.score \
         and o.order_id < 30 where c.customer_id < 25 \
         order by coalesce(o.order_id, 0) desc, c.customer_id, o.order_id",
        "select o.order_id, w.city from corder o join commerce.warehouse w on w.sku = o.sku \
         where o.order_id < 80 order by w.stock, lower(w.city) desc, o.order_id limit 20",
    ] {
        out.push(q(sql, true));
    }
}
