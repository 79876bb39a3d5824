//! Statements of several SELECTs pinned to one keyspace id go whole to its
//! shard; anything less certain does not.

use super::tests::describe;

/// Whether `sql` plans to one route sending the whole statement by `hash`.
fn whole_to_one_shard(sql: &str) -> bool {
    let stmt = sql::parse::parse(sql).unwrap();
    let Ok(plan) = super::plan(&stmt, &super::tests::vschema(), None) else {
        return false;
    };
    let d = plan.description().to_json();
    d["OperatorType"] == "Route"
        && d["Variant"] == "EqualUnique"
        && d["Vindex"] == "hash"
        && d["Query"] == sql::parse::parse(sql).unwrap().to_string()
}

#[test]
fn selects_pinned_to_one_keyspace_id_go_whole() {
    for sql in [
        "select max((select min(col) from user where id = 1))",
        "select exists (select id from user where id = 4)",
        "select (select u.id from user as u where u.id = 1), a.id from user as a where a.id = 1",
        "select (select (select col from user where id = 1) from music where user_id = 1) from user where id = 1",
        "select 1 from user where id = 1 and 1 = (select count(*) from music where user_id = 1)",
        "select t.c, (select 1 from ref limit 1) from (select count(*) as c from music where user_id = 5) as t",
        "select id from user where id = 3 union select user_id from music where user_id = 3",
    ] {
        assert!(whole_to_one_shard(sql), "{sql}: {}", describe(sql));
    }
    let d = describe("select max((select min(col) from user where id = 1))");
    assert_eq!(d["Values"][0], "1");
}

#[test]
fn anything_not_pinned_to_the_same_keyspace_id_is_not_merged() {
    for sql in [
        // Different values (even if they happened to share a shard).
        "select max((select min(col) from user where id = 1)) from user where id = 2",
        // Bind variables: the value could map nowhere.
        "select (select col from user where id = :v) from user where id = :v",
        // A lookup vindex is only known at run time.
        "select (select col from user where name = 'a') from user where id = 1",
        // One SELECT scatters.
        "select (select max(col) from music) from user where id = 1",
        "select id from user where id = 3 union select user_id from music",
        // A NULL maps to no shard.
        "select (select col from user where id = null) from user where id = null",
    ] {
        assert!(!whole_to_one_shard(sql), "{sql}");
    }
}

#[test]
fn hex_and_bit_literals_pin_nothing() {
    // MySQL compares `id = 0x37` as 55 but `hash` would read the byte `7`
    // and pick the shard of 7.
    for sql in [
        "select id from user where id = 0x37 union select user_id from music where user_id = 0x37",
        "select id from user where id = X'37' union select user_id from music where user_id = X'37'",
        "select id from user where id = b'111' union select user_id from music where user_id = b'111'",
    ] {
        assert!(!whole_to_one_shard(sql), "{sql}: {}", describe(sql));
    }
}
