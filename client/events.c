/* SPDX-License-Identifier: Apache-2.0 */
/* Peer events (protos.Deliver): blocks with their transactions' validation codes, commit waits. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/internal.h"
#include "libcommon/rpc.h"
#include "peer/events.pb-c.h"
#include "peer/transaction.pb-c.h"

#define DELIVER_PATH "/protos.Deliver/Deliver"
#define FILTERED_PATH "/protos.Deliver/DeliverFiltered"

struct wc_events {
    struct lc_rpc_stream *stream;
    bool done;
};

int wc_events_open(struct wc_node *node, const char *channel, const struct lc_signer *signer,
                   const struct wc_seek *seek, bool filtered, struct lc_errbuf *err,
                   struct wc_events **ret)
{
    struct wc_events *e = calloc(1, sizeof *e);
    if (!e)
        return lc_fail(err, -ENOMEM, "events: out of memory");
    int r = wc_internal_seek_stream(node, filtered ? FILTERED_PATH : DELIVER_PATH, "events",
                                    channel, signer, seek, err, &e->stream);
    if (r < 0) {
        wc_events_free(e);
        return r;
    }
    *ret = e;
    return 0;
}

void wc_events_free(struct wc_events *e)
{
    if (!e)
        return;
    lc_rpc_stream_free(e->stream);
    free(e);
}

void wc_event_block_free(struct wc_event_block *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n_txs; i++)
        free(b->txs[i].txid);
    free(b->txs);
    lc_wire_block_free(b->block);
    free(b);
}

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

/* The TxID of a block's envelope, or "" when it does not decode; caller frees. */
static char *envelope_txid(const ProtobufCBinaryData *eb)
{
    char *id = NULL;
    Common__Envelope *env = common__envelope__unpack(NULL, eb->len, eb->data);
    Common__Payload *p =
        env ? common__payload__unpack(NULL, env->payload.len, env->payload.data) : NULL;
    Common__ChannelHeader *ch =
        p && p->header ? common__channel_header__unpack(NULL, p->header->channel_header.len,
                                                        p->header->channel_header.data)
                       : NULL;
    id = strdup(ch && ch->tx_id ? ch->tx_id : "");
    if (ch)
        common__channel_header__free_unpacked(ch, NULL);
    if (p)
        common__payload__free_unpacked(p, NULL);
    if (env)
        common__envelope__free_unpacked(env, NULL);
    return id;
}

/* Fills b from a full block (taken). */
static int from_block(Common__Block *block, struct wc_event_block *b)
{
    b->block = block;
    b->number = block->header ? block->header->number : 0;
    size_t n = block->data ? block->data->n_data : 0;
    const ProtobufCBinaryData *fl =
        block->metadata &&
                block->metadata->n_metadata > COMMON__BLOCK_METADATA_INDEX__TRANSACTIONS_FILTER
            ? &block->metadata->metadata[COMMON__BLOCK_METADATA_INDEX__TRANSACTIONS_FILTER]
            : NULL;
    b->txs = calloc(n ? n : 1, sizeof *b->txs);
    if (!b->txs)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        b->txs[i].txid = envelope_txid(&block->data->data[i]);
        b->txs[i].code = fl && i < fl->len ? fl->data[i] : 255;
        b->n_txs++;
        if (!b->txs[i].txid)
            return -ENOMEM;
    }
    return 0;
}

static int from_filtered(const Protos__FilteredBlock *fb, struct wc_event_block *b)
{
    b->number = fb->number;
    size_t n = fb->n_filtered_transactions;
    b->txs = calloc(n ? n : 1, sizeof *b->txs);
    if (!b->txs)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const Protos__FilteredTransaction *ft = fb->filtered_transactions[i];
        b->txs[i].txid = strdup(ft->txid ? ft->txid : "");
        b->txs[i].code = (int32_t)ft->tx_validation_code;
        b->txs[i].type = (int32_t)ft->type;
        b->n_txs++;
        if (!b->txs[i].txid)
            return -ENOMEM;
    }
    return 0;
}

