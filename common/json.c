/* json.c — see json.h. */
#include "json.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* Deepest nesting yaml_parse() builds (cJSON's own parser stops at 1000). */
#define YAML_MAX_DEPTH 1000
/* Deepest tree the writers walk (they recurse). */
#define WRITE_MAX_DEPTH 10000
/*
 * Alias expansion is a deep copy, so a few lines of anchors can ask for
 * billions of nodes. Copies are free up to this many nodes, then may not
 * outnumber the nodes actually written in the text by more than ALIAS_RATIO.
 */
#define ALIAS_FREE_NODES 400000
#define ALIAS_RATIO 10

#define TAG_PREFIX "tag:yaml.org,2002:"

/* ---- paths ---------------------------------------------------------- */

/* The member `name` (n bytes, not terminated) of an object, or the element
 * at that decimal index of an array. */
static cJSON *child_named(const cJSON *node, const char *name, size_t n)
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
		if (dot && cJSON_IsObject(cur) && (whole = child_named(cur, p, strlen(p))))
			return (cJSON *)whole;
		cur = child_named(cur, p, dot ? (size_t)(dot - p) : strlen(p));
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
	cJSON *old = child_named(obj, key, strlen(key));

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
		if (cJSON_IsObject(cur) && child_named(cur, p, strlen(p)))
			break;
		next = child_named(cur, p, (size_t)(dot - p));
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
		next = child_named(cur, p, strlen(p));
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

static int digit_value(char c)
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
					if (i + k >= len || digit_value(t[i + k]) > 15)
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
static void format_number(double d, char *out, size_t n)
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
struct member {
	const cJSON *item;
	size_t idx;
};

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
static int members(const cJSON *node, bool sorted, struct member **out, size_t *n)
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

enum { WERR_BUF = -1, WERR_INVALID = -2, WERR_DEPTH = -3 };

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
		format_number(item->valuedouble, num, sizeof(num));
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
	if (members(item, obj && sorted, &m, &n))
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
static int buf_error(struct kerr *e, int err, const char *doing)
{
	if (err == EFBIG)
		return kerr_set(e, KERR_LIMIT, "%s: output exceeds the size limit", doing);
	return kerr_set(e, KERR_NOMEM, "%s: out of memory", doing);
}

/* Undo a partial append. */
static void buf_truncate(struct buf *b, size_t len)
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
	r = r == WERR_BUF ? buf_error(e, errno, "cannot write JSON") :
	    r == WERR_DEPTH ? kerr_set(e, KERR_LIMIT, "cannot write JSON: nested too deeply") :
	    kerr_set(e, KERR_FAILED, "cannot write JSON: invalid value in the tree");
	buf_truncate(out, start);
	return r;
}

/* ---- YAML scalars ---------------------------------------------------- */

enum plain_kind { PK_STR, PK_NULL, PK_BOOL, PK_INT, PK_FLOAT };

static const struct {
	const char *word;
	enum plain_kind kind;
	int val; /* bool: 0/1; float: 1 = +inf, -1 = -inf, 0 = nan */
} plain_words[] = {
	{ "~", PK_NULL, 0 }, { "null", PK_NULL, 0 }, { "Null", PK_NULL, 0 }, { "NULL", PK_NULL, 0 },
	{ "y", PK_BOOL, 1 }, { "Y", PK_BOOL, 1 },
	{ "yes", PK_BOOL, 1 }, { "Yes", PK_BOOL, 1 }, { "YES", PK_BOOL, 1 },
	{ "true", PK_BOOL, 1 }, { "True", PK_BOOL, 1 }, { "TRUE", PK_BOOL, 1 },
	{ "on", PK_BOOL, 1 }, { "On", PK_BOOL, 1 }, { "ON", PK_BOOL, 1 },
	{ "n", PK_BOOL, 0 }, { "N", PK_BOOL, 0 },
	{ "no", PK_BOOL, 0 }, { "No", PK_BOOL, 0 }, { "NO", PK_BOOL, 0 },
	{ "false", PK_BOOL, 0 }, { "False", PK_BOOL, 0 }, { "FALSE", PK_BOOL, 0 },
	{ "off", PK_BOOL, 0 }, { "Off", PK_BOOL, 0 }, { "OFF", PK_BOOL, 0 },
	{ ".nan", PK_FLOAT, 0 }, { ".NaN", PK_FLOAT, 0 }, { ".NAN", PK_FLOAT, 0 },
	{ ".inf", PK_FLOAT, 1 }, { ".Inf", PK_FLOAT, 1 }, { ".INF", PK_FLOAT, 1 },
	{ "+.inf", PK_FLOAT, 1 }, { "+.Inf", PK_FLOAT, 1 }, { "+.INF", PK_FLOAT, 1 },
	{ "-.inf", PK_FLOAT, -1 }, { "-.Inf", PK_FLOAT, -1 }, { "-.INF", PK_FLOAT, -1 },
};

