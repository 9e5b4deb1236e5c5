/* SPDX-License-Identifier: Apache-2.0 */
/* Orderer throughput: envelopes per second through Broadcast into written blocks, against the
 * envelope-verification bound measured in the same run. Prints figures; asserts nothing. */

/*
 * What runs: the orderer's own modules in this process (the daemon's code, not a model of it):
 * an RPC server with Broadcast, the worker pool, one solo chain with its block store in a temp
 * dir (fsync every block, the default), and K client streams sending pre-signed envelopes. A run
 * is timed from the first send to the moment the block store holds every envelope.
 *
 * The bound: an orderer cannot admit envelopes faster than it verifies their signatures (one
 * ECDSA P-256 verify per envelope, with libcommon/crypto), measured here on the same envelopes
 * with as many threads as the orderer has workers (capped at the cores). ratio = rate / bound;
 * the goal is >= 0.6 for 100-transaction blocks. Note the clients (gRPC, sending) share the
 * machine with the orderer in this run.
 *
 * Usage: bench_orderer [--envelopes N] [--streams K] [--workers W] [--fsync every|none]
 * Crypto and genesis blocks are made with the weft tool next to this binary
 * ($WEFT_BUILD_ROOT/cli/weft, or ../../cli/weft relative to this executable).
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/common.pb-c.h"
#include "libcommon/blockstore.h"
#include "libcommon/crypto.h"
#include "libcommon/log.h"
#include "libcommon/msp.h"
#include "libcommon/rpc.h"
#include "libcommon/wire.h"
#include "orderer/ab.pb-c.h"

#include "chain.h"
#include "pool.h"
#include "registrar.h"
#include "service.h"

extern char **environ;

struct opts {
    long envelopes;
    long streams;
    long workers;
    bool fsync;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "bench_orderer: %s: %s\n", what, why);
    exit(1);
}

/* ---- setup: crypto and genesis blocks with the weft tool ------------------------------------ */

static char weft[PATH_MAX];

static void find_weft(void)
{
    const char *root = getenv("WEFT_BUILD_ROOT");
    if (root) {
        snprintf(weft, sizeof weft, "%s/cli/weft", root);
        return;
    }
    char self[PATH_MAX - 32];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n < 0)
        die("readlink /proc/self/exe", strerror(errno));
    self[n] = '\0';
    *strrchr(self, '/') = '\0'; /* .../services/orderer */
    snprintf(weft, sizeof weft, "%s/../../cli/weft", self);
}

