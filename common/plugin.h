/*
 * plugin.h — what every cclm executable shares: a descriptor per command and
 * one main, cclm_main(), that parses options, loads the kubeconfig, makes
 * the clients, runs the command and turns errors into exit codes.
 *
 * Adding a command (kubectl cclm foo-bar):
 *   1. plugins/foo-bar/main.c: `int main(int c, char **v) { return
 *      cclm_main(&foo_bar_plugin, c, v); }` and the command's own files in
 *      the same folder (the logic apart from main, so tests can link it);
 *      the Makefile finds the folder and builds kubectl-cclm-foo-bar.
 *   2. its struct plugin: name, summary, usage lines, description, option
 *      table, positional argument bounds, which clusters it needs, run().
 *   3. man/kubectl-cclm-foo-bar.1 (NAME, SYNOPSIS = the usage lines,
 *      DESCRIPTION, OPTIONS, EXIT STATUS, ENVIRONMENT, EXAMPLES, SEE ALSO).
 *   4. completions/kubectl_complete-cclm-foo-bar (a symlink, see
 *      completions/README), and a row in README.md.
 *   5. tests/e2e/foo-bar.bats against the test clusters; tests/unit for any
 *      new common/ module. tests/e2e/meta.bats checks --help against the man
 *      page for every plugin.
 *
 * Options every command has (struct cclm_ctx fields): --kubeconfig,
 * --context, --cluster, --user, -n/--namespace, --request-timeout,
 * --insecure-skip-tls-verify, -v/--v, -h/--help, --version; two-cluster
 * commands add --source/--target CONTEXT and
 * --source-kubeconfig/--target-kubeconfig FILE; commands with output add
 * -o/--output.
 */
#ifndef CCLM_PLUGIN_H
#define CCLM_PLUGIN_H

#include <stdbool.h>

#include "client.h"
#include "err.h"
#include "kubeconfig.h"
#include "opts.h"

enum plugin_needs {
	PLUGIN_NO_CLUSTER = 0,
	PLUGIN_ONE_CLUSTER = 1,   /* ctx->one: the --context cluster */
	PLUGIN_TWO_CLUSTERS = 2,  /* ctx->source and ctx->target */
	PLUGIN_CLUSTERS_OPTIONAL = 4, /* with TWO: only load the ones named */
	PLUGIN_OUTPUT = 8,        /* -o/--output json|yaml|wide */
};

struct cclm_cluster {
	const char *role;        /* "source", "target" or "cluster" */
	bool loaded;
	struct kcfg cfg;
	struct kclient *client;
};

struct cclm_ctx;

struct plugin {
	const char *name;                 /* "enable"; "cclm" for kubectl-cclm itself */
	const char *summary;              /* one line, for the workflow list */
	const char *const *usage;         /* usage lines after the command name, NULL-terminated */
	const char *description;          /* for --help */
	const struct opt *options;        /* the command's own, ending with { OPT_END } */
	int min_args, max_args;           /* positional bounds; max -1 = any */
	unsigned needs;                   /* enum plugin_needs bits */
	int (*run)(struct cclm_ctx *ctx, int argc, char **argv); /* returns an enum cclm_exit */
	void (*complete_args)(FILE *f, const char *prefix);     /* positional completion, may be NULL */
};

struct cclm_ctx {
	const struct plugin *plugin;
	const char *prog;                 /* "kubectl cclm enable" for help text */
	struct kcfg_flags kflags;         /* the global kubeconfig flags */
	const char *source_context, *target_context;
	const char *source_kubeconfig, *target_kubeconfig;
	const char *output;               /* NULL, "json", "yaml" or "wide" */
	long verbosity;
	bool tty;                         /* stdout is a terminal and colour/progress allowed */
	struct cclm_cluster one, source, target;
};

/* The whole program for one command; returns the exit code. */
int cclm_main(const struct plugin *p, int argc, char **argv);

/* Load the kubeconfig and make the client of a cluster now (for commands
 * with PLUGIN_CLUSTERS_OPTIONAL); prints nothing, fills e. */
int cclm_load_cluster(struct cclm_ctx *ctx, struct cclm_cluster *cl, struct kerr *e);

/* The version line every command prints for --version. */
const char *cclm_version(void);

#endif