/* An integer the way Go's strconv.ParseInt/ParseUint(s, 0, 64) take it:
 * optional sign, then 0x/0o/0b or a leading 0 (octal), or decimal. */
static bool parse_int(const char *s, double *out)
{
	unsigned long long mag = 0;
	bool neg = false;
	int base = 10, d;

	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	} else if (s[0] == '0' && (s[1] == 'o' || s[1] == 'O')) {
		base = 8;
		s += 2;
	} else if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B')) {
		base = 2;
		s += 2;
	} else if (s[0] == '0' && s[1]) {
		base = 8;
		s++;
	}
	if (!*s)
		return false;
	for (; *s; s++) {
		d = digit_value(*s);
		if (d >= base)
			return false;
		if (mag > (ULLONG_MAX - (unsigned)d) / (unsigned)base)
			return false;
		mag = mag * (unsigned)base + (unsigned)d;
	}
	/* int64 when negative, uint64 otherwise */
	if (neg && mag > 9223372036854775808ULL)
		return false;
	*out = neg ? -(double)mag : (double)mag;
	return true;
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool float_syntax(const char *s)
{
	const char *d;

	if (*s == '+' || *s == '-')
		s++;
	if (*s == '.') {
		for (d = ++s; *s >= '0' && *s <= '9'; s++)
			;
		if (s == d)
			return false;
	} else {
		for (d = s; *s >= '0' && *s <= '9'; s++)
			;
		if (s == d)
			return false;
		if (*s == '.')
			for (s++; *s >= '0' && *s <= '9'; s++)
				;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		for (d = s; *s >= '0' && *s <= '9'; s++)
			;
		if (s == d)
			return false;
	}
	return !*s;
}

/*
 * What a plain (unquoted, untagged) scalar means, the way go-yaml v2 (and so
 * Kubernetes) resolves it: null, bool, int, float, or else a string.
 */
static enum plain_kind resolve_plain(const char *s, double *num, bool *bval)
{
	char tmp[256];
	size_t i, n = 0;

	if (!*s)
		return PK_NULL;
	for (i = 0; i < sizeof(plain_words) / sizeof(plain_words[0]); i++) {
		if (strcmp(s, plain_words[i].word))
			continue;
		if (plain_words[i].kind == PK_BOOL)
			*bval = plain_words[i].val;
		else if (plain_words[i].kind == PK_FLOAT)
			*num = plain_words[i].val ? plain_words[i].val * HUGE_VAL : NAN;
		return plain_words[i].kind;
	}
	if (!strchr("+-.0123456789", *s))
		return PK_STR;
	/* go-yaml drops every '_' first, except after a leading '.' */
	for (i = 0; s[i]; i++) {
		if (s[i] == '_' && *s != '.')
			continue;
		if (n == sizeof(tmp) - 1)
			return PK_STR;
		tmp[n++] = s[i];
	}
	tmp[n] = '\0';
	if (*s != '.' && parse_int(tmp, num))
		return PK_INT;
	if (float_syntax(tmp)) {
		errno = 0;
		*num = strtod(tmp, NULL);
		if (errno == ERANGE && isinf(*num))
			return PK_STR; /* ParseFloat refuses overflow */
		return PK_FLOAT;
	}
	return PK_STR;
}

/* go-yaml v2 quotes YAML 1.1 base-60 numbers ("1:20") for other readers. */
static bool base60_like(const char *s)
{
	bool colon = false;

	if (*s == '+' || *s == '-')
		s++;
	if (*s < '0' || *s > '9')
		return false;
	while ((*s >= '0' && *s <= '9') || *s == '_')
		s++;
	while (*s == ':') {
		s++;
		if (*s < '0' || *s > '9')
			return false;
		if (s[1] >= '0' && s[1] <= '9') {
			if (*s > '5')
				return false;
			s++;
		}
		s++;
		colon = true;
	}
	if (*s == '.')
		for (s++; (*s >= '0' && *s <= '9') || *s == '_'; s++)
			;
	return colon && !*s;
}

/* ---- YAML reading ---------------------------------------------------- */

struct anchor {
	char *name;
	cJSON *node;  /* a private copy: the tree's own node may be replaced */
	size_t nodes; /* how many nodes a copy costs */
	size_t depth;
};

