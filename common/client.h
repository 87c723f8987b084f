/*
 * client.h — one opaque HTTPS client per cluster, on libcurl.
 *
 * A struct kclient holds one curl easy handle, reused for every request so
 * the connection is reused (HTTP/2 when the server offers it). It is not
 * thread-safe and does one request at a time; a plugin that watches while it
 * writes opens a second client on the same struct kcfg.
 *
 * Requests: paths come from kres_path() (resources.h); query values are
 * escaped here. Authentication comes from the kcfg: bearer token (tokenFile
 * re-read every minute), client certificate (in memory), basic auth, or an
 * exec plugin (run on first use, cached until it expires, run again once
 * after a 401). Credentials are only sent over https.
 *
 * Retries: GET requests (and the list and watch calls built on them) are
 * retried with exponential backoff and jitter on connection errors, 429
 * (honouring Retry-After) and 500/502/503/504; nothing else is retried.
 *
 * Errors: a non-2xx reply is parsed as a Kubernetes Status and becomes
 * KERR_API with e->http, e->reason and a message "(403 Forbidden) <the
 * server's message>" (422 adds each cause "; field: message"). A 401 also
 * names the user and context; a TLS failure names the CA that was used.
 *
 * Verbose logging (kclient_opts.verbosity, the plugins' -v N): 6 = one line
 * per request "GET URL 200 OK in 4 milliseconds", 7 = + request headers, 8 =
 * + response headers, 9 = + bodies (truncated). Authorization headers are
 * printed as "Bearer <masked>", and JSON fields named like tokens, passwords
 * and keys are redacted from logged bodies.
 *
 * Ownership: every cJSON returned through an out-parameter is the caller's
 * (cJSON_Delete); every char * likewise (free). Inputs are borrowed.
 */
#ifndef CCLM_CLIENT_H
#define CCLM_CLIENT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include <signal.h>

#include "buf.h"
#include "err.h"
#include "kubeconfig.h"
#include "resources.h"

struct kclient;

struct kclient_opts {
	int verbosity;                         /* see above; 0 = quiet */
	void (*log)(void *ctx, const char *line); /* receives each log line; NULL = none */
	void *log_ctx;
	const char *user_agent;                /* default "kubectl-cclm/VERSION (linux) cclm/COMMIT" */
	size_t max_body;                       /* response cap; default 256 MiB */
	int max_retries;                       /* default 5 */
	long connect_timeout_ms;               /* default 10000 */
	bool stdin_tty;                        /* for interactive exec plugins */
	/* When it points at a set flag, a watch stream in progress ends within
	 * about a second (kclient_watch returns 0, as at its timeout); other
	 * requests are not touched, so a rollback after a cancel still runs. */
	volatile sig_atomic_t *stop_watches;
};

/* Query parameters; zero values are left out. */
struct kquery {
	const char *label_selector;
	const char *field_selector;
	long limit;                 /* list page size (kclient_list: 0 = 500, < 0 = no limit, one reply) */
	const char *cont;           /* continue token */
	const char *resource_version;
	long timeout_seconds;       /* server-side timeout of a list or watch */
	bool dry_run;               /* dryRun=All */
	const char *field_manager;  /* default "kubectl-cclm" on writes */
	const char *propagation;    /* delete: Background, Foreground, Orphan */
	bool force;                 /* server-side apply force */
};

struct kresp {
	long status;           /* HTTP status, 0 when no reply */
	struct buf body;
	int retry_after;       /* seconds from Retry-After, or -1 */
	char content_type[128];
};

enum kpatch { KPATCH_MERGE, KPATCH_JSON, KPATCH_STRATEGIC, KPATCH_APPLY };

/* Counters, for benchmarks and tests. */
struct kclient_stats {
	unsigned long requests;   /* HTTP requests sent, retries included */
	unsigned long retries;
	unsigned long connects;   /* new connections opened */
};

