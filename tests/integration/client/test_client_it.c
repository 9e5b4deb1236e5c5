/* SPDX-License-Identifier: Apache-2.0 */
/* The client against real daemons: weft query / invoke / blocks with one and two endorsers and an
 * orderer, broadcast failover, and detection of a misbehaving endorser (a proxy in this test that
 * tampers with a real endorser's answers). */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "client/client.h"
#include "harness.h"
#include "libcommon/crypto.h"
#include "libcommon/msp.h"
#include "libcommon/rpc.h"
#include "libcommon/wire.h"
#include "peer/proposal.pb-c.h"
#include "peer/proposal_response.pb-c.h"

#define WAIT_MS 30000

/* ---- the network ---------------------------------------------------------------------------- */

struct it {
    struct wh_net net;
    const char *logs;
    int ord_port;
    struct wh_proc *ord;
    int end_port[3]; /* by org */
    struct wh_proc *end[3];
    const char *user; /* User1@org1's MSP */
};

static const char and_policy[] = "  - Name: kv\n    Version: \"1.0\"\n"
                                 "    EndorsementPolicy: \"AND('Org1MSP.peer','Org2MSP.peer')\"\n"
                                 "  - Name: kvor\n    Version: \"1.0\"\n"
                                 "    EndorsementPolicy: \"OR('Org1MSP.peer','Org2MSP.peer')\"\n";

static void net_up(struct it *t, const char *chaincodes_yaml)
{
    memset(t, 0, sizeof *t);
    struct wh_net_opts o = {.orgs = 2, .peers_per_org = 1, .chaincodes_yaml = chaincodes_yaml};
    ck_assert_int_eq(wh_net_make(&t->net, &o), 0);
    t->logs = wh_tmpdir();
    t->user = wh_user_msp(&t->net, 1, "User1");
}

static void orderer_up(struct it *t)
{
    t->ord_port = wh_free_port();
    const char *argv[] = {wh_bin("services/orderer/orderer"),
                          "--listen",
                          wh_fmt("127.0.0.1:%d", t->ord_port),
                          "--msp-dir",
                          wh_orderer_msp(&t->net, 0),
                          "--mspid",
                          "OrdererMSP",
                          "--genesis",
                          t->net.genesis,
                          "--data-dir",
                          wh_join(t->net.dir, "orderer-data"),
                          "--fsync",
                          "none",
                          NULL};
    t->ord = wh_spawn("orderer", t->logs, argv, NULL);
    ck_assert_ptr_nonnull(t->ord);
    ck_assert_msg(wh_wait_log(t->ord, "orderer listening", WAIT_MS) == 0, "orderer did not start");
}

static void endorser_up(struct it *t, int org)
{
    t->end_port[org] = wh_free_port();
    const char *argv[] = {wh_bin("services/endorser/endorser"),
                          "--listen",
                          wh_fmt("127.0.0.1:%d", t->end_port[org]),
                          "--msp-dir",
                          wh_peer_msp(&t->net, org, 0),
                          "--mspid",
                          wh_fmt("Org%dMSP", org),
                          "--genesis",
                          t->net.genesis,
                          "--state-dir",
                          wh_join(t->net.dir, wh_fmt("endorser%d-state", org)),
                          "--state-sync=false",
                          "--chaincodes",
                          "kvor=kv",
                          NULL};
    t->end[org] = wh_spawn(wh_fmt("endorser%d", org), t->logs, argv, NULL);
    ck_assert_ptr_nonnull(t->end[org]);
    ck_assert_msg(wh_wait_log(t->end[org], "endorser listening", WAIT_MS) == 0,
                  "endorser %d did not start", org);
}