struct frame {
	cJSON *node;  /* the object or array being filled */
	char *anchor; /* registered when the node is complete */
	char *key;    /* mappings: the member name waiting for its value */
	bool have_key, merge_key;
	cJSON *merge; /* members brought in by "<<", added at the end */
	cJSON **tab;  /* member names hashed, once a mapping grows large */
	size_t tabcap, n;
};

struct yp {
	const char *what;
	struct kerr *e;
	struct frame *st;
	size_t depth, cap;
	struct anchor *anchors;
	size_t nanchors, acap;
	cJSON *root;
	size_t nodes;  /* written in the text */
	size_t copied; /* produced by anchors and aliases */
	yaml_mark_t mark;
};

static int yp_error(struct yp *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int yp_error(struct yp *p, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return kerr_set(p->e, KERR_PARSE, "%s is not valid YAML at line %zu, column %zu: %s",
			p->what, p->mark.line + 1, p->mark.column + 1, msg);
}

static int yp_nomem(struct yp *p)
{
	return kerr_set(p->e, KERR_NOMEM, "cannot read %s: out of memory", p->what);
}

static void tree_size(const cJSON *n, size_t level, size_t *count, size_t *depth)
{
	const cJSON *c;

	++*count;
	if (level > *depth)
		*depth = level;
	for (c = n->child; c; c = c->next)
		tree_size(c, level + 1, count, depth);
}

static void clear_anchors(struct yp *p)
{
	size_t i;

	for (i = 0; i < p->nanchors; i++) {
		free(p->anchors[i].name);
		cJSON_Delete(p->anchors[i].node);
	}
	p->nanchors = 0;
}

static struct anchor *find_anchor(struct yp *p, const char *name)
{
	size_t i;

	for (i = p->nanchors; i--;)
		if (!strcmp(p->anchors[i].name, name))
			return &p->anchors[i];
	return NULL;
}

/* Charge `n` copied nodes against the alias budget. */
static int charge_copy(struct yp *p, size_t n)
{
	if (p->copied + n > ALIAS_FREE_NODES &&
	    p->copied + n > ALIAS_RATIO * (p->nodes > 1 ? p->nodes : 1))
		return yp_error(p, "aliases expand to too many nodes");
	p->copied += n;
	return 0;
}

static int add_anchor(struct yp *p, const char *name, const cJSON *node)
{
	struct anchor a = { NULL, NULL, 0, 0 }, *old;

	tree_size(node, 1, &a.nodes, &a.depth);
	if (charge_copy(p, a.nodes))
		return -1;
	if (!(a.node = cJSON_Duplicate(node, 1)))
		return yp_nomem(p);
	if ((old = find_anchor(p, name))) {
		cJSON_Delete(old->node);
		old->node = a.node;
		old->nodes = a.nodes;
		old->depth = a.depth;
		return 0;
	}
	if (p->nanchors == p->acap) {
		size_t cap = p->acap ? p->acap * 2 : 8;
		struct anchor *na = realloc(p->anchors, cap * sizeof(*na));

		if (!na)
			goto nomem;
		p->anchors = na;
		p->acap = cap;
	}
	if (!(a.name = strdup(name)))
		goto nomem;
	p->anchors[p->nanchors++] = a;
	return 0;
nomem:
	cJSON_Delete(a.node);
	return yp_nomem(p);
}

/* The member name a scalar key node stands for (Kubernetes' conversion:
 * true -> "true", 0x10 -> "16", ~ -> "null"). */
static char *key_string(struct yp *p, const cJSON *k)
{
	char num[64];
	const char *s;
	char *r;

	if (cJSON_IsString(k)) {
		s = k->valuestring;
	} else if (cJSON_IsBool(k)) {
		s = cJSON_IsTrue(k) ? "true" : "false";
	} else if (cJSON_IsNull(k)) {
		s = "null";
	} else if (cJSON_IsNumber(k)) {
		if (isnan(k->valuedouble))
			s = ".nan";
		else if (isinf(k->valuedouble))
			s = k->valuedouble > 0 ? ".inf" : "-.inf";
		else {
			format_number(k->valuedouble, num, sizeof(num));
			s = num;
		}
	} else {
		yp_error(p, "mapping keys must be scalars");
		return NULL;
	}
	if (!(r = strdup(s)))
		yp_nomem(p);
	return r;
}

/* Move the members of mapping `src` into `dst`; names already in `dst` win. */
static void take_members(cJSON *dst, cJSON *src)
{
	cJSON *c;

	while ((c = src->child)) {
		cJSON_DetachItemViaPointer(src, c);
		if (c->string && !child_named(dst, c->string, strlen(c->string)))
			cJSON_AddItemToArray(dst, c);
		else
			cJSON_Delete(c);
	}
}

/* "<<: *a" or "<<: [*a, *b]": earlier sources win over later ones, and the
 * mapping's own members over all of them (applied at the mapping's end). */
static int merge_value(struct yp *p, struct frame *f, cJSON *v)
{
	cJSON *c;

	if (cJSON_IsArray(v)) {
		for (c = v->child; c; c = c->next)
			if (!cJSON_IsObject(c))
				goto bad;
	} else if (!cJSON_IsObject(v)) {
		goto bad;
	}
	if (!f->merge && !(f->merge = cJSON_CreateObject())) {
		cJSON_Delete(v);
		return yp_nomem(p);
	}
	if (cJSON_IsArray(v))
		for (c = v->child; c; c = c->next)
			take_members(f->merge, c);
	else
		take_members(f->merge, v);
	cJSON_Delete(v);
	return 0;
bad:
	cJSON_Delete(v);
	return yp_error(p, "a merge key '<<' needs a mapping or a sequence of mappings");
}

/* Duplicate keys are looked for on every member: hash them in big mappings. */
#define HASH_FROM 32

static size_t name_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return (size_t)h;
}

