//! `vtlocal up --example sharded`: commerce plus keyspace `customer` sharded `-80,80-`
//! (nine tablets, nine MariaDB instances). The example's inserts run through vtgate with
//! no database selected; customers get ids from the `commerce` sequences, every row lands
//! on exactly one of the two shards, and the selects through vtgate match one plain MariaDB.

mod support;

use support::{mariadb, read_config, reserve_port_offset};

fn ports() -> Vec<u16> {
    let mut p = vec![2379, 2380, 15306, 15001];
    for uid in [100, 101, 102, 200, 201, 202, 300, 301, 302] {
        p.extend([15000 + uid, 16000 + uid, 17000 + uid]);
    }
    p
}

#[test]
fn sharded_example_through_vtgate_matches_one_mariadb() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dataroot = dir.path().join("vtdataroot");
    let slot = reserve_port_offset(&ports());
    let offset = slot.offset;
    let vtgate_port = (15306 + offset).to_string();
    let vtgate = vtgate_port.as_str();
    let _down = support::up(&dataroot, offset, &["--example", "sharded"]);

    let inserts = read_config("insert_commerce_data.sql");
    let (ok, _, err) = mariadb(vtgate, &[], &inserts);
    assert!(ok, "inserts through vtgate failed: {err}");

    // Sequences start at 1000 (create_commerce_seq.sql); the orders name customers 1..5,
    // as in Vitess's example data.
    let selects = "select customer_id, email from customer order by customer_id;\n\
                   select customer_id, sku, price from corder order by order_id;\n\
                   select c.email, sum(o.price) from customer c join corder o \
                   on c.customer_id = o.customer_id group by c.email order by c.email;\n\
                   select count(*) from customer;\n";
    let (ok, actual, err) = mariadb(vtgate, &["--table"], selects);
    assert!(ok, "selects through vtgate failed: {err}");
    let (ok, out, _) = mariadb(
        vtgate,
        &["-N"],
        "select customer_id from customer order by customer_id",
    );
    assert!(ok);
    let ids: Vec<&str> = out.lines().collect();
    assert_eq!(
        ids,
        ["1000", "1001", "1002", "1003", "1004"],
        "sequence ids"
    );

    // The same rows in one plain database give the same output.
    let reference_db = format!("vtlocal_shref_{}", std::process::id());
    let schema = read_config("create_commerce_schema.sql");
    let setup = format!(
        "drop database if exists {reference_db}; create database {reference_db}; use {reference_db};\n\
         {schema}\n\
         insert into customer(customer_id, email) values (1000, 'alice@domain.com'), \
         (1001, 'bob@domain.com'), (1002, 'charlie@domain.com'), (1003, 'dan@domain.com'), \
         (1004, 'eve@domain.com');\n\
         insert into corder(order_id, customer_id, sku, price) values (1000, 1, 'SKU-1001', 100), \
         (1001, 2, 'SKU-1002', 30), (1002, 3, 'SKU-1002', 30), (1003, 4, 'SKU-1002', 30), \
         (1004, 5, 'SKU-1002', 30);\n"
    );
    let (ok, _, err) = mariadb("3306", &[], &setup);
    assert!(ok, "reference setup failed: {err}");
    let (ok, expected, err) = mariadb("3306", &["--table", &reference_db], selects);
    mariadb("3306", &[], &format!("drop database {reference_db}"));
    assert!(ok, "reference select failed: {err}");
    assert_eq!(actual, expected, "vtgate output differs from one MariaDB");

    // Each customer is on exactly one shard, and both shards hold some.
    let mut per_shard = Vec::new();
    for shard in ["-80", "80-"] {
        let (ok, out, err) = mariadb(
            vtgate,
            &["-N"],
            &format!("use `customer/{shard}`; select count(*) from customer"),
        );
        assert!(ok, "{shard}: {err}");
        per_shard.push(out.trim().parse::<u32>().expect("count"));
    }
    assert_eq!(per_shard.iter().sum::<u32>(), 5, "{per_shard:?}");
    assert!(per_shard.iter().all(|&n| n > 0), "{per_shard:?}");
}
