/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for the log level spec: parsing, per-module levels, and rejections. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "libcommon/log.h"

START_TEST(default_level_applies_to_all_modules)
{
    ck_assert_int_eq(lc_log_spec_set("warn", NULL), 0);
    ck_assert(!lc_log_enabled("orderer", LC_LOG_INFO));
    ck_assert(lc_log_enabled("orderer", LC_LOG_WARN));
    ck_assert(lc_log_enabled("rpc", LC_LOG_ERROR));
}
END_TEST

START_TEST(module_levels_override_default)
{
    ck_assert_int_eq(lc_log_spec_set("info:orderer=debug:rpc,kv=error", NULL), 0);
    ck_assert(lc_log_enabled("orderer", LC_LOG_DEBUG));
    ck_assert(!lc_log_enabled("rpc", LC_LOG_WARN));
    ck_assert(lc_log_enabled("kv", LC_LOG_ERROR));
    ck_assert(!lc_log_enabled("msp", LC_LOG_DEBUG));
    ck_assert(lc_log_enabled("msp", LC_LOG_INFO));
    char buf[64];
    lc_log_spec_get(buf, sizeof buf);
    ck_assert_str_eq(buf, "info:orderer=debug:rpc,kv=error");
}
END_TEST

START_TEST(bad_level_is_rejected_and_old_spec_kept)
{
    ck_assert_int_eq(lc_log_spec_set("debug", NULL), 0);
    struct lc_errbuf err;
    ck_assert_int_eq(lc_log_spec_set("info:orderer=loud", &err), LC_ESYNTAX);
    ck_assert_ptr_nonnull(strstr(err.msg, "loud"));
    ck_assert(lc_log_enabled("orderer", LC_LOG_DEBUG));
}
END_TEST

START_TEST(bad_module_name_is_rejected)
{
    struct lc_errbuf err;
    ck_assert_int_eq(lc_log_spec_set("info:=debug", &err), LC_ESYNTAX);
    ck_assert_ptr_nonnull(strstr(err.msg, "module"));
    ck_assert_int_eq(lc_log_spec_set("", &err), LC_ESYNTAX);
    char big[600];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ck_assert_int_eq(lc_log_spec_set(big, &err), LC_ETOOBIG);
}
END_TEST

START_TEST(writing_lines_does_not_crash)
{
    lc_log_set_json(true);
    lc_log_write(LC_LOG_INFO, "test", "event=\"quoted\" tab=\t");
    lc_log_set_json(false);
    lc_log_write(LC_LOG_ERROR, "test", "plain %d", 42);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("spec");
    tcase_add_test(tc, default_level_applies_to_all_modules);
    tcase_add_test(tc, module_levels_override_default);
    tcase_add_test(tc, bad_level_is_rejected_and_old_spec_kept);
    tcase_add_test(tc, bad_module_name_is_rejected);
    tcase_add_test(tc, writing_lines_does_not_crash);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
