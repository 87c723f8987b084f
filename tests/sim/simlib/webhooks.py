"""Simulated KubeVirt admission webhooks (virt-api's validating and mutating
webhooks for VirtualMachines and VirtualMachineInstanceMigrations), served over
TLS on 127.0.0.1 and registered with the cluster's real kube-apiserver through
ValidatingWebhookConfiguration `virt-api-validator` and
MutatingWebhookConfiguration `virt-api-mutator`, so a refusal reads as on a
real cluster: `admission webhook "<name>" denied the request: <message>`.

Sources (facts and message strings; the code is our own):
- names, paths and settings of the configurations: kubevirt/kubevirt
  pkg/virt-operator/resource/generate/components/webhooks.go
  (virt-api-validator, virt-api-mutator, the webhook names below, timeout 10 s,
  failurePolicy Fail, admissionReviewVersions [v1, v1beta1], API versions
  v1alpha3 and v1); we add matchPolicy Equivalent and a url clientConfig.
- answers: pkg/util/webhooks/webhooks.go. An error is code 400 with its text;
  a list of causes is code 422, reason Invalid, the causes' messages joined
  with ", ".
- VMIM create: shared/reference/kubevirt-api.md §1.3 and
  pkg/virt-api/webhooks/validating-webhook/admitters/migration-create-admitter.go
  (+ its unit test and vmimigration_vap_test.go for the order of the checks):
  "vmiName is missing" (422); MigrationPriorityQueue gate, then "Migration
  priority queue, only virt-controller is allowed to set priority field"; the
  VMI must exist, not be final, not have LiveMigratable=False (except reason
  DisksNotLiveMigratable on a decentralized VMIM); no other non-final VMIM
  with label kubevirt.io/vmi-name=<vmiName>; sendTo/receive need the
  DecentralizedLiveMigration gate; both set need equal migrationIDs. The
  mismatch text is the one upstream's ValidatingAdmissionPolicy uses
  (components/vmimigration VAP constants): the webhook's own wording was not
  found, nor whether these four newer checks answer 400 or 422 (we use 400).
- VMIM update: migration-update-admitter.go ("update of Migration object's
  spec is restricted"; the selector label of an in-flight migration).
- VMIM create mutation: mutators/migration-create-mutator.go (label
  kubevirt.io/vmi-name, finalizer kubevirt.io/migrationJobFinalize).
- VM validation: admitters/vms-admitter.go validateRunStrategy (reference §3.1
  for WaitAsReceiver) and the instancetype admitter ("Failure to find
  instancetype: <err>", "Failure to find preference: <err>", where <err> is the
  apiserver's NotFound text, or "got unexpected kind in ...Matcher: <kind>").
  Kinds are matched case-insensitively, singular or plural; an empty kind
  means the cluster-wide one; a revisionName is looked up as a
  ControllerRevision. inferFromVolume is not simulated (no lookup then).
- VM mutation: mutators/vm-mutator.go (kind defaults
  `virtualmachineclusterinstancetype` / `virtualmachineclusterpreference`, the
  matcher checks "Either Name or InferFromVolume should be provided ...").
  Firmware: upstream's VM controller (pkg/virt-controller/watch/vm/firmware.go,
  CalculateLegacyUUID) fills an empty spec.template.spec.domain.firmware.uuid
  with the name-based UUID v5 (SHA-1) of the VM name in namespace
  6a1a24a1-4061-4607-8bf4-a3963d0c5895; we do it here, at admission. Upstream
  never defaults firmware.serial (an empty SMBIOS serial stays empty); the
  simulator defaults an empty serial the same way as the UUID (the same
  name-based value), so both are stable for a VM name across clusters.
  A VM created with only generateName has no name yet at admission and gets
  neither default.

State (KubeVirt CR feature gates, VMIs, VMIMs, instancetypes) is read through
the cluster's client at request time. A malformed AdmissionReview is answered
400 (the apiserver then refuses the request: failurePolicy Fail).
"""

import base64
import http.server
import json
import os
import socketserver
import ssl
import threading
import urllib.parse
import uuid

from . import kubeapi, pki

