//! The vindex registry: vindex type name to constructor (Vitess
//! `vindexes.Register` / `CreateVindex`).

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use super::{
    binary, binary_md5, cfc, hash, lookup, multicol, null, numeric, numeric_static_map,
    region_experimental, reverse_bits, unicode_loose, xxhash, Params, Vindex, VindexError,
};

/// Builds a vindex from its VSchema name and params.
pub type VindexConstructor = fn(&str, &Params) -> Result<Arc<dyn Vindex>, VindexError>;

/// Vindex constructors by type name.
#[derive(Debug, Clone)]
pub struct Registry {
    constructors: BTreeMap<String, VindexConstructor>,
}

impl Registry {
    /// The built-in vindex types.
    pub fn builtin() -> Self {
        let mut r = Registry {
            constructors: BTreeMap::new(),
        };
        r.register("hash", hash::new);
        r.register("xxhash", xxhash::new);
        r.register("numeric", numeric::new);
        r.register("numeric_static_map", numeric_static_map::new);
        r.register("binary", binary::new);
        r.register("binary_md5", binary_md5::new);
        r.register("reverse_bits", reverse_bits::new);
        r.register("null", null::new);
        r.register("multicol", multicol::new);
        r.register("cfc", cfc::new);
        r.register("region_experimental", region_experimental::new);
        r.register("unicode_loose_md5", unicode_loose::new_md5);
        r.register("unicode_loose_xxhash", unicode_loose::new_xxhash);
        for (name, ctor) in lookup::constructors() {
            r.register(name, ctor);
        }
        r
    }

    /// Adds or replaces a vindex type (tests register Vitess's test-only types).
    pub fn register(&mut self, type_name: &str, constructor: VindexConstructor) {
        self.constructors.insert(type_name.to_string(), constructor);
    }

    /// Whether a type name is registered.
    pub fn contains(&self, type_name: &str) -> bool {
        self.constructors.contains_key(type_name)
    }

    /// Creates a vindex; unknown types give `vindexType "x" not found`.
    pub fn create(
        &self,
        type_name: &str,
        name: &str,
        params: &Params,
    ) -> Result<Arc<dyn Vindex>, VindexError> {
        let ctor = self
            .constructors
            .get(type_name)
            .ok_or_else(|| VindexError::UnknownType(type_name.to_string()))?;
        ctor(name, params)
    }
}

impl Default for Registry {
    fn default() -> Self {
        Registry::builtin()
    }
}

/// Creates a vindex from the built-in registry.
pub fn create_vindex(
    type_name: &str,
    name: &str,
    params: &Params,
) -> Result<Arc<dyn Vindex>, VindexError> {
    static BUILTIN: OnceLock<Registry> = OnceLock::new();
    BUILTIN
        .get_or_init(Registry::builtin)
        .create(type_name, name, params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_type() {
        let err = create_vindex("nope", "v", &Params::new()).unwrap_err();
        assert_eq!(err.to_string(), r#"vindexType "nope" not found"#);
    }

    #[test]
    fn every_builtin_reports_its_type_and_name() {
        let r = Registry::builtin();
        for t in r.constructors.keys() {
            let mut params = Params::new();
            match t.as_str() {
                "numeric_static_map" => params.insert("json".into(), "{}".into()),
                "multicol" => params.insert("column_count".into(), "2".into()),
                "region_experimental" => params.insert("region_bytes".into(), "1".into()),
                _ => None,
            };
            let v = r.create(t, "my_vindex", &params).unwrap();
            assert_eq!(v.type_name(), t);
            assert_eq!(v.name(), "my_vindex");
        }
    }

    #[test]
    fn register_extra_type() {
        let mut r = Registry::builtin();
        assert!(!r.contains("hash_test"));
        r.register("hash_test", hash::new);
        assert!(r.contains("hash_test"));
        assert_eq!(
            r.create("hash_test", "h", &Params::new())
                .unwrap()
                .type_name(),
            "hash"
        );
    }

    #[test]
    fn unknown_params_are_reported() {
        let params: Params = [("foo".to_string(), "1".to_string())].into();
        let v = create_vindex("xxhash", "v", &params).unwrap();
        assert_eq!(v.unknown_params(), ["foo".to_string()]);
    }
}
