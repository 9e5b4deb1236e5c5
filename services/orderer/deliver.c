/* SPDX-License-Identifier: Apache-2.0 */
/* orderer.AtomicBroadcast/Deliver: check a SeekInfo, then stream blocks from the store. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/common.pb-c.h"
#include "libcommon/blockstore.h"
#include "libcommon/log.h"
#include "libcommon/wire.h"
#include "orderer/ab.pb-c.h"

#include "admit.h"
#include "chain.h"
#include "service.h"

#define LOG "orderer"
/* Blocks one task run sends before it lets other streams have the worker. */
#define RUN_BUDGET 16
/* DeliverResponse.block is field 2, length-delimited: tag byte 0x12. */
#define TAG_BLOCK 0x12u
#define VARINT_MAX 10

/*
 * One stream (wire facts §10): the client sends a signed SeekInfo envelope; we check it, send
 * the blocks from start to stop, then DeliverResponse{status SUCCESS}, and read the next
 * SeekInfo on the same stream. Any other status is sent and then the stream ends (status OK).
 * While a seek runs, reading is paused, so a stream holds one request at a time.
 *
 * Blocks are read on the pool (never on an RPC worker) and queued with the non-blocking send;
 * when the send queue is full the task stops and on_writable restarts it; at the tip it stops
 * and the block store's notification restarts it. The writer never waits for a reader.
 */
struct dstream {
    struct orderer_service *svc;
    struct lc_rpc_call *call;
    struct orderer_task *task;

    pthread_mutex_t mu; /* guards the request fields, filled by RPC callbacks */
    uint8_t *req_payload, *req_sig;
    size_t req_payload_len, req_sig_len;
    bool have_req;
    bool half_closed;
    bool done;

    /* task only */
    bool finished;
    bool active; /* a seek is being served */
    struct orderer_chain *chain;
    struct lc_blockstore_sub *sub;
    struct lc_identity *id; /* the requester, for the expiry re-check per block */
    uint64_t next, stop;
    bool fail_if_not_ready;
    bool strict;
    uint8_t *out; /* an encoded DeliverResponse{block} waiting for room */
    size_t out_len;
    uint64_t out_number;
    bool status_pending;
    Common__Status status;
};

/* ---- responses ----------------------------------------------------------------------------- */

static size_t put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* Reads block `number` and wraps it as DeliverResponse{block}: the stored bytes go out as they
 * are (no decode and re-encode), behind the field's tag and length. */
static int load_block(struct dstream *ds, uint64_t number, struct lc_errbuf *err)
{
    uint8_t *blk = NULL;
    size_t len = 0;
    int r = lc_blockstore_get(orderer_chain_store(ds->chain), number, &blk, &len, err);
    if (r < 0)
        return r;
    uint8_t *out = malloc(1 + VARINT_MAX + len);
    if (!out) {
        free(blk);
        return lc_fail(err, -ENOMEM, "out of memory");
    }
    out[0] = TAG_BLOCK;
    size_t h = 1 + put_varint(out + 1, len);
    memcpy(out + h, blk, len);
    free(blk);
    ds->out = out;
    ds->out_len = h + len;
    ds->out_number = number;
    return 0;
}

static void set_status(struct dstream *ds, Common__Status st, const char *why)
{
    ds->status_pending = true;
    ds->status = st;
    /* NOT_FOUND is how FAIL_IF_NOT_READY polling ends, and clients poll for channels that
     * do not exist yet: debug, as Fabric logs them. */
    if (st == COMMON__STATUS__NOT_FOUND)
        lc_log_debug(LOG, "deliver not found peer=%s cause=\"%s\"", lc_rpc_call_peer(ds->call),
                     why ? why : "");
    else if (st != COMMON__STATUS__SUCCESS)
        lc_log_warn(LOG, "deliver rejected peer=%s status=%d cause=\"%s\"",
                    lc_rpc_call_peer(ds->call), (int)st, why ? why : "");
}

/* Ends the seek being served (not the stream). */
static void end_seek(struct dstream *ds)
{
    if (ds->sub) {
        lc_blockstore_unsubscribe(orderer_chain_store(ds->chain), ds->sub);
        ds->sub = NULL;
    }
    lc_identity_unref(ds->id);
    ds->id = NULL;
    free(ds->out);
    ds->out = NULL;
    ds->active = false;
    ds->chain = NULL;
}

static void notify(void *arg, uint64_t height)
{
    struct dstream *ds = arg;
    orderer_task_schedule(ds->task);
}

/* ---- the SeekInfo -------------------------------------------------------------------------- */

static bool position_set(const Orderer__SeekPosition *p)
{
    return p && p->type_case != ORDERER__SEEK_POSITION__TYPE__NOT_SET;
}

