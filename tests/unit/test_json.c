/* Unit tests for the JSON half of common/json.c, and base64. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "json.h"

/* Parse must fail; returns the message's "near byte N" offset. */
static long parse_fails(const char *text, size_t len)
{
	struct kerr e = KERR_INIT;
	const char *at;

	assert_null(json_parse(text, len, "response from 'api'", &e));
	assert_int_equal(e.kind, KERR_PARSE);
	assert_non_null(strstr(e.msg, "response from 'api'"));
	assert_non_null(strstr(e.msg, "is not valid JSON"));
	at = strstr(e.msg, "near byte ");
	return at ? strtol(at + 10, NULL, 10) : -1;
}

static char *write_str(const cJSON *j, int indent, bool sorted)
{
	struct buf b = BUF_INIT;
	struct kerr e = KERR_INIT;

	if (json_write(j, indent, sorted, &b, &e))
		fail_msg("json_write: %s", e.msg);
	return buf_detach(&b, NULL);
}

static void assert_writes(const cJSON *j, int indent, bool sorted, const char *want)
{
	char *s = write_str(j, indent, sorted);

	assert_string_equal(s, want);
	free(s);
}

static const char sample[] =
	"{\"metadata\":{\"name\":\"web\",\"namespace\":\"prod\","
	"\"labels\":{\"app.kubernetes.io/name\":\"web\",\"tier\":\"front\"},"
	"\"annotations\":{\"kubectl.kubernetes.io/restartedAt\":\"2024-01-01\"}},"
	"\"spec\":{\"replicas\":3,\"paused\":false,\"ratio\":1.5,\"port\":\"8080\","
	"\"containers\":[{\"name\":\"a\"},{\"name\":\"b\",\"ready\":true}]},"
	"\"status\":null}";

/* ---- getters ------------------------------------------------------- */

static void test_get_paths(void **state)
{
	cJSON *j = fx_json(sample);

	(void)state;
	assert_string_equal(json_str(j, "metadata.name", NULL), "web");
	assert_string_equal(json_str(j, "metadata.namespace", "x"), "prod");
	assert_ptr_equal(json_get(j, ""), j);
	assert_ptr_equal(json_get(j, NULL), j);
	assert_null(json_get(NULL, "metadata"));
	assert_null(json_get(j, "metadata.missing"));
	assert_null(json_get(j, "metadata.name.deeper"));
	assert_null(json_get(j, "nope.name"));
	assert_true(cJSON_IsNull(json_get(j, "status")));
	assert_true(cJSON_IsObject(json_get(j, "spec")));
	/* array elements by index */
	assert_string_equal(json_str(j, "spec.containers.0.name", NULL), "a");
	assert_string_equal(json_str(j, "spec.containers.1.name", NULL), "b");
	assert_null(json_get(j, "spec.containers.2"));
	assert_null(json_get(j, "spec.containers.x"));
	assert_null(json_get(j, "spec.containers.-1"));
	cJSON_Delete(j);
}

static void test_get_dotted_names(void **state)
{
	cJSON *j = fx_json(sample);
	cJSON *labels;

	(void)state;
	labels = json_get(j, "metadata.labels");
	assert_non_null(labels);
	assert_string_equal(json_str(labels, "app.kubernetes.io/name", NULL), "web");
	assert_string_equal(json_str(j, "metadata.labels.app.kubernetes.io/name", NULL), "web");
	assert_string_equal(json_str(j, "metadata.annotations.kubectl.kubernetes.io/restartedAt", NULL),
			    "2024-01-01");
	assert_string_equal(json_str(j, "metadata.labels.tier", NULL), "front");
	cJSON_Delete(j);
}

static void test_str_defaults(void **state)
{
	cJSON *j = fx_json(sample);

	(void)state;
	assert_string_equal(json_str(j, "spec.replicas", "def"), "def");
	assert_string_equal(json_str(j, "spec.missing", "def"), "def");
	assert_string_equal(json_str(j, "status", "def"), "def");
	assert_null(json_str(j, "spec", NULL));
	assert_string_equal(json_str(NULL, "a", "d"), "d");
	cJSON_Delete(j);
}

