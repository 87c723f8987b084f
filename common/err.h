/*
 * err.h — the one error type of libcclm, and the documented exit codes.
 *
 * common/ never prints and never exits: a fallible call returns 0 on
 * success or -1 on failure and fills a caller-owned struct kerr. The plugin
 * decides what to print (one line, see msg.h) and which exit code to use
 * (kerr_exit_code()).
 *
 * Messages follow one style: lower case, no trailing period, what failed
 * first, the subject in single quotes, and, where there is one, what to do.
 * API errors read like kubectl's: "(403 Forbidden) pods is forbidden: ...".
 * Tokens never appear in a message.
 */
#ifndef CCLM_ERR_H
#define CCLM_ERR_H

#include <stddef.h>

/* Exit codes, the same for every executable (and in every man page). */
enum cclm_exit {
	CCLM_EXIT_OK = 0,      /* success */
	CCLM_EXIT_FAILED = 1,  /* a check or an operation failed */
	CCLM_EXIT_USAGE = 2,   /* bad command line */
	CCLM_EXIT_CLUSTER = 3, /* kubeconfig, unreachable cluster, TLS, auth or API error */
};

enum kerr_kind {
	KERR_NONE = 0,
	KERR_USAGE,     /* bad arguments from the user */
	KERR_CONFIG,    /* kubeconfig missing, malformed, dangling names */
	KERR_CRED,      /* credentials unusable: exec plugin failed, token file unreadable */
	KERR_TRANSPORT, /* connect/DNS/timeout/reset */
	KERR_TLS,       /* certificate verification and other TLS failures */
	KERR_API,       /* the server answered non-2xx (http and reason are set) */
	KERR_PARSE,     /* malformed JSON/YAML from a file or a server */
	KERR_LIMIT,     /* a size cap was reached */
	KERR_IO,        /* local file or process trouble */
	KERR_NOMEM,
	KERR_FAILED,    /* a check or an operation failed (not a cluster problem) */
};

#define KERR_MSG_MAX 1024

struct kerr {
	enum kerr_kind kind;
	int http;           /* HTTP status for KERR_API (and 0 otherwise) */
	char reason[64];    /* Status.reason for KERR_API, e.g. "Forbidden" */
	char msg[KERR_MSG_MAX];
	int retry_after;    /* seconds the server asked to wait, or -1 */
};

#define KERR_INIT { KERR_NONE, 0, "", "", -1 }

void kerr_clear(struct kerr *e);
/* Fill `e` (may be NULL) and return -1, so callers can `return kerr_set(...)`. */
int kerr_set(struct kerr *e, enum kerr_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Put `prefix: ` in front of the current message (context from a caller). */
void kerr_prefix(struct kerr *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The exit code a plugin should use for this error. */
enum cclm_exit kerr_exit_code(const struct kerr *e);
/* True when e is an API error with this HTTP status. */
int kerr_is_http(const struct kerr *e, int status);
/* True for what a retry may cure: a connection error, 429, 500, 502, 503, 504. */
int kerr_is_transient(const struct kerr *e);

#endif