int wc_events_next(struct wc_events *e, int timeout_ms, struct lc_errbuf *err,
                   struct wc_event_block **ret)
{
    if (e->done)
        return 1;
    ProtobufCMessage *m = NULL;
    int r = lc_rpc_stream_recv(e->stream, &protos__deliver_response__descriptor, timeout_ms, &m);
    if (r == -EAGAIN)
        return lc_fail(err, LC_ETIMEOUT, "events: no block in %d ms", timeout_ms);
    if (r == LC_ECLOSED)
        return lc_fail(err, -EREMOTEIO, "events: the stream ended without a status");
    if (r == LC_EDECODE)
        return lc_fail(err, r, "events: a response that does not decode");
    if (r < 0) {
        struct lc_rpc_status st = {0};
        lc_rpc_stream_status(e->stream, 0, &st);
        return lc_fail(err, r, "events: %s: %s", lc_rpc_code_name(st.code),
                       st.msg[0] ? st.msg : lc_strerror(r));
    }
    Protos__DeliverResponse *resp = (Protos__DeliverResponse *)m;
    struct wc_event_block *b = NULL;
    if (resp->type_case == PROTOS__DELIVER_RESPONSE__TYPE_BLOCK && resp->block) {
        b = calloc(1, sizeof *b);
        if (!b) {
            r = lc_fail(err, -ENOMEM, "events: out of memory");
        } else {
            Common__Block *blk = resp->block;
            resp->type_case = PROTOS__DELIVER_RESPONSE__TYPE__NOT_SET;
            resp->block = NULL;
            r = from_block(blk, b);
        }
    } else if (resp->type_case == PROTOS__DELIVER_RESPONSE__TYPE_FILTERED_BLOCK &&
               resp->filtered_block) {
        b = calloc(1, sizeof *b);
        r = b ? from_filtered(resp->filtered_block, b) : -ENOMEM;
    } else if (resp->type_case == PROTOS__DELIVER_RESPONSE__TYPE_STATUS &&
               resp->status == COMMON__STATUS__SUCCESS) {
        e->done = true;
        r = 1;
    } else if (resp->type_case == PROTOS__DELIVER_RESPONSE__TYPE_STATUS) {
        r = lc_fail(err, status_code(resp->status), "events: status %d %s", (int)resp->status,
                    wc_status_name(resp->status));
    } else {
        r = lc_fail(err, -EREMOTEIO, "events: a response with no block and no status");
    }
    protos__deliver_response__free_unpacked(resp, NULL);
    if (r == -ENOMEM)
        lc_fail(err, r, "events: out of memory");
    if (r == 0) {
        *ret = b;
        b = NULL;
    }
    wc_event_block_free(b);
    return r;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int wc_events_wait_tx(struct wc_events *e, const char *txid, int timeout_ms, struct lc_errbuf *err,
                      uint64_t *ret_block, int32_t *ret_code)
{
    int64_t end = now_ms() + (timeout_ms > 0 ? timeout_ms : WC_DEFAULT_TIMEOUT_MS);
    for (;;) {
        int64_t left = end - now_ms();
        if (left <= 0)
            return lc_fail(err, LC_ETIMEOUT, "transaction %s: no commit seen in time", txid);
        struct wc_event_block *b = NULL;
        int r = wc_events_next(e, (int)left, err, &b);
        if (r == LC_ETIMEOUT)
            return lc_fail(err, r, "transaction %s: no commit seen in time", txid);
        if (r == 1)
            return lc_fail(err, LC_ENOTFOUND, "transaction %s: not in the blocks asked for", txid);
        if (r < 0)
            return r;
        for (size_t i = 0; i < b->n_txs; i++) {
            if (strcmp(b->txs[i].txid, txid) == 0) {
                *ret_block = b->number;
                *ret_code = b->txs[i].code;
                wc_event_block_free(b);
                return 0;
            }
        }
        wc_event_block_free(b);
    }
}

const char *wc_tx_code_name(int32_t code)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&protos__tx_validation_code__descriptor, code);
    return v ? v->name : "UNKNOWN";
}
