/* SPDX-License-Identifier: Apache-2.0 */
/* Response validation with hand-built endorser answers: the good case and every rejection. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "libcommon/crypto.h"
#include "tc.h"

/* One endorser of a hand-built round. */
struct end {
    const char *name;
    const char *mspid; /* the endpoint's MSP id as configured (may be NULL) */
    struct lc_signer *signer;
    struct tc_resp resp;
};

static struct lc_chconf *cc;
static struct lc_signer *user;
static struct wc_proposal *prop;

static void setup(void)
{
    cc = tc_chconf();
    user = tc_user(1, "User1");
    prop = tc_proposal(user, "basic");
}

static void teardown(void)
{
    wc_proposal_free(prop);
    lc_signer_free(user);
    lc_chconf_free(cc);
}

static struct wc_responses *round_of(struct end *e, size_t n)
{
    struct wc_responses *rs = NULL;
    ck_assert_int_eq(wc_responses_new(n, &rs), 0);
    for (size_t i = 0; i < n; i++) {
        struct wc_endpoint ep = {e[i].name, "127.0.0.1:1", e[i].mspid};
        ProtobufCBinaryData b = tc_response(prop, e[i].signer, &e[i].resp);
        ck_assert_int_eq(wc_responses_set(rs, i, &ep, b.data, b.len), 0);
        free(b.data);
    }
    return rs;
}

static void free_ends(struct end *e, size_t n)
{
    for (size_t i = 0; i < n; i++)
        lc_signer_free(e[i].signer);
}

#define OK_RESP                                                                                    \
    {                                                                                              \
        .status = 200, .payload = "ok"                                                             \
    }

static int validate(struct wc_responses *rs, struct lc_errbuf *err)
{
    return wc_responses_validate(rs, prop, cc, time(NULL), err);
}