/* A connection profile naming peer0 of orgs 1..n_orgs at the given ports and the orderer. */
static const char *conn_profile(struct it *t, int n_orgs, const int *ports)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    fprintf(f, "name: it\nclient: {organization: Org1}\norganizations:\n");
    for (int o = 1; o <= n_orgs; o++)
        fprintf(f, "  Org%d: {mspid: Org%dMSP, peers: [peer0.org%d.example.com]}\n", o, o, o);
    fprintf(f, "peers:\n");
    for (int o = 1; o <= n_orgs; o++)
        fprintf(f, "  peer0.org%d.example.com: {url: 'grpc://127.0.0.1:%d'}\n", o, ports[o]);
    fprintf(f, "orderers:\n  orderer0.example.com: {url: 'grpc://127.0.0.1:%d'}\n", t->ord_port);
    fprintf(f, "channels:\n  %s:\n    orderers: [orderer0.example.com]\n    peers:\n",
            t->net.channel);
    for (int o = 1; o <= n_orgs; o++)
        fprintf(f, "      peer0.org%d.example.com: {endorsingPeer: true}\n", o);
    fclose(f);
    const char *path = wh_join(t->net.dir, wh_fmt("conn-%d.yaml", wh_free_port()));
    FILE *pf = fopen(path, "w");
    ck_assert_ptr_nonnull(pf);
    fputs(text, pf);
    fclose(pf);
    free(text);
    return path;
}

/* Runs weft with the args (NULL-terminated); stdout and stderr into *out, *err (harness-owned). */
static int weft(const char **out, const char **err, ...)
{
    const char *argv[64] = {wh_bin("cli/weft")};
    size_t n = 1;
    va_list ap;
    va_start(ap, err);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && n < 63)
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    char *o = NULL, *e = NULL;
    int r = wh_run(argv, &o, &e);
    *out = wh_fmt("%s", o ? o : "");
    *err = wh_fmt("%s", e ? e : "");
    free(o);
    free(e);
    return r;
}

/* A port bound on 127.0.0.1 that does not listen (kept until the test ends): connections to it
 * are refused at once, and no other process can take it meanwhile. */
static int dead_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t alen = sizeof a;
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    return ntohs(a.sin_port);
}

/* The txid from `weft invoke` human output ("txid <64 hex>\n..."). */
static const char *txid_of(const char *out)
{
    const char *p = strstr(out, "txid ");
    ck_assert_ptr_nonnull(p);
    return wh_fmt("%.64s", p + 5);
}

/* ---- the scenarios -------------------------------------------------------------------------- */

