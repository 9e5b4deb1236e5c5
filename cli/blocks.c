/* SPDX-License-Identifier: Apache-2.0 */
/* `weft blocks`: read a channel's blocks from an orderer (Deliver), check their hashes, print a
 * line per block and optionally keep each block as a file. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "cli/cmds.h"
#include "client/client.h"
#include "libcommon/conf.h"
#include "libcommon/crypto.h"
#include "libcommon/wire.h"

static const char *const order_choices[] = {"random", "listed", NULL};

static const struct lc_conf_setting blocks_settings[] = {
    {.name = "profile",
     .env = "WEFT_CLIENT_PROFILE",
     .type = LC_CONF_PATH,
     .help = "Fabric common connection profile (YAML or JSON); its orderers for the channel are "
             "used unless --orderers is given."},
    {.name = "channel",
     .env = "WEFT_CLIENT_CHANNEL",
     .type = LC_CONF_STRING,
     .required = true,
     .help = "The channel ID."},
    {.name = "msp-dir",
     .env = "WEFT_CLIENT_MSP_DIR",
     .type = LC_CONF_PATH,
     .required = true,
     .help = "The user's MSP directory (signcerts/, keystore/): Deliver requests are signed."},
    {.name = "mspid",
     .env = "WEFT_CLIENT_MSPID",
     .type = LC_CONF_STRING,
     .help = "The user's MSP ID (default: the profile's client organization's)."},
    {.name = "orderers",
     .env = "WEFT_CLIENT_ORDERERS",
     .type = LC_CONF_STRING,
     .help = "Orderers, host:port[,host:port...]; the first that serves the channel is used."},
    {.name = "orderer-order",
     .type = LC_CONF_ENUM,
     .def = "random",
     .choices = order_choices,
     .help = "Which orderer to try first: a random one or the first listed."},
    {.name = "from",
     .type = LC_CONF_STRING,
     .def = "oldest",
     .help = "First block: oldest, newest or a block number."},
    {.name = "to",
     .type = LC_CONF_STRING,
     .def = "newest",
     .help = "Last block: newest (the newest when asked), a block number (waits for it), or "
             "forever (follow new blocks until interrupted)."},
    {.name = "output-dir",
     .type = LC_CONF_PATH,
     .help = "Also write each block as DIR/<number>.block (what `weft inspect` reads)."},
    {.name = "timeout",
     .env = "WEFT_CLIENT_TIMEOUT",
     .type = LC_CONF_DURATION,
     .def = "30s",
     .min = 1,
     .max = 3600000,
     .help = "Longest wait for the next block (not with --to forever)."},
    {.name = "json",
     .type = LC_CONF_BOOL,
     .def = "false",
     .help = "One JSON object per block instead of a text line."},
};

static const struct lc_conf_def blocks_def = {
    .service = "blocks",
    .program = "weft blocks",
    .summary = "Reads blocks of a channel from an orderer with a signed Deliver request and prints "
               "a line per block: its number, transaction count, data hash (recomputed and "
               "compared), previous hash (compared with the hash of the block before it, "
               "recomputed from its header), and its own header hash. Exits 1 when a check "
               "fails or the orderer refuses.",
    .settings = blocks_settings,
    .n_settings = sizeof blocks_settings / sizeof blocks_settings[0],
};

int weft_parse_seek_position(const char *cmd, const char *flag, const char *text, bool is_stop,
                             enum wc_seek_kind *ret_kind, uint64_t *ret_number)
{
    if (!is_stop && strcmp(text, "oldest") == 0) {
        *ret_kind = WC_SEEK_OLDEST;
        return 0;
    }
    if (strcmp(text, "newest") == 0) {
        *ret_kind = WC_SEEK_NEWEST;
        return 0;
    }
    if (is_stop && strcmp(text, "forever") == 0) {
        *ret_kind = WC_SEEK_FOREVER;
        return 0;
    }
    uint64_t v = 0;
    bool ok = *text != '\0' && strlen(text) <= 19;
    for (const char *p = text; ok && *p; p++) {
        if (*p < '0' || *p > '9')
            ok = false;
        else
            v = v * 10 + (uint64_t)(*p - '0');
    }
    if (!ok || v > (uint64_t)INT64_MAX) {
        fprintf(stderr, "%s: --%s: '%.40s' is not %s or a block number\n", cmd, flag, text,
                is_stop ? "newest, forever" : "oldest, newest");
        return -EINVAL;
    }
    *ret_kind = WC_SEEK_NUMBER;
    *ret_number = v;
    return 0;
}

static int write_block(const char *dir, const Common__Block *b, struct lc_errbuf *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%" PRIu64 ".block", dir, b->header->number);
    uint8_t *buf = NULL;
    size_t len;
    int r = lc_wire_pack(&b->base, WC_MAX_BLOCK_BYTES, &buf, &len, err);
    if (r < 0)
        return r;
    FILE *f = fopen(path, "wb");
    if (!f) {
        r = lc_fail(err, -errno, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (fwrite(buf, 1, len, f) != len) {
        r = lc_fail(err, -EIO, "%s: write failed", path);
        fclose(f);
        goto out;
    }
    if (fclose(f) != 0)
        r = lc_fail(err, -errno, "%s: %s", path, strerror(errno));
out:
    free(buf);
    return r;
}

struct chain {
    bool have_prev;
    uint64_t prev_number;
    uint8_t prev_hash[LC_WIRE_HASH_LEN];
};

/* Checks and prints one block; returns 0 when its checks pass, 1 when one fails. */
static int show_block(struct chain *ch, const Common__Block *b, bool json)
{
    char data_hex[2 * LC_WIRE_HASH_LEN + 1] = "", prev_hex[2 * LC_WIRE_HASH_LEN + 1] = "",
                                         hash_hex[2 * LC_WIRE_HASH_LEN + 1];
    const Common__BlockHeader *h = b->header;
    size_t n_tx = b->data ? b->data->n_data : 0;
    struct lc_errbuf err;
    bool data_ok = lc_wire_block_check_data_hash(b, &err) == 0;
    if (h->data_hash.len == LC_WIRE_HASH_LEN)
        lc_hex_encode(h->data_hash.data, h->data_hash.len, data_hex);
    if (h->previous_hash.len == LC_WIRE_HASH_LEN)
        lc_hex_encode(h->previous_hash.data, h->previous_hash.len, prev_hex);
    uint8_t hash[LC_WIRE_HASH_LEN];
    lc_wire_header_hash(h, hash);
    lc_hex_encode(hash, sizeof hash, hash_hex);

    const char *prev_check;
    if (h->number == 0)
        prev_check = h->previous_hash.len == 0 ? "ok" : "MISMATCH";
    else if (ch->have_prev)
        prev_check = h->number == ch->prev_number + 1 && h->previous_hash.len == LC_WIRE_HASH_LEN &&
                             memcmp(h->previous_hash.data, ch->prev_hash, LC_WIRE_HASH_LEN) == 0
                         ? "ok"
                         : "MISMATCH";
    else
        prev_check = "unchecked";
    ch->have_prev = true;
    ch->prev_number = h->number;
    memcpy(ch->prev_hash, hash, sizeof hash);

    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "number", json_integer((json_int_t)h->number));
        json_object_set_new(o, "tx_count", json_integer((json_int_t)n_tx));
        json_object_set_new(o, "data_hash", json_string(data_hex));
        json_object_set_new(o, "data_hash_check", json_string(data_ok ? "ok" : "MISMATCH"));
        json_object_set_new(o, "previous_hash", json_string(prev_hex));
        json_object_set_new(o, "previous_hash_check", json_string(prev_check));
        json_object_set_new(o, "hash", json_string(hash_hex));
        weft_client_print_json(o);
        json_decref(o);
    } else {
        printf("block %" PRIu64 " txs %zu data_hash %s %s previous_hash %s %s hash %s\n", h->number,
               n_tx, data_hex[0] ? data_hex : "-", data_ok ? "ok" : "MISMATCH",
               prev_hex[0] ? prev_hex : "-", prev_check, hash_hex);
        fflush(stdout);
    }
    return data_ok && strcmp(prev_check, "MISMATCH") != 0 ? 0 : 1;
}

