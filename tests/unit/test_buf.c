/* Unit tests for common/buf.c and common/err.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"

static void test_init_empty(void **state)
{
	struct buf a = BUF_INIT, b;

	(void)state;
	assert_ptr_equal(a.s, buf_empty);
	assert_string_equal(a.s, "");
	assert_int_equal(a.len, 0);
	assert_int_equal(a.alloc, 0);
	buf_init(&b, 10);
	assert_ptr_equal(b.s, buf_empty);
	assert_int_equal(b.max, 10);
	/* releasing or resetting an untouched buffer is harmless */
	buf_reset(&b);
	buf_release(&b);
	assert_ptr_equal(b.s, buf_empty);
	assert_int_equal(b.max, 10);
	assert_string_equal(buf_empty, "");
}

static void test_add_grows(void **state)
{
	struct buf b = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < 100000; i++)
		assert_int_equal(buf_addch(&b, (char)('a' + i % 26)), 0);
	assert_int_equal(b.len, 100000);
	assert_true(b.alloc > b.len);
	assert_int_equal(strlen(b.s), 100000);
	for (i = 0; i < 100000; i++)
		assert_int_equal(b.s[i], 'a' + i % 26);
	buf_release(&b);
	assert_ptr_equal(b.s, buf_empty);
	assert_int_equal(b.len, 0);
}

static void test_add_binary(void **state)
{
	struct buf b = BUF_INIT;
	static const char data[] = { 'x', 0, 'y', 0 };

	(void)state;
	assert_int_equal(buf_add(&b, data, sizeof(data)), 0);
	assert_int_equal(b.len, 4);
	assert_memory_equal(b.s, data, 4);
	assert_int_equal(b.s[4], '\0');
	assert_int_equal(buf_add(&b, NULL, 0), 0);
	assert_int_equal(b.len, 4);
	buf_release(&b);
}

static void test_addstr_addf(void **state)
{
	struct buf b = BUF_INIT;
	char big[300];

	(void)state;
	assert_int_equal(buf_addstr(&b, "hello"), 0);
	assert_int_equal(buf_addch(&b, ' '), 0);
	assert_int_equal(buf_addf(&b, "%s=%d/%zu", "n", -42, (size_t)7), 0);
	assert_string_equal(b.s, "hello n=-42/7");
	assert_int_equal(b.len, strlen("hello n=-42/7"));
	/* a formatted piece longer than the first allocation */
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(buf_addf(&b, "[%s]", big), 0);
	assert_int_equal(b.len, 13 + 2 + 299);
	assert_int_equal(b.s[b.len - 1], ']');
	assert_int_equal(b.s[14], 'z');
	assert_int_equal(buf_addf(&b, "%s", ""), 0);
	assert_int_equal(b.len, 13 + 2 + 299);
	buf_release(&b);
}

static int vadd_helper(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int vadd_helper(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = buf_vaddf(b, fmt, ap);
	va_end(ap);
	return r;
}

static void test_vaddf(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(vadd_helper(&b, "%d-%s-%c", 1, "two", '3'), 0);
	assert_string_equal(b.s, "1-two-3");
	buf_release(&b);
}

static void test_cap_exact(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 8);
	assert_int_equal(buf_addstr(&b, "12345678"), 0);
	assert_int_equal(b.len, 8);
	errno = 0;
	assert_int_equal(buf_addch(&b, '9'), -1);
	assert_int_equal(errno, EFBIG);
	assert_string_equal(b.s, "12345678");
	assert_int_equal(b.len, 8);
	buf_release(&b);
}

static void test_cap_unchanged(void **state)
{
	struct buf b;
	char *before;
	size_t alloc;

	(void)state;
	buf_init(&b, 10);
	assert_int_equal(buf_addstr(&b, "abc"), 0);
	before = b.s;
	alloc = b.alloc;
	errno = 0;
	assert_int_equal(buf_addstr(&b, "defghijklmnop"), -1);
	assert_int_equal(errno, EFBIG);
	assert_ptr_equal(b.s, before);
	assert_int_equal(b.alloc, alloc);
	assert_int_equal(b.len, 3);
	assert_string_equal(b.s, "abc");
	errno = 0;
	assert_int_equal(buf_addf(&b, "%s", "0123456789"), -1);
	assert_int_equal(errno, EFBIG);
	assert_string_equal(b.s, "abc");
	errno = 0;
	assert_int_equal(buf_grow(&b, 8), -1);
	assert_int_equal(errno, EFBIG);
	assert_int_equal(buf_grow(&b, 7), 0);
	assert_int_equal(b.len, 3);
	/* still usable up to the cap */
	assert_int_equal(buf_addstr(&b, "defghij"), 0);
	assert_string_equal(b.s, "abcdefghij");
	buf_release(&b);
	assert_int_equal(b.max, 10);
}