static cJSON **tab_slot(struct frame *f, const char *key)
{
	size_t i = name_hash(key) & (f->tabcap - 1);

	while (f->tab[i] && strcmp(f->tab[i]->string, key))
		i = (i + 1) & (f->tabcap - 1);
	return &f->tab[i];
}

static int tab_rebuild(struct frame *f, size_t cap)
{
	cJSON **t = calloc(cap, sizeof(*t)), *c;

	if (!t)
		return -1;
	free(f->tab);
	f->tab = t;
	f->tabcap = cap;
	for (c = f->node->child; c; c = c->next)
		*tab_slot(f, c->string) = c;
	return 0;
}

static cJSON *frame_find(struct frame *f, const char *key)
{
	return f->tab ? *tab_slot(f, key) : child_named(f->node, key, strlen(key));
}

/* Set member `key` (taken) of the mapping being built to `v` (taken); the
 * last of duplicate keys wins. */
static int frame_set(struct yp *p, struct frame *f, char *key, cJSON *v)
{
	cJSON **slot = NULL, *old;

	if ((!f->tab && f->n >= HASH_FROM && tab_rebuild(f, 4 * HASH_FROM)) ||
	    (f->tab && (f->n + 1) * 2 > f->tabcap && tab_rebuild(f, 2 * f->tabcap))) {
		free(key);
		cJSON_Delete(v);
		return yp_nomem(p);
	}
	if (f->tab) {
		slot = tab_slot(f, key);
		old = *slot;
	} else {
		old = child_named(f->node, key, strlen(key));
	}
	if (v->string && !(v->type & cJSON_StringIsConst))
		free(v->string);
	v->type &= ~cJSON_StringIsConst;
	v->string = key;
	if (old) {
		cJSON_ReplaceItemViaPointer(f->node, old, v);
	} else {
		cJSON_AddItemToArray(f->node, v);
		f->n++;
	}
	if (slot)
		*slot = v;
	return 0;
}

/* Put a complete node where it belongs: document root, sequence element,
 * mapping key or mapping value. Takes `v`. */
static int attach(struct yp *p, cJSON *v, bool is_merge)
{
	struct frame *f;
	char *key;

	if (!p->depth) {
		cJSON_Delete(p->root);
		p->root = v;
		return 0;
	}
	f = &p->st[p->depth - 1];
	if (cJSON_IsArray(f->node)) {
		cJSON_AddItemToArray(f->node, v);
		return 0;
	}
	if (!f->have_key) {
		f->key = key_string(p, v);
		cJSON_Delete(v);
		if (!f->key)
			return -1;
		f->have_key = true;
		f->merge_key = is_merge;
		return 0;
	}
	key = f->key;
	f->key = NULL;
	f->have_key = false;
	if (f->merge_key) {
		free(key);
		return merge_value(p, f, v);
	}
	return frame_set(p, f, key, v);
}

static bool tag_is(const char *tag, const char *name)
{
	return tag && !strncmp(tag, TAG_PREFIX, sizeof(TAG_PREFIX) - 1) &&
	       !strcmp(tag + sizeof(TAG_PREFIX) - 1, name);
}

