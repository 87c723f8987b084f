/*
 * output.h — what plugins print on stdout: kubectl-style tables, objects as
 * JSON (4-space indent, sorted keys, like kubectl -o json) or YAML, and
 * whether the terminal may get colour and progress.
 *
 * Ownership: a struct table owns copies of every cell; table_free() frees
 * them. Objects passed in are borrowed.
 */
#ifndef CCLM_OUTPUT_H
#define CCLM_OUTPUT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "err.h"

struct table;

/* A table with `ncols` columns named by the upper-case headers. */
struct table *table_new(int ncols, const char *const *headers);
/* Add one row of ncols cells (NULL prints as "<none>"); 0 or -1 (ENOMEM). */
int table_add(struct table *t, const char *const *cells);
/* Columns padded to the widest cell, separated by 3 spaces; no trailing blanks. */
void table_print(const struct table *t, FILE *f, bool headers);
void table_free(struct table *t);

/* Print an object (or a List of items) as "json" or "yaml". */
int output_object(FILE *f, const char *format, const cJSON *obj, struct kerr *e);
/* Wrap items in {"apiVersion":"v1","items":[...],"kind":"List","metadata":{"resourceVersion":""}}
 * and print it; `items` is borrowed. */
int output_list(FILE *f, const char *format, const cJSON *items, struct kerr *e);

/* A byte count in binary units for people: "0 B", "512 B", "1.5 KiB",
 * "596.0 MiB", "2.3 GiB" (one decimal from KiB up; negative counts as 0). */
void output_bytes(double bytes, char *out, size_t n);

/* True when fd is a terminal. */
bool term_is_tty(int fd);
/* Colour and progress on stdout: a TTY, NO_COLOR unset, TERM not "dumb". */
bool term_fancy(void);

#endif
