"""The simulator's admin endpoint: HTTPS on 127.0.0.1, bearer-token protected.

  GET    /healthz                        ok
  GET    /clusters                       {"clusters": [names]}
  GET    /clusters/C/faults              {"seed": N, "rules": [rule + "fired"]}
  PUT    /clusters/C/faults              body {"rules": [...], "seed": N}: replace all
  POST   /clusters/C/faults              body rule: add one; answers it with its id
  DELETE /clusters/C/faults              remove all rules (the proxy is transparent)
  DELETE /clusters/C/faults/ID           remove one rule
  GET    /virt/faults                    the virtualization faults in force (simlib/virtfaults.py)
  POST   /virt/faults                    body {"action": ...}: one fault now (fail-migration,
                                         move-sync-leader, cut-fabric, restore-fabric, slow-link, rotate-ca)
  DELETE /virt/faults                    clear them (fabric whole again)
  GET    /violations                     what the invariant monitor recorded (simlib/monitor.py)
  GET    /clusters/C/metrics             {"series": [{"name", "labels", "value", "time"}]}
  PUT    /clusters/C/metrics             body {"name": N, "labels": {...}, "value": X}: set one series
                                         (what the migration physics does; see simlib/metrics.py)
  DELETE /clusters/C/metrics             body {"match": {...}}: drop the series whose labels include
                                         all of match (`__name__` matches the name; no body: all)

Its address, CA and token file are in DIR/admin.json; `tests/sim/simctl` wraps it.
"""

import hmac
import http.server
import json
import math
import socketserver
import ssl
import threading
import urllib.parse


def series_view(store):
    """A metrics store as JSON (values that JSON cannot carry as strings)."""
    return [{"name": s.name, "labels": s.labels, "value": s.value if math.isfinite(s.value) else str(s.value),
             "time": s.time} for s in sorted(store.series(), key=lambda s: (s.name, sorted(s.labels.items())))]


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class AdminHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms wait for a delayed ACK
    admin = None

    def log_message(self, fmt, *args):
        pass

    def reply(self, code, obj):
        data = json.dumps(obj, indent=1).encode() + b"\n"
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n > 1 << 20:
            raise ValueError("body too large")
        return json.loads(self.rfile.read(n) or b"null")

    def route(self, method):
        auth = self.headers.get("Authorization", "")
        if not hmac.compare_digest(auth.encode(), ("Bearer " + self.admin.token).encode()):
            return self.reply(401, {"error": "unauthorized: send the token from admin.json"})
        parts = [urllib.parse.unquote(p) for p in urllib.parse.urlsplit(self.path).path.strip("/").split("/")]
        if parts == ["healthz"]:
            return self.reply(200, {"ok": True})
        if parts == ["clusters"] and method == "GET":
            return self.reply(200, {"clusters": list(self.admin.proxies)})
        if len(parts) >= 3 and parts[0] == "clusters" and parts[2] == "faults":
            proxy = self.admin.proxies.get(parts[1])
            if proxy is None:
                return self.reply(404, {"error": "no cluster '%s'" % parts[1]})
            faults = proxy.faults
            try:
                if len(parts) == 3 and method == "GET":
                    return self.reply(200, faults.view())
                if len(parts) == 3 and method == "PUT":
                    b = self.body() or {}
                    faults.replace(b.get("rules") or [], b.get("seed"))
                    return self.reply(200, faults.view())
                if len(parts) == 3 and method == "POST":
                    return self.reply(201, faults.add(self.body() or {}))
                if len(parts) == 3 and method == "DELETE":
                    faults.replace([])
                    return self.reply(200, faults.view())
                if len(parts) == 4 and method == "DELETE":
                    if faults.remove(parts[3]):
                        return self.reply(200, faults.view())
                    return self.reply(404, {"error": "no rule '%s'" % parts[3]})
            except (ValueError, TypeError, KeyError) as e:
                return self.reply(400, {"error": "bad rule: %s" % e})
        if len(parts) == 3 and parts[0] == "clusters" and parts[2] == "metrics":
            return self.metrics_route(method, parts[1])
        if parts[0] in ("virt", "violations") and self.admin.engine is not None:
            return self.virt_route(method, parts)
        return self.reply(404, {"error": "no such endpoint"})

    def virt_route(self, method, parts):
        """/virt/faults and /violations: simlib/virtfaults.py, simlib/monitor.py."""
        from . import virtfaults
        engine = self.admin.engine
        if parts == ["violations"] and method == "GET":
            return self.reply(200, {"violations": engine.monitor.view() if engine.monitor else []})
        if parts != ["virt", "faults"]:
            return self.reply(404, {"error": "no such endpoint"})
        try:
            if method == "GET":
                return self.reply(200, virtfaults.view(engine))
            if method == "POST":
                return self.reply(201, virtfaults.apply(engine, self.admin.clusters, self.body() or {}))
            if method == "DELETE":
                return self.reply(200, virtfaults.clear(engine))
        except (ValueError, TypeError, KeyError) as e:
            return self.reply(400, {"error": "bad fault: %s" % e})
        return self.reply(404, {"error": "no such endpoint"})

    def metrics_route(self, method, cluster):
        """/clusters/C/metrics: the cluster's metrics.Store."""
        store = self.admin.metrics.get(cluster)
        if store is None:
            return self.reply(404, {"error": "no metrics for cluster '%s'" % cluster})
        try:
            if method == "PUT":
                b = self.body() or {}
                store.set(b.get("name"), b.get("labels") or {}, b.get("value"))
            elif method == "DELETE":
                removed = store.remove((self.body() or {}).get("match") or {})
                return self.reply(200, {"removed": removed, "series": series_view(store)})
            elif method != "GET":
                return self.reply(404, {"error": "no such endpoint"})
        except (ValueError, TypeError, AttributeError) as e:
            return self.reply(400, {"error": "bad series: %s" % e})
        return self.reply(200, {"series": series_view(store)})

    def do_GET(self):
        self.route("GET")

    def do_PUT(self):
        self.route("PUT")

    def do_POST(self):
        self.route("POST")

    def do_DELETE(self):
        self.route("DELETE")


class Admin:
    def __init__(self, port, cert, key, token, proxies, metrics=None):
        self.port, self.token, self.proxies = port, token, proxies
        self.metrics = metrics or {}  # cluster name -> metrics.Store
        self.engine, self.clusters = None, []  # the migration engine and clusters (virt faults)
        handler = type("Admin", (AdminHandler,), {"admin": self})
        self.server = _Server(("127.0.0.1", port), handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)

    def start(self):
        threading.Thread(target=self.server.serve_forever, name="admin", daemon=True).start()
        return self

    def shutdown(self):
        self.server.shutdown()
        self.server.server_close()
