# shellcheck shell=bash
# Sourced by the other scripts: where cargo puts build artifacts unless CARGO_TARGET_DIR is set.
# Outside the clone, so repeated runs (CI) reuse a warm build; one directory per clone path,
# because cargo names a workspace's artifacts relative to its root and would otherwise take
# another clone's fresh-looking artifacts (built from that clone's sources) for this one's.
#
# A clone's first build starts from a copy of the debug artifacts of the clone built most
# recently: the registry crates (most of a cold build's time) are the same for every clone.
# Every file of this clone is then touched, so cargo rebuilds each workspace crate from this
# clone's sources rather than trusting the copied ones.
clone_id=$(pwd -P | sha1sum | cut -c1-12)
if [ -z "${CARGO_TARGET_DIR:-}" ]; then
    export CARGO_TARGET_DIR="$HOME/.cache/vtgate-rs/target-$clone_id"
    if [ ! -d "$CARGO_TARGET_DIR/debug" ]; then
        # shellcheck disable=SC2012 # names are ours: target-<hex>
        # `|| true`: callers run under `set -euo pipefail`, and ls fails on a new machine.
        # `debug/deps` changes whenever cargo writes an artifact: newest first.
        seed=$(ls -dt "$HOME"/.cache/vtgate-rs/target-*/debug/deps 2>/dev/null | head -n 1 || true)
        if [ -n "$seed" ]; then
            seed=${seed%/debug/deps}
            echo "target-dir: seeding $CARGO_TARGET_DIR from $seed" >&2
            mkdir -p "$CARGO_TARGET_DIR"
            # cargo holds an flock on .cargo-lock while it builds there: copy between builds.
            if flock -w 1800 "$seed/debug/.cargo-lock" \
                cp -a "$seed/debug" "$CARGO_TARGET_DIR/debug.seeding"; then
                mv "$CARGO_TARGET_DIR/debug.seeding" "$CARGO_TARGET_DIR/debug"
                touch "$CARGO_TARGET_DIR/debug/deps"
                find . -path ./.git -prune -o -path ./target -prune -o -type f -exec touch -c {} +
            else
                rm -rf "$CARGO_TARGET_DIR/debug.seeding"
            fi
            # A build takes ~6 GB and CI clones to new paths: keep the three used last.
            # shellcheck disable=SC2012
            ls -dt "$HOME"/.cache/vtgate-rs/target-*/debug/deps 2>/dev/null | tail -n +4 |
                while read -r old; do rm -rf "${old%/debug/deps}"; done || true
        fi
    fi
fi