static void test_int(void **state)
{
	cJSON *j = fx_json("{\"n\":42,\"neg\":-7,\"f\":1.5,\"s\":\"123\",\"sneg\":\"-9\","
			    "\"splus\":\"+5\",\"bad\":\"12x\",\"ws\":\" 12\",\"empty\":\"\","
			    "\"word\":\"abc\",\"big\":1e30,\"bigs\":\"99999999999999999999\","
			    "\"b\":true,\"zero\":0,\"max\":9007199254740992,\"o\":{}}");

	(void)state;
	assert_int_equal(json_int(j, "n", -1), 42);
	assert_int_equal(json_int(j, "neg", 0), -7);
	assert_int_equal(json_int(j, "zero", -1), 0);
	assert_int_equal(json_int(j, "max", -1), 9007199254740992LL);
	assert_int_equal(json_int(j, "f", -1), -1);
	assert_int_equal(json_int(j, "s", -1), 123);
	assert_int_equal(json_int(j, "sneg", 0), -9);
	assert_int_equal(json_int(j, "splus", 0), 5);
	assert_int_equal(json_int(j, "bad", -1), -1);
	assert_int_equal(json_int(j, "ws", -1), -1);
	assert_int_equal(json_int(j, "empty", -1), -1);
	assert_int_equal(json_int(j, "word", -1), -1);
	assert_int_equal(json_int(j, "big", -1), -1);
	assert_int_equal(json_int(j, "bigs", -1), -1);
	assert_int_equal(json_int(j, "b", -1), -1);
	assert_int_equal(json_int(j, "o", -1), -1);
	assert_int_equal(json_int(j, "missing", 77), 77);
	cJSON_Delete(j);
}

static void test_bool(void **state)
{
	cJSON *j = fx_json("{\"t\":true,\"f\":false,\"s\":\"true\",\"n\":1,\"z\":null}");

	(void)state;
	assert_true(json_bool(j, "t", false));
	assert_false(json_bool(j, "f", true));
	assert_true(json_bool(j, "s", true));
	assert_false(json_bool(j, "s", false));
	assert_false(json_bool(j, "n", false));
	assert_true(json_bool(j, "z", true));
	assert_true(json_bool(j, "missing", true));
	cJSON_Delete(j);
}

/* ---- setters ------------------------------------------------------- */

static void test_set_creates(void **state)
{
	cJSON *j = cJSON_CreateObject();

	(void)state;
	assert_int_equal(json_set(j, "a.b.c", cJSON_CreateNumber(5)), 0);
	assert_int_equal(json_int(j, "a.b.c", 0), 5);
	assert_int_equal(json_set_str(j, "a.b.name", "x"), 0);
	assert_string_equal(json_str(j, "a.b.name", NULL), "x");
	assert_int_equal(json_set_str(j, "top", "v"), 0);
	assert_writes(j, 0, false, "{\"a\":{\"b\":{\"c\":5,\"name\":\"x\"}},\"top\":\"v\"}");
	cJSON_Delete(j);
}

static void test_set_replaces(void **state)
{
	cJSON *j = fx_json("{\"a\":{\"b\":1,\"c\":2},\"d\":[1,2,3]}");

	(void)state;
	assert_int_equal(json_set(j, "a.b", cJSON_CreateString("one")), 0);
	assert_string_equal(json_str(j, "a.b", NULL), "one");
	/* replacing keeps the position */
	assert_writes(j, 0, false, "{\"a\":{\"b\":\"one\",\"c\":2},\"d\":[1,2,3]}");
	assert_int_equal(json_set(j, "a", cJSON_CreateTrue()), 0);
	assert_writes(j, 0, false, "{\"a\":true,\"d\":[1,2,3]}");
	assert_int_equal(json_set(j, "d.1", cJSON_CreateNumber(9)), 0);
	assert_writes(j, 0, false, "{\"a\":true,\"d\":[1,9,3]}");
	assert_int_equal(json_set_str(j, "d", NULL), 0);
	assert_true(cJSON_IsNull(json_get(j, "d")));
	cJSON_Delete(j);
}

static void test_set_named_item(void **state)
{
	cJSON *j = fx_json("{\"src\":{\"k\":1},\"dst\":{}}");
	cJSON *moved = cJSON_DetachItemFromObjectCaseSensitive(j, "src");

	(void)state;
	/* an item that still carries its old member name gets the new one */
	assert_int_equal(json_set(j, "dst.inner", moved), 0);
	assert_writes(j, 0, false, "{\"dst\":{\"inner\":{\"k\":1}}}");
	cJSON_Delete(j);
}