/* Checks the request in Fabric's order (wire facts §10) and starts the seek, or sets the
 * failure status. */
static void start_seek(struct dstream *ds, const uint8_t *payload, size_t payload_len,
                       const uint8_t *sig, size_t sig_len)
{
    struct lc_errbuf eb = {{0}};
    struct orderer_env env = {0};
    Orderer__SeekInfo *si = NULL;
    struct lc_identity *id = NULL;
    time_t now = time(NULL);

    if (orderer_env_parse(payload, payload_len, &env, &eb) < 0) {
        set_status(ds, COMMON__STATUS__BAD_REQUEST, eb.msg);
        goto out;
    }
    const Google__Protobuf__Timestamp *ts = env.chdr->timestamp;
    int64_t window_s = ds->svc->time_window_ms / 1000;
    if (!ts) {
        set_status(ds, COMMON__STATUS__BAD_REQUEST, "channel header has no timestamp");
        goto out;
    }
    if (ts->seconds < (int64_t)now - window_s || ts->seconds > (int64_t)now + window_s) {
        snprintf(eb.msg, sizeof eb.msg, "timestamp %lld is more than %llds away from now %lld",
                 (long long)ts->seconds, (long long)window_s, (long long)now);
        set_status(ds, COMMON__STATUS__BAD_REQUEST, eb.msg);
        goto out;
    }
    if (env.chdr->type != COMMON__HEADER_TYPE__DELIVER_SEEK_INFO) {
        snprintf(eb.msg, sizeof eb.msg, "header type %d is not DELIVER_SEEK_INFO",
                 (int)env.chdr->type);
        set_status(ds, COMMON__STATUS__BAD_REQUEST, eb.msg);
        goto out;
    }
    struct orderer_chain *chain = orderer_registrar_get(ds->svc->reg, env.chdr->channel_id);
    if (!chain) {
        snprintf(eb.msg, sizeof eb.msg, "channel %.200s not found", env.chdr->channel_id);
        set_status(ds, COMMON__STATUS__NOT_FOUND, eb.msg);
        goto out;
    }
    if (LC_WIRE_UNPACK(&orderer__seek_info__descriptor, env.payload->data, &si, &eb) < 0) {
        set_status(ds, COMMON__STATUS__BAD_REQUEST, eb.msg);
        goto out;
    }
    bool strict = si->error_response == ORDERER__SEEK_INFO__SEEK_ERROR_RESPONSE__STRICT;
    if (strict && orderer_chain_errored(chain)) {
        set_status(ds, COMMON__STATUS__SERVICE_UNAVAILABLE, "the channel's consenter is in error");
        goto out;
    }
    int r = orderer_check_signer(orderer_chain_chconf(chain), "/Channel/Readers",
                                 env.shdr->creator.data, env.shdr->creator.len, payload,
                                 payload_len, sig, sig_len, now, &id, &eb);
    if (r < 0) {
        set_status(ds,
                   r == -ENOMEM ? COMMON__STATUS__INTERNAL_SERVER_ERROR : COMMON__STATUS__FORBIDDEN,
                   eb.msg);
        goto out;
    }
    if (!position_set(si->start) || !position_set(si->stop)) {
        set_status(ds, COMMON__STATUS__BAD_REQUEST, "seek info has no start or no stop");
        goto out;
    }
    uint64_t height = lc_blockstore_height(orderer_chain_store(chain));
    uint64_t start = 0, stop = 0;
    switch (si->start->type_case) {
    case ORDERER__SEEK_POSITION__TYPE_OLDEST:
        start = 0;
        break;
    case ORDERER__SEEK_POSITION__TYPE_NEWEST:
        start = height - 1;
        break;
    default:
        start = si->start->specified ? si->start->specified->number : 0;
        if (start > height) {
            /* Fabric's file ledger has no iterator past the next block: NOT_FOUND, whatever
             * the behavior. */
            set_status(ds, COMMON__STATUS__NOT_FOUND, "start is past the next block");
            goto out;
        }
        break;
    }
    switch (si->stop->type_case) {
    case ORDERER__SEEK_POSITION__TYPE_OLDEST:
        stop = start;
        break;
    case ORDERER__SEEK_POSITION__TYPE_NEWEST:
        /* newest..newest is one block even if another lands meanwhile */
        stop = si->start->type_case == ORDERER__SEEK_POSITION__TYPE_NEWEST ? start : height - 1;
        break;
    default:
        stop = si->stop->specified ? si->stop->specified->number : 0;
        if (stop < start) {
            snprintf(eb.msg, sizeof eb.msg, "stop %llu is before start %llu",
                     (unsigned long long)stop, (unsigned long long)start);
            set_status(ds, COMMON__STATUS__BAD_REQUEST, eb.msg);
            goto out;
        }
        break;
    }
    /* With newest stop and a later start, Fabric's loop serves nothing past stop: it checks
     * stop only after sending, so start > stop would run on; reject like a specified stop. */
    if (stop < start) {
        set_status(ds, COMMON__STATUS__BAD_REQUEST, "stop is before start");
        goto out;
    }
    ds->chain = chain;
    ds->next = start;
    ds->stop = stop;
    ds->fail_if_not_ready = si->behavior == ORDERER__SEEK_INFO__SEEK_BEHAVIOR__FAIL_IF_NOT_READY;
    ds->strict = strict;
    ds->id = id;
    id = NULL;
    ds->active = true;
    if (!ds->fail_if_not_ready &&
        lc_blockstore_subscribe(orderer_chain_store(chain), notify, ds, &ds->sub) < 0) {
        end_seek(ds);
        set_status(ds, COMMON__STATUS__INTERNAL_SERVER_ERROR, "out of memory");
        goto out;
    }
    lc_log_debug(LOG, "deliver started channel=%s peer=%s start=%llu stop=%llu",
                 ds->chain ? orderer_chain_id(chain) : "", lc_rpc_call_peer(ds->call),
                 (unsigned long long)start, (unsigned long long)stop);
out:
    lc_identity_unref(id);
    if (si)
        orderer__seek_info__free_unpacked(si, NULL);
    orderer_env_done(&env);
}

