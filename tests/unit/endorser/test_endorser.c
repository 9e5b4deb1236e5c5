/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the endorser pipeline (endorser_process, no gRPC): every rejection, every
 * chaincode function, the rwset rules and the endorsement. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "testlib.h"

#include "libcommon/crypto.h"
#include "libcommon/proposal.h"
#include "libcommon/state.h"
#include "services/endorser/endorser.h"
#include "services/endorser/server.h"

static struct wh_net net;
static struct lc_signer *peer1, *user1, *user2, *orderer;
static int state_seq;

/* A fresh state directory for this test. */
static const char *new_state_dir(void)
{
    return wh_fmt("%s/state-%d", net.dir, state_seq++);
}

static struct endorser *start_opts(const char *state_dir, const char *aliases, size_t max_args)
{
    const char *genesis[] = {net.genesis};
    struct endorser_options o = {
        .msp_dir = wh_peer_msp(&net, 1, 0),
        .mspid = "Org1MSP",
        .genesis = genesis,
        .n_genesis = 1,
        .state_dir = state_dir,
        .max_args_bytes = max_args,
        .identity_cache = 64,
        .chaincodes = aliases,
        .state_map_size = 16 << 20,
        .state_nosync = true,
    };
    struct endorser *e = NULL;
    struct lc_errbuf err = {{0}};
    ck_assert_msg(endorser_new(&o, &err, &e) == 0, "endorser_new: %s", err.msg);
    return e;
}

static struct endorser *start(const char *state_dir)
{
    return start_opts(state_dir, "basic=asset", 0);
}

/* Sends one proposal; returns the outcome (caller calls endorser_outcome_done). */
static struct endorser_outcome run(struct endorser *e, const struct tl_prop *p, char *ret_txid,
                                   uint8_t **ret_raw, size_t *ret_raw_len)
{
    size_t len;
    uint8_t *raw = tl_proposal(p, &len, ret_txid);
    Protos__SignedProposal *sp = tl_unpack_sp(raw, len);
    struct endorser_outcome o;
    endorser_process(e, sp, time(NULL), &o);
    protos__signed_proposal__free_unpacked(sp, NULL);
    if (ret_raw) {
        *ret_raw = raw;
        *ret_raw_len = len;
    } else {
        free(raw);
    }
    return o;
}

#define ARGS(...)                                                                                  \
    .args = (const char *const[]){__VA_ARGS__},                                                    \
    .nargs = sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)

/* Runs and expects a gRPC error with code and a message containing needle. */
static void expect_grpc(struct endorser *e, const struct tl_prop *p, enum lc_rpc_code code,
                        const char *needle)
{
    struct endorser_outcome o = run(e, p, NULL, NULL, NULL);
    ck_assert_msg(o.code == code, "code %s, want %s (%s)", lc_rpc_code_name(o.code),
                  lc_rpc_code_name(code), o.msg);
    ck_assert_ptr_null(o.resp);
    ck_assert_msg(strstr(o.msg, needle) != NULL, "message \"%s\" lacks \"%s\"", o.msg, needle);
    endorser_outcome_done(&o);
}

/* Runs and expects a response with status and a message containing needle; returns it. */
static struct endorser_outcome expect_status(struct endorser *e, const struct tl_prop *p,
                                             int status, const char *needle)
{
    struct endorser_outcome o = run(e, p, NULL, NULL, NULL);
    ck_assert_msg(o.code == LC_RPC_OK, "gRPC error %s: %s", lc_rpc_code_name(o.code), o.msg);
    ck_assert_ptr_nonnull(o.resp);
    ck_assert_ptr_nonnull(o.resp->response);
    ck_assert_msg(o.resp->response->status == status, "status %d (%s), want %d",
                  o.resp->response->status, o.resp->response->message, status);
    if (needle)
        ck_assert_msg(strstr(o.resp->response->message, needle) != NULL,
                      "message \"%s\" lacks \"%s\"", o.resp->response->message, needle);
    return o;
}

/* Checks the endorsement over payload ‖ endorser by peer1's key. */
static void check_endorsement(const Protos__ProposalResponse *pr)
{
    ck_assert_int_eq(pr->version, 1);
    ck_assert_ptr_nonnull(pr->endorsement);
    size_t id_len;
    const uint8_t *id = lc_signer_serialized(peer1, &id_len);
    ck_assert_uint_eq(pr->endorsement->endorser.len, id_len);
    ck_assert(memcmp(pr->endorsement->endorser.data, id, id_len) == 0);
    const struct lc_iov iov[] = {{pr->payload.data, pr->payload.len}, {id, id_len}};
    struct lc_errbuf err = {{0}};
    ck_assert_msg(lc_ecdsa_verify_iov(lc_cert_pubkey(lc_signer_cert(peer1)), iov, 2,
                                      pr->endorsement->signature.data,
                                      pr->endorsement->signature.len, &err) == 0,
                  "endorsement: %s", err.msg);
}

static struct endorser_outcome expect_endorsed(struct endorser *e, const struct tl_prop *p,
                                               struct tl_decoded *d)
{
    struct endorser_outcome o = expect_status(e, p, 200, NULL);
    check_endorsement(o.resp);
    tl_decode(&o.resp->payload, d);
    ck_assert_int_eq(d->act->response->status, 200);
    return o;
}

static void assert_read(const Kvrwset__KVRWSet *ns, size_t i, const char *key, bool has_ver,
                        uint64_t block, uint64_t tx)
{
    ck_assert_uint_gt(ns->n_reads, i);
    ck_assert_str_eq(ns->reads[i]->key, key);
    if (!has_ver) {
        ck_assert_ptr_null(ns->reads[i]->version);
        return;
    }
    ck_assert_ptr_nonnull(ns->reads[i]->version);
    ck_assert_uint_eq(ns->reads[i]->version->block_num, block);
    ck_assert_uint_eq(ns->reads[i]->version->tx_num, tx);
}

static void assert_write(const Kvrwset__KVRWSet *ns, size_t i, const char *key, const char *val)
{
    ck_assert_uint_gt(ns->n_writes, i);
    ck_assert_str_eq(ns->writes[i]->key, key);
    if (!val) {
        ck_assert(ns->writes[i]->is_delete);
        ck_assert_uint_eq(ns->writes[i]->value.len, 0);
        return;
    }
    ck_assert(!ns->writes[i]->is_delete);
    ck_assert_uint_eq(ns->writes[i]->value.len, strlen(val));
    ck_assert(memcmp(ns->writes[i]->value.data, val, strlen(val)) == 0);
}

