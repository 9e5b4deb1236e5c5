/* SPDX-License-Identifier: Apache-2.0 */
/* weft endorser: flags and environment, start, signals, stop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libcommon/conf.h"
#include "libcommon/crypto.h"
#include "libcommon/log.h"
#include "libcommon/rpc.h"
#include "libcommon/wire.h"
#include "services/endorser/endorser.h"
#include "services/endorser/replica.h"
#include "services/endorser/server.h"

#define MAX_GENESIS 64
#define MAX_COMMITTERS 16
#define SHUTDOWN_GRACE_MS 5000

static const struct lc_conf_setting settings[] = {
    {.name = "listen",
     .type = LC_CONF_ADDR,
     .def = "0.0.0.0:7051",
     .help = "Address to serve protos.Endorser on (port 0 picks a free port)."},
    {.name = "msp-dir",
     .type = LC_CONF_PATH,
     .required = true,
     .help = "The endorser's signing MSP directory (signcerts/, keystore/), in Fabric's layout."},
    {.name = "mspid", .type = LC_CONF_STRING, .required = true, .help = "The endorser's MSP id."},
    {.name = "genesis",
     .type = LC_CONF_PATH,
     .required = true,
     .help = "A channel's genesis block, or a directory of them; repeat the flag for more "
             "channels."},
    {.name = "state-dir",
     .type = LC_CONF_PATH,
     .required = true,
     .help = "Directory of the world-state replicas (one LMDB per channel); locked while in use."},
    {.name = "committer",
     .type = LC_CONF_STRING,
     .def = "",
     .help = "Committers (host:port[,host:port...], or the flag repeated) whose committed-block "
             "feed this endorser's state replicas follow, in failover order; empty: the replicas "
             "stay at their genesis state."},
    {.name = "workers",
     .type = LC_CONF_INT,
     .def = "2",
     .min = 1,
     .max = 64,
     .help = "Threads that check, simulate and sign proposals."},
    {.name = "rpc-threads",
     .type = LC_CONF_INT,
     .def = "1",
     .min = 1,
     .max = 64,
     .help = "gRPC server threads."},
    {.name = "queue",
     .type = LC_CONF_INT,
     .def = "1024",
     .min = 1,
     .max = 1000000,
     .help = "Proposals waiting for a worker; beyond it callers get UNAVAILABLE."},
    {.name = "max-args-bytes",
     .type = LC_CONF_SIZE,
     .def = "1MiB",
     .min = 1,
     .max = 1LL << 31,
     .help = "Largest total size of a proposal's chaincode args."},
    {.name = "max-msg-size",
     .type = LC_CONF_SIZE,
     .def = "100MiB",
     .min = 64 * 1024,
     .max = 0x7fffffff,
     .help = "Largest gRPC message either way (and so the largest response)."},
    {.name = "identity-cache",
     .type = LC_CONF_INT,
     .def = "1024",
     .min = 0,
     .max = 1000000,
     .help = "Validated identities cached per channel."},
    {.name = "chaincodes",
     .type = LC_CONF_STRING,
     .def = "",
     .help = "Chaincode names served by a module of another name, as name=module,... (modules: "
             "example02, kv, asset); other names use the module of their own name."},
    {.name = "state-map-size",
     .type = LC_CONF_SIZE,
     .def = "1GiB",
     .min = 1 << 20,
     .max = 1LL << 40,
     .help = "Initial LMDB map size of each replica (it grows up to 64 GiB)."},
    {.name = "state-sync",
     .type = LC_CONF_BOOL,
     .def = "true",
     .help = "Sync replica commits to disk (off for tests: the replica is disposable)."},
};

static const struct lc_conf_def conf_def = {
    .service = "endorser",
    .summary = "Serves protos.Endorser/ProcessProposal: checks proposals, simulates chaincode on "
               "a world-state replica and signs the read-write set, wire-compatible with Fabric.",
    .settings = settings,
    .n_settings = sizeof settings / sizeof settings[0],
};

/* lc_conf keeps the last --genesis; the endorser takes every one, in order. */
static size_t genesis_flags(int argc, char **argv, const char **out, size_t max)
{
    size_t n = 0;
    for (int i = 1; i < argc && n < max; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "--genesis") == 0 && i + 1 < argc)
            out[n++] = argv[++i];
        else if (strncmp(argv[i], "--genesis=", 10) == 0)
            out[n++] = argv[i] + 10;
    }
    return n;
}

/* Every --committer flag, joined with commas into buf (cap bytes); lc_conf keeps only the last.
 * Returns how many flags there were (0: take the setting, which may come from the environment). */
static size_t committer_flags(int argc, char **argv, char *buf, size_t cap)
{
    size_t n = 0, len = 0;
    buf[0] = 0;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "--committer") == 0 && i + 1 < argc)
            v = argv[++i];
        else if (strncmp(argv[i], "--committer=", 12) == 0)
            v = argv[i] + 12;
        if (!v)
            continue;
        int w = snprintf(buf + len, cap - len, "%s%s", n ? "," : "", v);
        if (w < 0 || (size_t)w >= cap - len)
            break;
        len += (size_t)w;
        n++;
    }
    return n;
}

