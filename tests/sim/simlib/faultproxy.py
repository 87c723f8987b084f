"""The fault-injection proxy in front of each kube-apiserver.

Clients' kubeconfigs point here. It terminates TLS with the cluster's own
serving certificate, forwards every request to the apiserver over TLS, and
logs it to requests.jsonl. With no rules it is transparent. Rules add
latency, answer errors as the apiserver would (a Status body; 429 with
Retry-After), reset the connection mid-response, or end watch streams after N
seconds. Randomness comes from a seeded generator, so a run is repeatable.

Client certificates: the proxy asks for one (optional) and, when it verifies
against the cluster CA, passes the identity on with the front-proxy
request-header mechanism (X-Remote-User/X-Remote-Group over the proxy's own
client certificate), exactly how kube-aggregator fronts an apiserver. Bearer
tokens are passed through untouched and never logged.

Rule fields (all optional but one effect):
  verb       get|list|watch|create|update|patch|delete|deletecollection|* or a list
  resource   plural resource name ('pods', 'virtualmachines', 'pods/log'); '*'
  namespace, name, user    exact matches
  rate       probability in [0,1] that a matching request is hit (default 1)
  count      fire at most this many times (default unlimited)
  latencyMs  delay before forwarding
  status     answer this HTTP code instead of forwarding (message, reason,
             retryAfter for 429/503)
  reset      forward, then reset the connection halfway through the body
  watchCloseAfter   end a watch stream cleanly after this many seconds
"""

import datetime
import http.client
import json
import random
import socket
import socketserver
import ssl
import struct
import threading
import time
import urllib.parse

HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer",
       "upgrade", "proxy-authorization", "proxy-authenticate", "content-length"}
REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 409: "Conflict",
           410: "Expired", 422: "Invalid", 429: "TooManyRequests", 500: "InternalError",
           503: "ServiceUnavailable", 504: "Timeout"}
