/* json.c — paths and JSON text; see json.h. */
#include "json.h"
#include "json_internal.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- paths ---------------------------------------------------------- */

/* The member `name` (n bytes, not terminated) of an object, or the element
 * at that decimal index of an array. */
cJSON *json_child_named(const cJSON *node, const char *name, size_t n)
{
	cJSON *c;

	if (cJSON_IsObject(node)) {
		for (c = node->child; c; c = c->next)
			if (c->string && !strncmp(c->string, name, n) && c->string[n] == '\0')
				return c;
	} else if (cJSON_IsArray(node)) {
		size_t i, idx = 0;

		if (!n || n > 9)
			return NULL;
		for (i = 0; i < n; i++) {
			if (name[i] < '0' || name[i] > '9')
				return NULL;
			idx = idx * 10 + (size_t)(name[i] - '0');
		}
		for (c = node->child; c && idx; c = c->next)
			idx--;
		return c;
	}
	return NULL;
}

/*
 * At each level the whole rest of the path is tried as one member name
 * first, so "metadata.annotations.kubectl.kubernetes.io/restartedAt"
 * finds the annotation whose name contains dots.
 */
cJSON *json_get(const cJSON *root, const char *path)
{
	const cJSON *cur = root, *whole;
	const char *p = path, *dot;

	if (!root || !path || !*path)
		return (cJSON *)root;
	for (;;) {
		dot = strchr(p, '.');
		if (dot && cJSON_IsObject(cur) && (whole = json_child_named(cur, p, strlen(p))))
			return (cJSON *)whole;
		cur = json_child_named(cur, p, dot ? (size_t)(dot - p) : strlen(p));
		if (!cur || !dot)
			return (cJSON *)cur;
		p = dot + 1;
	}
}

const char *json_str(const cJSON *root, const char *path, const char *def)
{
	const cJSON *v = json_get(root, path);

	return cJSON_IsString(v) && v->valuestring ? v->valuestring : def;
}

long long json_int(const cJSON *root, const char *path, long long def)
{
	const cJSON *v = json_get(root, path);

	if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;

		if (!isfinite(d) || d != floor(d) || d < -9223372036854775808.0 ||
		    d >= 9223372036854775808.0)
			return def;
		return (long long)d;
	}
	if (cJSON_IsString(v) && v->valuestring) {
		const char *s = v->valuestring;
		char *end;
		long long r;

		if (!*s || !(*s == '-' || *s == '+' || (*s >= '0' && *s <= '9')))
			return def;
		errno = 0;
		r = strtoll(s, &end, 10);
		if (errno || *end)
			return def;
		return r;
	}
	return def;
}

bool json_bool(const cJSON *root, const char *path, bool def)
{
	const cJSON *v = json_get(root, path);

	return cJSON_IsBool(v) ? cJSON_IsTrue(v) : def;
}

/* Make `item` the member `key` (taken) of `obj`, replacing any member of
 * that name. Takes `item` and `key` in every case. */
static int set_member(cJSON *obj, char *key, cJSON *item)
{
	cJSON *old = json_child_named(obj, key, strlen(key));

	if (item->string && !(item->type & cJSON_StringIsConst))
		free(item->string);
	item->type &= ~cJSON_StringIsConst;
	item->string = key;
	if (old) {
		if (cJSON_ReplaceItemViaPointer(obj, old, item))
			return 0;
		cJSON_Delete(item);
		return -1;
	}
	/* objects and arrays share the child list: append keeping the name */
	cJSON_AddItemToArray(obj, item);
	return 0;
}

int json_set(cJSON *root, const char *path, cJSON *item)
{
	cJSON *cur = root, *next;
	const char *p = path, *dot;
	char *key;

	if (!item)
		return -1;
	if (!cJSON_IsObject(root) || !path || !*path)
		goto fail;
	while ((dot = strchr(p, '.'))) {
		/* an existing member named by the rest of the path, as json_get() */
		if (cJSON_IsObject(cur) && json_child_named(cur, p, strlen(p)))
			break;
		next = json_child_named(cur, p, (size_t)(dot - p));
		if (!next) {
			if (!cJSON_IsObject(cur) || !(next = cJSON_CreateObject()))
				goto fail;
			if (!(key = strndup(p, (size_t)(dot - p)))) {
				cJSON_Delete(next);
				goto fail;
			}
			if (set_member(cur, key, next))
				goto fail;
		} else if (!cJSON_IsObject(next) && !cJSON_IsArray(next)) {
			goto fail;
		}
		cur = next;
		p = dot + 1;
	}
	if (cJSON_IsArray(cur)) {
		next = json_child_named(cur, p, strlen(p));
		if (!next || !cJSON_ReplaceItemViaPointer(cur, next, item))
			goto fail;
		return 0;
	}
	if (!(key = strdup(p)))
		goto fail;
	return set_member(cur, key, item);
fail:
	cJSON_Delete(item);
	return -1;
}

