"""Unit tests of the simulated monitoring (simlib/metrics.py): the Store, the
PromQL subset (parser errors with positions, evaluation), Prometheus' JSON
formats, and the query endpoint's authentication over real HTTPS with a fake
API client (no clusters needed)."""

import http.client
import json
import math
import os
import ssl
import sys
import tempfile
import threading
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from simlib import metrics, pki  # noqa: E402

T = 1700000000.0  # a fixed "now" (unix seconds)
NS = {"namespace": "vms", "name": "vm1", "node": "w0"}


class Clock:
    def __init__(self, t=T):
        self.t = t

    def __call__(self):
        return self.t


def store_with(*items, t=T):
    """A Store holding (name, labels, value) items set at time t."""
    s = metrics.Store(clock=Clock(t))
    for name, labels, value in items:
        s.set(name, labels, value)
    return s


def run(query, store, t=T):
    """(status, decoded body) of a query at t."""
    code, body = metrics.answer({"query": query}, store.series(), t)
    return code, json.loads(body)


def vector(query, store, t=T):
    code, body = run(query, store, t)
    assert code == 200, body
    assert body["data"]["resultType"] == "vector", body
    return [(r["metric"], r["value"][1]) for r in body["data"]["result"]]


MIG = store_with(
    ("kubevirt_vmi_migration_data_bytes_total", NS, 4000),
    ("kubevirt_vmi_migration_data_processed_bytes", NS, 1000),
    ("kubevirt_vmi_migration_data_remaining_bytes", NS, 3000),
    ("kubevirt_vmi_migration_data_bytes_total", {"namespace": "vms", "name": "vm2", "node": "w1"}, 800),
    ("kubevirt_vmi_migration_data_processed_bytes", {"namespace": "vms", "name": "vm2", "node": "w1"}, 200),
    ("kubevirt_vmi_migration_data_bytes_total", {"namespace": "other", "name": "vm3", "node": "w1"}, 10))


class TestStore(unittest.TestCase):
    def test_set_overwrites_and_keeps_time(self):
        clock = Clock()
        s = metrics.Store(clock=clock)
        s.set("m", {"a": "1"}, 5)
        clock.t += 3
        s.set("m", {"a": "1"}, 7.5)
        s.set("m", {"a": "2"}, 1)
        got = sorted(s.series(), key=lambda x: x.labels["a"])
        self.assertEqual([(x.name, x.labels, x.value, x.time) for x in got],
                         [("m", {"a": "1"}, 7.5, T + 3), ("m", {"a": "2"}, 1.0, T + 3)])

    def test_series_are_copies_and_empty_labels_dropped(self):
        s = store_with(("m", {"a": "1", "b": ""}, 1))
        got = s.series()[0]
        self.assertEqual(got.labels, {"a": "1"})
        got.labels["a"] = "changed"
        self.assertEqual(s.series()[0].labels, {"a": "1"})

    def test_remove_by_subset_and_by_name(self):
        s = store_with(("m", NS, 1), ("n", NS, 2), ("m", {"namespace": "vms", "name": "vm2"}, 3), ("m", {}, 4))
        self.assertEqual(s.remove({"namespace": "vms", "name": "vm1"}), 2)
        self.assertEqual(sorted((x.name, x.value) for x in s.series()), [("m", 3.0), ("m", 4.0)])
        self.assertEqual(s.remove({"__name__": "m", "name": "vm2"}), 1)
        self.assertEqual(s.remove({"name": "nope"}), 0)
        self.assertEqual(s.remove({}), 1)
        self.assertEqual(s.series(), [])

    def test_refuses_bad_input(self):
        s = metrics.Store()
        for name, labels, value in (("1bad", {}, 1), ("m", {"bad-label": "x"}, 1), ("m", {"__x": "x"}, 1),
                                    ("m", {"a": 1}, 1), ("m", [], 1), ("m", {}, "1"), ("m", {}, True),
                                    (None, {}, 1)):
            with self.assertRaises(ValueError, msg=(name, labels, value)):
                s.set(name, labels, value)
        with self.assertRaises(ValueError):
            s.remove({"a": 1})
        self.assertEqual(s.series(), [])

    def test_concurrent_writers(self):
        s = metrics.Store()

        def writer(i):
            for j in range(200):
                s.set("m", {"w": str(i), "j": str(j % 10)}, j)
                if j % 50 == 0:
                    s.remove({"w": str(i), "j": "0"})
                s.series()

        threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(len(s.series()), 80)


