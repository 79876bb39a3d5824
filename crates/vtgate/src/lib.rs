//! vtgate: the MySQL front door of the cluster. It discovers tablets from the topology,
//! keeps a health stream to each, and routes every client statement to the right tablet
//! (unsharded keyspaces pass the client's text through to their shard; statements on sharded
//! keyspaces go through the `engine` planner, see [`executor::sharded`]).

pub mod discovery;
pub mod error;
pub mod executor;
pub mod gateway;
pub mod handler;
pub mod healthcheck;
pub mod http;
pub mod info_schema;
pub mod normalize;
pub mod params;
pub mod plan_cache;
pub mod prepare;
pub mod rewrite;
pub mod savepoint;
pub mod schema_tracker;
pub mod session;
pub mod settings;
pub mod text;
pub mod timeout;
pub mod topology;
pub mod unary;
