/* SPDX-License-Identifier: Apache-2.0 */
/* The one wrapper over the gRPC C core: server workers and call state machines, blocking client. */
#include "libcommon/rpc.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/alloc.h>
#include <grpc/support/log.h>
#include <grpc/support/time.h>

#include "libcommon/log.h"
#include "libcommon/wire.h"

#define LOG "rpc"

#define DEF_THREADS 1u
#define MAX_THREADS 64u
#define DEF_SQ_MSGS 64u
#define DEF_SQ_BYTES (16u * 1024u * 1024u)
#define DEF_MIN_PING_MS 10000u
#define DEF_KEEPALIVE_MS 7200000u
#define DEF_KEEPALIVE_TIMEOUT_MS 20000u
#define DEF_DEADLINE_MS 30000u
#define DEF_MAX_BACKOFF_MS 10000u
#define MAX_ADDR_LEN 512
#define MAX_PATH_LEN 256
/* Request slots kept posted per method per worker queue, so a burst never waits for a re-arm. */
#define SLOTS_PER_METHOD 2
/* After the grace period: how long calls get to deliver their UNAVAILABLE before being cut. */
#define SHUTDOWN_FLUSH_MS 1000
#define SHUTDOWN_MSG "server shutting down"

/* ------------------------------------------------------------------------------------------ */
/* Codes                                                                                      */
/* ------------------------------------------------------------------------------------------ */

/* Every message off the wire is scanned (depth, field 0, groups) before protobuf-c decodes it. */
static ProtobufCMessage *rpc_decode(const ProtobufCMessageDescriptor *d, size_t len,
                                    const uint8_t *data)
{
    if (lc_wire_scan(d, data, len, NULL) < 0)
        return NULL;
    return protobuf_c_message_unpack(d, NULL, len, data);
}

static const char *const code_names[] = {
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
};

const char *lc_rpc_code_name(enum lc_rpc_code code)
{
    if ((unsigned)code < sizeof code_names / sizeof code_names[0])
        return code_names[code];
    return "UNKNOWN_CODE";
}

enum lc_rpc_code lc_rpc_code_from_err(int err)
{
    switch (err) {
    case 0:
        return LC_RPC_OK;
    case LC_EDECODE:
    case LC_EINVALID:
    case LC_ESYNTAX:
        return LC_RPC_INVALID_ARGUMENT;
    case LC_ENOTFOUND:
        return LC_RPC_NOT_FOUND;
    case LC_EEXISTS:
        return LC_RPC_ALREADY_EXISTS;
    case LC_EBADSIG:
    case LC_EHIGHS:
    case LC_EBADCERT:
    case LC_EEXPIRED:
    case LC_EREVOKED:
    case LC_EUNKNOWNMSP:
    case LC_EROLE:
    case LC_EBADKEY:
        return LC_RPC_UNAUTHENTICATED;
    case LC_EPOLICY:
    case -EACCES:
    case -EPERM:
        return LC_RPC_PERMISSION_DENIED;
    case LC_ETOOBIG:
    case LC_EMAPFULL:
    case -ENOMEM:
    case -EAGAIN:
        return LC_RPC_RESOURCE_EXHAUSTED;
    case LC_EUNAVAIL:
    case LC_ECLOSED:
        return LC_RPC_UNAVAILABLE;
    case LC_ETIMEOUT:
        return LC_RPC_DEADLINE_EXCEEDED;
    case LC_EMISMATCH:
        return LC_RPC_FAILED_PRECONDITION;
    case -ECANCELED:
        return LC_RPC_CANCELLED;
    case -ENOSYS:
        return LC_RPC_UNIMPLEMENTED;
    default:
        return LC_RPC_INTERNAL;
    }
}

int lc_rpc_err_from_code(enum lc_rpc_code code)
{
    switch (code) {
    case LC_RPC_OK:
        return 0;
    case LC_RPC_UNAVAILABLE:
        return LC_EUNAVAIL;
    case LC_RPC_DEADLINE_EXCEEDED:
        return LC_ETIMEOUT;
    case LC_RPC_INVALID_ARGUMENT:
        return LC_EINVALID;
    case LC_RPC_NOT_FOUND:
        return LC_ENOTFOUND;
    case LC_RPC_ALREADY_EXISTS:
        return LC_EEXISTS;
    case LC_RPC_RESOURCE_EXHAUSTED:
        return LC_ETOOBIG;
    case LC_RPC_PERMISSION_DENIED:
    case LC_RPC_UNAUTHENTICATED:
        return -EACCES;
    case LC_RPC_CANCELLED:
        return -ECANCELED;
    case LC_RPC_UNIMPLEMENTED:
        return -ENOSYS;
    default:
        return -EREMOTEIO;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Helpers                                                                                    */
/* ------------------------------------------------------------------------------------------ */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A gRPC deadline in our own monotonic milliseconds (INT64_MAX for none). */
static int64_t deadline_to_mono(gpr_timespec d)
{
    gpr_timespec m = gpr_convert_clock_type(d, GPR_CLOCK_MONOTONIC);
    if (gpr_time_cmp(m, gpr_inf_future(GPR_CLOCK_MONOTONIC)) >= 0)
        return INT64_MAX;
    gpr_timespec left = gpr_time_sub(m, gpr_now(GPR_CLOCK_MONOTONIC));
    int64_t ms = left.tv_sec * 1000 + left.tv_nsec / 1000000;
    return mono_ms() + ms;
}

/* gRPC core's own log lines go through ours, at debug level (their verbosity is still set by
 * GRPC_VERBOSITY): what matters to callers comes back as codes and messages. */
static void grpc_log_line(gpr_log_func_args *a)
{
    lc_log_debug("grpc", "%s at=%s:%d", a->message, a->file, a->line);
}

static void lib_ref(void)
{
    gpr_set_log_function(grpc_log_line);
    grpc_init();
}

/* A wait bound: < 0 forever, 0 just a look, > 0 that many ms from now. */
static gpr_timespec wait_bound(int timeout_ms)
{
    if (timeout_ms < 0)
        return gpr_inf_future(GPR_CLOCK_MONOTONIC);
    if (timeout_ms == 0)
        return gpr_inf_past(GPR_CLOCK_MONOTONIC);
    return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                        gpr_time_from_millis(timeout_ms, GPR_TIMESPAN));
}

/* Packs msg into a fresh byte buffer; LC_ETOOBIG over max. */
static int pack_bb(const ProtobufCMessage *msg, size_t max, grpc_byte_buffer **ret_bb,
                   size_t *ret_len)
{
    size_t n = protobuf_c_message_get_packed_size(msg);
    if (n > max)
        return LC_ETOOBIG;
    grpc_slice s = grpc_slice_malloc(n);
    size_t w = protobuf_c_message_pack(msg, GRPC_SLICE_START_PTR(s));
    assert(w == n);
    (void)w;
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&s, 1);
    grpc_slice_unref(s);
    *ret_bb = bb;
    *ret_len = n;
    return 0;
}

/* The bytes of a received buffer as one slice (caller unrefs). */
static grpc_slice bb_slice(grpc_byte_buffer *bb)
{
    grpc_byte_buffer_reader r;
    if (!grpc_byte_buffer_reader_init(&r, bb))
        return grpc_empty_slice();
    grpc_slice s = grpc_byte_buffer_reader_readall(&r);
    grpc_byte_buffer_reader_destroy(&r);
    return s;
}

