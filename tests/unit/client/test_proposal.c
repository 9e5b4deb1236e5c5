/* SPDX-License-Identifier: Apache-2.0 */
/* Proposal building: decoded back layer by layer, TxID, signature, hash, and each rejection. */
#include <stdlib.h>
#include <string.h>

#include "common/common.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "libcommon/crypto.h"
#include "libcommon/proposal.h"
#include "libcommon/wire.h"
#include "msp/identities.pb-c.h"
#include "orderer/ab.pb-c.h"
#include "peer/chaincode.pb-c.h"
#include "peer/proposal.pb-c.h"
#include "tc.h"

static const uint8_t fixed_nonce[24] = "0123456789abcdefghijklm";

static ProtobufCBinaryData bin(const char *s)
{
    return (ProtobufCBinaryData){strlen(s), (uint8_t *)s};
}

START_TEST(proposal_decodes_back)
{
    struct lc_signer *user = tc_user(1, "User1");
    ProtobufCBinaryData args[] = {bin("transfer"), bin("a"), bin("b"), {0, NULL}};
    const uint8_t secret[] = {0, 1, 2, 0xff};
    struct wc_transient tr[] = {{"secret", secret, sizeof secret}, {"empty", NULL, 0}};
    struct wc_invocation inv = {
        .channel = "mychannel",
        .chaincode = "example02",
        .args = args,
        .n_args = 4,
        .transient = tr,
        .n_transient = 2,
        .nonce = fixed_nonce,
        .nonce_len = sizeof fixed_nonce,
        .seconds = 1700000000,
        .nanos = 123456789,
    };
    struct wc_proposal *p = NULL;
    struct lc_errbuf err;
    ck_assert_msg(wc_proposal_new(user, &inv, &err, &p) == 0, "%s", err.msg);
    ck_assert_str_eq(wc_proposal_channel(p), "mychannel");
    ck_assert_str_eq(wc_proposal_chaincode(p), "example02");

    size_t len;
    const uint8_t *bytes = wc_proposal_bytes(p, &len);
    Protos__SignedProposal *sp = protos__signed_proposal__unpack(NULL, len, bytes);
    ck_assert_ptr_nonnull(sp);
    /* the signature is the user's over proposal_bytes */
    ck_assert_int_eq(lc_ecdsa_verify(lc_cert_pubkey(lc_signer_cert(user)), sp->proposal_bytes.data,
                                     sp->proposal_bytes.len, sp->signature.data, sp->signature.len,
                                     &err),
                     0);
    Protos__Proposal *prop =
        protos__proposal__unpack(NULL, sp->proposal_bytes.len, sp->proposal_bytes.data);
    ck_assert_ptr_nonnull(prop);
    ck_assert_uint_eq(prop->extension.len, 0);
    Common__Header *hdr = common__header__unpack(NULL, prop->header.len, prop->header.data);
    ck_assert_ptr_nonnull(hdr);
    Common__ChannelHeader *ch =
        common__channel_header__unpack(NULL, hdr->channel_header.len, hdr->channel_header.data);
    ck_assert_ptr_nonnull(ch);
    ck_assert_int_eq(ch->type, COMMON__HEADER_TYPE__ENDORSER_TRANSACTION);
    ck_assert_int_eq(ch->version, 1);
    ck_assert_str_eq(ch->channel_id, "mychannel");
    ck_assert_uint_eq(ch->epoch, 0);
    ck_assert_ptr_nonnull(ch->timestamp);
    ck_assert_int_eq(ch->timestamp->seconds, 1700000000);
    ck_assert_int_eq(ch->timestamp->nanos, 123456789);
    Protos__ChaincodeHeaderExtension *ext =
        protos__chaincode_header_extension__unpack(NULL, ch->extension.len, ch->extension.data);
    ck_assert_ptr_nonnull(ext);
    ck_assert_str_eq(ext->chaincode_id->name, "example02");
    Common__SignatureHeader *sh = common__signature_header__unpack(NULL, hdr->signature_header.len,
                                                                   hdr->signature_header.data);
    ck_assert_ptr_nonnull(sh);
    size_t creator_len;
    const uint8_t *creator = lc_signer_serialized(user, &creator_len);
    ck_assert_uint_eq(sh->creator.len, creator_len);
    ck_assert_mem_eq(sh->creator.data, creator, creator_len);
    Msp__SerializedIdentity *sid =
        msp__serialized_identity__unpack(NULL, sh->creator.len, sh->creator.data);
    ck_assert_ptr_nonnull(sid);
    ck_assert_str_eq(sid->mspid, "Org1MSP");
    msp__serialized_identity__free_unpacked(sid, NULL);
    ck_assert_uint_eq(sh->nonce.len, sizeof fixed_nonce);
    ck_assert_mem_eq(sh->nonce.data, fixed_nonce, sizeof fixed_nonce);

    /* TxID = hex(SHA-256(nonce ‖ creator)) */
    uint8_t d[32];
    const struct lc_iov parts[] = {{fixed_nonce, sizeof fixed_nonce}, {creator, creator_len}};
    lc_sha256_iov(parts, 2, d);
    char hex[65];
    lc_hex_encode(d, 32, hex);
    ck_assert_str_eq(ch->tx_id, hex);
    ck_assert_str_eq(wc_proposal_txid(p), hex);

    /* payload: the invocation spec and the transient map */
    Protos__ChaincodeProposalPayload *cpp =
        protos__chaincode_proposal_payload__unpack(NULL, prop->payload.len, prop->payload.data);
    ck_assert_ptr_nonnull(cpp);
    ck_assert_uint_eq(cpp->n_transientmap, 2);
    ck_assert_str_eq(cpp->transientmap[0]->key, "secret");
    ck_assert_uint_eq(cpp->transientmap[0]->value.len, sizeof secret);
    ck_assert_mem_eq(cpp->transientmap[0]->value.data, secret, sizeof secret);
    Protos__ChaincodeInvocationSpec *cis =
        protos__chaincode_invocation_spec__unpack(NULL, cpp->input.len, cpp->input.data);
    ck_assert_ptr_nonnull(cis);
    ck_assert_int_eq(cis->chaincode_spec->type, PROTOS__CHAINCODE_SPEC__TYPE__GOLANG);
    ck_assert_str_eq(cis->chaincode_spec->chaincode_id->name, "example02");
    ck_assert_uint_eq(cis->chaincode_spec->input->n_args, 4);
    ck_assert_uint_eq(cis->chaincode_spec->input->args[0].len, 8);
    ck_assert_mem_eq(cis->chaincode_spec->input->args[0].data, "transfer", 8);
    ck_assert_uint_eq(cis->chaincode_spec->input->args[3].len, 0);

    /* proposal hash: channel header ‖ signature header ‖ {1: input}, transient map left out */
    size_t wl = cpp->input.len + 8;
    uint8_t *wrapped = malloc(wl);
    size_t k = 0;
    wrapped[k++] = 0x0a;
    for (size_t v = cpp->input.len;; v >>= 7) {
        wrapped[k++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        if (v <= 0x7f)
            break;
    }
    memcpy(wrapped + k, cpp->input.data, cpp->input.len);
    const struct lc_iov hp[] = {{hdr->channel_header.data, hdr->channel_header.len},
                                {hdr->signature_header.data, hdr->signature_header.len},
                                {wrapped, k + cpp->input.len}};
    lc_sha256_iov(hp, 3, d);
    ck_assert_mem_eq(wc_proposal_hash(p), d, 32);
    free(wrapped);

    /* the endorser side's reading agrees: layers, header checks, the same hash */
    struct lc_proposal *lp = NULL;
    ck_assert_msg(lc_proposal_unpack(bytes, len, &err, &lp) == 0, "%s", err.msg);
    ck_assert_msg(lc_proposal_check_header(lp, &err) == 0, "%s", err.msg);
    ck_assert_mem_eq(lc_proposal_hash(lp), wc_proposal_hash(p), 32);
    ck_assert_str_eq(lc_proposal_chaincode(lp), "example02");
    lc_proposal_free(lp);

    protos__chaincode_invocation_spec__free_unpacked(cis, NULL);
    protos__chaincode_proposal_payload__free_unpacked(cpp, NULL);
    common__signature_header__free_unpacked(sh, NULL);
    protos__chaincode_header_extension__free_unpacked(ext, NULL);
    common__channel_header__free_unpacked(ch, NULL);
    common__header__free_unpacked(hdr, NULL);
    protos__proposal__free_unpacked(prop, NULL);
    protos__signed_proposal__free_unpacked(sp, NULL);

    /* same inputs, same proposal bytes (only the signature is randomized) */
    struct wc_proposal *p2 = NULL;
    ck_assert_int_eq(wc_proposal_new(user, &inv, &err, &p2), 0);
    ck_assert_str_eq(wc_proposal_txid(p2), wc_proposal_txid(p));
    ck_assert_mem_eq(wc_proposal_hash(p2), wc_proposal_hash(p), 32);
    wc_proposal_free(p2);
    wc_proposal_free(p);
    lc_signer_free(user);
}
END_TEST

START_TEST(proposal_fresh_nonce_and_time)
{
    struct lc_signer *user = tc_user(1, "User1");
    struct wc_proposal *a = tc_proposal(user, "basic"), *b = tc_proposal(user, "basic");
    ck_assert_str_ne(wc_proposal_txid(a), wc_proposal_txid(b));
    size_t len;
    const uint8_t *bytes = wc_proposal_bytes(a, &len);
    struct lc_proposal *lp = NULL;
    struct lc_errbuf err;
    ck_assert_int_eq(lc_proposal_unpack(bytes, len, &err, &lp), 0);
    ck_assert_uint_eq(lc_proposal_signature_header(lp)->nonce.len, LC_NONCE_LEN);
    ck_assert_int_gt(lc_proposal_channel_header(lp)->timestamp->seconds, 1700000000);
    ck_assert_uint_eq(lc_proposal_payload(lp)->n_transientmap, 0);
    lc_proposal_free(lp);
    wc_proposal_free(a);
    wc_proposal_free(b);
    wc_proposal_free(NULL);
    lc_signer_free(user);
}
END_TEST

struct bad_inv {
    const char *channel, *chaincode;
    size_t n_args;
    const char *k1, *k2;
    size_t nonce_len;
    int64_t seconds;
    int32_t nanos;
    const char *want;
};

static const struct bad_inv bad_invs[] = {
    {"MyChannel", "cc", 1, NULL, NULL, 0, 0, 0, "not a channel ID"},
    {"", "cc", 1, NULL, NULL, 0, 0, 0, "not a channel ID"},
    {"9ch", "cc", 1, NULL, NULL, 0, 0, 0, "not a channel ID"},
    {"ch", "", 1, NULL, NULL, 0, 0, 0, "not a chaincode name"},
    {"ch", "a--b", 1, NULL, NULL, 0, 0, 0, "not a chaincode name"},
    {"ch", "cc-", 1, NULL, NULL, 0, 0, 0, "not a chaincode name"},
    {"ch", "c c", 1, NULL, NULL, 0, 0, 0, "not a chaincode name"},
    {"ch", "cc", 0, NULL, NULL, 0, 0, 0, "at least the function name"},
    {"ch", "cc", WC_MAX_ARGS + 1, NULL, NULL, 0, 0, 0, "at most"},
    {"ch", "cc", 1, "", NULL, 0, 0, 0, "empty key"},
    {"ch", "cc", 1, "k", "k", 0, 0, 0, "duplicate key 'k'"},
    {"ch", "cc", 1, NULL, NULL, WC_MAX_NONCE + 1, 0, 0, "nonce"},
    {"ch", "cc", 1, NULL, NULL, 0, -1, 0, "timestamp"},
    {"ch", "cc", 1, NULL, NULL, 0, 1, 1000000000, "timestamp"},
    {"ch", "cc", 1, NULL, NULL, 0, 253402300800LL, 0, "timestamp"},
};

START_TEST(proposal_rejects)
{
    const struct bad_inv *b = &bad_invs[_i];
    static ProtobufCBinaryData args[WC_MAX_ARGS + 1];
    for (size_t i = 0; i < WC_MAX_ARGS + 1; i++)
        args[i] = bin("x");
    static uint8_t nonce[WC_MAX_NONCE + 1];
    struct wc_transient tr[2] = {{b->k1, NULL, 0}, {b->k2, NULL, 0}};
    struct wc_invocation inv = {
        .channel = b->channel,
        .chaincode = b->chaincode,
        .args = args,
        .n_args = b->n_args,
        .transient = tr,
        .n_transient = b->k2   ? 2
                       : b->k1 ? 1
                               : 0,
        .nonce = b->nonce_len ? nonce : NULL,
        .nonce_len = b->nonce_len,
        .seconds = b->seconds,
        .nanos = b->nanos,
    };
    struct lc_signer *user = tc_user(1, "User1");
    struct wc_proposal *p = NULL;
    struct lc_errbuf err = {{0}};
    ck_assert_int_eq(wc_proposal_new(user, &inv, &err, &p), LC_EINVALID);
    ck_assert_msg(strstr(err.msg, b->want) != NULL, "case %d: '%s' lacks '%s'", _i, err.msg,
                  b->want);
    ck_assert_ptr_null(p);
    lc_signer_free(user);
}
END_TEST

START_TEST(proposal_zero_nonce_len)
{
    struct lc_signer *user = tc_user(1, "User1");
    ProtobufCBinaryData args[] = {bin("f")};
    struct wc_invocation inv = {.channel = "ch",
                                .chaincode = "cc",
                                .args = args,
                                .n_args = 1,
                                .nonce = fixed_nonce,
                                .nonce_len = 0};
    struct wc_proposal *p = NULL;
    struct lc_errbuf err;
    ck_assert_int_eq(wc_proposal_new(user, &inv, &err, &p), LC_EINVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "nonce: 0 bytes"));
    lc_signer_free(user);
}
END_TEST