/* The _lifecycle read every invoke carries: version (0, 0) from the genesis block. */
static void assert_lifecycle(const struct tl_decoded *d, const char *cc)
{
    ck_assert_str_eq(d->rw->ns_rwset[0]->namespace_, "_lifecycle");
    Kvrwset__KVRWSet *lc = tl_ns(d, "_lifecycle");
    ck_assert_ptr_nonnull(lc);
    char key[128];
    snprintf(key, sizeof key, "namespaces/fields/%s/Sequence", cc);
    ck_assert_uint_eq(lc->n_reads, 1);
    assert_read(lc, 0, key, true, 0, 0);
    ck_assert_uint_eq(lc->n_writes, 0);
}

/* ---- rejections ------------------------------------------------------------------------- */

START_TEST(rejects_undecodable_layers)
{
    struct endorser *e = start(new_state_dir());
    /* proposal_bytes that are not a Proposal */
    Protos__SignedProposal sp = PROTOS__SIGNED_PROPOSAL__INIT;
    uint8_t junk[] = {0x0a, 0xff, 0xff, 0xff};
    sp.proposal_bytes.data = junk;
    sp.proposal_bytes.len = sizeof junk;
    struct endorser_outcome o;
    endorser_process(e, &sp, time(NULL), &o);
    ck_assert_int_eq(o.code, LC_RPC_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(o.msg, "protos.Proposal"));
    endorser_outcome_done(&o);

    struct tl_prop p = {.chaincode = "kv", .creator = user1, ARGS("get", "a")};
    p.garbage_payload = true;
    expect_grpc(e, &p, LC_RPC_INVALID_ARGUMENT, "protos.ChaincodeProposalPayload");
    p.garbage_payload = false;
    p.drop_ext_ccid = true;
    expect_grpc(e, &p, LC_RPC_INVALID_ARGUMENT, "no chaincode_id");
    p.drop_ext_ccid = false;
    p.chaincode = "";
    expect_grpc(e, &p, LC_RPC_INVALID_ARGUMENT, "empty chaincode name");
    p.chaincode = "kv";
    p.drop_spec = true;
    expect_grpc(e, &p, LC_RPC_INVALID_ARGUMENT, "no chaincode_spec");
    p.drop_spec = false;
    p.drop_input = true;
    expect_grpc(e, &p, LC_RPC_INVALID_ARGUMENT, "no chaincode input");
    endorser_free(e);
}
END_TEST

START_TEST(unknown_channel_is_status_500)
{
    struct endorser *e = start(new_state_dir());
    struct tl_prop p = {
        .channel = "otherchannel", .chaincode = "kv", .creator = user1, ARGS("get", "a")};
    struct endorser_outcome o = expect_status(e, &p, 500, "channel 'otherchannel' not found");
    ck_assert_ptr_null(o.resp->endorsement);
    ck_assert_uint_eq(o.resp->payload.len, 0);
    endorser_outcome_done(&o);
    endorser_free(e);
}
END_TEST

START_TEST(rejects_bad_headers)
{
    struct endorser *e = start(new_state_dir());
    struct tl_prop p = {.chaincode = "kv", .creator = user1, ARGS("get", "a")};
    p.type = 1;
    expect_grpc(e, &p, LC_RPC_INVALID_ARGUMENT, "header type 1");
    p.type = 0;
    p.type_zero = true;
    expect_grpc(e, &p, LC_RPC_INVALID_ARGUMENT, "header type 0");
    p.type_zero = false;
    p.epoch = 7;
    expect_grpc(e, &p, LC_RPC_INVALID_ARGUMENT, "epoch 7");
    p.epoch = 0;
    p.empty_nonce = true;
    expect_grpc(e, &p, LC_RPC_INVALID_ARGUMENT, "empty nonce");
    p.empty_nonce = false;
    p.empty_signature = true;
    expect_grpc(e, &p, LC_RPC_INVALID_ARGUMENT, "empty signature");
    p.empty_signature = false;
    p.creator_bytes = (const uint8_t *)"";
    p.creator_len = 0;
    expect_grpc(e, &p, LC_RPC_INVALID_ARGUMENT, "empty creator");
    endorser_free(e);
}
END_TEST

START_TEST(rejects_wrong_txid)
{
    struct endorser *e = start(new_state_dir());
    struct tl_prop p = {.chaincode = "kv",
                        .creator = user1,
                        ARGS("get", "a"),
                        .txid = "0000000000000000000000000000000000000000000000000000000000000000"};
    expect_grpc(e, &p, LC_RPC_INVALID_ARGUMENT, "is not hex(SHA-256(nonce");
    endorser_free(e);
}
END_TEST

START_TEST(rejects_unknown_msp)
{
    struct endorser *e = start(new_state_dir());
    struct lc_signer *s = tl_signer_self("NoSuchMSP");
    struct tl_prop p = {.chaincode = "kv", .creator = s, ARGS("get", "a")};
    expect_grpc(e, &p, LC_RPC_UNAUTHENTICATED, "creator:");
    lc_signer_free(s);
    endorser_free(e);
}
END_TEST

START_TEST(rejects_foreign_certificate)
{
    struct endorser *e = start(new_state_dir());
    struct lc_signer *s = tl_signer_self("Org1MSP");
    struct tl_prop p = {.chaincode = "kv", .creator = s, ARGS("get", "a")};
    expect_grpc(e, &p, LC_RPC_UNAUTHENTICATED, "creator:");
    lc_signer_free(s);
    endorser_free(e);
}
END_TEST

START_TEST(rejects_expired_creator)
{
    struct endorser *e = start(new_state_dir());
    time_t now = time(NULL);
    struct lc_signer *s = tl_signer_issued(net.crypto, 1, "client", now - 240, now - 120);
    struct tl_prop p = {.chaincode = "kv", .creator = s, ARGS("get", "a")};
    expect_grpc(e, &p, LC_RPC_UNAUTHENTICATED, "expired");
    lc_signer_free(s);
    /* The same CA issuing a current certificate is fine: expiry is what was refused. */
    s = tl_signer_issued(net.crypto, 1, "client", now - 60, now + 3600);
    p.creator = s;
    struct endorser_outcome o = expect_status(e, &p, 200, NULL);
    endorser_outcome_done(&o);
    lc_signer_free(s);
    endorser_free(e);
}
END_TEST

START_TEST(rejects_bad_signature)
{
    struct endorser *e = start(new_state_dir());
    struct tl_prop p = {.chaincode = "kv", .creator = user1, .sign_with = user2, ARGS("get", "a")};
    expect_grpc(e, &p, LC_RPC_UNAUTHENTICATED, "signature:");
    endorser_free(e);
}
END_TEST