static void test_set_dotted_existing(void **state)
{
	cJSON *j = fx_json(sample);

	(void)state;
	assert_int_equal(json_set_str(j, "metadata.labels.app.kubernetes.io/name", "api"), 0);
	assert_string_equal(json_str(json_get(j, "metadata.labels"), "app.kubernetes.io/name", NULL),
			    "api");
	assert_null(json_get(json_get(j, "metadata.labels"), "app"));
	cJSON_Delete(j);
}

static void test_set_fails(void **state)
{
	cJSON *j = fx_json("{\"s\":\"str\",\"arr\":[1]}");
	cJSON *arr = cJSON_CreateArray();

	(void)state;
	/* every failure still takes the item (no leak under ASan) */
	assert_int_equal(json_set(j, "s.x", cJSON_CreateNumber(1)), -1);
	assert_int_equal(json_set(j, "arr.5", cJSON_CreateNumber(1)), -1);
	assert_int_equal(json_set(j, "arr.x.y", cJSON_CreateNumber(1)), -1);
	assert_int_equal(json_set(j, "", cJSON_CreateNumber(1)), -1);
	assert_int_equal(json_set(j, NULL, cJSON_CreateNumber(1)), -1);
	assert_int_equal(json_set(NULL, "a", cJSON_CreateNumber(1)), -1);
	assert_int_equal(json_set(arr, "0", cJSON_CreateNumber(1)), -1);
	assert_int_equal(json_set(j, "a", NULL), -1);
	assert_int_equal(json_set_str(NULL, "a", "b"), -1);
	assert_writes(j, 0, false, "{\"s\":\"str\",\"arr\":[1]}");
	cJSON_Delete(arr);
	cJSON_Delete(j);
}

/* ---- json_parse ---------------------------------------------------- */

static void test_parse_ok(void **state)
{
	cJSON *j = fx_json(" \n\t{\"a\": [1, 2.5, -3e2, true, false, null, \"\\u00e9\\ud83d\\ude00\"]}\r\n ");

	(void)state;
	assert_int_equal(cJSON_GetArraySize(json_get(j, "a")), 7);
	assert_true(json_get(j, "a.2")->valuedouble == -300.0);
	assert_string_equal(json_str(j, "a.6", NULL), "\xc3\xa9\xf0\x9f\x98\x80");
	cJSON_Delete(j);
}

static void test_parse_exact_length(void **state)
{
	static const char text[] = "[1,2]garbage";
	struct kerr e = KERR_INIT;
	cJSON *j;
	char *copy;

	(void)state;
	j = json_parse(text, 5, "x", &e);
	assert_non_null(j);
	assert_int_equal(cJSON_GetArraySize(j), 2);
	cJSON_Delete(j);
	/* not NUL-terminated at all */
	copy = malloc(2);
	assert_non_null(copy);
	memcpy(copy, "{}", 2);
	j = json_parse(copy, 2, "x", &e);
	assert_non_null(j);
	assert_true(cJSON_IsObject(j));
	cJSON_Delete(j);
	free(copy);
}

static void test_parse_truncated(void **state)
{
	(void)state;
	parse_fails("{\"a\":", 5);
	parse_fails("{\"a\":1", 6);
	parse_fails("[1,2", 4);
	parse_fails("\"abc", 4);
	parse_fails("{\"a\":1}", 3);
	parse_fails("tru", 3);
	parse_fails("{\"a\":\"\\u12", 10);
}

static void test_parse_trailing(void **state)
{
	(void)state;
	assert_int_equal(parse_fails("{\"a\":1} x", 9), 8);
	assert_int_equal(parse_fails("[1][2]", 6), 3);
	assert_int_equal(parse_fails("1 2", 3), 2);
	assert_int_equal(parse_fails("[1]\0", 4), 3);
	assert_int_equal(parse_fails("{}}", 3), 2);
}

static void test_parse_invalid(void **state)
{
	long at;

	(void)state;
	parse_fails("{\"a\":\"\\q\"}", 10);
	parse_fails("{\"a\":\"\\x41\"}", 12);
	assert_int_equal(parse_fails("{\"a\":\"\\u00zz\"}", 14), 10);
	assert_int_equal(parse_fails("[\"a\x01b\"]", 6), 3);
	assert_int_equal(parse_fails("[\"tab\there\"]", 12), 5);
	parse_fails("[\"\\ud83d\\u\"]", 13);
	parse_fails("[1,]", 4);
	parse_fails("{a:1}", 5);
	parse_fails("{'a':1}", 7);
	parse_fails("[01x]", 5);
	parse_fails("nul", 3);
	parse_fails("{\"a\" 1}", 7);
	parse_fails("[1 2]", 5);
	at = parse_fails("{\n  \"ok\": 1,\n  \"bad\": nope\n}", 28);
	assert_in_range(at, 15, 26);
}