START_TEST(one_endorser_query_invoke_blocks)
{
    struct it t;
    net_up(&t, NULL); /* kv: OR('Org1MSP.peer','Org2MSP.peer') */
    orderer_up(&t);
    endorser_up(&t, 1);
    const char *conn = conn_profile(&t, 1, t.end_port);
    const char *out, *err;

    /* policy selection (the default with a profile): the one Org1 peer satisfies OR */
    int r = weft(&out, &err, "invoke", "--profile", conn, "--channel", "mychannel", "--msp-dir",
                 t.user, "--chaincode", "kv", "--args", "[\"put\",\"color\",\"blue\"]", NULL);
    ck_assert_msg(r == 0, "invoke: %d\n%s\n%s", r, out, err);
    ck_assert_msg(strstr(out, "endorsed by peer0.org1.example.com (chaincode status 200)") != NULL,
                  "%s", out);
    ck_assert_msg(strstr(out, "orderer orderer0.example.com: SUCCESS (200)") != NULL, "%s", out);
    const char *txid = txid_of(out);

    /* query: explicit target, channel config from the genesis file, JSON */
    r = weft(&out, &err, "query", "--targets", wh_fmt("127.0.0.1:%d", t.end_port[1]), "--genesis",
             t.net.genesis, "--mspid", "Org1MSP", "--channel", "mychannel", "--msp-dir", t.user,
             "--chaincode", "kv", "--args", "[\"respond\",\"200\",\"fine\",\"the answer\"]",
             "--json", NULL);
    ck_assert_msg(r == 0, "query: %d\n%s\n%s", r, out, err);
    ck_assert_msg(strstr(out, "\"payload\":\"the answer\"") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "\"endorsers\":[\"127.0.0.1:") != NULL, "%s", out);
    /* human output is the payload itself */
    r = weft(&out, &err, "query", "--profile", conn, "--channel", "mychannel", "--msp-dir", t.user,
             "--chaincode", "kv", "--args", "[\"respond\",\"200\",\"fine\",\"plain\"]", NULL);
    ck_assert_msg(r == 0, "query: %d\n%s", r, err);
    ck_assert_str_eq(out, "plain\n");
    /* a chaincode error is the endorser's status, named */
    r = weft(&out, &err, "query", "--profile", conn, "--channel", "mychannel", "--msp-dir", t.user,
             "--chaincode", "kv", "--args", "[\"nosuchfn\"]", NULL);
    ck_assert_int_eq(r, 1);
    ck_assert_msg(strstr(err, "endorser peer0.org1.example.com: status 500: unknown function") !=
                      NULL,
                  "%s", err);

    /* the block that holds the invoke, hashes checked, written for weft inspect */
    const char *dir = wh_join(t.net.dir, "blocks");
    r = weft(&out, &err, "blocks", "--profile", conn, "--channel", "mychannel", "--msp-dir", t.user,
             "--from", "oldest", "--to", "1", "--output-dir", dir, NULL);
    ck_assert_msg(r == 0, "blocks: %d\n%s\n%s", r, out, err);
    ck_assert_msg(strstr(out, "block 0 txs 1 data_hash ") != NULL, "%s", out);
    const char *b1 = strstr(out, "block 1 txs 1 data_hash ");
    ck_assert_msg(b1 != NULL, "%s", out);
    ck_assert_msg(strstr(b1, " ok previous_hash ") != NULL && strstr(b1, " ok hash ") != NULL, "%s",
                  b1);
    r = weft(&out, &err, "inspect", wh_join(dir, "1.block"), NULL);
    ck_assert_msg(r == 0, "inspect: %s", err);
    ck_assert_msg(strstr(out, txid) != NULL, "block 1 lacks txid %s", txid);
    ck_assert_msg(strstr(out, "\"data_hash_ok\": true") != NULL, "%s", out);
    /* the same block alone, as JSON */
    r = weft(&out, &err, "blocks", "--orderers", wh_fmt("127.0.0.1:%d", t.ord_port), "--mspid",
             "Org1MSP", "--channel", "mychannel", "--msp-dir", t.user, "--from", "1", "--to", "1",
             "--json", NULL);
    ck_assert_msg(r == 0, "blocks: %s", err);
    ck_assert_msg(strstr(out, "\"number\":1,") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "\"data_hash_check\":\"ok\"") != NULL, "%s", out);
}
END_TEST

