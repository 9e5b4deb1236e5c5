/* SPDX-License-Identifier: Apache-2.0 */
/* protos.Deliver (Deliver, DeliverFiltered): checked SeekInfo requests served from the committer.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/common.pb-c.h"
#include "libcommon/chconf.h"
#include "libcommon/log.h"
#include "libcommon/msp.h"
#include "libcommon/policy.h"
#include "libcommon/rpc.h"
#include "libcommon/wire.h"
#include "orderer/ab.pb-c.h"
#include "peer/chaincode_event.pb-c.h"
#include "peer/events.pb-c.h"
#include "peer/proposal.pb-c.h"
#include "peer/proposal_response.pb-c.h"
#include "peer/transaction.pb-c.h"
#include "weft/committer.pb-c.h"

#include "eventd.h"

#define LOG "eventd"
#define READERS "/Channel/Application/Readers"
#define BLOCKS_PATH "/weft.Committer/Blocks"
#define HEIGHT_PATH "/weft.Committer/Height"
/* How often a subscriber blocked on the committer looks whether its call is over. */
#define POLL_MS 200
#define UPSTREAM_TIMEOUT_MS 10000

/* A cached committed block, shared by the subscribers sending it. */
struct cblock {
    unsigned refs; /* under eventd.cmu */
    Common__Block *b;
};

struct eventd {
    const struct lc_chconf *chconf;
    struct lc_rpc_client *committer;
    int64_t time_window_s;
    /* the cache: one upstream stream, blocks [lo, hi) in ring[number % cap] */
    pthread_mutex_t cmu;
    pthread_cond_t ccv; /* a block arrived, or stopping */
    struct cblock **ring;
    size_t cap;
    uint64_t lo, hi;
    bool started, stopping;
    pthread_t hub;
    bool hub_running;
    pthread_mutex_t mu; /* guards live */
    pthread_cond_t cv;
    unsigned live; /* subscriber threads running */
};

/*
 * One Deliver stream. A thread of its own serves it: it reads the SeekInfo the RPC callbacks
 * hand over, checks it, opens a weft.Committer/Blocks stream from the start block, and sends
 * each block (whole or filtered) with the non-blocking send; when the send queue is full it waits
 * for on_writable. The thread owns the struct and a call reference and frees both when done.
 */
struct sub {
    struct eventd *ed;
    struct lc_rpc_call *call;
    bool filtered;
    pthread_mutex_t mu; /* guards everything below */
    pthread_cond_t cv;
    uint8_t *payload, *sig;
    size_t payload_len, sig_len;
    bool have_req, half_closed, done, writable;
};

/* ---- the signer ---------------------------------------------------------------------------- */

static int one_deserialize(void *ctx, const uint8_t *bytes, size_t len, void **ret_identity)
{
    (void)bytes;
    (void)len;
    *ret_identity = lc_identity_ref(ctx);
    return 0;
}

static const char *one_key(void *ctx, void *identity)
{
    (void)ctx;
    return lc_identity_id(identity);
}

static int one_verify(void *ctx, void *identity, const uint8_t *data, size_t data_len,
                      const uint8_t *sig, size_t sig_len)
{
    (void)ctx;
    (void)identity;
    (void)data;
    (void)data_len;
    (void)sig;
    (void)sig_len;
    return 0; /* verified before the policy runs */
}

static int one_satisfies(void *identity, const Common__MSPPrincipal *principal, void *ctx)
{
    (void)ctx;
    return lc_identity_satisfies_principal(identity, principal, NULL);
}

static void one_release(void *ctx, void *identity)
{
    (void)ctx;
    lc_identity_unref(identity);
}

static const struct lc_policy_identity_ops one_ops = {
    .deserialize = one_deserialize,
    .key = one_key,
    .verify = one_verify,
    .satisfies = one_satisfies,
    .release = one_release,
};

/* The creator is a valid channel identity at now, signed payload, and satisfies Readers. */
static int check_signer(const struct lc_chconf *c, const ProtobufCBinaryData *creator,
                        const uint8_t *data, size_t data_len, const uint8_t *sig, size_t sig_len,
                        time_t now, struct lc_errbuf *err)
{
    struct lc_identity *id = NULL;
    struct lc_policy_idset *set = NULL;
    if (creator->len == 0)
        return lc_fail(err, LC_EINVALID, "creator is empty");
    int r = lc_msp_mgr_deserialize(lc_chconf_msp_mgr(c), creator->data, creator->len, err, &id);
    if (r < 0) {
        lc_errbuf_prefix(err, "creator is not a valid identity: ");
        return r;
    }
    r = lc_identity_check_validity(id, now, err);
    if (r == 0)
        r = lc_identity_verify(id, data, data_len, sig, sig_len, err);
    if (r < 0)
        goto out;
    struct lc_signed_data sd = {data, data_len, creator->data, creator->len, sig, sig_len};
    r = lc_policy_idset_new(&sd, 1, &one_ops, id, &set);
    if (r < 0) {
        lc_fail(err, r, "out of memory");
        goto out;
    }
    r = lc_chconf_policy_eval_idset(c, READERS, set, err);
out:
    lc_policy_idset_free(set);
    lc_identity_unref(id);
    return r;
}