class TestParseErrors(unittest.TestCase):
    def error(self, query):
        code, body = run(query, MIG)
        self.assertEqual((code, body["status"], body["errorType"]), (400, "error", "bad_data"), body)
        self.assertEqual(set(body), {"status", "errorType", "error"})
        return body["error"]

    def check(self, query, pos, fragment):
        msg = self.error(query)
        self.assertTrue(msg.startswith('invalid parameter "query": %s: parse error: ' % pos), msg)
        self.assertIn(fragment, msg)

    def test_empty(self):
        self.check("", "1:1", "no expression found in input")
        self.check("   ", "1:1", "no expression found in input")

    def test_braces(self):
        self.check('foo{a="b"', "1:10", "unexpected end of input inside braces")
        self.check('foo{a~"b"}', "1:6", "unexpected character inside braces: '~'")
        self.check('foo{a="b" c="d"}', "1:11", 'expected "," or "}"')
        self.check("foo{a=b}", "1:7", "expected string")
        self.check('foo{a="x}', "1:7", "unterminated quoted string")
        self.check('{a=""}', "1:1", "at least one non-empty matcher")
        self.check('{a=~".*"}', "1:1", "at least one non-empty matcher")
        self.check('foo{__name__="bar"}', "1:1", "metric name must not be set twice")
        self.check('foo{a=~"("}', "1:8", "error parsing regexp")

    def test_unsupported_constructs_name_their_position(self):
        self.check("rate(foo[5m])", "1:1", 'function "rate" is not supported')
        self.check("sum(foo[5m])", "1:8", "range vectors")
        self.check("foo offset 5m", "1:5", "offset modifier")
        self.check("foo @ 100", "1:5", "@ modifier")
        self.check("foo == 1", "1:5", 'operator "==" is not supported')
        self.check("foo > 1", "1:5", 'operator ">" is not supported')
        self.check("a and b", "1:3", 'operator "and" is not supported')
        self.check("a % 2", "1:3", 'operator "%" is not supported')
        self.check("a / on(x) b", "1:5", 'modifier "on" is not supported')
        self.check("topk(1, a)", "1:1", 'aggregation "topk" is not supported')

    def test_syntax(self):
        self.check("1 +", "1:4", "unexpected end of input")
        self.check("foo bar", "1:5", 'unexpected identifier "bar"')
        self.check("(foo", "1:5", "unexpected end of input")
        self.check("foo)", "1:4", 'unexpected ")"')
        self.check("sum(1)", "1:5", "expected type instant vector in aggregation expression, got scalar")
        self.check("sum()", "1:5", "no arguments")
        self.check("sum(a, b)", "1:6", "takes exactly one argument")
        self.check("sum by (a) (x) by (b)", "1:16", 'unexpected identifier "by"')
        self.check("sum by (a-b) (x)", "1:10", 'expected "," or ")"')
        self.check("foo ! bar", "1:5", "unexpected character: '!'")
        self.check("by", "1:1", 'unexpected identifier "by"')

    def test_position_on_a_later_line(self):
        self.check("sum(\n  foo[5m])", "2:6", "range vectors")


