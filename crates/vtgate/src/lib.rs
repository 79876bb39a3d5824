//! vtgate: the MySQL front door of the cluster. It discovers tablets from the topology,
//! keeps a health stream to each, and routes every client statement to the right tablet
//! (an unsharded keyspace's shard for now; a sharded planner slots in at [`executor::route`]).

pub mod discovery;
pub mod error;
pub mod executor;
pub mod gateway;
pub mod handler;
pub mod healthcheck;
pub mod http;
pub mod params;
pub mod rewrite;
pub mod session;
pub mod settings;
pub mod text;
pub mod topology;
