/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for libcommon/proposal: unpacking every layer, header and creator checks, the two
 * proposal hashes, response payloads, endorsements and the shapes of ProposalResponses. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "testlib.h"

#include "common/common.pb-c.h"
#include "peer/chaincode.pb-c.h"

#include "libcommon/chconf.h"
#include "libcommon/crypto.h"
#include "libcommon/proposal.h"
#include "libcommon/wire.h"

static struct wh_net net;
static struct lc_chconf *conf;
static struct lc_signer *peer1, *user1, *orderer;

#define ARGS(...)                                                                                  \
    .args = (const char *const[]){__VA_ARGS__},                                                    \
    .nargs = sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)

static struct lc_proposal *unpack_ok(const struct tl_prop *o, uint8_t **ret_raw, size_t *ret_len)
{
    size_t len;
    uint8_t *raw = tl_proposal(o, &len, NULL);
    struct lc_proposal *p = NULL;
    struct lc_errbuf err = {{0}};
    ck_assert_msg(lc_proposal_unpack(raw, len, &err, &p) == 0, "unpack: %s", err.msg);
    if (ret_raw) {
        *ret_raw = raw;
        *ret_len = len;
    } else {
        free(raw);
    }
    return p;
}

START_TEST(unpack_keeps_layers_and_raw_bytes)
{
    struct tl_prop o = {.chaincode = "asset",
                        .creator = user1,
                        .transient_key = "secret",
                        .transient_value = "s3cr3t",
                        ARGS("CreateAsset", "a1", "blue")};
    char txid[65];
    size_t len;
    uint8_t *raw = tl_proposal(&o, &len, txid);
    struct lc_proposal *p = NULL;
    struct lc_errbuf err = {{0}};
    ck_assert_int_eq(lc_proposal_unpack(raw, len, &err, &p), 0);
    free(raw); /* the proposal keeps its own copy */
    ck_assert_str_eq(lc_proposal_channel_id(p), "mychannel");
    ck_assert_str_eq(lc_proposal_txid(p), txid);
    ck_assert_str_eq(lc_proposal_chaincode(p), "asset");
    ck_assert_uint_eq(lc_proposal_input(p)->n_args, 3);
    ck_assert_uint_eq(lc_proposal_args_bytes(p), 11 + 2 + 4);
    size_t clen, slen;
    const uint8_t *c = lc_proposal_creator(p, &clen);
    const uint8_t *sc = lc_signer_serialized(user1, &slen);
    ck_assert_uint_eq(clen, slen);
    ck_assert(memcmp(c, sc, clen) == 0);
    ck_assert_uint_eq(lc_proposal_payload(p)->n_transientmap, 1);
    ck_assert_int_eq(lc_proposal_channel_header(p)->type, 3);
    ck_assert_ptr_nonnull(lc_proposal_header(p));
    ck_assert_ptr_nonnull(lc_proposal_signature_header(p));
    ck_assert_ptr_nonnull(lc_proposal_header_extension(p));
    ck_assert_ptr_nonnull(lc_proposal_invocation(p));
    ck_assert_ptr_nonnull(lc_proposal_proposal(p));
    ck_assert_ptr_nonnull(lc_proposal_signed(p));
    ck_assert_int_eq(lc_proposal_check_header(p, &err), 0);
    lc_proposal_free(p);
}
END_TEST

/* Packs a SignedProposal around prop and expects unpack to fail with code and needle. */
static void expect_unpack_fails(const Protos__Proposal *prop, int code, const char *needle)
{
    size_t len = protos__proposal__get_packed_size(prop);
    uint8_t *pb = malloc(len + 1);
    protos__proposal__pack(prop, pb);
    Protos__SignedProposal sp = PROTOS__SIGNED_PROPOSAL__INIT;
    sp.proposal_bytes.data = pb;
    sp.proposal_bytes.len = len;
    struct lc_proposal *p = NULL;
    struct lc_errbuf err = {{0}};
    int r = lc_proposal_from_signed(&sp, &err, &p);
    ck_assert_msg(r == code, "code %d (%s), want %d", r, err.msg, code);
    ck_assert_msg(strstr(err.msg, needle) != NULL, "\"%s\" lacks \"%s\"", err.msg, needle);
    ck_assert_ptr_null(p);
    free(pb);
}

