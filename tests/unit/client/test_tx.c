/* SPDX-License-Identifier: Apache-2.0 */
/* Transaction assembly: the envelope decoded back and compared with wire facts §4. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "libcommon/crypto.h"
#include "libcommon/proposal.h"
#include "peer/proposal.pb-c.h"
#include "peer/transaction.pb-c.h"
#include "tc.h"

static ProtobufCBinaryData bin(const char *s)
{
    return (ProtobufCBinaryData){strlen(s), (uint8_t *)s};
}

START_TEST(tx_assembles_per_wire_facts)
{
    struct lc_chconf *cc = tc_chconf();
    struct lc_signer *user = tc_user(1, "User1");
    struct lc_signer *p1 = tc_peer(1, 0), *p2 = tc_peer(2, 1);
    ProtobufCBinaryData args[] = {bin("put"), bin("k"), bin("v")};
    const uint8_t secret[] = "do not order me";
    struct wc_transient tr[] = {{"secret", secret, sizeof secret}};
    struct wc_invocation inv = {.channel = "mychannel",
                                .chaincode = "basic",
                                .args = args,
                                .n_args = 3,
                                .transient = tr,
                                .n_transient = 1};
    struct wc_proposal *prop = NULL;
    struct lc_errbuf err;
    ck_assert_int_eq(wc_proposal_new(user, &inv, &err, &prop), 0);

    struct wc_responses *rs = NULL;
    ck_assert_int_eq(wc_responses_new(2, &rs), 0);
    const struct tc_resp ok = {.status = 200, .payload = "done"};
    ProtobufCBinaryData r1 = tc_response(prop, p1, &ok), r2 = tc_response(prop, p2, &ok);
    struct wc_endpoint e1 = {"peer0.org1", "h:1", "Org1MSP"}, e2 = {"peer1.org2", "h:2", NULL};
    ck_assert_int_eq(wc_responses_set(rs, 0, &e1, r1.data, r1.len), 0);
    ck_assert_int_eq(wc_responses_set(rs, 1, &e2, r2.data, r2.len), 0);

    /* not before validation */
    uint8_t *env_bytes = NULL;
    size_t env_len;
    ck_assert_int_eq(wc_tx_assemble(prop, rs, user, &err, &env_bytes, &env_len), LC_EINVALID);
    ck_assert_msg(wc_responses_validate(rs, prop, cc, time(NULL), &err) == 0, "%s", err.msg);
    /* nor signed by anyone but the creator */
    ck_assert_int_eq(wc_tx_assemble(prop, rs, p1, &err, &env_bytes, &env_len), LC_EMISMATCH);
    ck_assert_ptr_nonnull(strstr(err.msg, "not the proposal's creator"));
    ck_assert_msg(wc_tx_assemble(prop, rs, user, &err, &env_bytes, &env_len) == 0, "%s", err.msg);

    /* the proposal's own layers, for comparison */
    size_t sp_len;
    const uint8_t *sp_bytes = wc_proposal_bytes(prop, &sp_len);
    struct lc_proposal *lp = NULL;
    ck_assert_int_eq(lc_proposal_unpack(sp_bytes, sp_len, &err, &lp), 0);
    const Protos__Proposal *pp = lc_proposal_proposal(lp);
    const Common__Header *ph = lc_proposal_header(lp);

    /* Envelope{payload, signature by the creator over payload} */
    Common__Envelope *env = common__envelope__unpack(NULL, env_len, env_bytes);
    ck_assert_ptr_nonnull(env);
    ck_assert_int_eq(lc_ecdsa_verify(lc_cert_pubkey(lc_signer_cert(user)), env->payload.data,
                                     env->payload.len, env->signature.data, env->signature.len,
                                     &err),
                     0);
    /* Payload{header = the proposal's header, both byte strings verbatim} */
    Common__Payload *pl = common__payload__unpack(NULL, env->payload.len, env->payload.data);
    ck_assert_ptr_nonnull(pl);
    ck_assert_uint_eq(pl->header->channel_header.len, ph->channel_header.len);
    ck_assert_mem_eq(pl->header->channel_header.data, ph->channel_header.data,
                     ph->channel_header.len);
    ck_assert_uint_eq(pl->header->signature_header.len, ph->signature_header.len);
    ck_assert_mem_eq(pl->header->signature_header.data, ph->signature_header.data,
                     ph->signature_header.len);
    /* the whole Header re-encodes to the proposal's header bytes */
    size_t hl = common__header__get_packed_size(pl->header);
    uint8_t *hb = malloc(hl);
    common__header__pack(pl->header, hb);
    ck_assert_uint_eq(hl, pp->header.len);
    ck_assert_mem_eq(hb, pp->header.data, hl);
    free(hb);

    /* Transaction: exactly one action, header = the signature header verbatim */
    Protos__Transaction *tx = protos__transaction__unpack(NULL, pl->data.len, pl->data.data);
    ck_assert_ptr_nonnull(tx);
    ck_assert_uint_eq(tx->n_actions, 1);
    const Protos__TransactionAction *ta = tx->actions[0];
    ck_assert_uint_eq(ta->header.len, ph->signature_header.len);
    ck_assert_mem_eq(ta->header.data, ph->signature_header.data, ta->header.len);
    Protos__ChaincodeActionPayload *cap =
        protos__chaincode_action_payload__unpack(NULL, ta->payload.len, ta->payload.data);
    ck_assert_ptr_nonnull(cap);
    /* cpp = {1: input}: the transient map is gone, the input bytes are the proposal's */
    Protos__ChaincodeProposalPayload *cpp = protos__chaincode_proposal_payload__unpack(
        NULL, cap->chaincode_proposal_payload.len, cap->chaincode_proposal_payload.data);
    ck_assert_ptr_nonnull(cpp);
    ck_assert_uint_eq(cpp->n_transientmap, 0);
    const Protos__ChaincodeProposalPayload *orig = lc_proposal_payload(lp);
    ck_assert_uint_eq(orig->n_transientmap, 1);
    ck_assert_uint_eq(cpp->input.len, orig->input.len);
    ck_assert_mem_eq(cpp->input.data, orig->input.data, orig->input.len);
    ck_assert(memmem(cap->chaincode_proposal_payload.data, cap->chaincode_proposal_payload.len,
                     secret, sizeof secret) == NULL);
    ck_assert(memmem(env_bytes, env_len, secret, sizeof secret) == NULL);
    /* the committer's proposal hash (GetProposalHash2) equals the one the endorsers signed */
    uint8_t h2[32];
    lc_proposal_hash2(pl->header->channel_header.data, pl->header->channel_header.len,
                      ta->header.data, ta->header.len, cap->chaincode_proposal_payload.data,
                      cap->chaincode_proposal_payload.len, h2);
    ck_assert_mem_eq(h2, wc_proposal_hash(prop), 32);

    /* action = {response[0].payload verbatim, endorsements in order} */
    Protos__ProposalResponse *pr1 = protos__proposal_response__unpack(NULL, r1.len, r1.data);
    Protos__ProposalResponse *pr2 = protos__proposal_response__unpack(NULL, r2.len, r2.data);
    ck_assert_uint_eq(cap->action->proposal_response_payload.len, pr1->payload.len);
    ck_assert_mem_eq(cap->action->proposal_response_payload.data, pr1->payload.data,
                     pr1->payload.len);
    ck_assert_uint_eq(cap->action->n_endorsements, 2);
    const Protos__Endorsement *want[] = {pr1->endorsement, pr2->endorsement};
    for (size_t i = 0; i < 2; i++) {
        const Protos__Endorsement *got = cap->action->endorsements[i];
        ck_assert_uint_eq(got->endorser.len, want[i]->endorser.len);
        ck_assert_mem_eq(got->endorser.data, want[i]->endorser.data, got->endorser.len);
        ck_assert_uint_eq(got->signature.len, want[i]->signature.len);
        ck_assert_mem_eq(got->signature.data, want[i]->signature.data, got->signature.len);
    }
    /* the endorsements satisfy the chaincode's policy, as the committer will check */
    struct lc_signed_data sd[2];
    uint8_t *joined[2];
    for (size_t i = 0; i < 2; i++) {
        const Protos__Endorsement *e = cap->action->endorsements[i];
        size_t pl_len = cap->action->proposal_response_payload.len;
        joined[i] = malloc(pl_len + e->endorser.len);
        memcpy(joined[i], cap->action->proposal_response_payload.data, pl_len);
        memcpy(joined[i] + pl_len, e->endorser.data, e->endorser.len);
        sd[i] =
            (struct lc_signed_data){joined[i],       pl_len + e->endorser.len, e->endorser.data,
                                    e->endorser.len, e->signature.data,        e->signature.len};
    }
    ck_assert_msg(lc_chconf_chaincode_policy_eval(cc, "basic", sd, 2, &err) == 0, "%s", err.msg);
    free(joined[0]);
    free(joined[1]);

    protos__proposal_response__free_unpacked(pr1, NULL);
    protos__proposal_response__free_unpacked(pr2, NULL);
    protos__chaincode_proposal_payload__free_unpacked(cpp, NULL);
    protos__chaincode_action_payload__free_unpacked(cap, NULL);
    protos__transaction__free_unpacked(tx, NULL);
    common__payload__free_unpacked(pl, NULL);
    common__envelope__free_unpacked(env, NULL);
    lc_proposal_free(lp);
    free(env_bytes);
    free(r1.data);
    free(r2.data);
    wc_responses_free(rs);
    wc_proposal_free(prop);
    lc_signer_free(p1);
    lc_signer_free(p2);
    lc_signer_free(user);
    lc_chconf_free(cc);
}
END_TEST

Suite *tx_suite(void)
{
    Suite *s = suite_create("tx");
    TCase *t = tcase_create("tx");
    tcase_add_test(t, tx_assembles_per_wire_facts);
    suite_add_tcase(s, t);
    return s;
}
