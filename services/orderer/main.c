/* SPDX-License-Identifier: Apache-2.0 */
/* The orderer daemon: flags and environment, channels from genesis blocks, serving, signals. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "libcommon/wire.h"
#include "libcommon/blockstore.h"
#include "libcommon/conf.h"
#include "libcommon/crypto.h"
#include "libcommon/log.h"
#include "libcommon/msp.h"
#include "libcommon/rpc.h"

#include "chain.h"
#include "pool.h"
#include "registrar.h"
#include "service.h"

#define LOG "orderer"
#define MAX_GENESIS_BYTES ((size_t)256 << 20)
#define MAX_CHANNELS 1024
#define SHUTDOWN_GRACE_MS 1000

static const char *const fsync_choices[] = {"every", "none", NULL};

static const struct lc_conf_setting settings[] = {
    {"listen", NULL, LC_CONF_ADDR, "0.0.0.0:7050", false, 0, 0, NULL,
     "Address to serve orderer.AtomicBroadcast on (host:port; port 0 picks a free one)."},
    {"msp-dir", NULL, LC_CONF_PATH, NULL, true, 0, 0, NULL,
     "The orderer's local MSP directory (signcerts/, keystore/): the identity that signs "
     "blocks."},
    {"mspid", NULL, LC_CONF_STRING, NULL, true, 0, 0, NULL, "MSP id of that identity."},
    {"genesis", NULL, LC_CONF_STRING, NULL, false, 0, 0, NULL,
     "Genesis block file of a channel to serve. Repeat the flag, or separate files with commas, "
     "for several channels."},
    {"genesis-dir", NULL, LC_CONF_PATH, NULL, false, 0, 0, NULL,
     "A directory of genesis blocks, one channel per file (files starting with '.' are "
     "skipped)."},
    {"data-dir", NULL, LC_CONF_PATH, NULL, true, 0, 0, NULL,
     "Where the block stores live, one directory per channel. A channel found here is served "
     "even when its genesis block is not given again."},
    {"workers", NULL, LC_CONF_INT, "2", false, 1, 64, NULL,
     "Threads that check envelopes (signature verification) and read blocks for streams."},
    {"rpc-threads", NULL, LC_CONF_INT, "1", false, 1, 64, NULL, "gRPC server threads."},
    {"fsync", NULL, LC_CONF_ENUM, "every", false, 0, 0, fsync_choices,
     "every: each block is fdatasync'ed before Deliver may serve it; none: never synced (tests "
     "and throwaway networks only)."},
    {"time-window", NULL, LC_CONF_DURATION, "15m", false, 1000, 7 * 24 * 3600 * 1000LL, NULL,
     "Deliver: how far a SeekInfo's timestamp may be from this orderer's clock."},
    {"max-msg-size", NULL, LC_CONF_SIZE, "100MiB", false, 4096, INT32_MAX, NULL,
     "Largest gRPC message received or sent."},
    {"queue-size", NULL, LC_CONF_INT, "1000", false, 1, 1000000, NULL,
     "Envelopes per channel accepted (SUCCESS) and not yet cut into a block; Broadcast streams "
     "wait while it is full."},
};

static const struct lc_conf_def conf_def = {
    .service = "orderer",
    .program = "orderer",
    .summary = "Orders envelopes into signed blocks (solo) and serves them: "
               "orderer.AtomicBroadcast Broadcast and Deliver.",
    .settings = settings,
    .n_settings = sizeof settings / sizeof settings[0],
};

/* The genesis block files named on the command line: every --genesis, each maybe a comma list.
 * lc_conf keeps only the last occurrence of a flag, so the list is gathered here. */
struct paths {
    char **v;
    size_t n;
};

static int paths_add_list(struct paths *p, const char *list)
{
    char *copy = strdup(list), *save = NULL;
    if (!copy)
        return -ENOMEM;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (!*t)
            continue;
        char **v = realloc(p->v, (p->n + 1) * sizeof *v);
        if (!v || !(v[p->n] = strdup(t))) {
            p->v = v ? v : p->v;
            free(copy);
            return -ENOMEM;
        }
        p->v = v;
        p->n++;
    }
    free(copy);
    return 0;
}