static void test_cap_first_append(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 4);
	errno = 0;
	assert_int_equal(buf_addstr(&b, "hello"), -1);
	assert_int_equal(errno, EFBIG);
	assert_ptr_equal(b.s, buf_empty);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.s, "");
	buf_release(&b);
}

static void test_grow_overflow(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(buf_addstr(&b, "x"), 0);
	errno = 0;
	assert_int_equal(buf_grow(&b, SIZE_MAX), -1);
	assert_int_equal(errno, ENOMEM);
	errno = 0;
	assert_int_equal(buf_grow(&b, SIZE_MAX - 1), -1);
	assert_int_equal(errno, ENOMEM);
	assert_string_equal(b.s, "x");
	assert_int_equal(b.len, 1);
	buf_release(&b);
}

static void test_grow_keeps_len(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(buf_grow(&b, 1000), 0);
	assert_int_equal(b.len, 0);
	assert_true(b.alloc >= 1001);
	assert_string_equal(b.s, "");
	buf_release(&b);
}

static void test_detach(void **state)
{
	struct buf b;
	size_t len = 99;
	char *s;

	(void)state;
	buf_init(&b, 100);
	assert_int_equal(buf_addstr(&b, "detached"), 0);
	s = buf_detach(&b, &len);
	assert_non_null(s);
	assert_string_equal(s, "detached");
	assert_int_equal(len, 8);
	assert_ptr_equal(b.s, buf_empty);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.alloc, 0);
	assert_int_equal(b.max, 100);
	free(s);
	/* reusable afterwards */
	assert_int_equal(buf_addstr(&b, "again"), 0);
	assert_string_equal(b.s, "again");
	buf_release(&b);
}

static void test_detach_empty(void **state)
{
	struct buf b = BUF_INIT;
	size_t len = 99;
	char *s;

	(void)state;
	s = buf_detach(&b, &len);
	assert_non_null(s);
	assert_ptr_not_equal(s, buf_empty);
	assert_string_equal(s, "");
	assert_int_equal(len, 0);
	free(s);
	s = buf_detach(&b, NULL);
	assert_non_null(s);
	free(s);
}

static void test_reset_reuse(void **state)
{
	struct buf b = BUF_INIT;
	char *storage;
	size_t alloc;

	(void)state;
	assert_int_equal(buf_addstr(&b, "first content"), 0);
	storage = b.s;
	alloc = b.alloc;
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.s, "");
	assert_ptr_equal(b.s, storage);
	assert_int_equal(b.alloc, alloc);
	assert_int_equal(buf_addstr(&b, "second"), 0);
	assert_ptr_equal(b.s, storage);
	assert_string_equal(b.s, "second");
	buf_release(&b);
	assert_int_equal(buf_addstr(&b, "third"), 0);
	assert_string_equal(b.s, "third");
	buf_release(&b);
}

static void test_kerr_set(void **state)
{
	struct kerr e = KERR_INIT;

	(void)state;
	e.http = 500;
	memcpy(e.reason, "Old", 4);
	e.retry_after = 9;
	assert_int_equal(kerr_set(&e, KERR_CONFIG, "cluster '%s' has no server", "dev"), -1);
	assert_int_equal(e.kind, KERR_CONFIG);
	assert_string_equal(e.msg, "cluster 'dev' has no server");
	assert_int_equal(e.http, 0);
	assert_string_equal(e.reason, "");
	assert_int_equal(e.retry_after, -1);
	assert_int_equal(kerr_set(NULL, KERR_IO, "ignored %d", 1), -1);
}