static ProtobufCBinaryData bin(const void *msg)
{
    ProtobufCBinaryData b;
    struct lc_errbuf err;
    ck_assert_int_eq(lc_wire_pack(msg, 1 << 20, &b.data, &b.len, &err), 0);
    return b;
}

START_TEST(unpack_names_the_broken_layer)
{
    uint8_t junk[] = {0x0a, 0xff, 0xff, 0xff};
    struct lc_proposal *p = NULL;
    struct lc_errbuf err = {{0}};
    ck_assert_int_eq(lc_proposal_unpack(junk, sizeof junk, &err, &p), LC_EDECODE);
    ck_assert_ptr_nonnull(strstr(err.msg, "protos.SignedProposal"));

    ProtobufCBinaryData j = {sizeof junk, junk};
    Protos__Proposal prop = PROTOS__PROPOSAL__INIT;
    prop.header = j;
    expect_unpack_fails(&prop, LC_EDECODE, "common.Header");

    Common__Header hdr = COMMON__HEADER__INIT;
    hdr.channel_header = j;
    prop.header = bin(&hdr);
    expect_unpack_fails(&prop, LC_EDECODE, "common.ChannelHeader");
    free(prop.header.data);

    Common__ChannelHeader chdr = COMMON__CHANNEL_HEADER__INIT;
    chdr.extension = j;
    hdr.channel_header = bin(&chdr);
    hdr.signature_header = j;
    prop.header = bin(&hdr);
    expect_unpack_fails(&prop, LC_EDECODE, "common.SignatureHeader");
    free(prop.header.data);

    hdr.signature_header.len = 0;
    prop.header = bin(&hdr);
    expect_unpack_fails(&prop, LC_EDECODE, "protos.ChaincodeHeaderExtension");
    free(prop.header.data);
    free(hdr.channel_header.data);

    Protos__ChaincodeHeaderExtension ext = PROTOS__CHAINCODE_HEADER_EXTENSION__INIT;
    chdr.extension = bin(&ext);
    hdr.channel_header = bin(&chdr);
    prop.header = bin(&hdr);
    expect_unpack_fails(&prop, LC_EINVALID, "no chaincode_id");
    free(prop.header.data);
    free(hdr.channel_header.data);
    free(chdr.extension.data);

    Protos__ChaincodeID ccid = PROTOS__CHAINCODE_ID__INIT;
    ext.chaincode_id = &ccid;
    chdr.extension = bin(&ext);
    hdr.channel_header = bin(&chdr);
    prop.header = bin(&hdr);
    expect_unpack_fails(&prop, LC_EINVALID, "empty chaincode name");
    free(prop.header.data);
    free(hdr.channel_header.data);
    free(chdr.extension.data);

    ccid.name = "cc";
    chdr.extension = bin(&ext);
    hdr.channel_header = bin(&chdr);
    prop.header = bin(&hdr);
    prop.payload = j;
    expect_unpack_fails(&prop, LC_EDECODE, "protos.ChaincodeProposalPayload");

    Protos__ChaincodeProposalPayload cpp = PROTOS__CHAINCODE_PROPOSAL_PAYLOAD__INIT;
    cpp.input = j;
    prop.payload = bin(&cpp);
    expect_unpack_fails(&prop, LC_EDECODE, "protos.ChaincodeInvocationSpec");
    free(prop.payload.data);

    cpp.input.len = 0; /* an empty spec: no chaincode_spec */
    prop.payload = bin(&cpp);
    expect_unpack_fails(&prop, LC_EINVALID, "no chaincode_spec");
    free(prop.payload.data);

    Protos__ChaincodeSpec spec = PROTOS__CHAINCODE_SPEC__INIT;
    Protos__ChaincodeInvocationSpec cis = PROTOS__CHAINCODE_INVOCATION_SPEC__INIT;
    cis.chaincode_spec = &spec;
    cpp.input = bin(&cis);
    prop.payload = bin(&cpp);
    expect_unpack_fails(&prop, LC_EINVALID, "no chaincode input");
    free(prop.payload.data);
    free(cpp.input.data);
    free(prop.header.data);
    free(hdr.channel_header.data);
    free(chdr.extension.data);
}
END_TEST