static void copy_msg(char *dst, size_t cap, const char *src, size_t len)
{
    if (len >= cap)
        len = cap - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

static bool path_ok(const char *p)
{
    /* "/package.Service/Method": two non-empty parts, printable, no spaces. */
    if (!p || p[0] != '/')
        return false;
    size_t n = strnlen(p, MAX_PATH_LEN + 1);
    if (n > MAX_PATH_LEN)
        return false;
    const char *slash = strchr(p + 1, '/');
    if (!slash || slash == p + 1 || slash[1] == '\0' || strchr(slash + 1, '/'))
        return false;
    for (const char *c = p; *c; c++)
        if (*c <= ' ' || *c > '~')
            return false;
    return true;
}

/* ------------------------------------------------------------------------------------------ */
/* Server state                                                                               */
/* ------------------------------------------------------------------------------------------ */

enum tag_kind { TAG_SLOT = 1, TAG_CLOSE, TAG_RECV, TAG_SEND, TAG_STATUS };

/* What a call batch's tag points to; the worker finds the call through it. */
struct op_tag {
    enum tag_kind kind;
    struct lc_rpc_call *call;
};

struct reg {
    const struct lc_rpc_method *m;
    void *ctx;
    void *handle; /* grpc_server_register_method's */
};

struct worker {
    struct lc_rpc_server *srv;
    grpc_completion_queue *cq;
    pthread_t thread;
    bool running;
};

/* A posted grpc_server_request_*call: filled by gRPC when a call arrives. */
struct slot {
    enum tag_kind kind; /* TAG_SLOT, first so a tag's kind can be read through any tag */
    struct worker *w;
    struct reg *reg; /* NULL: the catch-all slot for methods nobody registered */
    grpc_call *gc;
    gpr_timespec deadline;
    grpc_metadata_array md;
    grpc_call_details details;
    grpc_byte_buffer *payload;
};

enum srv_state { SRV_NEW, SRV_RUNNING, SRV_STOPPING, SRV_DOWN };

struct lc_rpc_server {
    grpc_server *gs;
    grpc_completion_queue *shutdown_cq;
    struct worker *workers;
    unsigned n_workers;
    struct reg *regs;
    size_t n_regs;
    char *listen;
    int port;
    size_t max_recv, max_send, sq_bytes;
    unsigned sq_msgs;
    bool grpc_ref;
    bool failed; /* start failed: only free remains */

    pthread_mutex_t mu; /* guards what follows; taken before a call's mu, never after */
    pthread_cond_t cv;  /* state, slots and n_live changes (CLOCK_MONOTONIC) */
    enum srv_state state;
    bool ending;  /* grace over: calls get UNAVAILABLE */
    size_t slots; /* request slots posted and not completed */
    size_t n_live;
    struct lc_rpc_call *live; /* calls whose gRPC side is not released yet */
};

struct out_msg {
    struct out_msg *next;
    grpc_byte_buffer *bb;
    size_t len;
};

struct lc_rpc_call {
    atomic_int refs;
    /* Fixed at creation. */
    struct lc_rpc_server *srv; /* valid while !closed; NULL once retired */
    const struct reg *reg;     /* NULL: unknown method (answered here) */
    enum lc_rpc_kind kind;
    grpc_call *gc;
    int64_t deadline_ms; /* monotonic, INT64_MAX for none */
    unsigned sq_msgs;
    size_t sq_bytes;
    char *peer;
    grpc_metadata_array md;
    grpc_byte_buffer *payload;
    struct lc_rpc_call *prev, *next; /* srv->live, under srv->mu */
    struct op_tag t_close, t_recv, t_send, t_status;

    pthread_mutex_t mu; /* guards the state below and every grpc_call_start_batch */
    unsigned batches;   /* started and not completed */
    bool closed;        /* RECV_CLOSE_ON_SERVER completed: the call is over */
    bool retired;
    bool visible; /* on_request/on_open ran: on_done is owed */
    bool md_sent;
    bool finishing; /* a status is set */
    bool by_wrapper;
    bool status_started;
    bool half_closed;
    bool recv_pending;
    bool send_pending;
    bool want_writable;
    int paused;
    int grpc_cancelled;
    enum lc_rpc_code code;
    char detail[256];
    grpc_slice detail_slice;
    grpc_byte_buffer *reply_bb;
    grpc_byte_buffer *send_bb;
    size_t send_len;
    grpc_byte_buffer *recv_bb;
    struct out_msg *q_head, *q_tail;
    unsigned q_len; /* queued + in flight */
    size_t q_bytes;
    grpc_slice cur; /* bidi: the bytes of the message in on_message */
    bool cur_set;

    /* Owned by the call until the last unref. */
    ProtobufCMessage *req;
    uint8_t *req_bytes;
    size_t req_len;
    _Atomic(void *) data;
};

static const char *call_path(const struct lc_rpc_call *c)
{
    return c->reg ? c->reg->m->path : "(unknown)";
}

/* --- batches (call->mu held) --- */

static bool start_batch_locked(struct lc_rpc_call *c, const grpc_op *ops, size_t n,
                               struct op_tag *tag)
{
    grpc_call_error e = grpc_call_start_batch(c->gc, ops, n, tag, NULL);
    if (e != GRPC_CALL_OK) {
        lc_log_debug(LOG, "start batch failed method=%s err=%d", call_path(c), (int)e);
        grpc_call_cancel(c->gc, NULL); /* make sure the call still ends */
        return false;
    }
    c->batches++;
    return true;
}

static void start_status_locked(struct lc_rpc_call *c)
{
    grpc_op ops[3];
    size_t n = 0;
    memset(ops, 0, sizeof ops);
    if (!c->md_sent) {
        ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
        c->md_sent = true;
    }
    if (c->reply_bb) {
        ops[n].op = GRPC_OP_SEND_MESSAGE;
        ops[n++].data.send_message.send_message = c->reply_bb;
    }
    /* The details slice must live until the batch completes (freed in on_status_done). */
    c->detail_slice = grpc_slice_from_copied_string(c->detail);
    ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    ops[n].data.send_status_from_server.status = (grpc_status_code)c->code;
    ops[n++].data.send_status_from_server.status_details = &c->detail_slice;
    c->status_started = true;
    if (!start_batch_locked(c, ops, n, &c->t_status)) {
        grpc_slice_unref(c->detail_slice);
        c->detail_slice = grpc_empty_slice();
    }
}

static void start_next_send_locked(struct lc_rpc_call *c)
{
    struct out_msg *m = c->q_head;
    c->q_head = m->next;
    if (!c->q_head)
        c->q_tail = NULL;
    c->send_bb = m->bb;
    c->send_len = m->len;
    free(m);
    grpc_op ops[2];
    size_t n = 0;
    memset(ops, 0, sizeof ops);
    if (!c->md_sent) {
        ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
        c->md_sent = true;
    }
    ops[n].op = GRPC_OP_SEND_MESSAGE;
    ops[n++].data.send_message.send_message = c->send_bb;
    c->send_pending = true;
    if (!start_batch_locked(c, ops, n, &c->t_send)) {
        c->send_pending = false;
        grpc_byte_buffer_destroy(c->send_bb);
        c->send_bb = NULL;
        c->q_len--;
        c->q_bytes -= c->send_len;
    }
}

/* Drops the queued messages that are not in flight. */
static void drop_queue_locked(struct lc_rpc_call *c)
{
    while (c->q_head) {
        struct out_msg *m = c->q_head;
        c->q_head = m->next;
        c->q_len--;
        c->q_bytes -= m->len;
        grpc_byte_buffer_destroy(m->bb);
        free(m);
    }
    c->q_tail = NULL;
}

/* Sets the final status; it goes out once the queue is empty. */
static int finish_locked(struct lc_rpc_call *c, enum lc_rpc_code code, const char *msg,
                         bool by_wrapper)
{
    if (c->closed || c->finishing)
        return LC_ECLOSED;
    c->finishing = true;
    c->by_wrapper = by_wrapper;
    c->code = code;
    copy_msg(c->detail, sizeof c->detail, msg, strlen(msg));
    lc_log_debug(LOG, "finish method=%s code=%s by=%s msg=\"%s\"", call_path(c),
                 lc_rpc_code_name(code), by_wrapper ? "rpc" : "service", c->detail);
    if (!c->send_pending && !c->q_head)
        start_status_locked(c);
    return 0;
}

static bool queue_full(const struct lc_rpc_call *c)
{
    return c->q_len >= c->sq_msgs || c->q_bytes >= c->sq_bytes;
}

static void maybe_post_recv_locked(struct lc_rpc_call *c)
{
    if (c->kind != LC_RPC_BIDI_STREAM || !c->reg || !c->visible || c->recv_pending || c->closed ||
        c->finishing || c->half_closed || c->paused > 0 || queue_full(c))
        return;
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_RECV_MESSAGE;
    op.data.recv_message.recv_message = &c->recv_bb;
    if (start_batch_locked(c, &op, 1, &c->t_recv))
        c->recv_pending = true;
}

/* --- call objects --- */

struct lc_rpc_call *lc_rpc_call_ref(struct lc_rpc_call *call)
{
    atomic_fetch_add(&call->refs, 1);
    return call;
}

void lc_rpc_call_unref(struct lc_rpc_call *call)
{
    if (!call || atomic_fetch_sub(&call->refs, 1) != 1)
        return;
    /* Everything gRPC owned went at retire; what is left is plain memory. */
    if (call->req)
        protobuf_c_message_free_unpacked(call->req, NULL);
    free(call->req_bytes);
    free(call->peer);
    pthread_mutex_destroy(&call->mu);
    free(call);
}

void *lc_rpc_call_ctx(const struct lc_rpc_call *call)
{
    return call->reg ? call->reg->ctx : NULL;
}

void lc_rpc_call_set_data(struct lc_rpc_call *call, void *data)
{
    atomic_store(&call->data, data);
}

void *lc_rpc_call_data(const struct lc_rpc_call *call)
{
    return atomic_load(&((struct lc_rpc_call *)call)->data);
}

const char *lc_rpc_call_method(const struct lc_rpc_call *call)
{
    return call_path(call);
}

const char *lc_rpc_call_peer(const struct lc_rpc_call *call)
{
    return call->peer ? call->peer : "";
}

int64_t lc_rpc_call_time_left_ms(const struct lc_rpc_call *call)
{
    if (call->deadline_ms == INT64_MAX)
        return INT64_MAX;
    return call->deadline_ms - mono_ms();
}

int lc_rpc_call_request_bytes(const struct lc_rpc_call *call, const uint8_t **ret_data,
                              size_t *ret_len)
{
    struct lc_rpc_call *c = (struct lc_rpc_call *)call;
    int r = -ENOENT;
    if (c->kind != LC_RPC_BIDI_STREAM) {
        if (c->req) {
            *ret_data = c->req_bytes;
            *ret_len = c->req_len;
            r = 0;
        }
        return r;
    }
    pthread_mutex_lock(&c->mu);
    if (c->cur_set) {
        *ret_data = GRPC_SLICE_START_PTR(c->cur);
        *ret_len = GRPC_SLICE_LENGTH(c->cur);
        r = 0;
    }
    pthread_mutex_unlock(&c->mu);
    return r;
}

int lc_rpc_reply(struct lc_rpc_call *call, const ProtobufCMessage *msg)
{
    if (call->kind != LC_RPC_UNARY || !call->reg)
        return -EINVAL;
    pthread_mutex_lock(&call->mu);
    bool over = call->closed || call->finishing;
    size_t max = over ? 0 : call->srv->max_send;
    pthread_mutex_unlock(&call->mu);
    if (over)
        return LC_ECLOSED;
    grpc_byte_buffer *bb = NULL;
    size_t len = 0;
    int r = pack_bb(msg, max, &bb, &len);
    if (r < 0)
        return r;
    pthread_mutex_lock(&call->mu);
    if (call->closed || call->finishing) {
        r = LC_ECLOSED;
    } else {
        call->reply_bb = bb;
        bb = NULL;
        r = finish_locked(call, LC_RPC_OK, "", false);
    }
    pthread_mutex_unlock(&call->mu);
    if (bb)
        grpc_byte_buffer_destroy(bb);
    return r;
}

static int enqueue(struct lc_rpc_call *c, grpc_byte_buffer *bb, size_t len)
{
    int r = 0;
    pthread_mutex_lock(&c->mu);
    if (c->closed || c->finishing) {
        r = LC_ECLOSED;
    } else if (c->q_len > 0 && (c->q_len >= c->sq_msgs || c->q_bytes + len > c->sq_bytes)) {
        c->want_writable = true;
        r = -EAGAIN;
    } else {
        struct out_msg *m = malloc(sizeof *m);
        if (!m) {
            r = -ENOMEM;
        } else {
            m->next = NULL;
            m->bb = bb;
            m->len = len;
            if (c->q_tail)
                c->q_tail->next = m;
            else
                c->q_head = m;
            c->q_tail = m;
            c->q_len++;
            c->q_bytes += len;
            bb = NULL;
            if (!c->send_pending)
                start_next_send_locked(c);
        }
    }
    pthread_mutex_unlock(&c->mu);
    if (bb)
        grpc_byte_buffer_destroy(bb);
    return r;
}

/* Checks that a send may be tried at all, and reads the size limit. */
static int send_precheck(struct lc_rpc_call *c, size_t *ret_max)
{
    if (c->kind == LC_RPC_UNARY || !c->reg)
        return -EINVAL;
    int r = 0;
    pthread_mutex_lock(&c->mu);
    if (c->closed || c->finishing) {
        r = LC_ECLOSED;
    } else if (queue_full(c)) {
        /* Full whatever the size: say so before packing a message that would be thrown away. */
        c->want_writable = true;
        r = -EAGAIN;
    } else {
        *ret_max = c->srv->max_send;
    }
    pthread_mutex_unlock(&c->mu);
    return r;
}

int lc_rpc_send(struct lc_rpc_call *call, const ProtobufCMessage *msg)
{
    size_t max = 0;
    int r = send_precheck(call, &max);
    if (r < 0)
        return r;
    grpc_byte_buffer *bb = NULL;
    size_t len = 0;
    r = pack_bb(msg, max, &bb, &len);
    if (r < 0)
        return r;
    return enqueue(call, bb, len);
}

int lc_rpc_send_raw(struct lc_rpc_call *call, const uint8_t *data, size_t len)
{
    size_t max = 0;
    int r = send_precheck(call, &max);
    if (r < 0)
        return r;
    if (len > max)
        return LC_ETOOBIG;
    if (!data && len)
        return -EINVAL;
    grpc_slice s = grpc_slice_from_copied_buffer((const char *)data, len);
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&s, 1);
    grpc_slice_unref(s);
    return enqueue(call, bb, len);
}

