/* SPDX-License-Identifier: Apache-2.0 */
/* Integration tests of the endorser daemon: real processes, real gRPC on real sockets. Every
 * rejection as a client sees it, byte-identical payloads from two endorsers, the state-directory
 * lock, many proposals in flight, and a clean stop. */
#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "harness.h"
#include "testlib.h"

#include "libcommon/crypto.h"
#include "libcommon/rpc.h"

#define PATH "/protos.Endorser/ProcessProposal"
#define ASSET1                                                                                     \
    "{\"AppraisedValue\":300,\"Color\":\"blue\",\"ID\":\"asset1\",\"Owner\":\"Tomoko\",\"Size\":"  \
    "5}"

static struct wh_net net;
static struct lc_signer *user1, *orderer, *peer1, *peer2;
static uint8_t dup_nonce[24] = {0xd, 0x0, 0xb};
static char dup_txid[65];

struct daemon {
    struct wh_proc *proc;
    int port;
    const char *state;
    struct lc_rpc_client *client;
};
static struct daemon d1, d2;

#define ARGS(...)                                                                                  \
    .args = (const char *const[]){__VA_ARGS__},                                                    \
    .nargs = sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)

/* extra: one more "--flag=value", or NULL. */
static struct wh_proc *spawn_endorser(const char *name, int org, int port, const char *state,
                                      const char *extra)
{
    const char *argv[] = {wh_bin("services/endorser/endorser"),
                          wh_fmt("--listen=127.0.0.1:%d", port),
                          wh_fmt("--msp-dir=%s", wh_peer_msp(&net, org, 0)),
                          wh_fmt("--mspid=Org%dMSP", org),
                          wh_fmt("--genesis=%s", net.genesis),
                          wh_fmt("--state-dir=%s", state),
                          "--state-sync=false",
                          "--max-args-bytes=4KiB",
                          extra,
                          NULL};
    return wh_spawn(name, net.dir, argv, NULL);
}

static void start_daemon(struct daemon *d, const char *name, int org)
{
    d->port = wh_free_port();
    d->proc = spawn_endorser(name, org, d->port, d->state, NULL);
    ck_assert_ptr_nonnull(d->proc);
    ck_assert_msg(wh_wait_log(d->proc, "endorser listening", 60000) == 0,
                  "%s did not start; see %s", name, wh_log_path(d->proc));
    struct lc_errbuf err = {{0}};
    ck_assert_int_eq(lc_rpc_client_new(wh_fmt("127.0.0.1:%d", d->port), NULL, &err, &d->client), 0);
}

/* Sends a proposal; returns the gRPC status code, the response in *ret (caller frees). */
static enum lc_rpc_code send_raw(struct daemon *d, const uint8_t *raw, size_t len,
                                 struct lc_rpc_status *st, Protos__ProposalResponse **ret)
{
    Protos__SignedProposal *sp = tl_unpack_sp(raw, len);
    ProtobufCMessage *resp = NULL;
    lc_rpc_unary(d->client, PATH, &sp->base, &protos__proposal_response__descriptor, 30000, st,
                 &resp);
    protos__signed_proposal__free_unpacked(sp, NULL);
    *ret = (Protos__ProposalResponse *)resp;
    return st->code;
}

static enum lc_rpc_code send(struct daemon *d, const struct tl_prop *p, struct lc_rpc_status *st,
                             Protos__ProposalResponse **ret)
{
    size_t len;
    uint8_t *raw = tl_proposal(p, &len, NULL);
    enum lc_rpc_code c = send_raw(d, raw, len, st, ret);
    free(raw);
    return c;
}

static void expect_grpc(const struct tl_prop *p, enum lc_rpc_code code, const char *needle)
{
    struct lc_rpc_status st;
    Protos__ProposalResponse *pr = NULL;
    send(&d1, p, &st, &pr);
    ck_assert_msg(st.code == code, "gRPC %s (%s), want %s", lc_rpc_code_name(st.code), st.msg,
                  lc_rpc_code_name(code));
    ck_assert_ptr_null(pr);
    ck_assert_msg(strstr(st.msg, needle) != NULL, "\"%s\" lacks \"%s\"", st.msg, needle);
}

static Protos__ProposalResponse *expect_status(struct daemon *d, const struct tl_prop *p,
                                               int status, const char *needle)
{
    struct lc_rpc_status st;
    Protos__ProposalResponse *pr = NULL;
    send(d, p, &st, &pr);
    ck_assert_msg(st.code == LC_RPC_OK, "gRPC %s: %s", lc_rpc_code_name(st.code), st.msg);
    ck_assert_ptr_nonnull(pr);
    ck_assert_msg(pr->response->status == status, "status %d (%s), want %d", pr->response->status,
                  pr->response->message, status);
    if (needle)
        ck_assert_msg(strstr(pr->response->message, needle) != NULL, "\"%s\" lacks \"%s\"",
                      pr->response->message, needle);
    return pr;
}

