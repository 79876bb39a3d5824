//! Calls into tablets: a `tabletmanager` gRPC client for one tablet, found by its topo record.

use anyhow::{anyhow, Context, Result};
use proto::tabletmanagerservice::tablet_manager_client::TabletManagerClient;
use proto::topodata::Tablet;
use tonic::transport::Channel;

/// Connects to the tablet manager service of `tablet` (its `grpc` port).
pub async fn connect(tablet: &Tablet) -> Result<TabletManagerClient<Channel>> {
    let alias = alias_text(tablet);
    let port = tablet
        .port_map
        .get("grpc")
        .ok_or_else(|| anyhow!("tablet {alias} has no grpc port in its topo record"))?;
    let endpoint = format!("http://{}:{port}", tablet.hostname);
    let channel = Channel::from_shared(endpoint.clone())
        .with_context(|| format!("bad address {endpoint} for tablet {alias}"))?
        .connect_timeout(std::time::Duration::from_secs(5))
        .connect()
        .await
        .with_context(|| format!("cannot reach tablet {alias} at {endpoint}"))?;
    Ok(TabletManagerClient::new(channel))
}

/// Turns a gRPC status from a tablet into an error naming the tablet.
pub fn rpc_error(tablet: &Tablet, rpc: &str, status: tonic::Status) -> anyhow::Error {
    let alias = alias_text(tablet);
    anyhow!("{rpc} on tablet {alias} failed: {}", status.message())
}

/// `zone1-0000000100`, or `<no alias>` for a malformed record.
pub fn alias_text(tablet: &Tablet) -> String {
    tablet
        .alias
        .as_ref()
        .map_or_else(|| "<no alias>".to_owned(), ToString::to_string)
}
