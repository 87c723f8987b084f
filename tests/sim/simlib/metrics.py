"""Simulated OpenShift cluster monitoring: the source cluster's migration
metrics behind the `thanos-querier` Route, as a migration tool reads them.

What it simulates, per cluster:
  * `Store`: the time series Prometheus would hold, one current sample each
    (no history). There is no scrape: a value set is visible at once.
  * a PromQL subset, evaluated as Prometheus does an instant query: vector
    selectors with `=`, `!=`, `=~`, `!~` (regexes fully anchored),
    `sum|max|min|count|avg` with `by`/`without` before or after the argument,
    number literals, unary `-`, and `+ - * /` between two vectors (one-to-one
    on all labels but `__name__`, which arithmetic drops) or a vector and a
    scalar. A sample counts when it is at most 5 minutes old at the query
    time (Prometheus' default lookback). Anything else is refused as
    Prometheus refuses a parse error: `bad_data`, `LINE:COL: parse error: ...`.
  * `QueryServer`: `GET`/`POST /api/v1/query` (`query`, optional `time`) over
    HTTPS with the cluster's ingress (router) certificate, answering
    Prometheus' JSON byte for byte in shape. In front of it, what OpenShift
    puts in front of thanos-querier's web port (kube-rbac-proxy; oauth-proxy's
    `--openshift-delegate-urls` before 4.14 checked the same): the bearer
    token is checked with a TokenReview, then a SubjectAccessReview that the
    user may `get` `namespaces` at cluster scope, which the ClusterRole
    `cluster-monitoring-view` grants. 401 `Unauthorized` without or with a bad
    token, 403 `Forbidden (user=...)` when the review says no. Nothing is
    logged, so no token can be.
  * `install()`: the OpenShift objects a client finds: Route `thanos-querier`
    in `openshift-monitoring` (the host carries the port here: 127.0.0.1:N),
    its Service, ConfigMap `default-ingress-cert` in `openshift-config-managed`
    (key `ca-bundle.crt`: the ingress CA that signs the route's certificate),
    ClusterRole `cluster-monitoring-view`, and Route rules aggregated into
    admin/edit/view as OpenShift's roles have them.

The contract with the migration physics (simlib/physics.py): while a live
migration runs, the source cluster's simulation calls, on every progress step,

    cluster.metrics.set(NAME, {"namespace": NS, "name": VMI, "node": NODE}, VALUE)

for NAME in kubevirt_vmi_migration_data_bytes_total (counter),
kubevirt_vmi_migration_data_processed_bytes, _data_remaining_bytes,
_dirty_memory_rate_bytes and _memory_transfer_rate_bytes (gauges), NODE being
the source node, and `cluster.metrics.remove({"namespace": NS, "name": VMI})`
when the migration ends (the real virt-handler stops exporting them once the
migration completes). `cluster.metrics` exists once Cluster.start_metrics()
has run (after start_virt), so look it up when a migration runs, not before.

Sources: shared/reference/kubevirt-api.md §4.4 (metric names, labels, the
thanos-querier route) and §8.3; Prometheus' HTTP API documentation (the
/api/v1/query envelope, `bad_data`/`execution` errors, value formatting);
openshift/cluster-monitoring-operator's assets (Route `thanos-querier`, path
/api, reencrypt; the kube-rbac-proxy-web authorization `get namespaces`;
ClusterRole `cluster-monitoring-view`).
"""

import collections
import datetime
import decimal
import http.server
import json
import math
import re
import socketserver
import ssl
import threading
import time
import urllib.parse

from . import kubeapi

MON_NS = "openshift-monitoring"
CONFIG_MANAGED_NS = "openshift-config-managed"
QUERIER = "thanos-querier"
LOOKBACK_MS = 5 * 60 * 1000  # Prometheus' default --query.lookback-delta
MIGRATION_METRICS = ("kubevirt_vmi_migration_data_bytes_total", "kubevirt_vmi_migration_data_processed_bytes",
                     "kubevirt_vmi_migration_data_remaining_bytes", "kubevirt_vmi_migration_dirty_memory_rate_bytes",
                     "kubevirt_vmi_migration_memory_transfer_rate_bytes")

NAME_RE = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_RE = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


# ---- the store ---------------------------------------------------------------

Series = collections.namedtuple("Series", "name labels value time")
Series.__doc__ = "One series: metric name, labels (dict, no __name__), value (float), time set (unix seconds)."