int json_set_str(cJSON *root, const char *path, const char *value)
{
	cJSON *v = value ? cJSON_CreateString(value) : cJSON_CreateNull();

	return v ? json_set(root, path, v) : -1;
}

/* ---- JSON text ------------------------------------------------------- */

int json_digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return 99;
}

/*
 * cJSON lets some broken strings through ("\u00zz" becomes a NUL, raw
 * control characters are kept): the offset of the first bad byte inside a
 * string, or `len` when the strings are fine.
 */
static size_t bad_string_at(const char *t, size_t len)
{
	bool in = false;
	size_t i, k;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)t[i];

		if (!in) {
			in = c == '"';
			continue;
		}
		if (c == '"') {
			in = false;
		} else if (c < 0x20) {
			return i;
		} else if (c == '\\') {
			if (++i == len)
				return len;
			if (t[i] == 'u') {
				for (k = 1; k <= 4; k++)
					if (i + k >= len || json_digit_value(t[i + k]) > 15)
						return i + k < len ? i + k : len;
				i += 4;
			} else if (!strchr("\"\\/bfnrt", t[i]) || !t[i]) {
				return i;
			}
		}
	}
	return len;
}

cJSON *json_parse(const char *text, size_t len, const char *what, struct kerr *e)
{
	const char *end = NULL;
	size_t i, bad;
	cJSON *root;

	if (!what)
		what = "input";
	for (i = 0; i < len; i++)
		if (!text[i] || !strchr(" \t\r\n", text[i]))
			break;
	if (i == len) {
		kerr_set(e, KERR_PARSE, "%s is not valid JSON: it is empty", what);
		return NULL;
	}
	bad = bad_string_at(text, len);
	root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (!root || bad < len) {
		size_t at = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;

		cJSON_Delete(root);
		if (bad < len && (root || bad < at))
			at = bad;
		kerr_set(e, KERR_PARSE, "%s is not valid JSON near byte %zu", what, at);
		return NULL;
	}
	for (i = (size_t)(end - text); i < len; i++) {
		if (!text[i] || !strchr(" \t\r\n", text[i])) {
			cJSON_Delete(root);
			kerr_set(e, KERR_PARSE,
				 "%s is not valid JSON near byte %zu: unexpected data after the value",
				 what, i);
			return NULL;
		}
	}
	return root;
}

/* Shortest of %.15g..%.17g that reads back as the same double; integers
 * that a double holds exactly are printed without a decimal point. */
void json_format_number(double d, char *out, size_t n)
{
	int prec;

	if (d == floor(d) && fabs(d) <= 9007199254740992.0) {
		snprintf(out, n, "%lld", (long long)d);
		return;
	}
	for (prec = 15; prec < 17; prec++) {
		snprintf(out, n, "%.*g", prec, d);
		if (strtod(out, NULL) == d)
			return;
	}
	snprintf(out, n, "%.17g", d);
}

/* Member order for `sorted` output: by name, stable among equal names. */

