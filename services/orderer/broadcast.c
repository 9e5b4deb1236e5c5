/* SPDX-License-Identifier: Apache-2.0 */
/* orderer.AtomicBroadcast/Broadcast: check each envelope, hand it to its chain, answer in order. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/common.pb-c.h"
#include "libcommon/log.h"
#include "orderer/ab.pb-c.h"

#include "admit.h"
#include "chain.h"
#include "service.h"

#define LOG "orderer"
#define DEF_WINDOW 32u
/* Envelopes one task run handles before it lets other streams have the worker. */
#define RUN_BUDGET 64

/*
 * One stream. Fabric's handler (wire facts §10) answers every envelope with one
 * BroadcastResponse, in order, and ends the stream (status OK) right after any response that is
 * not SUCCESS; a client half-close ends it once every envelope read has been answered.
 *
 * The RPC callbacks fill `in` (a ring of received envelopes) under mu; the task alone touches
 * the rest.
 */
struct entry {
    uint8_t *payload, *sig;
    size_t payload_len, sig_len;
};

struct bstream {
    struct orderer_service *svc;
    struct lc_rpc_call *call;
    struct orderer_task *task;

    pthread_mutex_t mu;
    struct entry *in;
    size_t cap, head, n;
    bool paused;
    bool half_closed;
    bool done;

    /* task only */
    bool finished;
    bool resp_pending; /* a response waits for room in the send queue */
    Common__Status resp_status;
    char resp_info[sizeof(((struct lc_errbuf *)0)->msg)];
    struct orderer_msg *held; /* checked, waiting for room in its chain */
    struct orderer_chain *held_chain;
    uint64_t held_seq;
    struct orderer_chain *waiting_on; /* registered as a waiter there */
};

static void entry_free(struct entry *e)
{
    free(e->payload);
    free(e->sig);
    memset(e, 0, sizeof *e);
}

static const char *type_name(int32_t t)
{
    switch (t) {
    case COMMON__HEADER_TYPE__MESSAGE:
        return "MESSAGE";
    case COMMON__HEADER_TYPE__CONFIG:
        return "CONFIG";
    case COMMON__HEADER_TYPE__CONFIG_UPDATE:
        return "CONFIG_UPDATE";
    case COMMON__HEADER_TYPE__ENDORSER_TRANSACTION:
        return "ENDORSER_TRANSACTION";
    case COMMON__HEADER_TYPE__ORDERER_TRANSACTION:
        return "ORDERER_TRANSACTION";
    case COMMON__HEADER_TYPE__DELIVER_SEEK_INFO:
        return "DELIVER_SEEK_INFO";
    default:
        return "other";
    }
}

static void respond(struct bstream *bs, Common__Status st, const char *info)
{
    bs->resp_pending = true;
    bs->resp_status = st;
    snprintf(bs->resp_info, sizeof bs->resp_info, "%s", info ? info : "");
    if (st != COMMON__STATUS__SUCCESS)
        lc_log_warn(LOG, "broadcast rejected peer=%s status=%d info=\"%s\"",
                    lc_rpc_call_peer(bs->call), (int)st, bs->resp_info);
}