static void run(const char *cwd, const char *const args[])
{
    pid_t pid;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addchdir_np(&fa, cwd);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    int r = posix_spawn(&pid, weft, &fa, NULL, (char *const *)args, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (r != 0)
        die(weft, strerror(r));
    int st = 0;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        die(args[1], "the weft tool failed");
}

static uint8_t *slurp(const char *path, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die(path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    uint8_t *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
        die(path, "cannot read");
    fclose(f);
    *ret_len = (size_t)n;
    return buf;
}

static const char *dir_path(const char *dir, const char *rel)
{
    static char bufs[8][PATH_MAX];
    static unsigned k;
    char *b = bufs[k++ % 8];
    snprintf(b, PATH_MAX, "%s/%s", dir, rel);
    return b;
}

/* Writes a solo profile with MaxMessageCount count and makes its genesis block. */
static uint8_t *genesis(const char *dir, int count, const char *channel, size_t *ret_len)
{
    char name[64], out[128];
    snprintf(name, sizeof name, "profile-%d.yaml", count);
    snprintf(out, sizeof out, "%s.block", channel);
    FILE *f = fopen(dir_path(dir, name), "w");
    if (!f)
        die(name, strerror(errno));
    fprintf(
        f,
        "Orderer:\n"
        "  OrdererType: solo\n"
        "  BatchTimeout: 2s\n"
        "  BatchSize: {MaxMessageCount: %d, AbsoluteMaxBytes: 16 MB, PreferredMaxBytes: 8 MB}\n"
        "  Organizations:\n"
        "    - {Name: OrdererOrg, ID: OrdererMSP, MSPDir: "
        "crypto/ordererOrganizations/example.com/msp}\n"
        "Application:\n"
        "  Organizations:\n"
        "    - {Name: Org1, ID: Org1MSP, MSPDir: crypto/peerOrganizations/org1.example.com/msp}\n",
        count);
    fclose(f);
    const char *gen[] = {weft,    "genesis",  "--profile", name, "--channel",
                         channel, "--output", out,         NULL};
    run(dir, gen);
    return slurp(dir_path(dir, out), ret_len);
}

/* ---- envelopes ------------------------------------------------------------------------------ */

static uint8_t *pack(const ProtobufCMessage *m, size_t *ret_len)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *p = malloc(n ? n : 1);
    if (!p)
        die("pack", "out of memory");
    protobuf_c_message_pack(m, p);
    *ret_len = n;
    return p;
}

/* A signed ENDORSER_TRANSACTION envelope whose payload is about `size` bytes. */
static Common__Envelope *envelope(const struct lc_signer *s, const char *channel, size_t size)
{
    uint8_t nonce[LC_NONCE_LEN];
    lc_nonce(nonce);
    size_t clen = 0;
    const uint8_t *creator = lc_signer_serialized(s, &clen);
    char txid[LC_WIRE_TXID_LEN + 1];
    lc_wire_txid(nonce, sizeof nonce, creator, clen, txid);
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    ts.seconds = time(NULL);
    Common__ChannelHeader ch = COMMON__CHANNEL_HEADER__INIT;
    ch.type = COMMON__HEADER_TYPE__ENDORSER_TRANSACTION;
    ch.version = 1;
    ch.timestamp = &ts;
    ch.channel_id = (char *)channel;
    ch.tx_id = txid;
    Common__SignatureHeader sh = COMMON__SIGNATURE_HEADER__INIT;
    sh.creator.data = (uint8_t *)creator;
    sh.creator.len = clen;
    sh.nonce.data = nonce;
    sh.nonce.len = sizeof nonce;
    size_t chl, shl, pl;
    uint8_t *chb = pack(&ch.base, &chl), *shb = pack(&sh.base, &shl);
    Common__Header h = COMMON__HEADER__INIT;
    h.channel_header = (ProtobufCBinaryData){chl, chb};
    h.signature_header = (ProtobufCBinaryData){shl, shb};
    size_t fill = size > chl + shl + 16 ? size - chl - shl - 16 : 1;
    uint8_t *data = malloc(fill);
    if (!data)
        die("envelope", "out of memory");
    lc_random_bytes(data, fill);
    Common__Payload p = COMMON__PAYLOAD__INIT;
    p.header = &h;
    p.data = (ProtobufCBinaryData){fill, data};
    uint8_t *pb = pack(&p.base, &pl);
    uint8_t sig[LC_ECDSA_SIG_MAX];
    size_t sl = 0;
    if (lc_signer_sign(s, pb, pl, sig, &sl) < 0)
        die("sign", "failed");
    Common__Envelope e = COMMON__ENVELOPE__INIT;
    e.payload = (ProtobufCBinaryData){pl, pb};
    e.signature = (ProtobufCBinaryData){sl, sig};
    size_t el;
    uint8_t *eb = pack(&e.base, &el);
    Common__Envelope *out = common__envelope__unpack(NULL, el, eb);
    free(eb);
    free(pb);
    free(data);
    free(chb);
    free(shb);
    return out;
}

/* ---- the verification bound ---------------------------------------------------------------- */

struct vjob {
    const struct lc_pubkey *pub;
    Common__Envelope **envs;
    long from, to;
    long ok;
};

static void *verify_part(void *arg)
{
    struct vjob *j = arg;
    for (long i = j->from; i < j->to; i++)
        if (lc_ecdsa_verify(j->pub, j->envs[i]->payload.data, j->envs[i]->payload.len,
                            j->envs[i]->signature.data, j->envs[i]->signature.len, NULL) == 0)
            j->ok++;
    return NULL;
}

/* Verifications per second over envs with `threads` threads. */
static double verify_rate(const struct lc_pubkey *pub, Common__Envelope **envs, long n, int threads)
{
    pthread_t t[16];
    struct vjob j[16];
    double t0 = now_s();
    for (int i = 0; i < threads; i++) {
        j[i] = (struct vjob){pub, envs, n * i / threads, n * (i + 1) / threads, 0};
        pthread_create(&t[i], NULL, verify_part, &j[i]);
    }
    long ok = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        ok += j[i].ok;
    }
    double dt = now_s() - t0;
    if (ok != n)
        die("verify", "a signature did not verify");
    return (double)n / dt;
}

/* ---- one run -------------------------------------------------------------------------------- */

struct sender {
    const char *target;
    Common__Envelope **envs;
    long from, to;
    long success;
};

