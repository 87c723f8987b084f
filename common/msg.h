/*
 * msg.h — how plugins talk to the user: one error vocabulary.
 *
 * Only plugin code calls these (common/ never prints). Every message is one
 * line on stderr, prefixed with the executable's name
 * ("kubectl-cclm-enable: cannot reach ..."), lower case, no trailing period.
 * msg_error() returns -1 so callers can `return msg_error(...)`;
 * msg_kerr() prints a struct kerr and returns its exit code.
 */
#ifndef CCLM_MSG_H
#define CCLM_MSG_H

#include <stdio.h>

#include "err.h"

/* Name used as the prefix (basename of argv[0] by default). */
void msg_set_prog(const char *prog);
const char *msg_prog(void);
/* Where messages go (stderr by default; tests redirect it). */
void msg_set_stream(FILE *f);

int msg_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void msg_die(enum cclm_exit code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Print e's message and return the exit code for it. */
enum cclm_exit msg_kerr(const struct kerr *e);

#endif
