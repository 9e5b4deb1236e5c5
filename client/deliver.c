/* SPDX-License-Identifier: Apache-2.0 */
/* Deliver: a signed SeekInfo, then blocks one by one; and the channel config from block 0. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "client/internal.h"
#include "libcommon/chconf.h"
#include "libcommon/log.h"
#include "libcommon/rpc.h"
#include "orderer/ab.pb-c.h"

#define DELIVER_PATH "/orderer.AtomicBroadcast/Deliver"
/* An open-ended stop, as fabric-common writes it (Long.MAX_VALUE). */
#define SEEK_FOREVER ((uint64_t)INT64_MAX)
/* Validated identities the channel config's MSP manager caches. */
#define CHCONF_IDENTITY_CACHE 256

struct wc_deliver {
    struct lc_rpc_stream *stream;
    bool done;
    /* a first answer read ahead (see wc_internal_deliver_push_back) */
    bool pending;
    int pending_rc;
    Common__Block *pending_block;
    struct lc_errbuf pending_err;
};

/* ---- the request ---------------------------------------------------------------------------- */

static void set_position(Orderer__SeekPosition *pos, enum wc_seek_kind kind, uint64_t number,
                         Orderer__SeekNewest *newest, Orderer__SeekOldest *oldest,
                         Orderer__SeekSpecified *spec)
{
    switch (kind) {
    case WC_SEEK_OLDEST:
        pos->type_case = ORDERER__SEEK_POSITION__TYPE_OLDEST;
        pos->oldest = oldest;
        break;
    case WC_SEEK_NEWEST:
        pos->type_case = ORDERER__SEEK_POSITION__TYPE_NEWEST;
        pos->newest = newest;
        break;
    case WC_SEEK_NUMBER:
    case WC_SEEK_FOREVER:
        spec->number = kind == WC_SEEK_FOREVER ? SEEK_FOREVER : number;
        pos->type_case = ORDERER__SEEK_POSITION__TYPE_SPECIFIED;
        pos->specified = spec;
        break;
    }
}

int wc_seek_envelope(const char *channel, const struct lc_signer *signer,
                     const struct wc_seek *seek, struct lc_errbuf *err, uint8_t **ret_env,
                     size_t *ret_len)
{
    if (!wc_internal_channel_ok(channel))
        return lc_fail(err, LC_EINVALID, "channel '%.100s' is not a channel ID",
                       channel ? channel : "");
    if (seek->start == WC_SEEK_FOREVER || (unsigned)seek->start > WC_SEEK_FOREVER)
        return lc_fail(err, LC_EINVALID, "seek: start must be oldest, newest or a number");
    if (seek->stop == WC_SEEK_OLDEST || (unsigned)seek->stop > WC_SEEK_FOREVER)
        return lc_fail(err, LC_EINVALID, "seek: stop must be newest, a number or forever");
    if (seek->start == WC_SEEK_NUMBER && seek->stop == WC_SEEK_NUMBER &&
        seek->stop_number < seek->start_number)
        return lc_fail(err, LC_EINVALID, "seek: stop %llu is before start %llu",
                       (unsigned long long)seek->stop_number,
                       (unsigned long long)seek->start_number);
    if ((seek->start == WC_SEEK_NUMBER && seek->start_number > SEEK_FOREVER) ||
        (seek->stop == WC_SEEK_NUMBER && seek->stop_number > SEEK_FOREVER))
        return lc_fail(err, LC_EINVALID, "seek: block numbers end at %llu",
                       (unsigned long long)SEEK_FOREVER);

    Orderer__SeekNewest newest = ORDERER__SEEK_NEWEST__INIT;
    Orderer__SeekOldest oldest = ORDERER__SEEK_OLDEST__INIT;
    Orderer__SeekSpecified s1 = ORDERER__SEEK_SPECIFIED__INIT, s2 = ORDERER__SEEK_SPECIFIED__INIT;
    Orderer__SeekPosition start = ORDERER__SEEK_POSITION__INIT, stop = ORDERER__SEEK_POSITION__INIT;
    set_position(&start, seek->start, seek->start_number, &newest, &oldest, &s1);
    set_position(&stop, seek->stop, seek->stop_number, &newest, &oldest, &s2);
    Orderer__SeekInfo si = ORDERER__SEEK_INFO__INIT;
    si.start = &start;
    si.stop = &stop;
    si.behavior = seek->fail_if_not_ready ? ORDERER__SEEK_INFO__SEEK_BEHAVIOR__FAIL_IF_NOT_READY
                                          : ORDERER__SEEK_INFO__SEEK_BEHAVIOR__BLOCK_UNTIL_READY;
    si.error_response = ORDERER__SEEK_INFO__SEEK_ERROR_RESPONSE__STRICT;
    uint8_t *data = NULL;
    size_t data_len;
    int r = lc_wire_pack(&si.base, 4096, &data, &data_len, err);
    if (r < 0)
        return r;
    struct wc_header h;
    r = wc_internal_header_build(COMMON__HEADER_TYPE__DELIVER_SEEK_INFO, channel, signer, NULL, 0,
                                 0, 0, NULL, 0, &h, err);
    if (r == 0)
        r = wc_internal_envelope(&h, data, data_len, signer, err, ret_env, ret_len);
    wc_internal_header_done(&h);
    free(data);
    return r;
}