/* Sends what the active seek has next. Returns false when the task must wait (send queue
 * full, or at the tip for the next block). */
static bool pump(struct dstream *ds)
{
    if (ds->out) {
        int r = lc_rpc_send_raw(ds->call, ds->out, ds->out_len);
        if (r == -EAGAIN)
            return false;
        free(ds->out);
        ds->out = NULL;
        if (r < 0) {
            /* Over or failing: on_done will follow (or the block is too big to send). */
            set_status(ds, COMMON__STATUS__INTERNAL_SERVER_ERROR, lc_strerror(r));
            return true;
        }
        if (ds->out_number == ds->stop) {
            set_status(ds, COMMON__STATUS__SUCCESS, NULL);
            return true;
        }
        ds->next = ds->out_number + 1;
        return true;
    }
    struct lc_blockstore *store = orderer_chain_store(ds->chain);
    if (ds->next >= lc_blockstore_height(store)) {
        if (ds->fail_if_not_ready) {
            set_status(ds, COMMON__STATUS__NOT_FOUND, "block not yet available");
            return true;
        }
        return false; /* the store's notification schedules us */
    }
    if (ds->strict && orderer_chain_errored(ds->chain)) {
        set_status(ds, COMMON__STATUS__SERVICE_UNAVAILABLE, "the channel's consenter is in error");
        return true;
    }
    struct lc_errbuf eb = {{0}};
    /* Fabric re-evaluates access per block; the config does not change yet, so only expiry
     * can revoke it. */
    if (lc_identity_check_validity(ds->id, time(NULL), &eb) < 0) {
        set_status(ds, COMMON__STATUS__FORBIDDEN, eb.msg);
        return true;
    }
    if (load_block(ds, ds->next, &eb) < 0) {
        lc_log_err(LOG, "deliver cannot read block channel=%s number=%llu cause=\"%s\"",
                   orderer_chain_id(ds->chain), (unsigned long long)ds->next, eb.msg);
        set_status(ds, COMMON__STATUS__INTERNAL_SERVER_ERROR, eb.msg);
    }
    return true;
}

static void cleanup(struct dstream *ds)
{
    end_seek(ds);
    free(ds->req_payload);
    free(ds->req_sig);
    lc_rpc_call_unref(ds->call);
    pthread_mutex_destroy(&ds->mu);
    free(ds);
}