def _check_labels(labels):
    """A clean copy of a label dict; empty values dropped (Prometheus treats
    an empty label as an absent one). Raises ValueError."""
    if not isinstance(labels, dict):
        raise ValueError("labels must be an object of strings")
    clean = {}
    for k, v in labels.items():
        if not isinstance(k, str) or not LABEL_RE.fullmatch(k) or k.startswith("__"):
            raise ValueError("bad label name %r" % (k,))
        if not isinstance(v, str):
            raise ValueError("label %s: value must be a string, not %r" % (k, v))
        if v:
            clean[k] = v
    return clean


def _check_value(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("value must be a number, not %r" % (value,))
    return float(value)


def _series_matches(s, match):
    return all((s.name if k == "__name__" else s.labels.get(k, "")) == v for k, v in match.items())


class Store:
    """The series of one cluster. Thread-safe.

    set(name, labels, value)   create or overwrite the series name{labels}
    remove(match) -> int       drop every series whose labels include all of
                               match (key `__name__` matches the name); {} = all
    series() -> [Series]       a snapshot (copies)
    """

    def __init__(self, clock=time.time):
        self._clock = clock
        self._lock = threading.Lock()
        self._series = {}

    def set(self, name, labels, value):
        if not isinstance(name, str) or not NAME_RE.fullmatch(name):
            raise ValueError("bad metric name %r" % (name,))
        clean = _check_labels(labels)
        v = _check_value(value)
        key = (name, tuple(sorted(clean.items())))
        with self._lock:
            self._series[key] = Series(name, clean, v, self._clock())

    def remove(self, match):
        if not isinstance(match, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                  for k, v in match.items()):
            raise ValueError("match must be an object of strings")
        with self._lock:
            gone = [k for k, s in self._series.items() if _series_matches(s, match)]
            for k in gone:
                del self._series[k]
        return len(gone)

    def series(self):
        with self._lock:
            return [Series(s.name, dict(s.labels), s.value, s.time) for s in self._series.values()]


# ---- errors ------------------------------------------------------------------

class QueryError(Exception):
    """An answer of Prometheus' error envelope: errorType and HTTP status."""

    def __init__(self, message, error_type="bad_data", code=400):
        super().__init__(message)
        self.error_type, self.code = error_type, code


def parse_error(text, pos, msg):
    """Prometheus' form: `LINE:COL: parse error: MSG` (COL 1-based)."""
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return QueryError('invalid parameter "query": %d:%d: parse error: %s' % (line, col, msg))


def execution_error(msg):
    return QueryError(msg, "execution", 422)


# ---- lexer -------------------------------------------------------------------

Token = collections.namedtuple("Token", "kind text pos value")

NUMBER_RE = re.compile(r"0[xX][0-9a-fA-F]+|(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
MATCH_OPS = ("=", "!=", "=~", "!~")
OPERATORS = ("=~", "!~", "!=", "==", ">=", "<=", "=", "+", "-", "*", "/", "%", "^", ">", "<", "@")
PUNCT = {"{": "LBRACE", "}": "RBRACE", "(": "LPAREN", ")": "RPAREN", "[": "LBRACKET", "]": "RBRACKET",
         ",": "COMMA"}
ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\",
           '"': '"', "'": "'"}


def _read_string(text, pos):
    """The string literal starting at pos: (value, end). Backquotes are raw;
    single and double quotes take Go's escapes."""
    quote = text[pos]
    out, i = [], pos + 1
    while i < len(text):
        ch = text[i]
        if ch == quote:
            return "".join(out), i + 1
        if ch == "\n" and quote != "`":
            break
        if ch == "\\" and quote != "`":
            ch, i = _read_escape(text, i)
            out.append(ch)
            continue
        out.append(ch)
        i += 1
    raise parse_error(text, pos, "unterminated quoted string")


def _read_escape(text, i):
    """The escape at text[i] == '\\': (character, index after it)."""
    c = text[i + 1:i + 2]
    if c in ESCAPES:
        return ESCAPES[c], i + 2
    width = {"x": 2, "u": 4, "U": 8}.get(c)
    digits = text[i + 2:i + 2 + width] if width else ""
    if width and len(digits) == width and all(d in "0123456789abcdefABCDEF" for d in digits):
        return chr(int(digits, 16)), i + 2 + width
    if re.fullmatch(r"[0-7]{3}", text[i + 1:i + 4]):
        return chr(int(text[i + 1:i + 4], 8)), i + 4
    raise parse_error(text, i, 'unknown escape sequence "\\%s"' % c)


class Lexer:
    """Tokens on demand (so the first error in the text is the one reported).
    Inside braces only label names, strings, matchers and commas exist."""

    def __init__(self, text):
        self.text, self.pos, self.braces = text, 0, False

    def _skip_space(self):
        text = self.text
        while self.pos < len(text):
            if text[self.pos] in " \t\r\n":
                self.pos += 1
            elif text[self.pos] == "#":
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end
            else:
                return

    def next(self):
        self._skip_space()
        text, pos = self.text, self.pos
        if pos >= len(text):
            if self.braces:
                raise parse_error(text, pos, "unexpected end of input inside braces")
            return Token("EOF", "", pos, None)
        tok = self._in_braces(pos) if self.braces else self._outside(pos)
        self.pos = pos + len(tok.text)
        return tok

    def _common(self, pos):
        ch = self.text[pos]
        if ch in "\"'`":
            value, end = _read_string(self.text, pos)
            return Token("STRING", self.text[pos:end], pos, value)
        for op in OPERATORS:
            if self.text.startswith(op, pos):
                return Token("OP", op, pos, None)
        if ch in PUNCT:
            if ch == "{":
                self.braces = True
            elif ch == "}":
                self.braces = False
            return Token(PUNCT[ch], ch, pos, None)
        return None

    def _in_braces(self, pos):
        m = LABEL_RE.match(self.text, pos)
        if m:
            return Token("IDENT", m.group(), pos, None)
        tok = self._common(pos)
        if tok is None or not (tok.kind in ("STRING", "COMMA", "RBRACE") or tok.text in MATCH_OPS):
            raise parse_error(self.text, pos, "unexpected character inside braces: %r" % self.text[pos])
        return tok

    def _outside(self, pos):
        m = NUMBER_RE.match(self.text, pos)
        if m:
            text = m.group()
            return Token("NUMBER", text, pos, float(int(text, 16)) if text[:2] in ("0x", "0X") else float(text))
        m = NAME_RE.match(self.text, pos)
        if m:
            return Token("IDENT", m.group(), pos, None)
        tok = self._common(pos)
        if tok is None:
            raise parse_error(self.text, pos, "unexpected character: %r" % self.text[pos])
        return tok


# ---- parser ------------------------------------------------------------------

Number = collections.namedtuple("Number", "value")
Matcher = collections.namedtuple("Matcher", "name op value regex")
Selector = collections.namedtuple("Selector", "matchers")
Aggregate = collections.namedtuple("Aggregate", "op grouping labels expr")
Binary = collections.namedtuple("Binary", "op lhs rhs")
Negate = collections.namedtuple("Negate", "expr")

AGGREGATIONS = ("sum", "max", "min", "count", "avg")
OTHER_AGGREGATIONS = ("stddev", "stdvar", "topk", "bottomk", "count_values", "quantile", "group", "limitk",
                      "limit_ratio")
KEYWORDS = ("by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset", "and", "or",
            "unless", "atan2", "start", "end")
LEVELS = (("+", "-"), ("*", "/"))
REFUSED_OPERATORS = ("%", "^", "==", "!=", ">", "<", ">=", "<=", "and", "or", "unless", "atan2")
SUPPORTED = "the simulator evaluates selectors, sum/max/min/count/avg and + - * /"


def matcher_matches(m, value):
    if m.op == "=":
        return value == m.value
    if m.op == "!=":
        return value != m.value
    hit = m.regex.fullmatch(value) is not None
    return hit if m.op == "=~" else not hit


def expr_type(node):
    """'scalar' or 'vector'."""
    if isinstance(node, Number):
        return "scalar"
    if isinstance(node, Negate):
        return expr_type(node.expr)
    if isinstance(node, Binary):
        return "vector" if "vector" in (expr_type(node.lhs), expr_type(node.rhs)) else "scalar"
    return "vector"


def describe(tok):
    """A token as Prometheus' messages name it."""
    if tok.kind == "EOF":
        return "end of input"
    if tok.kind == "IDENT":
        return 'identifier "%s"' % tok.text
    if tok.kind == "NUMBER":
        return 'number "%s"' % tok.text
    if tok.kind == "STRING":
        return "string %s" % tok.text
    if tok.kind == "OP":
        return "<op:%s>" % tok.text
    return '"%s"' % tok.text


class Parser:
    def __init__(self, text):
        self.text = text
        self.lexer = Lexer(text)
        self.buf = []

    def peek(self, k=0):
        while len(self.buf) <= k:
            if self.buf and self.buf[-1].kind == "EOF":
                return self.buf[-1]
            self.buf.append(self.lexer.next())
        return self.buf[k]

    def take(self):
        tok = self.peek()
        if tok.kind != "EOF":
            self.buf.pop(0)
        return tok

    def fail(self, pos, msg):
        raise parse_error(self.text, pos, msg)

    def unexpected(self, tok, where=""):
        self.fail(tok.pos, "unexpected %s%s" % (describe(tok), where))

    def expect(self, kind, where):
        tok = self.take()
        if tok.kind != kind:
            self.unexpected(tok, where)
        return tok

    def keyword(self, tok):
        return tok.text.lower() if tok.kind == "IDENT" else None

    # expression := term (('+'|'-') term)* ; term := unary (('*'|'/') unary)*
    def parse(self):
        if self.peek().kind == "EOF":
            self.fail(0, "no expression found in input")
        node = self.expression(0)
        tok = self.peek()
        if tok.kind != "EOF":
            self.refuse_operator(tok)
            self.unexpected(tok)
        return node

    def expression(self, level):
        if level == len(LEVELS):
            return self.unary()
        lhs = self.expression(level + 1)
        while True:
            tok = self.peek()
            self.refuse_operator(tok)
            if tok.kind != "OP" or tok.text not in LEVELS[level]:
                return lhs
            self.take()
            self.refuse_modifier(self.peek())
            lhs = Binary(tok.text, lhs, self.expression(level + 1))

    def refuse_operator(self, tok):
        if (tok.kind == "OP" and tok.text in REFUSED_OPERATORS) or self.keyword(tok) in REFUSED_OPERATORS:
            self.fail(tok.pos, 'operator "%s" is not supported (%s)' % (tok.text, SUPPORTED))

    def refuse_modifier(self, tok):
        if self.keyword(tok) in ("bool", "on", "ignoring", "group_left", "group_right"):
            self.fail(tok.pos, 'vector matching modifier "%s" is not supported: vectors match one-to-one on '
                               "all their labels" % tok.text)

    def unary(self):
        tok = self.peek()
        if tok.kind == "OP" and tok.text in ("+", "-"):
            self.take()
            operand = self.unary()
            return operand if tok.text == "+" else Negate(operand)
        node = self.primary()
        self.refuse_postfix(self.peek())
        return node

    def refuse_postfix(self, tok):
        if tok.kind == "LBRACKET":
            self.fail(tok.pos, "range vectors and subqueries are not supported (%s)" % SUPPORTED)
        if self.keyword(tok) == "offset" or (tok.kind == "OP" and tok.text == "@"):
            self.fail(tok.pos, "the %s modifier is not supported: queries are evaluated at their time" % tok.text)

    def primary(self):
        tok = self.peek()
        if tok.kind == "NUMBER":
            return Number(self.take().value)
        if tok.kind == "LPAREN":
            self.take()
            node = self.expression(0)
            self.expect("RPAREN", ' in parenthesized expression, expected ")"')
            return node
        if tok.kind == "LBRACE":
            return self.selector(None, tok.pos)
        if tok.kind == "IDENT":
            return self.identifier(tok)
        self.unexpected(tok)

    def identifier(self, tok):
        word = tok.text.lower()
        if word in ("inf", "nan"):
            self.take()
            return Number(float(word))
        if word in AGGREGATIONS:
            return self.aggregation()
        if word in OTHER_AGGREGATIONS:
            self.fail(tok.pos, 'aggregation "%s" is not supported (%s)' % (tok.text, SUPPORTED))
        if word in KEYWORDS:
            self.unexpected(tok)
        if self.peek(1).kind == "LPAREN":
            self.fail(tok.pos, 'function "%s" is not supported (%s)' % (tok.text, SUPPORTED))
        self.take()
        return self.selector(tok.text, tok.pos)

    def aggregation(self):
        op = self.take().text.lower()
        grouping, labels = self.grouping() if self.at_grouping() else (None, ())
        self.expect("LPAREN", " in aggregation, expected \"(\"")
        arg_tok = self.peek()
        if arg_tok.kind == "RPAREN":
            self.fail(arg_tok.pos, "no arguments for aggregate expression provided")
        arg = self.expression(0)
        if self.peek().kind == "COMMA":
            self.fail(self.peek().pos, "%s takes exactly one argument" % op)
        self.expect("RPAREN", " in aggregation, expected \")\"")
        if self.at_grouping():
            if grouping:
                self.unexpected(self.peek(), ": grouping given twice")
            grouping, labels = self.grouping()
        if expr_type(arg) != "vector":
            self.fail(arg_tok.pos, "expected type instant vector in aggregation expression, got scalar")
        return Aggregate(op, grouping, tuple(labels), arg)

    def at_grouping(self):
        return self.keyword(self.peek()) in ("by", "without")

    def grouping(self):
        kind = self.take().text.lower()
        self.expect("LPAREN", " in grouping, expected \"(\"")
        labels = []
        while self.peek().kind != "RPAREN":
            tok = self.take()
            if tok.kind != "IDENT" or not LABEL_RE.fullmatch(tok.text):
                self.unexpected(tok, " in grouping opts, expected label")
            labels.append(tok.text)
            if self.peek().kind == "COMMA":
                self.take()
            elif self.peek().kind != "RPAREN":
                self.unexpected(self.peek(), ' in grouping opts, expected "," or ")"')
        self.take()
        return kind, labels

    def selector(self, name, pos):
        matchers = [Matcher("__name__", "=", name, None)] if name else []
        if self.peek().kind == "LBRACE":
            self.take()
            while self.peek().kind != "RBRACE":
                m = self.matcher()
                if m.name == "__name__" and name:
                    self.fail(pos, 'metric name must not be set twice: "%s" or "%s"' % (name, m.value))
                matchers.append(m)
                if self.peek().kind == "COMMA":
                    self.take()
                elif self.peek().kind != "RBRACE":
                    self.unexpected(self.peek(), ' in label matching, expected "," or "}"')
            self.take()
        if all(matcher_matches(m, "") for m in matchers):
            self.fail(pos, "vector selector must contain at least one non-empty matcher")
        return Selector(tuple(matchers))

    def matcher(self):
        label = self.take()
        if label.kind != "IDENT":
            self.unexpected(label, " in label matching, expected label")
        op = self.take()
        if op.kind != "OP" or op.text not in MATCH_OPS:
            self.unexpected(op, " in label matching, expected label matching operator")
        value = self.take()
        if value.kind != "STRING":
            self.unexpected(value, " in label matching, expected string")
        regex = None
        if op.text in ("=~", "!~"):
            try:
                regex = re.compile(value.value, re.DOTALL)
            except re.error as e:
                self.fail(value.pos, 'error parsing regexp "%s": %s' % (value.value, e))
        return Matcher(label.text, op.text, value.value, regex)


def parse(text):
    """The syntax tree of a query; raises QueryError (bad_data)."""
    return Parser(text).parse()


# ---- evaluation ---------------------------------------------------------------

def _sample_ms(s):
    return int(math.floor(s.time * 1000))


def visible(s, t_ms):
    """Prometheus' instant lookup: the sample lies in (t - lookback, t]."""
    return t_ms - LOOKBACK_MS < _sample_ms(s) <= t_ms


def _label_key(labels):
    return tuple(sorted(labels.items()))


def eval_selector(node, series, t_ms):
    out = []
    for s in series:
        if not visible(s, t_ms):
            continue
        labels = dict(s.labels, __name__=s.name)
        if all(matcher_matches(m, labels.get(m.name, "")) for m in node.matchers):
            out.append((labels, s.value))
    return sorted(out, key=lambda e: _label_key(e[0]))


def arith(op, a, b):
    """IEEE 754 arithmetic as Go does it (x/0 is ±Inf, 0/0 NaN)."""
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if b != 0:
        return a / b
    if a == 0 or math.isnan(a):
        return math.nan
    return math.copysign(math.inf, a) * math.copysign(1.0, b)


def _drop_name(labels):
    return {k: v for k, v in labels.items() if k != "__name__"}


def _unique(vector):
    seen = set()
    for labels, _ in vector:
        key = _label_key(labels)
        if key in seen:
            raise execution_error("vector cannot contain metrics with the same labelset")
        seen.add(key)
    return vector


def _match_groups(vector, side):
    """{signature: element} of one side of a one-to-one match."""
    groups = {}
    for labels, v in vector:
        key = _label_key(_drop_name(labels))
        if key in groups:
            raise execution_error(
                "found duplicate series for the match group %s on the %s hand-side of the operation; "
                "many-to-many matching not allowed: matching labels must be unique on one side"
                % (format_labels(dict(key)), side))
        groups[key] = (labels, v)
    return groups


def eval_binary(node, series, t_ms):
    lt, lv = evaluate(node.lhs, series, t_ms)
    rt, rv = evaluate(node.rhs, series, t_ms)
    if lt == rt == "scalar":
        return "scalar", arith(node.op, lv, rv)
    if rt == "scalar":
        return "vector", _unique([(_drop_name(l), arith(node.op, v, rv)) for l, v in lv])
    if lt == "scalar":
        return "vector", _unique([(_drop_name(l), arith(node.op, lv, v)) for l, v in rv])
    right = _match_groups(rv, "right")
    out = []
    for key, (labels, v) in sorted(_match_groups(lv, "left").items()):
        if key in right:
            out.append((_drop_name(labels), arith(node.op, v, right[key][1])))
    return "vector", out


def _group_labels(node, labels):
    if node.grouping == "by":
        return {k: labels[k] for k in node.labels if labels.get(k)}
    if node.grouping == "without":
        return {k: v for k, v in labels.items() if k not in node.labels and k != "__name__"}
    return {}


def _fold(op, values):
    if op == "sum":
        try:
            return math.fsum(values)
        except (OverflowError, ValueError):  # infinities: plain IEEE addition
            return sum(values)
    if op == "count":
        return float(len(values))
    if op == "avg":
        return _fold("sum", values) / len(values)
    real = [v for v in values if not math.isnan(v)]
    if not real:
        return math.nan
    return max(real) if op == "max" else min(real)


def eval_aggregate(node, series, t_ms):
    _, vector = evaluate(node.expr, series, t_ms)
    groups = collections.OrderedDict()
    for labels, v in vector:
        out = _group_labels(node, labels)
        groups.setdefault(_label_key(out), (out, []))[1].append(v)
    result = [(labels, _fold(node.op, values)) for labels, values in groups.values()]
    return "vector", sorted(result, key=lambda e: _label_key(e[0]))


def evaluate(node, series, t_ms):
    """('vector', [(labels, value)]) or ('scalar', value) at time t_ms over
    `series` (a list of Series)."""
    if isinstance(node, Number):
        return "scalar", node.value
    if isinstance(node, Selector):
        return "vector", eval_selector(node, series, t_ms)
    if isinstance(node, Negate):
        kind, val = evaluate(node.expr, series, t_ms)
        if kind == "scalar":
            return kind, -val
        return kind, _unique([(_drop_name(l), -v) for l, v in val])
    if isinstance(node, Binary):
        return eval_binary(node, series, t_ms)
    return eval_aggregate(node, series, t_ms)


# ---- the HTTP API's formats ---------------------------------------------------

def format_labels(labels):
    return "{%s}" % ", ".join('%s="%s"' % (k, v) for k, v in sorted(labels.items()))


def format_value(v):
    """A sample value as Prometheus writes it: Go's FormatFloat(v, 'f', -1)
    (shortest exact digits, no exponent), NaN, +Inf, -Inf."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    s = format(decimal.Decimal(repr(v)), "f")
    return s.rstrip("0").rstrip(".") if "." in s else s


def json_time(t_ms):
    """The evaluation time as Prometheus writes it: seconds, a JSON number
    with up to three decimals (no '.0' for whole seconds)."""
    return t_ms // 1000 if t_ms % 1000 == 0 else t_ms / 1000


FLOAT_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def parse_time(text):
    """The `time` parameter (unix seconds, or RFC 3339) in milliseconds."""
    if FLOAT_RE.fullmatch(text):
        f = float(text)
        if math.isfinite(f):
            whole = math.trunc(f)
            return int(whole) * 1000 + int(round((f - whole) * 1000))
    try:
        dt = datetime.datetime.fromisoformat(text)
    except ValueError:
        dt = None
    if dt is None or dt.tzinfo is None or "T" not in text.upper():
        raise QueryError('invalid parameter "time": cannot parse "%s" to a valid timestamp' % text)
    d = dt - EPOCH
    return (d.days * 86400 + d.seconds) * 1000 + d.microseconds // 1000


def render(obj):
    """Compact JSON as Go's encoder writes it (HTML characters escaped)."""
    s = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                    ("\u2029", "\\u2029")):
        s = s.replace(ch, esc)
    return s.encode("utf-8", "replace")