class TestEvaluation(unittest.TestCase):
    def test_selector_returns_name_and_labels(self):
        got = vector('kubevirt_vmi_migration_data_remaining_bytes{namespace="vms",name="vm1"}', MIG)
        self.assertEqual(got, [({"__name__": "kubevirt_vmi_migration_data_remaining_bytes", "name": "vm1",
                                 "namespace": "vms", "node": "w0"}, "3000")])

    def test_matchers(self):
        total = "kubevirt_vmi_migration_data_bytes_total"
        names = lambda q: sorted(m["name"] for m, _ in vector(q, MIG))  # noqa: E731
        self.assertEqual(names(total), ["vm1", "vm2", "vm3"])
        self.assertEqual(names(total + '{namespace!="vms"}'), ["vm3"])
        self.assertEqual(names(total + '{name=~"vm[12]"}'), ["vm1", "vm2"])
        self.assertEqual(names(total + '{name=~"vm"}'), [])  # anchored
        self.assertEqual(names(total + '{name!~"vm1|vm3",}'), ["vm2"])
        self.assertEqual(names(total + '{missing=""}'), ["vm1", "vm2", "vm3"])  # absent label = ""
        self.assertEqual(names(total + '{missing!=""}'), [])
        self.assertEqual(names('{__name__="%s", node="w1"}' % total), ["vm2", "vm3"])
        self.assertEqual(len(vector('{__name__=~"kubevirt_vmi_migration_.*", name="vm1"}', MIG)), 3)
        self.assertEqual(names(total + "{name='vm1'}"), ["vm1"])
        self.assertEqual(names(total + "{name=`vm1`}"), ["vm1"])
        self.assertEqual(names(total + '{name="\\x76m1"}'), ["vm1"])
        self.assertEqual(names("SUM by (name) (%s)" % total), ["vm1", "vm2", "vm3"])  # keywords: any case

    def test_progress_percentage(self):
        got = vector("100 * kubevirt_vmi_migration_data_processed_bytes / kubevirt_vmi_migration_data_bytes_total",
                     MIG)
        self.assertEqual(got, [({"name": "vm1", "namespace": "vms", "node": "w0"}, "25"),
                               ({"name": "vm2", "namespace": "vms", "node": "w1"}, "25")])

    def test_vector_scalar_drops_the_name_and_keeps_order_of_operands(self):
        got = vector('1 - kubevirt_vmi_migration_data_processed_bytes{name="vm1"} / 2000', MIG)
        self.assertEqual(got, [({"name": "vm1", "namespace": "vms", "node": "w0"}, "0.5")])
        got = vector('-kubevirt_vmi_migration_data_processed_bytes{name="vm1"}', MIG)
        self.assertEqual(got, [({"name": "vm1", "namespace": "vms", "node": "w0"}, "-1000")])

    def test_aggregations(self):
        total = "kubevirt_vmi_migration_data_bytes_total"
        self.assertEqual(vector("sum(%s)" % total, MIG), [({}, "4810")])
        self.assertEqual(vector("sum by (namespace) (%s)" % total, MIG),
                         [({"namespace": "other"}, "10"), ({"namespace": "vms"}, "4800")])
        self.assertEqual(vector("sum(%s) by (namespace)" % total, MIG),
                         vector("sum by (namespace) (%s)" % total, MIG))
        self.assertEqual(vector("max without (name, node) (%s)" % total, MIG),
                         [({"namespace": "other"}, "10"), ({"namespace": "vms"}, "4000")])
        self.assertEqual(vector("min(%s)" % total, MIG), [({}, "10")])
        self.assertEqual(vector("count by (node) (%s)" % total, MIG), [({"node": "w0"}, "1"), ({"node": "w1"}, "2")])
        self.assertEqual(vector("avg(%s) by (node,)" % total, MIG), [({"node": "w0"}, "4000"), ({"node": "w1"}, "405")])
        self.assertEqual(vector("count by (__name__) ({name=\"vm1\"})", MIG)[0],
                         ({"__name__": "kubevirt_vmi_migration_data_bytes_total"}, "1"))
        self.assertEqual(vector("sum(nothing_here)", MIG), [])
        self.assertEqual(vector("sum by (nope) (%s)" % total, MIG), [({}, "4810")])

    def test_aggregates_combine(self):
        got = vector("100 * sum(kubevirt_vmi_migration_data_processed_bytes) / "
                     "sum(kubevirt_vmi_migration_data_bytes_total{namespace=\"vms\"})", MIG)
        self.assertEqual(got, [({}, "25")])

    def test_unmatched_sides_give_nothing(self):
        self.assertEqual(vector("kubevirt_vmi_migration_data_remaining_bytes / kubevirt_vmi_migration_data_bytes_total"
                                '{name="vm2"}', MIG), [])

    def test_scalars(self):
        for q, want in (("1 + 2 * 3", "7"), ("(1 + 2) * 3", "9"), ("10 - 4 - 3", "3"), ("8 / 2 / 2", "2"),
                        ("-2 * -3", "6"), ("1 / 0", "+Inf"), ("-1 / 0", "-Inf"), ("0 / 0", "NaN"), ("1e3", "1000"),
                        ("0x10", "16"), (".5", "0.5"), ("Inf - Inf", "NaN"), ("1 # a comment", "1")):
            code, body = run(q, MIG)
            self.assertEqual(body["data"], {"resultType": "scalar", "result": [T, want]}, q)

    def test_division_by_zero_in_vectors(self):
        s = store_with(("a", {"x": "1"}, 5), ("b", {"x": "1"}, 0), ("a", {"x": "2"}, 0), ("b", {"x": "2"}, 0))
        self.assertEqual(vector("a / b", s), [({"x": "1"}, "+Inf"), ({"x": "2"}, "NaN")])

    def test_duplicate_match_groups_are_an_execution_error(self):
        s = store_with(("a", {"x": "1", "y": "1"}, 1), ("a", {"x": "1", "y": "2"}, 1), ("b", {"x": "1", "y": "1"}, 1),
                       ("c", {"x": "1", "y": "1"}, 2))
        code, body = run("a / {__name__=~\"b|c\"}", s)
        self.assertEqual((code, body["errorType"]), (422, "execution"))
        self.assertIn("many-to-many matching not allowed", body["error"])
        code, body = run("{__name__=~\"b|c\"} * 2", s)
        self.assertEqual((code, body["errorType"]), (422, "execution"))
        self.assertIn("same labelset", body["error"])

    def test_lookback_and_future_samples(self):
        s = store_with(("m", {}, 1))
        self.assertEqual(len(vector("m", s, t=T)), 1)
        self.assertEqual(len(vector("m", s, t=T + 299.999)), 1)
        self.assertEqual(vector("m", s, t=T + 300), [])  # older than 5 minutes
        self.assertEqual(vector("m", s, t=T - 1), [])  # not set yet at that time