START_TEST(seek_envelope_decodes_back)
{
    struct lc_signer *user = tc_user(2, "User1");
    struct wc_seek seek = {.start = WC_SEEK_NUMBER, .start_number = 3, .stop = WC_SEEK_FOREVER};
    uint8_t *env_bytes = NULL;
    size_t len;
    struct lc_errbuf err;
    ck_assert_int_eq(wc_seek_envelope("mychannel", user, &seek, &err, &env_bytes, &len), 0);
    Common__Envelope *env = common__envelope__unpack(NULL, len, env_bytes);
    ck_assert_ptr_nonnull(env);
    ck_assert_int_eq(lc_ecdsa_verify(lc_cert_pubkey(lc_signer_cert(user)), env->payload.data,
                                     env->payload.len, env->signature.data, env->signature.len,
                                     &err),
                     0);
    Common__Payload *pl = common__payload__unpack(NULL, env->payload.len, env->payload.data);
    ck_assert_ptr_nonnull(pl);
    Common__ChannelHeader *ch = common__channel_header__unpack(NULL, pl->header->channel_header.len,
                                                               pl->header->channel_header.data);
    ck_assert_int_eq(ch->type, COMMON__HEADER_TYPE__DELIVER_SEEK_INFO);
    ck_assert_str_eq(ch->channel_id, "mychannel");
    ck_assert_uint_eq(strlen(ch->tx_id), 64);
    ck_assert_ptr_nonnull(ch->timestamp);
    Common__SignatureHeader *sh = common__signature_header__unpack(
        NULL, pl->header->signature_header.len, pl->header->signature_header.data);
    ck_assert_uint_eq(sh->nonce.len, LC_NONCE_LEN);
    char txid[65];
    ck_assert_int_eq(
        lc_wire_txid(sh->nonce.data, sh->nonce.len, sh->creator.data, sh->creator.len, txid), 0);
    ck_assert_str_eq(ch->tx_id, txid);
    Orderer__SeekInfo *si = orderer__seek_info__unpack(NULL, pl->data.len, pl->data.data);
    ck_assert_ptr_nonnull(si);
    ck_assert_int_eq(si->start->type_case, ORDERER__SEEK_POSITION__TYPE_SPECIFIED);
    ck_assert_uint_eq(si->start->specified->number, 3);
    ck_assert_int_eq(si->stop->type_case, ORDERER__SEEK_POSITION__TYPE_SPECIFIED);
    ck_assert_uint_eq(si->stop->specified->number, (uint64_t)INT64_MAX);
    ck_assert_int_eq(si->behavior, ORDERER__SEEK_INFO__SEEK_BEHAVIOR__BLOCK_UNTIL_READY);
    orderer__seek_info__free_unpacked(si, NULL);
    common__signature_header__free_unpacked(sh, NULL);
    common__channel_header__free_unpacked(ch, NULL);
    common__payload__free_unpacked(pl, NULL);
    common__envelope__free_unpacked(env, NULL);
    free(env_bytes);

    /* oldest .. newest, failing when not ready */
    seek = (struct wc_seek){
        .start = WC_SEEK_OLDEST, .stop = WC_SEEK_NEWEST, .fail_if_not_ready = true};
    ck_assert_int_eq(wc_seek_envelope("mychannel", user, &seek, &err, &env_bytes, &len), 0);
    env = common__envelope__unpack(NULL, len, env_bytes);
    pl = common__payload__unpack(NULL, env->payload.len, env->payload.data);
    si = orderer__seek_info__unpack(NULL, pl->data.len, pl->data.data);
    ck_assert_int_eq(si->start->type_case, ORDERER__SEEK_POSITION__TYPE_OLDEST);
    ck_assert_int_eq(si->stop->type_case, ORDERER__SEEK_POSITION__TYPE_NEWEST);
    ck_assert_int_eq(si->behavior, ORDERER__SEEK_INFO__SEEK_BEHAVIOR__FAIL_IF_NOT_READY);
    orderer__seek_info__free_unpacked(si, NULL);
    common__payload__free_unpacked(pl, NULL);
    common__envelope__free_unpacked(env, NULL);
    free(env_bytes);

    /* rejections */
    const struct wc_seek bad[] = {
        {.start = WC_SEEK_FOREVER, .stop = WC_SEEK_NEWEST},
        {.start = WC_SEEK_OLDEST, .stop = WC_SEEK_OLDEST},
        {.start = WC_SEEK_NUMBER, .start_number = 5, .stop = WC_SEEK_NUMBER, .stop_number = 4},
    };
    for (size_t i = 0; i < 3; i++)
        ck_assert_int_eq(wc_seek_envelope("mychannel", user, &bad[i], &err, &env_bytes, &len),
                         LC_EINVALID);
    ck_assert_int_eq(wc_seek_envelope("Bad", user, &seek, &err, &env_bytes, &len), LC_EINVALID);
    lc_signer_free(user);
}
END_TEST

Suite *proposal_suite(void)
{
    Suite *s = suite_create("proposal");
    TCase *t = tcase_create("proposal");
    tcase_add_test(t, proposal_decodes_back);
    tcase_add_test(t, proposal_fresh_nonce_and_time);
    tcase_add_loop_test(t, proposal_rejects, 0, sizeof bad_invs / sizeof bad_invs[0]);
    tcase_add_test(t, proposal_zero_nonce_len);
    tcase_add_test(t, seek_envelope_decodes_back);
    suite_add_tcase(s, t);
    return s;
}