/* Checks one envelope. Either sets bs->held (to be ordered) or a response. */
static void check_one(struct bstream *bs, struct entry *e)
{
    struct lc_errbuf eb = {{0}};
    struct orderer_env env = {0};
    if (orderer_env_parse(e->payload, e->payload_len, &env, &eb) < 0) {
        respond(bs, COMMON__STATUS__BAD_REQUEST, eb.msg);
        return;
    }
    int32_t type = env.chdr->type;
    const char *channel = env.chdr->channel_id;
    struct orderer_chain *chain = NULL;
    if (type == COMMON__HEADER_TYPE__CONFIG_UPDATE) {
        respond(bs, COMMON__STATUS__BAD_REQUEST,
                "CONFIG_UPDATE is not supported: this orderer does not apply channel "
                "configuration updates yet");
        goto out;
    }
    if (type == COMMON__HEADER_TYPE__CONFIG || type == COMMON__HEADER_TYPE__ORDERER_TRANSACTION) {
        snprintf(eb.msg, sizeof eb.msg, "message of type %s cannot be processed directly",
                 type_name(type));
        respond(bs, COMMON__STATUS__BAD_REQUEST, eb.msg);
        goto out;
    }
    chain = orderer_registrar_get(bs->svc->reg, channel);
    if (!chain) {
        snprintf(eb.msg, sizeof eb.msg, "channel %.200s not found", channel);
        respond(bs, COMMON__STATUS__NOT_FOUND, eb.msg);
        goto out;
    }
    uint64_t seq = orderer_chain_sequence(chain);
    Common__Status st = orderer_admit_normal(orderer_chain_chconf(chain), &env, e->payload,
                                             e->payload_len, e->sig, e->sig_len, time(NULL), &eb);
    if (st != COMMON__STATUS__SUCCESS) {
        respond(bs, st, eb.msg);
        goto out;
    }
    if (orderer_chain_ready(chain, &eb) < 0) {
        respond(bs, COMMON__STATUS__SERVICE_UNAVAILABLE, eb.msg);
        goto out;
    }
    if (orderer_msg_new(e->payload, e->payload_len, e->sig, e->sig_len, &bs->held) < 0) {
        respond(bs, COMMON__STATUS__INTERNAL_SERVER_ERROR, "out of memory");
        goto out;
    }
    bs->held_chain = chain;
    bs->held_seq = seq;
out:
    orderer_env_done(&env);
}

/* Hands the held message to its chain. Returns false when it must wait for room. */
static bool order_held(struct bstream *bs)
{
    int r = orderer_chain_order(bs->held_chain, bs->held, bs->held_seq, bs->task);
    if (r == -EAGAIN) {
        bs->waiting_on = bs->held_chain;
        return false;
    }
    if (r == 0) {
        respond(bs, COMMON__STATUS__SUCCESS, NULL);
    } else {
        struct lc_errbuf eb = {{0}};
        if (orderer_chain_ready(bs->held_chain, &eb) == 0)
            snprintf(eb.msg, sizeof eb.msg, "order failed: %s", lc_strerror(r));
        orderer_msg_free(bs->held);
        respond(bs, COMMON__STATUS__SERVICE_UNAVAILABLE, eb.msg);
    }
    bs->held = NULL;
    return true;
}

static void cleanup(struct bstream *bs)
{
    if (bs->waiting_on)
        orderer_chain_forget(bs->waiting_on, bs->task);
    orderer_msg_free(bs->held);
    for (size_t i = 0; i < bs->n; i++)
        entry_free(&bs->in[(bs->head + i) % bs->cap]);
    free(bs->in);
    lc_rpc_call_unref(bs->call);
    pthread_mutex_destroy(&bs->mu);
    free(bs);
}

static void run(struct orderer_task *task, void *arg)
{
    struct bstream *bs = arg;
    for (int budget = RUN_BUDGET;; budget--) {
        pthread_mutex_lock(&bs->mu);
        bool done = bs->done;
        pthread_mutex_unlock(&bs->mu);
        if (done) {
            orderer_task_retire(task);
            cleanup(bs);
            return;
        }
        if (bs->finished)
            return; /* on_done follows */
        if (bs->resp_pending) {
            Orderer__BroadcastResponse resp = ORDERER__BROADCAST_RESPONSE__INIT;
            resp.status = bs->resp_status;
            resp.info = bs->resp_info;
            int r = lc_rpc_send(bs->call, &resp.base);
            if (r == -EAGAIN)
                return; /* on_writable schedules us again */
            bs->resp_pending = false;
            if (r < 0 || bs->resp_status != COMMON__STATUS__SUCCESS) {
                /* Fabric ends the stream after a failure response; a failed send means the
                 * call is ending anyway. */
                lc_rpc_finish(bs->call, LC_RPC_OK, NULL);
                bs->finished = true;
                return;
            }
            continue;
        }
        if (bs->held) {
            if (!order_held(bs))
                return; /* the chain schedules us when it has room */
            if (bs->waiting_on) {
                /* We may have run for another reason (a new message) before the chain's room
                 * notice: it must not keep a task that can go away. */
                orderer_chain_forget(bs->waiting_on, task);
                bs->waiting_on = NULL;
            }
            continue;
        }
        if (budget <= 0) {
            orderer_task_schedule(task);
            return;
        }
        struct entry e;
        pthread_mutex_lock(&bs->mu);
        if (bs->n == 0) {
            bool hc = bs->half_closed;
            pthread_mutex_unlock(&bs->mu);
            if (hc) {
                lc_rpc_finish(bs->call, LC_RPC_OK, NULL);
                bs->finished = true;
            }
            return;
        }
        e = bs->in[bs->head];
        bs->head = (bs->head + 1) % bs->cap;
        bs->n--;
        /* Pause and resume both happen under mu, so they can never cross. */
        if (bs->paused && bs->n <= bs->cap / 2) {
            bs->paused = false;
            lc_rpc_recv_resume(bs->call);
        }
        pthread_mutex_unlock(&bs->mu);
        check_one(bs, &e);
        entry_free(&e);
    }
}

