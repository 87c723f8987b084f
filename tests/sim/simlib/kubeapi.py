"""A small Kubernetes API client for the simulator's own controllers.

Standard library only. One `Client` per cluster identity; each thread gets its
own HTTPS connection (http.client is not thread-safe), reused across calls.
Errors come back as `ApiError` carrying the HTTP code and the Status body.
"""

import contextlib
import http.client
import json
import ssl
import threading
import time
import urllib.parse


class ApiError(Exception):
    def __init__(self, code, status, method, path):
        self.code = code
        self.status = status if isinstance(status, dict) else {"message": str(status)}
        self.reason = self.status.get("reason", "")
        super().__init__("%s %s: (%d %s) %s" % (method, path, code, self.reason,
                                                self.status.get("message", "")))


def resource_path(group, version, resource, namespace=None, name=None, sub=None):
    """Path for a resource: core group when group is '' (or None)."""
    base = "/api/%s" % version if not group else "/apis/%s/%s" % (group, version)
    if namespace:
        base += "/namespaces/%s" % urllib.parse.quote(namespace, safe="")
    base += "/" + resource
    if name:
        base += "/" + urllib.parse.quote(name, safe="")
    if sub:
        base += "/" + sub
    return base


class Client:
    def __init__(self, host, port, ca_file, token, timeout=30.0, user_agent="kubesim"):
        self.host, self.port, self.token = host, port, token
        self.timeout = timeout
        self.user_agent = user_agent
        self.ctx = ssl.create_default_context(cafile=ca_file)
        self.ctx.check_hostname = False  # serving certs carry IP SANs; CA is pinned
        self.local = threading.local()

    def _conn(self, fresh=False, timeout=None):
        conn = getattr(self.local, "conn", None)
        if fresh or conn is None:
            if conn is not None:
                conn.close()
            conn = http.client.HTTPSConnection(self.host, self.port, context=self.ctx,
                                               timeout=timeout or self.timeout)
            self.local.conn = conn
        return conn

    def _headers(self, ctype=None):
        h = {"Authorization": "Bearer " + self.token, "Accept": "application/json",
             "User-Agent": self.user_agent}
        if ctype:
            h["Content-Type"] = ctype
        return h

    def request(self, method, path, body=None, query=None, ctype="application/json",
                ok404=False):
        """One call; returns the decoded JSON body (None on 404 when ok404)."""
        if query:
            path = path + "?" + urllib.parse.urlencode(query)
        data = None if body is None else (body if isinstance(body, bytes)
                                          else json.dumps(body).encode())
        for attempt in range(4):
            conn = self._conn(fresh=attempt > 0)
            try:
                conn.request(method, path, body=data,
                             headers=self._headers(ctype if data is not None else None))
                resp = conn.getresponse()
                raw = resp.read()
            except (OSError, http.client.HTTPException):
                if attempt == 3:
                    raise
                time.sleep(0.2 * (attempt + 1))
                continue
            if resp.status == 404 and ok404:
                return None
            if resp.status >= 300:
                try:
                    status = json.loads(raw)
                except ValueError:
                    status = {"message": raw.decode(errors="replace")}
                if resp.status in (429, 500, 503) and method == "GET" and attempt < 3:
                    time.sleep(0.5)
                    continue
                raise ApiError(resp.status, status, method, path)
            if not raw:
                return None
            if "json" not in (resp.getheader("Content-Type") or ""):
                return raw.decode(errors="replace")
            return json.loads(raw)
        raise ApiError(0, {"message": "no answer"}, method, path)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def create(self, path, obj, **kw):
        return self.request("POST", path, body=obj, **kw)

    def merge_patch(self, path, patch, **kw):
        return self.request("PATCH", path, body=patch, ctype="application/merge-patch+json", **kw)

    def json_patch(self, path, ops, **kw):
        return self.request("PATCH", path, body=ops, ctype="application/json-patch+json", **kw)

    def strategic_patch(self, path, patch, **kw):
        return self.request("PATCH", path, body=patch,
                            ctype="application/strategic-merge-patch+json", **kw)

    def delete(self, path, body=None, **kw):
        return self.request("DELETE", path, body=body, **kw)

    def watch(self, path, resource_version, stop, query=None, timeout_seconds=300):
        """Yield watch events (dicts) until the server ends the stream or `stop`
        is set. The caller relists on 410 (raised as ApiError) and resumes."""
        q = {"watch": "1", "resourceVersion": resource_version,
             "allowWatchBookmarks": "true", "timeoutSeconds": str(timeout_seconds)}
        if query:
            q.update(query)
        conn = http.client.HTTPSConnection(self.host, self.port, context=self.ctx,
                                           timeout=timeout_seconds + 30)
        try:
            conn.request("GET", path + "?" + urllib.parse.urlencode(q), headers=self._headers())
            resp = conn.getresponse()
            if resp.status >= 300:
                raw = resp.read()
                try:
                    status = json.loads(raw)
                except ValueError:
                    status = {"message": raw.decode(errors="replace")}
                raise ApiError(resp.status, status, "WATCH", path)
            # `stop` is checked between reads; the server's timeoutSeconds
            # bounds how long one read can block.
            pending = b""
            while not stop.is_set():
                chunk = resp.read1(65536)
                if not chunk:
                    return
                pending += chunk
                while b"\n" in pending:
                    line, pending = pending.split(b"\n", 1)
                    if line.strip():
                        ev = json.loads(line)
                        if ev.get("type") == "ERROR":
                            st = ev.get("object") or {}
                            raise ApiError(st.get("code", 500), st, "WATCH", path)
                        yield ev
        finally:
            conn.close()


