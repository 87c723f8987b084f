/*
 * bench_client — drive libcclm the way a plugin does, for tests/bench/run:
 *   bench_client --context C -n NS get PREFIX COUNT   COUNT sequential GETs of PREFIX-0000...
 *   bench_client --context C -n NS list                LIST configmaps, print -o json
 * Prints on stderr one line "requests=N connects=N retries=N" so the run can
 * check it really used one connection.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "json.h"
#include "msg.h"
#include "output.h"
#include "plugin.h"

static int run(struct cclm_ctx *ctx, int argc, char **argv)
{
	struct kclient *c = ctx->one.client;
	const char *ns = ctx->one.cfg.namespace;
	struct kerr e = KERR_INIT;
	struct kclient_stats st;

	if (!strcmp(argv[0], "get") && argc == 3) {
		long i, n = strtol(argv[2], NULL, 10);

		for (i = 0; i < n; i++) {
			char name[256];
			cJSON *obj = NULL;

			snprintf(name, sizeof(name), "%s-%04ld", argv[1], i);
			if (kclient_get(c, &KRES_CONFIGMAP, ns, name, &obj, &e))
				return msg_kerr(&e);
			cJSON_Delete(obj);
		}
	} else if (!strcmp(argv[0], "list") && argc == 1) {
		cJSON *items = NULL;

		if (kclient_list(c, &KRES_CONFIGMAP, ns, NULL, &items, NULL, &e) ||
		    output_list(stdout, "json", items, &e)) {
			cJSON_Delete(items);
			return msg_kerr(&e);
		}
		cJSON_Delete(items);
	} else {
		return msg_error("usage: bench_client get PREFIX COUNT | list"), CCLM_EXIT_USAGE;
	}
	kclient_stats(c, &st);
	fprintf(stderr, "requests=%lu connects=%lu retries=%lu\n", st.requests, st.connects, st.retries);
	return CCLM_EXIT_OK;
}

static const char *const usage[] = { "get PREFIX COUNT | list", NULL };
static const struct plugin bench = {
	.name = "bench",
	.summary = "libcclm benchmark driver",
	.usage = usage,
	.min_args = 1,
	.max_args = 3,
	.needs = PLUGIN_ONE_CLUSTER,
	.run = run,
};

int main(int argc, char **argv)
{
	return cclm_main(&bench, argc, argv);
}