static void expect_header_fails(const struct tl_prop *o, int code, const char *needle)
{
    struct lc_proposal *p = unpack_ok(o, NULL, NULL);
    struct lc_errbuf err = {{0}};
    int r = lc_proposal_check_header(p, &err);
    ck_assert_msg(r == code, "code %d (%s), want %d", r, err.msg, code);
    ck_assert_msg(strstr(err.msg, needle) != NULL, "\"%s\" lacks \"%s\"", err.msg, needle);
    lc_proposal_free(p);
}

START_TEST(header_checks)
{
    struct tl_prop o = {.chaincode = "cc", .creator = user1, ARGS("f")};
    o.type = 1;
    expect_header_fails(&o, LC_EINVALID, "header type 1");
    o.type = 5;
    expect_header_fails(&o, LC_EINVALID, "header type 5");
    o.type = 0;
    o.epoch = 1;
    expect_header_fails(&o, LC_EINVALID, "epoch 1");
    o.epoch = 0;
    o.empty_nonce = true;
    expect_header_fails(&o, LC_EINVALID, "empty nonce");
    o.empty_nonce = false;
    o.creator_bytes = (const uint8_t *)"";
    expect_header_fails(&o, LC_EINVALID, "empty creator");
    o.creator_bytes = NULL;
    o.empty_signature = true;
    expect_header_fails(&o, LC_EINVALID, "empty signature");
    o.empty_signature = false;
    o.txid = "ABC";
    expect_header_fails(&o, LC_EMISMATCH, "txid 'ABC'");
    /* Upper-case hex of the right hash is still wrong: Fabric compares strings. */
    char txid[65];
    size_t len;
    o.txid = NULL;
    uint8_t nonce[24] = {7};
    o.nonce = nonce;
    o.nonce_len = 24;
    free(tl_proposal(&o, &len, txid));
    for (char *c = txid; *c; c++)
        if (*c >= 'a' && *c <= 'f')
            *c = (char)(*c - 'a' + 'A');
    o.txid = txid;
    expect_header_fails(&o, LC_EMISMATCH, "txid");
}
END_TEST

/* Hash of chdr ‖ shdr ‖ cpp where cpp is protobuf-c's own packing of {input}. */
static void expected_hash(const struct lc_proposal *p, uint8_t out[32])
{
    const Common__Header *h = lc_proposal_header(p);
    Protos__ChaincodeProposalPayload cpp = PROTOS__CHAINCODE_PROPOSAL_PAYLOAD__INIT;
    cpp.input = lc_proposal_payload(p)->input;
    ProtobufCBinaryData b = bin(&cpp);
    const struct lc_iov v[] = {{h->channel_header.data, h->channel_header.len},
                               {h->signature_header.data, h->signature_header.len},
                               {b.data, b.len}};
    lc_sha256_iov(v, 3, out);
    free(b.data);
}

START_TEST(proposal_hash_drops_transient_map)
{
    uint8_t nonce[24] = {1, 2, 3};
    char big[300];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    struct tl_prop o = {.chaincode = "cc",
                        .creator = user1,
                        .nonce = nonce,
                        .nonce_len = 24,
                        .ts_seconds = 1700000000,
                        ARGS("f", big)};
    struct lc_proposal *a = unpack_ok(&o, NULL, NULL);
    uint8_t want[32];
    expected_hash(a, want);
    ck_assert(memcmp(lc_proposal_hash(a), want, 32) == 0);
    /* The same proposal with a transient map: other proposal bytes, same hash. */
    o.transient_key = "k";
    o.transient_value = "private";
    struct lc_proposal *b = unpack_ok(&o, NULL, NULL);
    ck_assert(memcmp(lc_proposal_hash(b), want, 32) == 0);
    ck_assert_uint_ne(lc_proposal_signed(a)->proposal_bytes.len,
                      lc_proposal_signed(b)->proposal_bytes.len);
    /* GetProposalHash2 over the stripped payload bytes gives the same. */
    const Common__Header *h = lc_proposal_header(b);
    Protos__ChaincodeProposalPayload cpp = PROTOS__CHAINCODE_PROPOSAL_PAYLOAD__INIT;
    cpp.input = lc_proposal_payload(b)->input;
    ProtobufCBinaryData cb = bin(&cpp);
    uint8_t h2[32];
    lc_proposal_hash2(h->channel_header.data, h->channel_header.len, h->signature_header.data,
                      h->signature_header.len, cb.data, cb.len, h2);
    ck_assert(memcmp(h2, want, 32) == 0);
    /* ... and over the payload with the transient map, a different one. */
    lc_proposal_hash2(h->channel_header.data, h->channel_header.len, h->signature_header.data,
                      h->signature_header.len, lc_proposal_proposal(b)->payload.data,
                      lc_proposal_proposal(b)->payload.len, h2);
    ck_assert(memcmp(h2, want, 32) != 0);
    free(cb.data);
    lc_proposal_free(a);
    lc_proposal_free(b);
    /* An empty input re-encodes to nothing (Go omits an empty bytes field). */
    uint8_t e1[32], e2[32];
    lc_proposal_hash1((const uint8_t *)"ab", 2, (const uint8_t *)"cd", 2, NULL, 0, e1);
    lc_sha256("abcd", 4, e2);
    ck_assert(memcmp(e1, e2, 32) == 0);
}
END_TEST