class Informer:
    """List then watch a resource, keeping `handler(event_type, obj)` fed.
    Relists on 410 Gone or any stream error; runs in its own thread."""

    def __init__(self, client, path, handler, stop, query=None, name="informer"):
        self.client, self.path, self.handler, self.stop = client, path, handler, stop
        self.query = query or {}
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.synced = threading.Event()

    def start(self):
        self.thread.start()
        return self

    def _run(self):
        while not self.stop.is_set():
            try:
                lst = self.client.get(self.path, query=self.query)
                for item in lst.get("items") or []:
                    self.handler("ADDED", item)
                self.synced.set()
                rv = lst["metadata"]["resourceVersion"]
                while not self.stop.is_set():
                    for ev in self.client.watch(self.path, rv, self.stop, query=self.query):
                        obj = ev.get("object") or {}
                        rv = (obj.get("metadata") or {}).get("resourceVersion", rv)
                        if ev["type"] != "BOOKMARK":
                            self.handler(ev["type"], obj)
            except ApiError as e:
                if e.code != 410:
                    time.sleep(1)
            except Exception:  # connection trouble: relist after a pause
                if self.stop.is_set():
                    return
                time.sleep(1)


class Controller:
    """What the simulator's controllers share: informers on one stop event,
    handlers run one at a time (`guarded`; a controller with a keyed work
    queue of its own sets `serial` False and overrides `retry`), and an API
    error left for the next event (or the informer's relist) to retry."""

    serial = True

    def __init__(self, client, name):
        self.c = client
        self.name = name
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.informers = []
        self.retrying = {}  # (handler, args) -> attempt of the pending retry

    def watch(self, path, handler, query=None, what=""):
        self.informers.append(Informer(self.c, path, handler, self.stop, query=query,
                                       name="%s-%s" % (self.name, what or path)).start())

    def guarded(self, fn, *args, attempt=0):
        """Run one handler; on an API error try again a second later (up to
        30 times: a namespace's ServiceAccount token may not exist yet, a
        webhook may be starting), unless an event runs it first."""
        key = (fn.__name__,) + args
        try:
            hash(key)
        except TypeError:
            key = None  # handlers given whole objects are not retried: their next event is
        with self.lock if self.serial else contextlib.nullcontext():
            try:
                fn(*args)
                if key:
                    self.retrying.pop(key, None)
                return
            except ApiError:
                if key is None or attempt >= 30 or self.stop.is_set() or (key in self.retrying and attempt == 0):
                    return
                self.retrying[key] = attempt + 1
        t = threading.Timer(1.0, self._retry, (fn, args, attempt + 1))
        t.daemon = True
        t.start()

    def _retry(self, fn, args, attempt):
        if self.retrying.get((fn.__name__,) + args) == attempt:
            self.retry(fn, args, attempt)

    def retry(self, fn, args, attempt):
        self.guarded(fn, *args, attempt=attempt)

    def shutdown(self):
        self.stop.set()