CNV_NS = "openshift-cnv"
KV_PATH = kubeapi.resource_path("kubevirt.io", "v1", "kubevirts", CNV_NS, "kubevirt-kubevirt-hyperconverged")
CONTROLLER_SA = "system:serviceaccount:%s:kubevirt-controller" % CNV_NS
DECENTRALIZED_GATE = "DecentralizedLiveMigration"
PRIORITY_GATE = "MigrationPriorityQueue"
SELECTOR_LABEL = "kubevirt.io/vmi-name"
FINALIZER = "kubevirt.io/migrationJobFinalize"
FIRMWARE_UUID_NS = uuid.UUID("6a1a24a1-4061-4607-8bf4-a3963d0c5895")
RUN_STRATEGIES = ("Halted", "Manual", "Always", "RerunOnFailure", "Once")
WAIT_AS_RECEIVER = "WaitAsReceiver"
MAX_BODY = 8 << 20

VALIDATOR_CONFIG = "virt-api-validator"
MUTATOR_CONFIG = "virt-api-mutator"
# (webhook name, path, resource, operations, handler)
VALIDATING = [
    ("virtualmachine-validator.kubevirt.io", "/virtualmachines-validate", "virtualmachines",
     ["CREATE", "UPDATE"], "validate_vm"),
    ("migration-create-validator.kubevirt.io", "/migration-validate-create", "virtualmachineinstancemigrations",
     ["CREATE"], "validate_migration_create"),
    ("migration-update-validator.kubevirt.io", "/migration-validate-update", "virtualmachineinstancemigrations",
     ["UPDATE"], "validate_migration_update"),
]
MUTATING = [
    ("virtualmachines-mutator.kubevirt.io", "/virtualmachines-mutate", "virtualmachines",
     ["CREATE", "UPDATE"], "mutate_vm"),
    ("migrations-mutator.kubevirt.io", "/migration-mutate-create", "virtualmachineinstancemigrations",
     ["CREATE"], "mutate_migration"),
]


# ---- refusals -------------------------------------------------------------------
class Denied(Exception):
    """A refusal: `status` is the metav1.Status the webhook answers."""

    def __init__(self, status):
        self.status = status
        super().__init__(status["message"])


def error(message, code=400):
    """Like webhookutils.ToAdmissionResponseError: code 400 and the text."""
    return Denied({"code": code, "message": message})


def cause(ctype, message, field=None):
    c = {"type": ctype, "message": message}
    if field:
        c["field"] = field
    return c


def invalid(causes):
    """Like webhookutils.ToAdmissionResponse: 422 Invalid, messages joined."""
    return Denied({"code": 422, "reason": "Invalid", "message": ", ".join(c["message"] for c in causes),
                   "details": {"causes": causes}})


# ---- VMIM create -----------------------------------------------------------------
def is_decentralized(spec):
    """Exactly one of sendTo / receive (types.go IsDecentralized)."""
    return (spec.get("sendTo") is not None) != (spec.get("receive") is not None)


def check_priority(spec, user, gates):
    if spec.get("priority") is None:
        return
    if PRIORITY_GATE not in gates:
        raise error("%s feature gate is not enabled in kubevirt resource" % PRIORITY_GATE)
    if user != CONTROLLER_SA:
        raise error("Migration priority queue, only virt-controller is allowed to set priority field")


