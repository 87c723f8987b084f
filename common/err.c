/* err.c — see err.h. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void kerr_clear(struct kerr *e)
{
	if (!e)
		return;
	e->kind = KERR_NONE;
	e->http = 0;
	e->reason[0] = '\0';
	e->msg[0] = '\0';
	e->retry_after = -1;
}

int kerr_set(struct kerr *e, enum kerr_kind kind, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return -1;
	kerr_clear(e);
	e->kind = kind;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

void kerr_prefix(struct kerr *e, const char *fmt, ...)
{
	char old[KERR_MSG_MAX];
	size_t n, ol;
	va_list ap;
	int k;

	if (!e)
		return;
	memcpy(old, e->msg, sizeof(old));
	va_start(ap, fmt);
	k = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	n = k < 0 ? 0 : (size_t)k;
	if (n > sizeof(e->msg) - 3)
		n = sizeof(e->msg) - 3;
	memcpy(e->msg + n, ": ", 2);
	n += 2;
	ol = strlen(old);
	if (ol > sizeof(e->msg) - 1 - n)
		ol = sizeof(e->msg) - 1 - n;
	memcpy(e->msg + n, old, ol);
	e->msg[n + ol] = '\0';
}

enum cclm_exit kerr_exit_code(const struct kerr *e)
{
	switch (e ? e->kind : KERR_NONE) {
	case KERR_NONE:
		return CCLM_EXIT_OK;
	case KERR_USAGE:
		return CCLM_EXIT_USAGE;
	case KERR_FAILED:
	case KERR_IO:
	case KERR_NOMEM:
		return CCLM_EXIT_FAILED;
	default:
		return CCLM_EXIT_CLUSTER;
	}
}

int kerr_is_http(const struct kerr *e, int status)
{
	return e && e->kind == KERR_API && e->http == status;
}

int kerr_is_transient(const struct kerr *e)
{
	return e && (e->kind == KERR_TRANSPORT || kerr_is_http(e, 429) || kerr_is_http(e, 500) || kerr_is_http(e, 502) ||
		     kerr_is_http(e, 503) || kerr_is_http(e, 504));
}