static void test_parse_empty(void **state)
{
	struct kerr e = KERR_INIT;

	(void)state;
	parse_fails("", 0);
	parse_fails(" \n\t ", 4);
	assert_null(json_parse(NULL, 0, "nothing", &e));
	assert_int_equal(e.kind, KERR_PARSE);
	assert_non_null(strstr(e.msg, "nothing"));
	/* a NULL kerr is allowed */
	assert_null(json_parse("{", 1, "x", NULL));
}

static char *nested(size_t depth, const char *open, const char *close)
{
	size_t lo = strlen(open), lc = strlen(close), i;
	char *s = malloc(depth * (lo + lc) + 2), *p;

	assert_non_null(s);
	p = s;
	for (i = 0; i < depth; i++, p += lo)
		memcpy(p, open, lo);
	*p++ = '1';
	for (i = 0; i < depth; i++, p += lc)
		memcpy(p, close, lc);
	*p = '\0';
	return s;
}

static void test_parse_deep(void **state)
{
	char *arrays = nested(900, "[", "]"), *objects = nested(500, "{\"a\":", "}");
	char *deep = nested(100000, "[", "]"), *out, *out2;
	cJSON *j, *again;

	(void)state;
	j = fx_json(arrays);
	out = write_str(j, 2, true);
	again = fx_json(out);
	assert_true(cJSON_Compare(j, again, 1));
	cJSON_Delete(again);
	cJSON_Delete(j);
	free(out);
	/* (cJSON_Compare is exponential on nested objects: compare text) */
	j = fx_json(objects);
	out = write_str(j, 4, false);
	again = fx_json(out);
	out2 = write_str(again, 0, false);
	assert_string_equal(out2, objects);
	cJSON_Delete(again);
	cJSON_Delete(j);
	free(out);
	free(out2);
	parse_fails(deep, strlen(deep));
	free(arrays);
	free(objects);
	free(deep);
}

static void test_parse_large(void **state)
{
	struct buf b = BUF_INIT;
	struct kerr e = KERR_INIT;
	cJSON *j, *again;
	char *out;
	int i;

	(void)state;
	assert_int_equal(buf_addch(&b, '['), 0);
	for (i = 0; i < 100000; i++)
		assert_int_equal(buf_addf(&b, "%s{\"name\":\"pod-%d\",\"n\":%d,\"x\":%d.25}",
					  i ? "," : "", i, i, i), 0);
	assert_int_equal(buf_addch(&b, ']'), 0);
	j = json_parse(b.s, b.len, "big", &e);
	assert_non_null(j);
	assert_int_equal(cJSON_GetArraySize(j), 100000);
	assert_string_equal(json_str(j, "99999.name", NULL), "pod-99999");
	out = write_str(j, 0, false);
	assert_string_equal(out, b.s);
	again = fx_json(out);
	assert_true(cJSON_Compare(j, again, 1));
	cJSON_Delete(again);
	cJSON_Delete(j);
	free(out);
	buf_release(&b);
}

/* ---- json_write ---------------------------------------------------- */

static void test_write_compact(void **state)
{
	cJSON *j = fx_json("{ \"a\" : [ 1 , { \"b\" : null } ] , \"c\" : { } , \"d\" : [ ] , \"e\":\"\" }");

	(void)state;
	assert_writes(j, 0, false, "{\"a\":[1,{\"b\":null}],\"c\":{},\"d\":[],\"e\":\"\"}");
	cJSON_Delete(j);
}

static void test_write_indent(void **state)
{
	cJSON *j = fx_json("{\"a\":[1,{\"b\":null}],\"c\":{},\"d\":[],\"e\":true}");

	(void)state;
	assert_writes(j, 4, false,
		      "{\n"
		      "    \"a\": [\n"
		      "        1,\n"
		      "        {\n"
		      "            \"b\": null\n"
		      "        }\n"
		      "    ],\n"
		      "    \"c\": {},\n"
		      "    \"d\": [],\n"
		      "    \"e\": true\n"
		      "}");
	assert_writes(j, 1, false,
		      "{\n \"a\": [\n  1,\n  {\n   \"b\": null\n  }\n ],\n \"c\": {},\n \"d\": [],\n \"e\": true\n}");
	cJSON_Delete(j);
}

