/* yaml_read.c — yaml_parse(): YAML to cJSON through libyaml; see json.h. */
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
#include <yaml.h>

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
			json_format_number(k->valuedouble, num, sizeof(num));
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
		if (c->string && !json_child_named(dst, c->string, strlen(c->string)))
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
	return f->tab ? *tab_slot(f, key) : json_child_named(f->node, key, strlen(key));
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
		old = json_child_named(f->node, key, strlen(key));
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
		kind = want == PK_STR ? PK_STR : yaml_resolve_plain(s, &num, &bval);
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
		kind = yaml_resolve_plain(s, &num, &bval);
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