static cJSON *scalar_node(struct yp *p, const yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;
	const char *tag = (const char *)ev->data.scalar.tag;
	bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	enum plain_kind want = PK_STR, kind;
	double num = 0;
	bool bval = false;
	cJSON *v;

	if (tag && !strncmp(tag, TAG_PREFIX, sizeof(TAG_PREFIX) - 1)) {
		/* !!str, !!binary, !!timestamp, ...: the text as it is */
		if (tag_is(tag, "null"))
			want = PK_NULL;
		else if (tag_is(tag, "bool"))
			want = PK_BOOL;
		else if (tag_is(tag, "int"))
			want = PK_INT;
		else if (tag_is(tag, "float"))
			want = PK_FLOAT;
		kind = want == PK_STR ? PK_STR : resolve_plain(s, &num, &bval);
		if (kind == PK_INT && want == PK_FLOAT)
			kind = PK_FLOAT;
		if (kind != want) {
			yp_error(p, "cannot read '%.64s' as %s", s, tag + sizeof(TAG_PREFIX) - 1);
			return NULL;
		}
	} else if (!plain || (tag && !strcmp(tag, "!"))) {
		kind = PK_STR;
	} else {
		/* untagged, or an application's own tag: resolved as plain */
		kind = resolve_plain(s, &num, &bval);
	}
	switch (kind) {
	case PK_NULL: v = cJSON_CreateNull(); break;
	case PK_BOOL: v = cJSON_CreateBool(bval); break;
	case PK_INT:
	case PK_FLOAT: v = cJSON_CreateNumber(num); break;
	default: v = cJSON_CreateString(s); break;
	}
	if (!v)
		yp_nomem(p);
	return v;
}

static int push(struct yp *p, cJSON *node, const yaml_char_t *anchor)
{
	struct frame *f;

	if (p->depth == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct frame *ns = realloc(p->st, cap * sizeof(*ns));

		if (!ns)
			goto nomem;
		p->st = ns;
		p->cap = cap;
	}
	f = &p->st[p->depth];
	memset(f, 0, sizeof(*f));
	if (anchor && !(f->anchor = strdup((const char *)anchor)))
		goto nomem;
	f->node = node;
	p->depth++;
	return 0;
nomem:
	cJSON_Delete(node);
	return yp_nomem(p);
}

static int start_collection(struct yp *p, const yaml_event_t *ev, bool map)
{
	struct frame *f = p->depth ? &p->st[p->depth - 1] : NULL;
	cJSON *node;

	if (f && cJSON_IsObject(f->node) && !f->have_key)
		return yp_error(p, "mapping keys must be scalars");
	if (p->depth >= YAML_MAX_DEPTH)
		return yp_error(p, "nested more than %d levels deep", YAML_MAX_DEPTH);
	p->nodes++;
	if (!(node = map ? cJSON_CreateObject() : cJSON_CreateArray()))
		return yp_nomem(p);
	return push(p, node, map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor);
}

static int end_collection(struct yp *p)
{
	struct frame f = p->st[--p->depth];
	cJSON *c;
	int r = 0;

	if (f.merge) {
		while ((c = f.merge->child)) {
			cJSON_DetachItemViaPointer(f.merge, c);
			if (frame_find(&f, c->string))
				cJSON_Delete(c);
			else
				cJSON_AddItemToArray(f.node, c);
		}
		cJSON_Delete(f.merge);
	}
	free(f.key);
	free(f.tab);
	if (f.anchor)
		r = add_anchor(p, f.anchor, f.node);
	free(f.anchor);
	if (r) {
		cJSON_Delete(f.node);
		return r;
	}
	return attach(p, f.node, false);
}

