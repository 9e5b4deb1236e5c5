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

/* ---- load ---- */

struct load {
    struct lc_rpc_client *client;
    Protos__SignedProposal **props;
    atomic_bool *stop;
    atomic_bool *counting;
    long ok, failed;
    unsigned id;
};

static void *client_thread(void *arg)
{
    struct load *l = arg;
    unsigned i = l->id;
    while (!atomic_load(l->stop)) {
        ProtobufCMessage *resp = NULL;
        struct lc_rpc_status st;
        int r = lc_rpc_unary(l->client, "/protos.Endorser/ProcessProposal",
                             &l->props[i++ % PROPOSALS]->base,
                             &protos__proposal_response__descriptor, 30000, &st, &resp);
        bool good = r == 0 && ((Protos__ProposalResponse *)resp)->endorsement != NULL;
        if (resp)
            protobuf_c_message_free_unpacked(resp, NULL);
        if (atomic_load(l->counting)) {
            if (good)
                l->ok++;
            else
                l->failed++;
        }
    }
    return NULL;
}

static double measure(struct endorser *e, unsigned workers, Protos__SignedProposal **props,
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
    struct lc_rpc_client *client = NULL;
    if (lc_rpc_client_new(target, NULL, &err, &client) < 0) {
        fprintf(stderr, "bench_endorser: client: %s\n", err.msg);
        exit(1);
    }
    atomic_bool stop = false, counting = false;
    struct load loads[CLIENTS];
    pthread_t th[CLIENTS];
    for (unsigned i = 0; i < CLIENTS; i++) {
        loads[i] = (struct load){client, props, &stop, &counting, 0, 0, i};
        pthread_create(&th[i], NULL, client_thread, &loads[i]);
        pthread_setname_np(th[i], "bench-client");
    }
    struct timespec warm = {0, 500 * 1000 * 1000};
    nanosleep(&warm, NULL); /* connections up, pages touched */
    atomic_store(&counting, true);
    double t0 = now_s();
    struct timespec run = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    nanosleep(&run, NULL);
    atomic_store(&counting, false);
    double t = now_s() - t0;
    atomic_store(&stop, true);
    long ok = 0, failed = 0;
    for (unsigned i = 0; i < CLIENTS; i++) {
        pthread_join(th[i], NULL);
        ok += loads[i].ok;
        failed += loads[i].failed;
    }
    lc_rpc_client_free(client);
    endorser_server_free(srv, 1000);
    *ret_failed = failed;
    return (double)ok / t;
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
    for (int i = 0; i < PROPOSALS; i++)
        props[i] = make_proposal(user);

    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    double per_thread = bound_per_thread(user, props[0]);
    printf("bench_endorser: ReadAsset proposals over gRPC, %d client threads with one call in "
           "flight each, %.1f s per run, %ld cores\n",
           CLIENTS, seconds, cores);
    printf("  bound: one verify + one sign per proposal = %.0f/s per thread (measured now)\n",
           per_thread);
    double alone = pipeline_rate(e, props);
    printf("  pipeline alone (endorser_process, 1 thread, no gRPC): %.0f/s   ratio %.2f\n", alone,
           alone / per_thread);
    for (unsigned workers = 1; workers <= 2; workers++) {
        long failed = 0;
        double rate = measure(e, workers, props, seconds, &failed);
        double bound = per_thread * (double)(workers < (unsigned)cores ? workers : (unsigned)cores);
        printf("  workers=%u: %8.0f proposals/s   bound %8.0f/s   ratio %.2f (goal >= 0.6)%s\n",
               workers, rate, bound, rate / bound, failed ? "   (some calls failed!)" : "");
    }
    for (int i = 0; i < PROPOSALS; i++)
        protos__signed_proposal__free_unpacked(props[i], NULL);
    lc_signer_free(user);
    endorser_free(e);
    const char *rm[] = {"/bin/rm", "-rf", dir, NULL};
    run("/", rm);
    return 0;
}