START_TEST(response_payload_round_trip)
{
    uint8_t hash[32];
    memset(hash, 0xab, sizeof hash);
    Protos__Response resp = PROTOS__RESPONSE__INIT;
    resp.status = 200;
    resp.payload.data = (uint8_t *)"out";
    resp.payload.len = 3;
    struct lc_proposal_action a = {.proposal_hash = hash,
                                   .results = (const uint8_t *)"\x12\x00",
                                   .results_len = 2,
                                   .response = &resp,
                                   .cc_name = "asset",
                                   .cc_version = "1.0"};
    uint8_t *buf = NULL;
    size_t len;
    struct lc_errbuf err = {{0}};
    ck_assert_int_eq(lc_proposal_prp_pack(&a, 1 << 20, &buf, &len, &err), 0);
    ProtobufCBinaryData pb = {len, buf};
    struct tl_decoded d;
    d.prp = protos__proposal_response_payload__unpack(NULL, pb.len, pb.data);
    ck_assert_ptr_nonnull(d.prp);
    ck_assert(memcmp(d.prp->proposal_hash.data, hash, 32) == 0);
    Protos__ChaincodeAction *act =
        protos__chaincode_action__unpack(NULL, d.prp->extension.len, d.prp->extension.data);
    ck_assert_ptr_nonnull(act);
    ck_assert_str_eq(act->chaincode_id->name, "asset");
    ck_assert_str_eq(act->chaincode_id->version, "1.0");
    ck_assert_str_eq(act->chaincode_id->path, "");
    ck_assert_int_eq(act->response->status, 200);
    ck_assert_uint_eq(act->events.len, 0);
    ck_assert_uint_eq(act->results.len, 2);
    protos__chaincode_action__free_unpacked(act, NULL);
    protos__proposal_response_payload__free_unpacked(d.prp, NULL);
    free(buf);
    a.cc_version = "";
    ck_assert_int_eq(lc_proposal_prp_pack(&a, 1 << 20, &buf, &len, &err), LC_EINVALID);
    a.cc_version = "1.0";
    a.response = NULL;
    ck_assert_int_eq(lc_proposal_prp_pack(&a, 1 << 20, &buf, &len, &err), LC_EINVALID);
    a.response = &resp;
    ck_assert_int_eq(lc_proposal_prp_pack(&a, 16, &buf, &len, &err), LC_ETOOBIG);
}
END_TEST

static struct lc_identity *identity_of(const struct lc_signer *s)
{
    size_t n;
    const uint8_t *b = lc_signer_serialized(s, &n);
    struct lc_identity *id = NULL;
    struct lc_errbuf err = {{0}};
    ck_assert_msg(lc_msp_mgr_deserialize(lc_chconf_msp_mgr(conf), b, n, &err, &id) == 0, "%s",
                  err.msg);
    return id;
}

