"""An etcd data folder that already holds the CRDs, to start clusters from.

kube-apiserver 1.20 rebuilds its whole OpenAPI document for every CRD that
is created or changes condition; with KubeVirt's, CDI's, HCO's and Forklift's
large schemas that is about 40 CPU-seconds per apiserver on every boot,
most of the cost of starting a pair of test clusters. An apiserver that
starts with the CRDs already stored builds the document once.

seed(binaries) returns a folder holding etcd's data with the CRDs of
crds.load_all() and nothing else: it is made once by a real etcd and
kube-apiserver (the CRDs created through the API and Established), after
which every other key is deleted, so each cluster's apiserver bootstraps its
namespaces, RBAC roles and the rest afresh, with UIDs of its own. Only the
CRDs' UIDs and creation times are shared by clusters started from one seed.
Cluster.start_processes() copies it into the cluster's etcd folder.

The seed is cached under $CCLM_CACHE (default ~/.cache/cclm)/etcd-seed/KEY,
KEY hashing the binaries' versions and the CRDs, and made under a file lock,
so parallel kubesims make it once. KUBESIM_ETCD_SEED=0 turns this off (every
cluster then installs its CRDs into an empty etcd, as before).
"""

import base64
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request

from . import crds, kubeapi, pki, procs


def cluster_env():
    from .cluster import go_env  # cluster imports this module
    return go_env()


def cluster_apiserver_argv(*args):
    from .cluster import apiserver_argv
    return apiserver_argv(*args)

FORMAT = "1"  # bump when what the seed holds changes


def enabled():
    return os.environ.get("KUBESIM_ETCD_SEED", "1") != "0"


