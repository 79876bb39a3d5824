//! Vitess-compatible protobuf messages and gRPC services.
//!
//! One module per protobuf package, generated from `<workspace>/proto/*.proto`
//! with the same package names, message names and field numbers as Vitess, so
//! that bytes on the wire and in the topology are Vitess's:
//!
//! | module | contents |
//! |---|---|
//! | [`vttime`] | `Time`, `Duration` |
//! | [`vtrpc`] | `CallerID`, `Code`, `RPCError` |
//! | [`topodata`] | topology records: `Keyspace`, `Shard`, `Tablet`, `SrvKeyspace`, `CellInfo`, ... |
//! | [`query`] | targets, bind variables, results, tablet RPC requests and responses |
//! | [`queryservice`] | the `queryservice.Query` gRPC client and server (vttablet) |
//! | [`vschema`] | keyspace VSchema, routing rules, `SrvVSchema` |
//! | [`vtgate`] | `Session` and the vtgate RPC messages |
//! | [`binlogdata`] | VStream events and VReplication sources |
//! | [`replicationdata`] | replication status reported by tablets |
//! | [`tabletmanagerdata`] | tablet manager RPC payloads |
//! | [`tabletmanagerservice`] | the `tabletmanagerservice.TabletManager` gRPC client and server |
//!
//! Helpers on generated types live in [`row`] (NULL-aware row encoding),
//! [`alias`] (tablet alias text form), [`tablet_type`] (tablet type names) and
//! [`sqltypes`] (MySQL column types and flags <-> `query.Type`); [`frame`] is gRPC's message
//! framing, for the calls served and made on `h2` directly.

#![allow(clippy::large_enum_variant, clippy::doc_lazy_continuation)]

/// Largest gRPC message vtgate and vttablet exchange (tonic's default is 4 MiB): a query or
/// a non-streamed result may carry rows as large as a 64 MiB MySQL packet, and more of them.
pub const MAX_MESSAGE_SIZE: usize = 256 << 20;

pub mod alias;
pub mod duration;
pub mod frame;
pub mod row;
pub mod sqltypes;
pub mod tablet_type;

/// Vitess `vttime` package.
pub mod vttime {
    tonic::include_proto!("vttime");
}

/// Vitess `vtrpc` package.
pub mod vtrpc {
    tonic::include_proto!("vtrpc");
}

/// Vitess `topodata` package.
pub mod topodata {
    tonic::include_proto!("topodata");
}

/// Vitess `query` package.
pub mod query {
    tonic::include_proto!("query");
}

/// Vitess `queryservice` package: the tablet gRPC service.
pub mod queryservice {
    tonic::include_proto!("queryservice");
}

/// Vitess `vschema` package.
pub mod vschema {
    tonic::include_proto!("vschema");
}

/// Vitess `vtgate` package.
pub mod vtgate {
    tonic::include_proto!("vtgate");
}

/// Vitess `binlogdata` package.
pub mod binlogdata {
    tonic::include_proto!("binlogdata");
}

/// Vitess `replicationdata` package.
pub mod replicationdata {
    tonic::include_proto!("replicationdata");
}

/// Vitess `tabletmanagerdata` package.
pub mod tabletmanagerdata {
    tonic::include_proto!("tabletmanagerdata");
}

/// Vitess `tabletmanagerservice` package: the tablet manager gRPC service.
pub mod tabletmanagerservice {
    tonic::include_proto!("tabletmanagerservice");
}
