//! Prepared statements of one connection: ids, parameter counts, the parameter types bound by
//! the last execute, long data sent with COM_STMT_SEND_LONG_DATA, and decoding of the
//! COM_STMT_EXECUTE parameter block into [`Param`]s.

use std::collections::HashMap;
use std::sync::Arc;

use mysql_common::constants::{ColumnFlags, ColumnType};
use mysql_common::io::ParseBuf;
use mysql_common::value::{BinValue, Value, ValueDeserializer};

use crate::error::{codes, SqlError};

/// Most statements one connection may hold open (MySQL's default `max_prepared_stmt_count`).
pub const MAX_STATEMENTS: usize = 16382;

/// One decoded parameter of COM_STMT_EXECUTE.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// The value (`Value::NULL` for NULL).
    pub value: Value,
    /// The type the client bound.
    pub column_type: ColumnType,
    /// The client flagged the value as unsigned.
    pub unsigned: bool,
}

#[derive(Debug)]
struct Statement {
    sql: Arc<[u8]>,
    param_count: u16,
    bound_types: Option<Vec<(ColumnType, bool)>>,
    long_data: Vec<Option<Vec<u8>>>,
    long_data_too_big: bool,
}

/// The prepared statements of one connection.
#[derive(Debug)]
pub struct Registry {
    next_id: u32,
    statements: HashMap<u32, Statement>,
    max_long_data: usize,
}

impl Registry {
    /// An empty registry; long data per parameter is limited to `max_long_data` bytes.
    pub fn new(max_long_data: usize) -> Self {
        Self {
            next_id: 1,
            statements: HashMap::new(),
            max_long_data,
        }
    }

    /// The id the next registered statement will get.
    pub fn next_id(&self) -> Result<u32, SqlError> {
        if self.statements.len() >= MAX_STATEMENTS {
            return Err(SqlError::new(
                1461,
                "42000",
                format!(
                    "Can't create more than max_prepared_stmt_count statements (current value: {MAX_STATEMENTS})"
                ),
            ));
        }
        Ok(self.next_id)
    }