def query_data(text, series, t_ms):
    """The `data` member of a successful /api/v1/query answer."""
    kind, val = evaluate(parse(text), series, t_ms)
    ts = json_time(t_ms)
    if kind == "scalar":
        return {"resultType": "scalar", "result": [ts, format_value(val)]}
    return {"resultType": "vector",
            "result": [{"metric": dict(sorted(labels.items())), "value": [ts, format_value(v)]}
                       for labels, v in val]}


def answer(params, series, now):
    """(HTTP status, body bytes) of /api/v1/query for `params` (a dict of
    strings) over `series`, `now` in unix seconds being the default time."""
    try:
        t = params.get("time", "")
        t_ms = parse_time(t) if t else int(math.floor(now * 1000))
        data = query_data(params.get("query", ""), series, t_ms)
        return 200, render({"status": "success", "data": data})
    except QueryError as e:
        return e.code, render({"status": "error", "errorType": e.error_type, "error": str(e)})


# ---- the authenticating proxy and the query endpoint ---------------------------

def token_review(client, token):
    """The user of a bearer token ({username, uid, groups, extra}) or None."""
    try:
        tr = client.create("/apis/authentication.k8s.io/v1/tokenreviews", {
            "apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": token}})
    except (kubeapi.ApiError, OSError):
        return None
    st = (tr or {}).get("status") or {}
    return st.get("user") if st.get("authenticated") else None


