/*
 * buf.h — a growable byte buffer with a size cap.
 *
 * Ownership: a struct buf owns its storage. `s` is never NULL (it points at a
 * shared empty string until the first allocation) and is always
 * NUL-terminated, so an untouched buf is safe to print. buf_detach() hands
 * the storage to the caller, who frees it with free().
 *
 * The cap (`max`, 0 = unlimited) bounds how large the content may grow: an
 * append that would pass it fails and leaves the buffer unchanged, so a
 * server cannot make a response body allocate without limit.
 */
#ifndef CCLM_BUF_H
#define CCLM_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *s;
	size_t len;
	size_t alloc; /* 0 while s points at the shared empty string */
	size_t max;   /* largest allowed len; 0 = no cap */
};

extern char buf_empty[];
#define BUF_INIT { buf_empty, 0, 0, 0 }

/* Set up an empty buffer whose content may not exceed `max` bytes (0: no cap). */
void buf_init(struct buf *b, size_t max);
/* Free the storage; the buffer is empty and reusable (the cap is kept). */
void buf_release(struct buf *b);
/* Empty the buffer, keeping its storage. */
void buf_reset(struct buf *b);
/* Hand the storage to the caller (free() it); the buffer becomes empty. */
char *buf_detach(struct buf *b, size_t *len);

/* Appends return 0, or -1 (errno ENOMEM, or EFBIG past the cap) with the
 * buffer unchanged. */
int buf_add(struct buf *b, const void *data, size_t n);
int buf_addstr(struct buf *b, const char *s);
int buf_addch(struct buf *b, char c);
int buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vaddf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Make room for `extra` more bytes without changing len (0 or -1 as above). */
int buf_grow(struct buf *b, size_t extra);

#endif