    /// Registers a statement under the id returned by [`Self::next_id`].
    pub fn register(&mut self, sql: &[u8], param_count: u16) -> u32 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        self.statements.insert(
            id,
            Statement {
                sql: Arc::from(sql),
                param_count,
                bound_types: None,
                long_data: vec![None; usize::from(param_count)],
                long_data_too_big: false,
            },
        );
        id
    }

    /// Forgets a statement; returns whether it existed.
    pub fn close(&mut self, id: u32) -> bool {
        self.statements.remove(&id).is_some()
    }

    /// Ids of all open statements.
    pub fn ids(&self) -> Vec<u32> {
        self.statements.keys().copied().collect()
    }

    /// Forgets all statements.
    pub fn clear(&mut self) {
        self.statements.clear();
    }

    /// Drops long data of a statement (COM_STMT_RESET).
    pub fn reset(&mut self, id: u32) -> Result<(), SqlError> {
        let stmt = self
            .statements
            .get_mut(&id)
            .ok_or_else(|| SqlError::unknown_statement(id, "mysqld_stmt_reset"))?;
        stmt.long_data.iter_mut().for_each(|d| *d = None);
        stmt.long_data_too_big = false;
        Ok(())
    }

    /// Appends long data to a parameter; errors are remembered and reported by the next
    /// execute, as the command itself has no response.
    pub fn append_long_data(&mut self, id: u32, param: u16, data: &[u8]) {
        let max = self.max_long_data;
        let Some(stmt) = self.statements.get_mut(&id) else {
            return;
        };
        let Some(slot) = stmt.long_data.get_mut(usize::from(param)) else {
            return;
        };
        let buf = slot.get_or_insert_with(Vec::new);
        if buf.len() + data.len() > max {
            stmt.long_data_too_big = true;
            buf.clear();
        } else {
            buf.extend_from_slice(data);
        }
    }

    /// Decodes the body of COM_STMT_EXECUTE (after the statement id) into the statement's SQL
    /// text and its parameters.
    pub fn decode_execute(
        &mut self,
        id: u32,
        body: &[u8],
    ) -> Result<(Arc<[u8]>, Vec<Param>), SqlError> {
        let stmt = self
            .statements
            .get_mut(&id)
            .ok_or_else(|| SqlError::unknown_statement(id, "mysqld_stmt_execute"))?;
        let long_data: Vec<Option<Vec<u8>>> = stmt.long_data.iter_mut().map(Option::take).collect();
        if std::mem::take(&mut stmt.long_data_too_big) {
            return Err(SqlError::new(
                codes::PACKET_TOO_LARGE,
                "08S01",
                "Parameter of prepared statement which is set through mysql_send_long_data() is longer than 'max_allowed_packet' bytes",
            ));
        }
        let wrong = || SqlError::wrong_arguments("mysqld_stmt_execute");
        let mut buf = ParseBuf(body);
        // flags (cursor type) and iteration count
        buf.checked_eat(5).ok_or_else(wrong)?;
        let count = usize::from(stmt.param_count);
        let sql = Arc::clone(&stmt.sql);
        if count == 0 {
            return Ok((sql, Vec::new()));
        }
        let bitmap = buf.checked_eat(count.div_ceil(8)).ok_or_else(wrong)?;
        let new_bound = buf.checked_eat_u8().ok_or_else(wrong)?;
        if new_bound == 1 {
            let mut types = Vec::with_capacity(count);
            for _ in 0..count {
                let raw = buf.checked_eat(2).ok_or_else(wrong)?;
                let ty = ColumnType::try_from(raw[0]).map_err(|_| wrong())?;
                if !is_parameter_type(ty) {
                    return Err(wrong());
                }
                types.push((ty, raw[1] & 0x80 != 0));
            }
            stmt.bound_types = Some(types);
        }
        let types = stmt.bound_types.as_ref().ok_or_else(wrong)?;
        let mut params = Vec::with_capacity(count);
        for (i, &(column_type, unsigned)) in types.iter().enumerate() {
            let is_null = bitmap[i / 8] & (1 << (i % 8)) != 0;
            let value = if let Some(data) = &long_data[i] {
                Value::Bytes(data.clone())
            } else if is_null || column_type == ColumnType::MYSQL_TYPE_NULL {
                Value::NULL
            } else {
                let flags = if unsigned {
                    ColumnFlags::UNSIGNED_FLAG
                } else {
                    ColumnFlags::empty()
                };
                buf.parse::<ValueDeserializer<BinValue>>((column_type, flags))
                    .map_err(|_| wrong())?
                    .0
            };
            params.push(Param {
                value,
                column_type,
                unsigned,
            });
        }
        Ok((sql, params))
    }
}

