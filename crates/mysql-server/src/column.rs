//! Column definitions as the backend reported them, and their wire encoding
//! (`Protocol::ColumnDefinition41`, with MariaDB's extended metadata block when the client
//! negotiated `MARIADB_CLIENT_EXTENDED_METADATA`).

use bytes::{BufMut, BytesMut};
use mysql_common::constants::{ColumnFlags, ColumnType};
use mysql_common::io::BufMutExt;

/// Collation id of `binary`.
pub const BINARY_COLLATION: u16 = 63;
/// Collation id of `utf8mb4_general_ci`.
pub const UTF8MB4_GENERAL_CI: u16 = 45;

/// One column of a result set, with every piece of metadata a driver may use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnDef {
    /// Database of the column's table.
    pub schema: Vec<u8>,
    /// Table alias as written in the query.
    pub table: Vec<u8>,
    /// Physical table name.
    pub org_table: Vec<u8>,
    /// Column alias.
    pub name: Vec<u8>,
    /// Physical column name.
    pub org_name: Vec<u8>,
    /// Collation id (63 = binary).
    pub collation: u16,
    /// Maximum display length.
    pub column_length: u32,
    /// Wire type.
    pub column_type: ColumnType,
    /// Column flags (NOT NULL, UNSIGNED, BINARY, ...).
    pub flags: ColumnFlags,
    /// Decimals (fractional digits or fsp).
    pub decimals: u8,
    /// MariaDB's extended format name (`json` for a JSON column, which MariaDB types as a
    /// LONGTEXT BLOB), empty for none.
    pub format: Vec<u8>,
}

impl ColumnDef {
    /// A column with the given name and type, utf8mb4 collation and no other metadata.
    pub fn new(name: impl Into<Vec<u8>>, column_type: ColumnType) -> Self {
        let name = name.into();
        Self {
            schema: Vec::new(),
            table: Vec::new(),
            org_table: Vec::new(),
            org_name: name.clone(),
            name,
            collation: UTF8MB4_GENERAL_CI,
            column_length: 0,
            column_type,
            flags: ColumnFlags::empty(),
            decimals: 0,
            format: Vec::new(),
        }
    }

    /// True if the UNSIGNED flag is set.
    pub fn is_unsigned(&self) -> bool {
        self.flags.contains(ColumnFlags::UNSIGNED_FLAG)
    }

    /// Appends the ColumnDefinition41 payload; `default` is the COM_FIELD_LIST default value;
    /// `extended` adds MariaDB's extended metadata block (`(id, lenenc string)` pairs inside a
    /// lenenc string: id 1 is the format name), as MariaDB sends it to clients that asked.
    pub fn encode(&self, buf: &mut BytesMut, default: Option<&[u8]>, extended: bool) {
        buf.put_lenenc_str(b"def");
        buf.put_lenenc_str(&self.schema);
        buf.put_lenenc_str(&self.table);
        buf.put_lenenc_str(&self.org_table);
        buf.put_lenenc_str(&self.name);
        buf.put_lenenc_str(&self.org_name);
        if extended {
            if self.format.is_empty() {
                buf.put_u8(0);
            } else {
                let mut block = Vec::with_capacity(self.format.len() + 10);
                block.put_u8(1);
                block.put_lenenc_str(&self.format);
                buf.put_lenenc_str(&block);
            }
        }
        buf.put_u8(0x0c);
        buf.put_u16_le(self.collation);
        buf.put_u32_le(self.column_length);
        buf.put_u8(self.column_type as u8);
        buf.put_u16_le(self.flags.bits());
        buf.put_u8(self.decimals);
        buf.put_u16_le(0);
        if let Some(default) = default {
            buf.put_lenenc_str(default);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mysql_common::io::ParseBuf;
    use mysql_common::packets::Column;
    use mysql_common::proto::MyDeserialize;

    #[test]
    fn encoding_keeps_all_metadata() {
        let def = ColumnDef {
            schema: b"db".to_vec(),
            table: b"t".to_vec(),
            org_table: b"tbl".to_vec(),
            name: b"c".to_vec(),
            org_name: b"col".to_vec(),
            collation: BINARY_COLLATION,
            column_length: 255,
            column_type: ColumnType::MYSQL_TYPE_NEWDECIMAL,
            flags: ColumnFlags::UNSIGNED_FLAG | ColumnFlags::NOT_NULL_FLAG,
            decimals: 4,
            format: Vec::new(),
        };
        let mut buf = BytesMut::new();
        def.encode(&mut buf, None, false);
        let col = Column::deserialize((), &mut ParseBuf(&buf)).unwrap();
        assert_eq!(col.schema_ref(), b"db");
        assert_eq!(col.table_ref(), b"t");
        assert_eq!(col.org_table_ref(), b"tbl");
        assert_eq!(col.name_ref(), b"c");
        assert_eq!(col.org_name_ref(), b"col");
        assert_eq!(col.character_set(), 63);
        assert_eq!(col.column_length(), 255);
        assert_eq!(col.column_type(), ColumnType::MYSQL_TYPE_NEWDECIMAL);
        assert_eq!(col.flags(), def.flags);
        assert_eq!(col.decimals(), 4);
    }

    #[test]
    fn extended_metadata_block_is_mariadbs() {
        let mut def = ColumnDef::new("j", ColumnType::MYSQL_TYPE_BLOB);
        let mut plain = BytesMut::new();
        def.encode(&mut plain, None, false);
        let mut empty = BytesMut::new();
        def.encode(&mut empty, None, true);
        // "def", 3 empty names, "j", "j", then the empty block.
        assert_eq!(&empty[..12], b"\x03def\0\0\0\x01j\x01j\0");
        assert_eq!(&empty[12..], &plain[11..]);
        def.format = b"json".to_vec();
        let mut json = BytesMut::new();
        def.encode(&mut json, None, true);
        // As MariaDB 10.11 sends it for a JSON column.
        assert_eq!(&json[11..18], b"\x06\x01\x04json");
        assert_eq!(&json[18..], &plain[11..]);
    }
}
