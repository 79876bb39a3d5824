//! Who may log in: `--mysql-auth-server-impl none` (anyone) or `static` (a JSON file in
//! Vitess's format), and the pure verification of what clients send for
//! `mysql_native_password` and `caching_sha2_password`.
//!
//! Static file format (Vitess `mysql_auth_server_static_creds.json`): an object mapping each
//! user to a list of entries; an entry has `Password` (clear text) and/or
//! `MysqlNativePassword` (`*` + hex of SHA1(SHA1(password))), `UserData`, and optionally
//! `SourceHost` (`localhost` entries apply only to unix sockets, which this server does not
//! serve, so they never match) and `Groups`. A login succeeds if any entry matches.
//!
//! `caching_sha2_password` fast path: the scramble is checked against the clear-text
//! `Password` entries and against a cache of SHA256(SHA256(password)) of users who completed a
//! full authentication before (full authentication sends the password in clear, over TLS).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use serde::Deserialize;
use sha1::{Digest as _, Sha1};
use sha2::Sha256;

use crate::error::ServerError;

/// `UserData` given to every user under auth `none` (as Vitess does).
pub const NONE_USER_DATA: &str = "userData1";

/// Authentication plugins the server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plugin {
    /// `mysql_native_password`.
    Native,
    /// `caching_sha2_password`.
    CachingSha2,
}

impl Plugin {
    /// The plugin's wire name.
    pub fn name(self) -> &'static str {
        match self {
            Plugin::Native => "mysql_native_password",
            Plugin::CachingSha2 => "caching_sha2_password",
        }
    }

    /// Recognises a plugin name sent by a client.
    pub fn from_name(name: &[u8]) -> Option<Self> {
        match name {
            b"mysql_native_password" => Some(Plugin::Native),
            b"caching_sha2_password" => Some(Plugin::CachingSha2),
            _ => None,
        }
    }
}

/// Outcome of checking a scramble.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Logged in; carries the entry's `UserData`.
    Accept(String),
    /// Wrong user or password.
    Reject,
    /// caching_sha2: the fast path cannot decide; the clear password is needed (full auth).
    NeedFullAuth,
}

/// The configured way of authenticating users.
#[derive(Debug)]
pub enum AuthServer {
    /// Accept every user with any password.
    None,
    /// Users from a static file.
    Static(StaticAuth),
}

impl AuthServer {
    /// Checks the scramble a client computed with `plugin` over `salt`.
    pub fn check_scramble(
        &self,
        user: &str,
        plugin: Plugin,
        salt: &[u8],
        response: &[u8],
    ) -> Verdict {
        match self {
            AuthServer::None => Verdict::Accept(NONE_USER_DATA.to_string()),
            AuthServer::Static(s) => s.check_scramble(user, plugin, salt, response),
        }
    }

    /// Checks a clear-text password (caching_sha2 full authentication).
    pub fn check_clear(&self, user: &str, password: &[u8]) -> Verdict {
        match self {
            AuthServer::None => Verdict::Accept(NONE_USER_DATA.to_string()),
            AuthServer::Static(s) => s.check_clear(user, password),
        }
    }
}

/// One entry of a user in the static file.
#[derive(Debug, Clone, Deserialize)]
struct RawEntry {
    #[serde(rename = "Password", default)]
    password: Option<String>,
    #[serde(rename = "MysqlNativePassword", default)]
    native: Option<String>,
    #[serde(rename = "UserData", default)]
    user_data: String,
    #[serde(rename = "SourceHost", default)]
    source_host: Option<String>,
}

#[derive(Debug, Clone)]
struct Entry {
    password: Option<Vec<u8>>,
    /// SHA1(SHA1(password)); empty password hashes to `None` with `Some(empty)` password.
    native: Option<[u8; 20]>,
    user_data: String,
}

/// Users and passwords from a Vitess static auth file.
#[derive(Debug)]
pub struct StaticAuth {
    users: HashMap<String, Vec<Entry>>,
    /// User -> (SHA256(SHA256(password)), the UserData of the entry that password matched).
    sha2_cache: Mutex<HashMap<String, ([u8; 32], String)>>,
}

