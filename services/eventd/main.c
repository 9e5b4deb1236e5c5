/* SPDX-License-Identifier: Apache-2.0 */
/* weft eventd: flags and environment, start, signals, stop. */
#include <stdio.h>

#include "client/client.h"
#include "libcommon/chconf.h"
#include "libcommon/conf.h"
#include "libcommon/crypto.h"
#include "libcommon/log.h"
#include "libcommon/rpc.h"

#include "eventd.h"

#define SHUTDOWN_GRACE_MS 2000

static const struct lc_conf_setting settings[] = {
    {.name = "listen",
     .type = LC_CONF_ADDR,
     .def = "0.0.0.0:7053",
     .help = "Address to serve protos.Deliver (Deliver, DeliverFiltered) on; port 0 picks one."},
    {.name = "committer",
     .type = LC_CONF_STRING,
     .required = true,
     .help = "The committer (weft.Committer, host:port) whose committed blocks are served."},
    {.name = "genesis",
     .type = LC_CONF_PATH,
     .required = true,
     .help = "The channel's genesis block (MSPs and the Readers policy)."},
    {.name = "cache-blocks",
     .type = LC_CONF_INT,
     .def = "256",
     .min = 1,
     .max = 1000000,
     .help = "Recent blocks kept in memory from the one shared committer stream; older blocks "
             "are read with a stream of their own."},
    {.name = "time-window",
     .type = LC_CONF_DURATION,
     .def = "15m",
     .help = "How far a request's timestamp may be from now."},
};

static const struct lc_conf_def conf_def = {
    .service = "eventd",
    .summary = "Serves the channel's committed blocks, whole or filtered, to event listeners "
               "(Fabric's peer Deliver service).",
    .settings = settings,
    .n_settings = sizeof settings / sizeof settings[0],
};

int main(int argc, char **argv)
{
    struct lc_conf *conf = NULL;
    struct lc_chconf *chconf = NULL;
    struct lc_rpc_server *rpc = NULL;
    struct eventd *ed = NULL;
    struct lc_errbuf err = {{0}};
    int status = 1;
    if (lc_rpc_block_signals() < 0) {
        fprintf(stderr, "eventd: cannot block signals\n");
        return 1;
    }
    if (lc_conf_new(&conf_def, &conf, &err) < 0) {
        fprintf(stderr, "eventd: %s\n", err.msg);
        return 1;
    }
    if (lc_conf_parse(conf, argc, argv, NULL, &err) < 0) {
        fprintf(stderr, "eventd: %s\n", err.msg);
        status = 2;
        goto out;
    }
    if (lc_conf_help_requested(conf) != LC_CONF_HELP_NONE) {
        status = lc_conf_write_help(conf, lc_conf_help_requested(conf), stdout) < 0;
        goto out;
    }
    if (lc_crypto_init() < 0) {
        lc_log_err("eventd", "start failed cause=\"crypto library did not initialise\"");
        goto out;
    }
    if (wc_chconf_load(lc_conf_str(conf, "genesis"), &err, &chconf) < 0) {
        lc_log_err("eventd", "start failed cause=\"%s\"", err.msg);
        goto out;
    }
    const char *host = lc_conf_addr_host(conf, "listen");
    char listen[300];
    snprintf(listen, sizeof listen, "%s:%u", *host ? host : "0.0.0.0",
             lc_conf_addr_port(conf, "listen"));
    struct lc_rpc_server_opts so = {.listen = listen, .threads = 2};
    struct eventd_opts eo = {.chconf = chconf,
                             .committer = lc_conf_str(conf, "committer"),
                             .time_window_ms = lc_conf_duration_ms(conf, "time-window"),
                             .cache_blocks = (size_t)lc_conf_int(conf, "cache-blocks")};
    if (lc_rpc_server_new(&so, &err, &rpc) < 0 || eventd_new(&eo, rpc, &err, &ed) < 0 ||
        lc_rpc_server_start(rpc, &err) < 0) {
        lc_log_err("eventd", "start failed cause=\"%s\"", err.msg);
        goto out;
    }
    lc_log_info("eventd", "eventd listening address=%s:%d channel=%s committer=%s",
                *host ? host : "0.0.0.0", lc_rpc_server_port(rpc), lc_chconf_channel_id(chconf),
                lc_conf_str(conf, "committer"));
    int sig = lc_rpc_wait_signal();
    lc_log_info("eventd", "stopping signal=%d", sig);
    status = 0;
out:
    if (rpc)
        lc_rpc_server_shutdown(rpc, SHUTDOWN_GRACE_MS);
    eventd_free(ed);
    lc_rpc_server_free(rpc);
    lc_chconf_free(chconf);
    lc_conf_free(conf);
    return status;
}
