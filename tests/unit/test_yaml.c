/* Unit tests for the YAML half of common/json.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* All documents of `text`. */
static cJSON *docs_ok(const char *text)
{
	struct kerr e = KERR_INIT;
	cJSON *d = yaml_parse(text, strlen(text), "test.yaml", &e);

	if (!d)
		fail_msg("yaml_parse: %s", e.msg);
	assert_true(cJSON_IsArray(d));
	assert_int_equal(e.kind, KERR_NONE);
	return d;
}

/* The one document of `text`, detached (caller deletes it). */
static cJSON *doc_ok(const char *text)
{
	cJSON *d = docs_ok(text), *one;

	assert_int_equal(cJSON_GetArraySize(d), 1);
	one = cJSON_DetachItemFromArray(d, 0);
	cJSON_Delete(d);
	return one;
}

/* yaml_parse must fail; the message must name the file, `line` and `col`
 * (when not 0) and contain `problem`. */
static void parse_fails(const char *text, size_t line, size_t col, const char *problem)
{
	struct kerr e = KERR_INIT;
	char where[64];

	if (yaml_parse(text, strlen(text), "kubeconfig '/tmp/k'", &e))
		fail_msg("accepted bad YAML: %s", text);
	assert_int_equal(e.kind, KERR_PARSE);
	assert_non_null(strstr(e.msg, "kubeconfig '/tmp/k' is not valid YAML"));
	if (line) {
		snprintf(where, sizeof(where), "line %zu, column %zu", line, col);
		if (!strstr(e.msg, where))
			fail_msg("'%s' lacks '%s'", e.msg, where);
	}
	if (!strstr(e.msg, problem))
		fail_msg("'%s' lacks '%s'", e.msg, problem);
}

static char *yaml_str(const cJSON *j, bool sorted)
{
	struct buf b = BUF_INIT;
	struct kerr e = KERR_INIT;

	if (yaml_write(j, sorted, &b, &e))
		fail_msg("yaml_write: %s", e.msg);
	return buf_detach(&b, NULL);
}

/* yaml_write then yaml_parse gives the same tree back. */
static void assert_roundtrip(const cJSON *j)
{
	char *y = yaml_str(j, true);
	cJSON *back = doc_ok(y);

	if (!cJSON_Compare(j, back, 1))
		fail_msg("round trip changed the tree; YAML was:\n%s", y);
	cJSON_Delete(back);
	free(y);
}

static cJSON *json_ok(const char *text)
{
	struct kerr e = KERR_INIT;
	cJSON *j = json_parse(text, strlen(text), "test", &e);

	if (!j)
		fail_msg("json_parse: %s", e.msg);
	return j;
}

/* ---- scalars ------------------------------------------------------- */

enum want { W_STR, W_NULL, W_TRUE, W_FALSE, W_NUM };

static void check_plain(const char *text, enum want w, double num, const char *str)
{
	char doc[256];
	cJSON *d, *v;

	snprintf(doc, sizeof(doc), "v: %s\n", text);
	d = doc_ok(doc);
	v = json_get(d, "v");
	assert_non_null(v);
	switch (w) {
	case W_STR:
		if (!cJSON_IsString(v) || strcmp(v->valuestring, str))
			fail_msg("'%s' should be the string '%s'", text, str);
		break;
	case W_NULL:
		if (!cJSON_IsNull(v))
			fail_msg("'%s' should be null", text);
		break;
	case W_TRUE:
	case W_FALSE:
		if (!cJSON_IsBool(v) || cJSON_IsTrue(v) != (w == W_TRUE))
			fail_msg("'%s' should be %s", text, w == W_TRUE ? "true" : "false");
		break;
	case W_NUM:
		if (!cJSON_IsNumber(v) || !(v->valuedouble == num ||
					    (isnan(num) && isnan(v->valuedouble))))
			fail_msg("'%s' should be the number %g", text, num);
		break;
	}
	cJSON_Delete(d);
}

