//! Helpers that make serde read JSON the way protojson (`UnmarshalOptions`
//! with `DiscardUnknown`) does: `null` means the default value, enums are
//! given by name or number, 32-bit integers and floats may be quoted.

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serializer};
use std::fmt;

/// Reads `null` as the type's default value.
pub fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Whether a value is its type's default (used to omit it on output, as
/// protojson omits unpopulated fields).
pub fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// A protobuf enum named in JSON by its value names.
pub trait PbEnum: Sized {
    /// The protobuf enum's full name, for error messages.
    const NAME: &'static str;
    /// The value with that name.
    fn from_name(name: &str) -> Option<Self>;
    /// The value with that number (open enums accept any number).
    fn from_number(n: i32) -> Self;
    /// The value's name, or `None` for an unnamed number.
    fn name(&self) -> Option<&'static str>;
    /// The value's number.
    fn number(&self) -> i32;
}

/// Deserializes a [`PbEnum`] from its name, its number, or `null` (default).
pub fn enum_value<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: PbEnum + Default,
{
    struct V<T>(std::marker::PhantomData<T>);
    impl<'de, T: PbEnum + Default> Visitor<'de> for V<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            write!(f, "a {} enum name or number", T::NAME)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
            T::from_name(v)
                .ok_or_else(|| E::custom(format!("invalid value for enum {}: {v}", T::NAME)))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
            i32::try_from(v)
                .map(T::from_number)
                .map_err(|_| E::custom(format!("invalid value for enum {}: {v}", T::NAME)))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
            i32::try_from(v)
                .map(T::from_number)
                .map_err(|_| E::custom(format!("invalid value for enum {}: {v}", T::NAME)))
        }
        fn visit_unit<E: de::Error>(self) -> Result<T, E> {
            Ok(T::default())
        }
    }
    d.deserialize_any(V(std::marker::PhantomData))
}

/// Serializes a [`PbEnum`] by name (by number when it has no name).
pub fn serialize_enum<S: Serializer, T: PbEnum>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    match v.name() {
        Some(name) => s.serialize_str(name),
        None => s.serialize_i32(v.number()),
    }
}

/// Deserializes an `int32` given as a number, a quoted number, or `null`.
pub fn int32<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Repr {
        Num(i64),
        Text(String),
    }
    match Option::<Repr>::deserialize(d)? {
        None => Ok(0),
        Some(Repr::Num(n)) => i32::try_from(n).map_err(de::Error::custom),
        Some(Repr::Text(t)) => t.parse::<i32>().map_err(de::Error::custom),
    }
}

/// Deserializes a `float` given as a number, a quoted number, or `null`.
pub fn float<'de, D: Deserializer<'de>>(d: D) -> Result<f32, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Repr {
        Num(f64),
        Text(String),
    }
    match Option::<Repr>::deserialize(d)? {
        None => Ok(0.0),
        Some(Repr::Num(n)) => Ok(n as f32),
        Some(Repr::Text(t)) => t.parse::<f32>().map_err(de::Error::custom),
    }
}