static void verify_endorsement(const Protos__ProposalResponse *pr, const struct lc_signer *by)
{
    ck_assert_ptr_nonnull(pr->endorsement);
    size_t n;
    const uint8_t *id = lc_signer_serialized(by, &n);
    ck_assert_uint_eq(pr->endorsement->endorser.len, n);
    ck_assert(memcmp(pr->endorsement->endorser.data, id, n) == 0);
    const struct lc_iov v[] = {{pr->payload.data, pr->payload.len}, {id, n}};
    struct lc_errbuf err = {{0}};
    ck_assert_msg(lc_ecdsa_verify_iov(lc_cert_pubkey(lc_signer_cert(by)), v, 2,
                                      pr->endorsement->signature.data,
                                      pr->endorsement->signature.len, &err) == 0,
                  "%s", err.msg);
}

START_TEST(endorses_over_grpc)
{
    struct tl_prop p = {.chaincode = "asset", .creator = user1, ARGS("ReadAsset", "asset1")};
    Protos__ProposalResponse *pr = expect_status(&d1, &p, 200, NULL);
    verify_endorsement(pr, peer1);
    ck_assert_uint_eq(pr->response->payload.len, strlen(ASSET1));
    struct tl_decoded dec;
    tl_decode(&pr->payload, &dec);
    Kvrwset__KVRWSet *ns = tl_ns(&dec, "asset");
    ck_assert_uint_eq(ns->n_reads, 1);
    ck_assert_uint_eq(ns->reads[0]->version->block_num, 2); /* the second seeded block */
    ck_assert_ptr_nonnull(tl_ns(&dec, "_lifecycle"));
    tl_decoded_free(&dec);
    protos__proposal_response__free_unpacked(pr, NULL);
}
END_TEST

START_TEST(rejections_over_grpc)
{
    struct tl_prop p = {.chaincode = "kv", .creator = user1, ARGS("get", "a")};
    /* Undecodable inner layer. */
    p.garbage_payload = true;
    expect_grpc(&p, LC_RPC_INVALID_ARGUMENT, "protos.ChaincodeProposalPayload");
    p.garbage_payload = false;
    p.drop_spec = true;
    expect_grpc(&p, LC_RPC_INVALID_ARGUMENT, "no chaincode_spec");
    p.drop_spec = false;
    /* Header type, epoch, TxID. */
    p.type = 1;
    expect_grpc(&p, LC_RPC_INVALID_ARGUMENT, "header type 1");
    p.type = 0;
    p.epoch = 3;
    expect_grpc(&p, LC_RPC_INVALID_ARGUMENT, "epoch 3");
    p.epoch = 0;
    p.txid = "deadbeef";
    expect_grpc(&p, LC_RPC_INVALID_ARGUMENT, "txid 'deadbeef'");
    p.txid = NULL;
    /* Creator and signature. */
    struct lc_signer *stranger = tl_signer_self("NoSuchMSP");
    p.creator = stranger;
    expect_grpc(&p, LC_RPC_UNAUTHENTICATED, "creator:");
    lc_signer_free(stranger);
    time_t now = time(NULL);
    struct lc_signer *old = tl_signer_issued(net.crypto, 1, "client", now - 240, now - 120);
    p.creator = old;
    expect_grpc(&p, LC_RPC_UNAUTHENTICATED, "expired");
    lc_signer_free(old);
    p.creator = user1;
    p.sign_with = orderer;
    expect_grpc(&p, LC_RPC_UNAUTHENTICATED, "signature:");
    p.sign_with = NULL;
    /* A TxID the ledger already holds. */
    p.nonce = dup_nonce;
    p.nonce_len = sizeof dup_nonce;
    expect_grpc(&p, LC_RPC_ALREADY_EXISTS, dup_txid);
    p.nonce = NULL;
    /* Not a writer of the channel. */
    p.creator = orderer;
    expect_grpc(&p, LC_RPC_PERMISSION_DENIED, "Writers");
    p.creator = user1;
    /* Args over --max-args-bytes 4KiB. */
    static char big[5000];
    memset(big, 'x', sizeof big - 1);
    struct tl_prop large = {.chaincode = "kv", .creator = user1, ARGS("put", "k", big)};
    expect_grpc(&large, LC_RPC_RESOURCE_EXHAUSTED, "over the limit of 4096");

    /* Answered with a ProposalResponse: unknown channel, undefined chaincode, chaincode error. */
    p.channel = "nochannel";
    Protos__ProposalResponse *pr = expect_status(&d1, &p, 500, "channel 'nochannel' not found");
    protos__proposal_response__free_unpacked(pr, NULL);
    p.channel = NULL;
    p.chaincode = "undefined";
    pr = expect_status(&d1, &p, 500, "not defined on channel mychannel");
    protos__proposal_response__free_unpacked(pr, NULL);
    struct tl_prop cce = {.chaincode = "asset", .creator = user1, ARGS("ReadAsset", "nope")};
    pr = expect_status(&d1, &cce, 500, "the asset nope does not exist");
    ck_assert_ptr_null(pr->endorsement);
    protos__proposal_response__free_unpacked(pr, NULL);

    /* And the endorser keeps serving. */
    ck_assert(wh_running(d1.proc));
    struct tl_prop ok = {.chaincode = "kv", .creator = user1, ARGS("get", "a")};
    pr = expect_status(&d1, &ok, 200, NULL);
    verify_endorsement(pr, peer1);
    protos__proposal_response__free_unpacked(pr, NULL);
}
END_TEST