def may_get_namespaces(client, user):
    """True/False from a SubjectAccessReview of `get namespaces` at cluster
    scope (kube-rbac-proxy's resourceAttributes for thanos-querier's web
    port); raises kubeapi.ApiError or OSError when the review fails."""
    sar = client.create("/apis/authorization.k8s.io/v1/subjectaccessreviews", {
        "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
        "spec": {"user": user.get("username", ""), "uid": user.get("uid", ""),
                 "groups": user.get("groups") or [], "extra": user.get("extra") or {},
                 "resourceAttributes": {"verb": "get", "group": "", "version": "v1", "resource": "namespaces"}}})
    return bool(((sar or {}).get("status") or {}).get("allowed"))


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def handle_error(self, request, client_address):
        pass  # a client that went away or failed the TLS handshake: nothing to report


class QueryHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms wait for a delayed ACK
    server_version = "thanos-querier"
    timeout = 60
    querier = None  # the QueryServer, set on the subclass

    def log_message(self, fmt, *args):
        pass  # requests carry bearer tokens: nothing is logged

    def setup(self):
        # The TLS handshake happens here, in the connection's thread, not in accept().
        self.request.settimeout(self.timeout)
        self.request.do_handshake()
        super().setup()

    def send(self, code, ctype, data):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        if ctype.startswith("text/plain"):
            self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        self.wfile.write(data)

    def text(self, code, msg):
        self.send(code, "text/plain; charset=utf-8", (msg + "\n").encode())

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n > 1 << 20:
            raise ValueError("body too large")
        return self.rfile.read(n) if n > 0 else b""

    def authorized(self):
        """kube-rbac-proxy's checks; answers 401/403/500 itself when they fail."""
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        token = token.strip()
        user = token_review(self.querier.client, token) if scheme.lower() == "bearer" and token else None
        if user is None:
            self.text(401, "Unauthorized")
            return False
        what = "user=%s, verb=get, resource=namespaces, subresource=" % user.get("username", "")
        try:
            allowed = may_get_namespaces(self.querier.client, user)
        except (kubeapi.ApiError, OSError):
            self.text(500, "Authorization error (%s)" % what)
            return False
        if not allowed:
            self.text(403, "Forbidden (%s)" % what)
        return allowed

    def params(self, url, body):
        """Go's FormValue: the form body first, then the URL's query."""
        out = {}
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        sources = [body.decode("utf-8", "replace")] if ctype == "application/x-www-form-urlencoded" else []
        for src in sources + [url.query]:
            for k, v in urllib.parse.parse_qsl(src, keep_blank_values=True):
                out.setdefault(k, v)
        return out

    def serve(self, method):
        try:
            body = self.read_body()
        except ValueError:
            self.close_connection = True
            return self.text(413, "Request Entity Too Large")
        if not self.authorized():
            return
        url = urllib.parse.urlsplit(self.path)
        if url.path != "/api/v1/query":
            return self.text(404, "404 page not found")
        if method not in ("GET", "POST"):
            return self.text(405, "Method Not Allowed")
        code, data = answer(self.params(url, body), self.querier.store.series(), self.querier.clock())
        self.send(code, "application/json", data)

    def do_GET(self):
        self.serve("GET")

    def do_POST(self):
        self.serve("POST")

    def do_PUT(self):
        self.serve("PUT")

    def do_DELETE(self):
        self.serve("DELETE")

    def do_PATCH(self):
        self.serve("PATCH")