VERBS = {"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}


def classify(method, target):
    """(verb, resource, namespace, name) of a Kubernetes API request."""
    url = urllib.parse.urlsplit(target)
    q = urllib.parse.parse_qs(url.query)
    parts = [p for p in url.path.split("/") if p]
    if parts[:1] == ["api"]:
        rest = parts[2:]
    elif parts[:1] == ["apis"]:
        rest = parts[3:]
    else:
        return method.lower(), "", "", ""
    watch_path = bool(rest) and rest[0] == "watch"
    if watch_path:
        rest = rest[1:]
    ns = ""
    if len(rest) >= 2 and rest[0] == "namespaces" and len(rest) != 2:
        ns, rest = rest[1], rest[2:]
    resource = rest[0] if rest else ""
    name = rest[1] if len(rest) > 1 else ""
    if len(rest) > 2:
        resource += "/" + rest[2]
    if resource == "namespaces" and len(rest) == 2:
        name = rest[1]
    watch = watch_path or q.get("watch", [""])[0] in ("1", "true")
    verb = {"GET": "get", "POST": "create", "PUT": "update", "PATCH": "patch",
            "DELETE": "delete", "HEAD": "get"}.get(method, method.lower())
    if method == "GET" and not name:
        verb = "watch" if watch else "list"
    elif method == "GET" and watch:
        verb = "watch"
    elif method == "DELETE" and not name:
        verb = "deletecollection"
    return verb, resource, ns, name


class Rule:
    def __init__(self, spec, rid):
        self.spec = dict(spec)
        self.spec["id"] = self.spec.get("id") or rid
        self.id = self.spec["id"]
        self.fired = 0
        verbs = spec.get("verb", "*")
        self.verbs = set(verbs if isinstance(verbs, list) else [verbs])
        bad = self.verbs - VERBS - {"*"}
        if bad:
            raise ValueError("unknown verb %s" % ", ".join(sorted(bad)))
        if not any(k in spec for k in ("latencyMs", "status", "reset", "watchCloseAfter")):
            raise ValueError("a rule needs one of latencyMs, status, reset, watchCloseAfter")
        if "status" in spec and not 400 <= int(spec["status"]) <= 599:
            raise ValueError("status must be 400..599")
        self.rate = float(spec.get("rate", 1.0))
        if not 0 <= self.rate <= 1:
            raise ValueError("rate must be between 0 and 1")

    def matches(self, verb, resource, ns, name, user):
        s = self.spec
        if "*" not in self.verbs and verb not in self.verbs:
            return False
        for key, val in (("resource", resource), ("namespace", ns), ("name", name), ("user", user)):
            want = s.get(key, "*")
            if want not in ("*", val):
                return False
        return "count" not in s or self.fired < int(s["count"])

    def view(self):
        d = dict(self.spec)
        d["fired"] = self.fired
        return d


class RequestLog:
    def __init__(self, path):
        self.f = open(path, "a", buffering=1)
        self.lock = threading.Lock()

    def write(self, entry):
        line = json.dumps(entry, separators=(",", ":"))
        with self.lock:
            self.f.write(line + "\n")

    def close(self):
        self.f.close()


class Faults:
    """The rule set of one proxy; changed at run time from the admin endpoint."""

    def __init__(self, seed=0):
        self.lock = threading.Lock()
        self.rules = []
        self.seed = seed
        self.rng = random.Random(seed)
        self.next_id = 1

    def replace(self, rules, seed=None):
        built = []
        with self.lock:
            for r in rules:
                built.append(Rule(r, "r%d" % self.next_id))
                self.next_id += 1
            self.rules = built
            if seed is not None:
                self.seed = int(seed)
            self.rng = random.Random(self.seed)

    def add(self, rule):
        with self.lock:
            r = Rule(rule, "r%d" % self.next_id)
            self.next_id += 1
            self.rules.append(r)
            return r.view()

    def remove(self, rid):
        with self.lock:
            before = len(self.rules)
            self.rules = [r for r in self.rules if r.id != rid]
            return len(self.rules) != before

    def view(self):
        with self.lock:
            return {"seed": self.seed, "rules": [r.view() for r in self.rules]}

    def pick(self, verb, resource, ns, name, user):
        """The effects for one request: merged from every matching rule that fires."""
        effects = {}
        with self.lock:
            for r in self.rules:
                if r.matches(verb, resource, ns, name, user) and self.rng.random() < r.rate:
                    r.fired += 1
                    for k in ("latencyMs", "status", "message", "reason", "retryAfter", "reset",
                              "watchCloseAfter"):
                        if k in r.spec and k not in effects:
                            effects[k] = r.spec[k]
                    effects.setdefault("rules", []).append(r.id)
        return effects


def status_body(code, message, reason=None, retry_after=None):
    st = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
          "message": message, "reason": reason or REASONS.get(code, "InternalError"), "code": code}
    if retry_after is not None:
        st["details"] = {"retryAfterSeconds": int(retry_after)}
    return json.dumps(st).encode()


class _Closed(Exception):
    pass