static void paths_done(struct paths *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->v[i]);
    free(p->v);
}

static int gather_genesis_flags(int argc, char *argv[], struct paths *p)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0)
            break;
        const char *val = NULL;
        if (strncmp(a, "--genesis=", 10) == 0)
            val = a + 10;
        else if (strcmp(a, "--genesis") == 0 && i + 1 < argc)
            val = argv[++i];
        if (val && paths_add_list(p, val) < 0)
            return -ENOMEM;
    }
    return 0;
}

static int read_file(const char *path, uint8_t **ret, size_t *ret_len, struct lc_errbuf *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return lc_fail(err, -errno, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    int r = 0;
    uint8_t *buf = NULL;
    if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
        r = lc_fail(err, -EINVAL, "%s is not a regular file", path);
        goto out;
    }
    if ((uintmax_t)st.st_size > MAX_GENESIS_BYTES) {
        r = lc_fail(err, LC_ETOOBIG, "%s is larger than %zu bytes", path, MAX_GENESIS_BYTES);
        goto out;
    }
    size_t len = (size_t)st.st_size;
    buf = malloc(len ? len : 1);
    if (!buf) {
        r = lc_fail(err, -ENOMEM, "out of memory");
        goto out;
    }
    if (fread(buf, 1, len, f) != len) {
        r = lc_fail(err, -EIO, "cannot read %s", path);
        goto out;
    }
    *ret = buf;
    *ret_len = len;
    buf = NULL;
out:
    free(buf);
    fclose(f);
    return r;
}

/* Every regular, non-hidden file in dir, sorted by name. */
static int list_dir(const char *dir, bool want_dirs, struct paths *p, struct lc_errbuf *err)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, alphasort);
    if (n < 0)
        return lc_fail(err, -errno, "cannot read directory %s: %s", dir, strerror(errno));
    int r = 0;
    for (int i = 0; i < n; i++) {
        char *full = NULL;
        struct stat st;
        if (r == 0 && names[i]->d_name[0] != '.' &&
            asprintf(&full, "%s/%s", dir, names[i]->d_name) >= 0 && stat(full, &st) == 0 &&
            (want_dirs ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode))) {
            if (paths_add_list(p, full) < 0)
                r = lc_fail(err, -ENOMEM, "out of memory");
        }
        free(full);
        free(names[i]);
    }
    free(names);
    return r;
}

/* Opens the chain of one genesis block and registers it; an already served channel is fine
 * when it comes from the data dir (its store's block 0). */
static int add_chain(struct orderer_registrar *reg, const uint8_t *g, size_t len, const char *from,
                     bool from_store, const struct orderer_chain_opts *o, struct lc_errbuf *err)
{
    char id[256];
    int r = orderer_chain_peek_id(g, len, id, sizeof id, err);
    if (r < 0) {
        lc_errbuf_prefix(err, "%s: ", from);
        return r;
    }
    if (orderer_registrar_get(reg, id)) {
        if (from_store)
            return 0;
        return lc_fail(err, LC_EEXISTS, "%s: channel %s is given twice", from, id);
    }
    if (orderer_registrar_count(reg) >= MAX_CHANNELS)
        return lc_fail(err, LC_ETOOBIG, "more than %d channels", MAX_CHANNELS);
    struct orderer_chain *chain = NULL;
    r = orderer_chain_open(g, len, o, &chain, err);
    if (r < 0) {
        lc_errbuf_prefix(err, "%s: ", from);
        return r;
    }
    r = orderer_registrar_add(reg, chain, err);
    if (r < 0)
        orderer_chain_free(chain);
    return r;
}

static int add_from_file(struct orderer_registrar *reg, const char *path,
                         const struct orderer_chain_opts *o, struct lc_errbuf *err)
{
    uint8_t *g = NULL;
    size_t len = 0;
    int r = read_file(path, &g, &len, err);
    if (r == 0)
        r = add_chain(reg, g, len, path, false, o, err);
    free(g);
    return r;
}