/* ---- upstream ------------------------------------------------------------------------------ */

static int committer_height(struct eventd *ed, uint64_t *ret, struct lc_errbuf *err)
{
    Weft__HeightRequest req = WEFT__HEIGHT_REQUEST__INIT;
    req.channel_id = (char *)lc_chconf_channel_id(ed->chconf);
    ProtobufCMessage *m = NULL;
    struct lc_rpc_status st = {0};
    int r = lc_rpc_unary(ed->committer, HEIGHT_PATH, &req.base, &weft__height_response__descriptor,
                         UPSTREAM_TIMEOUT_MS, &st, &m);
    if (r < 0)
        return lc_fail(err, r, "committer height: %s %s", lc_rpc_code_name(st.code), st.msg);
    *ret = ((Weft__HeightResponse *)m)->height;
    protobuf_c_message_free_unpacked(m, NULL);
    return 0;
}

/* ---- filtered blocks ----------------------------------------------------------------------- */

/* The chaincode event of one endorser transaction action, or NULL when it has none (or does not
 * decode: such an action is left out). Caller frees with protos__chaincode_event__free_unpacked. */
static Protos__ChaincodeEvent *action_event(const Protos__TransactionAction *ta)
{
    Protos__ChaincodeActionPayload *cap = NULL;
    Protos__ProposalResponsePayload *prp = NULL;
    Protos__ChaincodeAction *ca = NULL;
    Protos__ChaincodeEvent *ev = NULL;
    cap = protos__chaincode_action_payload__unpack(NULL, ta->payload.len, ta->payload.data);
    if (!cap || !cap->action)
        goto out;
    prp =
        protos__proposal_response_payload__unpack(NULL, cap->action->proposal_response_payload.len,
                                                  cap->action->proposal_response_payload.data);
    if (!prp)
        goto out;
    ca = protos__chaincode_action__unpack(NULL, prp->extension.len, prp->extension.data);
    if (!ca || ca->events.len == 0)
        goto out;
    ev = protos__chaincode_event__unpack(NULL, ca->events.len, ca->events.data);
    if (ev && (!ev->chaincode_id || !ev->chaincode_id[0])) {
        protos__chaincode_event__free_unpacked(ev, NULL);
        ev = NULL;
    }
out:
    if (ca)
        protos__chaincode_action__free_unpacked(ca, NULL);
    if (prp)
        protos__proposal_response_payload__free_unpacked(prp, NULL);
    if (cap)
        protos__chaincode_action_payload__free_unpacked(cap, NULL);
    return ev;
}

/* Everything one filtered transaction owns, for the cleanup. */
struct ftx {
    Protos__FilteredTransaction ft;
    Protos__FilteredTransactionActions acts;
    Protos__FilteredChaincodeAction *cas;
    Protos__FilteredChaincodeAction **ca_ptrs;
    Protos__ChaincodeEvent **events;
    size_t n_events;
    Common__Payload *payload;
    Common__ChannelHeader *chdr;
    Protos__Transaction *tx;
};

static void ftx_done(struct ftx *f)
{
    for (size_t i = 0; i < f->n_events; i++)
        protos__chaincode_event__free_unpacked(f->events[i], NULL);
    free(f->events);
    free(f->cas);
    free(f->ca_ptrs);
    if (f->tx)
        protos__transaction__free_unpacked(f->tx, NULL);
    if (f->chdr)
        common__channel_header__free_unpacked(f->chdr, NULL);
    if (f->payload)
        common__payload__free_unpacked(f->payload, NULL);
}

/* Fills f for envelope i of block (wire facts §12). Returns 0 or -ENOMEM; envelopes that do not
 * decode give a transaction with what could be read. */
