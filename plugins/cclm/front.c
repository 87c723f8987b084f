/* front.c — see front.h. */
#include "front.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "msg.h"
#include "output.h"
#include "plugin.h"

/* The workflow, in the order a user follows it. */
static const struct {
	const char *name, *what;
} steps[] = {
	{ "enable", "make two clusters a live-migration pair: feature gates, migration network, tuning" },
	{ "rbac", "least-privilege identities for the other side; check you may make every call" },
	{ "netcheck", "prove the migration network works between the two clusters" },
	{ "plan", "per VM: can it move, what will be copied, how long it will take" },
	{ "migrate", "live-migrate VMs from the source cluster to the target cluster" },
	{ "status", "every cross-cluster migration on the pair, both halves joined" },
};

int cclm_self_dir(char *out, unsigned long n)
{
	char path[PATH_MAX];
	char *slash;

	if (!realpath("/proc/self/exe", path))
		return -1;
	slash = strrchr(path, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	if ((size_t)snprintf(out, n, "%s", path) >= n)
		return -1;
	return 0;
}

/* Path of the sibling for a sub-command, if it is there and executable. */
static int sibling(const char *sub, char *out, size_t n)
{
	char dir[PATH_MAX], name[256];
	size_t i;

	if (cclm_self_dir(dir, sizeof(dir)))
		return -1;
	if ((size_t)snprintf(name, sizeof(name), "kubectl-cclm-%s", sub) >= sizeof(name))
		return -1;
	for (i = strlen("kubectl-cclm-"); name[i]; i++)
		if (name[i] == '-')
			name[i] = '_';
	if ((size_t)snprintf(out, n, "%s/%s", dir, name) >= n)
		return -1;
	return access(out, X_OK);
}

static int run_version(struct cclm_ctx *ctx, int argc, char **argv);

static const char *const version_usage[] = {
	"version [--context CONTEXT | --source CONTEXT --target CONTEXT] [-o json|yaml]", NULL
};

static const struct plugin version_plugin = {
	.name = "cclm",
	.summary = "Print the cclm version, and the versions of the clusters named",
	.usage = version_usage,
	.description = "With --context, or --source and --target, also asks each cluster for its version\n"
		       "(GET /version), which proves the kubeconfig, TLS and credentials work.",
	.min_args = 0,
	.max_args = 0,
	.needs = PLUGIN_TWO_CLUSTERS | PLUGIN_CLUSTERS_OPTIONAL | PLUGIN_OUTPUT,
	.run = run_version,
};

static int server_version(struct cclm_cluster *cl, cJSON *out, struct kerr *e)
{
	struct kresp resp;
	cJSON *v;

	if (kclient_do(cl->client, "GET", "/version", NULL, NULL, NULL, 0, &resp, e)) {
		kresp_release(&resp);
		return -1;
	}
	v = json_parse(resp.body.s, resp.body.len, "version reply", e);
	kresp_release(&resp);
	if (!v)
		return -1;
	cJSON_AddStringToObject(v, "context", kclient_name(cl->client));
	cJSON_AddStringToObject(v, "server", cl->cfg.server);
	cJSON_AddItemToObject(out, cl->role, v);
	return 0;
}

static int run_version(struct cclm_ctx *ctx, int argc, char **argv)
{
	struct cclm_cluster *want[3];
	cJSON *doc = cJSON_CreateObject(), *client;
	struct kerr e = KERR_INIT;
	int n = 0, i, rc = CCLM_EXIT_OK;

	(void)argc;
	(void)argv;
	if (!doc)
		return msg_error("out of memory"), CCLM_EXIT_FAILED;
	client = cJSON_AddObjectToObject(doc, "client");
	cJSON_AddStringToObject(client, "version", cclm_version());
	if (ctx->kflags.context)
		want[n++] = &ctx->one;
	if (ctx->source_context || ctx->source_kubeconfig)
		want[n++] = &ctx->source;
	if (ctx->target_context || ctx->target_kubeconfig)
		want[n++] = &ctx->target;
	for (i = 0; i < n; i++) {
		if (cclm_load_cluster(ctx, want[i], &e) || server_version(want[i], doc, &e)) {
			rc = msg_kerr(&e);
			goto out;
		}
	}
	if (ctx->output && strcmp(ctx->output, "wide")) {
		if (output_object(stdout, ctx->output, doc, &e))
			rc = msg_kerr(&e);
		goto out;
	}
	printf("cclm: %s\n", cclm_version());
	for (i = 0; i < n; i++) {
		const cJSON *v = json_get(doc, want[i]->role);

		printf("%s (context '%s', %s): Kubernetes %s\n", want[i]->role, json_str(v, "context", "?"),
		       json_str(v, "server", "?"), json_str(v, "gitVersion", "?"));
	}
out:
	cJSON_Delete(doc);
	return rc;
}

static void print_workflow(FILE *f)
{
	size_t i;
	char path[PATH_MAX];

	fprintf(f, "cclm live-migrates running KubeVirt VMs from one cluster to another.\n\n");
	fprintf(f, "The workflow:\n");
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		bool here = sibling(steps[i].name, path, sizeof(path)) == 0;

		fprintf(f, "  %zu. kubectl cclm %-9s %s%s\n", i + 1, steps[i].name, steps[i].what,
			here ? "" : " (not installed yet)");
	}
	fprintf(f, "\nAlso:\n  kubectl cclm version     print the version (with --source/--target: the clusters' too)\n");
	fprintf(f, "\nEvery command takes --help. Two-cluster commands take --source CONTEXT --target CONTEXT\n"
		   "(or --source-kubeconfig FILE --target-kubeconfig FILE).\n");
	fprintf(f, "\nExit status: 0 ok, 1 a check or operation failed, 2 usage error, "
		   "3 kubeconfig, cluster, TLS, auth or API error.\n");
}