START_TEST(two_endorsers_identical_payloads)
{
    struct tl_prop p = {.chaincode = "example02", .creator = user1, ARGS("invoke", "a", "b", "10")};
    size_t len;
    uint8_t *raw = tl_proposal(&p, &len, NULL);
    struct lc_rpc_status st1, st2;
    Protos__ProposalResponse *r1 = NULL, *r2 = NULL;
    ck_assert_int_eq(send_raw(&d1, raw, len, &st1, &r1), LC_RPC_OK);
    ck_assert_int_eq(send_raw(&d2, raw, len, &st2, &r2), LC_RPC_OK);
    ck_assert_int_eq(r1->response->status, 200);
    ck_assert_int_eq(r2->response->status, 200);
    ck_assert_uint_eq(r1->payload.len, r2->payload.len);
    ck_assert(memcmp(r1->payload.data, r2->payload.data, r1->payload.len) == 0);
    /* Each signs with its own identity. */
    verify_endorsement(r1, peer1);
    verify_endorsement(r2, peer2);
    struct tl_decoded dec;
    tl_decode(&r1->payload, &dec);
    Kvrwset__KVRWSet *ns = tl_ns(&dec, "example02");
    ck_assert_uint_eq(ns->n_reads, 2);
    ck_assert_uint_eq(ns->n_writes, 2);
    tl_decoded_free(&dec);
    protos__proposal_response__free_unpacked(r1, NULL);
    protos__proposal_response__free_unpacked(r2, NULL);
    free(raw);
}
END_TEST

START_TEST(state_dir_is_locked)
{
    int port = wh_free_port();
    struct wh_proc *p = spawn_endorser("endorser-locked", 1, port, d1.state, NULL);
    ck_assert_ptr_nonnull(p);
    int status = wh_stop(p, 0, 30000); /* signal 0: just wait for it to exit on its own */
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 1, "status %d", status);
    ck_assert_int_eq(wh_log_count(p, "in use by another endorser"), 1);
    ck_assert(wh_running(d1.proc));
}
END_TEST

struct load {
    int n_ok;
    int n;
};

static void *load_thread(void *arg)
{
    struct load *l = arg;
    for (int i = 0; i < l->n; i++) {
        struct tl_prop p = {.chaincode = "asset", .creator = user1, ARGS("ReadAsset", "asset1")};
        size_t len;
        uint8_t *raw = tl_proposal(&p, &len, NULL);
        Protos__SignedProposal *sp = protos__signed_proposal__unpack(NULL, len, raw);
        ProtobufCMessage *resp = NULL;
        struct lc_rpc_status st;
        if (sp && lc_rpc_unary(d1.client, PATH, &sp->base, &protos__proposal_response__descriptor,
                               30000, &st, &resp) == 0) {
            Protos__ProposalResponse *pr = (Protos__ProposalResponse *)resp;
            if (pr->response && pr->response->status == 200 && pr->endorsement)
                l->n_ok++;
            protobuf_c_message_free_unpacked(resp, NULL);
        }
        if (sp)
            protos__signed_proposal__free_unpacked(sp, NULL);
        free(raw);
    }
    return NULL;
}

START_TEST(many_proposals_in_flight)
{
    enum { THREADS = 8, EACH = 12 };
    pthread_t t[THREADS];
    struct load l[THREADS];
    for (int i = 0; i < THREADS; i++) {
        l[i] = (struct load){0, EACH};
        ck_assert_int_eq(pthread_create(&t[i], NULL, load_thread, &l[i]), 0);
    }
    int ok = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        ok += l[i].n_ok;
    }
    ck_assert_int_eq(ok, THREADS * EACH);
}
END_TEST