static void test_kerr_truncates(void **state)
{
	struct kerr e = KERR_INIT;
	char longs[3000];

	(void)state;
	memset(longs, 'm', sizeof(longs) - 1);
	longs[sizeof(longs) - 1] = '\0';
	assert_int_equal(kerr_set(&e, KERR_PARSE, "%s", longs), -1);
	assert_int_equal(strlen(e.msg), KERR_MSG_MAX - 1);
	kerr_prefix(&e, "context");
	assert_int_equal(strlen(e.msg), KERR_MSG_MAX - 1);
	assert_memory_equal(e.msg, "context: mmm", 12);
}

static void test_kerr_prefix(void **state)
{
	struct kerr e = KERR_INIT;

	(void)state;
	kerr_set(&e, KERR_TLS, "certificate has expired");
	kerr_prefix(&e, "cluster '%s'", "prod");
	assert_string_equal(e.msg, "cluster 'prod': certificate has expired");
	kerr_prefix(&e, "outer");
	assert_string_equal(e.msg, "outer: cluster 'prod': certificate has expired");
	assert_int_equal(e.kind, KERR_TLS);
	kerr_prefix(NULL, "nothing %d", 1);
}

static void test_kerr_clear(void **state)
{
	struct kerr e = KERR_INIT;

	(void)state;
	kerr_set(&e, KERR_API, "(403 Forbidden) pods is forbidden");
	e.http = 403;
	kerr_clear(&e);
	assert_int_equal(e.kind, KERR_NONE);
	assert_int_equal(e.http, 0);
	assert_string_equal(e.msg, "");
	assert_int_equal(e.retry_after, -1);
	kerr_clear(NULL);
}

static void test_kerr_exit_code(void **state)
{
	static const struct {
		enum kerr_kind kind;
		enum cclm_exit code;
	} t[] = {
		{ KERR_NONE, CCLM_EXIT_OK },
		{ KERR_USAGE, CCLM_EXIT_USAGE },
		{ KERR_CONFIG, CCLM_EXIT_CLUSTER },
		{ KERR_CRED, CCLM_EXIT_CLUSTER },
		{ KERR_TRANSPORT, CCLM_EXIT_CLUSTER },
		{ KERR_TLS, CCLM_EXIT_CLUSTER },
		{ KERR_API, CCLM_EXIT_CLUSTER },
		{ KERR_PARSE, CCLM_EXIT_CLUSTER },
		{ KERR_LIMIT, CCLM_EXIT_CLUSTER },
		{ KERR_IO, CCLM_EXIT_FAILED },
		{ KERR_NOMEM, CCLM_EXIT_FAILED },
		{ KERR_FAILED, CCLM_EXIT_FAILED },
	};
	struct kerr e = KERR_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		kerr_set(&e, t[i].kind, "x");
		assert_int_equal(kerr_exit_code(&e), t[i].code);
	}
	assert_int_equal(kerr_exit_code(NULL), CCLM_EXIT_OK);
}

static void test_kerr_is_http(void **state)
{
	struct kerr e = KERR_INIT;

	(void)state;
	kerr_set(&e, KERR_API, "(404 Not Found) not found");
	e.http = 404;
	assert_true(kerr_is_http(&e, 404));
	assert_false(kerr_is_http(&e, 403));
	e.kind = KERR_TRANSPORT;
	assert_false(kerr_is_http(&e, 404));
	assert_false(kerr_is_http(NULL, 404));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_empty),
		cmocka_unit_test(test_add_grows),
		cmocka_unit_test(test_add_binary),
		cmocka_unit_test(test_addstr_addf),
		cmocka_unit_test(test_vaddf),
		cmocka_unit_test(test_cap_exact),
		cmocka_unit_test(test_cap_unchanged),
		cmocka_unit_test(test_cap_first_append),
		cmocka_unit_test(test_grow_overflow),
		cmocka_unit_test(test_grow_keeps_len),
		cmocka_unit_test(test_detach),
		cmocka_unit_test(test_detach_empty),
		cmocka_unit_test(test_reset_reuse),
		cmocka_unit_test(test_kerr_set),
		cmocka_unit_test(test_kerr_truncates),
		cmocka_unit_test(test_kerr_prefix),
		cmocka_unit_test(test_kerr_clear),
		cmocka_unit_test(test_kerr_exit_code),
		cmocka_unit_test(test_kerr_is_http),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