START_TEST(two_endorsers_and_policy)
{
    struct it t;
    net_up(&t, and_policy); /* kv: AND(Org1, Org2) */
    orderer_up(&t);
    endorser_up(&t, 1);
    endorser_up(&t, 2);
    const char *conn = conn_profile(&t, 2, t.end_port);
    const char *out, *err;
    int r = weft(&out, &err, "invoke", "--profile", conn, "--channel", "mychannel", "--msp-dir",
                 t.user, "--chaincode", "kv", "--args", "[\"put\",\"a\",\"1\"]", "--orderer-order",
                 "listed", NULL);
    ck_assert_msg(r == 0, "invoke: %d\n%s\n%s", r, out, err);
    ck_assert_msg(strstr(out, "endorsed by peer0.org1.example.com, peer0.org2.example.com") != NULL,
                  "%s", out);
    const char *txid = txid_of(out);
    /* OR policy: one endorser is enough */
    r = weft(&out, &err, "invoke", "--profile", conn, "--channel", "mychannel", "--msp-dir", t.user,
             "--chaincode", "kvor", "--args", "[\"put\",\"b\",\"2\"]", NULL);
    ck_assert_msg(r == 0, "invoke: %d\n%s\n%s", r, out, err);
    ck_assert_msg(strstr(out, "endorsed by peer0.org1.example.com (") != NULL, "%s", out);
    /* static selection: both, and they agree */
    r = weft(&out, &err, "query", "--profile", conn, "--selection", "static", "--channel",
             "mychannel", "--msp-dir", t.user, "--chaincode", "kv", "--args", "[\"get\",\"a\"]",
             "--json", NULL);
    ck_assert_msg(r == 0, "query: %d\n%s\n%s", r, out, err);
    ck_assert_msg(strstr(out, "\"endorsers\":[\"peer0.org1.example.com\","
                              "\"peer0.org2.example.com\"]") != NULL,
                  "%s", out);
    /* an endorser down: the policy cannot be met without it, and the error names it */
    ck_assert(WIFSIGNALED(wh_stop(t.end[2], SIGKILL, WAIT_MS)));
    r = weft(&out, &err, "invoke", "--profile", conn, "--channel", "mychannel", "--msp-dir", t.user,
             "--chaincode", "kv", "--args", "[\"put\",\"a\",\"2\"]", NULL);
    ck_assert_int_eq(r, 1);
    ck_assert_msg(strstr(err, "endorser peer0.org2.example.com: UNAVAILABLE") != NULL, "%s", err);
    /* ... but an OR chaincode goes on with the other one */
    r = weft(&out, &err, "invoke", "--profile", conn, "--channel", "mychannel", "--msp-dir", t.user,
             "--chaincode", "kvor", "--args", "[\"put\",\"c\",\"3\"]", NULL);
    ck_assert_msg(r == 0, "invoke: %d\n%s\n%s", r, out, err);
    /* both endorsements are in block 1 */
    r = weft(&out, &err, "blocks", "--profile", conn, "--channel", "mychannel", "--msp-dir", t.user,
             "--from", "1", "--to", "1", "--output-dir", wh_join(t.net.dir, "b"), NULL);
    ck_assert_msg(r == 0, "blocks: %s", err);
    r = weft(&out, &err, "inspect", wh_join(t.net.dir, "b/1.block"), NULL);
    ck_assert_msg(r == 0 && strstr(out, txid) != NULL, "block 1 lacks %s", txid);
    ck_assert_msg(strstr(out, "Org1MSP") != NULL && strstr(out, "Org2MSP") != NULL, "%s", out);
}
END_TEST

START_TEST(broadcast_fails_over_to_a_live_orderer)
{
    struct it t;
    net_up(&t, NULL);
    orderer_up(&t);
    endorser_up(&t, 1);
    const char *out, *err;
    int dead = dead_port();
    int r = weft(&out, &err, "invoke", "--targets", wh_fmt("127.0.0.1:%d", t.end_port[1]),
                 "--genesis", t.net.genesis, "--mspid", "Org1MSP", "--channel", "mychannel",
                 "--msp-dir", t.user, "--chaincode", "kv", "--args", "[\"put\",\"x\",\"y\"]",
                 "--orderers", wh_fmt("127.0.0.1:%d,127.0.0.1:%d", dead, t.ord_port),
                 "--orderer-order", "listed", NULL);
    ck_assert_msg(r == 0, "invoke: %d\n%s\n%s", r, out, err);
    ck_assert_msg(strstr(out, wh_fmt("orderer 127.0.0.1:%d: SUCCESS (200) after 1 unavailable",
                                     t.ord_port)) != NULL,
                  "%s", out);
    /* and the channel config comes from block 0 when no --genesis is given, past the dead one */
    r = weft(&out, &err, "invoke", "--targets", wh_fmt("127.0.0.1:%d", t.end_port[1]), "--mspid",
             "Org1MSP", "--channel", "mychannel", "--msp-dir", t.user, "--chaincode", "kv",
             "--args", "[\"put\",\"x\",\"z\"]", "--orderers",
             wh_fmt("127.0.0.1:%d,127.0.0.1:%d", dead, t.ord_port), "--orderer-order", "listed",
             "--json", NULL);
    ck_assert_msg(r == 0, "invoke: %d\n%s\n%s", r, out, err);
    ck_assert_msg(strstr(out, "\"failed_over\":1") != NULL, "%s", out);
    /* no orderer at all: the causes are named */
    r = weft(&out, &err, "invoke", "--targets", wh_fmt("127.0.0.1:%d", t.end_port[1]), "--genesis",
             t.net.genesis, "--mspid", "Org1MSP", "--channel", "mychannel", "--msp-dir", t.user,
             "--chaincode", "kv", "--args", "[\"put\",\"x\",\"y\"]", "--orderers",
             wh_fmt("127.0.0.1:%d", dead), NULL);
    ck_assert_int_eq(r, 1);
    ck_assert_msg(strstr(err, "no orderer took the transaction") != NULL, "%s", err);
}
END_TEST