int weft_cmd_blocks(int argc, char **argv)
{
    struct lc_conf *conf = NULL;
    struct lc_errbuf err;
    struct wc_gateway *gw = NULL;
    struct wc_deliver *d = NULL;
    char **orderers = NULL;
    size_t n_orderers = 0;
    int status = 1;
    if (lc_conf_new(&blocks_def, &conf, &err) < 0) {
        fprintf(stderr, "weft blocks: %s\n", err.msg);
        return 1;
    }
    if (lc_conf_parse(conf, argc, argv, NULL, &err) < 0) {
        fprintf(stderr, "weft blocks: %s\n", err.msg);
        status = 2;
        goto out;
    }
    if (lc_conf_help_requested(conf) != LC_CONF_HELP_NONE) {
        status = lc_conf_write_help(conf, lc_conf_help_requested(conf), stdout) < 0;
        goto out;
    }
    struct wc_seek seek = {0};
    if (weft_parse_seek_position("weft blocks", "from", lc_conf_str(conf, "from"), false,
                                 &seek.start, &seek.start_number) < 0 ||
        weft_parse_seek_position("weft blocks", "to", lc_conf_str(conf, "to"), true, &seek.stop,
                                 &seek.stop_number) < 0) {
        status = 2;
        goto out;
    }
    if (seek.start == WC_SEEK_NUMBER && seek.stop == WC_SEEK_NUMBER &&
        seek.stop_number < seek.start_number) {
        fprintf(stderr, "weft blocks: --to %" PRIu64 " is before --from %" PRIu64 "\n",
                seek.stop_number, seek.start_number);
        status = 2;
        goto out;
    }
    if (lc_conf_is_set(conf, "orderers") &&
        weft_client_split_addresses("orderers", lc_conf_str(conf, "orderers"), &orderers,
                                    &n_orderers) < 0) {
        status = 2;
        goto out;
    }
    const char *outdir = lc_conf_str(conf, "output-dir");
    if (outdir && mkdir(outdir, 0755) < 0 && errno != EEXIST) {
        fprintf(stderr, "weft blocks: --output-dir %s: %s\n", outdir, strerror(errno));
        goto out;
    }
    const struct wc_gateway_opts opts = {
        .profile = lc_conf_str(conf, "profile"),
        .channel = lc_conf_str(conf, "channel"),
        .msp_dir = lc_conf_str(conf, "msp-dir"),
        .mspid = lc_conf_str(conf, "mspid"),
        .selection = WC_SELECT_EXPLICIT, /* no endorsers */
        .orderers = (const char *const *)orderers,
        .n_orderers = n_orderers,
        .orderer_order =
            lc_conf_enum_index(conf, "orderer-order") == 1 ? WC_ORDER_LISTED : WC_ORDER_RANDOM,
        .timeout_ms = (int)lc_conf_duration_ms(conf, "timeout"),
    };
    if (wc_gateway_open(&opts, &err, &gw) < 0) {
        fprintf(stderr, "weft blocks: %s\n", err.msg);
        goto out;
    }
    if (wc_gateway_orderer_count(gw) == 0) {
        fprintf(stderr, "weft blocks: no orderers: give --orderers or a profile that has them\n");
        status = 2;
        goto out;
    }
    if (wc_gateway_deliver(gw, &seek, &err, &d, NULL) < 0) {
        fprintf(stderr, "weft blocks: %s\n", err.msg);
        goto out;
    }
    int wait_ms = seek.stop == WC_SEEK_FOREVER ? -1 : (int)lc_conf_duration_ms(conf, "timeout");
    bool json = lc_conf_bool(conf, "json"), bad = false;
    struct chain ch = {0};
    for (;;) {
        Common__Block *b = NULL;
        int r = wc_deliver_next(d, wait_ms, &err, &b);
        if (r == 1)
            break;
        if (r < 0) {
            fprintf(stderr, "weft blocks: %s\n", err.msg);
            goto out;
        }
        if (!b->header || !b->data) {
            fprintf(stderr, "weft blocks: a block without %s\n", b->header ? "data" : "header");
            lc_wire_block_free(b);
            goto out;
        }
        if (show_block(&ch, b, json) != 0)
            bad = true;
        if (outdir && write_block(outdir, b, &err) < 0) {
            fprintf(stderr, "weft blocks: %s\n", err.msg);
            lc_wire_block_free(b);
            goto out;
        }
        lc_wire_block_free(b);
    }
    if (bad)
        fprintf(stderr, "weft blocks: hash checks failed\n");
    status = bad ? 1 : 0;
out:
    wc_deliver_free(d);
    wc_gateway_free(gw);
    for (size_t i = 0; i < n_orderers; i++)
        free(orderers[i]);
    free(orderers);
    lc_conf_free(conf);
    return status;
}