int lc_rpc_finish(struct lc_rpc_call *call, enum lc_rpc_code code, const char *fmt, ...)
{
    if ((unsigned)code > LC_RPC_UNAUTHENTICATED ||
        (call->kind == LC_RPC_UNARY && code == LC_RPC_OK))
        return -EINVAL;
    char msg[256] = "";
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
    }
    pthread_mutex_lock(&call->mu);
    int r = finish_locked(call, code, msg, false);
    pthread_mutex_unlock(&call->mu);
    return r;
}

static int pause_change(struct lc_rpc_call *c, int delta)
{
    if (c->kind != LC_RPC_BIDI_STREAM || !c->reg)
        return -EINVAL;
    int r = 0;
    pthread_mutex_lock(&c->mu);
    if (c->closed) {
        r = LC_ECLOSED;
    } else if (c->paused + delta < 0) {
        r = -EINVAL;
    } else {
        c->paused += delta;
        maybe_post_recv_locked(c);
    }
    pthread_mutex_unlock(&c->mu);
    return r;
}

int lc_rpc_recv_pause(struct lc_rpc_call *call)
{
    return pause_change(call, 1);
}

int lc_rpc_recv_resume(struct lc_rpc_call *call)
{
    return pause_change(call, -1);
}

/* --- the worker side --- */

/* Releases a call's gRPC side once it is over and nothing is in flight; runs on_done. */
static void maybe_retire(struct lc_rpc_call *c)
{
    pthread_mutex_lock(&c->mu);
    bool go = c->closed && c->batches == 0 && !c->retired;
    if (go)
        c->retired = true;
    pthread_mutex_unlock(&c->mu);
    if (!go)
        return;
    bool cancelled = c->grpc_cancelled || !c->finishing || c->by_wrapper;
    if (c->visible && c->reg->m->on_done)
        c->reg->m->on_done(c, cancelled);
    grpc_call_unref(c->gc);
    c->gc = NULL;
    grpc_metadata_array_destroy(&c->md);
    if (c->payload) {
        grpc_byte_buffer_destroy(c->payload);
        c->payload = NULL;
    }
    struct lc_rpc_server *srv = c->srv;
    c->srv = NULL;
    pthread_mutex_lock(&srv->mu);
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->live = c->next;
    if (c->next)
        c->next->prev = c->prev;
    srv->n_live--;
    pthread_cond_broadcast(&srv->cv);
    pthread_mutex_unlock(&srv->mu);
    lc_rpc_call_unref(c);
}

static void on_close_done(struct lc_rpc_call *c)
{
    pthread_mutex_lock(&c->mu);
    c->batches--;
    c->closed = true;
    drop_queue_locked(c);
    pthread_mutex_unlock(&c->mu);
    lc_log_debug(LOG, "call over method=%s cancelled=%d", call_path(c), c->grpc_cancelled);
}

static void on_status_done(struct lc_rpc_call *c)
{
    pthread_mutex_lock(&c->mu);
    c->batches--;
    if (c->reply_bb) {
        grpc_byte_buffer_destroy(c->reply_bb);
        c->reply_bb = NULL;
    }
    grpc_slice_unref(c->detail_slice);
    c->detail_slice = grpc_empty_slice();
    pthread_mutex_unlock(&c->mu);
}

static void on_send_done(struct lc_rpc_call *c, bool ok)
{
    bool writable = false;
    pthread_mutex_lock(&c->mu);
    c->batches--;
    c->send_pending = false;
    grpc_byte_buffer_destroy(c->send_bb);
    c->send_bb = NULL;
    c->q_len--;
    c->q_bytes -= c->send_len;
    if (!ok)
        drop_queue_locked(c); /* the call is failing; its close follows */
    if (!c->closed) {
        if (c->q_head)
            start_next_send_locked(c);
        else if (c->finishing && !c->status_started)
            start_status_locked(c);
        if (c->want_writable && !c->finishing && c->q_len <= c->sq_msgs / 2 &&
            c->q_bytes <= c->sq_bytes / 2) {
            c->want_writable = false;
            writable = true;
        }
        maybe_post_recv_locked(c);
    }
    pthread_mutex_unlock(&c->mu);
    if (writable && c->reg->m->on_writable)
        c->reg->m->on_writable(c);
}