class QueryServer:
    """The thanos-querier route's endpoint on 127.0.0.1 (port 0: any free
    one; see .port). `client` is a kubeapi.Client allowed to create
    TokenReviews and SubjectAccessReviews (the simulator's own)."""

    def __init__(self, store, client, cert, key, port=0, clock=time.time):
        self.store, self.client, self.clock = store, client, clock
        handler = type("QueryHandler", (QueryHandler,), {"querier": self})
        self.server = _Server(("127.0.0.1", port), handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True,
                                             do_handshake_on_connect=False)
        self.port = self.server.server_address[1]
        self.thread = None

    def start(self):
        self.thread = threading.Thread(target=self.server.serve_forever, name="thanos-querier", daemon=True)
        self.thread.start()
        return self

    def shutdown(self):
        if self.thread:
            self.server.shutdown()
        self.server.server_close()


# ---- the OpenShift objects ---------------------------------------------------

def monitoring_view_role():
    """ClusterRole cluster-monitoring-view, kept small: `get namespaces` (what
    the querier's proxy checks) and `get` on monitoring.coreos.com
    prometheuses/api `k8s` (OpenShift's also allows create/update there)."""
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "cluster-monitoring-view",
                         "labels": {"app.kubernetes.io/part-of": "openshift-monitoring"}},
            "rules": [{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get"]},
                      {"apiGroups": ["monitoring.coreos.com"], "resources": ["prometheuses/api"],
                       "resourceNames": ["k8s"], "verbs": ["get"]}]}


