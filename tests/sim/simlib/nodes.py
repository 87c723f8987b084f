"""Simulated nodes, the way KWOK does it: Node objects kept Ready through
leases and status heartbeats, and an agent standing in for each node's kubelet.

The agent watches pods (it never polls); a pod the real scheduler bound to one
of its nodes is set Running with an IP from the node's pod CIDR, Multus
attachments get a `k8s.v1.cni.cncf.io/network-status` annotation with
addresses from the NAD's IPAM, run-to-completion pods end Succeeded or Failed,
and deleted pods are removed once their containers are gone. Each node serves
the kubelet API the apiserver calls for `kubectl logs`.

What a run-to-completion pod does is decided by the first runner that claims it
(`NodeAgent.runners`: a runner returns (exit code, seconds, log), False to keep
the pod running until it is deleted, or None to pass), else by its annotations:
  kubesim.cclm.io/exit-code     container exit code (default 0)
  kubesim.cclm.io/run-seconds   simulated run time (default 0.5)
  kubesim.cclm.io/log           the container's log text
A `kubectl cclm netcheck` probe pod (label cclm.io/role=netcheck-probe) is
answered from the fabric model by simlib/netprobe.py, installed as a runner.
"""

import datetime
import heapq
import http.server
import ipaddress
import json
import queue
import random
import socketserver
import ssl
import threading
import time
import urllib.parse

from . import ipam, kubeapi

ANN = "kubesim.cclm.io/"
NETWORKS = "k8s.v1.cni.cncf.io/networks"
NETWORK_STATUS = "k8s.v1.cni.cncf.io/network-status"
LEASE_SECONDS = 40
RENEW_SECONDS = 10
STATUS_SECONDS = 60


def now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_micro():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_networks(value, pod_ns):
    """The pod's Multus request: 'a, ns/b@if' or a JSON list -> [(ns, name, iface)]."""
    value = (value or "").strip()
    if not value:
        return []
    out = []
    if value.startswith("["):
        for i, e in enumerate(json.loads(value)):
            out.append((e.get("namespace") or pod_ns, e["name"], e.get("interface") or ""))
    else:
        for part in value.split(","):
            part = part.strip()
            if not part:
                continue
            iface = ""
            if "@" in part:
                part, iface = part.split("@", 1)
            ns, name = part.split("/", 1) if "/" in part else (pod_ns, part)
            out.append((ns, name, iface))
    return [(ns, name, iface or "net%d" % (i + 1)) for i, (ns, name, iface) in enumerate(out)]


def fake_mac(seed):
    r = random.Random(seed)
    return "0a:58:" + ":".join("%02x" % r.randrange(256) for _ in range(4))


class KubeletHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms wait for a delayed ACK
    agent = None
    node = None

    def log_message(self, fmt, *args):
        pass

    def _send(self, code, body, ctype="text/plain"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        parts = [urllib.parse.unquote(p) for p in url.path.strip("/").split("/")]
        if parts == ["healthz"]:
            return self._send(200, "ok")
        if len(parts) == 4 and parts[0] == "containerLogs":
            q = urllib.parse.parse_qs(url.query)
            text = self.agent.container_log(parts[1], parts[2], parts[3])
            if text is None:
                return self._send(404, "container %s in pod %s/%s not found on %s\n"
                                  % (parts[3], parts[1], parts[2], self.node))
            lines = text.splitlines(keepends=True)
            if "tailLines" in q:
                n = int(q["tailLines"][0])
                lines = lines[-n:] if n > 0 else []
            return self._send(200, "".join(lines))
        self._send(404, "not found\n")


class ThreadingHTTPSServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class NodeAgent:
    def __init__(self, cluster_name, client, nodes, ports, cert, key, time_scale=1.0):
        self.cluster = cluster_name
        self.client = client
        self.nodes = {n["name"]: dict(n) for n in nodes}
        self.time_scale = time_scale
        self.stop = threading.Event()
        self.queue = queue.Queue()
        self.timers = []
        self.timer_lock = threading.Lock()
        self.timer_wake = threading.Event()
        self.alloc = ipam.Allocator()
        self.pod_ips = {n: {} for n in self.nodes}   # node -> {uid: ip}
        self.logs = {}                                # (ns, pod, container) -> text
        self.pods = {}                                # "ns/name" -> latest pod
        self.started = set()                          # uids set Running/finished by us
        self.runners = []
        self.servers = []
        self.threads = []
        self.lock = threading.Lock()
        for name in self.nodes:
            self.nodes[name]["kubeletPort"] = ports.take()
        self.ssl_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ssl_ctx.load_cert_chain(cert, key)

    # ---- nodes --------------------------------------------------------------
    def node_object(self, n):
        cap = dict(n["capacity"])
        ts = now_rfc3339()
        conds = [
            {"type": t, "status": "False", "reason": r, "message": m,
             "lastHeartbeatTime": ts, "lastTransitionTime": ts}
            for t, r, m in [("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                            ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                            ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available")]
        ]
        conds.append({"type": "Ready", "status": "True", "reason": "KubeletReady",
                      "message": "kubelet is posting ready status", "lastHeartbeatTime": ts,
                      "lastTransitionTime": ts})
        labels = {"kubernetes.io/hostname": n["name"], "kubernetes.io/os": "linux",
                  "kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
                  "beta.kubernetes.io/arch": "amd64", "type": "kubesim"}
        labels.update(n["labels"])
        ann = {ANN + "nics": json.dumps(n["nics"]), ANN + "cluster": self.cluster,
               "node.alpha.kubernetes.io/ttl": "0"}
        ann.update(n["annotations"])
        return {
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": n["name"], "labels": labels, "annotations": ann},
            "spec": {"podCIDR": n["podCIDR"], "podCIDRs": [n["podCIDR"]], "taints": n["taints"] or None},
            "status": {
                "capacity": cap, "allocatable": cap, "conditions": conds,
                "addresses": [{"type": "InternalIP", "address": "127.0.0.1"},
                              {"type": "Hostname", "address": n["name"]}],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": n["kubeletPort"]}},
                "nodeInfo": {
                    "machineID": "", "systemUUID": "", "bootID": "", "kernelVersion": "5.14.0-570.el9.x86_64",
                    "osImage": "Red Hat Enterprise Linux CoreOS 9.6", "containerRuntimeVersion": "cri-o://1.33.0",
                    "kubeletVersion": "v1.20.2", "kubeProxyVersion": "v1.20.2",
                    "operatingSystem": "linux", "architecture": "amd64"},
            },
        }

    def register_nodes(self):
        for n in self.nodes.values():
            obj = self.node_object(n)
            path = kubeapi.resource_path("", "v1", "nodes")
            try:
                self.client.create(path, obj)
            except kubeapi.ApiError as e:
                if e.code != 409:
                    raise
                self.client.merge_patch(path + "/" + n["name"] + "/status", {"status": obj["status"]})
            self.renew_lease(n["name"])

    def renew_lease(self, name):
        path = kubeapi.resource_path("coordination.k8s.io", "v1", "leases", "kube-node-lease", name)
        spec = {"holderIdentity": name, "leaseDurationSeconds": LEASE_SECONDS, "renewTime": now_micro()}
        try:
            self.client.merge_patch(path, {"spec": spec})
        except kubeapi.ApiError as e:
            if e.code != 404:
                raise
            self.client.create(path.rsplit("/", 1)[0], {
                "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                "metadata": {"name": name, "namespace": "kube-node-lease"}, "spec": spec})

    def heartbeat_loop(self):
        last_status = time.time()
        while not self.stop.wait(RENEW_SECONDS):
            try:
                for name in self.nodes:
                    self.renew_lease(name)
                if time.time() - last_status >= STATUS_SECONDS:
                    last_status = time.time()
                    ts = now_rfc3339()
                    for name, n in self.nodes.items():
                        node = self.client.get(kubeapi.resource_path("", "v1", "nodes", name=name))
                        conds = node["status"].get("conditions") or []
                        for c in conds:
                            c["lastHeartbeatTime"] = ts
                        self.client.merge_patch(kubeapi.resource_path("", "v1", "nodes", name=name, sub="status"),
                                                {"status": {"conditions": conds}})
            except Exception:
                pass  # the next beat tries again

    # ---- pods ---------------------------------------------------------------
    def on_pod(self, etype, pod):
        node = (pod.get("spec") or {}).get("nodeName")
        if node not in self.nodes:
            return
        key = pod["metadata"]["namespace"] + "/" + pod["metadata"]["name"]
        with self.lock:
            if etype == "DELETED":
                self.pods.pop(key, None)
            else:
                self.pods[key] = pod
        self.queue.put((etype, key, pod))

    def worker(self):
        while not self.stop.is_set():
            try:
                etype, key, pod = self.queue.get(timeout=0.5)
            except queue.Empty:
                continue
            try:
                self.handle(etype, key, pod)
            except kubeapi.ApiError as e:
                if e.code not in (404, 409):
                    self.retry_later(key, 1.0)
            except Exception:
                self.retry_later(key, 1.0)

    def retry_later(self, key, delay):
        self.at(time.time() + delay, ("resync", key))

    def at(self, when, what):
        with self.timer_lock:
            heapq.heappush(self.timers, (when, id(what), what))
        self.timer_wake.set()

    def timer_loop(self):
        while not self.stop.is_set():
            with self.timer_lock:
                due = []
                while self.timers and self.timers[0][0] <= time.time():
                    due.append(heapq.heappop(self.timers)[2])
                wait = (self.timers[0][0] - time.time()) if self.timers else 1.0
            for what in due:
                kind, key = what[0], what[1]
                with self.lock:
                    pod = self.pods.get(key)
                if pod is None:
                    continue
                if kind == "finish":
                    self.queue.put(("FINISH", key, (pod, what[2])))
                else:
                    self.queue.put(("MODIFIED", key, pod))
            self.timer_wake.wait(max(0.01, min(wait, 1.0)))
            self.timer_wake.clear()

    def handle(self, etype, key, pod):
        if etype == "FINISH":
            return self.finish(pod[0], pod[1])
        meta = pod["metadata"]
        uid = meta["uid"]
        if etype == "DELETED":
            self.forget(pod)
            return
        if meta.get("deletionTimestamp"):
            # Containers "stop" at once; the kubelet's final delete.
            self.forget(pod)
            path = kubeapi.resource_path("", "v1", "pods", meta["namespace"], meta["name"])
            self.client.delete(path, body={"apiVersion": "v1", "kind": "DeleteOptions", "gracePeriodSeconds": 0,
                                           "preconditions": {"uid": uid}}, ok404=True)
            return
        phase = (pod.get("status") or {}).get("phase")
        if phase in ("Succeeded", "Failed"):
            with self.lock:
                self.started.add(uid)
            return
        if phase == "Running" and (pod.get("status") or {}).get("podIP"):
            with self.lock:
                if uid not in self.started:
                    self.started.add(uid)
                    self.adopt(pod)
            return
        with self.lock:
            if uid in self.started:
                return
        self.start_pod(pod)

    def adopt(self, pod):
        """A pod already running (kubesim restarted): keep its addresses."""
        node, uid = pod["spec"]["nodeName"], pod["metadata"]["uid"]
        self.pod_ips[node][uid] = pod["status"]["podIP"]
        for att in json.loads(pod["metadata"].get("annotations", {}).get(NETWORK_STATUS) or "[]"):
            if not att.get("default"):
                for ip in att.get("ips") or []:
                    self.alloc.claim(att["name"], (uid, att.get("interface")), ip)
        for c in pod["spec"]["containers"]:
            self.logs.setdefault((pod["metadata"]["namespace"], pod["metadata"]["name"], c["name"]),
                                 "kubesim: container %s running on %s\n" % (c["name"], node))

    def forget(self, pod):
        meta = pod["metadata"]
        node = pod["spec"].get("nodeName")
        uid = meta["uid"]
        with self.lock:
            self.started.discard(uid)
            if node in self.pod_ips:
                self.pod_ips[node].pop(uid, None)
        self.alloc.release_pod(uid)

    def pod_ip(self, node, uid):
        with self.lock:
            ips = self.pod_ips[node]
            if uid in ips:
                return ips[uid]
            net = ipaddress.ip_network(self.nodes[node]["podCIDR"])
            used = set(ips.values())
            for i, a in enumerate(net.hosts()):
                if i >= 1 and str(a) not in used:  # .1 is the node's gateway
                    ips[uid] = str(a)
                    return ips[uid]
        raise RuntimeError("pod CIDR of %s exhausted" % node)

    def multus_status(self, pod, pod_ip):
        meta = pod["metadata"]
        uid = meta["uid"]
        status = [{"name": "ovn-kubernetes", "interface": "eth0", "ips": [pod_ip],
                   "mac": fake_mac(uid + "eth0"), "default": True, "dns": {}}]
        for ns, name, iface in parse_networks((meta.get("annotations") or {}).get(NETWORKS), meta["namespace"]):
            nad = self.client.get(kubeapi.resource_path("k8s.cni.cncf.io", "v1", "network-attachment-definitions",
                                                        ns, name), ok404=True)
            if nad is None:
                raise kubeapi.ApiError(404, {"message": "network-attachment-definition %s/%s not found"
                                             % (ns, name)}, "GET", name)
            cfg, ipam_cfg = ipam.nad_ipam(nad)
            addrs = self.alloc.allocate(ns + "/" + name, ipam_cfg, (uid, iface)) if ipam_cfg else []
            status.append({"name": ns + "/" + name, "interface": iface,
                           "ips": [a.split("/")[0] for a in addrs], "mac": fake_mac(uid + iface),
                           "dns": {}})
        return status

    def start_pod(self, pod):
        meta, spec = pod["metadata"], pod["spec"]
        node, uid = spec["nodeName"], meta["uid"]
        ns, name = meta["namespace"], meta["name"]
        path = kubeapi.resource_path("", "v1", "pods", ns, name)
        ip = self.pod_ip(node, uid)
        ann = meta.get("annotations") or {}
        if ann.get(NETWORKS) and NETWORK_STATUS not in ann:
            try:
                netstat = self.multus_status(pod, ip)
            except (kubeapi.ApiError, ipam.IpamError, ValueError) as e:
                # As on a real node: the sandbox cannot be created; say why and retry.
                self.pod_event(pod, "FailedCreatePodSandBox", "Warning",
                               "Failed to create pod sandbox: multus: %s" % e)
                self.retry_later(ns + "/" + name, 5.0)
                return
            self.client.merge_patch(path, {"metadata": {"annotations": {
                NETWORK_STATUS: json.dumps(netstat, indent=1)}}})
        ts = now_rfc3339()
        run_to_completion = spec.get("restartPolicy", "Always") != "Always"
        cstat = []
        for c in spec["containers"]:
            self.logs.setdefault((ns, name, c["name"]), "kubesim: container %s started on %s\n" % (c["name"], node))
            cstat.append({"name": c["name"], "image": c.get("image", ""), "imageID": c.get("image", ""),
                          "containerID": "cri-o://%s" % (uid.replace("-", "")[:16] + c["name"])[:64],
                          "ready": True, "started": True, "restartCount": 0,
                          "state": {"running": {"startedAt": ts}}})
        istat = [{"name": c["name"], "image": c.get("image", ""), "imageID": c.get("image", ""), "ready": True,
                  "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed",
                                                              "startedAt": ts, "finishedAt": ts}}}
                 for c in spec.get("initContainers") or []]
        status = {
            "phase": "Running", "hostIP": "127.0.0.1", "podIP": ip, "podIPs": [{"ip": ip}], "startTime": ts,
            "qosClass": (pod.get("status") or {}).get("qosClass", "BestEffort"),
            "conditions": [{"type": t, "status": "True", "lastProbeTime": None, "lastTransitionTime": ts}
                           for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")],
            "containerStatuses": cstat,
        }
        if istat:
            status["initContainerStatuses"] = istat
        self.client.merge_patch(path + "/status", {"status": status})
        with self.lock:
            self.started.add(uid)
        if run_to_completion:
            result = None
            for runner in self.runners:
                result = runner(self, pod)
                if result is not None:
                    break
            if result is False:
                return  # a runner keeps it running until deleted (a VM's launcher)
            if result is None:
                result = (int(ann.get(ANN + "exit-code", "0")),
                          float(ann.get(ANN + "run-seconds", "0.5")),
                          ann.get(ANN + "log"))
            code, secs, log = result
            if log is not None:
                for c in spec["containers"]:
                    self.logs[(ns, name, c["name"])] = log if log.endswith("\n") or not log else log + "\n"
            self.at(time.time() + secs / self.time_scale, ("finish", ns + "/" + name, code))

    def finish(self, pod, code):
        meta = pod["metadata"]
        if meta.get("deletionTimestamp"):
            return
        path = kubeapi.resource_path("", "v1", "pods", meta["namespace"], meta["name"])
        ts = now_rfc3339()
        cstat = []
        for c in (pod.get("status") or {}).get("containerStatuses") or []:
            c = dict(c)
            started = (c.get("state") or {}).get("running", {}).get("startedAt", ts)
            c["ready"], c["started"] = False, False
            c["state"] = {"terminated": {"exitCode": code, "reason": "Completed" if code == 0 else "Error",
                                         "startedAt": started, "finishedAt": ts,
                                         "containerID": c.get("containerID", "")}}
            cstat.append(c)
        conds = [{"type": t, "status": "True" if t in ("Initialized", "PodScheduled") else "False",
                  "reason": None if t in ("Initialized", "PodScheduled") else "PodCompleted",
                  "lastProbeTime": None, "lastTransitionTime": ts}
                 for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")]
        self.client.merge_patch(path + "/status", {"status": {
            "phase": "Succeeded" if code == 0 else "Failed", "conditions": conds, "containerStatuses": cstat}})

    def pod_event(self, pod, reason, etype, message):
        meta = pod["metadata"]
        ts = now_rfc3339()
        try:
            self.client.create(kubeapi.resource_path("", "v1", "events", meta["namespace"]), {
                "apiVersion": "v1", "kind": "Event",
                "metadata": {"generateName": meta["name"] + ".", "namespace": meta["namespace"]},
                "involvedObject": {"kind": "Pod", "namespace": meta["namespace"], "name": meta["name"],
                                   "uid": meta["uid"], "apiVersion": "v1"},
                "reason": reason, "message": message, "type": etype, "count": 1,
                "firstTimestamp": ts, "lastTimestamp": ts,
                "source": {"component": "kubelet", "host": pod["spec"]["nodeName"]}})
        except kubeapi.ApiError:
            pass

    def container_log(self, ns, pod, container):
        return self.logs.get((ns, pod, container))

    # ---- life cycle -----------------------------------------------------------
    def serve_kubelets(self):
        for name, n in self.nodes.items():
            handler = type("Kubelet_" + name.replace("-", "_"), (KubeletHandler,), {"agent": self, "node": name})
            srv = ThreadingHTTPSServer(("127.0.0.1", n["kubeletPort"]), handler)
            srv.socket = self.ssl_ctx.wrap_socket(srv.socket, server_side=True)
            t = threading.Thread(target=srv.serve_forever, name="kubelet-" + name, daemon=True)
            t.start()
            self.servers.append(srv)

    def start(self):
        self.serve_kubelets()
        self.register_nodes()
        for target, nm in ((self.heartbeat_loop, "heartbeat"), (self.worker, "pod-worker"),
                           (self.timer_loop, "pod-timers")):
            t = threading.Thread(target=target, name="%s-%s" % (self.cluster, nm), daemon=True)
            t.start()
            self.threads.append(t)
        self.informer = kubeapi.Informer(self.client, "/api/v1/pods", self.on_pod, self.stop,
                                         name=self.cluster + "-pods").start()
        return self

    def shutdown(self):
        self.stop.set()
        self.timer_wake.set()
        for srv in self.servers:
            srv.shutdown()
            srv.server_close()