/// Types a client may bind a parameter as (the ones the binary value decoder knows; it panics
/// on others such as `MYSQL_TYPE_TIME2` or `MYSQL_TYPE_TYPED_ARRAY`).
fn is_parameter_type(ty: ColumnType) -> bool {
    use ColumnType::*;
    matches!(
        ty,
        MYSQL_TYPE_STRING
            | MYSQL_TYPE_VAR_STRING
            | MYSQL_TYPE_BLOB
            | MYSQL_TYPE_TINY_BLOB
            | MYSQL_TYPE_MEDIUM_BLOB
            | MYSQL_TYPE_LONG_BLOB
            | MYSQL_TYPE_SET
            | MYSQL_TYPE_ENUM
            | MYSQL_TYPE_DECIMAL
            | MYSQL_TYPE_VARCHAR
            | MYSQL_TYPE_BIT
            | MYSQL_TYPE_NEWDECIMAL
            | MYSQL_TYPE_GEOMETRY
            | MYSQL_TYPE_JSON
            | MYSQL_TYPE_TINY
            | MYSQL_TYPE_SHORT
            | MYSQL_TYPE_YEAR
            | MYSQL_TYPE_LONG
            | MYSQL_TYPE_INT24
            | MYSQL_TYPE_LONGLONG
            | MYSQL_TYPE_FLOAT
            | MYSQL_TYPE_DOUBLE
            | MYSQL_TYPE_TIMESTAMP
            | MYSQL_TYPE_DATE
            | MYSQL_TYPE_NEWDATE
            | MYSQL_TYPE_DATETIME
            | MYSQL_TYPE_TIME
            | MYSQL_TYPE_NULL
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_typed_params_and_reuses_types() {
        let mut reg = Registry::new(1 << 20);
        let id = reg.register(b"select ?, ?, ?", 3);
        // flags, iterations, null bitmap (param 1 NULL), new-params-bound, types, values
        let mut body = vec![0, 1, 0, 0, 0, 0b010, 1];
        body.extend_from_slice(&[0x08, 0x80, 0x06, 0x00, 0xfd, 0x00]);
        body.extend_from_slice(&u64::MAX.to_le_bytes());
        body.extend_from_slice(b"\x02hi");
        let (_, params) = reg.decode_execute(id, &body).unwrap();
        assert_eq!(params[0].value, Value::UInt(u64::MAX));
        assert!(params[0].unsigned);
        assert_eq!(params[1].value, Value::NULL);
        assert_eq!(params[2].value, Value::Bytes(b"hi".to_vec()));
        // second execute without types reuses them
        let mut body = vec![0, 1, 0, 0, 0, 0b011, 0];
        body.extend_from_slice(b"\x02yo");
        let (_, params) = reg.decode_execute(id, &body).unwrap();
        assert_eq!(params[2].value, Value::Bytes(b"yo".to_vec()));
    }

    #[test]
    fn long_data_replaces_the_inline_value() {
        let mut reg = Registry::new(10);
        let id = reg.register(b"select ?", 1);
        reg.append_long_data(id, 0, b"abc");
        reg.append_long_data(id, 0, b"def");
        let body = [0, 1, 0, 0, 0, 0, 1, 0xfc, 0];
        let (_, params) = reg.decode_execute(id, &body).unwrap();
        assert_eq!(params[0].value, Value::Bytes(b"abcdef".to_vec()));
        reg.append_long_data(id, 0, b"0123456789a");
        assert_eq!(reg.decode_execute(id, &body).unwrap_err().code, 1153);
    }

    #[test]
    fn server_only_types_are_refused_not_a_panic() {
        let mut reg = Registry::new(10);
        let id = reg.register(b"select ?", 1);
        for ty in [
            ColumnType::MYSQL_TYPE_TIME2,
            ColumnType::MYSQL_TYPE_DATETIME2,
            ColumnType::MYSQL_TYPE_TIMESTAMP2,
            ColumnType::MYSQL_TYPE_TYPED_ARRAY,
        ] {
            let body = [0, 1, 0, 0, 0, 0, 1, ty as u8, 0, 0, 0, 0, 0];
            assert_eq!(reg.decode_execute(id, &body).unwrap_err().code, 1210);
        }
    }

    #[test]
    fn unknown_ids_and_short_bodies_are_errors() {
        let mut reg = Registry::new(10);
        assert_eq!(reg.decode_execute(9, &[]).unwrap_err().code, 1243);
        let id = reg.register(b"select ?, ?", 2);
        assert_eq!(
            reg.decode_execute(id, &[0, 1, 0, 0, 0]).unwrap_err().code,
            1210
        );
        // no types bound yet
        assert_eq!(
            reg.decode_execute(id, &[0, 1, 0, 0, 0, 0, 0])
                .unwrap_err()
                .code,
            1210
        );
        assert_eq!(reg.reset(77).unwrap_err().code, 1243);
        assert!(reg.close(id));
        assert!(!reg.close(id));
    }
}