static int ftx_build(const Common__Block *block, size_t i, struct ftx *f)
{
    protos__filtered_transaction__init(&f->ft);
    protos__filtered_transaction_actions__init(&f->acts);
    const ProtobufCBinaryData *fl =
        block->metadata &&
                block->metadata->n_metadata > COMMON__BLOCK_METADATA_INDEX__TRANSACTIONS_FILTER
            ? &block->metadata->metadata[COMMON__BLOCK_METADATA_INDEX__TRANSACTIONS_FILTER]
            : NULL;
    f->ft.tx_validation_code = fl && i < fl->len ? (Protos__TxValidationCode)fl->data[i]
                                                 : PROTOS__TX_VALIDATION_CODE__INVALID_OTHER_REASON;
    f->ft.txid = (char *)"";
    const ProtobufCBinaryData *eb = &block->data->data[i];
    Common__Envelope *env = common__envelope__unpack(NULL, eb->len, eb->data);
    if (!env)
        return 0;
    f->payload = common__payload__unpack(NULL, env->payload.len, env->payload.data);
    common__envelope__free_unpacked(env, NULL);
    if (!f->payload || !f->payload->header)
        return 0;
    f->chdr = common__channel_header__unpack(NULL, f->payload->header->channel_header.len,
                                             f->payload->header->channel_header.data);
    if (!f->chdr)
        return 0;
    f->ft.txid = f->chdr->tx_id;
    f->ft.type = (Common__HeaderType)f->chdr->type;
    if (f->chdr->type != COMMON__HEADER_TYPE__ENDORSER_TRANSACTION)
        return 0;
    /* every endorser transaction carries transaction_actions, even empty */
    f->ft.data_case = PROTOS__FILTERED_TRANSACTION__DATA_TRANSACTION_ACTIONS;
    f->ft.transaction_actions = &f->acts;
    f->tx = protos__transaction__unpack(NULL, f->payload->data.len, f->payload->data.data);
    if (!f->tx || f->tx->n_actions == 0)
        return 0;
    f->events = calloc(f->tx->n_actions, sizeof *f->events);
    f->cas = calloc(f->tx->n_actions, sizeof *f->cas);
    f->ca_ptrs = calloc(f->tx->n_actions, sizeof *f->ca_ptrs);
    if (!f->events || !f->cas || !f->ca_ptrs)
        return -ENOMEM;
    for (size_t a = 0; a < f->tx->n_actions; a++) {
        Protos__ChaincodeEvent *ev = action_event(f->tx->actions[a]);
        if (!ev)
            continue;
        /* the payload is not sent in filtered blocks */
        ev->payload.len = 0;
        size_t k = f->n_events++;
        f->events[k] = ev;
        protos__filtered_chaincode_action__init(&f->cas[k]);
        f->cas[k].chaincode_event = ev;
        f->ca_ptrs[k] = &f->cas[k];
    }
    f->acts.n_chaincode_actions = f->n_events;
    f->acts.chaincode_actions = f->ca_ptrs;
    return 0;
}

/* Sends DeliverResponse{filtered_block} for block. */
static int send_filtered(struct sub *s, const Common__Block *block)
{
    size_t n = block->data ? block->data->n_data : 0;
    struct ftx *fx = calloc(n ? n : 1, sizeof *fx);
    Protos__FilteredTransaction **fts = calloc(n ? n : 1, sizeof *fts);
    int r = 0;
    if (!fx || !fts) {
        r = -ENOMEM;
        goto out;
    }
    Protos__FilteredBlock fb = PROTOS__FILTERED_BLOCK__INIT;
    fb.channel_id = (char *)lc_chconf_channel_id(s->ed->chconf);
    fb.number = block->header ? block->header->number : 0;
    for (size_t i = 0; i < n && r == 0; i++) {
        r = ftx_build(block, i, &fx[i]);
        fts[i] = &fx[i].ft;
        if (i == 0 && fx[i].chdr && fx[i].chdr->channel_id)
            fb.channel_id = fx[i].chdr->channel_id;
    }
    if (r < 0)
        goto out;
    fb.n_filtered_transactions = n;
    fb.filtered_transactions = fts;
    Protos__DeliverResponse resp = PROTOS__DELIVER_RESPONSE__INIT;
    resp.type_case = PROTOS__DELIVER_RESPONSE__TYPE_FILTERED_BLOCK;
    resp.filtered_block = &fb;
    r = lc_rpc_send(s->call, &resp.base);
out:
    if (fx)
        for (size_t i = 0; i < n; i++)
            ftx_done(&fx[i]);
    free(fx);
    free(fts);
    return r;
}

static int send_block(struct sub *s, const Common__Block *block)
{
    if (s->filtered)
        return send_filtered(s, block);
    Protos__DeliverResponse resp = PROTOS__DELIVER_RESPONSE__INIT;
    resp.type_case = PROTOS__DELIVER_RESPONSE__TYPE_BLOCK;
    resp.block = (Common__Block *)block;
    return lc_rpc_send(s->call, &resp.base);
}

