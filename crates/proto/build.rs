//! Generates Rust code (messages, gRPC clients and servers) from the Vitess
//! subset protos in `<workspace>/proto`.

use std::path::PathBuf;

const PROTOS: &[&str] = &[
    "vttime.proto",
    "vtrpc.proto",
    "topodata.proto",
    "query.proto",
    "queryservice.proto",
    "vschema.proto",
    "vtgate.proto",
    "binlogdata.proto",
    "replicationdata.proto",
    "tabletmanagerdata.proto",
    "tabletmanagerservice.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let proto_dir = manifest_dir.join("../../proto");
    let files: Vec<PathBuf> = PROTOS.iter().map(|p| proto_dir.join(p)).collect();
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
    }
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_protos(&files, &[proto_dir])?;
    Ok(())
}