def route_roles():
    """What OpenShift's aggregated admin/edit/view roles hold for Routes (so
    a `view` user can read the Route), kept to routes and routes/status."""
    read = ["get", "list", "watch"]
    write = read + ["create", "update", "patch", "delete", "deletecollection"]
    return [{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
             "metadata": {"name": "kubesim:routes-" + name,
                          "labels": {"rbac.authorization.k8s.io/aggregate-to-" + a: "true" for a in aggregate}},
             "rules": [{"apiGroups": ["route.openshift.io"], "resources": ["routes"], "verbs": verbs},
                       {"apiGroups": ["route.openshift.io"], "resources": ["routes/status"], "verbs": read}]}
            for name, verbs, aggregate in (("view", read, ("view",)), ("edit", write, ("edit", "admin")))]


QUERIER_LABELS = {"app.kubernetes.io/component": "query-layer", "app.kubernetes.io/instance": QUERIER,
                  "app.kubernetes.io/name": "thanos-query", "app.kubernetes.io/part-of": "openshift-monitoring"}


def querier_service():
    """The Service the Route points at (web port only; no endpoints here)."""
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": QUERIER, "namespace": MON_NS, "labels": dict(QUERIER_LABELS)},
            "spec": {"selector": {"app.kubernetes.io/name": "thanos-query"},
                     "ports": [{"name": "web", "port": 9091, "targetPort": "web", "protocol": "TCP"}]}}


