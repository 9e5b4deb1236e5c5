/* SPDX-License-Identifier: Apache-2.0 */
/* Policy selection: AND / OR / OutOf / references, smallest sets, skipping failed endorsers. */
#include <stdio.h>
#include <string.h>

#include "tc.h"

static struct lc_chconf *cc;

static void setup(void)
{
    cc = tc_chconf();
}

static void teardown(void)
{
    lc_chconf_free(cc);
}

/* Two peers per org, in org order. */
static const struct wc_endpoint cands[] = {
    {"p0.o1", "h:1", "Org1MSP"}, {"p1.o1", "h:2", "Org1MSP"}, {"p0.o2", "h:3", "Org2MSP"},
    {"p1.o2", "h:4", "Org2MSP"}, {"p0.o3", "h:5", "Org3MSP"}, {"p1.o3", "h:6", "Org3MSP"},
};
#define N_CANDS 6

/* Runs the selection and writes the chosen names as "a,b" into out. */
static int pick(const char *cc_name, const bool *skip, char *out, size_t cap, struct lc_errbuf *err)
{
    size_t idx[N_CANDS], n = 99;
    int r = wc_select_policy(cc, cc_name, cands, N_CANDS, skip, err, idx, &n);
    out[0] = '\0';
    if (r == 0) {
        size_t len = 0;
        for (size_t i = 0; i < n; i++)
            len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? "," : "", cands[idx[i]].name);
    }
    return r;
}

