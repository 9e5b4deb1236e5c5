/* SPDX-License-Identifier: Apache-2.0 */
/* weft committer: flags and environment, start, signals, stop. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "libcommon/conf.h"
#include "libcommon/crypto.h"
#include "libcommon/log.h"
#include "libcommon/msp.h"
#include "libcommon/rpc.h"
#include "libcommon/wire.h"

#include "committer.h"
#include "intake.h"
#include "server.h"

#define MAX_ORDERERS 16
#define MAX_GENESIS_BYTES (256u << 20)
#define SHUTDOWN_GRACE_MS 5000

static const struct lc_conf_setting settings[] = {
    {.name = "listen",
     .type = LC_CONF_ADDR,
     .def = "0.0.0.0:7055",
     .help = "Address to serve weft.Committer (committed blocks, height) on; port 0 picks one."},
    {.name = "msp-dir",
     .type = LC_CONF_PATH,
     .required = true,
     .help = "The committer's signing MSP directory (signs its Deliver requests)."},
    {.name = "mspid", .type = LC_CONF_STRING, .required = true, .help = "The committer's MSP id."},
    {.name = "genesis",
     .type = LC_CONF_PATH,
     .required = true,
     .help = "The channel's genesis block."},
    {.name = "data-dir",
     .type = LC_CONF_PATH,
     .required = true,
     .help = "Directory of the ledger (blocks and world state in one LMDB environment)."},
    {.name = "orderer",
     .type = LC_CONF_STRING,
     .required = true,
     .help = "An orderer to pull blocks from (host:port); repeat the flag, or separate with "
             "commas, for more."},
    {.name = "workers",
     .type = LC_CONF_INT,
     .def = "2",
     .min = 1,
     .max = 256,
     .help = "Threads that check signatures and endorsement policies of a block's transactions."},
    {.name = "sync",
     .type = LC_CONF_BOOL,
     .def = "true",
     .help = "Sync every commit to disk (off only for tests)."},
};

static const struct lc_conf_def conf_def = {
    .service = "committer",
    .summary = "Validates the channel's blocks in Fabric's order and commits them with their "
               "transaction filter, the TxID index and the world state.",
    .settings = settings,
    .n_settings = sizeof settings / sizeof settings[0],
};

/* lc_conf keeps the last --orderer; take every one, each possibly a comma-separated list,
 * splitting into buf. */
static size_t orderer_list(int argc, char **argv, const char *fallback, char *buf, size_t cap,
                           const char **out)
{
    size_t n = 0, used = 0;
    const char *vals[MAX_ORDERERS];
    size_t nv = 0;
    for (int i = 1; i < argc && nv < MAX_ORDERERS; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "--orderer") == 0 && i + 1 < argc)
            vals[nv++] = argv[++i];
        else if (strncmp(argv[i], "--orderer=", 10) == 0)
            vals[nv++] = argv[i] + 10;
    }
    if (nv == 0)
        vals[nv++] = fallback;
    for (size_t i = 0; i < nv; i++) {
        size_t len = strlen(vals[i]);
        if (used + len + 1 > cap)
            break;
        char *s = memcpy(buf + used, vals[i], len + 1);
        used += len + 1;
        char *save = NULL;
        for (char *t = strtok_r(s, ",", &save); t && n < MAX_ORDERERS;
             t = strtok_r(NULL, ",", &save))
            out[n++] = t;
    }
    return n;
}

static int load_genesis(const char *path, struct lc_errbuf *err, Common__Block **ret)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return lc_fail(err, -errno, "genesis %s: cannot open", path);
    uint8_t *buf = malloc(MAX_GENESIS_BYTES);
    size_t len = buf ? fread(buf, 1, MAX_GENESIS_BYTES, f) : 0;
    fclose(f);
    if (!buf)
        return -ENOMEM;
    int r = lc_wire_unpack(&common__block__descriptor, buf, len, (ProtobufCMessage **)ret, err);
    free(buf);
    if (r < 0)
        lc_errbuf_prefix(err, "genesis %s: ", path);
    return r;
}

int main(int argc, char **argv)
{
    struct lc_conf *conf = NULL;
    struct lc_signer *signer = NULL;
    Common__Block *genesis = NULL;
    struct committer *c = NULL;
    struct committer_server *srv = NULL;
    struct committer_intake *in = NULL;
    struct lc_errbuf err = {{0}};
    int status = 1;
    if (lc_rpc_block_signals() < 0) {
        fprintf(stderr, "committer: cannot block signals\n");
        return 1;
    }
    if (lc_conf_new(&conf_def, &conf, &err) < 0) {
        fprintf(stderr, "committer: %s\n", err.msg);
        return 1;
    }
    if (lc_conf_parse(conf, argc, argv, NULL, &err) < 0) {
        fprintf(stderr, "committer: %s\n", err.msg);
        status = 2;
        goto out;
    }
    if (lc_conf_help_requested(conf) != LC_CONF_HELP_NONE) {
        status = lc_conf_write_help(conf, lc_conf_help_requested(conf), stdout) < 0;
        goto out;
    }
    if (lc_crypto_init() < 0) {
        lc_log_err("committer", "start failed cause=\"crypto library did not initialise\"");
        goto out;
    }
    char obuf[4096];
    const char *orderers[MAX_ORDERERS];
    size_t n_orderers =
        orderer_list(argc, argv, lc_conf_str(conf, "orderer"), obuf, sizeof obuf, orderers);
    if (lc_signer_load(lc_conf_str(conf, "msp-dir"), lc_conf_str(conf, "mspid"), &err, &signer) <
            0 ||
        load_genesis(lc_conf_str(conf, "genesis"), &err, &genesis) < 0) {
        lc_log_err("committer", "start failed cause=\"%s\"", err.msg);
        goto out;
    }
    struct committer_opts co = {
        .data_dir = lc_conf_str(conf, "data-dir"),
        .workers = (unsigned)lc_conf_int(conf, "workers"),
        .nosync = !lc_conf_bool(conf, "sync"),
    };
    if (committer_new(&co, genesis, &err, &c) < 0) {
        lc_log_err("committer", "start failed cause=\"%s\"", err.msg);
        goto out;
    }
    const char *host = lc_conf_addr_host(conf, "listen");
    char listen[300];
    snprintf(listen, sizeof listen, "%s:%u", *host ? host : "0.0.0.0",
             lc_conf_addr_port(conf, "listen"));
    if (committer_server_start(c, listen, &err, &srv) < 0 ||
        committer_intake_start(c, orderers, n_orderers, signer, &err, &in) < 0) {
        lc_log_err("committer", "start failed cause=\"%s\"", err.msg);
        goto out;
    }
    lc_log_info("committer", "committer listening address=%s:%d channel=%s height=%llu",
                *host ? host : "0.0.0.0", committer_server_port(srv), committer_channel(c),
                (unsigned long long)committer_height(c));
    int sig = lc_rpc_wait_signal();
    lc_log_info("committer", "stopping signal=%d", sig);
    status = 0;
out:
    committer_intake_stop(in);
    committer_server_free(srv, SHUTDOWN_GRACE_MS);
    committer_free(c);
    lc_wire_block_free(genesis);
    lc_signer_free(signer);
    lc_conf_free(conf);
    return status;
}