START_TEST(validate_ok)
{
    struct end e[] = {
        {"peer0.org1", "Org1MSP", tc_peer(1, 0), OK_RESP},
        {"peer0.org2", "Org2MSP", tc_peer(2, 0), OK_RESP},
        {"peer1.org1", NULL, tc_peer(1, 1), OK_RESP},
    };
    struct wc_responses *rs = round_of(e, 3);
    size_t len;
    ck_assert_ptr_null(wc_responses_result(rs, &len)); /* not before validation */
    struct lc_errbuf err;
    ck_assert_msg(validate(rs, &err) == 0, "%s", err.msg);
    const uint8_t *res = wc_responses_result(rs, &len);
    ck_assert_uint_eq(len, 2);
    ck_assert_mem_eq(res, "ok", 2);
    ck_assert_int_eq(wc_responses_result_status(rs), 200);
    ck_assert_uint_eq(wc_responses_count(rs), 3);
    ck_assert_str_eq(wc_responses_endorser(rs, 1), "peer0.org2");
    ck_assert_int_eq(wc_responses_status(rs, 1), 200);
    ck_assert_str_eq(wc_responses_message(rs, 1), "");
    ck_assert_int_eq(wc_responses_error(rs, 1, NULL), 0);
    /* a 3xx status is a success too */
    wc_responses_free(rs);
    e[0].resp.status = e[1].resp.status = e[2].resp.status = 302;
    rs = round_of(e, 3);
    ck_assert_msg(validate(rs, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(wc_responses_result_status(rs), 302);
    wc_responses_free(rs);
    free_ends(e, 3);
}
END_TEST

START_TEST(validate_payload_mismatch)
{
    struct end e[] = {
        {"peer0.org1", "Org1MSP", tc_peer(1, 0), {.status = 200, .payload = "ok", .results = "A"}},
        {"peer0.org2", "Org2MSP", tc_peer(2, 0), {.status = 200, .payload = "ok", .results = "B"}},
        {"peer1.org1", "Org1MSP", tc_peer(1, 1), {.status = 200, .payload = "ok", .results = "A"}},
    };
    struct wc_responses *rs = round_of(e, 3);
    struct lc_errbuf err;
    ck_assert_int_eq(validate(rs, &err), LC_EMISMATCH);
    ck_assert_str_eq(err.msg, "ProposalResponsePayloads do not match: [peer0.org1, peer1.org1] "
                              "vs [peer0.org2]");
    ck_assert_ptr_null(wc_responses_result(rs, &(size_t){0}));
    wc_responses_free(rs);
    free_ends(e, 3);
}
END_TEST

START_TEST(validate_chaincode_payload_mismatch)
{
    /* the signed payloads agree, the unsigned Response.payload does not */
    struct end e[] = {
        {"peer0.org1", "Org1MSP", tc_peer(1, 0), OK_RESP},
        {"peer0.org2",
         "Org2MSP",
         tc_peer(2, 0),
         {.status = 200, .payload = "ok", .outer_payload = "forged"}},
    };
    struct wc_responses *rs = round_of(e, 2);
    struct lc_errbuf err;
    ck_assert_int_eq(validate(rs, &err), LC_EMISMATCH);
    ck_assert_str_eq(err.msg, "chaincode response payloads do not match: [peer0.org1] vs "
                              "[peer0.org2]");
    wc_responses_free(rs);
    free_ends(e, 2);
}
END_TEST

START_TEST(validate_outer_differs_from_signed)
{
    struct end e[] = {
        {"peer0.org1",
         "Org1MSP",
         tc_peer(1, 0),
         {.status = 200, .payload = "ok", .outer_payload = "forged"}},
    };
    struct wc_responses *rs = round_of(e, 1);
    struct lc_errbuf err;
    ck_assert_int_eq(validate(rs, &err), LC_EMISMATCH);
    ck_assert_ptr_nonnull(strstr(err.msg, "endorser peer0.org1: response payload differs"));
    wc_responses_free(rs);
    free_ends(e, 1);
}
END_TEST

START_TEST(validate_bad_signature)
{
    struct end e[] = {
        {"peer0.org1", "Org1MSP", tc_peer(1, 0), OK_RESP},
        {"peer0.org2",
         "Org2MSP",
         tc_peer(2, 0),
         {.status = 200, .payload = "ok", .corrupt_sig = 1}},
    };
    struct wc_responses *rs = round_of(e, 2);
    struct lc_errbuf err;
    ck_assert_int_eq(validate(rs, &err), LC_EBADSIG);
    ck_assert_msg(strncmp(err.msg, "endorser peer0.org2: endorsement signature: ", 44) == 0, "%s",
                  err.msg);
    wc_responses_free(rs);
    free_ends(e, 2);
}
END_TEST

START_TEST(validate_endorser_is_a_client)
{
    struct end e[] = {{"peer0.org1", "Org1MSP", tc_user(1, "User1"), OK_RESP}};
    struct wc_responses *rs = round_of(e, 1);
    struct lc_errbuf err;
    ck_assert_int_eq(validate(rs, &err), LC_EROLE);
    ck_assert_str_eq(err.msg, "endorser peer0.org1: identity is not a peer of Org1MSP");
    wc_responses_free(rs);
    free_ends(e, 1);
}
END_TEST

START_TEST(validate_endorser_is_an_orderer)
{
    struct end e[] = {{"orderer0", NULL, tc_orderer(), OK_RESP}};
    struct wc_responses *rs = round_of(e, 1);
    struct lc_errbuf err;
    ck_assert_int_eq(validate(rs, &err), LC_EROLE);
    ck_assert_str_eq(err.msg, "endorser orderer0: identity is not a peer of OrdererMSP");
    wc_responses_free(rs);
    free_ends(e, 1);
}
END_TEST

/* A signer of mspid with the certificate and key in PEM. */
static struct lc_signer *signer_from(const char *mspid, const char *cert, size_t cert_len,
                                     const char *key, size_t key_len)
{
    struct lc_signer *s = NULL;
    struct lc_errbuf err;
    ck_assert_msg(lc_signer_new(mspid, cert, cert_len, key, key_len, &err, &s) == 0, "%s", err.msg);
    return s;
}

static char *slurp(const char *path, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s", path);
    char *buf = calloc(1, 65536);
    size_t n = fread(buf, 1, 65535, f);
    fclose(f);
    *ret_len = n;
    return buf;
}

/* A certificate for a fresh key, issued by org1's CA (or self-signed) with OU ou, valid in
 * [nb, na] (nb 0: from the CA's own start); returns its signer as mspid. */
static struct lc_signer *issued(const char *mspid, bool by_org1_ca, const char *ou, time_t nb,
                                time_t na)
{
    struct lc_errbuf err;
    struct lc_privkey *key = NULL, *ca_key = NULL;
    struct lc_cert *ca = NULL, *cert = NULL;
    ck_assert_int_eq(lc_privkey_generate(&key), 0);
    if (by_org1_ca) {
        size_t l;
        char *pem = slurp(tc_path("crypto/peerOrganizations/org1.example.com/ca/"
                                  "ca.org1.example.com-cert.pem"),
                          &l);
        ck_assert_int_eq(lc_cert_from_pem(pem, l, &err, &ca), 0);
        free(pem);
        pem = slurp(tc_path("crypto/peerOrganizations/org1.example.com/ca/priv_sk"), &l);
        ck_assert_int_eq(lc_privkey_from_pem(pem, l, &err, &ca_key), 0);
        free(pem);
        if (nb == 0)
            nb = lc_cert_not_before(ca) + 1;
    }
    struct lc_cert_template t = {
        .kind = LC_CERT_SIGN,
        .country = "US",
        .organization = "org1.example.com",
        .ous = &ou,
        .n_ous = 1,
        .common_name = "peer9.org1.example.com",
        .not_before = nb,
        .not_after = na,
    };
    ck_assert_msg(lc_cert_issue(&t, lc_privkey_public(key), ca, ca ? ca_key : key, &err, &cert) ==
                      0,
                  "%s", err.msg);
    char *cert_pem, *key_pem;
    size_t cert_len, key_len;
    ck_assert_int_eq(lc_cert_to_pem(cert, &cert_pem, &cert_len), 0);
    ck_assert_int_eq(lc_privkey_to_pem(key, &key_pem, &key_len), 0);
    struct lc_signer *s = signer_from(mspid, cert_pem, cert_len, key_pem, key_len);
    free(cert_pem);
    lc_privkey_pem_free(key_pem);
    lc_cert_unref(cert);
    lc_cert_unref(ca);
    lc_privkey_free(key);
    lc_privkey_free(ca_key);
    return s;
}

START_TEST(validate_endorser_not_of_the_channel)
{
    time_t now = time(NULL);
    struct end e[] = {
        {"rogue", "Org1MSP", issued("Org1MSP", false, "peer", now - 60, now + 3600), OK_RESP}};
    struct wc_responses *rs = round_of(e, 1);
    struct lc_errbuf err;
    ck_assert_int_eq(validate(rs, &err), LC_EBADCERT);
    ck_assert_msg(strncmp(err.msg, "endorser rogue: identity: ", 26) == 0, "%s", err.msg);
    wc_responses_free(rs);
    free_ends(e, 1);
}
END_TEST

START_TEST(validate_endorser_unknown_msp)
{
    size_t cl, kl;
    char *cert = slurp(tc_path("crypto/peerOrganizations/org1.example.com/peers/"
                               "peer0.org1.example.com/msp/signcerts/"
                               "peer0.org1.example.com-cert.pem"),
                       &cl);
    char *key = slurp(tc_path("crypto/peerOrganizations/org1.example.com/peers/"
                              "peer0.org1.example.com/msp/keystore/priv_sk"),
                      &kl);
    struct end e[] = {{"peer0.org1", NULL, signer_from("Org9MSP", cert, cl, key, kl), OK_RESP}};
    free(cert);
    free(key);
    struct wc_responses *rs = round_of(e, 1);
    struct lc_errbuf err;
    ck_assert_int_eq(validate(rs, &err), LC_EUNKNOWNMSP);
    ck_assert_ptr_nonnull(strstr(err.msg, "endorser peer0.org1: identity: "));
    wc_responses_free(rs);
    free_ends(e, 1);
}
END_TEST

START_TEST(validate_endorser_expired)
{
    /* valid from the CA's start until a second ago (the chain is checked as of NotBefore) */
    time_t now = time(NULL);
    struct end e[] = {{"old", "Org1MSP", issued("Org1MSP", true, "peer", 0, now - 1), OK_RESP}};
    struct wc_responses *rs = round_of(e, 1);
    struct lc_errbuf err;
    ck_assert_int_eq(validate(rs, &err), LC_EEXPIRED);
    ck_assert_msg(strncmp(err.msg, "endorser old: identity: ", 24) == 0, "%s", err.msg);
    /* the same endorsement is fine at a time the certificate was valid */
    ck_assert_msg(wc_responses_validate(rs, prop, cc, now - 2, &err) == 0, "%s", err.msg);
    wc_responses_free(rs);
    free_ends(e, 1);
}
END_TEST

START_TEST(validate_endorser_other_msp_than_configured)
{
    struct end e[] = {{"peer0.org1", "Org2MSP", tc_peer(1, 0), OK_RESP}};
    struct wc_responses *rs = round_of(e, 1);
    struct lc_errbuf err;
    ck_assert_int_eq(validate(rs, &err), LC_EMISMATCH);
    ck_assert_str_eq(err.msg, "endorser peer0.org1: signed as a member of Org1MSP, expected "
                              "Org2MSP");
    wc_responses_free(rs);
    free_ends(e, 1);
}
END_TEST

START_TEST(validate_status_500)
{
    struct end e[] = {
        {"peer0.org1", "Org1MSP", tc_peer(1, 0), OK_RESP},
        {"peer0.org2", "Org2MSP", tc_peer(2, 0), {.status = 500, .message = "boom"}},
    };
    struct wc_responses *rs = round_of(e, 2);
    ck_assert_int_eq(wc_responses_status(rs, 1), 500);
    ck_assert_str_eq(wc_responses_message(rs, 1), "boom");
    struct lc_errbuf err;
    ck_assert_int_eq(validate(rs, &err), LC_EINVALID);
    ck_assert_str_eq(err.msg, "endorser peer0.org2: status 500: boom");
    wc_responses_free(rs);
    free_ends(e, 2);
}
END_TEST

START_TEST(validate_status_below_200)
{
    struct end e[] = {{"peer0.org1", "Org1MSP", tc_peer(1, 0), {.status = 0}}};
    struct wc_responses *rs = round_of(e, 1);
    struct lc_errbuf err;
    ck_assert_int_eq(validate(rs, &err), LC_EINVALID);
    ck_assert_str_eq(err.msg, "endorser peer0.org1: status 0: ");
    wc_responses_free(rs);
    free_ends(e, 1);
}
END_TEST

START_TEST(validate_no_endorsement)
{
    struct end e[] = {
        {"peer0.org1", "Org1MSP", tc_peer(1, 0), {.status = 200, .no_endorsement = 1}}};
    struct wc_responses *rs = round_of(e, 1);
    struct lc_errbuf err;
    ck_assert_int_eq(validate(rs, &err), LC_EINVALID);
    ck_assert_str_eq(err.msg, "endorser peer0.org1: status 200 without an endorsement");
    wc_responses_free(rs);
    free_ends(e, 1);
}
END_TEST

START_TEST(validate_no_payload)
{
    struct end e[] = {
        {"peer0.org1", "Org1MSP", tc_peer(1, 0), {.status = 200, .raw_prp = "", .raw_len = 0}}};
    struct wc_responses *rs = round_of(e, 1);
    struct lc_errbuf err;
    ck_assert_int_eq(validate(rs, &err), LC_EINVALID);
    ck_assert_str_eq(err.msg, "endorser peer0.org1: status 200 without a payload");
    wc_responses_free(rs);
    free_ends(e, 1);
}
END_TEST

START_TEST(validate_payload_not_a_prp)
{
    struct end e[] = {{"peer0.org1",
                       "Org1MSP",
                       tc_peer(1, 0),
                       {.status = 200, .raw_prp = "\xff\xff\xff", .raw_len = 3}}};
    struct wc_responses *rs = round_of(e, 1);
    struct lc_errbuf err;
    ck_assert_int_eq(validate(rs, &err), LC_EDECODE);
    ck_assert_ptr_nonnull(strstr(err.msg, "endorser peer0.org1: payload: "));
    wc_responses_free(rs);
    free_ends(e, 1);
}
END_TEST

START_TEST(validate_extension_not_an_action)
{
    /* PRP{proposal_hash = this proposal's, extension = junk} */
    uint8_t prp[2 + 32 + 2 + 3];
    prp[0] = 0x0a;
    prp[1] = 32;
    memcpy(prp + 2, wc_proposal_hash(prop), 32);
    memcpy(prp + 34, "\x12\x03\xff\xff\xff", 5);
    struct end e[] = {{"peer0.org1",
                       "Org1MSP",
                       tc_peer(1, 0),
                       {.status = 200, .raw_prp = prp, .raw_len = sizeof prp}}};
    struct wc_responses *rs = round_of(e, 1);
    struct lc_errbuf err;
    ck_assert_int_eq(validate(rs, &err), LC_EDECODE);
    ck_assert_ptr_nonnull(strstr(err.msg, "endorser peer0.org1: payload extension: "));
    wc_responses_free(rs);
    free_ends(e, 1);
}
END_TEST

START_TEST(validate_wrong_proposal_hash)
{
    uint8_t other[32] = {1, 2, 3};
    struct end e[] = {
        {"peer0.org1", "Org1MSP", tc_peer(1, 0), {.status = 200, .payload = "ok", .hash = other}}};
    struct wc_responses *rs = round_of(e, 1);
    struct lc_errbuf err;
    ck_assert_int_eq(validate(rs, &err), LC_EMISMATCH);
    ck_assert_str_eq(err.msg, "endorser peer0.org1: proposal_hash is not this proposal's");
    wc_responses_free(rs);
    free_ends(e, 1);
}
END_TEST

START_TEST(validate_call_error)
{
    struct wc_responses *rs = NULL;
    ck_assert_int_eq(wc_responses_new(1, &rs), 0);
    struct wc_endpoint ep = {"peer0.org1", "127.0.0.1:1", "Org1MSP"};
    ck_assert_int_eq(wc_responses_set_error(rs, 0, &ep, LC_EUNAVAIL, "UNAVAILABLE: refused"), 0);
    const char *msg = NULL;
    ck_assert_int_eq(wc_responses_error(rs, 0, &msg), LC_EUNAVAIL);
    ck_assert_str_eq(msg, "UNAVAILABLE: refused");
    ck_assert_int_eq(wc_responses_status(rs, 0), 0);
    struct lc_errbuf err;
    ck_assert_int_eq(validate(rs, &err), LC_EUNAVAIL);
    ck_assert_str_eq(err.msg, "endorser peer0.org1: UNAVAILABLE: refused");
    wc_responses_free(rs);
}
END_TEST

START_TEST(validate_undecodable_response)
{
    struct wc_responses *rs = NULL;
    ck_assert_int_eq(wc_responses_new(1, &rs), 0);
    struct wc_endpoint ep = {"peer0.org1", "127.0.0.1:1", NULL};
    ck_assert_int_eq(wc_responses_set(rs, 0, &ep, (const uint8_t *)"\xff\xff", 2), LC_EDECODE);
    struct lc_errbuf err;
    ck_assert_int_eq(validate(rs, &err), LC_EDECODE);
    ck_assert_ptr_nonnull(strstr(err.msg, "endorser peer0.org1: protos.ProposalResponse"));
    wc_responses_free(rs);
}
END_TEST

START_TEST(validate_incomplete_sets)
{
    struct wc_responses *rs = NULL;
    struct lc_errbuf err;
    ck_assert_int_eq(wc_responses_new(0, &rs), 0);
    ck_assert_int_eq(validate(rs, &err), LC_EINVALID);
    ck_assert_str_eq(err.msg, "no endorser was asked");
    wc_responses_free(rs);
    ck_assert_int_eq(wc_responses_new(2, &rs), 0);
    struct wc_endpoint ep = {"p", "h:1", NULL};
    ck_assert_int_eq(wc_responses_set_error(rs, 0, &ep, LC_ETIMEOUT, NULL), 0);
    ck_assert_int_eq(wc_responses_set_error(rs, 5, &ep, LC_ETIMEOUT, NULL), -EINVAL);
    wc_responses_free(rs);
    ck_assert_int_eq(wc_responses_new(1, &rs), 0);
    ck_assert_int_eq(validate(rs, &err), LC_EINVALID);
    ck_assert_str_eq(err.msg, "endorser #0: no answer recorded");
    ck_assert_int_eq(wc_responses_validate(rs, prop, NULL, time(NULL), &err), LC_EINVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "no channel configuration"));
    wc_responses_free(rs);
    wc_responses_free(NULL);
}
END_TEST

START_TEST(validate_config_of_another_channel)
{
    struct end e[] = {{"peer0.org1", "Org1MSP", tc_peer(1, 0), OK_RESP}};
    struct wc_responses *rs = round_of(e, 1);
    struct lc_chconf *other = NULL;
    struct lc_errbuf err;
    ck_assert_int_eq(wc_chconf_load(tc.other, &err, &other), 0);
    ck_assert_int_eq(wc_responses_validate(rs, prop, other, time(NULL), &err), LC_EMISMATCH);
    ck_assert_str_eq(err.msg, "channel configuration is for other, proposal for mychannel");
    lc_chconf_free(other);
    wc_responses_free(rs);
    free_ends(e, 1);
}
END_TEST

Suite *validate_suite(void)
{
    Suite *s = suite_create("validate");
    TCase *t = tcase_create("validate");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, validate_ok);
    tcase_add_test(t, validate_payload_mismatch);
    tcase_add_test(t, validate_chaincode_payload_mismatch);
    tcase_add_test(t, validate_outer_differs_from_signed);
    tcase_add_test(t, validate_bad_signature);
    tcase_add_test(t, validate_endorser_is_a_client);
    tcase_add_test(t, validate_endorser_is_an_orderer);
    tcase_add_test(t, validate_endorser_not_of_the_channel);
    tcase_add_test(t, validate_endorser_unknown_msp);
    tcase_add_test(t, validate_endorser_expired);
    tcase_add_test(t, validate_endorser_other_msp_than_configured);
    tcase_add_test(t, validate_status_500);
    tcase_add_test(t, validate_status_below_200);
    tcase_add_test(t, validate_no_endorsement);
    tcase_add_test(t, validate_no_payload);
    tcase_add_test(t, validate_payload_not_a_prp);
    tcase_add_test(t, validate_extension_not_an_action);
    tcase_add_test(t, validate_wrong_proposal_hash);
    tcase_add_test(t, validate_call_error);
    tcase_add_test(t, validate_undecodable_response);
    tcase_add_test(t, validate_incomplete_sets);
    tcase_add_test(t, validate_config_of_another_channel);
    suite_add_tcase(s, t);
    return s;
}
