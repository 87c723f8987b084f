"""The real upstream CRDs from shared/schemas, made loadable by kube-apiserver 1.20.

Two things in them postdate 1.20 and are stripped on load, nothing else:
`x-kubernetes-validations` (CEL rules, 1.25+) and `default: ""` / `default: null`
on string properties (1.20 rejects those as "must be of type string: null").
HCO's v1 (served by the v1.18.1 file, converted by a webhook we do not have)
is not served: see as_cnv_4_20(). The files are read from $CCLM_SCHEMAS (default: ../shared/schemas beside the
repository) and never copied into the repository.
"""

import copy
import os
import time

import yaml

from . import kubeapi

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))

# Files to load, relative to the schemas folder. The HCO v1.18.1 file is the
# one without a conversion webhook.
CRD_FILES = [
    "kubevirt/kubevirts.kubevirt.io.crd.yaml",
    "kubevirt/virtualmachines.kubevirt.io.crd.yaml",
    "kubevirt/virtualmachineinstances.kubevirt.io.crd.yaml",
    "kubevirt/virtualmachineinstancemigrations.kubevirt.io.crd.yaml",
    "kubevirt/virtualmachineinstancetypes.instancetype.kubevirt.io.crd.yaml",
    "kubevirt/virtualmachineclusterinstancetypes.instancetype.kubevirt.io.crd.yaml",
    "kubevirt/virtualmachinepreferences.instancetype.kubevirt.io.crd.yaml",
    "kubevirt/virtualmachineclusterpreferences.instancetype.kubevirt.io.crd.yaml",
    "hyperconverged/hyperconvergeds.hco.kubevirt.io.v1.18.1.crd.yaml",
    "forklift/forkliftcontrollers.forklift.konveyor.io.crd.yaml",
    "forklift/migrations.forklift.konveyor.io.crd.yaml",
    "forklift/networkmaps.forklift.konveyor.io.crd.yaml",
    "forklift/plans.forklift.konveyor.io.crd.yaml",
    "forklift/providers.forklift.konveyor.io.crd.yaml",
    "forklift/storagemaps.forklift.konveyor.io.crd.yaml",
    "cdi/datavolumes.cdi.kubevirt.io.crd.yaml",
    "network/network-attachment-definitions.k8s.cni.cncf.io.crd.yaml",
    "network/nodenetworkconfigurationpolicies.nmstate.io.crd.yaml",
    "openshift/clusterversions.config.openshift.io.crd.yaml",
]


def schemas_dir():
    d = os.environ.get("CCLM_SCHEMAS") or os.path.join(os.path.dirname(REPO), "shared", "schemas")
    if not os.path.isdir(d):
        raise FileNotFoundError("no schemas folder at '%s' (set CCLM_SCHEMAS)" % d)
    return d


def strip_for_1_20(node):
    """Remove what 1.20 refuses, in place; returns how many things went."""
    removed = 0
    if isinstance(node, dict):
        if "x-kubernetes-validations" in node:
            del node["x-kubernetes-validations"]
            removed += 1
        if "default" in node and node.get("type") == "string" and node["default"] in ("", None):
            del node["default"]
            removed += 1
        elif "default" in node and node["default"] is None:
            del node["default"]
            removed += 1
        for v in node.values():
            removed += strip_for_1_20(v)
    elif isinstance(node, list):
        for v in node:
            removed += strip_for_1_20(v)
    return removed


def as_cnv_4_20(crd):
    """HCO's CRD as CNV 4.20 (HCO 1.16) serves it: v1beta1 only. The v1.18.1
    file also serves v1 (featureGates a list there), which real HCO converts
    with a webhook; without one the apiserver would hand v1beta1 objects out
    unconverted as v1, so v1 is not served here. Returns True if changed."""
    if crd["metadata"]["name"] != "hyperconvergeds.hco.kubevirt.io":
        return False
    for v in crd["spec"]["versions"]:
        if v["name"] == "v1":
            v["served"] = False
    return True


_cache = None


def load_all():
    """Parse and strip every CRD once per process; returns [(file, crd)]."""
    global _cache
    if _cache is None:
        base = schemas_dir()
        out = []
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        for rel in CRD_FILES:
            with open(os.path.join(base, rel)) as f:
                for doc in yaml.load_all(f, Loader=loader):
                    if doc and doc.get("kind") == "CustomResourceDefinition":
                        strip_for_1_20(doc)
                        as_cnv_4_20(doc)
                        out.append((rel, doc))
        _cache = out
    return [(rel, copy.deepcopy(doc)) for rel, doc in _cache]