static void *send_part(void *arg)
{
    struct sender *s = arg;
    struct lc_rpc_client *c = NULL;
    struct lc_rpc_stream *st = NULL;
    struct lc_errbuf err;
    if (lc_rpc_client_new(s->target, NULL, &err, &c) < 0 ||
        lc_rpc_stream_open(c, "/orderer.AtomicBroadcast/Broadcast", -1, &st) < 0)
        die("client", err.msg);
    long received = 0;
    for (long i = s->from; i < s->to; i++) {
        if (lc_rpc_stream_send(st, &s->envs[i]->base, 60000) < 0)
            die("send", "stream ended");
        /* read what has arrived, so responses never pile up on either side */
        ProtobufCMessage *m = NULL;
        while (lc_rpc_stream_recv(st, &orderer__broadcast_response__descriptor, 0, &m) == 0) {
            if (((Orderer__BroadcastResponse *)m)->status == COMMON__STATUS__SUCCESS)
                s->success++;
            protobuf_c_message_free_unpacked(m, NULL);
            received++;
        }
    }
    while (received < s->to - s->from) {
        ProtobufCMessage *m = NULL;
        if (lc_rpc_stream_recv(st, &orderer__broadcast_response__descriptor, 60000, &m) < 0)
            die("recv", "stream ended");
        if (((Orderer__BroadcastResponse *)m)->status == COMMON__STATUS__SUCCESS)
            s->success++;
        protobuf_c_message_free_unpacked(m, NULL);
        received++;
    }
    lc_rpc_stream_close_send(st, 60000);
    lc_rpc_stream_free(st);
    lc_rpc_client_free(c);
    return NULL;
}

struct result {
    double rate;
    uint64_t blocks;
};

static struct result run_one(const char *dir, const char *channel, const uint8_t *g, size_t glen,
                             const struct lc_signer *orderer, Common__Envelope **envs, long n,
                             const struct opts *o)
{
    char data[PATH_MAX];
    snprintf(data, sizeof data, "%s/data-%s", dir, channel);
    mkdir(data, 0700);
    struct lc_errbuf err = {{0}};
    struct orderer_chain_opts co = {.data_dir = data,
                                    .sync = o->fsync ? LC_BLOCKSTORE_SYNC_EVERY
                                                     : LC_BLOCKSTORE_SYNC_NONE,
                                    .signer = orderer,
                                    .queue_msgs = 4000};
    struct orderer_chain *chain = NULL;
    struct orderer_registrar *reg = NULL;
    struct orderer_pool *pool = NULL;
    struct lc_rpc_server *srv = NULL;
    if (orderer_chain_open(g, glen, &co, &chain, &err) < 0 || orderer_registrar_new(&reg) < 0 ||
        orderer_registrar_add(reg, chain, &err) < 0 || orderer_chain_start(chain, &err) < 0 ||
        orderer_pool_new((unsigned)o->workers, &pool, &err) < 0)
        die("orderer setup", err.msg);
    struct lc_rpc_server_opts so = {.listen = "127.0.0.1:0", .threads = 1};
    struct orderer_service svc = {.reg = reg, .pool = pool, .time_window_ms = 900000};
    if (lc_rpc_server_new(&so, &err, &srv) < 0 || orderer_service_register(srv, &svc, &err) < 0 ||
        lc_rpc_server_start(srv, &err) < 0)
        die("server", err.msg);
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", lc_rpc_server_port(srv));

    struct lc_blockstore *bs = orderer_chain_store(chain);
    uint64_t h0 = lc_blockstore_height(bs);
    pthread_t t[64];
    struct sender s[64];
    double t0 = now_s();
    for (long i = 0; i < o->streams; i++) {
        s[i] = (struct sender){target, envs, n * i / o->streams, n * (i + 1) / o->streams, 0};
        pthread_create(&t[i], NULL, send_part, &s[i]);
    }
    long ok = 0;
    for (long i = 0; i < o->streams; i++) {
        pthread_join(t[i], NULL);
        ok += s[i].success;
    }
    if (ok != n)
        die("broadcast", "not every envelope got SUCCESS");
    /* n is a multiple of the block size: the last block is cut by count, not by the timer */
    uint64_t want =
        h0 + (uint64_t)n / (uint64_t)lc_chconf_batch_max_message_count(orderer_chain_chconf(chain));
    if (lc_blockstore_wait(bs, want - 1, 120000, NULL) < 0)
        die("blocks", "not all blocks were written");
    double dt = now_s() - t0;
    struct result r = {(double)n / dt, lc_blockstore_height(bs) - h0};
    lc_rpc_server_shutdown(srv, 1000);
    orderer_pool_free(pool);
    lc_rpc_server_free(srv);
    orderer_registrar_free(reg);
    return r;
}

static long arg_long(const char *v, long lo, long hi)
{
    char *end = NULL;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || !end || *end || x < lo || x > hi)
        die("bad number", v);
    return x;
}

