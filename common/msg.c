/* msg.c — see msg.h. */
#include "msg.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char *prog = "kubectl-cclm";
static FILE *stream;

void msg_set_prog(const char *p)
{
	const char *slash = p ? strrchr(p, '/') : NULL;

	if (p)
		prog = slash ? slash + 1 : p;
}

const char *msg_prog(void)
{
	return prog;
}

void msg_set_stream(FILE *f)
{
	stream = f;
}

static void vsay(const char *kind, const char *fmt, va_list ap)
{
	FILE *f = stream ? stream : stderr;

	fprintf(f, "%s: %s", prog, kind);
	vfprintf(f, fmt, ap);
	fputc('\n', f);
	fflush(f);
}

int msg_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay("", fmt, ap);
	va_end(ap);
	return -1;
}

void msg_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay("warning: ", fmt, ap);
	va_end(ap);
}

void msg_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay("", fmt, ap);
	va_end(ap);
}

void msg_die(enum cclm_exit code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay("", fmt, ap);
	va_end(ap);
	exit((int)code);
}

enum cclm_exit msg_kerr(const struct kerr *e)
{
	msg_error("%s", e->msg[0] ? e->msg : "unknown error");
	return kerr_exit_code(e);
}