/* kubectl_complete-cclm: offer the sub-commands kubectl cannot see on PATH. */
static int complete_front(int argc, char **argv)
{
	const char *cur = argc > 1 ? argv[argc - 1] : "";
	char path[PATH_MAX];
	size_t i;

	if (argc > 2) { /* past the sub-command: its own completer answers */
		char **args = calloc((size_t)argc + 1, sizeof(*args));
		int k, rc;

		if (!args)
			return CCLM_EXIT_FAILED;
		args[1] = "--completion-helper";
		for (k = 2; k < argc; k++)
			args[k] = argv[k];
		if (!strcmp(argv[1], "version")) {
			args[0] = argv[0];
			rc = cclm_main(&version_plugin, argc, args);
			free(args);
			return rc;
		}
		if (sibling(argv[1], path, sizeof(path)) == 0) {
			args[0] = path;
			execv(path, args);
		}
		free(args);
		printf(":4\n");
		return 0;
	}
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (!strncmp(steps[i].name, cur, strlen(cur)) && sibling(steps[i].name, path, sizeof(path)) == 0)
			printf("%s\t%s\n", steps[i].name, steps[i].what);
	if (!strncmp("version", cur, strlen(cur)))
		printf("version\tprint the version\n");
	printf(":4\n");
	return 0;
}

int cclm_front_main(int argc, char **argv)
{
	const char *base = strrchr(argv[0], '/');
	char path[PATH_MAX];

	base = base ? base + 1 : argv[0];
	msg_set_prog("kubectl-cclm");
	if (!strncmp(base, "kubectl_complete-", 17) || !strncmp(base, "oc_complete-", 12))
		return complete_front(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "--completion-helper")) {
		argv[1] = argv[0];
		return complete_front(argc - 1, argv + 1);
	}
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		print_workflow(stdout);
		return fflush(stdout) ? CCLM_EXIT_FAILED : CCLM_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version"))
		return cclm_main(&version_plugin, argc, argv);
	if (!strcmp(argv[1], "version"))
		return cclm_main(&version_plugin, argc - 1, argv + 1);
	if (argv[1][0] == '-') {
		msg_error("flags go after the command: kubectl cclm COMMAND [flags] (got '%s')", argv[1]);
		fprintf(stderr, "See 'kubectl cclm --help' for usage.\n");
		return CCLM_EXIT_USAGE;
	}
	if (sibling(argv[1], path, sizeof(path))) {
		msg_error("unknown command '%s'", argv[1]);
		fprintf(stderr, "See 'kubectl cclm --help' for the commands.\n");
		return CCLM_EXIT_USAGE;
	}
	argv[1] = path;
	execv(path, argv + 1);
	msg_error("cannot run '%s': %s", path, strerror(errno));
	return CCLM_EXIT_FAILED;
}
