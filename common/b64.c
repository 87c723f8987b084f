/* b64.c — base64 for kubeconfig *-data fields; see json.h. */
#include "json.h"
#include "json_internal.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- base64 ---------------------------------------------------------- */

static const char b64_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int b64_decode(const char *text, size_t len, const char *what, struct buf *out, struct kerr *e)
{
	size_t start = out->len, i, q = 0, pad = 0;
	unsigned char quad[4];
	char bytes[3];
	int v;

	if (!what)
		what = "input";
	if (buf_grow(out, len / 4 * 3))
		return json_buf_error(e, errno, "cannot decode base64");
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f')
			continue;
		if (c == '=') {
			/* only as the last one or two characters of a quantum */
			if (q < 2)
				goto bad;
			v = 0;
			pad++;
		} else {
			if (pad || (v = b64_value(c)) < 0)
				goto bad;
		}
		quad[q++] = (unsigned char)v;
		if (q < 4)
			continue;
		q = 0;
		bytes[0] = (char)(quad[0] << 2 | quad[1] >> 4);
		bytes[1] = (char)(quad[1] << 4 | quad[2] >> 2);
		bytes[2] = (char)(quad[2] << 6 | quad[3]);
		if (buf_add(out, bytes, 3 - pad)) {
			json_buf_truncate(out, start);
			return json_buf_error(e, errno, "cannot decode base64");
		}
		if (pad)
			pad = 4; /* nothing may follow a padded quantum */
	}
	if (q || (pad && pad != 4))
		goto bad;
	return 0;
bad:
	json_buf_truncate(out, start);
	return kerr_set(e, KERR_PARSE, "'%s' is not valid base64", what);
}

int b64_encode(const void *data, size_t len, struct buf *out, struct kerr *e)
{
	const unsigned char *p = data;
	size_t i;
	char q[4];

	if (len > (SIZE_MAX - 4) / 4 * 3)
		return kerr_set(e, KERR_NOMEM, "cannot encode base64: out of memory");
	if (buf_grow(out, (len + 2) / 3 * 4))
		return json_buf_error(e, errno, "cannot encode base64");
	for (i = 0; i + 3 <= len; i += 3) {
		q[0] = b64_chars[p[i] >> 2];
		q[1] = b64_chars[(p[i] & 3) << 4 | p[i + 1] >> 4];
		q[2] = b64_chars[(p[i + 1] & 15) << 2 | p[i + 2] >> 6];
		q[3] = b64_chars[p[i + 2] & 63];
		buf_add(out, q, 4);
	}
	if (len - i == 1) {
		q[0] = b64_chars[p[i] >> 2];
		q[1] = b64_chars[(p[i] & 3) << 4];
		q[2] = q[3] = '=';
		buf_add(out, q, 4);
	} else if (len - i == 2) {
		q[0] = b64_chars[p[i] >> 2];
		q[1] = b64_chars[(p[i] & 3) << 4 | p[i + 1] >> 4];
		q[2] = b64_chars[(p[i + 1] & 15) << 2];
		q[3] = '=';
		buf_add(out, q, 4);
	}
	return 0;
}
