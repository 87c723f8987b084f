/*
 * redact.h — make request and response bodies safe to log.
 *
 * JSON bodies are parsed and every string under a member whose name looks
 * like a credential (token, password, secret, *key*data*, the data and
 * stringData of a Secret, ...) is replaced by "<redacted>"; anything else is
 * logged as text with "Bearer <...>" masked. Output is one line, cut at
 * 16 KiB.
 */
#ifndef CCLM_REDACT_H
#define CCLM_REDACT_H

#include <stddef.h>

#include "buf.h"

/* Append the redacted, one-line form of `body` to `out`. */
void redact_body(const char *body, size_t len, struct buf *out);
/* Log "LABEL: <redacted body>" through `log` (no-op when log is NULL). */
void redact_log_body(void (*log)(void *, const char *), void *ctx, const char *label,
		     const char *body, size_t len);
/* True for member names that hold secrets ("token", "clientKeyData", ...). */
int redact_is_secret_key(const char *name);

#endif
