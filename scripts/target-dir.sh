# shellcheck shell=bash
# Sourced by the other scripts: where cargo puts build artifacts unless CARGO_TARGET_DIR is set.
# Outside the clone, so repeated runs (CI) reuse a warm build; one directory per clone path,
# because cargo names a workspace's artifacts relative to its root and would otherwise take
# another clone's fresh-looking artifacts (built from that clone's sources) for this one's.
clone_id=$(pwd -P | sha1sum | cut -c1-12)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vtgate-rs/target-$clone_id}"
