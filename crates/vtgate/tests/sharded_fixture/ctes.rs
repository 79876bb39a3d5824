//! Common table expressions across shards: each reference to a non-recursive CTE is planned
//! as its query in a derived table. A recursive CTE goes whole to one shard when it reads no
//! table, reference tables or one unsharded keyspace; over sharded tables vtgate iterates it
//! (one SELECT UNION [ALL] one SELECT), also where the statement joins it. Nested WITHs are
//! refused.

use super::{q, Query};

pub(super) fn cte_queries(out: &mut Vec<Query>) {
    for (sql, ordered) in [
        ("with c as (select customer_id, score from customer where score > 80) \
          select * from c order by customer_id", true),
        ("with c as (select customer_id, region from customer) \
          select region, count(*) from c group by region order by region", true),
        ("with big as (select customer_id, sum(price) as total from corder group by customer_id) \
          select count(*), max(total) from big where total > 1000", false),
        ("with c (id, s) as (select customer_id, score from customer where customer_id < 40) \
          select id, s from c where s is not null order by s desc, id limit 5", true),
        ("with o as (select order_id, customer_id, price from corder where price > 9000) \
          select c.customer_id, c.name, o.order_id from customer c join o \
          on o.customer_id = c.customer_id order by o.order_id", true),
        ("with o as (select customer_id from corder where qty = 3) \
          select count(*) from customer where customer_id in (select customer_id from o)", false),
        ("with a as (select customer_id, score from customer where score > 50), \
          b as (select customer_id from a where score < 90) \
          select count(*) from b", false),
        ("with a as (select customer_id from customer where customer_id < 20) \
          select x.customer_id, y.customer_id from a x join a y on y.customer_id = x.customer_id + 1 \
          order by x.customer_id", true),
        ("with t as (select sku, count(*) as n from corder group by sku) \
          select p.sku, t.n from product p left join t on t.sku = p.sku order by p.sku", true),
        ("with corder as (select * from corder where order_id < 100) \
          select count(*), sum(price) from corder", false),
        ("with c as (select distinct region from customer) select * from c order by region", true),
        ("with c as (select customer_id from customer where customer_id = 7) \
          select o.order_id from corder o join c on c.customer_id = o.customer_id \
          order by o.order_id", true),
        ("with c as (select customer_id, name from customer where customer_id < 10) \
          select name from c union select sku from corder where order_id < 5", false),
        // Recursive, sent whole: no table, a reference table, the unsharded keyspace.
        ("with recursive r as (select 1 as n union all select n + 1 from r where n < 12) \
          select n, n * n from r order by n", true),
        ("with recursive r (n, s) as (select 1, cast('a' as char(20)) union all \
          select n + 1, concat(s, 'b') from r where n < 6) select * from r", false),
        ("with recursive r as (select sku, price, 0 as depth from product where price < 50 \
          union all select p.sku, p.price, r.depth + 1 from r join product p \
          on p.price = r.price * 2 where r.depth < 4) select * from r", false),
        ("with recursive r as (select sku, stock from commerce.warehouse where stock < 20 \
          union select w.sku, w.stock from r join commerce.warehouse w on w.stock = r.stock + 1) \
          select count(*), sum(stock) from r", false),
        // Recursive over sharded tables: iterated in vtgate, per row of the last iteration.
        ("with recursive r as (select customer_id, score, 0 as d from customer \
          where customer_id in (1, 21, 31) union all select c.customer_id, c.score, r.d + 1 \
          from r join customer c on c.customer_id = r.customer_id + 1 where r.d < 6) \
          select * from r", false),
        ("with recursive r as (select customer_id, score, 0 as d from customer \
          where customer_id < 4 union all select c.customer_id, c.score, r.d + 1 \
          from customer c join r on c.customer_id = r.customer_id + 2 where r.d < 5) \
          select d, count(*), sum(score) from r group by d order by d", true),
        ("with recursive r as (select order_id, customer_id, qty from corder where order_id = 5 \
          union all select o.order_id, o.customer_id, o.qty from r, corder o \
          where o.order_id = r.order_id + 7 and r.order_id < 300) \
          select count(*), sum(qty), max(order_id) from r", false),
        ("with recursive r (id, n) as (select customer_id, 1 from customer where customer_id < 4 \
          union all select id, n + 1 from r where n < 3) select * from r order by id, n", true),
        ("with recursive r as (select customer_id, name, region from customer \
          where customer_id between 1 and 3 union all select c.customer_id, c.name, c.region \
          from r join customer c on c.customer_id = r.customer_id + 3 where c.customer_id < 20) \
          select * from r where region is not null order by customer_id limit 4", true),
        // MariaDB's max_recursive_iterations (1000) ends it without an error
        ("with recursive r as (select customer_id, 0 as n from customer where customer_id = 1 \
          union all select customer_id, n + 1 from r where n < 5000) \
          select count(*), max(n) from r", false),
        // the seed's types: text too long is MariaDB's 1406 on both sides
        ("with recursive r as (select customer_id, cast('a' as char(3)) as s from customer \
          where customer_id = 1 union all select c.customer_id, concat(r.s, 'x') from r \
          join customer c on c.customer_id = r.customer_id + 1 where c.customer_id < 9) \
          select * from r", false),
        // joined by the statement, or read in its subquery: a derived table vtgate computes
        ("with recursive r as (select 1 as n union all select n + 1 from r where n < 5) \
          select * from r join customer c on c.customer_id = r.n", false),
        ("with recursive r as (select customer_id, 0 as d from customer \
          where customer_id in (1, 21) union all select c.customer_id, r.d + 1 from r \
          join customer c on c.customer_id = r.customer_id + 1 where r.d < 4) \
          select r.d, c.customer_id, c.name, o.order_id from r \
          join customer c on c.customer_id = r.customer_id \
          join corder o on o.customer_id = c.customer_id", false),
        ("with recursive r as (select customer_id, 0 as d from customer where customer_id < 3 \
          union all select c.customer_id, r.d + 1 from r join customer c \
          on c.customer_id = r.customer_id + 2 where r.d < 5) \
          select r.customer_id, r.d, o.order_id from r left join corder o \
          on o.customer_id = r.customer_id and o.qty > 5", false),
        ("with recursive r as (select customer_id from customer where customer_id < 3 \
          union all select c.customer_id from r join customer c \
          on c.customer_id = r.customer_id + 2 where c.customer_id < 15) \
          select count(*), sum(price) from corder where customer_id in (select customer_id from r)", false),
        ("select count(*), sum(price) from corder where customer_id in (with recursive r as \
          (select customer_id from customer where customer_id < 3 union all select c.customer_id \
          from r join customer c on c.customer_id = r.customer_id + 2 where c.customer_id < 15) \
          select customer_id from r)", false),
        // UNION DISTINCT: a row the CTE holds already (by its collation: names differing in
        // case are one) is neither added nor iterated on, so this cycle ends
        ("with recursive r as (select customer_id, score from customer where customer_id < 3 \
          union select c.customer_id, c.score from r join customer c \
          on c.customer_id = (r.customer_id + 1) % 6 + 1) select * from r", false),
        ("with recursive r as (select region from customer where customer_id = 1 \
          union select c.region from r join customer c on c.region = r.region \
          or c.customer_id < 12) select count(*) from r", false),
        // Refused: three SELECTs, a recursive CTE in a subquery the shards would run each
        // over their own rows, nested WITH.
        ("select customer_id, (with recursive r as (select order_id from corder \
          where customer_id = 1 union all select o.order_id from r join corder o \
          on o.order_id = r.order_id + 7 where o.order_id < 100) select count(*) from r) \
          from customer where customer_id = 1", false),
        ("with recursive r as (select customer_id from customer where customer_id < 3 \
          union select customer_id from customer where customer_id = 5 \
          union select c.customer_id from r join customer c on c.customer_id = r.customer_id + 1 \
          where c.customer_id < 9) select * from r", false),
        ("with c as (with d as (select customer_id from customer) select * from d) \
          select count(*) from c", false),
    ] {
        out.push(q(sql, ordered));
    }
}