START_TEST(select_and)
{
    char got[128];
    struct lc_errbuf err;
    ck_assert_msg(pick("basic", NULL, got, sizeof got, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(got, "p0.o1,p0.o2");
}
END_TEST

START_TEST(select_or)
{
    char got[128];
    struct lc_errbuf err;
    ck_assert_int_eq(pick("anyone", NULL, got, sizeof got, &err), 0);
    ck_assert_str_eq(got, "p0.o1");
}
END_TEST

START_TEST(select_outof)
{
    char got[128];
    struct lc_errbuf err;
    ck_assert_int_eq(pick("two3", NULL, got, sizeof got, &err), 0);
    ck_assert_str_eq(got, "p0.o1,p0.o2");
    /* both Org1 peers are down: Org2 and Org3 do it */
    bool skip[N_CANDS] = {true, true};
    ck_assert_int_eq(pick("two3", skip, got, sizeof got, &err), 0);
    ck_assert_str_eq(got, "p0.o2,p0.o3");
}
END_TEST

START_TEST(select_two_of_one_org)
{
    char got[128];
    struct lc_errbuf err;
    /* AND('Org1MSP.peer', 'Org1MSP.peer') needs two distinct Org1 peers */
    ck_assert_int_eq(pick("dual1", NULL, got, sizeof got, &err), 0);
    ck_assert_str_eq(got, "p0.o1,p1.o1");
    bool skip[N_CANDS] = {false, true};
    ck_assert_int_eq(pick("dual1", skip, got, sizeof got, &err), LC_EPOLICY);
}
END_TEST

START_TEST(select_nested)
{
    char got[128];
    struct lc_errbuf err;
    /* OR(AND(Org1.member, Org3.peer), Org2.peer): one Org2 peer is the smallest set */
    ck_assert_int_eq(pick("mixed", NULL, got, sizeof got, &err), 0);
    ck_assert_str_eq(got, "p0.o2");
    /* without Org2, the AND branch */
    bool skip[N_CANDS] = {false, false, true, true};
    ck_assert_int_eq(pick("mixed", skip, got, sizeof got, &err), 0);
    ck_assert_str_eq(got, "p0.o1,p0.o3");
}
END_TEST

START_TEST(select_channel_policy_reference)
{
    char got[128];
    struct lc_errbuf err;
    /* /Channel/Application/Endorsement = MAJORITY Endorsement over 3 orgs: any 2 orgs */
    ck_assert_msg(pick("ref", NULL, got, sizeof got, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(got, "p0.o1,p0.o2");
    bool skip[N_CANDS] = {false, false, true, true, false, false};
    ck_assert_int_eq(pick("ref", skip, got, sizeof got, &err), 0);
    ck_assert_str_eq(got, "p0.o1,p0.o3");
}
END_TEST

START_TEST(select_skips_failed)
{
    char got[128];
    struct lc_errbuf err;
    bool skip[N_CANDS] = {true};
    ck_assert_int_eq(pick("basic", skip, got, sizeof got, &err), 0);
    ck_assert_str_eq(got, "p1.o1,p0.o2");
    bool skip2[N_CANDS] = {true, false, true};
    ck_assert_int_eq(pick("basic", skip2, got, sizeof got, &err), 0);
    ck_assert_str_eq(got, "p1.o1,p1.o2");
    /* no Org2 peer left: AND cannot be met */
    bool skip3[N_CANDS] = {false, false, true, true};
    ck_assert_int_eq(pick("basic", skip3, got, sizeof got, &err), LC_EPOLICY);
    ck_assert_msg(strstr(err.msg, "chaincode basic: endorsement policy") != NULL, "%s", err.msg);
    ck_assert_msg(strstr(err.msg, "endorsers available: p0.o1 (Org1MSP), p1.o1 (Org1MSP)") != NULL,
                  "%s", err.msg);
}
END_TEST

START_TEST(select_unsatisfiable)
{
    char got[128];
    struct lc_errbuf err;
    /* OR('Org1MSP.admin'): peers are not admins */
    ck_assert_int_eq(pick("admins", NULL, got, sizeof got, &err), LC_EPOLICY);
}
END_TEST

START_TEST(select_unknown_chaincode)
{
    char got[128];
    struct lc_errbuf err;
    ck_assert_int_eq(pick("nope", NULL, got, sizeof got, &err), LC_ENOTFOUND);
    ck_assert_str_eq(err.msg, "chaincode nope: not defined on channel mychannel");
}
END_TEST

START_TEST(select_needs_msp_ids)
{
    const struct wc_endpoint anon[] = {{"a", "h:1", NULL}, {"b", "h:2", NULL}};
    size_t idx[2], n;
    struct lc_errbuf err;
    ck_assert_int_eq(wc_select_policy(cc, "anyone", anon, 2, NULL, &err, idx, &n), LC_EPOLICY);
    ck_assert_ptr_nonnull(strstr(err.msg, "no endorser with a known MSP id"));
    ck_assert_int_eq(wc_select_policy(NULL, "anyone", anon, 2, NULL, &err, idx, &n), LC_EINVALID);
    struct wc_endpoint many[WC_SELECT_MAX_CANDIDATES + 1];
    for (size_t i = 0; i <= WC_SELECT_MAX_CANDIDATES; i++)
        many[i] = cands[0];
    size_t big[WC_SELECT_MAX_CANDIDATES + 1];
    ck_assert_int_eq(
        wc_select_policy(cc, "anyone", many, WC_SELECT_MAX_CANDIDATES + 1, NULL, &err, big, &n),
        LC_ETOOBIG);
}
END_TEST

START_TEST(selection_names)
{
    enum wc_selection s;
    ck_assert_int_eq(wc_selection_parse("policy", &s), 0);
    ck_assert_int_eq(s, WC_SELECT_POLICY);
    ck_assert_int_eq(wc_selection_parse("static", &s), 0);
    ck_assert_int_eq(s, WC_SELECT_STATIC);
    ck_assert_int_eq(wc_selection_parse("explicit", &s), 0);
    ck_assert_int_eq(s, WC_SELECT_EXPLICIT);
    ck_assert_int_eq(wc_selection_parse("random", &s), LC_EINVALID);
    ck_assert_str_eq(wc_selection_name(WC_SELECT_STATIC), "static");
}
END_TEST

Suite *select_suite(void)
{
    Suite *s = suite_create("select");
    TCase *t = tcase_create("select");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, select_and);
    tcase_add_test(t, select_or);
    tcase_add_test(t, select_outof);
    tcase_add_test(t, select_two_of_one_org);
    tcase_add_test(t, select_nested);
    tcase_add_test(t, select_channel_policy_reference);
    tcase_add_test(t, select_skips_failed);
    tcase_add_test(t, select_unsatisfiable);
    tcase_add_test(t, select_unknown_chaincode);
    tcase_add_test(t, select_needs_msp_ids);
    tcase_add_test(t, selection_names);
    suite_add_tcase(s, t);
    return s;
}