START_TEST(genesis_flag_repeats)
{
    const char *other = wh_join(net.dir, "otherchannel.block");
    const char *gen[] = {wh_bin("cli/weft"),
                         "genesis",
                         "--profile",
                         wh_join(net.dir, "profile.yaml"),
                         "--channel",
                         "otherchannel",
                         "--output",
                         other,
                         NULL};
    ck_assert_int_eq(wh_run(gen, NULL, NULL), 0);
    struct daemon d3 = {.port = wh_free_port(), .state = wh_join(net.dir, "state3")};
    d3.proc = spawn_endorser("endorser3", 1, d3.port, d3.state, wh_fmt("--genesis=%s", other));
    ck_assert_ptr_nonnull(d3.proc);
    ck_assert_int_eq(wh_wait_log(d3.proc, "endorser listening", 60000), 0);
    ck_assert_int_eq(wh_log_count(d3.proc, "channel ready channel=mychannel"), 1);
    ck_assert_int_eq(wh_log_count(d3.proc, "channel ready channel=otherchannel"), 1);
    struct lc_errbuf err = {{0}};
    ck_assert_int_eq(lc_rpc_client_new(wh_fmt("127.0.0.1:%d", d3.port), NULL, &err, &d3.client), 0);
    struct tl_prop p = {
        .channel = "otherchannel", .chaincode = "kv", .creator = user1, ARGS("get", "a")};
    Protos__ProposalResponse *pr = expect_status(&d3, &p, 200, NULL);
    verify_endorsement(pr, peer1);
    protos__proposal_response__free_unpacked(pr, NULL);
    lc_rpc_client_free(d3.client);
    int status = wh_stop(d3.proc, SIGTERM, 30000);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
}
END_TEST

START_TEST(stops_cleanly_on_sigterm)
{
    lc_rpc_client_free(d2.client);
    d2.client = NULL;
    int status = wh_stop(d2.proc, SIGTERM, 30000);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
    ck_assert_int_eq(wh_log_count(d2.proc, "stopped"), 1);
}
END_TEST

static void setup(void)
{
    struct wh_net_opts no = {.orgs = 2, .peers_per_org = 1};
    ck_assert_int_eq(wh_net_make(&net, &no), 0);
    user1 = tl_signer(wh_user_msp(&net, 1, "User1"), "Org1MSP");
    orderer = tl_signer(wh_orderer_msp(&net, 0), "OrdererMSP");
    peer1 = tl_signer(wh_peer_msp(&net, 1, 0), "Org1MSP");
    peer2 = tl_signer(wh_peer_msp(&net, 2, 0), "Org2MSP");
    /* The TxID of a proposal with dup_nonce from user1, committed in the first replica. */
    struct tl_prop p = {.chaincode = "kv",
                        .creator = user1,
                        .nonce = dup_nonce,
                        .nonce_len = sizeof dup_nonce,
                        ARGS("get", "a")};
    size_t len;
    free(tl_proposal(&p, &len, dup_txid));
    d1.state = wh_join(net.dir, "state1");
    d2.state = wh_join(net.dir, "state2");
    const char *const ex02[] = {"a", "100", "b", "200", NULL};
    const char *const asset[] = {"asset1", ASSET1, NULL};
    tl_seed(d1.state, net.genesis, dup_txid, "example02", ex02);
    tl_seed(d1.state, net.genesis, NULL, "asset", asset);
    tl_seed(d2.state, net.genesis, dup_txid, "example02", ex02);
    tl_seed(d2.state, net.genesis, NULL, "asset", asset);
    start_daemon(&d1, "endorser1", 1);
    start_daemon(&d2, "endorser2", 2);
}

static void teardown(void)
{
    lc_rpc_client_free(d1.client);
    lc_rpc_client_free(d2.client);
    lc_signer_free(user1);
    lc_signer_free(orderer);
    lc_signer_free(peer1);
    lc_signer_free(peer2);
    wh_cleanup();
}

int main(void)
{
    Suite *s = suite_create("endorser-integration");
    TCase *tc = tcase_create("daemon");
    /* Two daemons shared by the tests: no fork (a forked child's exit would run the harness
     * cleanup and kill them). */
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, endorses_over_grpc);
    tcase_add_test(tc, rejections_over_grpc);
    tcase_add_test(tc, two_endorsers_identical_payloads);
    tcase_add_test(tc, state_dir_is_locked);
    tcase_add_test(tc, many_proposals_in_flight);
    tcase_add_test(tc, genesis_flag_repeats);
    tcase_add_test(tc, stops_cleanly_on_sigterm);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
