/*
 * kubeconfig.h — which cluster, which credentials, which namespace: the
 * kubeconfig rules of kubectl, resolved into one struct kcfg per cluster.
 *
 * Sources, as kubectl reads them:
 *   --kubeconfig FILE       only that file (it must exist)
 *   $KUBECONFIG             a ':'-separated list, merged: the first file to
 *                           define a cluster/user/context name wins that name
 *                           wholesale; the first non-empty current-context
 *                           wins; missing files in the list are skipped
 *   ~/.kube/config          otherwise ($HOME)
 *   in-cluster              when none of those gave anything and
 *                           KUBERNETES_SERVICE_HOST/PORT are set and the
 *                           service-account token file exists
 * Relative paths (certificate-authority, client-certificate, client-key,
 * tokenFile, exec command containing a '/') resolve against the directory of
 * the file that defined them. *-data fields are base64 and decoded in
 * memory; file contents are read into memory too: nothing is ever written
 * to a temporary file.
 *
 * Overrides (struct kcfg_flags): --context, --cluster, --user, -n,
 * --request-timeout, --insecure-skip-tls-verify.
 *
 * Validation (each a KERR_CONFIG error naming the file and the entry):
 * unknown context/cluster/user, a context without cluster or user, a cluster
 * without server, certificate-authority together with
 * insecure-skip-tls-verify, a client certificate without its key (or the
 * reverse), token together with username/password, exec without command
 * or apiVersion, an exec apiVersion other than
 * client.authentication.k8s.io/v1 or /v1beta1, base64 garbage in *-data,
 * unreadable files, malformed YAML. Credentials on a server that is not
 * https:// are refused (KERR_CONFIG): they are only ever sent over TLS.
 *
 * Ownership: kcfg_load() fills a caller-provided struct kcfg that owns every
 * string and buffer in it; kcfg_release() frees them. Strings may be NULL
 * when the kubeconfig does not set them.
 */
#ifndef CCLM_KUBECONFIG_H
#define CCLM_KUBECONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "err.h"

/* What the command line said; NULL (or 0) = not given. Borrowed strings. */
struct kcfg_flags {
	const char *kubeconfig;      /* --kubeconfig */
	const char *context;         /* --context */
	const char *cluster;         /* --cluster */
	const char *user;            /* --user */
	const char *namespace;       /* -n / --namespace */
	const char *request_timeout; /* --request-timeout: "0", "30" (s), "1m30s", "500ms" */
	bool insecure_skip_tls_verify; /* --insecure-skip-tls-verify */
};

enum kcfg_interactive { KCFG_INTERACTIVE_NEVER, KCFG_INTERACTIVE_IF_AVAILABLE, KCFG_INTERACTIVE_ALWAYS };

/* An exec credential plugin (users[].user.exec). */
struct kcfg_exec {
	char *command;       /* as written; a relative path with '/' is already resolved */
	char **args;         /* nargs entries */
	size_t nargs;
	char **env;          /* "NAME=VALUE", nenv entries */
	size_t nenv;
	char *api_version;   /* client.authentication.k8s.io/v1 or /v1beta1 */
	char *install_hint;
	enum kcfg_interactive interactive; /* v1beta1 default: IfAvailable */
	bool provide_cluster_info;
};

struct kcfg {
	char *context_name;     /* NULL for in-cluster */
	char *cluster_name;
	char *user_name;
	char *origin;           /* the file the context came from, or "in-cluster" */
	char *server;           /* e.g. https://127.0.0.1:6443 */
	char *namespace;        /* resolved: -n > context > in-cluster file > "default" */
	bool namespace_from_flag;

	struct buf ca;          /* PEM; empty = the system's CAs */
	char *ca_origin;        /* for messages: "certificate-authority-data of cluster 'x' in FILE" or a path */
	bool insecure;          /* insecure-skip-tls-verify */
	char *tls_server_name;
	char *proxy_url;
	bool disable_compression;

	char *token;            /* bearer token (the token field); beats token_file */
	char *token_file;       /* resolved tokenFile or the in-cluster token file;
				 * read by the client (it rotates); NULL when token is set */
	struct buf client_cert; /* PEM, empty if none */
	struct buf client_key;
	char *username, *password;
	struct kcfg_exec *exec; /* NULL unless the user has an exec stanza */

	long timeout_ms;        /* --request-timeout; 0 = none */
};

/* Resolve one cluster. On failure `out` is left released. */
int kcfg_load(struct kcfg *out, const struct kcfg_flags *flags, struct kerr *e);
void kcfg_release(struct kcfg *c);

/* "30" (seconds), "1m30s", "500ms", "0" -> milliseconds (0 = no timeout). */
int kcfg_parse_timeout(const char *s, long *ms, struct kerr *e);

/* Names of every context in the merged kubeconfig (for completion and
 * messages), in file order; *names is a NULL-terminated array the caller
 * frees with kcfg_names_free(). */
int kcfg_context_names(const struct kcfg_flags *flags, char ***names, struct kerr *e);
void kcfg_names_free(char **names);

#endif