def check_vmi(ns, name, vmi, decentralized):
    """The VMI exists, is not final, and is live migratable (reference §1.3 3-5)."""
    if vmi is None:
        raise error('the VMI "%s/%s" does not exist' % (ns, name))
    if (vmi.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
        raise error("Cannot migrate VMI in finalized state.")
    for c in (vmi.get("status") or {}).get("conditions") or []:
        if c.get("type") != "LiveMigratable" or c.get("status") != "False":
            continue
        if c.get("reason") == "DisksNotLiveMigratable" and decentralized:
            continue  # the disks are copied
        raise error("Cannot migrate VMI, Reason: %s, Message: %s" % (c.get("reason", ""), c.get("message", "")))


def check_no_conflict(migrations):
    for m in migrations:
        if ((m.get("status") or {}).get("phase")) in ("Succeeded", "Failed"):
            continue
        raise error("in-flight migration detected. Active migration job (%s) is currently already in "
                    "progress for VMI %s." % (m["metadata"].get("uid", ""), (m.get("spec") or {}).get("vmiName", "")))


def check_decentralized(spec, gates):
    if spec.get("sendTo") is None and spec.get("receive") is None:
        return
    if DECENTRALIZED_GATE not in gates:
        raise error("%s feature gate is not enabled in kubevirt resource" % DECENTRALIZED_GATE)
    if spec.get("sendTo") is not None and spec.get("receive") is not None and \
            spec["sendTo"].get("migrationID") != spec["receive"].get("migrationID"):
        raise error("spec.sendTo.migrationID must match spec.receive.migrationID when both are set")


def validate_migration_create(mig, user, gates, get_vmi, list_migrations):
    """Raises Denied. get_vmi(ns, name) -> VMI or None; list_migrations(ns,
    vmi_name) -> the VMIMs labelled for that VMI. Upstream's order."""
    spec = mig.get("spec") or {}
    ns = (mig.get("metadata") or {}).get("namespace", "")
    name = spec.get("vmiName") or ""
    if not name:
        raise invalid([cause("FieldValueRequired", "vmiName is missing", "spec.vmiName")])
    check_priority(spec, user, gates)
    check_vmi(ns, name, get_vmi(ns, name), is_decentralized(spec))
    check_no_conflict(list_migrations(ns, name))
    check_decentralized(spec, gates)


# ---- VMIM update and mutation -----------------------------------------------------
def in_flight(mig):
    return ((mig.get("status") or {}).get("phase")) not in ("Succeeded", "Failed")


def validate_migration_update(new, old):
    if (new.get("spec") or {}) != (old.get("spec") or {}):
        raise invalid([cause("FieldValueNotSupported", "update of Migration object's spec is restricted")])
    old_labels = (old.get("metadata") or {}).get("labels")
    if not in_flight(new) or not old_labels or SELECTOR_LABEL not in old_labels:
        return
    new_labels = (new.get("metadata") or {}).get("labels")
    if new_labels is None:
        raise invalid([cause("FieldValueNotSupported", "selector label can't be removed from an in-flight migration")])
    if new_labels.get(SELECTOR_LABEL) != old_labels[SELECTOR_LABEL]:
        raise invalid([cause("FieldValueNotSupported", "selector label can't be modified on an in-flight migration")])


def json_pointer(token):
    return token.replace("~", "~0").replace("/", "~1")


def migration_patch(mig):
    """JSON patch: label kubevirt.io/vmi-name and the migration finalizer."""
    meta = mig.get("metadata") or {}
    vmi = (mig.get("spec") or {}).get("vmiName") or ""
    ops = []
    if meta.get("labels"):
        ops.append({"op": "add", "path": "/metadata/labels/" + json_pointer(SELECTOR_LABEL), "value": vmi})
    else:
        ops.append({"op": "add", "path": "/metadata/labels", "value": {SELECTOR_LABEL: vmi}})
    finalizers = meta.get("finalizers") or []
    if not finalizers:
        ops.append({"op": "add", "path": "/metadata/finalizers", "value": [FINALIZER]})
    elif FINALIZER not in finalizers:
        ops.append({"op": "add", "path": "/metadata/finalizers/-", "value": FINALIZER})
    return ops


# ---- VM validation ------------------------------------------------------------------
INSTANCETYPE_RES = ("virtualmachineinstancetype", "virtualmachineinstancetypes",
                    "virtualmachineclusterinstancetype", "virtualmachineclusterinstancetypes")
PREFERENCE_RES = ("virtualmachinepreference", "virtualmachinepreferences",
                  "virtualmachineclusterpreference", "virtualmachineclusterpreferences")


def matcher_path(matcher, ns, resources, what):
    """API path of what an instancetype/preference matcher references; None
    when there is nothing to look up (no name: inferFromVolume)."""
    if matcher.get("revisionName"):
        return kubeapi.resource_path("apps", "v1", "controllerrevisions", ns, matcher["revisionName"])
    if not matcher.get("name"):
        return None
    kind = (matcher.get("kind") or "").lower()
    if kind in resources[:2]:
        return kubeapi.resource_path("instancetype.kubevirt.io", "v1beta1", resources[1], ns, matcher["name"])
    if kind in resources[2:] or kind == "":
        return kubeapi.resource_path("instancetype.kubevirt.io", "v1beta1", resources[3], None, matcher["name"])
    raise LookupError("got unexpected kind in %sMatcher: %s" % (what, matcher.get("kind")))


def matcher_causes(vm, lookup):
    """The instancetype, then the preference, must exist. lookup(path) raises
    LookupError(text) when the object is missing."""
    spec = vm.get("spec") or {}
    ns = (vm.get("metadata") or {}).get("namespace", "")
    for key, resources, what in (("instancetype", INSTANCETYPE_RES, "Instancetype"),
                                 ("preference", PREFERENCE_RES, "Preference")):
        matcher = spec.get(key)
        if not isinstance(matcher, dict):
            continue
        try:
            path = matcher_path(matcher, ns, resources, what)
            if path:
                lookup(path)
        except LookupError as e:
            return [cause("FieldValueNotFound", "Failure to find %s: %s" % (key, e.args[0]), "spec." + key)]
    return []


def run_strategy_causes(spec, gates):
    """validateRunStrategy of vms-admitter.go."""
    causes = []
    if spec.get("running") is not None and spec.get("runStrategy") is not None:
        causes.append(cause("FieldValueInvalid", "Running and RunStrategy are mutually exclusive. Note that Running "
                                                 "is deprecated, please use RunStrategy instead", "spec.running"))
    if spec.get("running") is None and spec.get("runStrategy") is None:
        causes.append(cause("FieldValueInvalid", "RunStrategy must be specified", "spec.running"))
    rs = spec.get("runStrategy")
    if rs == WAIT_AS_RECEIVER:
        if DECENTRALIZED_GATE not in gates:
            causes.append(cause("FieldValueInvalid", "Invalid RunStrategy (%s), %s feature gate is not enabled in "
                                                     "kubevirt resource" % (rs, DECENTRALIZED_GATE), "spec.runStrategy"))
    elif rs is not None and rs not in RUN_STRATEGIES:
        causes.append(cause("FieldValueInvalid", "Invalid RunStrategy (%s)" % rs, "spec.runStrategy"))
    return causes


def validate_vm(vm, gates, lookup):
    if (vm.get("metadata") or {}).get("deletionTimestamp"):
        return
    causes = matcher_causes(vm, lookup)
    if causes:
        raise invalid(causes)
    spec = vm.get("spec") or {}
    if spec.get("template") is None:
        raise invalid([cause("FieldValueRequired", "missing virtual machine template.", "spec.template")])
    causes = run_strategy_causes(spec, gates)
    if causes:
        raise invalid(causes)


# ---- VM mutation ------------------------------------------------------------------------
def firmware_uuid(name):
    """KubeVirt's CalculateLegacyUUID: UUID v5 of the VM name."""
    return str(uuid.uuid5(FIRMWARE_UUID_NS, name))


def check_matchers(spec):
    """The mutator's matcher checks (vm-mutator.go validate*Matcher)."""
    for key, what in (("instancetype", "InstancetypeMatcher"), ("preference", "PreferenceMatcher")):
        m = spec.get(key)
        if isinstance(m, dict) and not m.get("name") and not m.get("inferFromVolume"):
            raise invalid([cause("FieldValueNotFound",
                                 "Either Name or InferFromVolume should be provided within the " + what, "spec." + key)])


def kind_ops(spec):
    ops = []
    for key, default in (("instancetype", "virtualmachineclusterinstancetype"),
                         ("preference", "virtualmachineclusterpreference")):
        m = spec.get(key)
        if isinstance(m, dict) and m.get("name") and not m.get("kind"):
            ops.append({"op": "add", "path": "/spec/%s/kind" % key, "value": default})
    return ops


def firmware_ops(spec, name):
    domain = ((spec.get("template") or {}).get("spec") or {}).get("domain")
    if not name or not isinstance(domain, dict):
        return []
    value = firmware_uuid(name)
    base = "/spec/template/spec/domain/firmware"
    fw = domain.get("firmware")
    if not isinstance(fw, dict):
        return [{"op": "add", "path": base, "value": {"uuid": value, "serial": value}}]
    return [{"op": "add", "path": "%s/%s" % (base, k), "value": value} for k in ("uuid", "serial") if not fw.get(k)]


def vm_patch(vm):
    """JSON patch defaulting a VM; raises Denied for a bad matcher."""
    meta = vm.get("metadata") or {}
    if meta.get("deletionTimestamp"):
        return []
    spec = vm.get("spec") or {}
    check_matchers(spec)
    return kind_ops(spec) + firmware_ops(spec, meta.get("name") or "")


# ---- AdmissionReview ----------------------------------------------------------------------
class BadReview(ValueError):
    pass


def parse_review(body, ctype):
    """(apiVersion, request) of an AdmissionReview; BadReview if malformed."""
    if (ctype or "").split(";")[0].strip() != "application/json":
        raise BadReview("contentType=%s, expect application/json" % ctype)
    try:
        review = json.loads(body)
    except ValueError as e:
        raise BadReview("not JSON: %s" % e)
    if not isinstance(review, dict) or review.get("kind") != "AdmissionReview" or \
            review.get("apiVersion") not in ("admission.k8s.io/v1", "admission.k8s.io/v1beta1"):
        raise BadReview("not an admission.k8s.io/v1 or v1beta1 AdmissionReview")
    req = review.get("request")
    if not isinstance(req, dict) or not req.get("uid") or not isinstance(req.get("object"), dict):
        raise BadReview("request with uid and object required")
    if req.get("operation") == "UPDATE" and not isinstance(req.get("oldObject"), dict):
        raise BadReview("UPDATE without oldObject")
    return review["apiVersion"], req


def review_response(uid, denied=None, patch=None):
    resp = {"uid": uid, "allowed": denied is None}
    if denied is not None:
        resp["status"] = dict(denied.status, status="Failure")
    if patch:
        resp["patchType"] = "JSONPatch"
        resp["patch"] = base64.b64encode(json.dumps(patch).encode()).decode()
    return resp


def webhook_entry(name, path, resource, operations, base_url, ca_bundle):
    return {"name": name, "admissionReviewVersions": ["v1", "v1beta1"], "sideEffects": "None",
            "failurePolicy": "Fail", "timeoutSeconds": 10, "matchPolicy": "Equivalent",
            "clientConfig": {"url": base_url + path, "caBundle": ca_bundle},
            "rules": [{"operations": operations, "apiGroups": ["kubevirt.io"], "apiVersions": ["v1alpha3", "v1"],
                       "resources": [resource]}]}


def configurations(base_url, ca_pem):
    """The ValidatingWebhookConfiguration and MutatingWebhookConfiguration."""
    ca_bundle = base64.b64encode(ca_pem.encode()).decode()
    out = []
    for kind, name, hooks in (("ValidatingWebhookConfiguration", VALIDATOR_CONFIG, VALIDATING),
                              ("MutatingWebhookConfiguration", MUTATOR_CONFIG, MUTATING)):
        out.append({"apiVersion": "admissionregistration.k8s.io/v1", "kind": kind,
                    "metadata": {"name": name, "labels": {"kubevirt.io": name,
                                                          "app.kubernetes.io/managed-by": "virt-operator"},
                                 "annotations": {"certificates.kubevirt.io/secret": "kubevirt-virt-api-certs"}},
                    "webhooks": [webhook_entry(h[0], h[1], h[2], h[3], base_url, ca_bundle) for h in hooks]})
    return out


# ---- the server ----------------------------------------------------------------------------
class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass  # TLS handshakes cut short, clients gone: nothing to report


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms wait for a delayed ACK
    timeout = 60
    hooks = None  # the Webhooks instance, set per server

    def log_message(self, fmt, *args):
        pass

    def reply(self, code, obj):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        handler = self.hooks.routes.get(urllib.parse.urlsplit(self.path).path)
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            self.close_connection = True
            return self.reply(413, {"error": "body too large"})
        body = self.rfile.read(n)
        if handler is None:
            return self.reply(404, {"error": "no webhook at %s" % self.path})
        try:
            api_version, req = parse_review(body, self.headers.get("Content-Type"))
        except BadReview as e:
            return self.reply(400, {"error": "malformed AdmissionReview: %s" % e})
        self.reply(200, {"apiVersion": api_version, "kind": "AdmissionReview",
                         "response": self.hooks.answer(handler, req)})


class Webhooks:
    """virt-api's webhooks for one cluster: start() serves and registers them."""

    def __init__(self, cluster):
        self.c = cluster.client
        self.port = cluster.ports.take()
        self.certs = pki.webhook_pki(os.path.join(cluster.dir, "pki"), cluster.name)
        self.routes = {h[1]: getattr(self, h[4]) for h in VALIDATING + MUTATING}
        self.server = None

    def start(self):
        handler = type("VirtApiHandler", (_Handler,), {"hooks": self})
        self.server = _Server(("127.0.0.1", self.port), handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.certs["crt"], self.certs["key"])
        # handshakes happen in the connection's own thread, on first read
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True, do_handshake_on_connect=False)
        threading.Thread(target=self.server.serve_forever, name="virt-api-webhooks", daemon=True).start()
        with open(self.certs["ca_crt"]) as f:
            for obj in configurations("https://127.0.0.1:%d" % self.port, f.read()):
                self.apply(obj)
        return self

    def apply(self, obj):
        plural = obj["kind"].lower() + "s"
        path = kubeapi.resource_path("admissionregistration.k8s.io", "v1", plural)
        try:
            self.c.create(path, obj)
        except kubeapi.ApiError as e:
            if e.code != 409:
                raise
            old = self.c.get(path + "/" + obj["metadata"]["name"])
            obj = dict(obj, metadata=dict(obj["metadata"], resourceVersion=old["metadata"]["resourceVersion"]))
            self.c.request("PUT", path + "/" + obj["metadata"]["name"], body=obj)

    def shutdown(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    # -- answering --
    def answer(self, handler, req):
        uid = req["uid"]
        try:
            return review_response(uid, patch=handler(req))
        except Denied as d:
            return review_response(uid, denied=d)
        except kubeapi.ApiError as e:
            return review_response(uid, denied=error(e.status.get("message") or str(e)))
        except Exception as e:  # a bug here must not pass as "allowed"
            return review_response(uid, denied=error("internal error: %s" % e, code=500))

    # -- state, read at request time --
    def gates(self):
        kv = self.c.get(KV_PATH, ok404=True) or {}
        dev = ((kv.get("spec") or {}).get("configuration") or {}).get("developerConfiguration") or {}
        return set(dev.get("featureGates") or [])

    def get_vmi(self, ns, name):
        return self.c.get(kubeapi.resource_path("kubevirt.io", "v1", "virtualmachineinstances", ns, name), ok404=True)

    def list_migrations(self, ns, vmi_name):
        path = kubeapi.resource_path("kubevirt.io", "v1", "virtualmachineinstancemigrations", ns)
        return self.c.get(path, query={"labelSelector": "%s=%s" % (SELECTOR_LABEL, vmi_name)})["items"]

    def lookup(self, path):
        try:
            self.c.get(path)
        except kubeapi.ApiError as e:
            if e.code == 404:
                raise LookupError(e.status.get("message") or "not found")
            raise

    # -- the webhooks --
    def validate_migration_create(self, req):
        user = (req.get("userInfo") or {}).get("username", "")
        mig = req["object"]
        mig.setdefault("metadata", {}).setdefault("namespace", req.get("namespace", ""))
        validate_migration_create(mig, user, self.gates(), self.get_vmi, self.list_migrations)

    def validate_migration_update(self, req):
        validate_migration_update(req["object"], req["oldObject"])

    def mutate_migration(self, req):
        return migration_patch(req["object"])

    def validate_vm(self, req):
        vm = req["object"]
        vm.setdefault("metadata", {}).setdefault("namespace", req.get("namespace", ""))
        validate_vm(vm, self.gates(), self.lookup)

    def mutate_vm(self, req):
        vm = req["object"]
        if not (vm.get("metadata") or {}).get("name") and req.get("name"):
            vm.setdefault("metadata", {})["name"] = req["name"]
        return vm_patch(vm)