/* ---- the subscriber thread ----------------------------------------------------------------- */

static bool sub_done(struct sub *s)
{
    pthread_mutex_lock(&s->mu);
    bool d = s->done;
    pthread_mutex_unlock(&s->mu);
    return d;
}

/* Sends with back-pressure: on a full queue waits for on_writable (or the end of the call).
 * Returns 0, or < 0 when the call is over or the message cannot be sent. */
static int send_wait(struct sub *s, const Common__Block *block, const Protos__DeliverResponse *st)
{
    for (;;) {
        pthread_mutex_lock(&s->mu);
        s->writable = false;
        pthread_mutex_unlock(&s->mu);
        int r = block ? send_block(s, block) : lc_rpc_send(s->call, &st->base);
        if (r != -EAGAIN)
            return r;
        pthread_mutex_lock(&s->mu);
        while (!s->writable && !s->done)
            pthread_cond_wait(&s->cv, &s->mu);
        bool done = s->done;
        pthread_mutex_unlock(&s->mu);
        if (done)
            return LC_ECLOSED;
    }
}

static int send_status(struct sub *s, Common__Status status, const char *why)
{
    if (status == COMMON__STATUS__NOT_FOUND)
        lc_log_debug(LOG, "deliver not found peer=%s cause=\"%s\"", lc_rpc_call_peer(s->call),
                     why ? why : "");
    else if (status != COMMON__STATUS__SUCCESS)
        lc_log_warn(LOG, "deliver rejected peer=%s status=%d cause=\"%s\"",
                    lc_rpc_call_peer(s->call), (int)status, why ? why : "");
    Protos__DeliverResponse resp = PROTOS__DELIVER_RESPONSE__INIT;
    resp.type_case = PROTOS__DELIVER_RESPONSE__TYPE_STATUS;
    resp.status = status;
    return send_wait(s, NULL, &resp);
}

struct seek {
    uint64_t start, stop;
    bool fail_if_not_ready;
    uint64_t height; /* at request time */
};

static bool position_set(const Orderer__SeekPosition *p)
{
    return p && p->type_case != ORDERER__SEEK_POSITION__TYPE__NOT_SET;
}

/* Checks a request in Fabric's order (wire facts §10 with the peer's policy, §12). Returns
 * SUCCESS and the seek, or the status to answer with (why in err). */