START_TEST(rejects_committed_txid)
{
    const char *dir = new_state_dir();
    /* Build the proposal first to learn its TxID, commit that TxID, then send it. */
    uint8_t nonce[24] = {1, 2, 3};
    struct tl_prop p = {
        .chaincode = "kv", .creator = user1, .nonce = nonce, .nonce_len = 24, ARGS("get", "a")};
    char txid[65];
    size_t len;
    free(tl_proposal(&p, &len, txid));
    tl_seed(dir, net.genesis, txid, "kv", NULL);
    struct endorser *e = start(dir);
    expect_grpc(e, &p, LC_RPC_ALREADY_EXISTS, "duplicate transaction");
    nonce[0] = 9; /* another TxID goes through */
    struct endorser_outcome o = expect_status(e, &p, 200, NULL);
    endorser_outcome_done(&o);
    endorser_free(e);
}
END_TEST

START_TEST(rejects_non_writer)
{
    struct endorser *e = start(new_state_dir());
    struct tl_prop p = {.chaincode = "kv", .creator = orderer, ARGS("get", "a")};
    expect_grpc(e, &p, LC_RPC_PERMISSION_DENIED, "/Channel/Application/Writers");
    endorser_free(e);
}
END_TEST

START_TEST(rejects_oversized_args)
{
    struct endorser *e = start_opts(new_state_dir(), NULL, 16);
    struct tl_prop p = {.chaincode = "kv", .creator = user1, ARGS("put", "key", "01234567890")};
    expect_grpc(e, &p, LC_RPC_RESOURCE_EXHAUSTED, "over the limit of 16");
    struct tl_prop ok = {.chaincode = "kv", .creator = user1, ARGS("put", "key", "0123456")};
    struct endorser_outcome o = expect_status(e, &ok, 200, NULL);
    endorser_outcome_done(&o);
    endorser_free(e);
}
END_TEST

START_TEST(undefined_chaincode_is_status_500)
{
    struct endorser *e = start(new_state_dir());
    struct tl_prop p = {.chaincode = "nosuchcc", .creator = user1, ARGS("get", "a")};
    struct endorser_outcome o =
        expect_status(e, &p, 500, "chaincode nosuchcc is not defined on channel mychannel");
    ck_assert_ptr_null(o.resp->endorsement);
    endorser_outcome_done(&o);
    /* Defined on the channel, but no module serves it. */
    p.chaincode = "orphan";
    o = expect_status(e, &p, 500, "no module");
    endorser_outcome_done(&o);
    endorser_free(e);
}
END_TEST

START_TEST(alias_serves_definition_with_module)
{
    struct endorser *e = start(new_state_dir());
    struct tl_prop p = {.chaincode = "basic", .creator = user1, ARGS("AssetExists", "x")};
    struct tl_decoded d;
    struct endorser_outcome o = expect_endorsed(e, &p, &d);
    ck_assert_str_eq(d.act->chaincode_id->name, "basic");
    ck_assert_str_eq(d.act->chaincode_id->version, "2.0");
    assert_lifecycle(&d, "basic");
    assert_read(tl_ns(&d, "basic"), 0, "x", false, 0, 0);
    tl_decoded_free(&d);
    endorser_outcome_done(&o);
    endorser_free(e);
}
END_TEST

START_TEST(bad_alias_rejected_at_start)
{
    const char *genesis[] = {net.genesis};
    struct endorser_options o = {
        .msp_dir = wh_peer_msp(&net, 1, 0),
        .mspid = "Org1MSP",
        .genesis = genesis,
        .n_genesis = 1,
        .state_dir = new_state_dir(),
        .chaincodes = "basic=nomodule",
        .state_nosync = true,
    };
    struct endorser *e = NULL;
    struct lc_errbuf err = {{0}};
    ck_assert_int_eq(endorser_new(&o, &err, &e), LC_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "nomodule"));
    o.chaincodes = "basic";
    ck_assert_int_eq(endorser_new(&o, &err, &e), LC_ESYNTAX);
}
END_TEST

START_TEST(state_dir_locked_and_genesis_checked)
{
    const char *dir = new_state_dir();
    struct endorser *e = start(dir);
    const char *genesis[] = {net.genesis};
    struct endorser_options o = {
        .msp_dir = wh_peer_msp(&net, 1, 0),
        .mspid = "Org1MSP",
        .genesis = genesis,
        .n_genesis = 1,
        .state_dir = dir,
        .state_nosync = true,
    };
    struct endorser *e2 = NULL;
    struct lc_errbuf err = {{0}};
    ck_assert_int_eq(endorser_new(&o, &err, &e2), LC_EUNAVAIL);
    ck_assert_ptr_nonnull(strstr(err.msg, "in use by another endorser"));
    endorser_free(e);
    /* Reopened: the replica is kept (height 1) and its genesis recognised. */
    e = start(dir);
    endorser_free(e);
    /* The same genesis file twice is two blocks for one channel. */
    const char *twice[] = {net.genesis, net.genesis};
    o.genesis = twice;
    o.n_genesis = 2;
    ck_assert_int_eq(endorser_new(&o, &err, &e2), LC_EEXISTS);
}
END_TEST

/* ---- chaincodes ------------------------------------------------------------------------- */

