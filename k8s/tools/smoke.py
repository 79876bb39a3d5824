#!/usr/bin/env python3
"""Runs a step of the Kubernetes walkthrough for real on this machine, without Kubernetes.

Takes the rendered manifests of an overlay (101-initial-cluster or 201-customer-tablets: the
steps whose Jobs need nothing vtctl lacks) and plays the kubelet: for
every tablet pod of every tablet StatefulSet it runs the pod's own init container and vttablet
commands (the scripts from the rendered ConfigMap, with the env the pod spec gives them), runs
all Jobs' scripts concurrently with OnFailure retries, and starts vtgate with the Deployment's
own args. Only what a pod has and this machine lacks is substituted: loopback addresses and free
ports instead of pod DNS names and fixed ports, and MariaDB started by mysqlctl instead of the
mariadb image (the MariaDB settings init-tablet.sh writes are compared with mysqlctl's).

Then it checks what a reader of k8s/README.md sees: tablets healthy, every Job completed (and
completing again when re-run), each shard's primary the one its election Job names, `show
tables` through vtgate listing the commerce tables, writes going through and replicated, and
vtgate and vttablet exiting on SIGTERM within the pods' grace period.

Usage: smoke.py --bin-dir DIR RENDERED.yaml      Exit status 1 on any failure.
"""

import argparse
import base64
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import yaml

NAMESPACE = "vitess"
# MariaDB settings the replication stream depends on: init-tablet.sh must agree with mysqlctl.
# How long all Jobs of one apply may take together (they run concurrently and wait for each other).
JOBS_BUDGET = 120
REPLICATION_SETTINGS = ("binlog_format", "binlog_row_image", "binlog_row_metadata",
                        "log_slave_updates", "gtid_strict_mode", "gtid_domain_id", "skip-slave-start")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what, predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