static Common__Status check_request(struct sub *s, const uint8_t *payload, size_t payload_len,
                                    const uint8_t *sig, size_t sig_len, struct seek *ret,
                                    struct lc_errbuf *err)
{
    Common__Payload *p = NULL;
    Common__ChannelHeader *chdr = NULL;
    Common__SignatureHeader *shdr = NULL;
    Orderer__SeekInfo *si = NULL;
    Common__Status st = COMMON__STATUS__BAD_REQUEST;
    time_t now = time(NULL);
    if (lc_wire_unpack(&common__payload__descriptor, payload, payload_len, (ProtobufCMessage **)&p,
                       err) < 0)
        goto out;
    if (!p->header) {
        lc_fail(err, LC_EINVALID, "payload has no header");
        goto out;
    }
    if (LC_WIRE_UNPACK(&common__channel_header__descriptor, p->header->channel_header, &chdr, err) <
            0 ||
        LC_WIRE_UNPACK(&common__signature_header__descriptor, p->header->signature_header, &shdr,
                       err) < 0)
        goto out;
    const Google__Protobuf__Timestamp *ts = chdr->timestamp;
    int64_t w = s->ed->time_window_s;
    if (!ts) {
        lc_fail(err, LC_EINVALID, "channel header has no timestamp");
        goto out;
    }
    if (ts->seconds < (int64_t)now - w || ts->seconds > (int64_t)now + w) {
        lc_fail(err, LC_EINVALID, "timestamp %lld is more than %llds away from now %lld",
                (long long)ts->seconds, (long long)w, (long long)now);
        goto out;
    }
    if (chdr->type != COMMON__HEADER_TYPE__DELIVER_SEEK_INFO) {
        lc_fail(err, LC_EINVALID, "header type %d is not DELIVER_SEEK_INFO", (int)chdr->type);
        goto out;
    }
    if (strcmp(chdr->channel_id, lc_chconf_channel_id(s->ed->chconf)) != 0) {
        lc_fail(err, LC_ENOTFOUND, "channel %.200s not found", chdr->channel_id);
        st = COMMON__STATUS__NOT_FOUND;
        goto out;
    }
    if (LC_WIRE_UNPACK(&orderer__seek_info__descriptor, p->data, &si, err) < 0)
        goto out;
    int r =
        check_signer(s->ed->chconf, &shdr->creator, payload, payload_len, sig, sig_len, now, err);
    if (r < 0) {
        st = r == -ENOMEM ? COMMON__STATUS__INTERNAL_SERVER_ERROR : COMMON__STATUS__FORBIDDEN;
        goto out;
    }
    if (!position_set(si->start) || !position_set(si->stop)) {
        lc_fail(err, LC_EINVALID, "seek info has no start or no stop");
        goto out;
    }
    uint64_t height;
    if (committer_height(s->ed, &height, err) < 0) {
        st = COMMON__STATUS__SERVICE_UNAVAILABLE;
        goto out;
    }
    uint64_t start = 0, stop = 0;
    switch (si->start->type_case) {
    case ORDERER__SEEK_POSITION__TYPE_OLDEST:
        start = 0;
        break;
    case ORDERER__SEEK_POSITION__TYPE_NEWEST:
        start = height ? height - 1 : 0;
        break;
    default:
        start = si->start->specified ? si->start->specified->number : 0;
        if (start > height) {
            lc_fail(err, LC_ENOTFOUND, "start is past the next block");
            st = COMMON__STATUS__NOT_FOUND;
            goto out;
        }
        break;
    }
    switch (si->stop->type_case) {
    case ORDERER__SEEK_POSITION__TYPE_OLDEST:
        stop = start;
        break;
    case ORDERER__SEEK_POSITION__TYPE_NEWEST:
        stop = si->start->type_case == ORDERER__SEEK_POSITION__TYPE_NEWEST ? start
               : height                                                    ? height - 1
                                                                           : 0;
        break;
    default:
        stop = si->stop->specified ? si->stop->specified->number : 0;
        break;
    }
    if (stop < start) {
        lc_fail(err, LC_EINVALID, "stop %llu is before start %llu", (unsigned long long)stop,
                (unsigned long long)start);
        goto out;
    }
    ret->start = start;
    ret->stop = stop;
    ret->height = height;
    ret->fail_if_not_ready = si->behavior == ORDERER__SEEK_INFO__SEEK_BEHAVIOR__FAIL_IF_NOT_READY;
    st = COMMON__STATUS__SUCCESS;
out:
    if (si)
        orderer__seek_info__free_unpacked(si, NULL);
    if (shdr)
        common__signature_header__free_unpacked(shdr, NULL);
    if (chdr)
        common__channel_header__free_unpacked(chdr, NULL);
    if (p)
        common__payload__free_unpacked(p, NULL);
    return st;
}

static void cblock_put(struct eventd *ed, struct cblock *c)
{
    if (c && --c->refs == 0) {
        lc_wire_block_free(c->b);
        free(c);
    }
    (void)ed;
}

/* Appends a block from the shared stream (taken), evicting the oldest when full. */
static void cache_add(struct eventd *ed, Common__Block *b)
{
    struct cblock *c = malloc(sizeof *c);
    pthread_mutex_lock(&ed->cmu);
    if (!c) {
        /* no room: the cache restarts after this block; subscribers read older ones upstream */
        lc_wire_block_free(b);
        for (uint64_t n = ed->lo; n < ed->hi; n++)
            cblock_put(ed, ed->ring[n % ed->cap]);
        ed->lo = ed->hi = ed->hi + 1;
    } else {
        c->refs = 1;
        c->b = b;
        if (ed->hi - ed->lo == ed->cap) {
            cblock_put(ed, ed->ring[ed->lo % ed->cap]);
            ed->lo++;
        }
        ed->ring[ed->hi % ed->cap] = c;
        ed->hi++;
    }
    pthread_cond_broadcast(&ed->ccv);
    pthread_mutex_unlock(&ed->cmu);
}

static bool hub_stopping(struct eventd *ed)
{
    pthread_mutex_lock(&ed->cmu);
    bool st = ed->stopping;
    pthread_mutex_unlock(&ed->cmu);
    return st;
}

/* Waits up to ms unless stopping. */
static void hub_pause(struct eventd *ed, int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&ed->cmu);
    if (!ed->stopping)
        pthread_cond_timedwait(&ed->ccv, &ed->cmu, &ts);
    pthread_mutex_unlock(&ed->cmu);
}

/* The one upstream stream: from the cache's start (the last cap blocks at startup), then live;
 * reopened from the cache's end after a failure. */