START_TEST(example02_init_invoke_query)
{
    struct endorser *e = start(new_state_dir());
    struct tl_prop p = {
        .chaincode = "example02", .creator = user1, ARGS("init", "a", "100", "b", "200")};
    struct tl_decoded d;
    struct endorser_outcome o = expect_endorsed(e, &p, &d);
    assert_lifecycle(&d, "example02");
    Kvrwset__KVRWSet *ns = tl_ns(&d, "example02");
    ck_assert_uint_eq(ns->n_reads, 0);
    ck_assert_uint_eq(ns->n_writes, 2);
    assert_write(ns, 0, "a", "100");
    assert_write(ns, 1, "b", "200");
    tl_decoded_free(&d);
    endorser_outcome_done(&o);
    endorser_free(e);

    const char *dir = new_state_dir();
    tl_seed(dir, net.genesis, NULL, "example02",
            (const char *const[]){"a", "100", "b", "200", NULL});
    e = start(dir);
    /* Funds move from b to a: writes come out sorted (a before b). */
    struct tl_prop inv = {
        .chaincode = "example02", .creator = user1, ARGS("invoke", "b", "a", "10")};
    o = expect_endorsed(e, &inv, &d);
    ns = tl_ns(&d, "example02");
    ck_assert_uint_eq(ns->n_reads, 2);
    assert_read(ns, 0, "a", true, 1, 0);
    assert_read(ns, 1, "b", true, 1, 0);
    assert_write(ns, 0, "a", "110");
    assert_write(ns, 1, "b", "190");
    tl_decoded_free(&d);
    endorser_outcome_done(&o);

    struct tl_prop q = {.chaincode = "example02", .creator = user1, ARGS("query", "b")};
    o = expect_endorsed(e, &q, &d);
    ck_assert_uint_eq(o.resp->response->payload.len, 3);
    ck_assert(memcmp(o.resp->response->payload.data, "200", 3) == 0);
    ck_assert_uint_eq(d.act->response->payload.len, 3);
    tl_decoded_free(&d);
    endorser_outcome_done(&o);

    struct tl_prop poor = {
        .chaincode = "example02", .creator = user1, ARGS("invoke", "a", "b", "101")};
    o = expect_status(e, &poor, 500, "insufficient funds: a holds 100, 101 needed");
    ck_assert_ptr_null(o.resp->endorsement);
    /* Fabric returns what was simulated with a 500: the two reads, no writes, no event. */
    tl_decode(&o.resp->payload, &d);
    ck_assert_uint_eq(tl_ns(&d, "example02")->n_reads, 2);
    ck_assert_uint_eq(tl_ns(&d, "example02")->n_writes, 0);
    ck_assert_int_eq(d.act->response->status, 500);
    tl_decoded_free(&d);
    endorser_outcome_done(&o);

    struct tl_prop unknown = {
        .chaincode = "example02", .creator = user1, ARGS("invoke", "a", "zed", "1")};
    o = expect_status(e, &unknown, 500, "account zed not found");
    endorser_outcome_done(&o);
    struct tl_prop qz = {.chaincode = "example02", .creator = user1, ARGS("query", "zed")};
    o = expect_status(e, &qz, 500, "account zed not found");
    endorser_outcome_done(&o);
    struct tl_prop neg = {
        .chaincode = "example02", .creator = user1, ARGS("invoke", "a", "b", "-5")};
    o = expect_status(e, &neg, 500, "positive integer");
    endorser_outcome_done(&o);
    struct tl_prop nargs = {.chaincode = "example02", .creator = user1, ARGS("invoke", "a")};
    o = expect_status(e, &nargs, 500, "expected 3 parameters");
    endorser_outcome_done(&o);
    struct tl_prop badinit = {
        .chaincode = "example02", .creator = user1, ARGS("init", "a", "x", "b", "1")};
    o = expect_status(e, &badinit, 500, "non-negative integers");
    endorser_outcome_done(&o);
    struct tl_prop del = {.chaincode = "example02", .creator = user1, ARGS("delete", "a")};
    o = expect_endorsed(e, &del, &d);
    assert_write(tl_ns(&d, "example02"), 0, "a", NULL);
    tl_decoded_free(&d);
    endorser_outcome_done(&o);
    struct tl_prop nofn = {.chaincode = "example02", .creator = user1, ARGS("transfer")};
    o = expect_status(e, &nofn, 500, "unknown function \"transfer\"");
    endorser_outcome_done(&o);
    endorser_free(e);
}
END_TEST

START_TEST(kv_put_get_del)
{
    const char *dir = new_state_dir();
    tl_seed(dir, net.genesis, NULL, "kv", (const char *const[]){"k1", "one", NULL});
    struct endorser *e = start(dir);
    struct tl_decoded d;
    struct tl_prop put = {.chaincode = "kv", .creator = user1, ARGS("put", "k2", "two")};
    struct endorser_outcome o = expect_endorsed(e, &put, &d);
    ck_assert_uint_eq(d.rw->n_ns_rwset, 2);
    ck_assert_uint_eq(tl_ns(&d, "kv")->n_reads, 0);
    assert_write(tl_ns(&d, "kv"), 0, "k2", "two");
    tl_decoded_free(&d);
    endorser_outcome_done(&o);

    struct tl_prop get = {.chaincode = "kv", .creator = user1, ARGS("get", "k1")};
    o = expect_endorsed(e, &get, &d);
    assert_read(tl_ns(&d, "kv"), 0, "k1", true, 1, 0);
    ck_assert_uint_eq(tl_ns(&d, "kv")->n_writes, 0);
    ck_assert_uint_eq(o.resp->response->payload.len, 3);
    tl_decoded_free(&d);
    endorser_outcome_done(&o);

    /* An absent key is read without a version. */
    struct tl_prop absent = {.chaincode = "kv", .creator = user1, ARGS("get", "nope")};
    o = expect_endorsed(e, &absent, &d);
    assert_read(tl_ns(&d, "kv"), 0, "nope", false, 0, 0);
    ck_assert_uint_eq(o.resp->response->payload.len, 0);
    tl_decoded_free(&d);
    endorser_outcome_done(&o);

    struct tl_prop del = {.chaincode = "kv", .creator = user1, ARGS("del", "k1")};
    o = expect_endorsed(e, &del, &d);
    assert_write(tl_ns(&d, "kv"), 0, "k1", NULL);
    tl_decoded_free(&d);
    endorser_outcome_done(&o);

    /* A write of an empty value is recorded as a delete, as in Fabric. */
    struct tl_prop empty = {.chaincode = "kv", .creator = user1, ARGS("put", "k1", "")};
    o = expect_endorsed(e, &empty, &d);
    assert_write(tl_ns(&d, "kv"), 0, "k1", NULL);
    tl_decoded_free(&d);
    endorser_outcome_done(&o);

    /* Keys the rwset or the state cannot carry are refused by the stub. */
    char longkey[600];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    struct tl_prop lk = {.chaincode = "kv", .creator = user1, ARGS("put", longkey, "v")};
    o = expect_status(e, &lk, 500, "over the limit");
    endorser_outcome_done(&o);
    struct tl_prop bad8 = {.chaincode = "kv", .creator = user1, ARGS("put", "\xff\xfe", "v")};
    o = expect_status(e, &bad8, 500, "not valid UTF-8");
    endorser_outcome_done(&o);
    struct tl_prop nofn = {.chaincode = "kv", .creator = user1, ARGS("frobnicate")};
    o = expect_status(e, &nofn, 500, "unknown function");
    endorser_outcome_done(&o);
    endorser_free(e);
}
END_TEST