class ProxyHandler(socketserver.StreamRequestHandler):
    proxy = None  # set per server class

    def setup(self):
        self.upstream = None
        self.upstream_cert = None
        self.request.settimeout(30)
        self.request.do_handshake()  # here, not in the accept loop
        self.request.settimeout(None)
        super().setup()

    def finish(self):
        try:
            super().finish()
        except (OSError, ValueError):
            pass
        if self.upstream is not None:
            self.upstream.close()

    def handle(self):
        try:
            while self.handle_one():
                pass
        except (_Closed, OSError, ssl.SSLError, http.client.HTTPException, ValueError):
            pass

    def read_request(self):
        line = self.rfile.readline(65537)
        if not line:
            return None
        parts = line.decode("latin-1").rstrip("\r\n").split(" ")
        if len(parts) != 3:
            raise _Closed()
        method, target, version = parts
        headers = []
        while True:
            h = self.rfile.readline(65537)
            if h in (b"\r\n", b"\n", b""):
                break
            k, _, v = h.decode("latin-1").partition(":")
            headers.append((k.strip(), v.strip()))
        hmap = {k.lower(): v for k, v in headers}
        body = b""
        if "chunked" in hmap.get("transfer-encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            body = b"".join(chunks)
        elif hmap.get("content-length"):
            body = self.rfile.read(int(hmap["content-length"]))
        return method, target, version, headers, hmap, body

    def identity(self, hmap):
        """(user, groups, via) of the caller; tokens are looked up, never kept."""
        auth = hmap.get("authorization", "")
        if auth.lower().startswith("bearer "):
            who = self.proxy.tokens.get(auth[7:].strip())
            if who:
                return who[0], who[1], "token"
            return "unknown-token", [], "token"
        cert = self.connection.getpeercert() if hasattr(self.connection, "getpeercert") else None
        if cert:
            subj = dict(x[0] for x in cert.get("subject", ()))
            groups = [x[0][1] for x in cert.get("subject", ()) if x[0][0] == "organizationName"]
            return subj.get("commonName", ""), groups, "cert"
        return "system:anonymous", [], "none"

    def upstream_conn(self, with_cert):
        if with_cert:
            if self.upstream_cert is None:
                self.upstream_cert = self.proxy.connect_upstream(True)
            return self.upstream_cert
        if self.upstream is None:
            self.upstream = self.proxy.connect_upstream(False)
        return self.upstream

    @staticmethod
    def drop_upstream(conn, dropped):
        dropped.set()
        try:
            conn.sock.shutdown(socket.SHUT_RDWR)
        except (OSError, AttributeError):
            pass

    def send_raw(self, data):
        self.wfile.write(data)
        self.wfile.flush()

    def respond_status(self, code, message, reason=None, retry_after=None, keep=True):
        body = status_body(code, message, reason, retry_after)
        head = ["HTTP/1.1 %d %s" % (code, http.client.responses.get(code, "Error")),
                "Content-Type: application/json", "Content-Length: %d" % len(body),
                "Cache-Control: no-cache, private"]
        if retry_after is not None:
            head.append("Retry-After: %d" % int(retry_after))
        if not keep:
            head.append("Connection: close")
        self.send_raw(("\r\n".join(head) + "\r\n\r\n").encode() + body)

    def reset(self):
        """Abort the TCP connection (RST), as a crashed peer or middlebox would."""
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        for f in (self.rfile, self.wfile):
            try:
                f.close()
            except (OSError, ValueError):
                pass
        self.connection.close()  # last reference: the kernel sends RST
        raise _Closed()

    def handle_one(self):
        req = self.read_request()
        if req is None:
            return False
        method, target, version, headers, hmap, body = req
        t0 = time.time()
        user, groups, via = self.identity(hmap)
        verb, resource, ns, name = classify(method, target)
        effects = self.proxy.faults.pick(verb, resource, ns, name, user)
        entry = {"time": datetime.datetime.fromtimestamp(t0, datetime.timezone.utc).isoformat(
                     timespec="milliseconds").replace("+00:00", "Z"),
                 "cluster": self.proxy.cluster, "method": method, "path": target, "user": user,
                 "userAgent": hmap.get("user-agent", ""), "verb": verb, "resource": resource}
        if effects.get("rules"):
            entry["faults"] = effects["rules"]
        status = 0
        self.sent_status = 0
        keep = hmap.get("connection", "").lower() != "close" and version == "HTTP/1.1"
        try:
            if effects.get("latencyMs"):
                time.sleep(float(effects["latencyMs"]) / 1000.0)
            if "upgrade" in hmap:
                status = 501
                self.respond_status(501, "kubesim proxy: protocol upgrades (exec, port-forward) are not proxied",
                                    keep=False)
                return False
            if effects.get("status"):
                status = int(effects["status"])
                retry = effects.get("retryAfter")
                if retry is None and status == 429:
                    retry = 1
                msg = effects.get("message") or {
                    429: "Too many requests, please try again later.",
                    503: "the server is currently unable to handle the request",
                    500: "Internal error occurred: kubesim injected fault"}.get(
                        status, "kubesim injected fault")
                self.respond_status(status, msg, effects.get("reason"), retry, keep)
                return keep
            status = self.forward(method, target, headers, body, user, groups, via, effects)
            return keep and status > 0
        finally:
            entry["status"] = status or self.sent_status
            entry["durationMs"] = round((time.time() - t0) * 1000, 1)
            self.proxy.log.write(entry)

    def forward(self, method, target, headers, body, user, groups, via, effects):
        fwd = [(k, v) for k, v in headers
               if k.lower() not in HOP and k.lower() != "host" and not k.lower().startswith("x-remote-")]
        if via == "cert":
            # front-proxy identity: one X-Remote-Group header per group
            fwd.append(("X-Remote-User", user))
            fwd.extend(("X-Remote-Group", g) for g in groups)
        if body or method in ("POST", "PUT", "PATCH"):
            fwd.append(("Content-Length", str(len(body))))
        conn = self.upstream_conn(via == "cert")
        for attempt in range(2):
            try:
                conn.putrequest(method, target, skip_accept_encoding=True)
                for k, v in fwd:
                    conn.putheader(k, v)
                conn.endheaders(body if body else None)
                resp = conn.getresponse()
                break
            except (OSError, http.client.HTTPException):
                conn.close()  # a stale keep-alive connection: one fresh try
                if attempt:
                    self.respond_status(503, "kubesim proxy: apiserver unreachable", keep=False)
                    return 503
        self.sent_status = resp.status  # logged even if the connection is then reset
        head = ["HTTP/1.1 %d %s" % (resp.status, resp.reason)]
        for k, v in resp.getheaders():
            if k.lower() not in HOP:
                head.append("%s: %s" % (k, v))
        length = resp.getheader("Content-Length")
        if method == "HEAD" or resp.status in (204, 304) or resp.status < 200:
            length = None  # no body at all
            self.send_raw(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
            resp.read()
            return resp.status
        streaming = length is None
        if streaming:
            head.append("Transfer-Encoding: chunked")
        else:
            head.append("Content-Length: %s" % length)
        self.send_raw(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        if not streaming:
            data = resp.read()
            if effects.get("reset"):
                self.send_raw(data[: len(data) // 2])
                self.reset()
            self.send_raw(data)
            return resp.status
        cut = None
        if effects.get("watchCloseAfter") is not None:
            # End the stream after N seconds: drop the apiserver side, which
            # ends the read below, then close the client's stream cleanly.
            dropped = threading.Event()
            cut = threading.Timer(float(effects["watchCloseAfter"]), self.drop_upstream, args=(conn, dropped))
            cut.daemon = True
            cut.start()
        sent = 0
        try:
            while True:
                try:
                    chunk = resp.read1(65536)
                except (OSError, ValueError, http.client.HTTPException):
                    if cut is not None and dropped.is_set():
                        break
                    raise
                if not chunk:
                    break
                if effects.get("reset") and sent > 0:
                    self.reset()
                self.send_raw(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
        finally:
            if cut is not None:
                cut.cancel()
                if dropped.is_set():
                    conn.close()
        self.send_raw(b"0\r\n\r\n")
        return resp.status


class _Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def get_request(self):
        sock, addr = self.socket.accept()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self.ssl_ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def handle_error(self, request, client_address):
        pass


class FaultProxy:
    def __init__(self, cluster, port, upstream_port, pki, tokens, log, seed=0):
        self.cluster = cluster
        self.port = port
        self.upstream_port = upstream_port
        self.pki = pki
        self.tokens = tokens  # token -> (user, [groups])
        self.log = log
        self.faults = Faults(seed)
        self.up_ctx = ssl.create_default_context(cafile=pki["ca_crt"])
        self.up_ctx.check_hostname = False
        self.up_ctx_cert = ssl.create_default_context(cafile=pki["ca_crt"])
        self.up_ctx_cert.check_hostname = False
        self.up_ctx_cert.load_cert_chain(pki["front_proxy_client_crt"], pki["front_proxy_client_key"])
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(pki["serving_crt"], pki["serving_key"])
        ctx.load_verify_locations(pki["ca_crt"])
        ctx.verify_mode = ssl.CERT_OPTIONAL
        ctx.set_alpn_protocols(["http/1.1"])
        handler = type("Handler_" + cluster.replace("-", "_"), (ProxyHandler,), {"proxy": self})
        self.server = _Server(("127.0.0.1", port), handler, bind_and_activate=True)
        self.server.ssl_ctx = ctx
        self.thread = None

    def connect_upstream(self, with_cert):
        return http.client.HTTPSConnection("127.0.0.1", self.upstream_port, timeout=3600,
                                           context=self.up_ctx_cert if with_cert else self.up_ctx)

    def start(self):
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.2},
                                       name="proxy-" + self.cluster, daemon=True)
        self.thread.start()
        return self

    def shutdown(self):
        self.server.shutdown()
        self.server.server_close()
