/* SPDX-License-Identifier: Apache-2.0 */
/* `weft events`: read a channel's committed blocks from eventd and print each transaction's
 * validation code. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmds.h"
#include "client/client.h"
#include "libcommon/conf.h"
#include "libcommon/crypto.h"
#include "libcommon/msp.h"

static const struct lc_conf_setting events_settings[] = {
    {.name = "eventd",
     .env = "WEFT_CLIENT_EVENTD",
     .type = LC_CONF_STRING,
     .required = true,
     .help = "The event service (protos.Deliver), host:port."},
    {.name = "channel",
     .env = "WEFT_CLIENT_CHANNEL",
     .type = LC_CONF_STRING,
     .required = true,
     .help = "The channel ID."},
    {.name = "msp-dir",
     .env = "WEFT_CLIENT_MSP_DIR",
     .type = LC_CONF_PATH,
     .required = true,
     .help = "The user's MSP directory (signcerts/, keystore/): requests are signed."},
    {.name = "mspid",
     .env = "WEFT_CLIENT_MSPID",
     .type = LC_CONF_STRING,
     .required = true,
     .help = "The user's MSP ID."},
    {.name = "from",
     .type = LC_CONF_STRING,
     .def = "oldest",
     .help = "First block: oldest, newest or a block number."},
    {.name = "to",
     .type = LC_CONF_STRING,
     .def = "newest",
     .help = "Last block: newest, a block number (waits for it), or forever."},
    {.name = "full",
     .type = LC_CONF_BOOL,
     .def = "false",
     .help = "Ask for whole blocks (Deliver) instead of filtered blocks (DeliverFiltered)."},
    {.name = "filtered",
     .type = LC_CONF_BOOL,
     .def = "true",
     .help = "Ask for filtered blocks (the default; --full overrides)."},
    {.name = "timeout",
     .env = "WEFT_CLIENT_TIMEOUT",
     .type = LC_CONF_DURATION,
     .def = "30s",
     .min = 1,
     .max = 3600000,
     .help = "Longest wait for the next block (not with --to forever)."},
};

static const struct lc_conf_def events_def = {
    .service = "events",
    .program = "weft events",
    .summary = "Reads committed blocks of a channel from eventd with a signed request and prints "
               "a line per block: its number, then each transaction's TxID and validation code "
               "(VALID, MVCC_READ_CONFLICT, ...).",
    .settings = events_settings,
    .n_settings = sizeof events_settings / sizeof events_settings[0],
};

int weft_cmd_events(int argc, char **argv)
{
    struct lc_conf *conf = NULL;
    struct lc_errbuf err = {{0}};
    struct lc_signer *signer = NULL;
    struct wc_node *node = NULL;
    struct wc_events *e = NULL;
    int status = 1;
    if (lc_conf_new(&events_def, &conf, &err) < 0) {
        fprintf(stderr, "weft events: %s\n", err.msg);
        return 1;
    }
    if (lc_conf_parse(conf, argc, argv, NULL, &err) < 0) {
        fprintf(stderr, "weft events: %s\n", err.msg);
        status = 2;
        goto out;
    }
    if (lc_conf_help_requested(conf) != LC_CONF_HELP_NONE) {
        status = lc_conf_write_help(conf, lc_conf_help_requested(conf), stdout) < 0;
        goto out;
    }
    struct wc_seek seek = {0};
    if (weft_parse_seek_position("weft events", "from", lc_conf_str(conf, "from"), false,
                                 &seek.start, &seek.start_number) < 0 ||
        weft_parse_seek_position("weft events", "to", lc_conf_str(conf, "to"), true, &seek.stop,
                                 &seek.stop_number) < 0) {
        status = 2;
        goto out;
    }
    bool full = lc_conf_bool(conf, "full") || !lc_conf_bool(conf, "filtered");
    int timeout = seek.stop == WC_SEEK_FOREVER ? -1 : (int)lc_conf_duration_ms(conf, "timeout");
    struct wc_endpoint ep = {.name = lc_conf_str(conf, "eventd"),
                             .address = lc_conf_str(conf, "eventd")};
    if (lc_crypto_init() < 0) {
        fprintf(stderr, "weft events: the crypto library did not initialise\n");
        goto out;
    }
    if (lc_signer_load(lc_conf_str(conf, "msp-dir"), lc_conf_str(conf, "mspid"), &err, &signer) <
            0 ||
        wc_node_new(&ep, 0, &err, &node) < 0 ||
        wc_events_open(node, lc_conf_str(conf, "channel"), signer, &seek, !full, &err, &e) < 0) {
        fprintf(stderr, "weft events: %s\n", err.msg);
        goto out;
    }
    for (;;) {
        struct wc_event_block *b = NULL;
        int r = wc_events_next(e, timeout, &err, &b);
        if (r == 1)
            break;
        if (r < 0) {
            fprintf(stderr, "weft events: %s\n", err.msg);
            goto out;
        }
        printf("block %llu", (unsigned long long)b->number);
        for (size_t i = 0; i < b->n_txs; i++)
            printf(" %s %s", b->txs[i].txid[0] ? b->txs[i].txid : "-",
                   wc_tx_code_name(b->txs[i].code));
        printf("\n");
        wc_event_block_free(b);
        if (fflush(stdout) != 0) {
            fprintf(stderr, "weft events: writing stdout failed\n");
            goto out;
        }
    }
    status = 0;
out:
    wc_events_free(e);
    wc_node_free(node);
    lc_signer_free(signer);
    lc_conf_free(conf);
    return status;
}