def querier_route(host):
    return {"apiVersion": "route.openshift.io/v1", "kind": "Route",
            "metadata": {"name": QUERIER, "namespace": MON_NS, "labels": dict(QUERIER_LABELS)},
            "spec": {"host": host, "path": "/api", "port": {"targetPort": "web"},
                     "tls": {"termination": "reencrypt", "insecureEdgeTerminationPolicy": "Redirect"},
                     "to": {"kind": "Service", "name": QUERIER, "weight": 100}, "wildcardPolicy": "None"}}


def route_status(host, now):
    return {"ingress": [{"host": host, "routerName": "default", "wildcardPolicy": "None",
                         "routerCanonicalHostname": "router-default.apps.kubesim",
                         "conditions": [{"type": "Admitted", "status": "True", "lastTransitionTime": now}]}]}


def ingress_ca_configmap(ca_pem):
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "default-ingress-cert", "namespace": CONFIG_MANAGED_NS},
            "data": {"ca-bundle.crt": ca_pem}}


def _ensure(client, path, obj):
    try:
        client.create(path, obj)
    except kubeapi.ApiError as e:
        if e.code != 409:
            raise


def install(client, host, ingress_ca_pem):
    """Create the monitoring objects of one cluster (the Route CRD must be
    Established); `host` is the route's host, 127.0.0.1:PORT."""
    for ns in (MON_NS, CONFIG_MANAGED_NS):
        _ensure(client, "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    for role in [monitoring_view_role()] + route_roles():
        _ensure(client, "/apis/rbac.authorization.k8s.io/v1/clusterroles", role)
    _ensure(client, kubeapi.resource_path("", "v1", "configmaps", CONFIG_MANAGED_NS),
            ingress_ca_configmap(ingress_ca_pem))
    _ensure(client, kubeapi.resource_path("", "v1", "services", MON_NS), querier_service())
    routes = kubeapi.resource_path("route.openshift.io", "v1", "routes", MON_NS)
    _ensure(client, routes, querier_route(host))
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    client.merge_patch(routes + "/" + QUERIER + "/status", {"status": route_status(host, now)})