/* ---- the stream ----------------------------------------------------------------------------- */

int wc_internal_seek_stream(struct wc_node *node, const char *path, const char *what,
                            const char *channel, const struct lc_signer *signer,
                            const struct wc_seek *seek, struct lc_errbuf *err,
                            struct lc_rpc_stream **ret)
{
    uint8_t *env_bytes = NULL;
    size_t env_len;
    int r = wc_seek_envelope(channel, signer, seek, err, &env_bytes, &env_len);
    if (r < 0)
        return r;
    Common__Envelope *env = common__envelope__unpack(NULL, env_len, env_bytes);
    free(env_bytes);
    if (!env)
        return lc_fail(err, -ENOMEM, "%s: out of memory", what);
    struct lc_rpc_stream *s = NULL;
    r = lc_rpc_stream_open(wc_internal_node_rpc(node), path, -1, &s);
    if (r < 0) {
        r = lc_fail(err, r, "%s %s: %s", what, wc_node_name(node), lc_strerror(r));
        goto out;
    }
    /* a connection failure shows in the first receive, which says why */
    r = lc_rpc_stream_send(s, &env->base, WC_DEFAULT_TIMEOUT_MS);
    if (r < 0 && r != LC_ECLOSED) {
        r = lc_fail(err, r, "%s %s: send: %s", what, wc_node_name(node), lc_strerror(r));
        goto out;
    }
    *ret = s;
    s = NULL;
    r = 0;
out:
    lc_rpc_stream_free(s);
    common__envelope__free_unpacked(env, NULL);
    return r;
}

int wc_deliver_open(struct wc_node *orderer, const char *channel, const struct lc_signer *signer,
                    const struct wc_seek *seek, struct lc_errbuf *err, struct wc_deliver **ret)
{
    struct wc_deliver *d = calloc(1, sizeof *d);
    if (!d)
        return lc_fail(err, -ENOMEM, "deliver: out of memory");
    int r = wc_internal_seek_stream(orderer, DELIVER_PATH, "deliver", channel, signer, seek, err,
                                    &d->stream);
    if (r < 0) {
        wc_deliver_free(d);
        return r;
    }
    *ret = d;
    return 0;
}

/* A Deliver status as our error code. */
static int status_code(int32_t status)
{
    switch (status) {
    case COMMON__STATUS__NOT_FOUND:
        return LC_ENOTFOUND;
    case COMMON__STATUS__FORBIDDEN:
        return -EACCES;
    case COMMON__STATUS__BAD_REQUEST:
        return LC_EINVALID;
    case COMMON__STATUS__SERVICE_UNAVAILABLE:
        return LC_EUNAVAIL;
    default:
        return -EREMOTEIO;
    }
}

int wc_deliver_next(struct wc_deliver *d, int timeout_ms, struct lc_errbuf *err,
                    Common__Block **ret_block)
{
    if (d->pending) {
        d->pending = false;
        int rc = d->pending_rc;
        if (rc == 0)
            *ret_block = d->pending_block;
        else if (rc < 0 && err)
            *err = d->pending_err;
        d->pending_block = NULL;
        return rc;
    }
    if (d->done)
        return 1;
    ProtobufCMessage *m = NULL;
    int r = lc_rpc_stream_recv(d->stream, &orderer__deliver_response__descriptor, timeout_ms, &m);
    if (r == -EAGAIN)
        return lc_fail(err, LC_ETIMEOUT, "deliver: no block in %d ms", timeout_ms);
    if (r == LC_ECLOSED)
        return lc_fail(err, -EREMOTEIO, "deliver: the stream ended without a status");
    if (r == LC_EDECODE)
        return lc_fail(err, r, "deliver: a response that does not decode");
    if (r < 0) {
        struct lc_rpc_status st = {0};
        lc_rpc_stream_status(d->stream, 0, &st);
        return lc_fail(err, r, "deliver: %s: %s", lc_rpc_code_name(st.code),
                       st.msg[0] ? st.msg : lc_strerror(r));
    }
    Orderer__DeliverResponse *resp = (Orderer__DeliverResponse *)m;
    if (resp->type_case == ORDERER__DELIVER_RESPONSE__TYPE_BLOCK && resp->block) {
        *ret_block = resp->block;
        /* the block is taken: detach it before the response is freed */
        resp->type_case = ORDERER__DELIVER_RESPONSE__TYPE__NOT_SET;
        resp->block = NULL;
        r = 0;
    } else if (resp->type_case == ORDERER__DELIVER_RESPONSE__TYPE_STATUS &&
               resp->status == COMMON__STATUS__SUCCESS) {
        d->done = true;
        r = 1;
    } else if (resp->type_case == ORDERER__DELIVER_RESPONSE__TYPE_STATUS) {
        r = lc_fail(err, status_code(resp->status), "deliver: status %d %s", (int)resp->status,
                    wc_status_name(resp->status));
    } else {
        r = lc_fail(err, -EREMOTEIO, "deliver: a response with neither block nor status");
    }
    orderer__deliver_response__free_unpacked(resp, NULL);
    return r;
}