int main(int argc, char *argv[])
{
    struct opts o = {.envelopes = 3000, .streams = 4, .workers = 2, .fsync = true};
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--envelopes") == 0)
            o.envelopes = arg_long(argv[i + 1], 500, 10000000);
        else if (strcmp(argv[i], "--streams") == 0)
            o.streams = arg_long(argv[i + 1], 1, 64);
        else if (strcmp(argv[i], "--workers") == 0)
            o.workers = arg_long(argv[i + 1], 1, 16);
        else if (strcmp(argv[i], "--fsync") == 0)
            o.fsync = strcmp(argv[i + 1], "none") != 0;
        else
            die("unknown flag", argv[i]);
    }
    o.envelopes -= o.envelopes % 500; /* whole blocks at every block size */
    struct lc_errbuf err = {{0}};
    lc_log_spec_set("warn", &err);
    lc_crypto_init();
    find_weft();
    char dir[] = "/tmp/weft-bench-orderer-XXXXXX";
    if (!mkdtemp(dir))
        die("mkdtemp", strerror(errno));
    const char *cg[] = {weft, "cryptogen",       "--output", "crypto", "--peer-orgs",
                        "1",  "--peers-per-org", "1",        NULL};
    run(dir, cg);
    struct lc_signer *orderer = NULL, *client = NULL;
    if (lc_signer_load(dir_path(dir, "crypto/ordererOrganizations/example.com/orderers/"
                                     "orderer0.example.com/msp"),
                       "OrdererMSP", &err, &orderer) < 0 ||
        lc_signer_load(dir_path(dir, "crypto/peerOrganizations/org1.example.com/users/"
                                     "User1@org1.example.com/msp"),
                       "Org1MSP", &err, &client) < 0)
        die("signers", err.msg);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int vthreads = (int)(o.workers < cores ? o.workers : cores);
    printf("bench_orderer: %ld envelopes per run, %ld streams, %ld workers, 1 rpc thread, "
           "fsync %s, %ld cores\n",
           o.envelopes, o.streams, o.workers, o.fsync ? "every block" : "none", cores);
    printf("%-6s %-6s %12s %8s %14s %14s %7s\n", "env", "block", "env/s", "blocks", "verify/s(1)",
           "verify/s(w)", "ratio");

    const size_t sizes[2] = {1024, 4096};
    const int counts[3] = {10, 100, 500};
    size_t glen[3];
    uint8_t *g[3];
    char chan[3][32];
    for (int c = 0; c < 3; c++) {
        snprintf(chan[c], sizeof chan[c], "bench%d", counts[c]);
        g[c] = genesis(dir, counts[c], chan[c], &glen[c]);
    }
    for (int si = 0; si < 2; si++) {
        for (int c = 0; c < 3; c++) {
            Common__Envelope **envs = calloc((size_t)o.envelopes, sizeof *envs);
            if (!envs)
                die("envelopes", "out of memory");
            for (long i = 0; i < o.envelopes; i++)
                envs[i] = envelope(client, chan[c], sizes[si]);
            const struct lc_pubkey *pub = lc_cert_pubkey(lc_signer_cert(client));
            verify_rate(pub, envs, o.envelopes < 500 ? o.envelopes : 500, 1); /* warm up */
            double v1 = verify_rate(pub, envs, o.envelopes, 1);
            double vw = verify_rate(pub, envs, o.envelopes, vthreads);
            /* a fresh data dir (and so block store) per run */
            char id[128];
            snprintf(id, sizeof id, "%s-%zu", chan[c], sizes[si]);
            struct result r = run_one(dir, id, g[c], glen[c], orderer, envs, o.envelopes, &o);
            printf("%-6zu %-6d %12.0f %8llu %14.0f %14.0f %7.2f\n", sizes[si], counts[c], r.rate,
                   (unsigned long long)r.blocks, v1, vw, r.rate / vw);
            fflush(stdout);
            for (long i = 0; i < o.envelopes; i++)
                common__envelope__free_unpacked(envs[i], NULL);
            free(envs);
        }
    }
    printf("verify/s(1): one thread; verify/s(w): %d threads (min of workers and cores), the "
           "bound the ratio is taken against; goal: ratio >= 0.6 at 100-tx blocks\n",
           vthreads);
    for (int c = 0; c < 3; c++)
        free(g[c]);
    lc_signer_free(orderer);
    lc_signer_free(client);
    const char *rm[] = {"/bin/rm", "-rf", dir, NULL};
    pid_t pid;
    if (posix_spawn(&pid, "/bin/rm", NULL, NULL, (char *const *)rm, environ) == 0)
        waitpid(pid, NULL, 0);
    return 0;
}
