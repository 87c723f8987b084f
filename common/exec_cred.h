/*
 * exec_cred.h — run a kubeconfig exec credential plugin
 * (client.authentication.k8s.io/v1 and v1beta1) and read its ExecCredential.
 *
 * The plugin runs without a shell (fork + execvp: a bare command name is
 * looked up on PATH), with the current environment plus the stanza's env plus
 * KUBERNETES_EXEC_INFO (the ExecCredential request as JSON, with
 * spec.interactive and, when provideClusterInfo, spec.cluster). Its stdout
 * is read (capped at 1 MiB) and must be an ExecCredential of the same
 * apiVersion with status.token, or status.clientCertificateData and
 * status.clientKeyData (both), and an optional expirationTimestamp.
 * stdin is passed through only when interactive; stderr always goes to the
 * user's terminal (plugins print prompts and hints there).
 *
 * Errors (KERR_CRED): the command is not found (with the installHint), it
 * exits non-zero (exit code given), it writes something that is not an
 * ExecCredential, the apiVersion differs, the status is incomplete, or
 * interactiveMode Always without a terminal. Never includes the token.
 *
 * Ownership: kexec_get() fills a caller-owned struct kcred; release it with
 * kcred_release().
 */
#ifndef CCLM_EXEC_CRED_H
#define CCLM_EXEC_CRED_H

#include <stdbool.h>
#include <time.h>

#include "buf.h"
#include "err.h"
#include "kubeconfig.h"

struct kcred {
	char *token;            /* NULL when the plugin gave a certificate */
	struct buf cert, key;   /* PEM, empty when it gave a token */
	time_t expiry;          /* 0 = does not expire */
};

/* Run the plugin of `cfg->exec` (cfg gives the cluster info it may be
 * shown). `stdin_tty` says whether standard input is a terminal. */
int kexec_get(const struct kcfg *cfg, bool stdin_tty, struct kcred *out, struct kerr *e);
void kcred_release(struct kcred *c);
/* True when the credential is still usable at `now` (with a 10 s margin). */
bool kcred_valid(const struct kcred *c, time_t now);

#endif