int main(int argc, char **argv)
{
    struct lc_conf *conf = NULL;
    struct endorser *e = NULL;
    struct endorser_server *srv = NULL;
    struct lc_errbuf err = {{0}};
    int status = 1;
    lc_wire_tune_malloc();
    if (lc_rpc_block_signals() < 0) {
        fprintf(stderr, "endorser: cannot block signals\n");
        return 1;
    }
    if (lc_conf_new(&conf_def, &conf, &err) < 0) {
        fprintf(stderr, "endorser: %s\n", err.msg);
        return 1;
    }
    if (lc_conf_parse(conf, argc, argv, NULL, &err) < 0) {
        fprintf(stderr, "endorser: %s\n", err.msg);
        status = 2;
        goto out;
    }
    if (lc_conf_help_requested(conf) != LC_CONF_HELP_NONE) {
        status = lc_conf_write_help(conf, lc_conf_help_requested(conf), stdout) < 0;
        goto out;
    }
    if (lc_crypto_init() < 0) {
        lc_log_err("endorser", "start failed cause=\"crypto library did not initialise\"");
        goto out;
    }
    const char *genesis[MAX_GENESIS];
    size_t n_genesis = genesis_flags(argc, argv, genesis, MAX_GENESIS);
    if (n_genesis <= 1) {
        genesis[0] = lc_conf_str(conf, "genesis");
        n_genesis = 1;
    }
    struct endorser_options eo = {
        .msp_dir = lc_conf_str(conf, "msp-dir"),
        .mspid = lc_conf_str(conf, "mspid"),
        .genesis = genesis,
        .n_genesis = n_genesis,
        .state_dir = lc_conf_str(conf, "state-dir"),
        .max_args_bytes = lc_conf_size(conf, "max-args-bytes"),
        .max_msg_bytes = lc_conf_size(conf, "max-msg-size"),
        .identity_cache = (size_t)lc_conf_int(conf, "identity-cache"),
        .chaincodes = lc_conf_str(conf, "chaincodes"),
        .state_map_size = lc_conf_size(conf, "state-map-size"),
        .state_nosync = !lc_conf_bool(conf, "state-sync"),
    };
    if (endorser_new(&eo, &err, &e) < 0) {
        lc_log_err("endorser", "start failed cause=\"%s\"", err.msg);
        goto out;
    }
    const char *host = lc_conf_addr_host(conf, "listen");
    char listen[300];
    snprintf(listen, sizeof listen, "%s:%u", *host ? host : "0.0.0.0",
             lc_conf_addr_port(conf, "listen"));
    struct endorser_server_opts so = {
        .listen = listen,
        .workers = (unsigned)lc_conf_int(conf, "workers"),
        .rpc_threads = (unsigned)lc_conf_int(conf, "rpc-threads"),
        .queue_max = (unsigned)lc_conf_int(conf, "queue"),
        .max_msg_bytes = lc_conf_size(conf, "max-msg-size"),
    };
    if (endorser_server_start(e, &so, &err, &srv) < 0) {
        lc_log_err("endorser", "start failed cause=\"%s\"", err.msg);
        goto out;
    }
    for (size_t i = 0; i < endorser_channel_count(e); i++)
        lc_log_info("endorser", "channel ready channel=%s", endorser_channel_id(e, i));
    lc_log_info("endorser", "endorser listening address=%s:%d mspid=%s workers=%u",
                *host ? host : "0.0.0.0", endorser_server_port(srv), eo.mspid, so.workers);
    /* Replica followers, one per channel, over the committers given (comma-separated). */
    char flags_buf[4096];
    char *committers_buf = strdup(committer_flags(argc, argv, flags_buf, sizeof flags_buf) > 1
                                      ? flags_buf
                                      : lc_conf_str(conf, "committer"));
    const char *committers[MAX_COMMITTERS];
    size_t n_committers = 0;
    for (char *save = NULL, *t = committers_buf ? strtok_r(committers_buf, ",", &save) : NULL;
         t && n_committers < MAX_COMMITTERS; t = strtok_r(NULL, ",", &save))
        committers[n_committers++] = t;
    struct endorser_replica *replicas[MAX_GENESIS] = {0};
    for (size_t i = 0; n_committers && i < endorser_channel_count(e) && i < MAX_GENESIS; i++) {
        const char *ch = endorser_channel_id(e, i);
        if (endorser_replica_start(endorser_channel_state(e, ch), ch, committers, n_committers,
                                   &err, &replicas[i]) < 0)
            lc_log_err("endorser", "replica not started channel=%s cause=\"%s\"", ch, err.msg);
    }
    int sig = lc_rpc_wait_signal();
    for (size_t i = 0; i < MAX_GENESIS; i++)
        endorser_replica_stop(replicas[i]);
    free(committers_buf);
    lc_log_info("endorser", "stopping signal=%d", sig);
    status = 0;
out:
    endorser_server_free(srv, SHUTDOWN_GRACE_MS);
    endorser_free(e);
    lc_conf_free(conf);
    if (srv)
        lc_log_info("endorser", "stopped");
    return status;
}