/* ---- a misbehaving endorser: a proxy to a real one that tampers with its answers ------------- */

enum tamper { TAMPER_PAYLOAD, TAMPER_SIGNATURE };

struct proxy {
    struct lc_rpc_server *srv;
    struct lc_rpc_client *upstream;
    struct lc_signer *key; /* the real endorser's key, to re-sign a changed payload */
    enum tamper how;
    int port;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int in_flight;
};

struct job {
    struct proxy *px;
    struct lc_rpc_call *call;
    Protos__SignedProposal *sp;
};

/* Forwards one proposal upstream, changes the answer, replies; runs on its own thread because a
 * handler must not block. */
static void *forward(void *arg)
{
    struct job *j = arg;
    struct proxy *px = j->px;
    ProtobufCMessage *m = NULL;
    struct lc_rpc_status st;
    int r = lc_rpc_unary(px->upstream, "/protos.Endorser/ProcessProposal", &j->sp->base,
                         &protos__proposal_response__descriptor, 10000, &st, &m);
    if (r < 0) {
        lc_rpc_finish(j->call, st.code, "upstream: %s", st.msg);
    } else {
        Protos__ProposalResponse *pr = (Protos__ProposalResponse *)m;
        uint8_t *grown = NULL;
        if (pr->endorsement && px->how == TAMPER_PAYLOAD) {
            /* one unknown field more: still decodes, no longer byte-identical; signed again, so
             * only the comparison can catch it */
            grown = malloc(pr->payload.len + 3);
            memcpy(grown, pr->payload.data, pr->payload.len);
            memcpy(grown + pr->payload.len, "\x3a\x01x", 3); /* field 7, bytes "x" */
            free(pr->payload.data);
            pr->payload = (ProtobufCBinaryData){pr->payload.len + 3, grown};
        }
        if (pr->endorsement) {
            const Protos__Endorsement *e = pr->endorsement;
            /* TAMPER_SIGNATURE signs the payload without the endorser (trap 3) */
            const struct lc_iov right[] = {{pr->payload.data, pr->payload.len},
                                           {e->endorser.data, e->endorser.len}};
            uint8_t sig[LC_ECDSA_SIG_MAX];
            size_t sig_len;
            lc_signer_sign_iov(px->key, right, px->how == TAMPER_SIGNATURE ? 1 : 2, sig, &sig_len);
            free(e->signature.data);
            pr->endorsement->signature.data = malloc(sig_len);
            memcpy(pr->endorsement->signature.data, sig, sig_len);
            pr->endorsement->signature.len = sig_len;
        }
        lc_rpc_reply(j->call, &pr->base);
        protobuf_c_message_free_unpacked(m, NULL);
    }
    lc_rpc_call_unref(j->call);
    protos__signed_proposal__free_unpacked(j->sp, NULL);
    free(j);
    pthread_mutex_lock(&px->mu);
    px->in_flight--;
    pthread_cond_broadcast(&px->cv);
    pthread_mutex_unlock(&px->mu);
    return NULL;
}

static void proxy_on_request(struct lc_rpc_call *call, const ProtobufCMessage *req)
{
    struct proxy *px = lc_rpc_call_ctx(call);
    struct job *j = calloc(1, sizeof *j);
    const uint8_t *raw;
    size_t len;
    ck_assert_int_eq(lc_rpc_call_request_bytes(call, &raw, &len), 0);
    j->px = px;
    j->sp = protos__signed_proposal__unpack(NULL, len, raw);
    j->call = lc_rpc_call_ref(call);
    (void)req;
    pthread_mutex_lock(&px->mu);
    px->in_flight++;
    pthread_mutex_unlock(&px->mu);
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, forward, j), 0);
    pthread_detach(th);
}

static const struct lc_rpc_method proxy_methods[] = {
    {.path = "/protos.Endorser/ProcessProposal",
     .kind = LC_RPC_UNARY,
     .request = &protos__signed_proposal__descriptor,
     .on_request = proxy_on_request},
};