impl StaticAuth {
    /// Loads `--mysql-auth-server-static-file`.
    pub fn from_file(path: &Path) -> Result<Self, ServerError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ServerError::Auth(format!("{}: {e}", path.display())))?;
        Self::from_json(&text)
    }

    /// Parses the JSON text of a static auth file.
    pub fn from_json(text: &str) -> Result<Self, ServerError> {
        let raw: HashMap<String, Vec<RawEntry>> =
            serde_json::from_str(text).map_err(|e| ServerError::Auth(e.to_string()))?;
        let mut users = HashMap::new();
        for (user, entries) in raw {
            let mut parsed = Vec::new();
            for e in entries {
                if e.source_host.as_deref().is_some_and(|h| !h.is_empty()) {
                    continue;
                }
                let native = match e.native.as_deref() {
                    None | Some("") => None,
                    Some(hex) => Some(parse_native_hash(hex).ok_or_else(|| {
                        ServerError::Auth(format!("user {user}: bad MysqlNativePassword {hex:?}"))
                    })?),
                };
                parsed.push(Entry {
                    password: e.password.map(String::into_bytes),
                    native,
                    user_data: e.user_data,
                });
            }
            users.insert(user, parsed);
        }
        Ok(Self {
            users,
            sha2_cache: Mutex::new(HashMap::new()),
        })
    }

    fn check_scramble(&self, user: &str, plugin: Plugin, salt: &[u8], response: &[u8]) -> Verdict {
        let Some(entries) = self.users.get(user) else {
            return Verdict::Reject;
        };
        for e in entries {
            let ok = match plugin {
                Plugin::Native => native_matches(e, salt, response),
                Plugin::CachingSha2 => match &e.password {
                    Some(pw) => sha2_clear_matches(pw, salt, response),
                    None => false,
                },
            };
            if ok {
                return Verdict::Accept(e.user_data.clone());
            }
        }
        if plugin == Plugin::Native {
            return Verdict::Reject;
        }
        let cached = self.cache().get(user).cloned();
        if let Some((digest, user_data)) = cached {
            if sha2_digest_matches(&digest, salt, response) {
                return Verdict::Accept(user_data);
            }
        }
        if entries
            .iter()
            .any(|e| e.password.is_none() && e.native.is_some())
        {
            Verdict::NeedFullAuth
        } else {
            Verdict::Reject
        }
    }

    fn check_clear(&self, user: &str, password: &[u8]) -> Verdict {
        let Some(entries) = self.users.get(user) else {
            return Verdict::Reject;
        };
        for e in entries {
            let ok = match (&e.password, &e.native) {
                (Some(pw), _) if pw.as_slice() == password => true,
                (_, Some(hash)) => !password.is_empty() && double_sha1(password) == *hash,
                _ => false,
            };
            if ok {
                let digest: [u8; 32] = Sha256::digest(Sha256::digest(password)).into();
                self.cache()
                    .insert(user.to_string(), (digest, e.user_data.clone()));
                return Verdict::Accept(e.user_data.clone());
            }
        }
        Verdict::Reject
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, ([u8; 32], String)>> {
        // The cache only holds plain data; a panic elsewhere cannot leave it inconsistent.
        self.sha2_cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn parse_native_hash(text: &str) -> Option<[u8; 20]> {
    let hex = text.strip_prefix('*')?;
    if hex.len() != 40 {
        return None;
    }
    let mut out = [0u8; 20];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

fn double_sha1(password: &[u8]) -> [u8; 20] {
    Sha1::digest(Sha1::digest(password)).into()
}

/// mysql_native_password: response = SHA1(pw) XOR SHA1(salt + SHA1(SHA1(pw))).
fn native_matches(e: &Entry, salt: &[u8], response: &[u8]) -> bool {
    let stage2 = match (&e.native, &e.password) {
        (Some(hash), _) => *hash,
        (None, Some(pw)) if pw.is_empty() => return response.is_empty(),
        (None, Some(pw)) => double_sha1(pw),
        (None, None) => return response.is_empty(),
    };
    if response.len() != 20 {
        return false;
    }
    let mut h = Sha1::new();
    h.update(salt);
    h.update(stage2);
    let mask = h.finalize();
    let stage1: Vec<u8> = response
        .iter()
        .zip(mask.iter())
        .map(|(a, b)| a ^ b)
        .collect();
    let candidate: [u8; 20] = Sha1::digest(&stage1).into();
    candidate == stage2
}

fn sha2_clear_matches(password: &[u8], salt: &[u8], response: &[u8]) -> bool {
    if password.is_empty() {
        return response.is_empty();
    }
    let digest: [u8; 32] = Sha256::digest(Sha256::digest(password)).into();
    sha2_digest_matches(&digest, salt, response)
}

/// caching_sha2_password: response = SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) + salt).
fn sha2_digest_matches(digest: &[u8; 32], salt: &[u8], response: &[u8]) -> bool {
    if response.len() != 32 {
        return false;
    }
    let mut h = Sha256::new();
    h.update(digest);
    h.update(salt);
    let mask = h.finalize();
    let stage1: Vec<u8> = response
        .iter()
        .zip(mask.iter())
        .map(|(a, b)| a ^ b)
        .collect();
    let candidate: [u8; 32] = Sha256::digest(&stage1).into();
    candidate == *digest
}

#[cfg(test)]
mod tests {
    use super::*;
    use mysql_common::scramble::{scramble_native, scramble_sha256};

    const FILE: &str = r#"{
      "mysql_user": [{"MysqlNativePassword": "*9E128DA0C64A6FCCCDCFBDD0FC0A2C967C6DB36F",
                      "Password": "mysql_password", "UserData": "mysql_user"}],
      "hash_only": [{"MysqlNativePassword": "*9E128DA0C64A6FCCCDCFBDD0FC0A2C967C6DB36F",
                     "UserData": "h"}],
      "two": [{"Password": "first", "UserData": "a"}, {"Password": "second", "UserData": "b"}],
      "empty": [{"Password": "", "UserData": "e"}],
      "local": [{"SourceHost": "localhost", "Password": "", "UserData": "l"}]
    }"#;
    const SALT: &[u8; 20] = b"abcdefghij0123456789";

    fn auth() -> AuthServer {
        AuthServer::Static(StaticAuth::from_json(FILE).unwrap())
    }

    #[test]
    fn native_password_against_clear_and_hashed_entries() {
        let a = auth();
        let good = scramble_native(SALT, b"mysql_password").unwrap();
        let bad = scramble_native(SALT, b"nope").unwrap();
        for user in ["mysql_user", "hash_only"] {
            assert_eq!(
                a.check_scramble(user, Plugin::Native, SALT, &good),
                Verdict::Accept(
                    if user == "hash_only" {
                        "h"
                    } else {
                        "mysql_user"
                    }
                    .into()
                )
            );
            assert_eq!(
                a.check_scramble(user, Plugin::Native, SALT, &bad),
                Verdict::Reject
            );
            assert_eq!(
                a.check_scramble(user, Plugin::Native, SALT, b""),
                Verdict::Reject
            );
        }
        assert_eq!(
            a.check_scramble("nobody", Plugin::Native, SALT, &good),
            Verdict::Reject
        );
    }

    #[test]
    fn several_entries_and_empty_passwords() {
        let a = auth();
        let second = scramble_native(SALT, b"second").unwrap();
        assert_eq!(
            a.check_scramble("two", Plugin::Native, SALT, &second),
            Verdict::Accept("b".into())
        );
        assert_eq!(
            a.check_scramble("empty", Plugin::Native, SALT, b""),
            Verdict::Accept("e".into())
        );
        assert_eq!(
            a.check_scramble("local", Plugin::Native, SALT, b""),
            Verdict::Reject
        );
    }

    #[test]
    fn caching_sha2_fast_path_full_auth_and_cache() {
        let a = auth();
        let good = scramble_sha256(SALT, b"mysql_password").unwrap();
        assert_eq!(
            a.check_scramble("mysql_user", Plugin::CachingSha2, SALT, &good),
            Verdict::Accept("mysql_user".into())
        );
        // only a native hash: the fast path needs the cache, filled by a full auth
        assert_eq!(
            a.check_scramble("hash_only", Plugin::CachingSha2, SALT, &good),
            Verdict::NeedFullAuth
        );
        assert_eq!(a.check_clear("hash_only", b"wrong"), Verdict::Reject);
        assert_eq!(
            a.check_clear("hash_only", b"mysql_password"),
            Verdict::Accept("h".into())
        );
        let other_salt = b"zyxwvutsrq9876543210";
        let again = scramble_sha256(other_salt, b"mysql_password").unwrap();
        assert_eq!(
            a.check_scramble("hash_only", Plugin::CachingSha2, other_salt, &again),
            Verdict::Accept("h".into())
        );
        let bad = scramble_sha256(SALT, b"x").unwrap();
        assert_eq!(
            a.check_scramble("mysql_user", Plugin::CachingSha2, SALT, &bad),
            Verdict::Reject
        );
    }

    #[test]
    fn the_fast_path_reports_the_user_data_of_the_password_that_matched() {
        // Two hash-only entries for one user: the cache must remember which one matched.
        let hash = |pw: &[u8]| {
            let h = double_sha1(pw);
            let hex: String = h.iter().map(|b| format!("{b:02X}")).collect();
            format!("*{hex}")
        };
        let file = format!(
            r#"{{"u": [{{"MysqlNativePassword": "{}", "UserData": "first"}},
                      {{"MysqlNativePassword": "{}", "UserData": "second"}}]}}"#,
            hash(b"one"),
            hash(b"two")
        );
        let a = AuthServer::Static(StaticAuth::from_json(&file).unwrap());
        assert_eq!(a.check_clear("u", b"two"), Verdict::Accept("second".into()));
        let fast = scramble_sha256(SALT, b"two").unwrap();
        assert_eq!(
            a.check_scramble("u", Plugin::CachingSha2, SALT, &fast),
            Verdict::Accept("second".into())
        );
    }

    #[test]
    fn none_accepts_everyone_and_bad_files_are_errors() {
        assert_eq!(
            AuthServer::None.check_scramble("x", Plugin::Native, SALT, b"junk"),
            Verdict::Accept(NONE_USER_DATA.into())
        );
        assert!(StaticAuth::from_json("[1]").is_err());
        assert!(StaticAuth::from_json(r#"{"u":[{"MysqlNativePassword":"*12"}]}"#).is_err());
    }

    #[test]
    fn vitess_example_file_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../config/mysql_auth_server_static_creds.json");
        let a = StaticAuth::from_file(&path).unwrap();
        assert_eq!(a.users.len(), 4);
    }
}