class TestFormats(unittest.TestCase):
    def test_format_value(self):
        for v, want in ((25.0, "25"), (0.1, "0.1"), (1e21, "1000000000000000000000"), (1e-7, "0.0000001"),
                        (-0.0, "-0"), (123456789.125, "123456789.125"), (float("nan"), "NaN"),
                        (float("inf"), "+Inf"), (-float("inf"), "-Inf"), (1 / 3, "0.3333333333333333")):
            self.assertEqual(metrics.format_value(v), want, v)

    def test_times(self):
        self.assertEqual(metrics.parse_time("1700000000"), 1700000000000)
        self.assertEqual(metrics.parse_time("1700000000.1234"), 1700000000123)
        self.assertEqual(metrics.parse_time("1.7e9"), 1700000000000)
        self.assertEqual(metrics.parse_time("2023-11-14T22:13:20Z"), 1700000000000)
        self.assertEqual(metrics.parse_time("2023-11-14T23:13:20.5+01:00"), 1700000000500)
        self.assertEqual(metrics.json_time(1700000000000), 1700000000)
        self.assertEqual(json.dumps(metrics.json_time(1700000000123)), "1700000000.123")
        for bad in ("soon", "2023-11-14", "2023-11-14T22:13:20", "NaN", "1_000"):
            with self.assertRaises(metrics.QueryError, msg=bad) as cm:
                metrics.parse_time(bad)
            self.assertEqual(str(cm.exception),
                             'invalid parameter "time": cannot parse "%s" to a valid timestamp' % bad)

    def test_exact_envelopes(self):
        s = store_with(("m", {"b": "<&>", "a": "x"}, 2.5))
        self.assertEqual(metrics.answer({"query": "m"}, s.series(), T + 0.25)[1],
                         b'{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"m",'
                         b'"a":"x","b":"\\u003c\\u0026\\u003e"},"value":[1700000000.25,"2.5"]}]}}')
        self.assertEqual(metrics.answer({"query": "m", "time": "1700000001"}, s.series(), T + 9)[1],
                         b'{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"m",'
                         b'"a":"x","b":"\\u003c\\u0026\\u003e"},"value":[1700000001,"2.5"]}]}}')
        self.assertEqual(metrics.answer({"query": "nope"}, s.series(), T),
                         (200, b'{"status":"success","data":{"resultType":"vector","result":[]}}'))
        self.assertEqual(metrics.answer({"query": "2"}, [], T),
                         (200, b'{"status":"success","data":{"resultType":"scalar","result":[1700000000,"2"]}}'))
        self.assertEqual(metrics.answer({}, [], T),
                         (400, b'{"status":"error","errorType":"bad_data","error":"invalid parameter \\"query\\": '
                               b'1:1: parse error: no expression found in input"}'))
        code, body = metrics.answer({"query": "m", "time": "x"}, [], T)
        self.assertEqual((code, json.loads(body)["errorType"]), (400, "bad_data"))