START_TEST(endorsement_sign_and_verify)
{
    const uint8_t prp[] = "some proposal response payload";
    uint8_t sig[72];
    size_t sig_len;
    ck_assert_int_eq(lc_proposal_endorse(peer1, prp, sizeof prp, sig, &sig_len), 0);
    size_t id_len;
    const uint8_t *id = lc_signer_serialized(peer1, &id_len);
    Protos__Endorsement e = PROTOS__ENDORSEMENT__INIT;
    e.endorser.data = (uint8_t *)id;
    e.endorser.len = id_len;
    e.signature.data = sig;
    e.signature.len = sig_len;
    struct lc_identity *peer = identity_of(peer1), *user = identity_of(user1);
    struct lc_errbuf err = {{0}};
    ck_assert_int_eq(lc_proposal_endorsement_verify(peer, prp, sizeof prp, &e, &err), 0);
    /* Over payload ‖ endorser: the payload alone does not verify. */
    ck_assert_int_eq(lc_identity_verify(peer, prp, sizeof prp, sig, sig_len, &err), LC_EBADSIG);
    uint8_t bad[sizeof prp];
    memcpy(bad, prp, sizeof prp);
    bad[0] ^= 1;
    ck_assert_int_eq(lc_proposal_endorsement_verify(peer, bad, sizeof bad, &e, &err), LC_EBADSIG);
    ck_assert_int_eq(lc_proposal_endorsement_verify(user, prp, sizeof prp, &e, &err), LC_EMISMATCH);
    lc_identity_unref(peer);
    lc_identity_unref(user);
}
END_TEST

START_TEST(response_shapes_follow_status)
{
    const uint8_t prp[] = "prp";
    Protos__ProposalResponse *pr = NULL;
    struct lc_errbuf err = {{0}};
    ck_assert_int_eq(
        lc_proposal_response_new(200, NULL, (const uint8_t *)"ok", 2, prp, 3, peer1, &err, &pr), 0);
    ck_assert_int_eq(pr->version, 1);
    ck_assert_ptr_nonnull(pr->endorsement);
    ck_assert_uint_eq(pr->payload.len, 3);
    ck_assert_str_eq(pr->response->message, "");
    ck_assert_uint_eq(pr->response->payload.len, 2);
    ck_assert_ptr_null(pr->timestamp);
    lc_proposal_response_free(pr);

    ck_assert_int_eq(
        lc_proposal_response_new(404, "gone", (const uint8_t *)"x", 1, prp, 3, NULL, &err, &pr), 0);
    ck_assert_int_eq(pr->version, 0);
    ck_assert_ptr_null(pr->endorsement);
    ck_assert_uint_eq(pr->payload.len, 0);
    ck_assert_str_eq(pr->response->message, "gone");
    ck_assert_uint_eq(pr->response->payload.len, 1);
    lc_proposal_response_free(pr);

    ck_assert_int_eq(lc_proposal_response_new(500, "boom", NULL, 0, prp, 3, NULL, &err, &pr), 0);
    ck_assert_ptr_null(pr->endorsement);
    ck_assert_uint_eq(pr->payload.len, 3);
    lc_proposal_response_free(pr);
    ck_assert_int_eq(lc_proposal_response_new(500, "boom", NULL, 0, NULL, 0, NULL, &err, &pr), 0);
    ck_assert_uint_eq(pr->payload.len, 0);
    lc_proposal_response_free(pr);

    ck_assert_int_eq(lc_proposal_response_new(200, NULL, NULL, 0, prp, 3, NULL, &err, &pr),
                     LC_EINVALID);
    ck_assert_int_eq(lc_proposal_response_new(200, NULL, NULL, 0, NULL, 0, peer1, &err, &pr),
                     LC_EINVALID);
    lc_proposal_response_free(NULL);
}
END_TEST

static int creator_check(const struct lc_signer *creator, const struct lc_signer *signer,
                         time_t now, struct lc_errbuf *err)
{
    struct tl_prop o = {.chaincode = "cc", .creator = creator, .sign_with = signer, ARGS("f")};
    struct lc_proposal *p = unpack_ok(&o, NULL, NULL);
    struct lc_identity *id = NULL;
    int r = lc_proposal_check_creator(p, lc_chconf_msp_mgr(conf), now, err, &id);
    if (r == 0) {
        ck_assert_str_eq(lc_identity_mspid(id), lc_signer_mspid(creator));
        lc_identity_unref(id);
    } else {
        ck_assert_ptr_null(id);
    }
    lc_proposal_free(p);
    return r;
}