/* A channel directory under the data dir: its block 0 is the genesis block. */
static int add_from_store(struct orderer_registrar *reg, const char *dir,
                          const struct orderer_chain_opts *o, struct lc_errbuf *err)
{
    char *dat = NULL;
    struct stat st;
    if (asprintf(&dat, "%s/blocks.dat", dir) < 0)
        return lc_fail(err, -ENOMEM, "out of memory");
    bool is_store = stat(dat, &st) == 0;
    free(dat);
    if (!is_store)
        return 0;
    const char *base = strrchr(dir, '/');
    base = base ? base + 1 : dir;
    if (orderer_registrar_get(reg, base))
        return 0;
    struct lc_blockstore *bs = NULL;
    struct lc_blockstore_options bo = {.sync = o->sync};
    uint8_t *g = NULL;
    size_t len = 0;
    int r = lc_blockstore_open(dir, &bo, &bs, err);
    if (r == 0 && lc_blockstore_height(bs) == 0)
        r = 1; /* an empty store: nothing to serve */
    if (r == 0)
        r = lc_blockstore_get(bs, 0, &g, &len, err);
    lc_blockstore_close(bs);
    if (r == 0)
        r = add_chain(reg, g, len, dir, true, o, err);
    else if (r < 0)
        lc_errbuf_prefix(err, "block store %s: ", dir);
    free(g);
    return r < 0 ? r : 0;
}

static int open_channels(struct lc_conf *conf, int argc, char *argv[],
                         struct orderer_registrar *reg, const struct orderer_chain_opts *o,
                         struct lc_errbuf *err)
{
    struct paths files = {0}, dirs = {0};
    int r = gather_genesis_flags(argc, argv, &files);
    if (r == 0 && files.n == 0 && lc_conf_is_set(conf, "genesis"))
        r = paths_add_list(&files, lc_conf_str(conf, "genesis")); /* from the environment */
    if (r < 0) {
        r = lc_fail(err, r, "out of memory");
        goto out;
    }
    if (lc_conf_is_set(conf, "genesis-dir")) {
        r = list_dir(lc_conf_str(conf, "genesis-dir"), false, &files, err);
        if (r < 0)
            goto out;
    }
    for (size_t i = 0; i < files.n && r == 0; i++)
        r = add_from_file(reg, files.v[i], o, err);
    if (r < 0)
        goto out;
    r = list_dir(o->data_dir, true, &dirs, err);
    for (size_t i = 0; i < dirs.n && r == 0; i++)
        r = add_from_store(reg, dirs.v[i], o, err);
    if (r == 0 && orderer_registrar_count(reg) == 0)
        r = lc_fail(err, LC_EINVALID,
                    "no channels to serve: give --genesis FILE or --genesis-dir DIR, or a "
                    "--data-dir holding block stores");
out:
    paths_done(&files);
    paths_done(&dirs);
    return r;
}

static int ensure_dir(const char *dir, struct lc_errbuf *err)
{
    if (mkdir(dir, 0750) < 0 && errno != EEXIST)
        return lc_fail(err, -errno, "cannot create data dir %s: %s", dir, strerror(errno));
    struct stat st;
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
        return lc_fail(err, -ENOTDIR, "data dir %s is not a directory", dir);
    return 0;
}