static void test_write_wide_indent(void **state)
{
	cJSON *j = fx_json("[[[1]]]");
	char want[125], *s;

	(void)state;
	s = write_str(j, 40, false);
	/* the innermost value sits 3 levels of 40 spaces deep */
	memset(want, ' ', 121);
	want[0] = '\n';
	memcpy(want + 121, "1\n", 3);
	assert_non_null(strstr(s, want));
	free(s);
	cJSON_Delete(j);
}

static void test_write_sorted(void **state)
{
	cJSON *j = fx_json("{\"b\":1,\"a\":{\"z\":1,\"y\":2,\"Z\":3},\"c\":[{\"k2\":1,\"k1\":2}],\"B\":0}");

	(void)state;
	assert_writes(j, 0, true, "{\"B\":0,\"a\":{\"Z\":3,\"y\":2,\"z\":1},\"b\":1,\"c\":[{\"k1\":2,\"k2\":1}]}");
	/* the tree itself is untouched */
	assert_writes(j, 0, false, "{\"b\":1,\"a\":{\"z\":1,\"y\":2,\"Z\":3},\"c\":[{\"k2\":1,\"k1\":2}],\"B\":0}");
	assert_string_equal(j->child->string, "b");
	cJSON_Delete(j);
}

static void test_write_escapes(void **state)
{
	cJSON *j = cJSON_CreateObject();

	(void)state;
	assert_non_null(cJSON_AddStringToObject(j, "k\"\n", "q\"b\\s/\n\r\t\b\f\x01\x1f\x7f \xc3\xa9\xe2\x82\xac"));
	assert_writes(j, 0, false,
		      "{\"k\\\"\\n\":\"q\\\"b\\\\s/\\n\\r\\t\\b\\f\\u0001\\u001f\x7f \xc3\xa9\xe2\x82\xac\"}");
	cJSON_Delete(j);
}

static void test_write_numbers(void **state)
{
	static const struct {
		double d;
		const char *want;
	} t[] = {
		{ 0, "0" }, { -0.0, "0" }, { 1, "1" }, { -42, "-42" },
		{ 9007199254740992.0, "9007199254740992" },
		{ -9007199254740992.0, "-9007199254740992" },
		{ 0.1, "0.1" }, { 1.5, "1.5" }, { -2.25, "-2.25" },
		{ 0.1 + 0.2, "0.30000000000000004" },
		{ 1e300, "1e+300" }, { 1.5e-7, "1.5e-07" },
		{ 123456.789, "123456.789" },
		{ 1e20, "1e+20" },
	};
	char *s, *end;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		cJSON *n = cJSON_CreateNumber(t[i].d);

		s = write_str(n, 0, false);
		assert_string_equal(s, t[i].want);
		assert_true(strtod(s, &end) == t[i].d && !*end);
		free(s);
		cJSON_Delete(n);
	}
}

static void test_write_nonfinite(void **state)
{
	cJSON *j = cJSON_CreateArray();

	(void)state;
	cJSON_AddItemToArray(j, cJSON_CreateNumber(NAN));
	cJSON_AddItemToArray(j, cJSON_CreateNumber(INFINITY));
	cJSON_AddItemToArray(j, cJSON_CreateNumber(-INFINITY));
	assert_writes(j, 0, false, "[null,null,null]");
	cJSON_Delete(j);
}

static void test_write_roundtrip(void **state)
{
	static const char *docs[] = {
		"{}", "[]", "\"\"", "0", "true", "null", "-1.25e-300",
		"{\"a\":{\"b\":{\"c\":[[],[{}],[1,\"two\",3.5,false,null]]}}}",
		"[\"\\u0000x\",\"\\u001b[0m\",\"\\ud83d\\ude00\",\"tab\\there\",\"\\\\\"]",
		"{\"\":\"empty key\",\" \":\"space\",\"k\":\"v\"}",
		"[9007199254740993,1e308,5e-324,123456789012345678901234567890]",
	};
	size_t i;
	int indent;

	(void)state;
	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		cJSON *j = fx_json(docs[i]);

		for (indent = 0; indent <= 4; indent += 2) {
			char *s = write_str(j, indent, indent == 2);
			cJSON *back = fx_json(s);

			assert_true(cJSON_Compare(j, back, 1));
			cJSON_Delete(back);
			free(s);
		}
		cJSON_Delete(j);
	}
}