static void *hub_thread(void *arg)
{
    struct eventd *ed = arg;
    while (!hub_stopping(ed)) {
        struct lc_errbuf eb = {{0}};
        if (!ed->started) {
            uint64_t h;
            if (committer_height(ed, &h, &eb) < 0) {
                lc_log_debug(LOG, "committer not reachable cause=\"%s\"", eb.msg);
                hub_pause(ed, 1000);
                continue;
            }
            pthread_mutex_lock(&ed->cmu);
            ed->lo = ed->hi = h > ed->cap ? h - ed->cap : 0;
            ed->started = true;
            pthread_mutex_unlock(&ed->cmu);
        }
        pthread_mutex_lock(&ed->cmu);
        uint64_t from = ed->hi;
        pthread_mutex_unlock(&ed->cmu);
        Weft__BlocksRequest req = WEFT__BLOCKS_REQUEST__INIT;
        req.channel_id = (char *)lc_chconf_channel_id(ed->chconf);
        req.start = from;
        struct lc_rpc_stream *up = NULL;
        int r = lc_rpc_stream_open(ed->committer, BLOCKS_PATH, -1, &up);
        if (r == 0)
            r = lc_rpc_stream_send(up, &req.base, UPSTREAM_TIMEOUT_MS);
        if (r == 0)
            r = lc_rpc_stream_close_send(up, UPSTREAM_TIMEOUT_MS);
        while ((r == 0 || r == -EAGAIN) && !hub_stopping(ed)) {
            ProtobufCMessage *m = NULL;
            r = lc_rpc_stream_recv(up, &common__block__descriptor, POLL_MS, &m);
            if (r < 0)
                continue;
            Common__Block *b = (Common__Block *)m;
            if (!b->header || b->header->number != from) {
                lc_wire_block_free(b);
                r = LC_EINVALID;
                break;
            }
            cache_add(ed, b);
            from++;
        }
        lc_rpc_stream_free(up);
        if (!hub_stopping(ed)) {
            lc_log_warn(LOG, "committer stream ended cause=\"%s\"", lc_strerror(r));
            hub_pause(ed, 1000);
        }
    }
    return NULL;
}

/* Block `next` from the cache, with a reference (release with cblock_put under cmu): 0; 1 when
 * it is older than the cache; 2 when it has not arrived. */
static int cache_get(struct eventd *ed, uint64_t next, struct cblock **ret)
{
    if (!ed->started || next >= ed->hi)
        return 2;
    if (next < ed->lo)
        return 1;
    struct cblock *c = ed->ring[next % ed->cap];
    c->refs++;
    *ret = c;
    return 0;
}

/* Opens a private upstream stream from `from`, for blocks older than the cache. */
static int open_upstream(struct sub *s, uint64_t from, struct lc_rpc_stream **ret)
{
    Weft__BlocksRequest req = WEFT__BLOCKS_REQUEST__INIT;
    req.channel_id = (char *)lc_chconf_channel_id(s->ed->chconf);
    req.start = from;
    struct lc_rpc_stream *up = NULL;
    int r = lc_rpc_stream_open(s->ed->committer, BLOCKS_PATH, -1, &up);
    if (r == 0)
        r = lc_rpc_stream_send(up, &req.base, UPSTREAM_TIMEOUT_MS);
    if (r == 0)
        r = lc_rpc_stream_close_send(up, UPSTREAM_TIMEOUT_MS);
    if (r < 0 && r != LC_ECLOSED) {
        lc_rpc_stream_free(up);
        return r;
    }
    *ret = up;
    return 0;
}

/* Serves the seek from the cache, and from a private upstream stream for blocks older than
 * the cache. Returns the status that ends the seek, or UNKNOWN when the call is over. */