static void on_recv_done(struct lc_rpc_call *c, bool ok)
{
    const struct lc_rpc_method *m = c->reg->m;
    pthread_mutex_lock(&c->mu);
    c->batches--;
    c->recv_pending = false;
    grpc_byte_buffer *bb = c->recv_bb;
    c->recv_bb = NULL;
    bool live = !c->closed && !c->finishing;
    if (!ok || !bb)
        c->half_closed = true;
    pthread_mutex_unlock(&c->mu);
    if (!ok || !bb) {
        /* NULL with success: the client half-closed; failure: the call is ending. */
        if (bb)
            grpc_byte_buffer_destroy(bb);
        if (ok && live && m->on_half_close)
            m->on_half_close(c);
        return;
    }
    if (!live) {
        grpc_byte_buffer_destroy(bb);
        return;
    }
    grpc_slice s = bb_slice(bb);
    grpc_byte_buffer_destroy(bb);
    ProtobufCMessage *msg = rpc_decode(m->request, GRPC_SLICE_LENGTH(s), GRPC_SLICE_START_PTR(s));
    if (!msg) {
        grpc_slice_unref(s);
        char why[160];
        snprintf(why, sizeof why, "request message does not decode as %s", m->request->name);
        pthread_mutex_lock(&c->mu);
        finish_locked(c, LC_RPC_INVALID_ARGUMENT, why, true);
        pthread_mutex_unlock(&c->mu);
        return;
    }
    pthread_mutex_lock(&c->mu);
    c->cur = s;
    c->cur_set = true;
    pthread_mutex_unlock(&c->mu);
    m->on_message(c, msg);
    protobuf_c_message_free_unpacked(msg, NULL);
    pthread_mutex_lock(&c->mu);
    c->cur_set = false;
    c->cur = grpc_empty_slice();
    maybe_post_recv_locked(c);
    pthread_mutex_unlock(&c->mu);
    grpc_slice_unref(s);
}

static void post_slot(struct worker *w, struct reg *reg)
{
    struct lc_rpc_server *srv = w->srv;
    struct slot *s = calloc(1, sizeof *s);
    if (!s) {
        lc_log_debug(LOG, "request slot: out of memory");
        return;
    }
    s->kind = TAG_SLOT;
    s->w = w;
    s->reg = reg;
    grpc_metadata_array_init(&s->md);
    grpc_call_details_init(&s->details);
    grpc_call_error e = GRPC_CALL_ERROR;
    pthread_mutex_lock(&srv->mu);
    if (srv->state == SRV_RUNNING) {
        if (reg)
            e = grpc_server_request_registered_call(
                srv->gs, reg->handle, &s->gc, &s->deadline, &s->md,
                reg->m->kind == LC_RPC_BIDI_STREAM ? NULL : &s->payload, w->cq, w->cq, s);
        else
            e = grpc_server_request_call(srv->gs, &s->gc, &s->details, &s->md, w->cq, w->cq, s);
        if (e == GRPC_CALL_OK)
            srv->slots++;
        else
            lc_log_debug(LOG, "request slot failed err=%d", (int)e);
    }
    pthread_mutex_unlock(&srv->mu);
    if (e != GRPC_CALL_OK) {
        grpc_metadata_array_destroy(&s->md);
        grpc_call_details_destroy(&s->details);
        free(s);
    }
}

/* Decodes a unary/server-stream request; on failure sets why. */
static ProtobufCMessage *decode_request(struct lc_rpc_call *c, char *why, size_t why_len)
{
    const ProtobufCMessageDescriptor *d = c->reg->m->request;
    if (!c->payload) {
        snprintf(why, why_len, "missing request message (%s)", d->name);
        return NULL;
    }
    grpc_slice s = bb_slice(c->payload);
    grpc_byte_buffer_destroy(c->payload);
    c->payload = NULL;
    size_t n = GRPC_SLICE_LENGTH(s);
    ProtobufCMessage *msg = rpc_decode(d, n, GRPC_SLICE_START_PTR(s));
    if (!msg) {
        snprintf(why, why_len, "request message does not decode as %s", d->name);
    } else {
        c->req_bytes = malloc(n ? n : 1);
        if (!c->req_bytes) {
            protobuf_c_message_free_unpacked(msg, NULL);
            msg = NULL;
            snprintf(why, why_len, "out of memory");
        } else {
            memcpy(c->req_bytes, GRPC_SLICE_START_PTR(s), n);
            c->req_len = n;
        }
    }
    grpc_slice_unref(s);
    return msg;
}