def cache_root():
    base = os.environ.get("CCLM_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "cclm")
    return os.path.join(base, "etcd-seed")


def boot_slot(say=lambda msg: None):
    """Wait for one of KUBESIM_BOOT_SLOTS (default: the CPU count) boot
    slots shared by every kubesim of this user, and hold it: starting a pair
    of clusters keeps two cores busy for ~20 s, and more starts at once than
    cores only make each slower (kube-apiserver's bootstrap then outlasts its
    readiness timeout). Returns the open slot file; close it to let the next
    boot go (the kernel releases it if the process dies)."""
    n = max(1, int(os.environ.get("KUBESIM_BOOT_SLOTS") or os.cpu_count() or 1))
    d = os.path.join(os.path.dirname(cache_root()), "boot-slots")
    os.makedirs(d, exist_ok=True)
    t0, said = time.time(), False
    while True:
        for i in range(n):
            f = open(os.path.join(d, "slot-%d" % i), "w")
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                if said:
                    say("boot slot free after %.0f s" % (time.time() - t0))
                return f
            except BlockingIOError:
                f.close()
        if not said and time.time() - t0 > 2:
            say("waiting for a boot slot (%d kubesims start at once at most)" % n)
            said = True
        time.sleep(0.2)


def key(binaries):
    h = hashlib.sha256(FORMAT.encode())
    for b in ("etcd", "kube-apiserver"):
        out = subprocess.run([os.path.join(binaries, b), "--version"], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, check=False).stdout
        h.update(out)
    for rel, crd in crds.load_all():
        h.update(rel.encode())
        h.update(json.dumps(crd, sort_keys=True).encode())
    return h.hexdigest()[:16]


def seed(binaries, say=lambda msg: None):
    """The seed folder for these binaries and CRDs, made if missing."""
    root = cache_root()
    os.makedirs(root, exist_ok=True)
    k = key(binaries)
    final = os.path.join(root, k)
    if os.path.isdir(final):
        return final
    with open(os.path.join(root, k + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another kubesim may be making it
        if os.path.isdir(final):
            return final
        for old in os.listdir(root):  # left by a maker that was killed (we hold the lock)
            if old.startswith(k + ".") and not old.endswith(".lock"):
                shutil.rmtree(os.path.join(root, old), ignore_errors=True)
        say("making the etcd seed with the CRDs (once per Kubernetes build and CRD set): " + final)
        t0 = time.time()
        work = tempfile.mkdtemp(prefix=k + ".", dir=root)
        try:
            make(binaries, work)
            os.rename(os.path.join(work, "etcd"), final)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        say("etcd seed made in %.0f s" % (time.time() - t0))
    return final


def make(binaries, work):
    """etcd + kube-apiserver in `work`, the CRDs created and Established, the
    apiserver stopped, every other key deleted, etcd stopped: work/etcd."""
    p = pki.cluster_pki(os.path.join(work, "pki"))
    ports = procs.PortPool()
    etcd_port, peer_port, api_port = ports.take(), ports.take(), ports.take()
    token = os.urandom(24).hex()
    tokfile = os.path.join(work, "tokens.csv")
    with open(tokfile, "w") as f:
        f.write('%s,system:kubesim-seed,uid-0,"system:masters"\n' % token)
    env = cluster_env()
    etcd = procs.start([binaries + "/etcd", "--name", "seed", "--data-dir", os.path.join(work, "etcd"),
                        "--listen-client-urls", "http://127.0.0.1:%d" % etcd_port,
                        "--advertise-client-urls", "http://127.0.0.1:%d" % etcd_port,
                        "--listen-peer-urls", "http://127.0.0.1:%d" % peer_port,
                        "--initial-advertise-peer-urls", "http://127.0.0.1:%d" % peer_port,
                        "--initial-cluster", "seed=http://127.0.0.1:%d" % peer_port,
                        "--unsafe-no-fsync", "--log-level", "warn"],
                       os.path.join(work, "etcd.log"), env=env)
    api = None
    try:
        api = procs.start(cluster_apiserver_argv(binaries, api_port, etcd_port, p, tokfile),
                          os.path.join(work, "kube-apiserver.log"), env=env)
        client = kubeapi.Client("127.0.0.1", api_port, p["ca_crt"], token, user_agent="kubesim/etcd-seed")
        deadline = time.time() + 120
        while True:
            if api.poll() is not None or etcd.poll() is not None:
                raise RuntimeError("etcd seed: a process exited; see %s" % work)
            try:
                client.get("/readyz")
                break
            except Exception:
                if time.time() > deadline:
                    raise RuntimeError("etcd seed: kube-apiserver not ready after 120 s")
                time.sleep(0.3)
        names = crds.install(client)
        procs.stop(api)
        api = None
        keep = "/registry/apiextensions.k8s.io/customresourcedefinitions/"
        kept = prune(etcd_port, keep)
        if sorted(kept) != sorted(keep + n for n in names):
            raise RuntimeError("etcd seed: expected the CRDs %s, found %s" % (names, kept))
    finally:
        if api is not None:
            procs.stop(api)
        procs.stop(etcd)


def _post(port, path, body):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)


def _b64(s):
    return base64.b64encode(s.encode()).decode()


def prune(etcd_port, keep):
    """Delete every key not under `keep` through etcd's JSON gateway; returns
    the keys left."""
    got = _post(etcd_port, "/v3/kv/range", {"key": _b64("\0"), "range_end": _b64("\0"), "keys_only": True})
    left = []
    for kv in got.get("kvs") or []:
        k = base64.b64decode(kv["key"]).decode()
        if k.startswith(keep):
            left.append(k)
        else:
            _post(etcd_port, "/v3/kv/deleterange", {"key": kv["key"]})
    return left


def copy_into(seed_dir, data_dir):
    """A cluster's etcd folder from the seed (etcd takes its ports from the
    flags; the single member's stored peer address is never dialled)."""
    if os.path.exists(data_dir):
        shutil.rmtree(data_dir)
    shutil.copytree(seed_dir, data_dir)
    os.chmod(data_dir, 0o700)
