/* Unit tests of common/client.c's error shaping and common/redact.c (the
 * network half of the client is tested against the test clusters in
 * tests/live/test_client_live.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "client.h"
#include "redact.h"

static void test_status_forbidden(void **state)
{
	const char *body = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":"
			   "\"pods is forbidden: User \\\"viewer\\\" cannot create resource \\\"pods\\\"\","
			   "\"reason\":\"Forbidden\",\"code\":403}";
	struct kerr e = KERR_INIT;

	(void)state;
	kclient_status_error(403, body, strlen(body), &e);
	assert_int_equal(e.kind, KERR_API);
	assert_int_equal(e.http, 403);
	assert_string_equal(e.reason, "Forbidden");
	assert_string_equal(e.msg, "(403 Forbidden) pods is forbidden: User \"viewer\" cannot create resource \"pods\"");
	assert_int_equal(kerr_exit_code(&e), CCLM_EXIT_CLUSTER);
}

static void test_status_invalid_with_causes(void **state)
{
	const char *body = "{\"kind\":\"Status\",\"message\":\"VirtualMachineInstanceMigration.kubevirt.io \\\"x\\\" is invalid\","
			   "\"reason\":\"Invalid\",\"code\":422,\"details\":{\"causes\":[{\"reason\":\"FieldValueRequired\","
			   "\"message\":\"Required value\",\"field\":\"spec.sendTo.connectURL\"}]}}";
	struct kerr e = KERR_INIT;

	(void)state;
	kclient_status_error(422, body, strlen(body), &e);
	assert_string_equal(e.msg, "(422 Invalid) VirtualMachineInstanceMigration.kubevirt.io \"x\" is invalid; "
				   "spec.sendTo.connectURL: Required value");
}

static void test_status_not_json(void **state)
{
	const char *body = "<html>\n<body>bad gateway</body>\n</html>\n";
	struct kerr e = KERR_INIT;

	(void)state;
	kclient_status_error(502, body, strlen(body), &e);
	assert_string_equal(e.msg, "(502 Error) <html> <body>bad gateway</body> </html>");
	kclient_status_error(401, "", 0, &e);
	assert_string_equal(e.msg, "(401 Unauthorized) the server gave no details");
	assert_string_equal(e.reason, "Unauthorized");
}

static void test_status_retry_after(void **state)
{
	const char *body = "{\"kind\":\"Status\",\"message\":\"slow down\",\"reason\":\"TooManyRequests\",\"code\":429,"
			   "\"details\":{\"retryAfterSeconds\":7}}";
	struct kerr e = KERR_INIT;

	(void)state;
	kclient_status_error(429, body, strlen(body), &e);
	assert_int_equal(e.retry_after, 7);
	assert_string_equal(e.msg, "(429 TooManyRequests) slow down");
}

static void test_redact(void **state)
{
	const char *secret = "{\"kind\":\"Secret\",\"data\":{\"token\":\"ZXlKaGJH\",\"ca.crt\":\"LS0t\"},"
			     "\"metadata\":{\"name\":\"s\"}}";
	const char *cfg = "{\"users\":[{\"user\":{\"token\":\"abc123\",\"client-key-data\":\"S0VZ\"}}],"
			  "\"status\":{\"token\":\"t0k3n\",\"expirationTimestamp\":\"x\"}}";
	const char *raw = "Authorization: Bearer sekrit-value and more";
	struct buf b = BUF_INIT;

	(void)state;
	redact_body(secret, strlen(secret), &b);
	assert_null(strstr(b.s, "ZXlKaGJH"));
	assert_null(strstr(b.s, "LS0t"));
	assert_non_null(strstr(b.s, "\"name\":\"s\""));
	buf_reset(&b);
	redact_body(cfg, strlen(cfg), &b);
	assert_null(strstr(b.s, "abc123"));
	assert_null(strstr(b.s, "S0VZ"));
	assert_null(strstr(b.s, "t0k3n"));
	assert_non_null(strstr(b.s, "expirationTimestamp"));
	buf_reset(&b);
	redact_body(raw, strlen(raw), &b);
	assert_string_equal(b.s, "Authorization: Bearer <redacted> and more");
	buf_release(&b);
	assert_true(redact_is_secret_key("clientKeyData"));
	assert_true(redact_is_secret_key("access_token"));
	assert_false(redact_is_secret_key("name"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_forbidden),
		cmocka_unit_test(test_status_invalid_with_causes),
		cmocka_unit_test(test_status_not_json),
		cmocka_unit_test(test_status_retry_after),
		cmocka_unit_test(test_redact),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