static Common__Status serve(struct sub *s, const struct seek *sk, struct lc_errbuf *err)
{
    struct eventd *ed = s->ed;
    uint64_t next = sk->start, up_next = 0;
    struct lc_rpc_stream *up = NULL;
    Common__Status st = COMMON__STATUS__UNKNOWN;
    for (;;) {
        if (sub_done(s))
            goto out;
        if (sk->fail_if_not_ready && next >= sk->height) {
            lc_fail(err, LC_ENOTFOUND, "block not yet available");
            st = COMMON__STATUS__NOT_FOUND;
            goto out;
        }
        struct cblock *c = NULL;
        Common__Block *own = NULL;
        pthread_mutex_lock(&ed->cmu);
        int where = cache_get(ed, next, &c);
        if (where == 2 && !ed->stopping) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += POLL_MS * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&ed->ccv, &ed->cmu, &ts);
        }
        pthread_mutex_unlock(&ed->cmu);
        if (where == 2)
            continue;
        if (where == 1) {
            if (up && up_next != next) {
                lc_rpc_stream_free(up);
                up = NULL;
            }
            if (!up) {
                int r = open_upstream(s, next, &up);
                if (r < 0) {
                    lc_fail(err, r, "committer blocks stream: %s", lc_strerror(r));
                    st = COMMON__STATUS__SERVICE_UNAVAILABLE;
                    goto out;
                }
                up_next = next;
            }
            ProtobufCMessage *m = NULL;
            int r = lc_rpc_stream_recv(up, &common__block__descriptor, POLL_MS, &m);
            if (r == -EAGAIN)
                continue;
            if (r < 0) {
                lc_fail(err, r, "committer blocks stream ended: %s", lc_strerror(r));
                st = COMMON__STATUS__SERVICE_UNAVAILABLE;
                goto out;
            }
            own = (Common__Block *)m;
            up_next++;
            if (!own->header || own->header->number != next) {
                lc_wire_block_free(own);
                lc_fail(err, LC_EINVALID, "committer sent another block than %llu",
                        (unsigned long long)next);
                st = COMMON__STATUS__INTERNAL_SERVER_ERROR;
                goto out;
            }
        }
        int r = send_wait(s, own ? own : c->b, NULL);
        lc_wire_block_free(own);
        if (c) {
            pthread_mutex_lock(&ed->cmu);
            cblock_put(ed, c);
            pthread_mutex_unlock(&ed->cmu);
        }
        if (r < 0)
            goto out; /* the call is over */
        if (next == sk->stop) {
            st = COMMON__STATUS__SUCCESS;
            goto out;
        }
        next++;
    }
out:
    lc_rpc_stream_free(up);
    return st;
}

static void sub_free(struct sub *s)
{
    free(s->payload);
    free(s->sig);
    lc_rpc_call_unref(s->call);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static void *sub_thread(void *arg)
{
    struct sub *s = arg;
    struct eventd *ed = s->ed;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (!s->have_req && !s->half_closed && !s->done)
            pthread_cond_wait(&s->cv, &s->mu);
        uint8_t *payload = s->payload, *sig = s->sig;
        size_t payload_len = s->payload_len, sig_len = s->sig_len;
        bool have = s->have_req, done = s->done;
        s->payload = s->sig = NULL;
        s->have_req = false;
        pthread_mutex_unlock(&s->mu);
        if (done) {
            free(payload);
            free(sig);
            break;
        }
        if (!have) { /* half-closed with nothing pending */
            lc_rpc_finish(s->call, LC_RPC_OK, NULL);
            break;
        }
        struct lc_errbuf eb = {{0}};
        struct seek sk = {0};
        Common__Status st = check_request(s, payload, payload_len, sig, sig_len, &sk, &eb);
        free(payload);
        free(sig);
        if (st == COMMON__STATUS__SUCCESS) {
            lc_log_debug(LOG, "deliver started peer=%s filtered=%d start=%llu stop=%llu",
                         lc_rpc_call_peer(s->call), (int)s->filtered, (unsigned long long)sk.start,
                         (unsigned long long)sk.stop);
            st = serve(s, &sk, &eb);
        }
        if (st == COMMON__STATUS__UNKNOWN)
            break;
        if (send_status(s, st, eb.msg) < 0 || st != COMMON__STATUS__SUCCESS) {
            lc_rpc_finish(s->call, LC_RPC_OK, NULL);
            break;
        }
        lc_rpc_recv_resume(s->call); /* ready for the next SeekInfo */
    }
    /* wait for on_done before freeing: it signals through s */
    pthread_mutex_lock(&s->mu);
    while (!s->done)
        pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
    sub_free(s);
    pthread_mutex_lock(&ed->mu);
    ed->live--;
    pthread_cond_broadcast(&ed->cv);
    pthread_mutex_unlock(&ed->mu);
    return NULL;
}

/* ---- RPC callbacks ------------------------------------------------------------------------- */