START_TEST(creator_checks)
{
    struct lc_errbuf err = {{0}};
    time_t now = time(NULL);
    ck_assert_int_eq(creator_check(user1, NULL, now, &err), 0);
    struct lc_signer *stranger = tl_signer_self("NoSuchMSP");
    ck_assert_int_eq(creator_check(stranger, NULL, now, &err), LC_EUNKNOWNMSP);
    ck_assert_ptr_nonnull(strstr(err.msg, "creator: "));
    lc_signer_free(stranger);
    stranger = tl_signer_self("Org1MSP");
    ck_assert_int_eq(creator_check(stranger, NULL, now, &err), LC_EBADCERT);
    lc_signer_free(stranger);
    struct lc_signer *old = tl_signer_issued(net.crypto, 1, "client", now - 240, now - 120);
    ck_assert_int_eq(creator_check(old, NULL, now, &err), LC_EEXPIRED);
    /* At a time inside its window the same certificate passes: only the clock refused it. */
    ck_assert_int_eq(creator_check(old, NULL, now - 180, &err), 0);
    lc_signer_free(old);
    ck_assert_int_eq(creator_check(user1, peer1, now, &err), LC_EBADSIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "signature: "));
}
END_TEST

static int policy_check(const struct lc_signer *creator, const char *path, struct lc_errbuf *err)
{
    struct tl_prop o = {.chaincode = "cc", .creator = creator, ARGS("f")};
    struct lc_proposal *p = unpack_ok(&o, NULL, NULL);
    struct lc_identity *id = NULL;
    ck_assert_int_eq(lc_proposal_check_creator(p, lc_chconf_msp_mgr(conf), time(NULL), err, &id),
                     0);
    int r = lc_proposal_check_policy(p, conf, path, id, err);
    lc_identity_unref(id);
    lc_proposal_free(p);
    return r;
}

START_TEST(policy_checks)
{
    struct lc_errbuf err = {{0}};
    ck_assert_int_eq(policy_check(user1, "/Channel/Application/Writers", &err), 0);
    ck_assert_int_eq(policy_check(peer1, "/Channel/Application/Writers", &err), 0);
    ck_assert_int_eq(policy_check(orderer, "/Channel/Application/Writers", &err), LC_EPOLICY);
    ck_assert_ptr_nonnull(strstr(err.msg, "Writers"));
    ck_assert_int_eq(policy_check(orderer, "/Channel/Orderer/Writers", &err), 0);
    ck_assert_int_eq(policy_check(user1, "/Channel/Application/Admins", &err), LC_EPOLICY);
    ck_assert_int_eq(policy_check(user1, "/Channel/Nowhere", &err), LC_ENOTFOUND);
}
END_TEST

static void setup(void)
{
    struct wh_net_opts no = {.orgs = 2, .peers_per_org = 1};
    ck_assert_int_eq(wh_net_make(&net, &no), 0);
    size_t len;
    uint8_t *blk = tl_read_file(net.genesis, &len);
    struct lc_errbuf err = {{0}};
    ck_assert_msg(lc_chconf_from_block_bytes(blk, len, 64, &err, &conf) == 0, "%s", err.msg);
    free(blk);
    peer1 = tl_signer(wh_peer_msp(&net, 1, 0), "Org1MSP");
    user1 = tl_signer(wh_user_msp(&net, 1, "User1"), "Org1MSP");
    orderer = tl_signer(wh_orderer_msp(&net, 0), "OrdererMSP");
}

static void teardown(void)
{
    lc_signer_free(peer1);
    lc_signer_free(user1);
    lc_signer_free(orderer);
    lc_chconf_free(conf);
    wh_cleanup();
}

int main(void)
{
    Suite *s = suite_create("proposal");
    TCase *tc = tcase_create("proposal");
    /* One network for all tests: no fork (a forked child's exit would run the harness cleanup
     * and remove it). */
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, unpack_keeps_layers_and_raw_bytes);
    tcase_add_test(tc, unpack_names_the_broken_layer);
    tcase_add_test(tc, header_checks);
    tcase_add_test(tc, proposal_hash_drops_transient_map);
    tcase_add_test(tc, response_payload_round_trip);
    tcase_add_test(tc, endorsement_sign_and_verify);
    tcase_add_test(tc, response_shapes_follow_status);
    tcase_add_test(tc, creator_checks);
    tcase_add_test(tc, policy_checks);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