START_TEST(kv_range_raw_reads)
{
    const char *dir = new_state_dir();
    tl_seed(dir, net.genesis, NULL, "kv",
            (const char *const[]){"a", "1", "b", "2", "c", "3", "d", "4", NULL});
    struct endorser *e = start(dir);
    struct tl_decoded d;
    struct tl_prop p = {.chaincode = "kv", .creator = user1, ARGS("range", "b", "d")};
    struct endorser_outcome o = expect_endorsed(e, &p, &d);
    ck_assert_uint_eq(o.resp->response->payload.len,
                      strlen("[{\"key\":\"b\",\"value\":\"2\"},{\"key\":\"c\",\"value\":\"3\"}]"));
    Kvrwset__KVRWSet *ns = tl_ns(&d, "kv");
    ck_assert_uint_eq(ns->n_reads, 0);
    ck_assert_uint_eq(ns->n_range_queries_info, 1);
    Kvrwset__RangeQueryInfo *rq = ns->range_queries_info[0];
    ck_assert_str_eq(rq->start_key, "b");
    ck_assert_str_eq(rq->end_key, "d");
    ck_assert(rq->itr_exhausted);
    ck_assert_int_eq(rq->reads_info_case, KVRWSET__RANGE_QUERY_INFO__READS_INFO_RAW_READS);
    ck_assert_uint_eq(rq->raw_reads->n_kv_reads, 2);
    ck_assert_str_eq(rq->raw_reads->kv_reads[0]->key, "b");
    ck_assert_uint_eq(rq->raw_reads->kv_reads[0]->version->block_num, 1);
    ck_assert_str_eq(rq->raw_reads->kv_reads[1]->key, "c");
    tl_decoded_free(&d);
    endorser_outcome_done(&o);

    /* An empty start is sent as "\x01" (Fabric's shim), an empty end is open. */
    struct tl_prop all = {.chaincode = "kv", .creator = user1, ARGS("range", "", "")};
    o = expect_endorsed(e, &all, &d);
    rq = tl_ns(&d, "kv")->range_queries_info[0];
    ck_assert_str_eq(rq->start_key, "\x01");
    ck_assert_str_eq(rq->end_key, "");
    ck_assert_uint_eq(rq->raw_reads->n_kv_reads, 4);
    tl_decoded_free(&d);
    endorser_outcome_done(&o);

    /* A scan that finds nothing records no reads_info at all. */
    struct tl_prop none = {.chaincode = "kv", .creator = user1, ARGS("range", "x", "z")};
    o = expect_endorsed(e, &none, &d);
    rq = tl_ns(&d, "kv")->range_queries_info[0];
    ck_assert(rq->itr_exhausted);
    ck_assert_int_eq(rq->reads_info_case, KVRWSET__RANGE_QUERY_INFO__READS_INFO__NOT_SET);
    tl_decoded_free(&d);
    endorser_outcome_done(&o);

    /* Stopping early still records the handler's whole first batch (here: everything). */
    struct tl_prop lim = {.chaincode = "kv", .creator = user1, ARGS("range", "a", "", "1")};
    o = expect_endorsed(e, &lim, &d);
    rq = tl_ns(&d, "kv")->range_queries_info[0];
    ck_assert(rq->itr_exhausted);
    ck_assert_uint_eq(rq->raw_reads->n_kv_reads, 4);
    tl_decoded_free(&d);
    endorser_outcome_done(&o);
    endorser_free(e);
}
END_TEST

/* SHA-256 of QueryReads{kv_reads: keys [from, to) of tl_seed_many, version (1, 0)}. */
static void leaf_hash(const char *prefix, size_t from, size_t to, uint8_t out[32])
{
    size_t n = to - from;
    Kvrwset__KVRead *r = calloc(n, sizeof *r);
    Kvrwset__KVRead **pr = calloc(n, sizeof *pr);
    char(*keys)[64] = calloc(n, 64);
    Kvrwset__Version v = KVRWSET__VERSION__INIT;
    v.block_num = 1;
    for (size_t i = 0; i < n; i++) {
        kvrwset__kvread__init(&r[i]);
        snprintf(keys[i], 64, "%s%04zu", prefix, from + i);
        r[i].key = keys[i];
        r[i].version = &v;
        pr[i] = &r[i];
    }
    Kvrwset__QueryReads qr = KVRWSET__QUERY_READS__INIT;
    qr.n_kv_reads = n;
    qr.kv_reads = pr;
    size_t len = kvrwset__query_reads__get_packed_size(&qr);
    uint8_t *buf = malloc(len);
    kvrwset__query_reads__pack(&qr, buf);
    lc_sha256(buf, len, out);
    free(buf);
    free(r);
    free(pr);
    free(keys);
}

START_TEST(kv_range_merkle_summary)
{
    const char *dir = new_state_dir();
    tl_seed_many(dir, net.genesis, "kv", "key", 150);
    struct endorser *e = start(dir);
    struct tl_decoded d;
    /* Whole scan: 150 results hash as leaves of 51, 51 and 48 reads. */
    struct tl_prop all = {.chaincode = "kv", .creator = user1, ARGS("range", "key", "")};
    struct endorser_outcome o = expect_endorsed(e, &all, &d);
    Kvrwset__RangeQueryInfo *rq = tl_ns(&d, "kv")->range_queries_info[0];
    ck_assert(rq->itr_exhausted);
    ck_assert_str_eq(rq->end_key, "");
    ck_assert_int_eq(rq->reads_info_case,
                     KVRWSET__RANGE_QUERY_INFO__READS_INFO_READS_MERKLE_HASHES);
    Kvrwset__QueryReadsMerkleSummary *s = rq->reads_merkle_hashes;
    ck_assert_uint_eq(s->max_degree, 50);
    ck_assert_uint_eq(s->max_level, 1);
    ck_assert_uint_eq(s->n_max_level_hashes, 3);
    uint8_t h[32];
    leaf_hash("key", 0, 51, h);
    ck_assert(memcmp(s->max_level_hashes[0].data, h, 32) == 0);
    leaf_hash("key", 51, 102, h);
    ck_assert(memcmp(s->max_level_hashes[1].data, h, 32) == 0);
    leaf_hash("key", 102, 150, h);
    ck_assert(memcmp(s->max_level_hashes[2].data, h, 32) == 0);
    tl_decoded_free(&d);
    endorser_outcome_done(&o);

    /* Stopping after 10: the handler read 100 + 1 ahead; the scan is not exhausted and its
     * recorded end is the last key read. */
    struct tl_prop lim = {.chaincode = "kv", .creator = user1, ARGS("range", "key", "", "10")};
    o = expect_endorsed(e, &lim, &d);
    rq = tl_ns(&d, "kv")->range_queries_info[0];
    ck_assert(!rq->itr_exhausted);
    ck_assert_str_eq(rq->end_key, "key0100");
    s = rq->reads_merkle_hashes;
    ck_assert_uint_eq(s->n_max_level_hashes, 2);
    leaf_hash("key", 51, 101, h);
    ck_assert(memcmp(s->max_level_hashes[1].data, h, 32) == 0);
    tl_decoded_free(&d);
    endorser_outcome_done(&o);
    endorser_free(e);
}
END_TEST