static void proxy_start(struct proxy *px, struct it *t, int org, enum tamper how)
{
    memset(px, 0, sizeof *px);
    pthread_mutex_init(&px->mu, NULL);
    pthread_cond_init(&px->cv, NULL);
    px->how = how;
    struct lc_errbuf err;
    ck_assert_int_eq(
        lc_signer_load(wh_peer_msp(&t->net, org, 0), wh_fmt("Org%dMSP", org), &err, &px->key), 0);
    ck_assert_int_eq(
        lc_rpc_client_new(wh_fmt("127.0.0.1:%d", t->end_port[org]), NULL, &err, &px->upstream), 0);
    struct lc_rpc_server_opts o = {.listen = "127.0.0.1:0"};
    ck_assert_int_eq(lc_rpc_server_new(&o, &err, &px->srv), 0);
    ck_assert_int_eq(lc_rpc_server_add(px->srv, proxy_methods, 1, px, &err), 0);
    ck_assert_int_eq(lc_rpc_server_start(px->srv, &err), 0);
    px->port = lc_rpc_server_port(px->srv);
}

static void proxy_stop(struct proxy *px)
{
    pthread_mutex_lock(&px->mu);
    while (px->in_flight > 0)
        pthread_cond_wait(&px->cv, &px->mu);
    pthread_mutex_unlock(&px->mu);
    lc_rpc_server_shutdown(px->srv, 1000);
    lc_rpc_server_free(px->srv);
    lc_rpc_client_free(px->upstream);
    lc_signer_free(px->key);
    pthread_cond_destroy(&px->cv);
    pthread_mutex_destroy(&px->mu);
}

/* Invokes kv with endorsers peer0.org1 (real) and peer0.org2 (behind the proxy); returns stderr. */
static const char *invoke_through(struct it *t, struct proxy *px, int *ret_status)
{
    int ports[3] = {0, t->end_port[1], px->port};
    const char *conn = conn_profile(t, 2, ports);
    const char *out, *err;
    *ret_status =
        weft(&out, &err, "invoke", "--profile", conn, "--channel", "mychannel", "--msp-dir",
             t->user, "--chaincode", "kv", "--args", "[\"put\",\"k\",\"v\"]", NULL);
    return err;
}

START_TEST(client_detects_mismatched_payloads)
{
    struct it t;
    net_up(&t, and_policy);
    orderer_up(&t);
    endorser_up(&t, 1);
    endorser_up(&t, 2);
    struct proxy px;
    proxy_start(&px, &t, 2, TAMPER_PAYLOAD);
    int r;
    const char *err = invoke_through(&t, &px, &r);
    ck_assert_int_eq(r, 1);
    ck_assert_msg(strstr(err, "ProposalResponsePayloads do not match: [peer0.org1.example.com] vs "
                              "[peer0.org2.example.com]") != NULL,
                  "%s", err);
    /* nothing was ordered: the chain is still block 0 alone */
    const char *out;
    r = weft(&out, &err, "blocks", "--orderers", wh_fmt("127.0.0.1:%d", t.ord_port), "--mspid",
             "Org1MSP", "--channel", "mychannel", "--msp-dir", t.user, NULL);
    ck_assert_msg(r == 0, "blocks: %s", err);
    ck_assert_msg(strstr(out, "block 0 ") == out && strstr(out, "block 1 ") == NULL, "%s", out);
    proxy_stop(&px);
}
END_TEST

START_TEST(client_detects_bad_endorsement_signature)
{
    struct it t;
    net_up(&t, and_policy);
    orderer_up(&t);
    endorser_up(&t, 1);
    endorser_up(&t, 2);
    struct proxy px;
    proxy_start(&px, &t, 2, TAMPER_SIGNATURE);
    int r;
    const char *err = invoke_through(&t, &px, &r);
    ck_assert_int_eq(r, 1);
    ck_assert_msg(strstr(err, "endorser peer0.org2.example.com: endorsement signature: ") != NULL,
                  "%s", err);
    proxy_stop(&px);
}
END_TEST

