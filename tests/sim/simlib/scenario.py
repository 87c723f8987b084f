"""Scenario files: which clusters, nodes, users, faults and objects to start with.

The format is documented in tests/sim/README.md. `load()` returns the scenario
as plain dicts with every default filled in, or raises ScenarioError naming the
field that is wrong.
"""

import ipaddress
import os

import yaml

from . import fabric

HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIO_DIR = os.path.join(os.path.dirname(HERE), "scenarios")

DEFAULT_STORAGE = [
    {"name": "ocs-storagecluster-ceph-rbd-virtualization", "provisioner": "openshift-storage.rbd.csi.ceph.com",
     "default": True},
    {"name": "ocs-storagecluster-cephfs", "provisioner": "openshift-storage.cephfs.csi.ceph.com"},
]
DEFAULT_CAPACITY = {"cpu": "16", "memory": "64Gi", "pods": "110", "ephemeral-storage": "200Gi"}


class ScenarioError(Exception):
    pass


def _need(cond, msg):
    if not cond:
        raise ScenarioError(msg)


def resolve(name_or_file):
    """A scenario name (file in scenarios/) or a path."""
    if os.path.sep in name_or_file or name_or_file.endswith((".yaml", ".yml")):
        return os.path.abspath(name_or_file)
    return os.path.join(SCENARIO_DIR, name_or_file + ".yaml")


def read(name_or_file, depth=0):
    """The scenario document, with `base: NAME` resolved: the base's document
    with this one's top-level keys replacing its own, except `clusters`
    (entries merged by name, key by key; new names appended) and `objects`
    (appended to the base's)."""
    path = resolve(name_or_file)
    try:
        with open(path) as f:
            doc = yaml.safe_load(f)
    except FileNotFoundError:
        known = sorted(n[:-5] for n in os.listdir(SCENARIO_DIR) if n.endswith(".yaml"))
        raise ScenarioError("no scenario '%s' (known: %s)" % (name_or_file, ", ".join(known)))
    except yaml.YAMLError as e:
        raise ScenarioError("%s: not valid YAML: %s" % (path, e))
    _need(isinstance(doc, dict), "%s: a scenario is a mapping" % path)
    if "base" not in doc:
        return doc
    _need(depth < 5, "%s: base scenarios nest too deep" % path)
    out = read(doc["base"], depth + 1)
    for k, v in doc.items():
        if k == "clusters":
            merged = {c.get("name"): dict(c) for c in out.get("clusters") or []}
            for c in v or []:
                merged[c.get("name")] = dict(merged.get(c.get("name"), {}), **c)
            out["clusters"] = list(merged.values())
        elif k == "objects":
            out["objects"] = list(out.get("objects") or []) + list(v or [])
        elif k != "base":
            out[k] = v
    return out


def load(name_or_file):
    path = resolve(name_or_file)
    return normalize(read(name_or_file), os.path.dirname(path))


