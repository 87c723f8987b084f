/*
 * opts.h — declarative option tables: one row per option gives the parser,
 * --help and shell completion, so they cannot drift apart.
 *
 * Syntax accepted (as kubectl/pflag users expect): --name=value, --name
 * value, -n value, -nvalue, --flag, --flag=true|false, -- ends options;
 * options may follow positional arguments.
 *
 * A flag (OPT_BOOL, OPT_TRIBOOL) takes no separate value; every other kind
 * does.
 *
 * Ownership: tables are static and borrowed; string targets receive
 * pointers into argv (borrowed for the program's life); OPT_LIST targets
 * own a malloc'd array of borrowed pointers (free with opts_list_free).
 */
#ifndef CCLM_OPTS_H
#define CCLM_OPTS_H

#include <stdbool.h>
#include <stdio.h>

#include "err.h"

enum opt_kind {
	OPT_END = 0,
	OPT_BOOL,    /* bool *target */
	OPT_STRING,  /* const char **target */
	OPT_INT,     /* long *target; decimal */
	OPT_LIST,    /* struct opt_list *target; repeatable, also comma-separated */
	OPT_CHOICE,  /* const char **target; one of .choices */
	OPT_TRIBOOL, /* int *target: stays as initialised (-1 = not named) until --flag[=true|false] sets 1 or 0 */
	OPT_DURATION, /* long *target, milliseconds: "90" (seconds), "90s", "5m", "1h30m", "250ms" */
};

/* What completion offers for an option's value. */
enum opt_complete { COMPLETE_NONE = 0, COMPLETE_FILE, COMPLETE_CONTEXT, COMPLETE_CHOICES };

#define OPT_HIDDEN 0x1

struct opt_list {
	const char **items;
	int n;
};

struct opt {
	enum opt_kind kind;
	char short_name;           /* 0: none */
	const char *long_name;
	void *target;
	const char *arg_name;      /* "CONTEXT" in help; NULL for booleans */
	const char *help;
	const char *const *choices; /* OPT_CHOICE: NULL-terminated */
	enum opt_complete complete;
	unsigned flags;
};

/* A group of options with a heading, for help ("Options", "Cluster options"). */
struct opt_group {
	const char *title;
	const struct opt *opts;    /* terminated by a row with kind OPT_END */
};

/*
 * Parse argv[1..argc-1] against the groups (NULL-terminated array).
 * Positional arguments are collected, in order, into *pos (a malloc'd,
 * NULL-terminated array of borrowed pointers; free() it) and *npos.
 * Errors are KERR_USAGE: "unknown option '--x'", "option '--context' needs
 * a value", "'--timeout' expects a number, got 'x'", "'--output' must be one
 * of: json, yaml".
 */
int opts_parse(const struct opt_group *const *groups, int argc, char **argv, char ***pos, int *npos,
	       struct kerr *e);
void opts_list_free(struct opt_list *l);

/* The option of a long name ("--context") or short ("-n"), or NULL. */
const struct opt *opts_find(const struct opt_group *const *groups, const char *word);

/* Print the option part of --help: one section per group. */
void opts_print_help(FILE *f, const struct opt_group *const *groups);

/* Completion candidates for `words` (the words after the command, the
 * last being the one under the cursor), cobra protocol: one per line
 * (candidate TAB description), then ":<directive>". `context_names` is
 * called for COMPLETE_CONTEXT values (may be NULL). `positional` (may be
 * NULL) offers candidates for non-option words. */
void opts_complete(FILE *f, const struct opt_group *const *groups, int nwords, char **words,
		   char **(*context_names)(void), void (*positional)(FILE *f, const char *prefix));

#endif