START_TEST(kv_event_and_statuses)
{
    struct endorser *e = start(new_state_dir());
    struct tl_decoded d;
    struct tl_prop ev = {.chaincode = "kv", .creator = user1, ARGS("event", "moved", "data")};
    char txid[65];
    size_t len;
    uint8_t *raw = tl_proposal(&ev, &len, txid);
    Protos__SignedProposal *sp = tl_unpack_sp(raw, len);
    struct endorser_outcome o;
    endorser_process(e, sp, time(NULL), &o);
    ck_assert_int_eq(o.code, LC_RPC_OK);
    check_endorsement(o.resp);
    tl_decode(&o.resp->payload, &d);
    ck_assert_ptr_nonnull(d.event);
    ck_assert_str_eq(d.event->chaincode_id, "kv");
    ck_assert_str_eq(d.event->tx_id, txid);
    ck_assert_str_eq(d.event->event_name, "moved");
    ck_assert_uint_eq(d.event->payload.len, 4);
    /* The proposal hash covers the raw headers and the re-encoded input. */
    struct lc_proposal *p = NULL;
    struct lc_errbuf err;
    ck_assert_int_eq(lc_proposal_from_signed(sp, &err, &p), 0);
    ck_assert_uint_eq(d.prp->proposal_hash.len, 32);
    ck_assert(memcmp(d.prp->proposal_hash.data, lc_proposal_hash(p), 32) == 0);
    lc_proposal_free(p);
    tl_decoded_free(&d);
    endorser_outcome_done(&o);
    protos__signed_proposal__free_unpacked(sp, NULL);
    free(raw);

    /* 4xx: the response only, payload kept, nothing simulated sent back. */
    struct tl_prop r404 = {
        .chaincode = "kv", .creator = user1, ARGS("respond", "404", "not here", "body")};
    o = expect_status(e, &r404, 404, "not here");
    ck_assert_ptr_null(o.resp->endorsement);
    ck_assert_uint_eq(o.resp->payload.len, 0);
    ck_assert_uint_eq(o.resp->response->payload.len, 4);
    ck_assert_int_eq(o.resp->version, 0);
    endorser_outcome_done(&o);

    /* 5xx: response plus what was simulated (the write), without the event. */
    struct tl_prop r500 = {.chaincode = "kv", .creator = user1, ARGS("respond", "503", "down")};
    o = expect_status(e, &r500, 503, "down");
    ck_assert_ptr_null(o.resp->endorsement);
    tl_decode(&o.resp->payload, &d);
    assert_write(tl_ns(&d, "kv"), 0, "respond", "x");
    ck_assert_ptr_null(d.event);
    tl_decoded_free(&d);
    endorser_outcome_done(&o);

    /* Below 400 is endorsed, whatever the number. */
    struct tl_prop r300 = {.chaincode = "kv", .creator = user1, ARGS("respond", "300", "meh")};
    o = expect_status(e, &r300, 300, "meh");
    check_endorsement(o.resp);
    endorser_outcome_done(&o);
    endorser_free(e);
}
END_TEST

static const char ASSET1[] =
    "{\"AppraisedValue\":300,\"Color\":\"blue\",\"ID\":\"asset1\",\"Owner\":\"Tomoko\",\"Size\":5}";

START_TEST(asset_contract)
{
    const char *dir = new_state_dir();
    tl_seed(dir, net.genesis, NULL, "asset", (const char *const[]){"asset1", ASSET1, NULL});
    struct endorser *e = start(dir);
    struct tl_decoded d;
    struct endorser_outcome o;

    struct tl_prop init = {.chaincode = "asset", .creator = user1, ARGS("InitLedger")};
    o = expect_endorsed(e, &init, &d);
    Kvrwset__KVRWSet *ns = tl_ns(&d, "asset");
    ck_assert_uint_eq(ns->n_reads, 0);
    ck_assert_uint_eq(ns->n_writes, 6);
    assert_write(ns, 0, "asset1", ASSET1);
    ck_assert_str_eq(ns->writes[5]->key, "asset6");
    tl_decoded_free(&d);
    endorser_outcome_done(&o);

    struct tl_prop create = {.chaincode = "asset",
                             .creator = user1,
                             ARGS("CreateAsset", "asset7", "pink", "3", "Ann", "90")};
    o = expect_endorsed(e, &create, &d);
    ns = tl_ns(&d, "asset");
    assert_read(ns, 0, "asset7", false, 0, 0);
    assert_write(ns, 0, "asset7",
                 "{\"AppraisedValue\":90,\"Color\":\"pink\",\"ID\":\"asset7\",\"Owner\":\"Ann\","
                 "\"Size\":3}");
    tl_decoded_free(&d);
    endorser_outcome_done(&o);

    struct tl_prop dup = {.chaincode = "asset",
                          .creator = user1,
                          ARGS("CreateAsset", "asset1", "pink", "3", "Ann", "90")};
    o = expect_status(e, &dup, 500, "the asset asset1 already exists");
    endorser_outcome_done(&o);
    struct tl_prop badint = {.chaincode = "asset",
                             .creator = user1,
                             ARGS("CreateAsset", "asset8", "pink", "three", "Ann", "90")};
    o = expect_status(e, &badint, 500, "not an integer");
    endorser_outcome_done(&o);
    struct tl_prop few = {.chaincode = "asset", .creator = user1, ARGS("CreateAsset", "asset8")};
    o = expect_status(e, &few, 500, "expected 5 parameters");
    endorser_outcome_done(&o);

    struct tl_prop read = {.chaincode = "asset", .creator = user1, ARGS("ReadAsset", "asset1")};
    o = expect_endorsed(e, &read, &d);
    ck_assert_uint_eq(o.resp->response->payload.len, strlen(ASSET1));
    ck_assert(memcmp(o.resp->response->payload.data, ASSET1, strlen(ASSET1)) == 0);
    assert_read(tl_ns(&d, "asset"), 0, "asset1", true, 1, 0);
    tl_decoded_free(&d);
    endorser_outcome_done(&o);
    struct tl_prop read9 = {.chaincode = "asset", .creator = user1, ARGS("ReadAsset", "asset9")};
    o = expect_status(e, &read9, 500, "the asset asset9 does not exist");
    endorser_outcome_done(&o);

    struct tl_prop upd = {.chaincode = "asset",
                          .creator = user1,
                          ARGS("UpdateAsset", "asset1", "red", "6", "Tomoko", "310")};
    o = expect_endorsed(e, &upd, &d);
    assert_read(tl_ns(&d, "asset"), 0, "asset1", true, 1, 0);
    ck_assert_uint_eq(tl_ns(&d, "asset")->n_writes, 1);
    tl_decoded_free(&d);
    endorser_outcome_done(&o);
    struct tl_prop upd9 = {.chaincode = "asset",
                           .creator = user1,
                           ARGS("UpdateAsset", "asset9", "red", "6", "T", "310")};
    o = expect_status(e, &upd9, 500, "the asset asset9 does not exist");
    endorser_outcome_done(&o);

    struct tl_prop xfer = {
        .chaincode = "asset", .creator = user1, ARGS("TransferAsset", "asset1", "Max")};
    o = expect_endorsed(e, &xfer, &d);
    ck_assert_uint_eq(o.resp->response->payload.len, 6);
    ck_assert(memcmp(o.resp->response->payload.data, "Tomoko", 6) == 0);
    assert_write(tl_ns(&d, "asset"), 0, "asset1",
                 "{\"AppraisedValue\":300,\"Color\":\"blue\",\"ID\":\"asset1\",\"Owner\":\"Max\","
                 "\"Size\":5}");
    tl_decoded_free(&d);
    endorser_outcome_done(&o);
    struct tl_prop xfer9 = {
        .chaincode = "asset", .creator = user1, ARGS("TransferAsset", "asset9", "Max")};
    o = expect_status(e, &xfer9, 500, "the asset asset9 does not exist");
    endorser_outcome_done(&o);

    struct tl_prop ex = {.chaincode = "asset", .creator = user1, ARGS("AssetExists", "asset1")};
    o = expect_endorsed(e, &ex, &d);
    ck_assert_uint_eq(o.resp->response->payload.len, 4);
    tl_decoded_free(&d);
    endorser_outcome_done(&o);
    struct tl_prop ex9 = {.chaincode = "asset", .creator = user1, ARGS("AssetExists", "asset9")};
    o = expect_endorsed(e, &ex9, &d);
    ck_assert(memcmp(o.resp->response->payload.data, "false", 5) == 0);
    tl_decoded_free(&d);
    endorser_outcome_done(&o);

    struct tl_prop delp = {.chaincode = "asset", .creator = user1, ARGS("DeleteAsset", "asset1")};
    o = expect_endorsed(e, &delp, &d);
    assert_read(tl_ns(&d, "asset"), 0, "asset1", true, 1, 0);
    assert_write(tl_ns(&d, "asset"), 0, "asset1", NULL);
    tl_decoded_free(&d);
    endorser_outcome_done(&o);
    struct tl_prop del9 = {.chaincode = "asset", .creator = user1, ARGS("DeleteAsset", "asset9")};
    o = expect_status(e, &del9, 500, "the asset asset9 does not exist");
    endorser_outcome_done(&o);

    struct tl_prop all = {.chaincode = "asset", .creator = user1, ARGS("GetAllAssets")};
    o = expect_endorsed(e, &all, &d);
    char want[256];
    snprintf(want, sizeof want, "[%s]", ASSET1);
    ck_assert_uint_eq(o.resp->response->payload.len, strlen(want));
    ck_assert(memcmp(o.resp->response->payload.data, want, strlen(want)) == 0);
    Kvrwset__RangeQueryInfo *rq = tl_ns(&d, "asset")->range_queries_info[0];
    ck_assert_str_eq(rq->start_key, "\x01");
    ck_assert_str_eq(rq->end_key, "");
    ck_assert(rq->itr_exhausted);
    ck_assert_uint_eq(rq->raw_reads->n_kv_reads, 1);
    tl_decoded_free(&d);
    endorser_outcome_done(&o);

    struct tl_prop nofn = {.chaincode = "asset", .creator = user1, ARGS("Steal", "asset1")};
    o = expect_status(e, &nofn, 500, "unknown function");
    endorser_outcome_done(&o);
    endorser_free(e);
}
END_TEST