static void start_call(struct slot *s)
{
    struct lc_rpc_server *srv = s->w->srv;
    struct lc_rpc_call *c = calloc(1, sizeof *c);
    if (!c) {
        grpc_call_cancel_with_status(s->gc, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory", NULL);
        grpc_call_unref(s->gc);
        grpc_metadata_array_destroy(&s->md);
        if (s->payload)
            grpc_byte_buffer_destroy(s->payload);
        return;
    }
    atomic_init(&c->refs, 1);
    atomic_init(&c->data, NULL);
    pthread_mutex_init(&c->mu, NULL);
    c->srv = srv;
    c->reg = s->reg;
    c->kind = s->reg ? s->reg->m->kind : LC_RPC_UNARY;
    c->gc = s->gc;
    c->deadline_ms = deadline_to_mono(s->deadline);
    c->md = s->md; /* moved */
    c->payload = s->payload;
    c->sq_msgs = srv->sq_msgs;
    c->sq_bytes = srv->sq_bytes;
    c->t_close = (struct op_tag){TAG_CLOSE, c};
    c->t_recv = (struct op_tag){TAG_RECV, c};
    c->t_send = (struct op_tag){TAG_SEND, c};
    c->t_status = (struct op_tag){TAG_STATUS, c};
    c->detail_slice = grpc_empty_slice();
    c->cur = grpc_empty_slice();
    char *peer = grpc_call_get_peer(c->gc);
    if (peer) {
        c->peer = strdup(peer);
        gpr_free(peer);
    }

    pthread_mutex_lock(&srv->mu);
    c->next = srv->live;
    if (srv->live)
        srv->live->prev = c;
    srv->live = c;
    srv->n_live++;
    bool ending = srv->ending;
    pthread_mutex_unlock(&srv->mu);

    char why[256] = "";
    enum lc_rpc_code code = LC_RPC_OK;
    if (!c->reg) {
        char *m = grpc_slice_to_c_string(s->details.method);
        snprintf(why, sizeof why, "unknown method %.200s", m ? m : "");
        gpr_free(m);
        code = LC_RPC_UNIMPLEMENTED;
    } else if (ending) {
        snprintf(why, sizeof why, "%s", SHUTDOWN_MSG);
        code = LC_RPC_UNAVAILABLE;
    } else if (lc_rpc_call_time_left_ms(c) <= 0) {
        snprintf(why, sizeof why, "deadline exceeded before the call was handled");
        code = LC_RPC_DEADLINE_EXCEEDED;
    }
    lc_log_debug(LOG, "call method=%s peer=%s", call_path(c), lc_rpc_call_peer(c));

    /* Hear about the end of the call (cancel, deadline) from the start; streams also send
     * their headers now. */
    grpc_op ops[2];
    size_t n = 0;
    memset(ops, 0, sizeof ops);
    pthread_mutex_lock(&c->mu);
    if (c->reg && c->kind != LC_RPC_UNARY && code == LC_RPC_OK) {
        ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
        c->md_sent = true;
    }
    ops[n].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    ops[n++].data.recv_close_on_server.cancelled = &c->grpc_cancelled;
    if (!start_batch_locked(c, ops, n, &c->t_close)) {
        /* Cannot happen with a fresh call; without a close event the call would never retire,
         * so retire it by hand. */
        c->closed = true;
        pthread_mutex_unlock(&c->mu);
        maybe_retire(c);
        return;
    }
    if (code != LC_RPC_OK)
        finish_locked(c, code, why, true);
    pthread_mutex_unlock(&c->mu);
    if (code != LC_RPC_OK)
        return;

    const struct lc_rpc_method *m = c->reg->m;
    if (c->kind == LC_RPC_BIDI_STREAM) {
        pthread_mutex_lock(&c->mu);
        c->visible = true;
        pthread_mutex_unlock(&c->mu);
        m->on_open(c);
        pthread_mutex_lock(&c->mu);
        maybe_post_recv_locked(c);
        pthread_mutex_unlock(&c->mu);
        return;
    }
    ProtobufCMessage *req = decode_request(c, why, sizeof why);
    pthread_mutex_lock(&c->mu);
    if (!req)
        finish_locked(c, LC_RPC_INVALID_ARGUMENT, why, true);
    c->req = req;
    c->visible = req != NULL;
    pthread_mutex_unlock(&c->mu);
    if (!req)
        return;
    m->on_request(c, req);
    if (c->kind == LC_RPC_UNARY) {
        pthread_mutex_lock(&c->mu);
        if (!c->finishing && !c->closed && atomic_load(&c->refs) == 1)
            finish_locked(c, LC_RPC_INTERNAL, "handler returned without an answer", true);
        pthread_mutex_unlock(&c->mu);
    }
}

static void on_slot(struct slot *s, bool ok)
{
    struct lc_rpc_server *srv = s->w->srv;
    if (ok) {
        post_slot(s->w, s->reg); /* re-arm before handling */
        start_call(s);
    } else {
        grpc_metadata_array_destroy(&s->md);
        if (s->payload)
            grpc_byte_buffer_destroy(s->payload);
    }
    grpc_call_details_destroy(&s->details);
    free(s);
    pthread_mutex_lock(&srv->mu);
    srv->slots--;
    pthread_cond_broadcast(&srv->cv);
    pthread_mutex_unlock(&srv->mu);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    for (;;) {
        grpc_event ev =
            grpc_completion_queue_next(w->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
        if (ev.type == GRPC_QUEUE_SHUTDOWN)
            break;
        if (ev.type != GRPC_OP_COMPLETE)
            continue;
        enum tag_kind kind = *(enum tag_kind *)ev.tag;
        if (kind == TAG_SLOT) {
            on_slot(ev.tag, ev.success);
            continue;
        }
        struct lc_rpc_call *c = ((struct op_tag *)ev.tag)->call;
        switch (kind) {
        case TAG_CLOSE:
            on_close_done(c);
            break;
        case TAG_STATUS:
            on_status_done(c);
            break;
        case TAG_SEND:
            on_send_done(c, ev.success);
            break;
        case TAG_RECV:
            on_recv_done(c, ev.success);
            break;
        default:
            assert(!"unknown tag");
        }
        maybe_retire(c);
    }
    return NULL;
}

/* --- server lifecycle --- */

static int check_size(struct lc_errbuf *err, const char *name, size_t v)
{
    if (v > INT32_MAX)
        return lc_fail(err, LC_EINVALID, "%s: %zu is over the gRPC limit of %d", name, v,
                       INT32_MAX);
    return 0;
}

int lc_rpc_server_new(const struct lc_rpc_server_opts *opts, struct lc_errbuf *err,
                      struct lc_rpc_server **ret_server)
{
    if (!opts || !opts->listen || !opts->listen[0])
        return lc_fail(err, LC_EINVALID, "rpc server: listen address missing");
    if (strnlen(opts->listen, MAX_ADDR_LEN + 1) > MAX_ADDR_LEN)
        return lc_fail(err, LC_ETOOBIG, "rpc server: listen address too long");
    if (opts->tls)
        return lc_fail(err, -ENOTSUP, "rpc server: TLS is not implemented yet");
    if (opts->threads > MAX_THREADS)
        return lc_fail(err, LC_EINVALID, "rpc server: threads %u over %u", opts->threads,
                       MAX_THREADS);
    int r;
    if ((r = check_size(err, "rpc server: max_recv_bytes", opts->max_recv_bytes)) < 0 ||
        (r = check_size(err, "rpc server: max_send_bytes", opts->max_send_bytes)) < 0 ||
        (r = check_size(err, "rpc server: send_queue_bytes", opts->send_queue_bytes)) < 0)
        return r;
    if (opts->min_ping_interval_ms > INT32_MAX || opts->keepalive_ms > INT32_MAX ||
        opts->keepalive_timeout_ms > INT32_MAX)
        return lc_fail(err, LC_EINVALID, "rpc server: ping interval over %d ms", INT32_MAX);

    struct lc_rpc_server *srv = calloc(1, sizeof *srv);
    if (!srv)
        return lc_fail(err, -ENOMEM, "rpc server: out of memory");
    srv->listen = strdup(opts->listen);
    if (!srv->listen) {
        free(srv);
        return lc_fail(err, -ENOMEM, "rpc server: out of memory");
    }
    srv->n_workers = opts->threads ? opts->threads : DEF_THREADS;
    srv->max_recv = opts->max_recv_bytes ? opts->max_recv_bytes : LC_RPC_DEFAULT_MAX_MSG;
    srv->max_send = opts->max_send_bytes ? opts->max_send_bytes : LC_RPC_DEFAULT_MAX_MSG;
    srv->sq_msgs = opts->send_queue_msgs ? opts->send_queue_msgs : DEF_SQ_MSGS;
    srv->sq_bytes = opts->send_queue_bytes ? opts->send_queue_bytes : DEF_SQ_BYTES;
    pthread_mutex_init(&srv->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&srv->cv, &ca);
    pthread_condattr_destroy(&ca);
    srv->state = SRV_NEW;

    lib_ref();
    srv->grpc_ref = true;
    unsigned ping = opts->min_ping_interval_ms ? opts->min_ping_interval_ms : DEF_MIN_PING_MS;
    unsigned ka = opts->keepalive_ms ? opts->keepalive_ms : DEF_KEEPALIVE_MS;
    unsigned kat =
        opts->keepalive_timeout_ms ? opts->keepalive_timeout_ms : DEF_KEEPALIVE_TIMEOUT_MS;
    grpc_arg args[] = {
        {GRPC_ARG_INTEGER, GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, {.integer = (int)srv->max_recv}},
        {GRPC_ARG_INTEGER, GRPC_ARG_MAX_SEND_MESSAGE_LENGTH, {.integer = (int)srv->max_send}},
        /* Fabric SDKs ping every 120 s, with or without calls: core's default policy answers
         * that with GOAWAY too_many_pings. Accept pings this often and never count strikes. */
        {GRPC_ARG_INTEGER,
         GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
         {.integer = (int)ping}},
        {GRPC_ARG_INTEGER, GRPC_ARG_HTTP2_MAX_PING_STRIKES, {.integer = 0}},
        {GRPC_ARG_INTEGER, GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, {.integer = 0}},
        {GRPC_ARG_INTEGER, GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, {.integer = 1}},
        {GRPC_ARG_INTEGER, GRPC_ARG_KEEPALIVE_TIME_MS, {.integer = (int)ka}},
        {GRPC_ARG_INTEGER, GRPC_ARG_KEEPALIVE_TIMEOUT_MS, {.integer = (int)kat}},
        /* On by default: a second server on a busy port would "bind" and share it silently. */
        {GRPC_ARG_INTEGER, GRPC_ARG_ALLOW_REUSEPORT, {.integer = 0}},
    };
    grpc_channel_args cargs = {sizeof args / sizeof args[0], args};
    srv->gs = grpc_server_create(&cargs, NULL);
    if (!srv->gs) {
        lc_rpc_server_free(srv);
        return lc_fail(err, LC_EUNAVAIL, "rpc server: gRPC server not created");
    }
    *ret_server = srv;
    return 0;
}

static bool reg_allowed(const struct lc_rpc_method *m)
{
    switch (m->kind) {
    case LC_RPC_UNARY:
        return m->on_request && !m->on_open && !m->on_message && !m->on_half_close &&
               !m->on_writable;
    case LC_RPC_SERVER_STREAM:
        return m->on_request && !m->on_open && !m->on_message && !m->on_half_close;
    case LC_RPC_BIDI_STREAM:
        return !m->on_request && m->on_open && m->on_message;
    }
    return false;
}

int lc_rpc_server_add(struct lc_rpc_server *server, const struct lc_rpc_method *methods, size_t n,
                      void *ctx, struct lc_errbuf *err)
{
    pthread_mutex_lock(&server->mu);
    bool fresh = server->state == SRV_NEW && !server->failed;
    pthread_mutex_unlock(&server->mu);
    if (!fresh)
        return lc_fail(err, LC_EINVALID, "rpc server: methods must be added before start");
    if (!methods || n == 0)
        return lc_fail(err, LC_EINVALID, "rpc server: empty method table");
    for (size_t i = 0; i < n; i++) {
        const struct lc_rpc_method *m = &methods[i];
        const char *p = m->path ? m->path : "(null)";
        if (!path_ok(m->path))
            return lc_fail(err, LC_EINVALID,
                           "rpc method %.200s: path is not /package.Service/Method", p);
        if (!m->request)
            return lc_fail(err, LC_EINVALID, "rpc method %s: request descriptor missing", p);
        if (m->kind != LC_RPC_UNARY && m->kind != LC_RPC_SERVER_STREAM &&
            m->kind != LC_RPC_BIDI_STREAM)
            return lc_fail(err, LC_EINVALID, "rpc method %s: unknown kind %d", p, (int)m->kind);
        if (!reg_allowed(m))
            return lc_fail(err, LC_EINVALID, "rpc method %s: callbacks do not match its kind", p);
        for (size_t j = 0; j < server->n_regs + i; j++) {
            const char *q =
                j < server->n_regs ? server->regs[j].m->path : methods[j - server->n_regs].path;
            if (strcmp(p, q) == 0)
                return lc_fail(err, LC_EEXISTS, "rpc method %s: registered twice", p);
        }
    }
    struct reg *regs = realloc(server->regs, (server->n_regs + n) * sizeof *regs);
    if (!regs)
        return lc_fail(err, -ENOMEM, "rpc server: out of memory");
    server->regs = regs;
    for (size_t i = 0; i < n; i++) {
        const struct lc_rpc_method *m = &methods[i];
        void *h = grpc_server_register_method(server->gs, m->path, NULL,
                                              m->kind == LC_RPC_BIDI_STREAM
                                                  ? GRPC_SRM_PAYLOAD_NONE
                                                  : GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER,
                                              0);
        if (!h)
            return lc_fail(err, LC_EINVALID, "rpc method %s: gRPC refused it", m->path);
        server->regs[server->n_regs++] = (struct reg){m, ctx, h};
    }
    return 0;
}

int lc_rpc_server_start(struct lc_rpc_server *server, struct lc_errbuf *err)
{
    struct lc_rpc_server *srv = server;
    pthread_mutex_lock(&srv->mu);
    bool fresh = srv->state == SRV_NEW && !srv->failed;
    pthread_mutex_unlock(&srv->mu);
    if (!fresh)
        return lc_fail(err, LC_EINVALID, "rpc server: already started or shut down");
    srv->failed = true; /* until everything below worked */
    srv->workers = calloc(srv->n_workers, sizeof *srv->workers);
    if (!srv->workers)
        return lc_fail(err, -ENOMEM, "rpc server: out of memory");
    /* The queue given to shutdown_and_notify must be a registered NEXT queue. */
    srv->shutdown_cq = grpc_completion_queue_create_for_next(NULL);
    grpc_server_register_completion_queue(srv->gs, srv->shutdown_cq, NULL);
    for (unsigned i = 0; i < srv->n_workers; i++) {
        struct worker *w = &srv->workers[i];
        w->srv = srv;
        w->cq = grpc_completion_queue_create_for_next(NULL);
        grpc_server_register_completion_queue(srv->gs, w->cq, NULL);
    }
    /* Threads first: they only wait on their queues, and a failure here leaves a server with no
     * listener, which gRPC lets us destroy without a shutdown. */
    for (unsigned i = 0; i < srv->n_workers; i++) {
        struct worker *w = &srv->workers[i];
        int e = pthread_create(&w->thread, NULL, worker_main, w);
        if (e)
            return lc_fail(err, -e, "rpc server: worker thread: %s", strerror(e));
        w->running = true;
    }
    grpc_server_credentials *creds = grpc_insecure_server_credentials_create();
    int port = grpc_server_add_http2_port(srv->gs, srv->listen, creds);
    grpc_server_credentials_release(creds);
    if (port <= 0)
        return lc_fail(err, LC_EUNAVAIL, "rpc server: cannot listen on %s (bad address or in use)",
                       srv->listen);
    srv->port = port;
    grpc_server_start(srv->gs);
    pthread_mutex_lock(&srv->mu);
    srv->state = SRV_RUNNING;
    srv->failed = false;
    pthread_mutex_unlock(&srv->mu);
    for (unsigned i = 0; i < srv->n_workers; i++) {
        for (size_t j = 0; j < srv->n_regs; j++)
            for (int k = 0; k < SLOTS_PER_METHOD; k++)
                post_slot(&srv->workers[i], &srv->regs[j]);
        post_slot(&srv->workers[i], NULL); /* unknown methods: UNIMPLEMENTED, not a hang */
    }
    lc_log_debug(LOG, "listening addr=%s port=%d threads=%u methods=%zu", srv->listen, port,
                 srv->n_workers, srv->n_regs);
    return 0;
}

int lc_rpc_server_port(const struct lc_rpc_server *server)
{
    return server->port;
}

/* Waits until no call is live or the monotonic deadline passes; srv->mu held. */
static void wait_no_live_locked(struct lc_rpc_server *srv, int64_t until_ms)
{
    struct timespec ts = {until_ms / 1000, (long)(until_ms % 1000) * 1000000};
    while (srv->n_live > 0 && mono_ms() < until_ms)
        pthread_cond_timedwait(&srv->cv, &srv->mu, &ts);
}

/* Ends every live call with UNAVAILABLE, dropping what it has queued (srv->mu held). */
static void end_live_calls_locked(struct lc_rpc_server *srv)
{
    srv->ending = true;
    for (struct lc_rpc_call *c = srv->live; c; c = c->next) {
        pthread_mutex_lock(&c->mu);
        if (!c->closed && !c->status_started) {
            bool dropped = c->q_head != NULL;
            drop_queue_locked(c);
            if (!c->finishing) {
                finish_locked(c, LC_RPC_UNAVAILABLE, SHUTDOWN_MSG, true);
            } else if (dropped) {
                /* The service's status would claim a stream that lost its tail. */
                c->code = LC_RPC_UNAVAILABLE;
                c->by_wrapper = true;
                copy_msg(c->detail, sizeof c->detail, SHUTDOWN_MSG, strlen(SHUTDOWN_MSG));
                if (!c->send_pending)
                    start_status_locked(c);
            }
        }
        pthread_mutex_unlock(&c->mu);
    }
}

static void release_queues(struct lc_rpc_server *srv)
{
    for (unsigned i = 0; srv->workers && i < srv->n_workers; i++) {
        struct worker *w = &srv->workers[i];
        if (!w->cq)
            continue;
        grpc_completion_queue_shutdown(w->cq);
        if (w->running) {
            pthread_join(w->thread, NULL);
            w->running = false;
        } else {
            while (
                grpc_completion_queue_next(w->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL).type !=
                GRPC_QUEUE_SHUTDOWN) {
            }
        }
        grpc_completion_queue_destroy(w->cq);
        w->cq = NULL;
    }
    if (srv->shutdown_cq) {
        grpc_completion_queue_shutdown(srv->shutdown_cq);
        while (
            grpc_completion_queue_next(srv->shutdown_cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL)
                .type != GRPC_QUEUE_SHUTDOWN) {
        }
        grpc_completion_queue_destroy(srv->shutdown_cq);
        srv->shutdown_cq = NULL;
    }
}

void lc_rpc_server_shutdown(struct lc_rpc_server *server, unsigned grace_ms)
{
    struct lc_rpc_server *srv = server;
    if (!srv)
        return;
    for (unsigned i = 0; srv->workers && i < srv->n_workers; i++)
        assert(!srv->workers[i].running || !pthread_equal(srv->workers[i].thread, pthread_self()));
    pthread_mutex_lock(&srv->mu);
    if (srv->state == SRV_NEW) {
        srv->state = SRV_DOWN; /* never served: free does the rest */
        pthread_cond_broadcast(&srv->cv);
    }
    while (srv->state == SRV_STOPPING)
        pthread_cond_wait(&srv->cv, &srv->mu);
    if (srv->state == SRV_DOWN) {
        pthread_mutex_unlock(&srv->mu);
        return;
    }
    srv->state = SRV_STOPPING; /* no slot is posted after this */
    pthread_mutex_unlock(&srv->mu);
    lc_log_debug(LOG, "shutdown start port=%d grace_ms=%u", srv->port, grace_ms);

    /* Notify: refuse new calls, fail the posted slots; wait for calls in flight. */
    grpc_server_shutdown_and_notify(srv->gs, srv->shutdown_cq, srv);
    pthread_mutex_lock(&srv->mu);
    wait_no_live_locked(srv, mono_ms() + grace_ms);
    if (srv->n_live > 0) {
        /* Cancelling looks like an INTERNAL error to clients: tell them UNAVAILABLE first. */
        lc_log_debug(LOG, "shutdown ending calls=%zu", srv->n_live);
        end_live_calls_locked(srv);
        wait_no_live_locked(srv, mono_ms() + SHUTDOWN_FLUSH_MS);
    }
    srv->ending = true;
    pthread_mutex_unlock(&srv->mu);
    /* Cancel what is left (clients that do not read) and drop idle connections. */
    grpc_server_cancel_all_calls(srv->gs);
    grpc_completion_queue_next(srv->shutdown_cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
    /* Drain: every slot and every call must have come back before the queues go. */
    pthread_mutex_lock(&srv->mu);
    while (srv->slots > 0 || srv->n_live > 0)
        pthread_cond_wait(&srv->cv, &srv->mu);
    pthread_mutex_unlock(&srv->mu);
    grpc_server_destroy(srv->gs);
    srv->gs = NULL;
    release_queues(srv);
    pthread_mutex_lock(&srv->mu);
    srv->state = SRV_DOWN;
    pthread_cond_broadcast(&srv->cv);
    pthread_mutex_unlock(&srv->mu);
    lc_log_debug(LOG, "shutdown done port=%d", srv->port);
}

void lc_rpc_server_free(struct lc_rpc_server *server)
{
    if (!server)
        return;
    lc_rpc_server_shutdown(server, 0);
    /* A server that never ran still holds its gRPC side. */
    if (server->gs)
        grpc_server_destroy(server->gs);
    release_queues(server);
    free(server->workers);
    free(server->regs);
    free(server->listen);
    pthread_cond_destroy(&server->cv);
    pthread_mutex_destroy(&server->mu);
    if (server->grpc_ref)
        grpc_shutdown();
    free(server);
}

/* ------------------------------------------------------------------------------------------ */
/* Signals                                                                                    */
/* ------------------------------------------------------------------------------------------ */

int lc_rpc_block_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGPIPE);
    int e = pthread_sigmask(SIG_BLOCK, &set, NULL);
    return e ? -e : 0;
}

int lc_rpc_wait_signal(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    for (;;) {
        int sig = 0;
        int e = sigwait(&set, &sig);
        if (e == 0)
            return sig;
        if (e != EINTR)
            return -e;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Client                                                                                     */
/* ------------------------------------------------------------------------------------------ */

struct lc_rpc_client {
    grpc_channel *ch;
    size_t max_send, max_recv;
    unsigned deadline_ms;
};

struct lc_rpc_stream {
    struct lc_rpc_client *client;
    grpc_completion_queue *cq; /* pluck: each wait names its own tag */
    grpc_call *call;
    bool send_pending, recv_pending, status_pending;
    bool send_failed, send_closed, md_requested, msgs_ended, status_done;
    grpc_byte_buffer *send_bb, *recv_bb;
    grpc_metadata_array init_md, trail_md;
    grpc_status_code st;
    grpc_slice details;
    struct lc_rpc_status status;
    char t_send, t_recv, t_status; /* their addresses are the tags */
};

static void status_set(struct lc_rpc_status *st, enum lc_rpc_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void status_set(struct lc_rpc_status *st, enum lc_rpc_code code, const char *fmt, ...)
{
    if (!st)
        return;
    st->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->msg, sizeof st->msg, fmt, ap);
    va_end(ap);
}

static void status_from_grpc(struct lc_rpc_status *st, grpc_status_code code, grpc_slice details)
{
    if (!st)
        return;
    st->code = (enum lc_rpc_code)code;
    copy_msg(st->msg, sizeof st->msg, (const char *)GRPC_SLICE_START_PTR(details),
             GRPC_SLICE_LENGTH(details));
}

int lc_rpc_client_new(const char *target, const struct lc_rpc_client_opts *opts,
                      struct lc_errbuf *err, struct lc_rpc_client **ret_client)
{
    static const struct lc_rpc_client_opts none;
    if (!opts)
        opts = &none;
    if (!target || !target[0])
        return lc_fail(err, LC_EINVALID, "rpc client: target missing");
    if (strnlen(target, MAX_ADDR_LEN + 1) > MAX_ADDR_LEN)
        return lc_fail(err, LC_ETOOBIG, "rpc client: target too long");
    if (opts->tls)
        return lc_fail(err, -ENOTSUP, "rpc client: TLS is not implemented yet");
    int r;
    if ((r = check_size(err, "rpc client: max_recv_bytes", opts->max_recv_bytes)) < 0 ||
        (r = check_size(err, "rpc client: max_send_bytes", opts->max_send_bytes)) < 0)
        return r;
    if (opts->deadline_ms > INT32_MAX || opts->keepalive_ms > INT32_MAX ||
        opts->max_reconnect_backoff_ms > INT32_MAX)
        return lc_fail(err, LC_EINVALID, "rpc client: a time setting is over %d ms", INT32_MAX);
    struct lc_rpc_client *c = calloc(1, sizeof *c);
    if (!c)
        return lc_fail(err, -ENOMEM, "rpc client: out of memory");
    c->max_send = opts->max_send_bytes ? opts->max_send_bytes : LC_RPC_DEFAULT_MAX_MSG;
    c->max_recv = opts->max_recv_bytes ? opts->max_recv_bytes : LC_RPC_DEFAULT_MAX_MSG;
    c->deadline_ms = opts->deadline_ms ? opts->deadline_ms : DEF_DEADLINE_MS;
    unsigned backoff =
        opts->max_reconnect_backoff_ms ? opts->max_reconnect_backoff_ms : DEF_MAX_BACKOFF_MS;
    grpc_arg args[8];
    size_t n = 0;
    args[n++] = (grpc_arg){
        GRPC_ARG_INTEGER, GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, {.integer = (int)c->max_recv}};
    args[n++] = (grpc_arg){
        GRPC_ARG_INTEGER, GRPC_ARG_MAX_SEND_MESSAGE_LENGTH, {.integer = (int)c->max_send}};
    args[n++] =
        (grpc_arg){GRPC_ARG_INTEGER, GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, {.integer = (int)backoff}};
    /* Talk to the target itself, whatever http_proxy says; no transparent retries buffering
     * our messages. */
    args[n++] = (grpc_arg){GRPC_ARG_INTEGER, GRPC_ARG_ENABLE_HTTP_PROXY, {.integer = 0}};
    args[n++] = (grpc_arg){GRPC_ARG_INTEGER, GRPC_ARG_ENABLE_RETRIES, {.integer = 0}};
    if (opts->keepalive_ms) {
        args[n++] = (grpc_arg){
            GRPC_ARG_INTEGER, GRPC_ARG_KEEPALIVE_TIME_MS, {.integer = (int)opts->keepalive_ms}};
        args[n++] =
            (grpc_arg){GRPC_ARG_INTEGER, GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, {.integer = 1}};
        args[n++] =
            (grpc_arg){GRPC_ARG_INTEGER, GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, {.integer = 0}};
    }
    grpc_channel_args cargs = {n, args};
    lib_ref();
    grpc_channel_credentials *creds = grpc_insecure_credentials_create();
    c->ch = grpc_channel_create(target, creds, &cargs);
    grpc_channel_credentials_release(creds);
    if (!c->ch) {
        free(c);
        grpc_shutdown();
        return lc_fail(err, LC_EINVALID, "rpc client: cannot make a channel to %s", target);
    }
    *ret_client = c;
    return 0;
}

void lc_rpc_client_free(struct lc_rpc_client *client)
{
    if (!client)
        return;
    grpc_channel_destroy(client->ch);
    free(client);
    grpc_shutdown();
}

/* A call on its own pluck queue. */
static grpc_call *client_call(struct lc_rpc_client *c, const char *path, int timeout_ms,
                              grpc_completion_queue **ret_cq)
{
    gpr_timespec dl;
    if (timeout_ms < 0)
        dl = gpr_inf_future(GPR_CLOCK_MONOTONIC);
    else
        dl = wait_bound(timeout_ms ? timeout_ms : (int)c->deadline_ms);
    grpc_completion_queue *cq = grpc_completion_queue_create_for_pluck(NULL);
    grpc_slice method = grpc_slice_from_copied_string(path);
    grpc_call *call =
        grpc_channel_create_call(c->ch, NULL, GRPC_PROPAGATE_DEFAULTS, cq, method, NULL, dl, NULL);
    grpc_slice_unref(method);
    if (!call) {
        grpc_completion_queue_shutdown(cq);
        while (
            grpc_completion_queue_pluck(cq, NULL, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL).type !=
            GRPC_QUEUE_SHUTDOWN) {
        }
        grpc_completion_queue_destroy(cq);
        return NULL;
    }
    *ret_cq = cq;
    return call;
}

static void cq_release(grpc_completion_queue *cq)
{
    grpc_completion_queue_shutdown(cq);
    while (grpc_completion_queue_pluck(cq, NULL, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL).type !=
           GRPC_QUEUE_SHUTDOWN) {
    }
    grpc_completion_queue_destroy(cq);
}

/* Waits for tag: true when it completed (ok in *ret_ok), false on timeout. */
static bool pluck(grpc_completion_queue *cq, void *tag, int timeout_ms, bool *ret_ok)
{
    grpc_event ev = grpc_completion_queue_pluck(cq, tag, wait_bound(timeout_ms), NULL);
    if (ev.type != GRPC_OP_COMPLETE)
        return false;
    *ret_ok = ev.success;
    return true;
}

int lc_rpc_unary(struct lc_rpc_client *client, const char *path, const ProtobufCMessage *req,
                 const ProtobufCMessageDescriptor *resp_desc, int timeout_ms,
                 struct lc_rpc_status *status, ProtobufCMessage **ret_resp)
{
    if (!path_ok(path) || !req || !resp_desc) {
        status_set(status, LC_RPC_INTERNAL, "bad arguments to unary call");
        return -EINVAL;
    }
    grpc_byte_buffer *bb = NULL;
    size_t len = 0;
    int r = pack_bb(req, client->max_send, &bb, &len);
    if (r < 0) {
        status_set(status, LC_RPC_RESOURCE_EXHAUSTED, "request of %zu bytes is over %zu",
                   protobuf_c_message_get_packed_size(req), client->max_send);
        return r;
    }
    grpc_completion_queue *cq = NULL;
    grpc_call *call = client_call(client, path, timeout_ms, &cq);
    if (!call) {
        grpc_byte_buffer_destroy(bb);
        status_set(status, LC_RPC_INTERNAL, "cannot create call");
        return -ENOMEM;
    }
    grpc_metadata_array imd, tmd;
    grpc_metadata_array_init(&imd);
    grpc_metadata_array_init(&tmd);
    grpc_byte_buffer *resp = NULL;
    grpc_status_code st = GRPC_STATUS_UNKNOWN;
    grpc_slice details = grpc_empty_slice();
    grpc_op ops[6];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = bb;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &imd;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &resp;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &tmd;
    ops[5].data.recv_status_on_client.status = &st;
    ops[5].data.recv_status_on_client.status_details = &details;
    bool ok = false;
    if (grpc_call_start_batch(call, ops, 6, ops, NULL) != GRPC_CALL_OK) {
        status_set(status, LC_RPC_INTERNAL, "cannot start call");
        r = -EIO;
        goto out;
    }
    pluck(cq, ops, -1, &ok); /* the call's deadline bounds this */
    status_from_grpc(status, st, details);
    if (st != GRPC_STATUS_OK) {
        r = lc_rpc_err_from_code((enum lc_rpc_code)st);
        goto out;
    }
    if (!resp) {
        status_set(status, LC_RPC_INTERNAL, "status OK without a response message");
        r = LC_EDECODE;
        goto out;
    }
    grpc_slice s = bb_slice(resp);
    ProtobufCMessage *msg = rpc_decode(resp_desc, GRPC_SLICE_LENGTH(s), GRPC_SLICE_START_PTR(s));
    grpc_slice_unref(s);
    if (!msg) {
        status_set(status, LC_RPC_INTERNAL, "response does not decode as %s", resp_desc->name);
        r = LC_EDECODE;
        goto out;
    }
    *ret_resp = msg;
    r = 0;
out:
    grpc_byte_buffer_destroy(bb);
    if (resp)
        grpc_byte_buffer_destroy(resp);
    grpc_slice_unref(details);
    grpc_metadata_array_destroy(&imd);
    grpc_metadata_array_destroy(&tmd);
    grpc_call_unref(call);
    cq_release(cq);
    return r;
}

int lc_rpc_stream_open(struct lc_rpc_client *client, const char *path, int timeout_ms,
                       struct lc_rpc_stream **ret_stream)
{
    if (!path_ok(path))
        return -EINVAL;
    struct lc_rpc_stream *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->client = client;
    s->details = grpc_empty_slice();
    grpc_metadata_array_init(&s->init_md);
    grpc_metadata_array_init(&s->trail_md);
    s->call = client_call(client, path, timeout_ms, &s->cq);
    if (!s->call) {
        grpc_metadata_array_destroy(&s->init_md);
        grpc_metadata_array_destroy(&s->trail_md);
        free(s);
        return -ENOMEM;
    }
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_SEND_INITIAL_METADATA; /* no wait-for-ready: fail fast when unreachable */
    if (grpc_call_start_batch(s->call, &op, 1, &s->t_send, NULL) == GRPC_CALL_OK)
        s->send_pending = true;
    else
        s->send_failed = true;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    op.data.recv_status_on_client.trailing_metadata = &s->trail_md;
    op.data.recv_status_on_client.status = &s->st;
    op.data.recv_status_on_client.status_details = &s->details;
    if (grpc_call_start_batch(s->call, &op, 1, &s->t_status, NULL) == GRPC_CALL_OK) {
        s->status_pending = true;
    } else {
        s->status_done = true;
        status_set(&s->status, LC_RPC_INTERNAL, "cannot start call");
    }
    *ret_stream = s;
    return 0;
}

/* Waits for the message in flight (if any) to leave; -EAGAIN if it did not in time. */
static int stream_wait_send(struct lc_rpc_stream *s, int timeout_ms)
{
    if (!s->send_pending)
        return 0;
    bool ok = false;
    if (!pluck(s->cq, &s->t_send, timeout_ms, &ok))
        return -EAGAIN;
    s->send_pending = false;
    if (s->send_bb) {
        grpc_byte_buffer_destroy(s->send_bb);
        s->send_bb = NULL;
    }
    if (!ok)
        s->send_failed = true;
    return 0;
}

int lc_rpc_stream_send(struct lc_rpc_stream *stream, const ProtobufCMessage *msg, int timeout_ms)
{
    struct lc_rpc_stream *s = stream;
    if (s->send_closed || s->send_failed || s->status_done)
        return LC_ECLOSED;
    int r = stream_wait_send(s, timeout_ms);
    if (r < 0)
        return r;
    if (s->send_failed)
        return LC_ECLOSED;
    grpc_byte_buffer *bb = NULL;
    size_t len = 0;
    r = pack_bb(msg, s->client->max_send, &bb, &len);
    if (r < 0)
        return r;
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_SEND_MESSAGE;
    op.data.send_message.send_message = bb;
    if (grpc_call_start_batch(s->call, &op, 1, &s->t_send, NULL) != GRPC_CALL_OK) {
        grpc_byte_buffer_destroy(bb);
        s->send_failed = true;
        return LC_ECLOSED;
    }
    s->send_bb = bb;
    s->send_pending = true;
    return 0;
}

int lc_rpc_stream_close_send(struct lc_rpc_stream *stream, int timeout_ms)
{
    struct lc_rpc_stream *s = stream;
    if (s->send_closed || s->send_failed || s->status_done)
        return LC_ECLOSED;
    int r = stream_wait_send(s, timeout_ms);
    if (r < 0)
        return r;
    if (s->send_failed)
        return LC_ECLOSED;
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    s->send_closed = true;
    if (grpc_call_start_batch(s->call, &op, 1, &s->t_send, NULL) != GRPC_CALL_OK) {
        s->send_failed = true;
        return LC_ECLOSED;
    }
    s->send_pending = true;
    return 0;
}

/* Waits for the final status; the code to hand back once it is known. */
static int stream_wait_status(struct lc_rpc_stream *s, int timeout_ms)
{
    if (!s->status_done) {
        bool ok = false;
        if (!pluck(s->cq, &s->t_status, timeout_ms, &ok))
            return -EAGAIN;
        s->status_pending = false;
        s->status_done = true;
        status_from_grpc(&s->status, s->st, s->details);
    }
    return lc_rpc_err_from_code(s->status.code);
}

int lc_rpc_stream_recv(struct lc_rpc_stream *stream, const ProtobufCMessageDescriptor *desc,
                       int timeout_ms, ProtobufCMessage **ret_msg)
{
    struct lc_rpc_stream *s = stream;
    if (!s->msgs_ended) {
        if (!s->recv_pending) {
            grpc_op ops[2];
            size_t n = 0;
            memset(ops, 0, sizeof ops);
            if (!s->md_requested) {
                ops[n].op = GRPC_OP_RECV_INITIAL_METADATA;
                ops[n++].data.recv_initial_metadata.recv_initial_metadata = &s->init_md;
            }
            ops[n].op = GRPC_OP_RECV_MESSAGE;
            ops[n++].data.recv_message.recv_message = &s->recv_bb;
            if (grpc_call_start_batch(s->call, ops, n, &s->t_recv, NULL) != GRPC_CALL_OK) {
                s->msgs_ended = true;
                grpc_call_cancel(s->call, NULL);
                goto ended;
            }
            s->md_requested = true;
            s->recv_pending = true;
        }
        bool ok = false;
        if (!pluck(s->cq, &s->t_recv, timeout_ms, &ok))
            return -EAGAIN;
        s->recv_pending = false;
        grpc_byte_buffer *bb = s->recv_bb;
        s->recv_bb = NULL;
        if (bb) {
            grpc_slice sl = bb_slice(bb);
            grpc_byte_buffer_destroy(bb);
            ProtobufCMessage *msg =
                rpc_decode(desc, GRPC_SLICE_LENGTH(sl), GRPC_SLICE_START_PTR(sl));
            grpc_slice_unref(sl);
            if (!msg)
                return LC_EDECODE;
            *ret_msg = msg;
            return 0;
        }
        s->msgs_ended = true;
    }
ended:;
    /* No more messages: the status follows (trailers came, or the call failed). */
    int r = stream_wait_status(s, timeout_ms);
    if (r == -EAGAIN)
        return r;
    return r == 0 ? LC_ECLOSED : r;
}

int lc_rpc_stream_status(struct lc_rpc_stream *stream, int timeout_ms, struct lc_rpc_status *status)
{
    int r = stream_wait_status(stream, timeout_ms);
    if (r != -EAGAIN && status)
        *status = stream->status;
    return r;
}

void lc_rpc_stream_cancel(struct lc_rpc_stream *stream)
{
    if (stream)
        grpc_call_cancel(stream->call, NULL);
}

void lc_rpc_stream_free(struct lc_rpc_stream *stream)
{
    struct lc_rpc_stream *s = stream;
    if (!s)
        return;
    grpc_call_cancel(s->call, NULL); /* a no-op on a call that is over */
    bool ok;
    if (s->send_pending)
        pluck(s->cq, &s->t_send, -1, &ok);
    if (s->recv_pending)
        pluck(s->cq, &s->t_recv, -1, &ok);
    if (s->status_pending)
        pluck(s->cq, &s->t_status, -1, &ok);
    if (s->send_bb)
        grpc_byte_buffer_destroy(s->send_bb);
    if (s->recv_bb)
        grpc_byte_buffer_destroy(s->recv_bb);
    grpc_call_unref(s->call);
    cq_release(s->cq);
    grpc_metadata_array_destroy(&s->init_md);
    grpc_metadata_array_destroy(&s->trail_md);
    grpc_slice_unref(s->details);
    free(s);
}