def http_ok(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


class Smoke:
    def __init__(self, bin_dir, docs):
        self.bin_dir = os.path.abspath(bin_dir)
        self.docs = docs
        self.tmp = tempfile.mkdtemp(prefix="k8s-smoke-", dir="/tmp")
        self.procs = []
        self.passed = 0
        self.failed = 0
        self.etcd_port = free_port()
        self.lock = threading.Lock()

    def check(self, ok, text):
        with self.lock:
            self.record(ok, text)

    def record(self, ok, text):
        if ok:
            self.passed += 1
            print(f"smoke: ok: {text}")
        else:
            self.failed += 1
            print(f"smoke: FAIL: {text}", file=sys.stderr)

    def of_kind(self, kind):
        return [d for d in self.docs if d.get("kind") == kind]

    def local(self, text):
        """A pod path under /vt/ (ConfigMap and Secret mounts) becomes its local copy."""
        return text.replace("/vt/", f"{self.tmp}/vt/")

    def env(self, **extra):
        env = dict(os.environ)
        env["PATH"] = f"{self.bin_dir}:{env.get('PATH', '')}"
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def spawn(self, name, argv, env):
        log = open(os.path.join(self.tmp, f"{name}.log"), "wb")
        proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
        self.procs.append((name, proc))
        return proc

    # --- the cluster pieces ---------------------------------------------------------------
    def mount_configs(self):
        for cm in self.of_kind("ConfigMap"):
            folder = {"vitess-scripts": "scripts", "vitess-config": "config"}.get(cm["metadata"]["name"])
            if folder:
                os.makedirs(f"{self.tmp}/vt/{folder}", exist_ok=True)
                for key, value in cm["data"].items():
                    with open(f"{self.tmp}/vt/{folder}/{key}", "w", encoding="utf-8") as f:
                        f.write(value)
        users = next(s for s in self.of_kind("Secret") if s["metadata"]["name"] == "vtgate-users")
        os.makedirs(f"{self.tmp}/vt/secrets", exist_ok=True)
        with open(f"{self.tmp}/vt/secrets/users.json", "wb") as f:
            f.write(base64.b64decode(users["data"]["users.json"]))

    def start_etcd(self):
        peer = free_port()
        self.spawn("etcd", ["etcd", "--name", "smoke", "--data-dir", f"{self.tmp}/etcd",
                            "--listen-client-urls", f"http://127.0.0.1:{self.etcd_port}",
                            "--advertise-client-urls", f"http://127.0.0.1:{self.etcd_port}",
                            "--listen-peer-urls", f"http://127.0.0.1:{peer}",
                            "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
                            "--initial-cluster", f"smoke=http://127.0.0.1:{peer}"], self.env())
        wait_until("etcd", lambda: http_ok(self.etcd_port, "/health"), 30)

    def pod_env(self, container, pod, annotations, secrets_empty=True):
        """The container's env as the kubelet would resolve it for `pod`."""
        values = {}
        for var in container.get("env", []):
            if "value" in var:
                values[var["name"]] = var["value"]
                continue
            source = var["valueFrom"]
            if "fieldRef" in source:
                path = source["fieldRef"]["fieldPath"]
                if path == "metadata.name":
                    values[var["name"]] = pod
                elif path == "metadata.namespace":
                    values[var["name"]] = NAMESPACE
                else:
                    key = path[len("metadata.annotations['"):-2]
                    values[var["name"]] = annotations[key]
            elif "secretKeyRef" in source and secrets_empty:
                # The MariaDB that mysqlctl starts has no passwords.
                values[var["name"]] = ""
        values["TOPO_GLOBAL_SERVER_ADDRESS"] = f"127.0.0.1:{self.etcd_port}"
        return values

    def start_tablets(self):
        tablets = []
        for sts in self.of_kind("StatefulSet"):
            if sts["metadata"]["labels"].get("app.kubernetes.io/component") != "vttablet":
                continue
            template = sts["spec"]["template"]
            annotations = template["metadata"]["annotations"]
            init = template["spec"]["initContainers"][0]
            main = next(c for c in template["spec"]["containers"] if c["name"] == "vttablet")
            for ordinal in range(sts["spec"]["replicas"]):
                pod = f"{sts['metadata']['name']}-{ordinal}"
                root = f"{self.tmp}/pods/{pod}"
                os.makedirs(f"{root}/conf")
                env = self.pod_env(init, pod, annotations)
                env.update(VTDATAROOT=root, MYSQL_CONF_DIR=f"{root}/conf")
                argv = [self.local(a) for a in init["command"] + init.get("args", [])]
                out = subprocess.run(argv, env=self.env(**env), capture_output=True, text=True, check=False)
                self.check(out.returncode == 0, f"{pod}: init container ({out.stderr.strip()[-200:]})")
                uid = int(open(f"{root}/tabletdata/tablet-uid", encoding="utf-8").read())
                base = int(annotations["vitess.io/tablet-uid-base"])
                self.check(uid == base + ordinal, f"{pod}: tablet uid {uid} = uid base {base} + ordinal")
                tablets.append(dict(pod=pod, uid=uid, root=root, main=main, annotations=annotations,
                                    grace=template["spec"]["terminationGracePeriodSeconds"]))
        threads = [threading.Thread(target=self.start_mysqld, args=(t,)) for t in tablets]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for t in tablets:
            if "error" in t:
                raise RuntimeError(f"{t['pod']}: {t['error']}")
        for t in tablets:
            t["web"], t["grpc"] = free_port(), free_port()
            env = self.pod_env(t["main"], t["pod"], t["annotations"])
            env.update(VTDATAROOT=t["root"], TABLET_HOSTNAME="127.0.0.1", MYSQL_PORT=t["mysql_port"],
                       MYSQL_SOCKET=f"{self.tmp}/mysql/vt_{t['uid']:010d}/mysql.sock",
                       VTTABLET_PORT=t["web"], VTTABLET_GRPC_PORT=t["grpc"],
                       VTTABLET_BIND_ADDRESS="127.0.0.1")
            t["env"] = env
            argv = [self.local(a) for a in t["main"]["command"] + t["main"].get("args", [])]
            t["proc"] = self.spawn(t["pod"], argv, self.env(**env))
        probe = tablets[0]["main"]["readinessProbe"]["httpGet"]["path"]
        for t in tablets:
            wait_until(f"{t['pod']} readiness", lambda t=t: http_ok(t["web"], probe), 120)
            self.check(True, f"{t['pod']}: readiness probe {probe} answers")
        return tablets

    def start_mysqld(self, tablet):
        try:
            self.init_mysqld(tablet)
        except (RuntimeError, OSError) as e:
            tablet["error"] = e

    def init_mysqld(self, tablet):
        tablet["mysql_port"] = free_port()
        out = subprocess.run(["mysqlctl", "--tablet-uid", str(tablet["uid"]), "--mysql-port",
                              str(tablet["mysql_port"]), "--vtdataroot", f"{self.tmp}/mysql", "init"],
                             env=self.env(), capture_output=True, text=True, check=False)
        if out.returncode != 0:
            raise RuntimeError(f"mysqlctl init {tablet['uid']}: {out.stderr}")
        parse = subprocess.run(["mariadbd", f"--defaults-file={tablet['root']}/conf/vitess.cnf", "--help", "--verbose"],
                               env=self.env(), capture_output=True, text=True, check=False)
        errors = [line for line in parse.stderr.splitlines() if "[ERROR]" in line]
        self.check(parse.returncode == 0, f"{tablet['pod']}: mariadbd accepts the vitess.cnf init-tablet.sh wrote {errors}")
        ours = read_cnf(f"{tablet['root']}/conf/vitess.cnf")
        theirs = read_cnf(f"{self.tmp}/mysql/vt_{tablet['uid']:010d}/my.cnf")
        same = all(ours.get(k) == theirs.get(k) for k in REPLICATION_SETTINGS)
        self.check(same and ours.get("server-id") == str(tablet["uid"]),
                   f"{tablet['pod']}: MariaDB settings agree with mysqlctl's (server-id {ours.get('server-id')})")

    def run_jobs(self, label):
        """All Jobs at once, each retried on failure up to its backoffLimit (restartPolicy OnFailure)."""
        results = {}
        deadline = time.monotonic() + JOBS_BUDGET

        def run(job):
            container = job["spec"]["template"]["spec"]["containers"][0]
            argv = [self.local(a) for a in container["command"] + container.get("args", [])]
            env = self.env(**self.pod_env(container, job["metadata"]["name"], {}))
            out = None
            for _ in range(job["spec"].get("backoffLimit", 6) + 1):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    out = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=left, check=False)
                except subprocess.TimeoutExpired:
                    results[job["metadata"]["name"]] = "timed out"
                    return
                if out.returncode == 0:
                    results[job["metadata"]["name"]] = None
                    return
                time.sleep(2)
            results[job["metadata"]["name"]] = f"gave up: {out.stderr.strip()[-300:]}" if out else "no time left"

        threads = [threading.Thread(target=run, args=(j,)) for j in self.of_kind("Job")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for name, error in sorted(results.items()):
            self.check(error is None, f"{label}: Job {name} completed" + (f" ({error})" if error else ""))

    def check_primaries(self, count):
        """Each shard's only primary is the tablet its election Job names."""
        lines = [line.split() for line in self.vtctl("GetTablets").splitlines()]
        self.check(len(lines) == count, f"{len(lines)} tablets registered, {count} pods")
        elections = []
        for job in self.of_kind("Job"):
            script = " ".join(job["spec"]["template"]["spec"]["containers"][0]["args"])
            elections += re.findall(r"PlannedReparentShard --new-primary (\S+) (\S+)", script)
        self.check(bool(elections), f"{len(elections)} election Job(s)")
        for alias, keyspace_shard in elections:
            keyspace, shard = keyspace_shard.split("/")
            primaries = [l[0] for l in lines if l[1] == keyspace and l[2] == shard and l[3] == "primary"]
            self.check(primaries == [alias], f"{keyspace_shard}: primary {primaries}, elected {alias}")

    def start_vtgate(self):
        deployment = next(d for d in self.of_kind("Deployment") if d["metadata"]["name"] == "vtgate-zone1")
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        self.web, self.mysql_port = free_port(), free_port()
        local = {"--topo-global-server-address": f"127.0.0.1:{self.etcd_port}", "--port": self.web,
                 "--grpc-port": free_port(), "--mysql-server-port": self.mysql_port}
        argv = list(container["command"])
        for arg in container["args"]:
            flag = arg.split("=", 1)[0]
            argv.append(f"{flag}={local[flag]}" if flag in local else self.local(arg))
        argv.append("--mysql-server-bind-address=127.0.0.1")
        self.vtgate = self.spawn("vtgate", argv, self.env())
        self.vtgate_grace = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
        probe = container["readinessProbe"]["httpGet"]["path"]
        wait_until("vtgate readiness", lambda: http_ok(self.web, probe), 60)
        self.check(True, f"vtgate: readiness probe {probe} answers")

    def mysql(self, sql, database="commerce"):
        client = shutil.which("mysql") or "mariadb"
        out = subprocess.run([client, "--no-defaults", "-h", "127.0.0.1", "-P", str(self.mysql_port),
                              "-u", "user", "-N", "-B", "-D", database, "-e", sql],
                             capture_output=True, text=True, timeout=60, check=False)
        return out.returncode, out.stdout.split(), out.stderr.strip()

    def check_kmysql(self):
        """k8s/kmysql.sh, with a kubectl that answers its two queries as a cluster would."""
        service = next(s for s in self.of_kind("Service") if s["metadata"]["name"] == "vtgate-zone1")
        mysql_ports = [p for p in service["spec"]["ports"] if p["name"] == "mysql"]
        self.check(service["spec"]["type"] == "NodePort" and [p["port"] for p in mysql_ports] == [3306],
                   "Service vtgate-zone1 is a NodePort with port mysql 3306")
        os.makedirs(f"{self.tmp}/fakebin", exist_ok=True)
        with open(f"{self.tmp}/fakebin/kubectl", "w", encoding="utf-8") as f:
            f.write("#!/bin/bash\n"
                    'case "$*" in\n'
                    f"  'get service vtgate-zone1 -n vitess -o jsonpath={{.spec.ports[?(@.name==\"mysql\")].nodePort}}') echo {self.mysql_port} ;;\n"
                    "  'get nodes -o jsonpath={.items[0].status.addresses[?(@.type==\"InternalIP\")].address}') echo 127.0.0.1 ;;\n"
                    '  *) echo "unexpected kubectl $*" >&2; exit 1 ;;\n'
                    "esac\n")
        os.chmod(f"{self.tmp}/fakebin/kubectl", 0o755)
        kmysql = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "kmysql.sh")
        env = self.env()
        env["PATH"] = f"{self.tmp}/fakebin:{env['PATH']}"
        out = subprocess.run([kmysql, "-N", "-B", "-D", "commerce", "-e", "show tables"], env=env,
                             capture_output=True, text=True, timeout=60, check=False)
        self.check(out.returncode == 0 and sorted(out.stdout.split()) == ["corder", "customer", "product"],
                   f"./kmysql.sh -e 'show tables' lists the commerce tables ({out.stdout.split()} {out.stderr.strip()})")

    def vtctl(self, *args):
        out = subprocess.run(["vtctl", "--topo-global-server-address", f"127.0.0.1:{self.etcd_port}", *args],
                             env=self.env(), capture_output=True, text=True, timeout=60, check=False)
        return out.stdout

    # --- the walk ---------------------------------------------------------------------------
    def run(self):
        self.mount_configs()
        self.start_etcd()
        tablets = self.start_tablets()
        self.run_jobs("first apply")
        self.check_primaries(len(tablets))
        self.start_vtgate()
        code, tables, err = self.mysql("show tables")
        self.check(code == 0 and sorted(tables) == ["corder", "customer", "product"],
                   f"show tables through vtgate lists the commerce tables ({tables} {err})")
        self.check_kmysql()
        code, _, err = self.mysql("insert into customer(email) values ('alice@domain.com'), ('bob@domain.com')")
        self.check(code == 0, f"insert through vtgate ({err})")
        code, count, err = self.mysql("select count(*) from customer")
        self.check(code == 0 and count == ["2"], f"the rows are there ({count} {err})")
        for tablet_type in ("replica", "rdonly"):
            target = f"commerce@{tablet_type}"
            try:
                wait_until(f"rows on {target}", lambda t=target: self.mysql("select count(*) from customer", t)[1] == ["2"], 30)
                self.check(True, f"the rows replicated to the {tablet_type} tablet (read through vtgate as {target})")
            except TimeoutError as e:
                self.check(False, f"{target}: {e} ({self.mysql('select count(*) from customer', target)})")
        self.run_jobs("re-apply")
        primary = next(t for t in tablets if t["uid"] == 100)
        stop = subprocess.run(["bash", self.local("/vt/scripts/vttablet-prestop.sh")],
                              env=self.env(**primary["env"]), capture_output=True, text=True, timeout=120, check=False)
        now = [line.split() for line in self.vtctl("GetTablets", "--keyspace", "commerce", "--shard", "0").splitlines()]
        primary_now = [fields[0] for fields in now if fields[3] == "primary"]
        said = stop.stderr.strip().splitlines()[-1:]
        handed = primary_now == ["zone1-0000000101"]
        refused = said == ["vttablet-prestop: handing commerce/0 to zone1-0000000101 failed"]
        self.check(stop.returncode == 0 and (handed or refused),
                   "preStop of the primary hands commerce/0 to replica zone1-0000000101 or says it could not"
                   f" (primary now {primary_now}; {said})")
        self.terminate("vtgate", self.vtgate, self.vtgate_grace)
        for t in tablets:
            self.terminate(t["pod"], t["proc"], t["grace"])

    def terminate(self, name, proc, grace):
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=grace)
            self.check(code == 0, f"{name}: exits cleanly on SIGTERM (status {code})")
        except subprocess.TimeoutExpired:
            self.check(False, f"{name}: still running {grace}s after SIGTERM")

    def cleanup(self):
        for _, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        for uid_dir in sorted(os.listdir(f"{self.tmp}/mysql")) if os.path.isdir(f"{self.tmp}/mysql") else []:
            uid = int(uid_dir[len("vt_"):])
            subprocess.run(["mysqlctl", "--tablet-uid", str(uid), "--vtdataroot", f"{self.tmp}/mysql", "shutdown"],
                           env=self.env(), capture_output=True, check=False, timeout=60)
        if self.failed and os.environ.get("KEEP_SMOKE_DIR"):
            print(f"smoke: logs kept in {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def read_cnf(path):
    settings = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if "=" in line and not line.lstrip().startswith("#"):
                name, value = line.split("=", 1)
                settings[name.strip()] = value.strip()
    return settings


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("manifest")
    options = parser.parse_args()
    with open(options.manifest, encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    smoke = Smoke(options.bin_dir, docs)
    try:
        smoke.run()
    except (RuntimeError, TimeoutError, OSError, StopIteration, KeyError) as e:
        smoke.check(False, f"stopped: {type(e).__name__}: {e}")
        for name, _ in smoke.procs:
            log = os.path.join(smoke.tmp, f"{name}.log")
            if os.path.exists(log):
                tail = open(log, encoding="utf-8", errors="replace").read()[-1500:]
                print(f"--- {name}.log (tail)\n{tail}", file=sys.stderr)
    finally:
        smoke.cleanup()
    print(f"smoke: {smoke.passed} passed, {smoke.failed} failed")
    return 1 if smoke.failed else 0


if __name__ == "__main__":
    sys.exit(main())