START_TEST(identical_payloads_from_two_endorsers)
{
    const char *d1 = new_state_dir(), *d2 = new_state_dir();
    const char *const kv[] = {"a", "100", "b", "200", NULL};
    tl_seed(d1, net.genesis, NULL, "example02", kv);
    tl_seed(d2, net.genesis, NULL, "example02", kv);
    struct endorser *e1 = start(d1);
    struct endorser *e2 = start(d2);
    struct tl_prop p = {.chaincode = "example02", .creator = user1, ARGS("invoke", "a", "b", "10")};
    size_t len;
    uint8_t *raw = tl_proposal(&p, &len, NULL);
    Protos__SignedProposal *sp = tl_unpack_sp(raw, len);
    struct endorser_outcome o1, o2;
    endorser_process(e1, sp, time(NULL), &o1);
    endorser_process(e2, sp, time(NULL), &o2);
    ck_assert_int_eq(o1.code, LC_RPC_OK);
    ck_assert_int_eq(o2.code, LC_RPC_OK);
    ck_assert_uint_eq(o1.resp->payload.len, o2.resp->payload.len);
    ck_assert(memcmp(o1.resp->payload.data, o2.resp->payload.data, o1.resp->payload.len) == 0);
    endorser_outcome_done(&o1);
    endorser_outcome_done(&o2);
    protos__signed_proposal__free_unpacked(sp, NULL);
    free(raw);
    endorser_free(e1);
    endorser_free(e2);
}
END_TEST

START_TEST(genesis_directory_serves_channels)
{
    const char *gdir = wh_fmt("%s/genesis-%d", net.dir, state_seq++);
    ck_assert_int_eq(mkdir(gdir, 0700), 0);
    const char *gen[] = {wh_bin("cli/weft"),
                         "genesis",
                         "--profile",
                         wh_join(net.dir, "profile.yaml"),
                         "--channel",
                         "otherchannel",
                         "--output",
                         wh_join(gdir, "b.block"),
                         NULL};
    ck_assert_int_eq(wh_run(gen, NULL, NULL), 0);
    ck_assert_int_eq(symlink(net.genesis, wh_join(gdir, "a.block")), 0);
    const char *genesis[] = {gdir};
    struct endorser_options o = {
        .msp_dir = wh_peer_msp(&net, 1, 0),
        .mspid = "Org1MSP",
        .genesis = genesis,
        .n_genesis = 1,
        .state_dir = new_state_dir(),
        .state_nosync = true,
    };
    struct endorser *e = NULL;
    struct lc_errbuf err = {{0}};
    ck_assert_msg(endorser_new(&o, &err, &e) == 0, "%s", err.msg);
    ck_assert_uint_eq(endorser_channel_count(e), 2);
    ck_assert_str_eq(endorser_channel_id(e, 0), "mychannel");
    ck_assert_str_eq(endorser_channel_id(e, 1), "otherchannel");
    ck_assert_ptr_nonnull(endorser_channel_state(e, "otherchannel"));
    ck_assert_ptr_null(endorser_channel_state(e, "nochannel"));
    struct tl_prop p = {
        .channel = "otherchannel", .chaincode = "kv", .creator = user1, ARGS("get", "a")};
    struct endorser_outcome out = expect_status(e, &p, 200, NULL);
    endorser_outcome_done(&out);
    endorser_free(e);

    /* An empty directory, and a file that is not a genesis block, are refused. */
    const char *empty = wh_fmt("%s/genesis-%d", net.dir, state_seq++);
    ck_assert_int_eq(mkdir(empty, 0700), 0);
    genesis[0] = empty;
    o.state_dir = new_state_dir();
    ck_assert_int_eq(endorser_new(&o, &err, &e), LC_ENOTFOUND);
    genesis[0] = wh_join(net.dir, "profile.yaml");
    ck_assert_int_lt(endorser_new(&o, &err, &e), 0);
    ck_assert_ptr_nonnull(strstr(err.msg, "profile.yaml"));
}
END_TEST