static int on_event(struct yp *p, const yaml_event_t *ev, cJSON *docs)
{
	struct anchor *a;
	cJSON *v;

	switch (ev->type) {
	case YAML_DOCUMENT_END_EVENT:
		/* documents that are empty (or only "null") are skipped */
		if (p->root && !cJSON_IsNull(p->root))
			cJSON_AddItemToArray(docs, p->root);
		else
			cJSON_Delete(p->root);
		p->root = NULL;
		clear_anchors(p);
		return 0;
	case YAML_SCALAR_EVENT: {
		const char *tag = (const char *)ev->data.scalar.tag;
		bool merge = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
			     (!tag || tag_is(tag, "merge")) &&
			     !strcmp((const char *)ev->data.scalar.value, "<<");

		p->nodes++;
		if (!(v = scalar_node(p, ev)))
			return -1;
		if (ev->data.scalar.anchor &&
		    add_anchor(p, (const char *)ev->data.scalar.anchor, v)) {
			cJSON_Delete(v);
			return -1;
		}
		return attach(p, v, merge);
	}
	case YAML_ALIAS_EVENT:
		if (!(a = find_anchor(p, (const char *)ev->data.alias.anchor)))
			return yp_error(p, "found undefined alias '%s'", ev->data.alias.anchor);
		if (p->depth + a->depth > YAML_MAX_DEPTH)
			return yp_error(p, "nested more than %d levels deep", YAML_MAX_DEPTH);
		p->nodes++;
		if (charge_copy(p, a->nodes))
			return -1;
		if (!(v = cJSON_Duplicate(a->node, 1)))
			return yp_nomem(p);
		return attach(p, v, false);
	case YAML_MAPPING_START_EVENT:
		return start_collection(p, ev, true);
	case YAML_SEQUENCE_START_EVENT:
		return start_collection(p, ev, false);
	case YAML_MAPPING_END_EVENT:
	case YAML_SEQUENCE_END_EVENT:
		return end_collection(p);
	default:
		return 0;
	}
}

static void parser_error(struct yp *p, const yaml_parser_t *ps)
{
	const char *problem = ps->problem ? ps->problem : "unknown error";

	switch (ps->error) {
	case YAML_MEMORY_ERROR:
		yp_nomem(p);
		break;
	case YAML_READER_ERROR:
		kerr_set(p->e, KERR_PARSE, "%s is not valid YAML at byte %zu: %s", p->what,
			 ps->problem_offset, problem);
		break;
	default:
		if (ps->context)
			kerr_set(p->e, KERR_PARSE,
				 "%s is not valid YAML at line %zu, column %zu: %s (%s at line %zu, column %zu)",
				 p->what, ps->problem_mark.line + 1, ps->problem_mark.column + 1, problem,
				 ps->context, ps->context_mark.line + 1, ps->context_mark.column + 1);
		else
			kerr_set(p->e, KERR_PARSE, "%s is not valid YAML at line %zu, column %zu: %s",
				 p->what, ps->problem_mark.line + 1, ps->problem_mark.column + 1,
				 problem);
		break;
	}
}

static void yp_free(struct yp *p)
{
	size_t i;

	for (i = 0; i < p->depth; i++) {
		cJSON_Delete(p->st[i].node);
		cJSON_Delete(p->st[i].merge);
		free(p->st[i].key);
		free(p->st[i].anchor);
		free(p->st[i].tab);
	}
	free(p->st);
	clear_anchors(p);
	free(p->anchors);
	cJSON_Delete(p->root);
}

cJSON *yaml_parse(const char *text, size_t len, const char *what, struct kerr *e)
{
	struct yp p;
	yaml_parser_t parser;
	yaml_event_t ev;
	cJSON *docs;
	bool done = false;
	int r;

	memset(&p, 0, sizeof(p));
	p.what = what ? what : "input";
	p.e = e;
	if (!(docs = cJSON_CreateArray())) {
		yp_nomem(&p);
		return NULL;
	}
	if (!yaml_parser_initialize(&parser)) {
		cJSON_Delete(docs);
		yp_nomem(&p);
		return NULL;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)(text ? text : ""),
				     text ? len : 0);
	while (!done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			parser_error(&p, &parser);
			goto fail;
		}
		p.mark = ev.start_mark;
		done = ev.type == YAML_STREAM_END_EVENT;
		r = on_event(&p, &ev, docs);
		yaml_event_delete(&ev);
		if (r)
			goto fail;
	}
	yaml_parser_delete(&parser);
	yp_free(&p);
	return docs;
fail:
	yaml_parser_delete(&parser);
	yp_free(&p);
	cJSON_Delete(docs);
	return NULL;
}

/* ---- YAML writing ---------------------------------------------------- */

struct yw {
	yaml_emitter_t em;
	struct buf *out;
	int buf_errno; /* set when appending to out failed */
	bool sorted;
	bool bad_utf8;
};

static int yw_output(void *data, unsigned char *buffer, size_t size)
{
	struct yw *w = data;

	if (buf_add(w->out, buffer, size)) {
		w->buf_errno = errno ? errno : ENOMEM;
		return 0;
	}
	return 1;
}