void wc_internal_deliver_push_back(struct wc_deliver *d, int rc, Common__Block *block,
                                   const struct lc_errbuf *err)
{
    d->pending = true;
    d->pending_rc = rc;
    d->pending_block = block;
    if (err)
        d->pending_err = *err;
}

void wc_deliver_free(struct wc_deliver *d)
{
    if (!d)
        return;
    lc_rpc_stream_free(d->stream);
    lc_wire_block_free(d->pending_block);
    free(d);
}

/* ---- channel configuration ------------------------------------------------------------------ */

int wc_chconf_load(const char *path, struct lc_errbuf *err, struct lc_chconf **ret)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return lc_fail(err, -errno, "%s: %s", path, strerror(errno));
    int r;
    uint8_t *buf = NULL;
    struct stat st;
    if (fstat(fileno(f), &st) < 0) {
        r = lc_fail(err, -errno, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > (off_t)WC_MAX_BLOCK_BYTES) {
        r = lc_fail(err, LC_ETOOBIG, "%s: not a regular file of at most %u bytes", path,
                    WC_MAX_BLOCK_BYTES);
        goto out;
    }
    size_t len = (size_t)st.st_size;
    buf = malloc(len ? len : 1);
    if (!buf) {
        r = lc_fail(err, -ENOMEM, "%s: out of memory", path);
        goto out;
    }
    if (fread(buf, 1, len, f) != len) {
        r = lc_fail(err, -EIO, "%s: short read", path);
        goto out;
    }
    r = lc_chconf_from_block_bytes(buf, len, CHCONF_IDENTITY_CACHE, err, ret);
    if (r < 0)
        lc_errbuf_prefix(err, "%s: ", path);
out:
    free(buf);
    fclose(f);
    return r;
}

/* Block 0 of channel from one orderer, checked and loaded. */
static int fetch_one(struct wc_node *node, const char *channel, const struct lc_signer *signer,
                     int timeout_ms, struct lc_errbuf *err, struct lc_chconf **ret)
{
    const struct wc_seek seek = {.start = WC_SEEK_NUMBER, .stop = WC_SEEK_NUMBER};
    struct wc_deliver *d = NULL;
    Common__Block *block = NULL;
    int r = wc_deliver_open(node, channel, signer, &seek, err, &d);
    if (r < 0)
        return r;
    r = wc_deliver_next(d, timeout_ms, err, &block);
    if (r == 1)
        r = lc_fail(err, -EREMOTEIO, "deliver: no block 0");
    if (r < 0)
        goto out;
    if (!block->header || block->header->number != 0) {
        r = lc_fail(err, LC_EINVALID, "deliver: asked for block 0, got another");
        goto out;
    }
    r = lc_wire_block_check_data_hash(block, err);
    if (r < 0)
        goto out;
    r = lc_chconf_from_block(block, CHCONF_IDENTITY_CACHE, err, ret);
    if (r < 0)
        goto out;
    if (strcmp(lc_chconf_channel_id(*ret), channel) != 0) {
        r = lc_fail(err, LC_EMISMATCH, "block 0 is for channel %s", lc_chconf_channel_id(*ret));
        lc_chconf_free(*ret);
        *ret = NULL;
    }
out:
    lc_wire_block_free(block);
    wc_deliver_free(d);
    return r;
}

int wc_chconf_fetch(struct wc_node *const *orderers, size_t n, const char *channel,
                    const struct lc_signer *signer, int timeout_ms, struct lc_errbuf *err,
                    struct lc_chconf **ret)
{
    if (n == 0)
        return lc_fail(err, LC_EINVALID,
                       "no orderer to fetch the channel configuration (block 0) from");
    if (timeout_ms <= 0)
        timeout_ms = WC_DEFAULT_TIMEOUT_MS;
    char causes[sizeof err->msg] = "";
    size_t clen = 0;
    int r = 0;
    for (size_t i = 0; i < n; i++) {
        struct lc_errbuf why;
        struct lc_chconf *c = NULL;
        r = fetch_one(orderers[i], channel, signer, timeout_ms, &why, &c);
        if (r == 0) {
            *ret = c;
            return 0;
        }
        lc_log_debug("client", "config block fetch failed orderer=%s cause=%s",
                     wc_node_name(orderers[i]), why.msg);
        if (clen < sizeof causes - 1) {
            int w = snprintf(causes + clen, sizeof causes - clen, "%s%s: %s", clen ? "; " : "",
                             wc_node_name(orderers[i]), why.msg);
            clen = w < 0 ? clen : clen + (size_t)w;
            if (clen >= sizeof causes)
                clen = sizeof causes - 1;
        }
    }
    return lc_fail(err, r, "channel %s: block 0: %s", channel, causes);
}