def install(client, timeout=120):
    """Create every CRD on one cluster and wait until all are Established."""
    path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    names = []
    for rel, crd in load_all():
        names.append(crd["metadata"]["name"])
        try:
            client.create(path, crd)
        except kubeapi.ApiError as e:
            if e.code != 409:
                raise RuntimeError("CRD %s from %s refused: %s" % (crd["metadata"]["name"], rel, e))
    deadline = time.time() + timeout
    pending = set(names)
    while pending and time.time() < deadline:
        lst = client.get(path)
        for item in lst.get("items", []):
            conds = {c["type"]: c["status"] for c in (item.get("status") or {}).get("conditions") or []}
            if conds.get("Established") == "True":
                pending.discard(item["metadata"]["name"])
        if pending:
            time.sleep(0.3)
    if pending:
        raise RuntimeError("CRDs not Established after %ds: %s" % (timeout, ", ".join(sorted(pending))))
    return names


# ---- OpenShift's Route (route.openshift.io/v1) -------------------------------
# Not from shared/schemas (there is no upstream file there): a small structural
# schema written here, after openshift/api's route/v1 types. Real OpenShift
# serves routes from openshift-apiserver; a CRD is what MicroShift does. Kept
# loose where the simulator does not care (x-kubernetes-preserve-unknown-fields),
# and spec.host has no DNS pattern: in the simulator a host carries a port.

def _route_target():
    return {"type": "object", "required": ["kind", "name"],
            "properties": {"kind": {"type": "string", "enum": ["Service", ""], "default": "Service"},
                           "name": {"type": "string", "minLength": 1},
                           "weight": {"type": "integer", "format": "int32", "minimum": 0, "maximum": 256,
                                      "default": 100}}}


def _route_spec():
    return {"type": "object", "required": ["to"], "x-kubernetes-preserve-unknown-fields": True,
            "properties": {
                "host": {"type": "string", "maxLength": 253},
                "subdomain": {"type": "string", "maxLength": 253},
                "path": {"type": "string", "pattern": "^/"},
                "to": _route_target(),
                "alternateBackends": {"type": "array", "maxItems": 3, "items": _route_target()},
                "port": {"type": "object", "required": ["targetPort"],
                         "properties": {"targetPort": {"x-kubernetes-int-or-string": True}}},
                "tls": {"type": "object", "required": ["termination"],
                        "properties": {"termination": {"type": "string",
                                                       "enum": ["edge", "reencrypt", "passthrough"]},
                                       "insecureEdgeTerminationPolicy": {"type": "string",
                                                                         "enum": ["", "None", "Allow", "Redirect"]},
                                       "certificate": {"type": "string"}, "key": {"type": "string"},
                                       "caCertificate": {"type": "string"},
                                       "destinationCACertificate": {"type": "string"}}},
                "wildcardPolicy": {"type": "string", "enum": ["None", "Subdomain", ""]}}}


def _route_status():
    condition = {"type": "object", "required": ["type", "status"],
                 "properties": {"type": {"type": "string"}, "status": {"type": "string"},
                                "reason": {"type": "string"}, "message": {"type": "string"},
                                "lastTransitionTime": {"type": "string", "format": "date-time"}}}
    ingress = {"type": "object",
               "properties": {"host": {"type": "string"}, "routerName": {"type": "string"},
                              "routerCanonicalHostname": {"type": "string"}, "wildcardPolicy": {"type": "string"},
                              "conditions": {"type": "array", "items": condition}}}
    return {"type": "object", "properties": {"ingress": {"type": "array", "items": ingress}}}


def route_crd():
    """routes.route.openshift.io: namespaced, v1, with a status subresource
    and `oc get routes`' columns."""
    schema = {"type": "object",
              "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                             "metadata": {"type": "object"}, "spec": _route_spec(), "status": _route_status()}}
    columns = [("Host/Port", ".status.ingress[0].host"), ("Path", ".spec.path"), ("Services", ".spec.to.name"),
               ("Port", ".spec.port.targetPort"), ("Termination", ".spec.tls.termination"),
               ("Wildcard", ".spec.wildcardPolicy")]
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "routes.route.openshift.io"},
            "spec": {"group": "route.openshift.io", "scope": "Namespaced",
                     "names": {"kind": "Route", "plural": "routes", "singular": "route", "listKind": "RouteList"},
                     "versions": [{"name": "v1", "served": True, "storage": True,
                                   "schema": {"openAPIV3Schema": schema}, "subresources": {"status": {}},
                                   "additionalPrinterColumns": [{"name": n, "type": "string", "jsonPath": p}
                                                                for n, p in columns]}]}}


def install_route_crd(client, timeout=60):
    """Create the Route CRD on one cluster and wait until it is Established."""
    crd = route_crd()
    path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    try:
        client.create(path, crd)
    except kubeapi.ApiError as e:
        if e.code != 409:
            raise RuntimeError("the Route CRD was refused: %s" % e)
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = client.get(path + "/" + crd["metadata"]["name"])
        if any(c["type"] == "Established" and c["status"] == "True"
               for c in (got.get("status") or {}).get("conditions") or []):
            return
        time.sleep(0.2)
    raise RuntimeError("the Route CRD is not Established after %ds" % timeout)