int main(int argc, char *argv[])
{
    struct lc_errbuf err = {{0}};
    struct lc_conf *conf = NULL;
    struct lc_signer *signer = NULL;
    struct orderer_registrar *reg = NULL;
    struct orderer_pool *pool = NULL;
    struct lc_rpc_server *srv = NULL;
    int status = 1;
    lc_wire_tune_malloc();

    if (lc_rpc_block_signals() < 0) {
        fprintf(stderr, "orderer: cannot block signals\n");
        return 1;
    }
    if (lc_conf_new(&conf_def, &conf, &err) < 0 ||
        lc_conf_parse(conf, argc, argv, NULL, &err) < 0) {
        fprintf(stderr, "orderer: %s\n", err.msg);
        fprintf(stderr, "Try 'orderer --help'.\n");
        lc_conf_free(conf);
        return 2;
    }
    enum lc_conf_help help = lc_conf_help_requested(conf);
    if (help != LC_CONF_HELP_NONE) {
        status = lc_conf_write_help(conf, help, stdout) < 0;
        lc_conf_free(conf);
        return status;
    }
    if (lc_crypto_init() < 0) {
        lc_log_err(LOG, "crypto library did not initialise");
        goto out;
    }
    if (lc_signer_load(lc_conf_str(conf, "msp-dir"), lc_conf_str(conf, "mspid"), &err, &signer) <
        0) {
        lc_log_err(LOG, "cannot load the signing identity cause=\"%s\"", err.msg);
        goto out;
    }
    const char *data_dir = lc_conf_str(conf, "data-dir");
    if (ensure_dir(data_dir, &err) < 0) {
        lc_log_err(LOG, "%s", err.msg);
        goto out;
    }
    struct orderer_chain_opts co = {
        .data_dir = data_dir,
        .sync = lc_conf_enum_index(conf, "fsync") == 1 ? LC_BLOCKSTORE_SYNC_NONE
                                                       : LC_BLOCKSTORE_SYNC_EVERY,
        .signer = signer,
        .queue_msgs = (size_t)lc_conf_int(conf, "queue-size"),
    };
    if (orderer_registrar_new(&reg) < 0) {
        lc_log_err(LOG, "out of memory");
        goto out;
    }
    if (open_channels(conf, argc, argv, reg, &co, &err) < 0) {
        lc_log_err(LOG, "refusing to start cause=\"%s\"", err.msg);
        goto out;
    }
    if (orderer_pool_new((unsigned)lc_conf_int(conf, "workers"), &pool, &err) < 0) {
        lc_log_err(LOG, "%s", err.msg);
        goto out;
    }
    for (size_t i = 0; i < orderer_registrar_count(reg); i++) {
        if (orderer_chain_start(orderer_registrar_at(reg, i), &err) < 0) {
            lc_log_err(LOG, "cannot start channel %s cause=\"%s\"",
                       orderer_chain_id(orderer_registrar_at(reg, i)), err.msg);
            goto out;
        }
    }

    const char *host = lc_conf_addr_host(conf, "listen");
    char listen[600];
    if (!host || !*host)
        host = "0.0.0.0";
    snprintf(listen, sizeof listen, strchr(host, ':') ? "[%s]:%u" : "%s:%u", host,
             (unsigned)lc_conf_addr_port(conf, "listen"));
    size_t max_msg = (size_t)lc_conf_size(conf, "max-msg-size");
    struct lc_rpc_server_opts so = {
        .listen = listen,
        .threads = (unsigned)lc_conf_int(conf, "rpc-threads"),
        .max_recv_bytes = max_msg,
        .max_send_bytes = max_msg,
    };
    struct orderer_service svc = {
        .reg = reg,
        .pool = pool,
        .time_window_ms = lc_conf_duration_ms(conf, "time-window"),
    };
    if (lc_rpc_server_new(&so, &err, &srv) < 0 || orderer_service_register(srv, &svc, &err) < 0 ||
        lc_rpc_server_start(srv, &err) < 0) {
        lc_log_err(LOG, "cannot serve address=%s cause=\"%s\"", listen, err.msg);
        goto out;
    }
    char channels[512] = "";
    size_t cl = 0;
    for (size_t i = 0; i < orderer_registrar_count(reg) && cl < sizeof channels; i++)
        cl += (size_t)snprintf(channels + cl, sizeof channels - cl, "%s%s", i ? "," : "",
                               orderer_chain_id(orderer_registrar_at(reg, i)));
    snprintf(listen, sizeof listen, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host,
             lc_rpc_server_port(srv));
    lc_log_info(LOG, "orderer listening address=%s channels=%s mspid=%s fsync=%s", listen, channels,
                lc_conf_str(conf, "mspid"), lc_conf_enum(conf, "fsync"));

    int sig = lc_rpc_wait_signal();
    lc_log_info(LOG, "orderer stopping signal=%d", sig);
    status = 0;
out:
    /* Streams end first (their tasks drain on the pool), then the chains order what they
     * accepted and stop. */
    if (srv)
        lc_rpc_server_shutdown(srv, SHUTDOWN_GRACE_MS);
    orderer_pool_free(pool);
    lc_rpc_server_free(srv);
    orderer_registrar_free(reg);
    lc_signer_free(signer);
    lc_conf_free(conf);
    if (status == 0)
        lc_log_info(LOG, "orderer stopped");
    return status;
}
