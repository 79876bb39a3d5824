//! Real client libraries against the proxy and MariaDB directly: the Python drivers
//! (PyMySQL, mysqlclient, mysql-connector-python with and without prepared cursors) must see
//! the same Python types and values (`tests/clients/compare.py`), and mysql-connector-python
//! must log in with `auth_plugin='caching_sha2_password'`.

mod support;

use mysql_server::ServerConfig;
use support::{static_tls_config, Proxy, Twins, BACKEND_PORT, SETUP};

fn python(args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new("python3")
        .args(args)
        .output()
        .expect("python3 is needed for the client tests");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_drivers_see_the_same_values() {
    let db = Twins::create(SETUP).await;
    let proxy = Proxy::start(ServerConfig::default()).await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/compare.py");
    let args = [
        BACKEND_PORT.to_string(),
        proxy.addr.port().to_string(),
        db.direct.name.clone(),
        db.proxied.name.clone(),
    ];
    let (ok, out) = tokio::task::spawn_blocking(move || {
        let mut all = vec![script];
        all.extend(args.iter().map(String::as_str));
        python(&all)
    })
    .await
    .unwrap();
    assert!(ok, "{out}");
    assert_eq!(out.matches(": same").count(), out.lines().count(), "{out}");
    proxy.stop().await;
    db.drop_dbs().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_connector_logs_in_with_caching_sha2() {
    let proxy = Proxy::start(static_tls_config()).await;
    let port = proxy.addr.port();
    let code = format!(
        r#"
import mysql.connector
for user, pw, ssl_disabled in [("clear_user", "clear_pw", True), ("native_user", "mysql_password", False),
                               ("native_user", "mysql_password", True)]:
    c = mysql.connector.connect(host="127.0.0.1", port={port}, user=user, password=pw, use_pure=True,
                                auth_plugin="caching_sha2_password", ssl_disabled=ssl_disabled,
                                charset="utf8mb4", collation="utf8mb4_general_ci")
    cur = c.cursor()
    cur.execute("SELECT 6 * 7")
    print(user, ssl_disabled, cur.fetchall()[0][0])
    c.close()
try:
    mysql.connector.connect(host="127.0.0.1", port={port}, user="clear_user", password="bad",
                            use_pure=True, auth_plugin="caching_sha2_password", ssl_disabled=True)
except mysql.connector.Error as e:
    print(e.errno, e.sqlstate)
"#
    );
    let (ok, out) = tokio::task::spawn_blocking(move || python(&["-c", &code]))
        .await
        .unwrap();
    assert!(ok, "{out}");
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "clear_user True 42",
            "native_user False 42",
            "native_user True 42",
            "1045 28000"
        ],
        "{out}"
    );
    proxy.stop().await;
}