static int member_cmp(const void *a, const void *b)
{
	const struct member *x = a, *y = b;
	int r = strcmp(x->item->string ? x->item->string : "",
		       y->item->string ? y->item->string : "");

	if (r)
		return r;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* The children of `node` in output order (NULL with *n = 0 when empty).
 * Returns -1 when out of memory. */
int json_members(const cJSON *node, bool sorted, struct member **out, size_t *n)
{
	const cJSON *c;
	struct member *m;
	size_t i = 0;

	*out = NULL;
	*n = 0;
	for (c = node->child; c; c = c->next)
		i++;
	if (!i)
		return 0;
	if (!(m = calloc(i, sizeof(*m))))
		return -1;
	for (i = 0, c = node->child; c; c = c->next, i++) {
		m[i].item = c;
		m[i].idx = i;
	}
	if (sorted)
		qsort(m, i, sizeof(*m), member_cmp);
	*out = m;
	*n = i;
	return 0;
}


static int put_indent(struct buf *b, int indent, int level)
{
	static const char spaces[] = "                                ";
	size_t n = (size_t)indent * (size_t)level, k;

	if (buf_addch(b, '\n'))
		return -1;
	while (n) {
		k = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;
		if (buf_add(b, spaces, k))
			return -1;
		n -= k;
	}
	return 0;
}

static int put_string(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *run;
	char esc[8];

	if (buf_addch(b, '"'))
		return -1;
	while (*p) {
		for (run = p; *p >= 0x20 && *p != '"' && *p != '\\'; p++)
			;
		if (p > run && buf_add(b, run, (size_t)(p - run)))
			return -1;
		if (!*p)
			break;
		switch (*p) {
		case '"': memcpy(esc, "\\\"", 3); break;
		case '\\': memcpy(esc, "\\\\", 3); break;
		case '\b': memcpy(esc, "\\b", 3); break;
		case '\f': memcpy(esc, "\\f", 3); break;
		case '\n': memcpy(esc, "\\n", 3); break;
		case '\r': memcpy(esc, "\\r", 3); break;
		case '\t': memcpy(esc, "\\t", 3); break;
		default: snprintf(esc, sizeof(esc), "\\u%04x", *p); break;
		}
		if (buf_addstr(b, esc))
			return -1;
		p++;
	}
	return buf_addch(b, '"');
}

static int put_json(struct buf *b, const cJSON *item, int indent, bool sorted, int level)
{
	char num[64];
	struct member *m;
	size_t n, i;
	bool obj;
	int r = 0;

	if (level > WRITE_MAX_DEPTH)
		return WERR_DEPTH;
	switch (item->type & 0xff) {
	case cJSON_NULL:
		return buf_addstr(b, "null");
	case cJSON_False:
		return buf_addstr(b, "false");
	case cJSON_True:
		return buf_addstr(b, "true");
	case cJSON_Number:
		if (!isfinite(item->valuedouble))
			return buf_addstr(b, "null");
		json_format_number(item->valuedouble, num, sizeof(num));
		return buf_addstr(b, num);
	case cJSON_String:
		return put_string(b, item->valuestring ? item->valuestring : "");
	case cJSON_Raw:
		return item->valuestring ? buf_addstr(b, item->valuestring) : WERR_INVALID;
	case cJSON_Array:
	case cJSON_Object:
		break;
	default:
		return WERR_INVALID;
	}
	obj = cJSON_IsObject(item);
	if (json_members(item, obj && sorted, &m, &n))
		return WERR_BUF;
	if (buf_addch(b, obj ? '{' : '['))
		goto fail;
	for (i = 0; i < n; i++) {
		if (i && buf_addch(b, ','))
			goto fail;
		if (indent && put_indent(b, indent, level + 1))
			goto fail;
		if (obj) {
			if (put_string(b, m[i].item->string ? m[i].item->string : "") ||
			    buf_addstr(b, indent ? ": " : ":"))
				goto fail;
		}
		if ((r = put_json(b, m[i].item, indent, sorted, level + 1)))
			goto out;
	}
	if (n && indent && put_indent(b, indent, level))
		goto fail;
	if (buf_addch(b, obj ? '}' : ']'))
		goto fail;
	goto out;
fail:
	r = WERR_BUF;
out:
	free(m);
	return r;
}

/* Report a failed append to `out` (errno from buf.c). */
int json_buf_error(struct kerr *e, int err, const char *doing)
{
	if (err == EFBIG)
		return kerr_set(e, KERR_LIMIT, "%s: output exceeds the size limit", doing);
	return kerr_set(e, KERR_NOMEM, "%s: out of memory", doing);
}

/* Undo a partial append. */
void json_buf_truncate(struct buf *b, size_t len)
{
	if (b->len > len) {
		b->len = len;
		b->s[len] = '\0';
	}
}

int json_write(const cJSON *item, int indent, bool sorted, struct buf *out, struct kerr *e)
{
	size_t start = out->len;
	int r;

	if (!item)
		return kerr_set(e, KERR_FAILED, "cannot write JSON: no value");
	if (indent < 0)
		indent = 0;
	r = put_json(out, item, indent, sorted, 0);
	if (!r)
		return 0;
	r = r == WERR_BUF ? json_buf_error(e, errno, "cannot write JSON") :
	    r == WERR_DEPTH ? kerr_set(e, KERR_LIMIT, "cannot write JSON: nested too deeply") :
	    kerr_set(e, KERR_FAILED, "cannot write JSON: invalid value in the tree");
	json_buf_truncate(out, start);
	return r;
}