static void test_write_appends(void **state)
{
	struct buf b = BUF_INIT;
	cJSON *j = fx_json("[1]");

	(void)state;
	assert_int_equal(buf_addstr(&b, "x="), 0);
	assert_int_equal(json_write(j, 0, false, &b, NULL), 0);
	assert_string_equal(b.s, "x=[1]");
	buf_release(&b);
	cJSON_Delete(j);
}

static void test_write_cap(void **state)
{
	struct buf b;
	struct kerr e = KERR_INIT;
	cJSON *j = fx_json("{\"aaaaaaaaaa\":\"bbbbbbbbbbbbbbbbbbbb\",\"c\":[1,2,3,4,5,6,7,8,9]}");

	(void)state;
	buf_init(&b, 20);
	assert_int_equal(buf_addstr(&b, "keep"), 0);
	assert_int_equal(json_write(j, 4, false, &b, &e), -1);
	assert_int_equal(e.kind, KERR_LIMIT);
	assert_string_equal(b.s, "keep");
	assert_int_equal(b.len, 4);
	buf_release(&b);
	cJSON_Delete(j);
}

static void test_write_invalid(void **state)
{
	struct buf b = BUF_INIT;
	struct kerr e = KERR_INIT;
	cJSON *j = cJSON_CreateArray(), *bad = cJSON_CreateNull();

	(void)state;
	bad->type = cJSON_Invalid;
	cJSON_AddItemToArray(j, cJSON_CreateNumber(1));
	cJSON_AddItemToArray(j, bad);
	assert_int_equal(json_write(j, 0, false, &b, &e), -1);
	assert_int_equal(e.kind, KERR_FAILED);
	assert_int_equal(b.len, 0);
	assert_int_equal(json_write(NULL, 0, false, &b, &e), -1);
	buf_release(&b);
	cJSON_Delete(j);
}

/* ---- base64 -------------------------------------------------------- */

static const struct {
	const char *plain, *enc;
} b64_vectors[] = {
	{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
};

static void test_b64_encode(void **state)
{
	struct buf b = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(b64_vectors) / sizeof(b64_vectors[0]); i++) {
		buf_reset(&b);
		assert_int_equal(b64_encode(b64_vectors[i].plain, strlen(b64_vectors[i].plain), &b, NULL), 0);
		assert_string_equal(b.s, b64_vectors[i].enc);
	}
	buf_reset(&b);
	assert_int_equal(b64_encode("\xff\xfe\x00\x01", 4, &b, NULL), 0);
	assert_string_equal(b.s, "//4AAQ==");
	buf_release(&b);
}

static void test_b64_decode(void **state)
{
	struct buf b = BUF_INIT;
	struct kerr e = KERR_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(b64_vectors) / sizeof(b64_vectors[0]); i++) {
		buf_reset(&b);
		assert_int_equal(b64_decode(b64_vectors[i].enc, strlen(b64_vectors[i].enc), "v", &b, &e), 0);
		assert_int_equal(b.len, strlen(b64_vectors[i].plain));
		assert_string_equal(b.s, b64_vectors[i].plain);
	}
	buf_reset(&b);
	assert_int_equal(b64_decode("//4AAQ==", 8, "v", &b, &e), 0);
	assert_int_equal(b.len, 4);
	assert_memory_equal(b.s, "\xff\xfe\x00\x01", 4);
	buf_release(&b);
}

static void test_b64_whitespace(void **state)
{
	static const char wrapped[] = "Zm9v\nYmFy\r\n  Zm9v\tYg=\n=\n";
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(b64_decode(wrapped, strlen(wrapped), "v", &b, NULL), 0);
	assert_string_equal(b.s, "foobarfoob");
	buf_reset(&b);
	assert_int_equal(b64_decode(" \n ", 3, "v", &b, NULL), 0);
	assert_int_equal(b.len, 0);
	buf_release(&b);
}

