/* SPDX-License-Identifier: Apache-2.0 */
/* Proposals per second of one endorser (1 and 2 workers) over real gRPC with many calls in
 * flight, next to the bound of one verify + one sign per proposal measured in the same run;
 * prints figures, asserts nothing. */
#include <errno.h>
#include <pthread.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>

#include "common/common.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "peer/chaincode.pb-c.h"
#include "peer/proposal.pb-c.h"
#include "peer/proposal_response.pb-c.h"

#include "libcommon/crypto.h"
#include "libcommon/log.h"
#include "libcommon/msp.h"
#include "libcommon/rpc.h"
#include "libcommon/state.h"
#include "libcommon/wire.h"
#include "services/endorser/endorser.h"
#include "services/endorser/server.h"

#ifndef WEFT_BIN
#define WEFT_BIN "weft"
#endif

#define CLIENTS 32   /* client threads, each with one blocking call in flight */
#define PROPOSALS 64 /* distinct signed proposals, sent round-robin */
#define ASSET                                                                                      \
    "{\"AppraisedValue\":300,\"Color\":\"blue\",\"ID\":\"asset1\",\"Owner\":\"Tomoko\",\"Size\":"  \
    "5}"

extern char **environ;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run(const char *cwd, const char *const argv[])
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addchdir_np(&fa, cwd);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", 1, 0);
    pid_t pid;
    int r = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (r)
        return -1;
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* A network of two orgs with the asset chaincode, made with the weft tool. */
static int make_network(const char *dir, const char *weft)
{
    const char *cg[] = {weft, "cryptogen",       "--output", "crypto",  "--peer-orgs",
                        "2",  "--peers-per-org", "1",        "--users", "1",
                        NULL};
    if (run(dir, cg) < 0)
        return -1;
    char path[4096];
    snprintf(path, sizeof path, "%s/profile.yaml", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs("Orderer:\n  Organizations:\n"
          "    - {Name: OrdererOrg, ID: OrdererMSP, MSPDir: crypto/ordererOrganizations/"
          "example.com/msp}\n"
          "Application:\n  Organizations:\n"
          "    - {Name: Org1, ID: Org1MSP, MSPDir: crypto/peerOrganizations/org1.example.com/msp}\n"
          "    - {Name: Org2, ID: Org2MSP, MSPDir: crypto/peerOrganizations/org2.example.com/msp}\n"
          "Chaincodes:\n  - {Name: asset, Version: \"1.0\"}\n",
          f);
    fclose(f);
    const char *gen[] = {weft,           "genesis",       "--profile",
                         "profile.yaml", "--channel",     "mychannel",
                         "--output",     "genesis.block", NULL};
    return run(dir, gen);
}

static ProtobufCBinaryData pack(const ProtobufCMessage *m)
{
    ProtobufCBinaryData b = {0, NULL};
    struct lc_errbuf err;
    if (lc_wire_pack(m, 1 << 20, &b.data, &b.len, &err) < 0)
        abort();
    return b;
}

/* A signed ReadAsset("asset1") proposal from s, decoded for sending. */
static Protos__SignedProposal *make_proposal(const struct lc_signer *s)
{
    size_t clen;
    const uint8_t *creator = lc_signer_serialized(s, &clen);
    uint8_t nonce[LC_NONCE_LEN];
    char txid[LC_WIRE_TXID_LEN + 1];
    if (lc_nonce(nonce) < 0 || lc_wire_txid(nonce, sizeof nonce, creator, clen, txid) < 0)
        abort();
    Protos__ChaincodeID ccid = PROTOS__CHAINCODE_ID__INIT;
    ccid.name = "asset";
    Protos__ChaincodeHeaderExtension ext = PROTOS__CHAINCODE_HEADER_EXTENSION__INIT;
    ext.chaincode_id = &ccid;
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    ts.seconds = time(NULL);
    Common__ChannelHeader ch = COMMON__CHANNEL_HEADER__INIT;
    ch.type = COMMON__HEADER_TYPE__ENDORSER_TRANSACTION;
    ch.version = 1;
    ch.timestamp = &ts;
    ch.channel_id = "mychannel";
    ch.tx_id = txid;
    ch.extension = pack(&ext.base);
    Common__SignatureHeader sh = COMMON__SIGNATURE_HEADER__INIT;
    sh.creator.data = (uint8_t *)creator;
    sh.creator.len = clen;
    sh.nonce.data = nonce;
    sh.nonce.len = sizeof nonce;
    Common__Header hdr = COMMON__HEADER__INIT;
    hdr.channel_header = pack(&ch.base);
    hdr.signature_header = pack(&sh.base);
    ProtobufCBinaryData args[] = {{9, (uint8_t *)"ReadAsset"}, {6, (uint8_t *)"asset1"}};
    Protos__ChaincodeInput in = PROTOS__CHAINCODE_INPUT__INIT;
    in.n_args = 2;
    in.args = args;
    Protos__ChaincodeSpec spec = PROTOS__CHAINCODE_SPEC__INIT;
    spec.type = PROTOS__CHAINCODE_SPEC__TYPE__GOLANG;
    spec.chaincode_id = &ccid;
    spec.input = &in;
    Protos__ChaincodeInvocationSpec cis = PROTOS__CHAINCODE_INVOCATION_SPEC__INIT;
    cis.chaincode_spec = &spec;
    Protos__ChaincodeProposalPayload cpp = PROTOS__CHAINCODE_PROPOSAL_PAYLOAD__INIT;
    cpp.input = pack(&cis.base);
    Protos__Proposal prop = PROTOS__PROPOSAL__INIT;
    prop.header = pack(&hdr.base);
    prop.payload = pack(&cpp.base);
    Protos__SignedProposal sp = PROTOS__SIGNED_PROPOSAL__INIT;
    sp.proposal_bytes = pack(&prop.base);
    uint8_t sig[LC_ECDSA_SIG_MAX];
    size_t sig_len;
    if (lc_signer_sign(s, sp.proposal_bytes.data, sp.proposal_bytes.len, sig, &sig_len) < 0)
        abort();
    sp.signature.data = sig;
    sp.signature.len = sig_len;
    ProtobufCBinaryData out = pack(&sp.base);
    free(ch.extension.data);
    free(hdr.channel_header.data);
    free(hdr.signature_header.data);
    free(cpp.input.data);
    free(prop.header.data);
    free(prop.payload.data);
    free(sp.proposal_bytes.data);
    Protos__SignedProposal *ret = protos__signed_proposal__unpack(NULL, out.len, out.data);
    free(out.data);
    return ret;
}

/* ---- the bound: one verify + one sign, single thread ---- */

static double bound_per_thread(const struct lc_signer *user, const Protos__SignedProposal *sp)
{
    const struct lc_pubkey *pub = lc_cert_pubkey(lc_signer_cert(user));
    uint8_t sig[LC_ECDSA_SIG_MAX];
    size_t sig_len;
    double t0 = now_s(), t;
    long n = 0;
    do {
        for (int i = 0; i < 50; i++) {
            if (lc_ecdsa_verify(pub, sp->proposal_bytes.data, sp->proposal_bytes.len,
                                sp->signature.data, sp->signature.len, NULL) < 0 ||
                lc_signer_sign(user, sp->proposal_bytes.data, sp->proposal_bytes.len, sig,
                               &sig_len) < 0)
                abort();
            n++;
        }
        t = now_s() - t0;
    } while (t < 1.0);
    return (double)n / t;
}

/* Signing rate alone, and while a sibling thread of this process keeps the other core busy: a
 * guarded key that is mprotect'ed per signature would show here as a TLB-shootdown slowdown. */
static atomic_bool spin_stop;

static void *spinner(void *arg)
{
    volatile unsigned long x = 0;
    while (!atomic_load(&spin_stop))
        x++;
    return NULL;
}

static double sign_rate(const struct lc_signer *user)
{
    uint8_t msg[128] = {0}, sig[LC_ECDSA_SIG_MAX];
    size_t len;
    double t0 = now_s(), t;
    long n = 0;
    do {
        for (int i = 0; i < 100; i++, n++)
            if (lc_signer_sign(user, msg, sizeof msg, sig, &len) < 0)
                abort();
        t = now_s() - t0;
    } while (t < 0.5);
    return (double)n / t;
}

static void sign_note(const struct lc_signer *user)
{
    double alone = sign_rate(user);
    pthread_t t;
    atomic_store(&spin_stop, false);
    pthread_create(&t, NULL, spinner, NULL);
    double busy = sign_rate(user);
    atomic_store(&spin_stop, true);
    pthread_join(t, NULL);
    printf(
        "  note: lc_signer_sign %.0f/s alone, %.0f/s while a sibling thread runs (should match)\n",
        alone, busy);
}

/* The pipeline alone, one thread, no gRPC: what a worker costs per proposal. */
static double pipeline_rate(struct endorser *e, Protos__SignedProposal **props)
{
    double t0 = now_s(), t;
    long n = 0;
    do {
        for (int i = 0; i < 50; i++) {
            struct endorser_outcome o;
            endorser_process(e, props[n % PROPOSALS], time(NULL), &o);
            if (o.code != LC_RPC_OK || !o.resp->endorsement)
                abort();
            endorser_outcome_done(&o);
            n++;
        }
        t = now_s() - t0;
    } while (t < 1.0);
    return (double)n / t;
}

/* ---- load ----
 * One client thread drives IN_FLIGHT calls on one completion queue with gRPC core's async API,
 * so the client costs as little CPU as gRPC allows (blocking calls from many threads cost
 * several times more in thread wake-ups and would eat the cores the endorser is measured on).
 * weft code talks to gRPC only through libcommon/rpc; this load generator is the exception,
 * as bench_crypto uses OpenSSL directly for its bounds. */

#define IN_FLIGHT 128

struct slot {
    grpc_call *call;
    grpc_byte_buffer *req, *resp;
    grpc_metadata_array imd, tmd;
    grpc_status_code st;
    grpc_slice details;
};

struct client {
    grpc_channel *ch;
    grpc_completion_queue *cq;
    const ProtobufCBinaryData *props;
    struct slot slots[IN_FLIGHT];
    unsigned next;
    atomic_bool *stop;
    atomic_bool *counting;
    long ok, failed;
};

static void slot_start(struct client *c, struct slot *s)
{
    const ProtobufCBinaryData *p = &c->props[c->next++ % PROPOSALS];
    grpc_slice method = grpc_slice_from_static_string("/protos.Endorser/ProcessProposal");
    s->call = grpc_channel_create_call(c->ch, NULL, GRPC_PROPAGATE_DEFAULTS, c->cq, method, NULL,
                                       gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    grpc_slice body = grpc_slice_from_copied_buffer((const char *)p->data, p->len);
    s->req = grpc_raw_byte_buffer_create(&body, 1);
    grpc_slice_unref(body);
    s->resp = NULL;
    s->details = grpc_empty_slice();
    grpc_metadata_array_init(&s->imd);
    grpc_metadata_array_init(&s->tmd);
    grpc_op ops[6];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = s->req;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &s->imd;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &s->resp;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &s->tmd;
    ops[5].data.recv_status_on_client.status = &s->st;
    ops[5].data.recv_status_on_client.status_details = &s->details;
    if (grpc_call_start_batch(s->call, ops, 6, s, NULL) != GRPC_CALL_OK)
        abort();
}

/* Ends a completed call; true when it brought an endorsed response. */
static bool slot_finish(struct slot *s)
{
    bool good = false;
    if (s->st == GRPC_STATUS_OK && s->resp) {
        grpc_byte_buffer_reader r;
        if (grpc_byte_buffer_reader_init(&r, s->resp)) {
            grpc_slice all = grpc_byte_buffer_reader_readall(&r);
            Protos__ProposalResponse *pr = protos__proposal_response__unpack(
                NULL, GRPC_SLICE_LENGTH(all), GRPC_SLICE_START_PTR(all));
            good = pr && pr->endorsement;
            if (pr)
                protos__proposal_response__free_unpacked(pr, NULL);
            grpc_slice_unref(all);
            grpc_byte_buffer_reader_destroy(&r);
        }
    }
    grpc_byte_buffer_destroy(s->req);
    if (s->resp)
        grpc_byte_buffer_destroy(s->resp);
    grpc_slice_unref(s->details);
    grpc_metadata_array_destroy(&s->imd);
    grpc_metadata_array_destroy(&s->tmd);
    grpc_call_unref(s->call);
    s->call = NULL;
    return good;
}

static void *client_thread(void *arg)
{
    struct client *c = arg;
    for (unsigned i = 0; i < IN_FLIGHT; i++)
        slot_start(c, &c->slots[i]);
    unsigned live = IN_FLIGHT;
    while (live > 0) {
        grpc_event ev = grpc_completion_queue_next(
            c->cq,
            gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(100, GPR_TIMESPAN)),
            NULL);
        if (ev.type != GRPC_OP_COMPLETE)
            continue;
        struct slot *s = ev.tag;
        bool good = slot_finish(s);
        if (atomic_load(c->counting)) {
            if (good)
                c->ok++;
            else
                c->failed++;
        }
        if (atomic_load(c->stop))
            live--;
        else
            slot_start(c, s);
    }
    return NULL;
}

static double measure(struct endorser *e, unsigned workers, const ProtobufCBinaryData *props,
                      double seconds, long *ret_failed)
{
    struct endorser_server *srv = NULL;
    struct lc_errbuf err = {{0}};
    struct endorser_server_opts so = {
        .listen = "127.0.0.1:0", .workers = workers, .rpc_threads = 1, .queue_max = 4096};
    if (endorser_server_start(e, &so, &err, &srv) < 0) {
        fprintf(stderr, "bench_endorser: server: %s\n", err.msg);
        exit(1);
    }
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", endorser_server_port(srv));
    atomic_bool stop = false, counting = false;
    struct client *c = calloc(1, sizeof *c);
    if (!c)
        abort();
    grpc_channel_credentials *creds = grpc_insecure_credentials_create();
    c->ch = grpc_channel_create(target, creds, NULL);
    grpc_channel_credentials_release(creds);
    c->cq = grpc_completion_queue_create_for_next(NULL);
    c->props = props;
    c->stop = &stop;
    c->counting = &counting;
    pthread_t th;
    pthread_create(&th, NULL, client_thread, c);
    pthread_setname_np(th, "bench-client");
    struct timespec warm = {0, 500 * 1000 * 1000};
    nanosleep(&warm, NULL); /* connection up, pages touched */
    atomic_store(&counting, true);
    double t0 = now_s();
    struct timespec run = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    nanosleep(&run, NULL);
    atomic_store(&counting, false);
    double t = now_s() - t0;
    atomic_store(&stop, true);
    pthread_join(th, NULL);
    grpc_completion_queue_shutdown(c->cq);
    while (grpc_completion_queue_next(c->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL).type !=
           GRPC_QUEUE_SHUTDOWN) {
    }
    grpc_completion_queue_destroy(c->cq);
    grpc_channel_destroy(c->ch);
    *ret_failed = c->failed;
    double rate = (double)c->ok / t;
    free(c);
    endorser_server_free(srv, 1000);
    return rate;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? strtod(argv[1], NULL) : 3.0;
    if (seconds <= 0)
        seconds = 3.0;
    const char *weft = getenv("WEFT_BIN") ? getenv("WEFT_BIN") : WEFT_BIN;
    struct lc_errbuf err = {{0}};
    lc_log_spec_set("warn", &err);
    char dir[] = "/tmp/weft-bench-endorser-XXXXXX";
    if (!mkdtemp(dir) || make_network(dir, weft) < 0) {
        fprintf(stderr, "bench_endorser: cannot make a network with %s (set WEFT_BIN)\n", weft);
        return 1;
    }
    char peer_msp[4096], user_msp[4096], genesis[4096], state[4096];
    snprintf(peer_msp, sizeof peer_msp,
             "%s/crypto/peerOrganizations/org1.example.com/peers/peer0.org1.example.com/msp", dir);
    snprintf(user_msp, sizeof user_msp,
             "%s/crypto/peerOrganizations/org1.example.com/users/User1@org1.example.com/msp", dir);
    snprintf(genesis, sizeof genesis, "%s/genesis.block", dir);
    snprintf(state, sizeof state, "%s/state", dir);
    const char *gens[] = {genesis};
    struct endorser_options eo = {.msp_dir = peer_msp,
                                  .mspid = "Org1MSP",
                                  .genesis = gens,
                                  .n_genesis = 1,
                                  .state_dir = state,
                                  .identity_cache = 1024,
                                  .state_nosync = true};
    struct endorser *e = NULL;
    struct lc_signer *user = NULL;
    if (endorser_new(&eo, &err, &e) < 0 || lc_signer_load(user_msp, "Org1MSP", &err, &user) < 0) {
        fprintf(stderr, "bench_endorser: %s\n", err.msg);
        return 1;
    }
    struct lc_state_write w = {"asset", "asset1", 6, ASSET, strlen(ASSET), false};
    struct lc_state_tx tx = {NULL, 0, &w, 1};
    if (lc_state_commit_block(endorser_channel_state(e, "mychannel"), 1, &tx, 1, &err) < 0) {
        fprintf(stderr, "bench_endorser: seed: %s\n", err.msg);
        return 1;
    }
    Protos__SignedProposal *props[PROPOSALS];
    ProtobufCBinaryData packed[PROPOSALS];
    for (int i = 0; i < PROPOSALS; i++) {
        props[i] = make_proposal(user);
        packed[i] = pack(&props[i]->base);
    }
    grpc_init();

    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    double per_thread = bound_per_thread(user, props[0]);
    printf("bench_endorser: ReadAsset proposals over gRPC, %d calls in flight from one async "
           "client thread, %.1f s per run, %ld cores\n",
           IN_FLIGHT, seconds, cores);
    printf("  bound: one verify + one sign per proposal = %.0f/s per thread (measured now)\n",
           per_thread);
    sign_note(user);
    double alone = pipeline_rate(e, props);
    printf("  pipeline alone (endorser_process, 1 thread, no gRPC): %.0f/s   ratio %.2f\n", alone,
           alone / per_thread);
    for (unsigned workers = 1; workers <= 2; workers++) {
        long failed = 0;
        double rate = measure(e, workers, packed, seconds, &failed);
        double bound = per_thread * (double)(workers < (unsigned)cores ? workers : (unsigned)cores);
        printf("  workers=%u: %8.0f proposals/s   bound %8.0f/s   ratio %.2f (goal >= 0.6)%s\n",
               workers, rate, bound, rate / bound, failed ? "   (some calls failed!)" : "");
    }
    grpc_shutdown();
    for (int i = 0; i < PROPOSALS; i++) {
        protos__signed_proposal__free_unpacked(props[i], NULL);
        free(packed[i].data);
    }
    lc_signer_free(user);
    endorser_free(e);
    const char *rm[] = {"/bin/rm", "-rf", dir, NULL};
    run("/", rm);
    return 0;
}
