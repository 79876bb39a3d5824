//! Joins vtgate plans in another order than written: inner joins whose second table is read
//! more cheaply first (an unsharded table, or a sharded one pinned by its vindex), so the
//! other is then reached through its vindex by the join's bind variable; ON conditions of an
//! inner join that read only earlier tables, which run in those tables' queries; and the same
//! next to LEFT JOINs, whose ON conditions stay where they are.

use super::{q, Query};

pub(super) fn join_order_queries(out: &mut Vec<Query>) {
    for sql in [
        "select w.city, w.stock, c.customer_id, c.name from customer c \
         join commerce.warehouse w where w.stock = c.customer_id",
        "select c.customer_id, c.name, w.sku from customer c join commerce.warehouse w \
         on c.customer_id = w.stock and w.city = 'paris'",
        "select c.customer_id, c.name, o.order_id, o.qty from customer c join corder o \
         on c.customer_id = o.qty where o.customer_id = 7",
        "select c.name, o.order_id from customer c join corder o \
         on c.customer_id = o.qty where o.customer_id in (7, 8, 9, 11)",
        "select c.customer_id, o.order_id from customer c join corder o \
         on c.score = o.qty where o.customer_id = 3",
        "select c.name, o.order_id from customer c join corder o on c.customer_id = 3 \
         where o.order_id < 20",
        "select c.name, o.order_id from customer c join corder o on 3 = c.customer_id \
         and o.qty = c.score",
        "select c.customer_id, o.order_id, w.city from customer c join corder o \
         on o.customer_id = c.customer_id join commerce.warehouse w on w.sku = o.sku \
         where w.stock = 7",
        "select c.customer_id, o.order_id, w.city from commerce.warehouse w join corder o \
         on w.sku = o.sku join customer c on c.customer_id = o.qty where w.city = 'Oslo'",
        "select c.customer_id, o.order_id, p.order_id from customer c left join corder o \
         on o.qty = c.score and o.order_id < 40 join corder p on c.customer_id = p.qty \
         and c.customer_id < 30",
        "select c.customer_id, o.order_id, p.order_id from customer c left join corder o \
         on o.qty = c.score and o.order_id < 40 join corder p on o.order_id = p.qty \
         where c.customer_id < 30",
        "select c.customer_id, o.order_id, p.order_id from customer c left join corder o \
         on o.qty = c.score and o.order_id < 40 join corder p on o.order_id is null \
         and p.order_id = c.customer_id where c.customer_id < 30",
        "select c.customer_id, d.customer_id from customer c join customer d \
         on d.customer_id = c.score where c.big = 9223372036854775807",
        "select o.order_id, c.name from corder o join customer c on c.customer_id = o.qty \
         and c.name = 'alice' where o.price > 4000",
        // A LEFT-joined table pinned by the WHERE routes the join like an inner one.
        "select c.customer_id, o.order_id from customer c left join corder o \
         on c.customer_id = o.customer_id where o.customer_id = 7",
        "select c.name, o.order_id, o.note from customer c left join corder o \
         on o.customer_id = c.customer_id and o.qty > 2 where o.customer_id in (7, 8, 1500, 1501)",
        "select c.name, o.order_id from customer c left join corder o \
         on o.customer_id = c.customer_id where o.customer_id = 1501",
        "select count(*), count(o.order_id), sum(c.score) from customer c left join corder o \
         on o.customer_id = c.customer_id where o.customer_id = 7",
        "select c.customer_id, o.order_id from customer c left join corder o \
         on o.customer_id = c.customer_id where o.customer_id = 7 or o.customer_id = 9",
        "select c.customer_id, o.order_id from customer c left join corder o \
         on o.customer_id = c.customer_id where o.customer_id = null",
        // Both tables have the vindex column: MySQL's ambiguity error on both sides.
        "select customer_id from customer c join corder o on o.qty = c.score \
         where c.customer_id < 5",
    ] {
        out.push(q(sql, false));
    }
    for sql in [
        "select c.customer_id, o.order_id from customer c join corder o \
         on c.customer_id = o.qty where o.customer_id in (7, 8, 9) \
         order by o.order_id, c.customer_id limit 5",
        "select w.sku, c.customer_id from customer c join commerce.warehouse w \
         on w.stock = c.customer_id order by w.sku desc limit 4",
    ] {
        out.push(q(sql, true));
    }
}