static void test_b64_garbage(void **state)
{
	static const char *bad[] = {
		"Zg", "Zg=", "Zm9", "Z", "Z===", "====", "=Zm9", "Zm=v", "Zm9v!", "Zm9-",
		"Zm9_", "Zg==Zg==", "Zg== Zm9v", "Zm9vY", "Zm9v\x80", "Zm9v\xc3\xa9",
		"Zm9v=", "Zm9v====", "Zg===", "Zm8==", "Z m 9", "%%%%", "data:Zm9v",
	};
	struct buf b = BUF_INIT;
	struct kerr e = KERR_INIT;
	size_t i;

	(void)state;
	assert_int_equal(buf_addstr(&b, "prefix"), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		kerr_clear(&e);
		if (b64_decode(bad[i], strlen(bad[i]), "client-key-data", &b, &e) != -1)
			fail_msg("accepted bad base64 '%s'", bad[i]);
		assert_int_equal(e.kind, KERR_PARSE);
		assert_string_equal(e.msg, "'client-key-data' is not valid base64");
		assert_string_equal(b.s, "prefix");
		assert_int_equal(b.len, 6);
	}
	/* a NUL inside is garbage too */
	assert_int_equal(b64_decode("Zm\0v", 4, "x", &b, &e), -1);
	assert_int_equal(b64_decode("Zm9v", 4, "x", &b, NULL), 0);
	assert_string_equal(b.s, "prefixfoo");
	buf_release(&b);
}

static void test_b64_roundtrip(void **state)
{
	struct buf enc = BUF_INIT, dec = BUF_INIT;
	unsigned char data[4099];
	size_t n, i;

	(void)state;
	for (i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 7919 + (i >> 3));
	for (n = 0; n < sizeof(data); n += n < 64 ? 1 : 509) {
		buf_reset(&enc);
		buf_reset(&dec);
		assert_int_equal(b64_encode(data, n, &enc, NULL), 0);
		assert_int_equal(enc.len, (n + 2) / 3 * 4);
		assert_int_equal(b64_decode(enc.s, enc.len, "rt", &dec, NULL), 0);
		assert_int_equal(dec.len, n);
		if (n)
			assert_memory_equal(dec.s, data, n);
	}
	buf_release(&enc);
	buf_release(&dec);
}

static void test_b64_cap(void **state)
{
	struct buf b;
	struct kerr e = KERR_INIT;

	(void)state;
	buf_init(&b, 4);
	assert_int_equal(b64_decode("Zm9vYmFy", 8, "x", &b, &e), -1);
	assert_int_equal(e.kind, KERR_LIMIT);
	assert_int_equal(b.len, 0);
	assert_int_equal(b64_encode("foobar", 6, &b, &e), -1);
	assert_int_equal(e.kind, KERR_LIMIT);
	assert_int_equal(b.len, 0);
	assert_int_equal(b64_encode("foo", 3, &b, &e), 0);
	assert_string_equal(b.s, "Zm9v");
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_paths),
		cmocka_unit_test(test_get_dotted_names),
		cmocka_unit_test(test_str_defaults),
		cmocka_unit_test(test_int),
		cmocka_unit_test(test_bool),
		cmocka_unit_test(test_set_creates),
		cmocka_unit_test(test_set_replaces),
		cmocka_unit_test(test_set_named_item),
		cmocka_unit_test(test_set_dotted_existing),
		cmocka_unit_test(test_set_fails),
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_exact_length),
		cmocka_unit_test(test_parse_truncated),
		cmocka_unit_test(test_parse_trailing),
		cmocka_unit_test(test_parse_invalid),
		cmocka_unit_test(test_parse_empty),
		cmocka_unit_test(test_parse_deep),
		cmocka_unit_test(test_parse_large),
		cmocka_unit_test(test_write_compact),
		cmocka_unit_test(test_write_indent),
		cmocka_unit_test(test_write_wide_indent),
		cmocka_unit_test(test_write_sorted),
		cmocka_unit_test(test_write_escapes),
		cmocka_unit_test(test_write_numbers),
		cmocka_unit_test(test_write_nonfinite),
		cmocka_unit_test(test_write_roundtrip),
		cmocka_unit_test(test_write_appends),
		cmocka_unit_test(test_write_cap),
		cmocka_unit_test(test_write_invalid),
		cmocka_unit_test(test_b64_encode),
		cmocka_unit_test(test_b64_decode),
		cmocka_unit_test(test_b64_whitespace),
		cmocka_unit_test(test_b64_garbage),
		cmocka_unit_test(test_b64_roundtrip),
		cmocka_unit_test(test_b64_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