/* ---- the gRPC service ------------------------------------------------------------------- */

struct call {
    struct lc_rpc_client *client;
    const Protos__SignedProposal *sp;
    struct lc_rpc_status st;
    Protos__ProposalResponse *resp;
};

static void *call_thread(void *arg)
{
    struct call *c = arg;
    lc_rpc_unary(c->client, "/protos.Endorser/ProcessProposal", &c->sp->base,
                 &protos__proposal_response__descriptor, 30000, &c->st,
                 (ProtobufCMessage **)&c->resp);
    return NULL;
}

START_TEST(server_answers_and_reports_busy)
{
    struct endorser *e = start(new_state_dir());
    struct endorser_server *srv = NULL;
    struct lc_errbuf err = {{0}};
    struct endorser_server_opts so = {.listen = "127.0.0.1:0", .workers = 1, .queue_max = 1};
    ck_assert_msg(endorser_server_start(e, &so, &err, &srv) == 0, "%s", err.msg);
    struct lc_rpc_client *client = NULL;
    ck_assert_int_eq(
        lc_rpc_client_new(wh_fmt("127.0.0.1:%d", endorser_server_port(srv)), NULL, &err, &client),
        0);
    struct tl_prop p = {.chaincode = "kv", .creator = user1, ARGS("get", "a")};
    size_t len;
    uint8_t *raw = tl_proposal(&p, &len, NULL);
    Protos__SignedProposal *sp = tl_unpack_sp(raw, len);
    struct call c1 = {client, sp, {0}, NULL};
    call_thread(&c1);
    ck_assert_int_eq(c1.st.code, LC_RPC_OK);
    check_endorsement(c1.resp);
    protos__proposal_response__free_unpacked(c1.resp, NULL);

    /* A rejection travels as a gRPC status. */
    struct tl_prop bad = {.chaincode = "kv", .creator = user1, .epoch = 2, ARGS("get", "a")};
    size_t blen;
    uint8_t *braw = tl_proposal(&bad, &blen, NULL);
    Protos__SignedProposal *bsp = tl_unpack_sp(braw, blen);
    struct call cb = {client, bsp, {0}, NULL};
    call_thread(&cb);
    ck_assert_int_eq(cb.st.code, LC_RPC_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(cb.st.msg, "epoch 2"));
    ck_assert_ptr_null(cb.resp);

    /* Workers held: the first call waits in the queue, the second finds it full. */
    endorser_server_pause(srv, true);
    struct call c2 = {client, sp, {0}, NULL};
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, call_thread, &c2), 0);
    for (int i = 0; i < 30000 && endorser_server_queued(srv) == 0; i++) {
        struct timespec ms = {0, 1000 * 1000};
        nanosleep(&ms, NULL);
    }
    ck_assert_uint_eq(endorser_server_queued(srv), 1);
    struct call c3 = {client, sp, {0}, NULL};
    call_thread(&c3);
    ck_assert_int_eq(c3.st.code, LC_RPC_UNAVAILABLE);
    ck_assert_ptr_nonnull(strstr(c3.st.msg, "endorser busy"));
    endorser_server_pause(srv, false);
    pthread_join(t, NULL);
    ck_assert_int_eq(c2.st.code, LC_RPC_OK);
    ck_assert_ptr_nonnull(c2.resp->endorsement);
    protos__proposal_response__free_unpacked(c2.resp, NULL);

    protos__signed_proposal__free_unpacked(sp, NULL);
    protos__signed_proposal__free_unpacked(bsp, NULL);
    free(raw);
    free(braw);
    lc_rpc_client_free(client);
    endorser_server_free(srv, 1000);
    endorser_free(e);
}
END_TEST

static void setup(void)
{
    struct wh_net_opts no = {
        .orgs = 2,
        .peers_per_org = 1,
        .chaincodes_yaml = "  - Name: example02\n    Version: \"1.0\"\n"
                           "  - Name: kv\n    Version: \"1.0\"\n"
                           "  - Name: asset\n    Version: \"1.0\"\n"
                           "  - Name: basic\n    Version: \"2.0\"\n    Sequence: 4\n"
                           "  - Name: orphan\n    Version: \"1\"\n",
    };
    ck_assert_int_eq(wh_net_make(&net, &no), 0);
    peer1 = tl_signer(wh_peer_msp(&net, 1, 0), "Org1MSP");
    user1 = tl_signer(wh_user_msp(&net, 1, "User1"), "Org1MSP");
    user2 = tl_signer(wh_user_msp(&net, 2, "User1"), "Org2MSP");
    orderer = tl_signer(wh_orderer_msp(&net, 0), "OrdererMSP");
}

static void teardown(void)
{
    lc_signer_free(peer1);
    lc_signer_free(user1);
    lc_signer_free(user2);
    lc_signer_free(orderer);
    wh_cleanup();
}

int main(void)
{
    Suite *s = suite_create("endorser");
    TCase *tc = tcase_create("pipeline");
    /* One network for all tests, made once: no fork (a forked child's exit would run the
     * harness cleanup and remove the network). */
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, rejects_undecodable_layers);
    tcase_add_test(tc, unknown_channel_is_status_500);
    tcase_add_test(tc, rejects_bad_headers);
    tcase_add_test(tc, rejects_wrong_txid);
    tcase_add_test(tc, rejects_unknown_msp);
    tcase_add_test(tc, rejects_foreign_certificate);
    tcase_add_test(tc, rejects_expired_creator);
    tcase_add_test(tc, rejects_bad_signature);
    tcase_add_test(tc, rejects_committed_txid);
    tcase_add_test(tc, rejects_non_writer);
    tcase_add_test(tc, rejects_oversized_args);
    tcase_add_test(tc, undefined_chaincode_is_status_500);
    tcase_add_test(tc, alias_serves_definition_with_module);
    tcase_add_test(tc, bad_alias_rejected_at_start);
    tcase_add_test(tc, state_dir_locked_and_genesis_checked);
    tcase_add_test(tc, genesis_directory_serves_channels);
    tcase_add_test(tc, example02_init_invoke_query);
    tcase_add_test(tc, kv_put_get_del);
    tcase_add_test(tc, kv_range_raw_reads);
    tcase_add_test(tc, kv_range_merkle_summary);
    tcase_add_test(tc, kv_event_and_statuses);
    tcase_add_test(tc, asset_contract);
    tcase_add_test(tc, identical_payloads_from_two_endorsers);
    tcase_add_test(tc, server_answers_and_reports_busy);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