/* ---- RPC callbacks ------------------------------------------------------------------------- */

static void on_open(struct lc_rpc_call *call)
{
    struct orderer_service *svc = lc_rpc_call_ctx(call);
    struct bstream *bs = calloc(1, sizeof *bs);
    if (!bs)
        goto nomem;
    bs->svc = svc;
    bs->cap = svc->broadcast_window ? svc->broadcast_window : DEF_WINDOW;
    bs->in = calloc(bs->cap, sizeof *bs->in);
    if (!bs->in || orderer_task_new(svc->pool, run, bs, &bs->task) < 0) {
        free(bs->in);
        free(bs);
        goto nomem;
    }
    pthread_mutex_init(&bs->mu, NULL);
    bs->call = lc_rpc_call_ref(call);
    lc_rpc_call_set_data(call, bs);
    return;
nomem:
    lc_rpc_finish(call, LC_RPC_RESOURCE_EXHAUSTED, "out of memory");
}

static uint8_t *dup_bytes(const ProtobufCBinaryData *b)
{
    uint8_t *p = malloc(b->len ? b->len : 1);
    if (p && b->len)
        memcpy(p, b->data, b->len);
    return p;
}

static void on_message(struct lc_rpc_call *call, const ProtobufCMessage *msg)
{
    struct bstream *bs = lc_rpc_call_data(call);
    const Common__Envelope *env = (const Common__Envelope *)msg;
    if (!bs)
        return;
    struct entry e = {dup_bytes(&env->payload), dup_bytes(&env->signature), env->payload.len,
                      env->signature.len};
    if (!e.payload || !e.sig) {
        entry_free(&e);
        lc_rpc_finish(call, LC_RPC_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    pthread_mutex_lock(&bs->mu);
    if (bs->n < bs->cap) {
        bs->in[(bs->head + bs->n) % bs->cap] = e;
        bs->n++;
        memset(&e, 0, sizeof e);
        if (bs->n == bs->cap && !bs->paused) {
            bs->paused = true;
            lc_rpc_recv_pause(call); /* callbacks run without the call's lock: no inversion */
        }
    }
    pthread_mutex_unlock(&bs->mu);
    entry_free(&e); /* not reached while reading pauses at a full ring */
    orderer_task_schedule(bs->task);
}

static void on_half_close(struct lc_rpc_call *call)
{
    struct bstream *bs = lc_rpc_call_data(call);
    if (!bs)
        return;
    pthread_mutex_lock(&bs->mu);
    bs->half_closed = true;
    pthread_mutex_unlock(&bs->mu);
    orderer_task_schedule(bs->task);
}

static void on_writable(struct lc_rpc_call *call)
{
    struct bstream *bs = lc_rpc_call_data(call);
    if (bs)
        orderer_task_schedule(bs->task);
}

static void on_done(struct lc_rpc_call *call, bool cancelled)
{
    struct bstream *bs = lc_rpc_call_data(call);
    if (!bs)
        return;
    lc_rpc_call_set_data(call, NULL);
    /* Schedule while holding bs->mu: run() frees bs (and retires the task) as soon as it sees
     * done, so done must not become visible before this thread is finished with bs. */
    pthread_mutex_lock(&bs->mu);
    bs->done = true;
    orderer_task_schedule(bs->task);
    pthread_mutex_unlock(&bs->mu);
}

const struct lc_rpc_method orderer_broadcast_method = {
    .path = "/orderer.AtomicBroadcast/Broadcast",
    .kind = LC_RPC_BIDI_STREAM,
    .request = &common__envelope__descriptor,
    .on_open = on_open,
    .on_message = on_message,
    .on_half_close = on_half_close,
    .on_writable = on_writable,
    .on_done = on_done,
};