/* libyaml's own check, so a refused scalar can be told from no memory. */
static bool utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0, w, k;
	unsigned long v;

	while (i < n) {
		unsigned char c = s[i];

		w = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 :
		    (c & 0xf8) == 0xf0 ? 4 : 0;
		if (!w || i + w > n)
			return false;
		v = w == 1 ? c : w == 2 ? c & 0x1f : w == 3 ? c & 0x0f : c & 0x07;
		for (k = 1; k < w; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			v = (v << 6) | (s[i + k] & 0x3f);
		}
		if ((w == 2 && v < 0x80) || (w == 3 && v < 0x800) || (w == 4 && v < 0x10000))
			return false;
		i += w;
	}
	return true;
}

static int yw_emit(struct yw *w, yaml_event_t *ev)
{
	return yaml_emitter_emit(&w->em, ev) ? 0 : -1;
}

static int yw_scalar(struct yw *w, const char *s, yaml_scalar_style_t style)
{
	yaml_event_t ev;
	size_t n = strlen(s);

	if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)n, 1, 1, style)) {
		if (!utf8_ok((const unsigned char *)s, n))
			w->bad_utf8 = true;
		return -1;
	}
	return yw_emit(w, &ev);
}

/* A string, quoted when plain it would read back as something else. */
static int yw_string(struct yw *w, const char *s)
{
	double num;
	bool b;

	if (strchr(s, '\n'))
		return yw_scalar(w, s, YAML_LITERAL_SCALAR_STYLE);
	if (resolve_plain(s, &num, &b) != PK_STR || !strcmp(s, "<<") || base60_like(s))
		return yw_scalar(w, s, YAML_DOUBLE_QUOTED_SCALAR_STYLE);
	return yw_scalar(w, s, YAML_PLAIN_SCALAR_STYLE);
}

static int yw_node(struct yw *w, const cJSON *item, int level)
{
	yaml_event_t ev;
	struct member *m;
	size_t n, i;
	char num[64];
	bool obj;
	int r = 0;

	if (level > WRITE_MAX_DEPTH)
		return WERR_DEPTH;
	switch (item->type & 0xff) {
	case cJSON_NULL:
		return yw_scalar(w, "null", YAML_PLAIN_SCALAR_STYLE);
	case cJSON_False:
		return yw_scalar(w, "false", YAML_PLAIN_SCALAR_STYLE);
	case cJSON_True:
		return yw_scalar(w, "true", YAML_PLAIN_SCALAR_STYLE);
	case cJSON_Number:
		if (isnan(item->valuedouble))
			return yw_scalar(w, ".nan", YAML_PLAIN_SCALAR_STYLE);
		if (isinf(item->valuedouble))
			return yw_scalar(w, item->valuedouble > 0 ? ".inf" : "-.inf",
					 YAML_PLAIN_SCALAR_STYLE);
		format_number(item->valuedouble, num, sizeof(num));
		return yw_scalar(w, num, YAML_PLAIN_SCALAR_STYLE);
	case cJSON_String:
		return yw_string(w, item->valuestring ? item->valuestring : "");
	case cJSON_Array:
	case cJSON_Object:
		break;
	default:
		return WERR_INVALID;
	}
	obj = cJSON_IsObject(item);
	if (members(item, obj && w->sorted, &m, &n))
		return WERR_BUF;
	if (obj)
		r = yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
			n ? YAML_BLOCK_MAPPING_STYLE : YAML_FLOW_MAPPING_STYLE);
	else
		r = yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
			n ? YAML_BLOCK_SEQUENCE_STYLE : YAML_FLOW_SEQUENCE_STYLE);
	if (!r || yw_emit(w, &ev))
		goto fail;
	for (i = 0; i < n; i++) {
		if (obj && yw_string(w, m[i].item->string ? m[i].item->string : ""))
			goto fail;
		if ((r = yw_node(w, m[i].item, level + 1)))
			goto out;
	}
	if (obj)
		yaml_mapping_end_event_initialize(&ev);
	else
		yaml_sequence_end_event_initialize(&ev);
	if (yw_emit(w, &ev))
		goto fail;
	r = 0;
	goto out;
fail:
	r = -1;
out:
	free(m);
	return r;
}