class FakeApi:
    """Answers TokenReviews and SubjectAccessReviews like an apiserver would."""

    def __init__(self, users, allowed):
        self.users, self.allowed, self.calls = users, allowed, []

    def create(self, path, obj):
        self.calls.append((path, obj))
        if path.endswith("/tokenreviews"):
            user = self.users.get(obj["spec"]["token"])
            return {"status": {"authenticated": True, "user": user} if user else {"error": "invalid bearer token"}}
        if path.endswith("/subjectaccessreviews"):
            return {"status": {"allowed": obj["spec"]["user"] in self.allowed}}
        raise AssertionError(path)


class TestQueryServer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="metrics-units-")
        key, crt = pki.ca(cls.tmp.name, "ca", "test-ingress-ca")
        skey, scrt = pki.leaf(cls.tmp.name, "serving", key, crt, "router", sans=["IP:127.0.0.1"], server=True)
        cls.ca = crt
        cls.api = FakeApi({"tok-admin": {"username": "admin", "uid": "u1", "groups": ["g1"]},
                           "tok-nobody": {"username": "nobody", "groups": ["system:authenticated"]}}, {"admin"})
        cls.store = metrics.Store()
        cls.srv = metrics.QueryServer(cls.store, cls.api, scrt, skey).start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.shutdown()
        cls.tmp.cleanup()

    def request(self, method, path, token=None, body=None, ctype=None):
        ctx = ssl.create_default_context(cafile=self.ca)  # hostname (IP SAN) checked too
        conn = http.client.HTTPSConnection("127.0.0.1", self.srv.port, context=ctx, timeout=10)
        headers = {}
        if token:
            headers["Authorization"] = "Bearer " + token
        if ctype:
            headers["Content-Type"] = ctype
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        data = r.read()
        conn.close()
        return r, data

    def test_query_with_get_and_post(self):
        self.store.set("kubevirt_vmi_migration_data_remaining_bytes", NS, 42)
        q = urllib.parse.urlencode({"query": 'kubevirt_vmi_migration_data_remaining_bytes{name="vm1"}'})
        r, data = self.request("GET", "/api/v1/query?" + q, "tok-admin")
        self.assertEqual((r.status, r.getheader("Content-Type")), (200, "application/json"))
        body = json.loads(data)
        self.assertEqual(body["data"]["result"][0]["value"][1], "42")
        r, data = self.request("POST", "/api/v1/query?query=ignored_because_the_form_wins", "tok-admin",
                               body=q, ctype="application/x-www-form-urlencoded")
        self.assertEqual(json.loads(data)["data"]["result"][0]["metric"]["node"], "w0")
        r, data = self.request("GET", "/api/v1/query?query=1&time=1700000000", "tok-admin")
        self.assertEqual(json.loads(data), {"status": "success", "data": {"resultType": "scalar",
                                                                          "result": [1700000000, "1"]}})

    def test_bad_query_is_400(self):
        r, data = self.request("GET", "/api/v1/query?query=" + urllib.parse.quote("rate(x[5m])"), "tok-admin")
        self.assertEqual((r.status, json.loads(data)["errorType"]), (400, "bad_data"))

    def test_auth(self):
        q = "/api/v1/query?query=up"
        r, data = self.request("GET", q)
        self.assertEqual((r.status, data), (401, b"Unauthorized\n"))
        r, data = self.request("GET", q, "tok-wrong")
        self.assertEqual(r.status, 401)
        r, data = self.request("GET", q, "tok-nobody")
        self.assertEqual((r.status, data), (403, b"Forbidden (user=nobody, verb=get, resource=namespaces, "
                                                 b"subresource=)\n"))
        r, _ = self.request("GET", q, "tok-admin")
        self.assertEqual(r.status, 200)
        sar = [o for p, o in self.api.calls if p.endswith("/subjectaccessreviews")][-1]["spec"]
        self.assertEqual((sar["user"], sar["uid"], sar["groups"]), ("admin", "u1", ["g1"]))
        self.assertEqual((sar["resourceAttributes"]["verb"], sar["resourceAttributes"]["resource"]),
                         ("get", "namespaces"))
        self.assertNotIn("namespace", sar["resourceAttributes"])  # cluster scope

    def test_other_paths_and_methods(self):
        r, data = self.request("GET", "/api/v1/labels", "tok-admin")
        self.assertEqual((r.status, data), (404, b"404 page not found\n"))
        r, _ = self.request("DELETE", "/api/v1/query", "tok-admin")
        self.assertEqual(r.status, 405)
        r, _ = self.request("GET", "/api/v1/labels")
        self.assertEqual(r.status, 401)  # the proxy answers before the querier

    def test_keep_alive_connection_serves_several_queries(self):
        ctx = ssl.create_default_context(cafile=self.ca)
        conn = http.client.HTTPSConnection("127.0.0.1", self.srv.port, context=ctx, timeout=10)
        for i in range(3):
            conn.request("POST", "/api/v1/query", body="query=%d" % i,
                         headers={"Authorization": "Bearer tok-admin",
                                  "Content-Type": "application/x-www-form-urlencoded"})
            r = conn.getresponse()
            self.assertEqual(json.loads(r.read())["data"]["result"][1], str(i))
        conn.close()

    def test_wrong_ca_is_refused(self):
        ctx = ssl.create_default_context()  # the system CAs do not know the ingress CA
        conn = http.client.HTTPSConnection("127.0.0.1", self.srv.port, context=ctx, timeout=10)
        with self.assertRaises(ssl.SSLError):
            conn.request("GET", "/api/v1/query?query=1")
        conn.close()


class TestObjects(unittest.TestCase):
    def test_route_and_role(self):
        r = metrics.querier_route("127.0.0.1:1234")
        self.assertEqual((r["spec"]["host"], r["spec"]["to"]["name"], r["spec"]["port"]["targetPort"],
                          r["spec"]["tls"]["termination"]), ("127.0.0.1:1234", "thanos-querier", "web", "reencrypt"))
        st = metrics.route_status("127.0.0.1:1234", "2024-01-01T00:00:00Z")["ingress"][0]
        self.assertEqual((st["host"], st["routerName"], st["conditions"][0]["type"], st["conditions"][0]["status"]),
                         ("127.0.0.1:1234", "default", "Admitted", "True"))
        rules = metrics.monitoring_view_role()["rules"]
        self.assertIn({"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get"]}, rules)

    def test_contract_names(self):
        self.assertEqual(len(metrics.MIGRATION_METRICS), 5)
        for n in metrics.MIGRATION_METRICS:
            self.assertTrue(metrics.NAME_RE.fullmatch(n))
        self.assertTrue(math.isclose(metrics.LOOKBACK_MS, 300000))


if __name__ == "__main__":
    unittest.main()