def normalize(doc, base_dir="."):
    sc = {"name": doc.get("name", "scenario"), "clusters": [], "users": [], "faults": [],
          "objects": [], "timeScale": float(doc.get("timeScale", 1.0)),
          "seed": int(doc.get("seed", 1))}
    clusters = doc.get("clusters")
    _need(isinstance(clusters, list) and clusters, "scenario: 'clusters' must be a non-empty list")
    names = set()
    for i, c in enumerate(clusters):
        _need(isinstance(c, dict) and c.get("name"), "clusters[%d]: needs a name" % i)
        _need(c["name"] not in names, "clusters[%d]: duplicate name '%s'" % (i, c["name"]))
        names.add(c["name"])
        cidr = c.get("podCIDR", "10.%d.0.0/14" % (128 + 4 * i))
        try:
            net = ipaddress.ip_network(cidr)
        except ValueError:
            raise ScenarioError("clusters[%d].podCIDR: '%s' is not a CIDR" % (i, cidr))
        nodes = []
        for j, n in enumerate(c.get("nodes") or [{"name": c["name"] + "-worker", "count": 3}]):
            _need(isinstance(n, dict) and n.get("name"), "clusters[%d].nodes[%d]: needs a name" % (i, j))
            count = int(n.get("count", 1))
            for k in range(count):
                node = {
                    "name": n["name"] if count == 1 and "count" not in n else "%s-%d" % (n["name"], k),
                    "labels": dict(n.get("labels") or {}),
                    "annotations": dict(n.get("annotations") or {}),
                    "taints": list(n.get("taints") or []),
                    "capacity": dict(DEFAULT_CAPACITY, **(n.get("capacity") or {})),
                    "nics": list(n.get("nics") or [{"name": "ens3", "mtu": 1500}]),
                }
                nodes.append(node)
        _need(len(nodes) <= 256, "clusters[%d]: at most 256 nodes" % i)
        subnets = list(net.subnets(new_prefix=24)) if net.prefixlen <= 24 else []
        _need(len(subnets) >= len(nodes), "clusters[%d].podCIDR: too small for %d nodes" % (i, len(nodes)))
        for node, sub in zip(nodes, subnets):
            node["podCIDR"] = str(sub)
        ocp = str(c.get("openshift", "4.20.3"))
        sc["clusters"].append({
            "name": c["name"],
            "openshift": ocp,
            "cnv": str(c.get("cnv", ocp)),
            "gate": bool(c.get("decentralizedLiveMigration", False)),
            # decentralizedMigrationBlocked and friends: default by KubeVirt version (>= 1.8)
            "syncFailureConditions": c.get("syncFailureConditions"),
            "caRotationSeconds": c.get("caRotationSeconds"),
            "liveMigrationNetwork": c.get("liveMigrationNetwork"),
            "mtv": bool(c.get("mtv", False)),
            "storageClasses": list(c.get("storageClasses") or DEFAULT_STORAGE),
            "podCIDR": cidr,
            "nodes": nodes,
        })
    for i, u in enumerate(doc.get("users") or [{"name": "admin", "contexts": "default",
                                                 "clusterRoles": ["cluster-admin"]}]):
        _need(isinstance(u, dict) and u.get("name"), "users[%d]: needs a name" % i)
        cl = u.get("clusters") or sorted(names, key=[c["name"] for c in sc["clusters"]].index)
        for c in cl:
            _need(c in names, "users[%d].clusters: no cluster '%s'" % (i, c))
        sc["users"].append({
            "name": u["name"],
            "groups": list(u.get("groups") or []),
            "clusters": list(cl),
            "defaultContexts": u.get("contexts") == "default",
            "clusterRoles": list(u.get("clusterRoles") or []),
            "roles": list(u.get("roles") or []),  # [{namespace, clusterRole|role}]
        })
    _need(sum(u["defaultContexts"] for u in sc["users"]) <= 1,
          "users: only one user may have contexts: default")
    try:
        sc["fabric"] = fabric.normalize(doc.get("fabric"), sc["clusters"])
    except fabric.FabricError as e:
        raise ScenarioError(str(e))
    sc["virtFaults"] = list(doc.get("virtFaults") or [])
    for i, f in enumerate(sc["virtFaults"]):
        _need(isinstance(f, dict) and f.get("action"), "virtFaults[%d]: needs an action" % i)
    for i, f in enumerate(doc.get("faults") or []):
        _need(isinstance(f, dict) and f.get("cluster") in names,
              "faults[%d]: needs a 'cluster' that the scenario defines" % i)
        sc["faults"].append(f)
    for i, o in enumerate(doc.get("objects") or []):
        _need(isinstance(o, dict), "objects[%d]: a mapping with cluster and manifest|file" % i)
        target = o.get("cluster", "all")
        _need(target == "all" or target in names, "objects[%d].cluster: no cluster '%s'" % (i, target))
        if "file" in o:
            with open(os.path.join(base_dir, o["file"])) as fh:
                docs = [d for d in yaml.safe_load_all(fh) if d]
        else:
            m = o.get("manifest")
            docs = [d for d in (yaml.safe_load_all(m) if isinstance(m, str) else [m]) if d]
        _need(docs, "objects[%d]: no manifest" % i)
        for d in docs:
            sc["objects"].append({"cluster": target, "object": d})
    return sc
