/*
 * json_internal.h — what json.c, yaml_scalar.c, yaml_read.c, yaml_write.c
 * and b64.c share; not for plugins (use json.h). Same ownership rule as
 * json.h.
 */
#ifndef CCLM_JSON_INTERNAL_H
#define CCLM_JSON_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "err.h"

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

/* How a plain (unquoted, untagged) YAML scalar reads, the Kubernetes way. */
enum plain_kind { PK_STR, PK_NULL, PK_BOOL, PK_INT, PK_FLOAT };

/* Type of a plain scalar; fills *num or *bval for numbers and booleans. */
enum plain_kind yaml_resolve_plain(const char *s, double *num, bool *bval);
/* True for YAML 1.1 sexagesimal-looking text ("1:20"), which writers quote. */
bool yaml_base60_like(const char *s);
/* Writers' failures, besides 0. */
enum { WERR_BUF = -1, WERR_INVALID = -2, WERR_DEPTH = -3 };

/* One member of an object or array, for walking in (optionally sorted) order. */
struct member {
	const cJSON *item;
	size_t idx;
};
/* The children of node in *out (malloc'd, n entries; free() it), sorted by
 * name when `sorted`. 0, or -1 when out of memory. */
int json_members(const cJSON *node, bool sorted, struct member **out, size_t *n);

/* Value of a hex digit (0-15), or 99 for anything else. */
int json_digit_value(char c);
/* Borrowed: the member of an object named by the first n bytes of name. */
cJSON *json_child_named(const cJSON *node, const char *name, size_t n);
/* A number as JSON/YAML text: integers within 2^53 without a decimal point. */
void json_format_number(double d, char *out, size_t n);
/* Fill e for a failed buf append (EFBIG: the cap; else out of memory); -1. */
int json_buf_error(struct kerr *e, int err, const char *doing);
/* Cut b back to len bytes (undo a partial write). */
void json_buf_truncate(struct buf *b, size_t len);

#endif