struct kclient *kclient_new(const struct kcfg *cfg, const struct kclient_opts *o, struct kerr *e);
void kclient_free(struct kclient *c);
/* True once the stop_watches flag of its options is set. */
bool kclient_watches_stopped(const struct kclient *c);
/* The context name (or server) this client talks to, for messages. */
const char *kclient_name(const struct kclient *c);
const struct kcfg *kclient_config(const struct kclient *c);
void kclient_stats(const struct kclient *c, struct kclient_stats *out);
/* The resourceVersion of the object of resource r this client last
 * created, updated or patched ("" before any). A LIST of r with it as
 * resourceVersion (and no limit) is answered from the API server's watch
 * cache of r, not older than that write: it reads this client's writes
 * without going to etcd. Only r's own: a cache is as new as the last event
 * of its resource, so a version from another resource can leave the LIST
 * waiting (seconds, then 504) for an event that does not come.
 * kclient_note_write() records one learnt otherwise (a create whose reply
 * was lost, found by a GET). */
const char *kclient_write_rv(const struct kclient *c, const struct kres *r);
void kclient_note_write(struct kclient *c, const struct kres *r, const cJSON *obj);

void kresp_init(struct kresp *r);
void kresp_release(struct kresp *r);

/* One request to PATH (already escaped, from kres_path()) with the query.
 * 0 on 2xx; -1 otherwise with `e` set; `out` (may be NULL) keeps the status
 * and body either way. */
int kclient_do(struct kclient *c, const char *method, const char *path, const struct kquery *q,
	       const char *content_type, const void *body, size_t len, struct kresp *out, struct kerr *e);

int kclient_get(struct kclient *c, const struct kres *r, const char *ns, const char *name,
		cJSON **out, struct kerr *e);
/* Every page (limit/continue); *items is a new array; *rv (may be NULL) the
 * list's resourceVersion, for a watch. */
int kclient_list(struct kclient *c, const struct kres *r, const char *ns, const struct kquery *q,
		 cJSON **items, char **rv, struct kerr *e);
int kclient_create(struct kclient *c, const struct kres *r, const char *ns, const cJSON *obj,
		   const struct kquery *q, cJSON **out, struct kerr *e);
int kclient_update(struct kclient *c, const struct kres *r, const char *ns, const char *name,
		   const cJSON *obj, const struct kquery *q, cJSON **out, struct kerr *e);
/* `sub` may be "status" (or NULL). */
int kclient_patch(struct kclient *c, const struct kres *r, const char *ns, const char *name,
		  const char *sub, enum kpatch type, const cJSON *patch, const struct kquery *q,
		  cJSON **out, struct kerr *e);
int kclient_delete(struct kclient *c, const struct kres *r, const char *ns, const char *name,
		   const struct kquery *q, struct kerr *e);

/*
 * Watch a collection. `fn` gets each change: type "ADDED", "MODIFIED" or
 * "DELETED" and the object (borrowed for the call). Return 0 to go on,
 * a positive value to stop (kclient_watch returns it), or -1 to fail (fill
 * `e` yourself).
 *
 * With q->resource_version NULL the collection is listed first and every
 * item delivered as ADDED; otherwise the watch starts at that version.
 * Streams the server or a proxy ends are resumed from the last version seen
 * (bookmarks included), so no event is lost or repeated; a 410 Gone
 * relists and delivers the difference (ADDED, MODIFIED, DELETED) against
 * what was already delivered. `timeout_ms` bounds the whole call (0 = none);
 * reaching it returns 0.
 */
typedef int (*kwatch_fn)(void *ctx, const char *type, const cJSON *obj, struct kerr *e);
int kclient_watch(struct kclient *c, const struct kres *r, const char *ns, const struct kquery *q,
		  long timeout_ms, kwatch_fn fn, void *ctx, struct kerr *e);

/* Fill e from a non-2xx reply (Status body, or the raw text). Exposed for tests. */
void kclient_status_error(long http, const char *body, size_t len, struct kerr *e);

#endif