int yaml_write(const cJSON *item, bool sorted, struct buf *out, struct kerr *e)
{
	struct yw w;
	yaml_event_t ev;
	size_t start = out->len;
	int r = -1;

	if (!item)
		return kerr_set(e, KERR_FAILED, "cannot write YAML: no value");
	memset(&w, 0, sizeof(w));
	w.out = out;
	w.sorted = sorted;
	if (!yaml_emitter_initialize(&w.em))
		return kerr_set(e, KERR_NOMEM, "cannot write YAML: out of memory");
	yaml_emitter_set_output(&w.em, yw_output, &w);
	yaml_emitter_set_indent(&w.em, 2);
	yaml_emitter_set_width(&w.em, -1);
	yaml_emitter_set_unicode(&w.em, 1);
	yaml_emitter_set_break(&w.em, YAML_LN_BREAK);

	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	if (yw_emit(&w, &ev))
		goto fail;
	if (!yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) || yw_emit(&w, &ev))
		goto fail;
	if ((r = yw_node(&w, item, 0)))
		goto fail;
	r = -1;
	yaml_document_end_event_initialize(&ev, 1);
	if (yw_emit(&w, &ev))
		goto fail;
	yaml_stream_end_event_initialize(&ev);
	if (yw_emit(&w, &ev) || !yaml_emitter_flush(&w.em))
		goto fail;
	yaml_emitter_delete(&w.em);
	return 0;
fail:
	if (w.buf_errno)
		buf_error(e, w.buf_errno, "cannot write YAML");
	else if (r == WERR_DEPTH)
		kerr_set(e, KERR_LIMIT, "cannot write YAML: nested too deeply");
	else if (r == WERR_INVALID)
		kerr_set(e, KERR_FAILED, "cannot write YAML: invalid value in the tree");
	else if (w.bad_utf8)
		kerr_set(e, KERR_FAILED, "cannot write YAML: a string is not valid UTF-8");
	else if (w.em.error == YAML_EMITTER_ERROR && w.em.problem)
		kerr_set(e, KERR_FAILED, "cannot write YAML: %s", w.em.problem);
	else
		kerr_set(e, KERR_NOMEM, "cannot write YAML: out of memory");
	yaml_emitter_delete(&w.em);
	buf_truncate(out, start);
	return -1;
}

/* ---- base64 ---------------------------------------------------------- */

static const char b64_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int b64_decode(const char *text, size_t len, const char *what, struct buf *out, struct kerr *e)
{
	size_t start = out->len, i, q = 0, pad = 0;
	unsigned char quad[4];
	char bytes[3];
	int v;

	if (!what)
		what = "input";
	if (buf_grow(out, len / 4 * 3))
		return buf_error(e, errno, "cannot decode base64");
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f')
			continue;
		if (c == '=') {
			/* only as the last one or two characters of a quantum */
			if (q < 2)
				goto bad;
			v = 0;
			pad++;
		} else {
			if (pad || (v = b64_value(c)) < 0)
				goto bad;
		}
		quad[q++] = (unsigned char)v;
		if (q < 4)
			continue;
		q = 0;
		bytes[0] = (char)(quad[0] << 2 | quad[1] >> 4);
		bytes[1] = (char)(quad[1] << 4 | quad[2] >> 2);
		bytes[2] = (char)(quad[2] << 6 | quad[3]);
		if (buf_add(out, bytes, 3 - pad)) {
			buf_truncate(out, start);
			return buf_error(e, errno, "cannot decode base64");
		}
		if (pad)
			pad = 4; /* nothing may follow a padded quantum */
	}
	if (q || (pad && pad != 4))
		goto bad;
	return 0;
bad:
	buf_truncate(out, start);
	return kerr_set(e, KERR_PARSE, "'%s' is not valid base64", what);
}

int b64_encode(const void *data, size_t len, struct buf *out, struct kerr *e)
{
	const unsigned char *p = data;
	size_t i;
	char q[4];

	if (len > (SIZE_MAX - 4) / 4 * 3)
		return kerr_set(e, KERR_NOMEM, "cannot encode base64: out of memory");
	if (buf_grow(out, (len + 2) / 3 * 4))
		return buf_error(e, errno, "cannot encode base64");
	for (i = 0; i + 3 <= len; i += 3) {
		q[0] = b64_chars[p[i] >> 2];
		q[1] = b64_chars[(p[i] & 3) << 4 | p[i + 1] >> 4];
		q[2] = b64_chars[(p[i + 1] & 15) << 2 | p[i + 2] >> 6];
		q[3] = b64_chars[p[i + 2] & 63];
		buf_add(out, q, 4);
	}
	if (len - i == 1) {
		q[0] = b64_chars[p[i] >> 2];
		q[1] = b64_chars[(p[i] & 3) << 4];
		q[2] = q[3] = '=';
		buf_add(out, q, 4);
	} else if (len - i == 2) {
		q[0] = b64_chars[p[i] >> 2];
		q[1] = b64_chars[(p[i] & 3) << 4 | p[i + 1] >> 4];
		q[2] = b64_chars[(p[i + 1] & 15) << 2];
		q[3] = '=';
		buf_add(out, q, 4);
	}
	return 0;
}