static void on_open(struct lc_rpc_call *call)
{
    struct eventd *ed = lc_rpc_call_ctx(call);
    struct sub *s = calloc(1, sizeof *s);
    if (!s) {
        lc_rpc_finish(call, LC_RPC_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    s->ed = ed;
    s->filtered = strstr(lc_rpc_call_method(call), "DeliverFiltered") != NULL;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->call = lc_rpc_call_ref(call);
    pthread_mutex_lock(&ed->mu);
    ed->live++;
    pthread_mutex_unlock(&ed->mu);
    pthread_t t;
    if (pthread_create(&t, NULL, sub_thread, s) != 0) {
        pthread_mutex_lock(&ed->mu);
        ed->live--;
        pthread_mutex_unlock(&ed->mu);
        sub_free(s);
        lc_rpc_finish(call, LC_RPC_RESOURCE_EXHAUSTED, "cannot start a thread");
        return;
    }
    pthread_detach(t);
    lc_rpc_call_set_data(call, s);
}

static void on_message(struct lc_rpc_call *call, const ProtobufCMessage *msg)
{
    struct sub *s = lc_rpc_call_data(call);
    const Common__Envelope *env = (const Common__Envelope *)msg;
    if (!s)
        return;
    uint8_t *p = malloc(env->payload.len ? env->payload.len : 1);
    uint8_t *g = malloc(env->signature.len ? env->signature.len : 1);
    if (!p || !g) {
        free(p);
        free(g);
        lc_rpc_finish(call, LC_RPC_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    if (env->payload.len)
        memcpy(p, env->payload.data, env->payload.len);
    if (env->signature.len)
        memcpy(g, env->signature.data, env->signature.len);
    lc_rpc_recv_pause(call); /* one request at a time */
    pthread_mutex_lock(&s->mu);
    free(s->payload);
    free(s->sig);
    s->payload = p;
    s->payload_len = env->payload.len;
    s->sig = g;
    s->sig_len = env->signature.len;
    s->have_req = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void on_half_close(struct lc_rpc_call *call)
{
    struct sub *s = lc_rpc_call_data(call);
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->half_closed = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void on_writable(struct lc_rpc_call *call)
{
    struct sub *s = lc_rpc_call_data(call);
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->writable = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void on_done(struct lc_rpc_call *call, bool cancelled)
{
    struct sub *s = lc_rpc_call_data(call);
    (void)cancelled;
    if (!s)
        return;
    lc_rpc_call_set_data(call, NULL);
    pthread_mutex_lock(&s->mu);
    s->done = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static const struct lc_rpc_method methods[] = {
    {.path = "/protos.Deliver/Deliver",
     .kind = LC_RPC_BIDI_STREAM,
     .request = &common__envelope__descriptor,
     .on_open = on_open,
     .on_message = on_message,
     .on_half_close = on_half_close,
     .on_writable = on_writable,
     .on_done = on_done},
    {.path = "/protos.Deliver/DeliverFiltered",
     .kind = LC_RPC_BIDI_STREAM,
     .request = &common__envelope__descriptor,
     .on_open = on_open,
     .on_message = on_message,
     .on_half_close = on_half_close,
     .on_writable = on_writable,
     .on_done = on_done},
};

int eventd_new(const struct eventd_opts *o, struct lc_rpc_server *rpc, struct lc_errbuf *err,
               struct eventd **ret)
{
    struct eventd *ed = calloc(1, sizeof *ed);
    if (!ed)
        return lc_fail(err, -ENOMEM, "out of memory");
    ed->chconf = o->chconf;
    ed->time_window_s = o->time_window_ms / 1000;
    ed->cap = o->cache_blocks ? o->cache_blocks : 1;
    pthread_mutex_init(&ed->mu, NULL);
    pthread_cond_init(&ed->cv, NULL);
    pthread_mutex_init(&ed->cmu, NULL);
    pthread_cond_init(&ed->ccv, NULL);
    ed->ring = calloc(ed->cap, sizeof *ed->ring);
    int r = ed->ring ? lc_rpc_client_new(o->committer, NULL, err, &ed->committer)
                     : lc_fail(err, -ENOMEM, "out of memory");
    if (r == 0)
        r = lc_rpc_server_add(rpc, methods, sizeof methods / sizeof methods[0], ed, err);
    if (r == 0) {
        r = -pthread_create(&ed->hub, NULL, hub_thread, ed);
        if (r < 0)
            lc_fail(err, r, "cannot start the committer stream thread");
        else
            ed->hub_running = true;
    }
    if (r < 0) {
        eventd_free(ed);
        return r;
    }
    *ret = ed;
    return 0;
}

void eventd_free(struct eventd *ed)
{
    if (!ed)
        return;
    pthread_mutex_lock(&ed->mu);
    while (ed->live > 0)
        pthread_cond_wait(&ed->cv, &ed->mu);
    pthread_mutex_unlock(&ed->mu);
    pthread_mutex_lock(&ed->cmu);
    ed->stopping = true;
    pthread_cond_broadcast(&ed->ccv);
    pthread_mutex_unlock(&ed->cmu);
    if (ed->hub_running)
        pthread_join(ed->hub, NULL);
    if (ed->ring)
        for (uint64_t n = ed->lo; n < ed->hi; n++)
            cblock_put(ed, ed->ring[n % ed->cap]);
    free(ed->ring);
    lc_rpc_client_free(ed->committer);
    pthread_cond_destroy(&ed->ccv);
    pthread_mutex_destroy(&ed->cmu);
    pthread_cond_destroy(&ed->cv);
    pthread_mutex_destroy(&ed->mu);
    free(ed);
}