static void run(struct orderer_task *task, void *arg)
{
    struct dstream *ds = arg;
    for (int budget = RUN_BUDGET;; budget--) {
        pthread_mutex_lock(&ds->mu);
        bool done = ds->done;
        pthread_mutex_unlock(&ds->mu);
        if (done) {
            orderer_task_retire(task);
            cleanup(ds);
            return;
        }
        if (ds->finished)
            return;
        if (ds->status_pending) {
            Orderer__DeliverResponse resp = ORDERER__DELIVER_RESPONSE__INIT;
            resp.type_case = ORDERER__DELIVER_RESPONSE__TYPE_STATUS;
            resp.status = ds->status;
            int r = lc_rpc_send(ds->call, &resp.base);
            if (r == -EAGAIN)
                return;
            ds->status_pending = false;
            end_seek(ds);
            if (r < 0 || ds->status != COMMON__STATUS__SUCCESS) {
                lc_rpc_finish(ds->call, LC_RPC_OK, NULL);
                ds->finished = true;
                return;
            }
            lc_rpc_recv_resume(ds->call); /* ready for the next SeekInfo */
            continue;
        }
        if (budget <= 0) {
            orderer_task_schedule(task);
            return;
        }
        if (ds->active) {
            if (!pump(ds))
                return;
            continue;
        }
        pthread_mutex_lock(&ds->mu);
        uint8_t *payload = ds->req_payload, *sig = ds->req_sig;
        size_t payload_len = ds->req_payload_len, sig_len = ds->req_sig_len;
        bool have = ds->have_req, hc = ds->half_closed;
        ds->req_payload = ds->req_sig = NULL;
        ds->have_req = false;
        pthread_mutex_unlock(&ds->mu);
        if (have) {
            start_seek(ds, payload, payload_len, sig, sig_len);
            free(payload);
            free(sig);
            continue;
        }
        if (hc) {
            lc_rpc_finish(ds->call, LC_RPC_OK, NULL);
            ds->finished = true;
        }
        return;
    }
}

/* ---- RPC callbacks ------------------------------------------------------------------------- */

static void on_open(struct lc_rpc_call *call)
{
    struct orderer_service *svc = lc_rpc_call_ctx(call);
    struct dstream *ds = calloc(1, sizeof *ds);
    if (!ds || orderer_task_new(svc->pool, run, ds, &ds->task) < 0) {
        free(ds);
        lc_rpc_finish(call, LC_RPC_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    ds->svc = svc;
    pthread_mutex_init(&ds->mu, NULL);
    ds->call = lc_rpc_call_ref(call);
    lc_rpc_call_set_data(call, ds);
}

static void on_message(struct lc_rpc_call *call, const ProtobufCMessage *msg)
{
    struct dstream *ds = lc_rpc_call_data(call);
    const Common__Envelope *env = (const Common__Envelope *)msg;
    if (!ds)
        return;
    uint8_t *p = malloc(env->payload.len ? env->payload.len : 1);
    uint8_t *s = malloc(env->signature.len ? env->signature.len : 1);
    if (!p || !s) {
        free(p);
        free(s);
        lc_rpc_finish(call, LC_RPC_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    if (env->payload.len)
        memcpy(p, env->payload.data, env->payload.len);
    if (env->signature.len)
        memcpy(s, env->signature.data, env->signature.len);
    /* One request at a time: reading resumes once this seek has ended with SUCCESS. */
    lc_rpc_recv_pause(call);
    pthread_mutex_lock(&ds->mu);
    free(ds->req_payload);
    free(ds->req_sig);
    ds->req_payload = p;
    ds->req_payload_len = env->payload.len;
    ds->req_sig = s;
    ds->req_sig_len = env->signature.len;
    ds->have_req = true;
    pthread_mutex_unlock(&ds->mu);
    orderer_task_schedule(ds->task);
}

static void on_half_close(struct lc_rpc_call *call)
{
    struct dstream *ds = lc_rpc_call_data(call);
    if (!ds)
        return;
    pthread_mutex_lock(&ds->mu);
    ds->half_closed = true;
    pthread_mutex_unlock(&ds->mu);
    orderer_task_schedule(ds->task);
}

static void on_writable(struct lc_rpc_call *call)
{
    struct dstream *ds = lc_rpc_call_data(call);
    if (ds)
        orderer_task_schedule(ds->task);
}

static void on_done(struct lc_rpc_call *call, bool cancelled)
{
    struct dstream *ds = lc_rpc_call_data(call);
    if (!ds)
        return;
    lc_rpc_call_set_data(call, NULL);
    /* Schedule while holding ds->mu: the task frees ds as soon as it sees done. */
    pthread_mutex_lock(&ds->mu);
    ds->done = true;
    orderer_task_schedule(ds->task);
    pthread_mutex_unlock(&ds->mu);
}

const struct lc_rpc_method orderer_deliver_method = {
    .path = "/orderer.AtomicBroadcast/Deliver",
    .kind = LC_RPC_BIDI_STREAM,
    .request = &common__envelope__descriptor,
    .on_open = on_open,
    .on_message = on_message,
    .on_half_close = on_half_close,
    .on_writable = on_writable,
    .on_done = on_done,
};

int orderer_service_register(struct lc_rpc_server *srv, struct orderer_service *svc,
                             struct lc_errbuf *err)
{
    const struct lc_rpc_method *const methods[2] = {&orderer_broadcast_method,
                                                    &orderer_deliver_method};
    for (size_t i = 0; i < 2; i++) {
        int r = lc_rpc_server_add(srv, methods[i], 1, svc, err);
        if (r < 0)
            return r;
    }
    return 0;
}