static void test_plain_bool_null(void **state)
{
	static const char *t[] = { "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y" };
	static const char *f[] = { "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N" };
	static const char *n[] = { "null", "Null", "NULL", "~", "" };
	static const char *s[] = { "tRUE", "yES", "oN", "nULL", "nil", "None", "truthy", "yes!", "enabled" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		check_plain(t[i], W_TRUE, 0, NULL);
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		check_plain(f[i], W_FALSE, 0, NULL);
	for (i = 0; i < sizeof(n) / sizeof(n[0]); i++)
		check_plain(n[i], W_NULL, 0, NULL);
	for (i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		check_plain(s[i], W_STR, 0, s[i]);
}

static void test_plain_numbers(void **state)
{
	static const struct {
		const char *text;
		double v;
	} t[] = {
		{ "0", 0 }, { "42", 42 }, { "1_", 1 }, { "-17", -17 }, { "+5", 5 }, { "1_000_000", 1000000 },
		{ "0x1F", 31 }, { "0X1f", 31 }, { "-0x10", -16 }, { "0o17", 15 }, { "017", 15 },
		{ "0755", 493 }, { "0b101", 5 }, { "08", 8 }, { "09.5", 9.5 },
		{ "1.5", 1.5 }, { "-2.25", -2.25 }, { ".5", 0.5 }, { "-.5", -0.5 }, { "1.", 1 },
		{ "1e3", 1000 }, { "1E-2", 0.01 }, { "6.02e+23", 6.02e23 },
		{ "9223372036854775807", 9223372036854775807.0 },
		{ "18446744073709551615", 18446744073709551615.0 },
		{ "123456789012345678901234567890", 123456789012345678901234567890.0 },
		{ ".inf", INFINITY }, { ".Inf", INFINITY }, { "+.INF", INFINITY }, { "-.inf", -INFINITY },
		{ ".nan", NAN }, { ".NaN", NAN }, { ".NAN", NAN },
	};
	static const char *s[] = {
		"0x", "0xZZ", "1e", "1.2.3", "--1", "+", ".", "1e999", "0b102", "12abc",
		"_1", "._5", "1:20", "2024-01-01", "1.0.0", "0.0.0.0", "v1", "inf", "nan",
		"infinity", "123 456", "0o8", "1e3.5",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		check_plain(t[i].text, W_NUM, t[i].v, NULL);
	for (i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		check_plain(s[i], W_STR, 0, s[i]);
}

static void test_quoted_are_strings(void **state)
{
	cJSON *d = doc_ok("a: 'true'\nb: \"123\"\nc: !!str 42\nd: ! 12\ne: |\n  yes\nf: >-\n  null\n"
			  "g: \"\"\nh: ''\ni: !!str\nj: \"~\"\nk: '0x1F'\n");

	(void)state;
	assert_string_equal(json_str(d, "a", NULL), "true");
	assert_string_equal(json_str(d, "b", NULL), "123");
	assert_string_equal(json_str(d, "c", NULL), "42");
	assert_string_equal(json_str(d, "d", NULL), "12");
	assert_string_equal(json_str(d, "e", NULL), "yes\n");
	assert_string_equal(json_str(d, "f", NULL), "null");
	assert_string_equal(json_str(d, "g", NULL), "");
	assert_string_equal(json_str(d, "h", NULL), "");
	assert_string_equal(json_str(d, "i", NULL), "");
	assert_string_equal(json_str(d, "j", NULL), "~");
	assert_string_equal(json_str(d, "k", NULL), "0x1F");
	cJSON_Delete(d);
}

static void test_core_tags(void **state)
{
	cJSON *d = doc_ok("a: !!int \"42\"\nb: !!float 1\nc: !!bool yes\nd: !!null ''\n"
			  "e: !!int 0x10\nf: !custom 7\ng: !custom text\nh: !!binary aGk=\n"
			  "i: !!timestamp 2024-01-01\n");

	(void)state;
	assert_int_equal(json_int(d, "a", 0), 42);
	assert_true(cJSON_IsNumber(json_get(d, "b")));
	assert_true(json_get(d, "b")->valuedouble == 1.0);
	assert_true(json_bool(d, "c", false));
	assert_true(cJSON_IsNull(json_get(d, "d")));
	assert_int_equal(json_int(d, "e", 0), 16);
	assert_true(cJSON_IsNumber(json_get(d, "f")));
	assert_string_equal(json_str(d, "g", NULL), "text");
	assert_string_equal(json_str(d, "h", NULL), "aGk=");
	assert_string_equal(json_str(d, "i", NULL), "2024-01-01");
	cJSON_Delete(d);
	parse_fails("a: !!int abc\n", 1, 4, "cannot read 'abc' as int");
	parse_fails("a:\n  b: !!bool maybe\n", 2, 6, "as bool");
	parse_fails("a: !!float x1\n", 1, 4, "as float");
	parse_fails("a: !!null 0\n", 1, 4, "as null");
}

static void test_block_scalars(void **state)
{
	static const char text[] =
		"clip: |\n"
		"  line one\n"
		"    indented\n"
		"\n"
		"  after blank\n"
		"\n"
		"\n"
		"keep: |+\n"
		"  kept\n"
		"\n"
		"\n"
		"strip: |-\n"
		"  stripped\n"
		"\n"
		"folded: >\n"
		"  one\n"
		"  two\n"
		"\n"
		"  three\n"
		"    more\n"
		"  four\n"
		"foldstrip: >-\n"
		"  a\n"
		"  b\n"
		"indicator: |2\n"
		"    leading spaces\n"
		"  less\n"
		"trailing: |\n"
		"  tabs\tand  spaces  \n"
		"empty: |\n"
		"last: |\n"
		"  no final newline";
	cJSON *d = doc_ok(text);

	(void)state;
	assert_string_equal(json_str(d, "clip", NULL), "line one\n  indented\n\nafter blank\n");
	assert_string_equal(json_str(d, "keep", NULL), "kept\n\n\n");
	assert_string_equal(json_str(d, "strip", NULL), "stripped");
	assert_string_equal(json_str(d, "folded", NULL), "one two\nthree\n  more\nfour\n");
	assert_string_equal(json_str(d, "foldstrip", NULL), "a b");
	assert_string_equal(json_str(d, "indicator", NULL), "  leading spaces\nless\n");
	assert_string_equal(json_str(d, "trailing", NULL), "tabs\tand  spaces  \n");
	assert_string_equal(json_str(d, "empty", NULL), "");
	assert_string_equal(json_str(d, "last", NULL), "no final newline");
	assert_roundtrip(d);
	cJSON_Delete(d);
}

static void test_flow_and_quoting(void **state)
{
	cJSON *d = doc_ok("{a: [1, two, {b: \"x\\ty\\u00e9\\n\"}], 'c d': 'it''s', e: [], f: {}}\n");

	(void)state;
	assert_int_equal(json_int(d, "a.0", 0), 1);
	assert_string_equal(json_str(d, "a.1", NULL), "two");
	assert_string_equal(json_str(d, "a.2.b", NULL), "x\ty\xc3\xa9\n");
	assert_string_equal(json_str(d, "c d", NULL), "it's");
	assert_int_equal(cJSON_GetArraySize(json_get(d, "e")), 0);
	assert_true(cJSON_IsObject(json_get(d, "f")));
	cJSON_Delete(d);
}

static void test_multiline_plain_and_crlf(void **state)
{
	cJSON *d = doc_ok("a: this is\r\n  folded plain\r\nb: |\r\n  x\r\n  y\r\nc: \"dq\r\n  more\"\r\n");

	(void)state;
	assert_string_equal(json_str(d, "a", NULL), "this is folded plain");
	assert_string_equal(json_str(d, "b", NULL), "x\ny\n");
	assert_string_equal(json_str(d, "c", NULL), "dq more");
	cJSON_Delete(d);
}

/* ---- keys, anchors, merges ------------------------------------------ */

static void test_keys_become_strings(void **state)
{
	cJSON *d = doc_ok("true: a\n1: b\n0x10: c\n~: d\n1.5: e\n\"yes\": f\nno: g\n-3: h\n? long\n: i\n");

	(void)state;
	assert_string_equal(json_str(d, "true", NULL), "a");
	assert_string_equal(json_str(d, "1", NULL), "b");
	assert_string_equal(json_str(d, "16", NULL), "c");
	assert_string_equal(json_str(d, "null", NULL), "d");
	assert_string_equal(json_str(json_get(d, NULL), "1.5", NULL), "e");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(d, "1.5")->valuestring, "e");
	assert_string_equal(json_str(d, "yes", NULL), "f");
	assert_string_equal(json_str(d, "false", NULL), "g");
	assert_string_equal(json_str(d, "-3", NULL), "h");
	assert_string_equal(json_str(d, "long", NULL), "i");
	cJSON_Delete(d);
}

static void test_duplicate_keys(void **state)
{
	cJSON *d = doc_ok("a: 1\nb: 2\na: 3\nc: {x: 1, x: {w: 2}}\n");

	(void)state;
	assert_int_equal(json_int(d, "a", 0), 3);
	assert_int_equal(json_int(d, "c.x.w", 0), 2);
	assert_int_equal(cJSON_GetArraySize(d), 3);
	assert_int_equal(cJSON_GetArraySize(json_get(d, "c")), 1);
	cJSON_Delete(d);
}

static void test_anchors_deep_copy(void **state)
{
	cJSON *d = doc_ok("base: &b\n  x: 1\n  list: [a, b]\ncopy: *b\nscalar: &s hello\nagain: *s\n"
			  "seq: &q [1, 2]\nseqs: [*q, *q]\n");
	cJSON *base, *copy;

	(void)state;
	base = json_get(d, "base");
	copy = json_get(d, "copy");
	assert_true(cJSON_Compare(base, copy, 1));
	assert_ptr_not_equal(base, copy);
	assert_ptr_not_equal(base->child, copy->child);
	/* changing the copy leaves the original alone */
	assert_int_equal(json_set(copy, "x", cJSON_CreateNumber(2)), 0);
	assert_int_equal(json_int(d, "base.x", 0), 1);
	assert_string_equal(json_str(d, "again", NULL), "hello");
	assert_int_equal(json_int(d, "seqs.1.1", 0), 2);
	cJSON_Delete(d);
}

static void test_anchor_redefined_and_replaced(void **state)
{
	/* the anchored node itself is replaced by a later duplicate key and
	 * the anchor name is reused: aliases see the definition before them */
	cJSON *d = doc_ok("a: &x {v: 1}\na: 2\nb: *x\nc: &x {v: 3}\nd: *x\n");

	(void)state;
	assert_int_equal(json_int(d, "a", 0), 2);
	assert_int_equal(json_int(d, "b.v", 0), 1);
	assert_int_equal(json_int(d, "d.v", 0), 3);
	cJSON_Delete(d);
}

static void test_anchors_per_document(void **state)
{
	struct kerr e = KERR_INIT;
	static const char text[] = "a: &x 1\n---\nb: *x\n";

	(void)state;
	assert_null(yaml_parse(text, strlen(text), "two docs", &e));
	assert_non_null(strstr(e.msg, "undefined alias 'x'"));
	assert_non_null(strstr(e.msg, "line 3, column 4"));
}

static void test_merge_keys(void **state)
{
	cJSON *d = doc_ok("defaults: &d {a: 1, b: 2, c: 3}\n"
			  "more: &m {c: 30, z: 26}\n"
			  "one:\n  <<: *d\n  b: 20\n"
			  "early:\n  b: 21\n  <<: *d\n"
			  "list:\n  <<: [*m, *d]\n  a: 10\n"
			  "inline:\n  <<: {k: v}\n"
			  "quoted:\n  \"<<\": *d\n");

	(void)state;
	assert_int_equal(json_int(d, "one.a", 0), 1);
	assert_int_equal(json_int(d, "one.b", 0), 20);
	assert_int_equal(json_int(d, "one.c", 0), 3);
	assert_int_equal(cJSON_GetArraySize(json_get(d, "one")), 3);
	assert_null(json_get(d, "one.<<"));
	/* an explicit key wins even when it comes before the merge */
	assert_int_equal(json_int(d, "early.b", 0), 21);
	assert_int_equal(json_int(d, "early.a", 0), 1);
	/* earlier maps in the list win over later ones */
	assert_int_equal(json_int(d, "list.c", 0), 30);
	assert_int_equal(json_int(d, "list.z", 0), 26);
	assert_int_equal(json_int(d, "list.a", 0), 10);
	assert_int_equal(json_int(d, "list.b", 0), 2);
	assert_string_equal(json_str(d, "inline.k", NULL), "v");
	/* a quoted "<<" is an ordinary key */
	assert_int_equal(json_int(json_get(d, "quoted"), "<<.a", 0), 1);
	/* the anchored maps are unchanged */
	assert_int_equal(cJSON_GetArraySize(json_get(d, "defaults")), 3);
	assert_int_equal(json_int(d, "defaults.b", 0), 2);
	cJSON_Delete(d);
	parse_fails("a:\n  <<: 1\n", 2, 7, "merge key");
	parse_fails("a:\n  <<: [{x: 1}, 2]\n", 2, 17, "merge key");
}

/* ---- documents ------------------------------------------------------ */

static void test_empty_inputs(void **state)
{
	static const char *empty[] = { "", "\n\n", "# only a comment\n", "---\n", "---\n...\n",
				       "--- \n---\n# x\n---\nnull\n", "~\n" };
	struct kerr e = KERR_INIT;
	size_t i;
	cJSON *d;

	(void)state;
	for (i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
		d = docs_ok(empty[i]);
		assert_int_equal(cJSON_GetArraySize(d), 0);
		cJSON_Delete(d);
	}
	d = yaml_parse(NULL, 0, "none", &e);
	assert_non_null(d);
	assert_int_equal(cJSON_GetArraySize(d), 0);
	cJSON_Delete(d);
}

static const char manifest[] =
	"# a typical multi-document manifest\n"
	"apiVersion: v1\n"
	"kind: Namespace\n"
	"metadata:\n"
	"  name: shop\n"
	"---\n"
	"---\n"
	"apiVersion: apps/v1\n"
	"kind: Deployment\n"
	"metadata:\n"
	"  name: web\n"
	"  namespace: shop\n"
	"  labels: &labels\n"
	"    app.kubernetes.io/name: web\n"
	"    tier: \"frontend\"\n"
	"spec:\n"
	"  replicas: 3\n"
	"  selector:\n"
	"    matchLabels: *labels\n"
	"  template:\n"
	"    metadata:\n"
	"      labels: *labels\n"
	"      annotations:\n"
	"        checksum/config: \"0123abcd\"\n"
	"    spec:\n"
	"      containers:\n"
	"        - name: web\n"
	"          image: nginx:1.25\n"
	"          args: [\"--port\", \"8080\"]\n"
	"          ports:\n"
	"            - containerPort: 8080\n"
	"              protocol: TCP\n"
	"          env:\n"
	"            - name: ENABLED\n"
	"              value: \"true\"\n"
	"            - name: CONFIG\n"
	"              value: |\n"
	"                [server]\n"
	"                port = 8080\n"
	"          readinessProbe:\n"
	"            httpGet: {path: /healthz, port: 8080}\n"
	"...\n"
	"---\n"
	"apiVersion: v1\n"
	"kind: Service\n"
	"metadata: {name: web, namespace: shop}\n"
	"spec:\n"
	"  type: ClusterIP\n"
	"  ports:\n"
	"  - port: 80\n"
	"    targetPort: 8080\n"
	"---\n"
	"# trailing empty document\n";

static void test_multi_doc_manifest(void **state)
{
	cJSON *d = docs_ok(manifest), *dep;

	(void)state;
	assert_int_equal(cJSON_GetArraySize(d), 3);
	assert_string_equal(json_str(d, "0.kind", NULL), "Namespace");
	assert_string_equal(json_str(d, "1.kind", NULL), "Deployment");
	assert_string_equal(json_str(d, "2.kind", NULL), "Service");
	dep = json_get(d, "1");
	assert_int_equal(json_int(dep, "spec.replicas", 0), 3);
	assert_string_equal(json_str(json_get(dep, "spec.selector.matchLabels"), "app.kubernetes.io/name", NULL), "web");
	assert_string_equal(json_str(dep, "spec.template.metadata.labels.tier", NULL), "frontend");
	assert_string_equal(json_str(dep, "spec.template.spec.containers.0.image", NULL), "nginx:1.25");
	assert_string_equal(json_str(dep, "spec.template.spec.containers.0.args.1", NULL), "8080");
	assert_int_equal(json_int(dep, "spec.template.spec.containers.0.ports.0.containerPort", 0), 8080);
	assert_string_equal(json_str(dep, "spec.template.spec.containers.0.env.0.value", NULL), "true");
	assert_string_equal(json_str(dep, "spec.template.spec.containers.0.env.1.value", NULL),
			    "[server]\nport = 8080\n");
	assert_string_equal(json_str(dep, "spec.template.spec.containers.0.readinessProbe.httpGet.path", NULL),
			    "/healthz");
	assert_int_equal(json_int(d, "2.spec.ports.0.port", 0), 80);
	assert_string_equal(json_str(d, "2.metadata.namespace", NULL), "shop");
	assert_roundtrip(dep);
	cJSON_Delete(d);
}

static const char kubeconfig[] =
	"apiVersion: v1\n"
	"kind: Config\n"
	"preferences: {}\n"
	"current-context: dev\n"
	"clusters:\n"
	"- name: dev\n"
	"  cluster: &devcluster\n"
	"    server: https://127.0.0.1:6443\n"
	"    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==\n"
	"- name: dev-copy\n"
	"  cluster: *devcluster\n"
	"- name: staging\n"
	"  cluster:\n"
	"    <<: *devcluster\n"
	"    server: \"https://10.0.0.1:6443\"\n"
	"    insecure-skip-tls-verify: true\n"
	"    certificate-authority-data: null\n"
	"users:\n"
	"- name: admin\n"
	"  user:\n"
	"    client-certificate-data: Zm9v\n"
	"    client-key-data: YmFy\n"
	"- name: oidc\n"
	"  user:\n"
	"    exec:\n"
	"      apiVersion: client.authentication.k8s.io/v1beta1\n"
	"      command: kubectl\n"
	"      args: [oidc-login, get-token, --oidc-issuer-url=https://issuer.example]\n"
	"      env:\n"
	"      - {name: FOO, value: \"1\"}\n"
	"      interactiveMode: IfAvailable\n"
	"      provideClusterInfo: false\n"
	"contexts:\n"
	"- name: dev\n"
	"  context: {cluster: dev, user: admin, namespace: kube-system}\n"
	"- name: staging\n"
	"  context:\n"
	"    cluster: staging\n"
	"    user: oidc\n";

static void test_kubeconfig(void **state)
{
	cJSON *k = doc_ok(kubeconfig), *c;

	(void)state;
	assert_string_equal(json_str(k, "current-context", NULL), "dev");
	assert_true(cJSON_IsObject(json_get(k, "preferences")));
	assert_int_equal(cJSON_GetArraySize(json_get(k, "clusters")), 3);
	assert_string_equal(json_str(k, "clusters.0.cluster.server", NULL), "https://127.0.0.1:6443");
	assert_true(cJSON_Compare(json_get(k, "clusters.0.cluster"), json_get(k, "clusters.1.cluster"), 1));
	c = json_get(k, "clusters.2.cluster");
	assert_string_equal(json_str(c, "server", NULL), "https://10.0.0.1:6443");
	assert_true(json_bool(c, "insecure-skip-tls-verify", false));
	assert_true(cJSON_IsNull(json_get(c, "certificate-authority-data")));
	assert_int_equal(cJSON_GetArraySize(c), 3);
	assert_string_equal(json_str(k, "users.0.user.client-key-data", NULL), "YmFy");
	assert_string_equal(json_str(k, "users.1.user.exec.args.2", NULL), "--oidc-issuer-url=https://issuer.example");
	assert_string_equal(json_str(k, "users.1.user.exec.env.0.value", NULL), "1");
	assert_false(json_bool(k, "users.1.user.exec.provideClusterInfo", true));
	assert_string_equal(json_str(k, "contexts.0.context.namespace", NULL), "kube-system");
	assert_string_equal(json_str(k, "contexts.1.context.user", NULL), "oidc");
	assert_roundtrip(k);
	cJSON_Delete(k);
}

static void test_exact_length(void **state)
{
	static const char text[] = "a: 1\nb: 2\n garbage: [";
	struct kerr e = KERR_INIT;
	cJSON *d;
	char *heap;

	(void)state;
	d = yaml_parse(text, 10, "x", &e);
	assert_non_null(d);
	assert_int_equal(json_int(d, "0.b", 0), 2);
	cJSON_Delete(d);
	heap = malloc(4);
	assert_non_null(heap);
	memcpy(heap, "k: v", 4);
	d = yaml_parse(heap, 4, "x", &e);
	assert_non_null(d);
	assert_string_equal(json_str(d, "0.k", NULL), "v");
	cJSON_Delete(d);
	free(heap);
}

/* ---- errors --------------------------------------------------------- */

static void test_error_unclosed_quote(void **state)
{
	(void)state;
	parse_fails("a: 1\nb: \"unclosed\nc: 3\n", 4, 1, "found unexpected end of stream");
	parse_fails("a: 'open", 1, 9, "while scanning a quoted scalar at line 1, column 4");
}

static void test_error_bad_indentation(void **state)
{
	(void)state;
	parse_fails("a:\n    b: 1\n  c: 2\n", 3, 3, "did not find expected key");
	parse_fails("a: 1\n b: 2\n", 2, 3, "mapping values are not allowed");
	parse_fails("- a\nb: c\n", 2, 1, "did not find expected");
	parse_fails("a: b: c\n", 1, 5, "mapping values are not allowed");
}

static void test_error_tabs(void **state)
{
	(void)state;
	parse_fails("a:\n\tb: 1\n", 2, 1, "found character that cannot start any token");
	parse_fails("users:\n- name: x\n\t user: {}\n", 3, 1, "tab character");
}

static void test_error_alias(void **state)
{
	(void)state;
	parse_fails("a: 1\nb: *nope\n", 2, 4, "found undefined alias 'nope'");
	/* an anchor cannot contain itself */
	parse_fails("a: &x [1, *x]\n", 1, 11, "found undefined alias 'x'");
	parse_fails("a: &x {b: *x}\n", 1, 11, "undefined alias");
}

static void test_error_flow_and_misc(void **state)
{
	(void)state;
	parse_fails("{a: 1", 2, 1, "did not find expected ',' or '}'");
	parse_fails("[1, 2\n", 2, 1, "did not find expected ',' or ']'");
	parse_fails("? [a, b]\n: c\n", 1, 3, "mapping keys must be scalars");
	parse_fails("{? {a: 1}: b}\n", 1, 4, "mapping keys must be scalars");
	parse_fails("k: @reserved\n", 1, 4, "cannot start any token");
	parse_fails("a: !<tag:yaml.org,2002:int> nope\n", 1, 4, "cannot read");
	parse_fails("%YAML 9.9\n---\na: 1\n", 1, 1, "incompatible YAML document");
}

static void test_error_bad_utf8(void **state)
{
	(void)state;
	parse_fails("a: \xff\xfe\n", 0, 0, "at byte");
	parse_fails("a: b\nc: \xc3\x28\n", 0, 0, "invalid");
}

static void test_error_no_kerr(void **state)
{
	(void)state;
	assert_null(yaml_parse("a: \"x", 5, "x", NULL));
	assert_null(yaml_parse("a: *y", 5, NULL, NULL));
}

static char *repeat(const char *a, size_t n, const char *mid, const char *b)
{
	size_t la = strlen(a), lm = strlen(mid), lb = strlen(b), i;
	char *s = malloc(n * (la + lb) + lm + 1), *p;

	assert_non_null(s);
	p = s;
	for (i = 0; i < n; i++, p += la)
		memcpy(p, a, la);
	memcpy(p, mid, lm);
	p += lm;
	for (i = 0; i < n; i++, p += lb)
		memcpy(p, b, lb);
	*p = '\0';
	return s;
}

static void test_deep_nesting(void **state)
{
	char *ok = repeat("[", 999, "x", "]"), *bad = repeat("[", 1001, "x", "]");
	char *maps = repeat("{a: ", 5000, "1", "}");
	struct buf b = BUF_INIT;
	cJSON *d;

	(void)state;
	d = doc_ok(ok);
	assert_roundtrip(d);
	cJSON_Delete(d);
	parse_fails(bad, 1, 1001, "nested more than 1000 levels deep");
	parse_fails(maps, 1, 4001, "nested more than 1000 levels deep");
	free(ok);
	free(bad);
	free(maps);
	/* aliases cannot be used to get past the limit */
	ok = repeat("[", 600, "x", "]");
	bad = repeat("[", 500, "*deep", "]");
	assert_int_equal(buf_addf(&b, "a: &deep %s\nb: %s\n", ok, bad), 0);
	parse_fails(b.s, 2, 504, "nested more than 1000 levels deep");
	buf_release(&b);
	free(ok);
	free(bad);
}

static void test_alias_bomb(void **state)
{
	static const char bomb[] =
		"a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
		"b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
		"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
		"d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
		"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
		"f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
		"g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
		"h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
		"i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]\n";
	static const char fine[] =
		"a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n"
		"b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
		"c: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n";
	cJSON *d;

	(void)state;
	parse_fails(bomb, 0, 0, "aliases expand to too many nodes");
	d = doc_ok(fine);
	assert_int_equal(json_int(d, "c.9.9.9", 0), 10);
	cJSON_Delete(d);
}

static void test_large_input(void **state)
{
	struct buf b = BUF_INIT;
	cJSON *d;
	int i;

	(void)state;
	assert_int_equal(buf_addstr(&b, "apiVersion: v1\nkind: List\nitems:\n"), 0);
	for (i = 0; i < 20000; i++)
		assert_int_equal(buf_addf(&b, "- metadata:\n    name: pod-%d\n    uid: \"%d\"\n  spec:\n"
					  "    nodeName: node-%d\n    ready: %s\n", i, i, i % 7,
					  i % 2 ? "yes" : "false"), 0);
	d = doc_ok(b.s);
	assert_int_equal(cJSON_GetArraySize(json_get(d, "items")), 20000);
	assert_string_equal(json_str(d, "items.19999.metadata.name", NULL), "pod-19999");
	assert_string_equal(json_str(d, "items.19999.metadata.uid", NULL), "19999");
	assert_true(json_bool(d, "items.19999.spec.ready", false));
	assert_roundtrip(d);
	cJSON_Delete(d);
	buf_release(&b);
}

static void test_large_mapping(void **state)
{
	struct buf b = BUF_INIT;
	char key[32];
	cJSON *d, *data;
	int i;

	(void)state;
	assert_int_equal(buf_addstr(&b, "base: &b {key-1: merged, extra: merged}\ndata:\n  <<: *b\n"), 0);
	for (i = 0; i < 5000; i++)
		assert_int_equal(buf_addf(&b, "  key-%d: v%d\n", i, i), 0);
	/* duplicates late in a big mapping: the last one wins */
	for (i = 0; i < 5000; i += 3)
		assert_int_equal(buf_addf(&b, "  key-%d: dup%d\n", i, i), 0);
	d = doc_ok(b.s);
	data = json_get(d, "data");
	assert_int_equal(cJSON_GetArraySize(data), 5001);
	for (i = 0; i < 5000; i++) {
		const char *v;

		snprintf(key, sizeof(key), "key-%d", i);
		v = json_str(data, key, NULL);
		assert_non_null(v);
		assert_int_equal(v[0], i % 3 ? 'v' : 'd');
		assert_int_equal(strtol(v + (i % 3 ? 1 : 3), NULL, 10), i);
	}
	assert_string_equal(json_str(data, "extra", NULL), "merged");
	assert_roundtrip(d);
	cJSON_Delete(d);
	buf_release(&b);
}

/* ---- yaml_write ----------------------------------------------------- */

static const char write_json[] =
	"{\"spec\":{\"ports\":[{\"port\":80,\"name\":\"http\"}],"
	"\"args\":[\"--v=2\",\"true\",\"\",\"null\",\"123\",\"0x1F\",\"1.5\",\"y\",\" lead\","
	"\"trail \",\"a: b\",\"#c\",\"- x\",\"1:20\",\"<<\",\"multi\\nline\\n\"],"
	"\"empty\":{},\"none\":[],\"nil\":null,\"on\":true,\"ratio\":0.5,\"big\":1e+20},"
	"\"metadata\":{\"name\":\"web\",\"labels\":{\"app\":\"web\"}}}";

static void test_write_kubectl_style(void **state)
{
	cJSON *j = json_ok(write_json);
	char *y;

	(void)state;
	y = yaml_str(j, true);
	assert_string_equal(y,
			    "metadata:\n"
			    "  labels:\n"
			    "    app: web\n"
			    "  name: web\n"
			    "spec:\n"
			    "  args:\n"
			    "  - --v=2\n"
			    "  - \"true\"\n"
			    "  - \"\"\n"
			    "  - \"null\"\n"
			    "  - \"123\"\n"
			    "  - \"0x1F\"\n"
			    "  - \"1.5\"\n"
			    "  - \"y\"\n"
			    "  - ' lead'\n"
			    "  - 'trail '\n"
			    "  - 'a: b'\n"
			    "  - '#c'\n"
			    "  - '- x'\n"
			    "  - \"1:20\"\n"
			    "  - \"<<\"\n"
			    "  - |\n"
			    "    multi\n"
			    "    line\n"
			    "  big: 1e+20\n"
			    "  empty: {}\n"
			    "  nil: null\n"
			    "  none: []\n"
			    "  \"on\": true\n"
			    "  ports:\n"
			    "  - name: http\n"
			    "    port: 80\n"
			    "  ratio: 0.5\n");
	free(y);
	assert_roundtrip(j);
	cJSON_Delete(j);
}

static void test_write_unsorted(void **state)
{
	cJSON *j = json_ok("{\"b\":1,\"a\":{\"d\":[1,[2,3]],\"c\":\"x\"}}");
	char *y;

	(void)state;
	y = yaml_str(j, false);
	assert_string_equal(y, "b: 1\na:\n  d:\n  - 1\n  - - 2\n    - 3\n  c: x\n");
	free(y);
	y = yaml_str(j, true);
	assert_string_equal(y, "a:\n  c: x\n  d:\n  - 1\n  - - 2\n    - 3\nb: 1\n");
	free(y);
	/* not mutated by sorting */
	assert_string_equal(j->child->string, "b");
	cJSON_Delete(j);
}

static void test_write_top_level(void **state)
{
	cJSON *j;
	char *y;

	(void)state;
	j = json_ok("[{\"a\":1},\"s\",[]]");
	y = yaml_str(j, true);
	assert_string_equal(y, "- a: 1\n- s\n- []\n");
	free(y);
	cJSON_Delete(j);
	j = json_ok("{}");
	y = yaml_str(j, true);
	assert_string_equal(y, "{}\n");
	free(y);
	cJSON_Delete(j);
	j = json_ok("\"true\"");
	assert_roundtrip(j);
	cJSON_Delete(j);
	j = json_ok("42");
	assert_roundtrip(j);
	cJSON_Delete(j);
}

static void test_write_appends(void **state)
{
	struct buf b = BUF_INIT;
	cJSON *j = json_ok("{\"a\":1}"), *k = json_ok("{\"b\":2}"), *d;

	(void)state;
	assert_int_equal(yaml_write(j, true, &b, NULL), 0);
	assert_int_equal(buf_addstr(&b, "---\n"), 0);
	assert_int_equal(yaml_write(k, true, &b, NULL), 0);
	assert_string_equal(b.s, "a: 1\n---\nb: 2\n");
	d = docs_ok(b.s);
	assert_int_equal(cJSON_GetArraySize(d), 2);
	cJSON_Delete(d);
	buf_release(&b);
	cJSON_Delete(j);
	cJSON_Delete(k);
}

static void test_write_numbers(void **state)
{
	cJSON *j = cJSON_CreateArray();
	char *y;

	(void)state;
	cJSON_AddItemToArray(j, cJSON_CreateNumber(7));
	cJSON_AddItemToArray(j, cJSON_CreateNumber(-0.125));
	cJSON_AddItemToArray(j, cJSON_CreateNumber(1e-9));
	cJSON_AddItemToArray(j, cJSON_CreateNumber(INFINITY));
	cJSON_AddItemToArray(j, cJSON_CreateNumber(-INFINITY));
	cJSON_AddItemToArray(j, cJSON_CreateNumber(NAN));
	cJSON_AddItemToArray(j, cJSON_CreateNumber(0.1 + 0.2));
	y = yaml_str(j, true);
	assert_string_equal(y, "- 7\n- -0.125\n- 1e-09\n- .inf\n- -.inf\n- .nan\n- 0.30000000000000004\n");
	free(y);
	cJSON_Delete(j);
}

static void test_write_roundtrip_strings(void **state)
{
	static const char *strs[] = {
		"", " ", "  ", "plain", "two words", "true", "True", "yes", "NO", "on", "Off", "y", "n",
		"null", "~", "Null", "0", "-1", "+1", "1_000", "0x10", "0o7", "0b1", "017", "08", ".5",
		"1.", "1e3", ".inf", "-.Inf", ".nan", "1:20", "-1:30:00", "2024-01-01", "1.0.0",
		"<<", "=", "-", "--", "---", "...", "- a", "? a", ": a", "a:", "a: b", "a:b", "#", "a #b",
		"a#b", "@a", "`a", "!a", "&a", "*a", "%a", "|", ">", "'", "\"", "[a]", "{a}", ",",
		"a,b", "http://x/y?z=1&w=#f", "C:\\path\\x", "tab\tin", "\ttab first", "trail\t",
		"\n", "\n\n", "a\n", "a\n\n", "a\nb", "a\nb\n", " a\nb\n", "a \nb\n", "a\n b\n",
		"\na", "a\r\nb", "cr\r", "\x01\x02", "bell\a", "del\x7f", "\xc3\xa9t\xc3\xa9",
		"\xe2\x80\xa8 line sep", "\xef\xbb\xbf bom", "\xf0\x9f\x98\x80", "\xc2\x85 nel",
		"very long string without newlines that goes far beyond eighty columns so that a "
		"folding emitter would like to wrap it somewhere in the middle of all of this text",
	};
	cJSON *arr = cJSON_CreateArray(), *obj = cJSON_CreateObject();
	size_t i;
	char key[16];

	(void)state;
	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		cJSON *one = cJSON_CreateObject();

		cJSON_AddItemToArray(arr, cJSON_CreateString(strs[i]));
		/* every string as a key, too */
		cJSON_AddStringToObject(one, strs[i], "v");
		assert_roundtrip(one);
		cJSON_Delete(one);
		snprintf(key, sizeof(key), "k%zu", i);
		cJSON_AddStringToObject(obj, key, strs[i]);
	}
	assert_roundtrip(arr);
	assert_roundtrip(obj);
	cJSON_AddItemToObject(obj, "nested", arr);
	assert_roundtrip(obj);
	cJSON_Delete(obj);
}

static void test_write_roundtrip_json(void **state)
{
	static const char *docs[] = {
		"{\"a\":{\"b\":{\"c\":[[],[{}],[1,\"two\",3.5,false,null]]}}}",
		"[[[[\"deep\"]]],{\"k\":[{\"x\":[{\"y\":null}]}]}]",
		"{\"\":\"empty key\",\" \":\"space key\",\"true\":1,\"1\":\"one\",\"null\":null}",
		"[9007199254740993,1e308,5e-324,-0.0,123456789012345678901234567890]",
		"{\"data\":{\"ca.crt\":\"-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n\"}}",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		cJSON *j = json_ok(docs[i]);

		assert_roundtrip(j);
		cJSON_Delete(j);
	}
}

static void test_write_literal_exact(void **state)
{
	cJSON *j = json_ok("{\"script\":\"#!/bin/sh\\necho hi\\n\",\"keep\":\"a\\n\\n\",\"strip\":\"b\\nc\","
			   "\"lead\":\"  x\\ny\\n\"}");
	char *y;

	(void)state;
	y = yaml_str(j, false);
	assert_string_equal(y,
			    "script: |\n"
			    "  #!/bin/sh\n"
			    "  echo hi\n"
			    "keep: |+\n"
			    "  a\n"
			    "\n"
			    "strip: |-\n"
			    "  b\n"
			    "  c\n"
			    "lead: |2\n"
			    "    x\n"
			    "  y\n");
	free(y);
	assert_roundtrip(j);
	cJSON_Delete(j);
}

static void test_write_cap(void **state)
{
	struct buf b;
	struct kerr e = KERR_INIT;
	cJSON *j = json_ok(write_json);

	(void)state;
	buf_init(&b, 30);
	assert_int_equal(buf_addstr(&b, "keep"), 0);
	assert_int_equal(yaml_write(j, true, &b, &e), -1);
	assert_int_equal(e.kind, KERR_LIMIT);
	assert_string_equal(b.s, "keep");
	assert_int_equal(b.len, 4);
	buf_release(&b);
	cJSON_Delete(j);
}

static void test_write_errors(void **state)
{
	struct buf b = BUF_INIT;
	struct kerr e = KERR_INIT;
	cJSON *j = cJSON_CreateObject(), *bad;

	(void)state;
	cJSON_AddStringToObject(j, "ok", "fine");
	cJSON_AddStringToObject(j, "bin", "\xff\xfe");
	assert_int_equal(yaml_write(j, false, &b, &e), -1);
	assert_int_equal(e.kind, KERR_FAILED);
	assert_non_null(strstr(e.msg, "UTF-8"));
	assert_int_equal(b.len, 0);
	cJSON_Delete(j);
	j = cJSON_CreateArray();
	bad = cJSON_CreateNull();
	bad->type = cJSON_Invalid;
	cJSON_AddItemToArray(j, bad);
	assert_int_equal(yaml_write(j, false, &b, &e), -1);
	assert_int_equal(e.kind, KERR_FAILED);
	assert_int_equal(yaml_write(NULL, false, &b, NULL), -1);
	assert_int_equal(b.len, 0);
	cJSON_Delete(j);
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_bool_null),
		cmocka_unit_test(test_plain_numbers),
		cmocka_unit_test(test_quoted_are_strings),
		cmocka_unit_test(test_core_tags),
		cmocka_unit_test(test_block_scalars),
		cmocka_unit_test(test_flow_and_quoting),
		cmocka_unit_test(test_multiline_plain_and_crlf),
		cmocka_unit_test(test_keys_become_strings),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_anchors_deep_copy),
		cmocka_unit_test(test_anchor_redefined_and_replaced),
		cmocka_unit_test(test_anchors_per_document),
		cmocka_unit_test(test_merge_keys),
		cmocka_unit_test(test_empty_inputs),
		cmocka_unit_test(test_multi_doc_manifest),
		cmocka_unit_test(test_kubeconfig),
		cmocka_unit_test(test_exact_length),
		cmocka_unit_test(test_error_unclosed_quote),
		cmocka_unit_test(test_error_bad_indentation),
		cmocka_unit_test(test_error_tabs),
		cmocka_unit_test(test_error_alias),
		cmocka_unit_test(test_error_flow_and_misc),
		cmocka_unit_test(test_error_bad_utf8),
		cmocka_unit_test(test_error_no_kerr),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_alias_bomb),
		cmocka_unit_test(test_large_input),
		cmocka_unit_test(test_large_mapping),
		cmocka_unit_test(test_write_kubectl_style),
		cmocka_unit_test(test_write_unsorted),
		cmocka_unit_test(test_write_top_level),
		cmocka_unit_test(test_write_appends),
		cmocka_unit_test(test_write_numbers),
		cmocka_unit_test(test_write_roundtrip_strings),
		cmocka_unit_test(test_write_roundtrip_json),
		cmocka_unit_test(test_write_literal_exact),
		cmocka_unit_test(test_write_cap),
		cmocka_unit_test(test_write_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
