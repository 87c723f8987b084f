/*
 * json.h — small helpers over cJSON, and YAML <-> JSON through libyaml.
 *
 * Ownership rule, for every function here: getters return borrowed pointers
 * into the tree (valid while the tree lives, never freed by the caller);
 * every `char *` and every `cJSON *` a function *returns* (not a getter) is
 * the caller's, freed with free() / cJSON_Delete(). Functions that take a
 * `cJSON *item` to add to a tree take ownership of it, even on failure.
 *
 * Paths are dot-separated member names ("metadata.name") or array indices
 * ("items.0.metadata.name"). At each level the rest of the path is first
 * tried as one member name, so names with dots work as written
 * ("metadata.labels.app.kubernetes.io/name"). json_set() creates only
 * dot-free names; build others with cJSON directly.
 */
#ifndef CCLM_JSON_H
#define CCLM_JSON_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "buf.h"
#include "err.h"

/* Borrowed: the item at `path` under `root`, or NULL. */
cJSON *json_get(const cJSON *root, const char *path);
/* Borrowed string at path, or `def` when missing or not a string. */
const char *json_str(const cJSON *root, const char *path, const char *def);
/* Number at path (also accepts a numeric string), or `def`. */
long long json_int(const cJSON *root, const char *path, long long def);
/* Boolean at path, or `def` when missing or not a boolean. */
bool json_bool(const cJSON *root, const char *path, bool def);

/* Set `path` to `item` (taken), creating objects on the way; 0 or -1. */
int json_set(cJSON *root, const char *path, cJSON *item);
int json_set_str(cJSON *root, const char *path, const char *value);

/* Parse JSON text of `len` bytes (exact; no NUL needed). Returns a new tree
 * or NULL with `e` set (KERR_PARSE, with the byte offset). `what` names the
 * input in the message ("response from 'source'"). */
cJSON *json_parse(const char *text, size_t len, const char *what, struct kerr *e);

/* Append JSON to `out`: indent 0 = compact, else that many spaces per
 * level (kubectl prints 4). `sorted` orders object members by name. */
int json_write(const cJSON *item, int indent, bool sorted, struct buf *out, struct kerr *e);

/* Parse YAML text (one or more documents) into a new cJSON array holding one
 * item per non-empty document. Handles anchors and aliases, block and flow
 * scalars, and YAML 1.1 plain-scalar types the way Kubernetes reads them
 * (true/false/yes/no/on/off booleans, null/~, ints, floats; quoted scalars
 * are always strings). Errors name the line and column. */
cJSON *yaml_parse(const char *text, size_t len, const char *what, struct kerr *e);
/* Append `item` as one YAML document (block style, 2-space indent, keys
 * sorted when `sorted`, strings quoted only when needed). */
int yaml_write(const cJSON *item, bool sorted, struct buf *out, struct kerr *e);

/* Base64 (standard alphabet, padding required, whitespace ignored) decode
 * into `out`; garbage is an error naming `what`. */
int b64_decode(const char *text, size_t len, const char *what, struct buf *out, struct kerr *e);
/* Append the base64 encoding of data. */
int b64_encode(const void *data, size_t len, struct buf *out, struct kerr *e);

#endif