/* Flag mistakes are caught before anything is loaded or dialled: exit status 2, the flag named. */
START_TEST(cli_usage_errors)
{
    static const struct {
        const char *cmd, *a1, *v1, *a2, *v2, *a3, *v3, *want;
    } cases[] = {
        {"query", "--args", "[\"f\"]", NULL, NULL, NULL, NULL, "policy selection needs --profile"},
        {"query", "--args", "[\"f\"]", "--selection", "explicit", NULL, NULL,
         "explicit selection needs"},
        {"invoke", "--args", "[\"f\"]", "--targets", "h", NULL, NULL, "--targets: address 'h'"},
        {"invoke", "--args", "[\"f\"]", "--targets", "h:1,", NULL, NULL, "--targets: empty entry"},
        {"query", "--args", "{\"f\": 1}", "--targets", "h:1", NULL, NULL,
         "--args: expected a JSON array"},
        {"query", "--args", "[\"f\", 2]", "--targets", "h:1", NULL, NULL,
         "--args[1]: not a string"},
        {"query", "--args", "[]", "--targets", "h:1", NULL, NULL, "--args: 0 entries"},
        {"query", "--args", "[\"f\"", "--targets", "h:1", NULL, NULL,
         "--args: expected a JSON array"},
        {"invoke", "--args", "[\"f\"]", "--targets", "h:1", "--transient", "{\"k\": \"%%%\"}",
         "--transient 'k': not base64"},
        {"invoke", "--args", "[\"f\"]", "--targets", "h:1", "--transient", "[1]",
         "--transient: expected a JSON object"},
        {"query", "--args", "[\"f\"]", "--selection", "random", NULL, NULL, "--selection"},
        {"query", "--args", "[\"f\"]", "--targets", "h:1", "--selection", "policy",
         "--targets goes with --selection explicit"},
        {"blocks", "--from", "x", NULL, NULL, NULL, NULL,
         "--from: 'x' is not oldest, newest or a block"},
        {"blocks", "--to", "oldest", NULL, NULL, NULL, NULL,
         "--to: 'oldest' is not newest, forever"},
        {"blocks", "--from", "5", "--to", "4", NULL, NULL, "--to 4 is before --from 5"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *out, *err;
        int r = strcmp(cases[i].cmd, "blocks") == 0
                    ? weft(&out, &err, cases[i].cmd, "--channel", "mychannel", "--msp-dir",
                           "/nonexistent", cases[i].a1, cases[i].v1, cases[i].a2, cases[i].v2,
                           cases[i].a3, cases[i].v3, NULL)
                    : weft(&out, &err, cases[i].cmd, "--channel", "mychannel", "--msp-dir",
                           "/nonexistent", "--chaincode", "kv", cases[i].a1, cases[i].v1,
                           cases[i].a2, cases[i].v2, cases[i].a3, cases[i].v3, NULL);
        ck_assert_msg(r == 2, "case %zu: exit %d, stderr %s", i, r, err);
        ck_assert_msg(strstr(err, cases[i].want) != NULL, "case %zu: '%s' lacks '%s'", i, err,
                      cases[i].want);
    }
    /* the help says where the commit event is */
    const char *out, *err;
    ck_assert_int_eq(weft(&out, &err, "invoke", "--help", NULL), 0);
    ck_assert_ptr_nonnull(strstr(out, "does not wait for the transaction to be committed"));
    ck_assert_int_eq(weft(&out, &err, "help", "blocks", NULL), 0);
    ck_assert_ptr_nonnull(strstr(out, "--output-dir"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("client-integration");
    TCase *tc = tcase_create("client");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, one_endorser_query_invoke_blocks);
    tcase_add_test(tc, two_endorsers_and_policy);
    tcase_add_test(tc, broadcast_fails_over_to_a_live_orderer);
    tcase_add_test(tc, client_detects_mismatched_payloads);
    tcase_add_test(tc, client_detects_bad_endorsement_signature);
    tcase_add_test(tc, cli_usage_errors);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    wh_cleanup();
    return failed ? 1 : 0;
}
