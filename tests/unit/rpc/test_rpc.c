/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for the gRPC wrapper: a small test service on a real socket, driven by the rpc client. */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/common.pb-c.h"
#include "orderer/ab.pb-c.h"

#include "libcommon/rpc.h"

#define P_UNARY "/weft.test.Test/Unary"
#define P_ECHO "/weft.test.Test/Echo"
#define P_COUNT "/weft.test.Test/Count"
#define P_FLOOD "/weft.test.Test/Flood"
#define P_FOREVER "/weft.test.Test/Forever"
#define P_PAUSED "/weft.test.Test/Paused"

/* ------------------------------------------------------------------------------------------ */
/* The test service                                                                           */
/* ------------------------------------------------------------------------------------------ */

struct tsvc {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int opened; /* bidi on_open */
    int done;   /* on_done */
    int done_cancelled;
    int writable;             /* on_writable */
    int messages;             /* Paused: on_message */
    int64_t left_ms;          /* time left seen by the last unary handler */
    struct lc_rpc_call *held; /* a call a handler kept (ref) for the test to use */
    pthread_t async_thread;
    bool async_started;
};

static struct tsvc *svc_of(struct lc_rpc_call *call)
{
    return lc_rpc_call_ctx(call);
}

static void svc_signal(struct tsvc *t)
{
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
}

/* Waits (on the condition variable, no sleeping) until *v >= want. */
static void svc_wait(struct tsvc *t, const int *v, int want)
{
    pthread_mutex_lock(&t->mu);
    while (*v < want)
        pthread_cond_wait(&t->cv, &t->mu);
    pthread_mutex_unlock(&t->mu);
}

static void svc_wait_held(struct tsvc *t)
{
    pthread_mutex_lock(&t->mu);
    while (!t->held)
        pthread_cond_wait(&t->cv, &t->mu);
    pthread_mutex_unlock(&t->mu);
}

static int reply_info(struct lc_rpc_call *call, const char *info)
{
    Orderer__BroadcastResponse r = ORDERER__BROADCAST_RESPONSE__INIT;
    r.status = COMMON__STATUS__SUCCESS;
    r.info = (char *)info;
    return lc_rpc_reply(call, &r.base);
}

static int send_info(struct lc_rpc_call *call, const char *info)
{
    Orderer__BroadcastResponse r = ORDERER__BROADCAST_RESPONSE__INIT;
    r.status = COMMON__STATUS__SUCCESS;
    r.info = (char *)info;
    return lc_rpc_send(call, &r.base);
}

static void payload_str(const Common__Envelope *e, char *buf, size_t len)
{
    size_t n = e->payload.len < len - 1 ? e->payload.len : len - 1;
    memcpy(buf, e->payload.data, n);
    buf[n] = '\0';
}

static bool sig_is(const Common__Envelope *e, const char *s)
{
    return e->signature.len == strlen(s) && memcmp(e->signature.data, s, e->signature.len) == 0;
}

static void *async_reply(void *arg)
{
    struct lc_rpc_call *call = arg;
    const Common__Envelope *e = NULL;
    const uint8_t *raw;
    size_t raw_len;
    ck_assert_int_eq(lc_rpc_call_request_bytes(call, &raw, &raw_len), 0);
    e = (const Common__Envelope *)common__envelope__unpack(NULL, raw_len, raw);
    ck_assert_ptr_nonnull(e);
    char buf[64];
    payload_str(e, buf, sizeof buf);
    char info[80];
    snprintf(info, sizeof info, "async:%s", buf);
    ck_assert_int_eq(reply_info(call, info), 0);
    ck_assert_int_eq(reply_info(call, info), LC_ECLOSED); /* once only */
    common__envelope__free_unpacked((Common__Envelope *)e, NULL);
    lc_rpc_call_unref(call);
    return NULL;
}

static void unary_on_request(struct lc_rpc_call *call, const ProtobufCMessage *req)
{
    struct tsvc *t = svc_of(call);
    const Common__Envelope *e = (const Common__Envelope *)req;
    pthread_mutex_lock(&t->mu);
    t->left_ms = lc_rpc_call_time_left_ms(call);
    pthread_mutex_unlock(&t->mu);
    if (sig_is(e, "async")) {
        pthread_mutex_lock(&t->mu);
        t->async_started = true;
        ck_assert_int_eq(pthread_create(&t->async_thread, NULL, async_reply, lc_rpc_call_ref(call)),
                         0);
        pthread_mutex_unlock(&t->mu);
    } else if (sig_is(e, "hold")) {
        pthread_mutex_lock(&t->mu);
        t->held = lc_rpc_call_ref(call);
        svc_signal(t);
    } else if (sig_is(e, "fail")) {
        ck_assert_int_eq(lc_rpc_finish(call, LC_RPC_OK, NULL), -EINVAL);
        ck_assert_int_eq(lc_rpc_finish(call, LC_RPC_NOT_FOUND, "no thing %d", 42), 0);
    } else if (sig_is(e, "silent")) {
        /* returns without an answer and without a reference */
    } else if (sig_is(e, "peer")) {
        reply_info(call, lc_rpc_call_peer(call));
    } else {
        char buf[64];
        payload_str(e, buf, sizeof buf);
        ck_assert_str_eq(lc_rpc_call_method(call), P_UNARY);
        ck_assert_int_eq(send_info(call, "x"), -EINVAL); /* not a stream */
        ck_assert_int_eq(reply_info(call, buf), 0);
    }
}

static void any_on_done(struct lc_rpc_call *call, bool cancelled)
{
    struct tsvc *t = svc_of(call);
    ck_assert_int_eq(send_info(call, "late"),
                     lc_rpc_call_data(call) == (void *)1 ? -EINVAL : LC_ECLOSED);
    pthread_mutex_lock(&t->mu);
    t->done++;
    if (cancelled)
        t->done_cancelled++;
    svc_signal(t);
}

static void unary_on_done(struct lc_rpc_call *call, bool cancelled)
{
    lc_rpc_call_set_data(call, (void *)1); /* tells any_on_done this is unary */
    any_on_done(call, cancelled);
}

/* Echo: each Envelope back as a BroadcastResponse carrying its payload. */
static void echo_on_open(struct lc_rpc_call *call)
{
    struct tsvc *t = svc_of(call);
    pthread_mutex_lock(&t->mu);
    t->opened++;
    svc_signal(t);
}

static void echo_on_message(struct lc_rpc_call *call, const ProtobufCMessage *msg)
{
    char buf[64];
    payload_str((const Common__Envelope *)msg, buf, sizeof buf);
    const uint8_t *raw;
    size_t len;
    ck_assert_int_eq(lc_rpc_call_request_bytes(call, &raw, &len), 0);
    ck_assert_uint_eq(len, protobuf_c_message_get_packed_size(msg));
    int r = send_info(call, buf);
    ck_assert_int_eq(r, 0);
}

static void echo_on_half_close(struct lc_rpc_call *call)
{
    ck_assert_int_eq(lc_rpc_finish(call, LC_RPC_OK, NULL), 0);
    ck_assert_int_eq(lc_rpc_finish(call, LC_RPC_OK, NULL), LC_ECLOSED);
}

/* Count: the request's payload is a number N; answers "0".."N-1" with flow control. */
struct counter {
    int next, n;
};

static void count_pump(struct lc_rpc_call *call)
{
    struct counter *k = lc_rpc_call_data(call);
    while (k->next < k->n) {
        char info[16];
        snprintf(info, sizeof info, "%d", k->next);
        int r = send_info(call, info);
        if (r == -EAGAIN)
            return; /* on_writable brings us back */
        ck_assert_int_eq(r, 0);
        k->next++;
    }
    ck_assert_int_eq(lc_rpc_finish(call, LC_RPC_OK, "sent %d", k->n), 0);
}

static void count_on_request(struct lc_rpc_call *call, const ProtobufCMessage *req)
{
    char buf[16];
    payload_str((const Common__Envelope *)req, buf, sizeof buf);
    struct counter *k = calloc(1, sizeof *k);
    ck_assert_ptr_nonnull(k);
    k->n = (int)strtol(buf, NULL, 10);
    lc_rpc_call_set_data(call, k);
    count_pump(call);
}

static void count_on_writable(struct lc_rpc_call *call)
{
    struct tsvc *t = svc_of(call);
    pthread_mutex_lock(&t->mu);
    t->writable++;
    svc_signal(t);
    count_pump(call);
}

static void count_on_done(struct lc_rpc_call *call, bool cancelled)
{
    free(lc_rpc_call_data(call));
    lc_rpc_call_set_data(call, NULL);
    any_on_done(call, cancelled);
}

/* Flood: hands the call to the test, which produces from its own thread. */
static void flood_on_request(struct lc_rpc_call *call, const ProtobufCMessage *req)
{
    (void)req;
    struct tsvc *t = svc_of(call);
    pthread_mutex_lock(&t->mu);
    t->held = lc_rpc_call_ref(call);
    svc_signal(t);
}

static void flood_on_writable(struct lc_rpc_call *call)
{
    struct tsvc *t = svc_of(call);
    pthread_mutex_lock(&t->mu);
    t->writable++;
    svc_signal(t);
}

static void forever_on_message(struct lc_rpc_call *call, const ProtobufCMessage *msg)
{
    (void)call;
    (void)msg;
}

/* Paused: stops reading in on_open; the test resumes. */
static void paused_on_open(struct lc_rpc_call *call)
{
    struct tsvc *t = svc_of(call);
    ck_assert_int_eq(lc_rpc_recv_pause(call), 0);
    pthread_mutex_lock(&t->mu);
    t->opened++;
    t->held = lc_rpc_call_ref(call);
    svc_signal(t);
}

static void paused_on_message(struct lc_rpc_call *call, const ProtobufCMessage *msg)
{
    (void)msg;
    struct tsvc *t = svc_of(call);
    pthread_mutex_lock(&t->mu);
    t->messages++;
    svc_signal(t);
}

static const struct lc_rpc_method test_methods[] = {
    {.path = P_UNARY,
     .kind = LC_RPC_UNARY,
     .request = &common__envelope__descriptor,
     .on_request = unary_on_request,
     .on_done = unary_on_done},
    {.path = P_ECHO,
     .kind = LC_RPC_BIDI_STREAM,
     .request = &common__envelope__descriptor,
     .on_open = echo_on_open,
     .on_message = echo_on_message,
     .on_half_close = echo_on_half_close,
     .on_done = any_on_done},
    {.path = P_COUNT,
     .kind = LC_RPC_SERVER_STREAM,
     .request = &common__envelope__descriptor,
     .on_request = count_on_request,
     .on_writable = count_on_writable,
     .on_done = count_on_done},
    {.path = P_FLOOD,
     .kind = LC_RPC_SERVER_STREAM,
     .request = &common__envelope__descriptor,
     .on_request = flood_on_request,
     .on_writable = flood_on_writable,
     .on_done = any_on_done},
    {.path = P_FOREVER,
     .kind = LC_RPC_BIDI_STREAM,
     .request = &common__envelope__descriptor,
     .on_open = echo_on_open,
     .on_message = forever_on_message,
     .on_done = any_on_done},
    {.path = P_PAUSED,
     .kind = LC_RPC_BIDI_STREAM,
     .request = &common__envelope__descriptor,
     .on_open = paused_on_open,
     .on_message = paused_on_message,
     .on_done = any_on_done},
};

/* ------------------------------------------------------------------------------------------ */
/* Fixture                                                                                    */
/* ------------------------------------------------------------------------------------------ */

struct fx {
    struct tsvc svc;
    struct lc_rpc_server *srv;
    struct lc_rpc_client *cli;
    char target[64];
};

static void fx_start(struct fx *f, const struct lc_rpc_server_opts *o_in,
                     const struct lc_rpc_client_opts *co)
{
    memset(f, 0, sizeof *f);
    pthread_mutex_init(&f->svc.mu, NULL);
    pthread_cond_init(&f->svc.cv, NULL);
    struct lc_rpc_server_opts o = {0};
    if (o_in)
        o = *o_in;
    o.listen = "127.0.0.1:0";
    struct lc_errbuf err;
    ck_assert_int_eq(lc_rpc_server_new(&o, &err, &f->srv), 0);
    ck_assert_int_eq(lc_rpc_server_add(f->srv, test_methods,
                                       sizeof test_methods / sizeof test_methods[0], &f->svc, &err),
                     0);
    ck_assert_int_eq(lc_rpc_server_port(f->srv), 0);
    ck_assert_msg(lc_rpc_server_start(f->srv, &err) == 0, "start: %s", err.msg);
    ck_assert_int_gt(lc_rpc_server_port(f->srv), 0);
    snprintf(f->target, sizeof f->target, "127.0.0.1:%d", lc_rpc_server_port(f->srv));
    ck_assert_int_eq(lc_rpc_client_new(f->target, co, &err, &f->cli), 0);
}

static void fx_stop(struct fx *f)
{
    lc_rpc_server_shutdown(f->srv, 2000);
    lc_rpc_server_free(f->srv);
    lc_rpc_client_free(f->cli);
    if (f->svc.async_started)
        pthread_join(f->svc.async_thread, NULL);
    lc_rpc_call_unref(f->svc.held);
    pthread_cond_destroy(&f->svc.cv);
    pthread_mutex_destroy(&f->svc.mu);
}

static void env_set(Common__Envelope *e, const char *payload, const char *sig)
{
    e->payload.data = (uint8_t *)payload;
    e->payload.len = strlen(payload);
    e->signature.data = (uint8_t *)sig;
    e->signature.len = strlen(sig);
}

/* A unary call to P_UNARY; returns the code and the info of the answer in info. */
static int call_unary(struct lc_rpc_client *cli, const char *payload, const char *sig,
                      int timeout_ms, struct lc_rpc_status *st, char *info, size_t info_len)
{
    Common__Envelope e = COMMON__ENVELOPE__INIT;
    env_set(&e, payload, sig);
    ProtobufCMessage *resp = NULL;
    int r = lc_rpc_unary(cli, P_UNARY, &e.base, &orderer__broadcast_response__descriptor,
                         timeout_ms, st, &resp);
    if (r == 0) {
        Orderer__BroadcastResponse *br = (Orderer__BroadcastResponse *)resp;
        snprintf(info, info_len, "%s", br->info);
        protobuf_c_message_free_unpacked(resp, NULL);
    }
    return r;
}

static int recv_info(struct lc_rpc_stream *s, int timeout_ms, char *info, size_t len)
{
    ProtobufCMessage *m = NULL;
    int r = lc_rpc_stream_recv(s, &orderer__broadcast_response__descriptor, timeout_ms, &m);
    if (r == 0) {
        snprintf(info, len, "%s", ((Orderer__BroadcastResponse *)m)->info);
        protobuf_c_message_free_unpacked(m, NULL);
    }
    return r;
}

/* ------------------------------------------------------------------------------------------ */
/* Tests                                                                                      */
/* ------------------------------------------------------------------------------------------ */

START_TEST(unary_round_trip)
{
    struct fx f;
    fx_start(&f, NULL, NULL);
    struct lc_rpc_status st;
    char info[128];
    ck_assert_int_eq(call_unary(f.cli, "hello", "", 60000, &st, info, sizeof info), 0);
    ck_assert_int_eq(st.code, LC_RPC_OK);
    ck_assert_str_eq(info, "hello");
    /* the client's deadline is visible to the handler */
    ck_assert_int_gt(f.svc.left_ms, 0);
    ck_assert_int_le(f.svc.left_ms, 60000);
    ck_assert_int_eq(call_unary(f.cli, "x", "", -1, &st, info, sizeof info), 0);
    ck_assert(f.svc.left_ms == INT64_MAX);
    ck_assert_int_eq(call_unary(f.cli, "", "peer", 0, &st, info, sizeof info), 0);
    ck_assert_ptr_nonnull(strstr(info, "127.0.0.1"));
    svc_wait(&f.svc, &f.svc.done, 3);
    ck_assert_int_eq(f.svc.done_cancelled, 0);
    fx_stop(&f);
}
END_TEST

START_TEST(unary_reply_from_another_thread)
{
    struct fx f;
    fx_start(&f, NULL, NULL);
    struct lc_rpc_status st;
    char info[128];
    ck_assert_int_eq(call_unary(f.cli, "later", "async", 0, &st, info, sizeof info), 0);
    ck_assert_str_eq(info, "async:later");
    fx_stop(&f);
}
END_TEST

START_TEST(unary_error_status_and_silent_handler)
{
    struct fx f;
    fx_start(&f, NULL, NULL);
    struct lc_rpc_status st;
    char info[128];
    ck_assert_int_eq(call_unary(f.cli, "", "fail", 0, &st, info, sizeof info), LC_ENOTFOUND);
    ck_assert_int_eq(st.code, LC_RPC_NOT_FOUND);
    ck_assert_str_eq(st.msg, "no thing 42");
    ck_assert_int_eq(call_unary(f.cli, "", "silent", 0, &st, info, sizeof info), -EREMOTEIO);
    ck_assert_int_eq(st.code, LC_RPC_INTERNAL);
    ck_assert_ptr_nonnull(strstr(st.msg, "without an answer"));
    fx_stop(&f);
}
END_TEST

START_TEST(undecodable_request_is_invalid_argument)
{
    struct fx f;
    fx_start(&f, NULL, NULL);
    /* A BroadcastResponse's field 1 is a varint; Envelope's field 1 is bytes. */
    Orderer__BroadcastResponse bad = ORDERER__BROADCAST_RESPONSE__INIT;
    bad.status = COMMON__STATUS__SUCCESS;
    struct lc_rpc_status st;
    ProtobufCMessage *resp = NULL;
    ck_assert_int_eq(lc_rpc_unary(f.cli, P_UNARY, &bad.base,
                                  &orderer__broadcast_response__descriptor, 0, &st, &resp),
                     LC_EINVALID);
    ck_assert_ptr_null(resp);
    ck_assert_int_eq(st.code, LC_RPC_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(st.msg, "common.Envelope"));

    /* the same mid-stream ends a bidi call */
    struct lc_rpc_stream *s = NULL;
    ck_assert_int_eq(lc_rpc_stream_open(f.cli, P_ECHO, 0, &s), 0);
    Common__Envelope e = COMMON__ENVELOPE__INIT;
    env_set(&e, "fine", "");
    ck_assert_int_eq(lc_rpc_stream_send(s, &e.base, -1), 0);
    char info[64];
    ck_assert_int_eq(recv_info(s, -1, info, sizeof info), 0);
    ck_assert_str_eq(info, "fine");
    ck_assert_int_eq(lc_rpc_stream_send(s, &bad.base, -1), 0);
    ck_assert_int_eq(recv_info(s, -1, info, sizeof info), LC_EINVALID);
    ck_assert_int_eq(recv_info(s, -1, info, sizeof info), LC_EINVALID); /* stays ended */
    ck_assert_int_eq(lc_rpc_stream_status(s, -1, &st), LC_EINVALID);
    ck_assert_int_eq(st.code, LC_RPC_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(st.msg, "common.Envelope"));
    ck_assert_int_eq(lc_rpc_stream_send(s, &e.base, -1), LC_ECLOSED);
    lc_rpc_stream_free(s);
    /* the handler saw the stream end, not as its own finish */
    svc_wait(&f.svc, &f.svc.done, 1);
    ck_assert_int_eq(f.svc.done_cancelled, 1);
    fx_stop(&f);
}
END_TEST

START_TEST(response_that_does_not_decode)
{
    struct fx f;
    fx_start(&f, NULL, NULL);
    /* The echo answer is a BroadcastResponse: read as an Envelope it does not decode. */
    Common__Envelope e = COMMON__ENVELOPE__INIT;
    env_set(&e, "abc", "");
    struct lc_rpc_status st;
    ProtobufCMessage *resp = NULL;
    ck_assert_int_eq(
        lc_rpc_unary(f.cli, P_UNARY, &e.base, &common__envelope__descriptor, 0, &st, &resp),
        LC_EDECODE);
    ck_assert_int_eq(st.code, LC_RPC_INTERNAL);
    ck_assert_ptr_nonnull(strstr(st.msg, "common.Envelope"));
    fx_stop(&f);
}
END_TEST

START_TEST(unknown_method_is_unimplemented)
{
    struct fx f;
    fx_start(&f, NULL, NULL);
    Common__Envelope e = COMMON__ENVELOPE__INIT;
    struct lc_rpc_status st;
    ProtobufCMessage *resp = NULL;
    ck_assert_int_eq(lc_rpc_unary(f.cli, "/weft.test.Test/Nope", &e.base,
                                  &common__envelope__descriptor, 0, &st, &resp),
                     -ENOSYS);
    ck_assert_int_eq(st.code, LC_RPC_UNIMPLEMENTED);
    ck_assert_ptr_nonnull(strstr(st.msg, "/weft.test.Test/Nope"));
    /* a stream to an unknown method too */
    struct lc_rpc_stream *s = NULL;
    ck_assert_int_eq(lc_rpc_stream_open(f.cli, "/weft.test.Other/Stream", 0, &s), 0);
    char info[16];
    ck_assert_int_eq(recv_info(s, -1, info, sizeof info), -ENOSYS);
    lc_rpc_stream_free(s);
    fx_stop(&f);
}
END_TEST

START_TEST(oversize_is_resource_exhausted)
{
    struct fx f;
    struct lc_rpc_server_opts o = {.max_recv_bytes = 64 * 1024};
    fx_start(&f, &o, NULL);
    size_t big = 100 * 1024;
    char *payload = malloc(big + 1);
    ck_assert_ptr_nonnull(payload);
    memset(payload, 'a', big);
    payload[big] = '\0';
    struct lc_rpc_status st;
    char info[16];
    ck_assert_int_eq(call_unary(f.cli, payload, "", 0, &st, info, sizeof info), LC_ETOOBIG);
    ck_assert_int_eq(st.code, LC_RPC_RESOURCE_EXHAUSTED);
    /* the server still serves */
    ck_assert_int_eq(call_unary(f.cli, "small", "", 0, &st, info, sizeof info), 0);
    /* a client refuses to send over its own limit */
    struct lc_rpc_client *small = NULL;
    struct lc_rpc_client_opts co = {.max_send_bytes = 1024};
    ck_assert_int_eq(lc_rpc_client_new(f.target, &co, NULL, &small), 0);
    ck_assert_int_eq(call_unary(small, payload, "", 0, &st, info, sizeof info), LC_ETOOBIG);
    ck_assert_int_eq(st.code, LC_RPC_RESOURCE_EXHAUSTED);
    lc_rpc_client_free(small);
    free(payload);
    fx_stop(&f);
}
END_TEST

START_TEST(deadline_exceeded)
{
    struct fx f;
    fx_start(&f, NULL, NULL);
    struct lc_rpc_status st;
    char info[16];
    ck_assert_int_eq(call_unary(f.cli, "", "hold", 200, &st, info, sizeof info), LC_ETIMEOUT);
    ck_assert_int_eq(st.code, LC_RPC_DEADLINE_EXCEEDED);
    /* the server side ends as cancelled; a late answer is refused */
    svc_wait(&f.svc, &f.svc.done, 1);
    ck_assert_int_eq(f.svc.done_cancelled, 1);
    svc_wait_held(&f.svc);
    ck_assert_int_lt(lc_rpc_call_time_left_ms(f.svc.held), 200);
    ck_assert_int_eq(reply_info(f.svc.held, "late"), LC_ECLOSED);
    ck_assert_int_eq(lc_rpc_finish(f.svc.held, LC_RPC_ABORTED, "late"), LC_ECLOSED);
    /* a stream past its deadline */
    struct lc_rpc_stream *s = NULL;
    ck_assert_int_eq(lc_rpc_stream_open(f.cli, P_FOREVER, 200, &s), 0);
    ck_assert_int_eq(recv_info(s, -1, info, sizeof info), LC_ETIMEOUT);
    lc_rpc_stream_free(s);
    fx_stop(&f);
}
END_TEST

START_TEST(bidi_echo_in_order)
{
    struct fx f;
    fx_start(&f, NULL, NULL);
    struct lc_rpc_stream *s = NULL;
    ck_assert_int_eq(lc_rpc_stream_open(f.cli, P_ECHO, 60000, &s), 0);
    enum { N = 2000, AHEAD = 16 };
    char info[32], want[32], payload[32];
    for (int i = 0; i < N + AHEAD; i++) {
        if (i < N) {
            Common__Envelope e = COMMON__ENVELOPE__INIT;
            snprintf(payload, sizeof payload, "m%d", i);
            env_set(&e, payload, "");
            ck_assert_int_eq(lc_rpc_stream_send(s, &e.base, -1), 0);
        }
        if (i == N)
            ck_assert_int_eq(lc_rpc_stream_close_send(s, -1), 0);
        if (i >= AHEAD) {
            ck_assert_int_eq(recv_info(s, -1, info, sizeof info), 0);
            snprintf(want, sizeof want, "m%d", i - AHEAD);
            ck_assert_str_eq(info, want);
        }
    }
    ck_assert_int_eq(recv_info(s, -1, info, sizeof info), LC_ECLOSED);
    struct lc_rpc_status st;
    ck_assert_int_eq(lc_rpc_stream_status(s, -1, &st), 0);
    ck_assert_int_eq(st.code, LC_RPC_OK);
    Common__Envelope e = COMMON__ENVELOPE__INIT;
    ck_assert_int_eq(lc_rpc_stream_send(s, &e.base, -1), LC_ECLOSED);
    ck_assert_int_eq(lc_rpc_stream_close_send(s, -1), LC_ECLOSED);
    lc_rpc_stream_free(s);
    svc_wait(&f.svc, &f.svc.done, 1);
    ck_assert_int_eq(f.svc.done_cancelled, 0);
    fx_stop(&f);
}
END_TEST

START_TEST(server_stream_then_status)
{
    struct fx f;
    struct lc_rpc_server_opts o = {.send_queue_msgs = 8};
    fx_start(&f, &o, NULL);
    struct lc_rpc_stream *s = NULL;
    ck_assert_int_eq(lc_rpc_stream_open(f.cli, P_COUNT, -1, &s), 0);
    Common__Envelope e = COMMON__ENVELOPE__INIT;
    env_set(&e, "1000", "");
    ck_assert_int_eq(lc_rpc_stream_send(s, &e.base, -1), 0);
    ck_assert_int_eq(lc_rpc_stream_close_send(s, -1), 0);
    char info[32], want[32];
    /* before the first message, a zero wait says "nothing yet" or hands one over */
    int r = recv_info(s, 0, info, sizeof info);
    int first = 0;
    if (r == 0) {
        ck_assert_str_eq(info, "0");
        first = 1;
    } else {
        ck_assert_int_eq(r, -EAGAIN);
    }
    for (int i = first; i < 1000; i++) {
        ck_assert_int_eq(recv_info(s, -1, info, sizeof info), 0);
        snprintf(want, sizeof want, "%d", i);
        ck_assert_str_eq(info, want);
    }
    ck_assert_int_eq(recv_info(s, -1, info, sizeof info), LC_ECLOSED);
    struct lc_rpc_status st;
    ck_assert_int_eq(lc_rpc_stream_status(s, 0, &st), 0);
    ck_assert_str_eq(st.msg, "sent 1000");
    lc_rpc_stream_free(s);
    /* 1000 messages through a queue of 8 needed the writable callback */
    ck_assert_int_gt(f.svc.writable, 0);
    fx_stop(&f);
}
END_TEST

START_TEST(bounded_send_queue)
{
    struct fx f;
    struct lc_rpc_server_opts o = {.send_queue_msgs = 8, .max_send_bytes = 1024 * 1024};
    fx_start(&f, &o, NULL);
    struct lc_rpc_stream *s = NULL;
    ck_assert_int_eq(lc_rpc_stream_open(f.cli, P_FLOOD, -1, &s), 0);
    Common__Envelope req = COMMON__ENVELOPE__INIT;
    ck_assert_int_eq(lc_rpc_stream_send(s, &req.base, -1), 0);
    ck_assert_int_eq(lc_rpc_stream_close_send(s, -1), 0);
    svc_wait_held(&f.svc);
    struct lc_rpc_call *call = f.svc.held;

    /* The client reads nothing. A producer pushing 64 KiB messages (this thread, not a
     * worker) must be told "full" long before 10000 of them (640 MiB) are buffered. */
    enum { MSG = 64 * 1024, TRIES = 10000 };
    char *big = malloc(MSG + 16);
    ck_assert_ptr_nonnull(big);
    int accepted = 0, r = 0;
    for (; accepted < TRIES; accepted++) {
        memset(big, 'a' + accepted % 26, MSG);
        snprintf(big + MSG, 16, "%d", accepted);
        Orderer__BroadcastResponse br = ORDERER__BROADCAST_RESPONSE__INIT;
        br.info = big;
        r = lc_rpc_send(call, &br.base);
        if (r != 0)
            break;
    }
    ck_assert_int_eq(r, -EAGAIN);
    ck_assert_int_lt(accepted, TRIES);
    ck_assert_int_ge(accepted, 1);

    /* Now the client reads everything accepted; the queue drains, on_writable fires. */
    for (int i = 0; i < accepted; i++) {
        ProtobufCMessage *m = NULL;
        ck_assert_int_eq(lc_rpc_stream_recv(s, &orderer__broadcast_response__descriptor, -1, &m),
                         0);
        const char *info = ((Orderer__BroadcastResponse *)m)->info;
        ck_assert_uint_eq(strlen(info), MSG + strlen(info + MSG));
        ck_assert_int_eq(strtol(info + MSG, NULL, 10), i);
        protobuf_c_message_free_unpacked(m, NULL);
    }
    svc_wait(&f.svc, &f.svc.writable, 1);
    /* over max_send_bytes: refused, the call goes on */
    uint8_t *huge = calloc(1, 2 * 1024 * 1024);
    ck_assert_ptr_nonnull(huge);
    ck_assert_int_eq(lc_rpc_send_raw(call, huge, 2 * 1024 * 1024), LC_ETOOBIG);
    free(huge);
    /* a message the service encoded itself */
    Orderer__BroadcastResponse tail = ORDERER__BROADCAST_RESPONSE__INIT;
    tail.info = "tail";
    uint8_t packed[32];
    size_t plen = orderer__broadcast_response__pack(&tail, packed);
    ck_assert_int_eq(lc_rpc_send_raw(call, packed, plen), 0);
    ck_assert_int_eq(lc_rpc_finish(call, LC_RPC_OK, "flooded"), 0);
    ck_assert_int_eq(send_info(call, "after"), LC_ECLOSED);
    char info[16];
    ck_assert_int_eq(recv_info(s, -1, info, sizeof info), 0);
    ck_assert_str_eq(info, "tail");
    ck_assert_int_eq(recv_info(s, -1, info, sizeof info), LC_ECLOSED);
    free(big);
    lc_rpc_stream_free(s);
    fx_stop(&f);
}
END_TEST

struct worker_arg {
    const char *target;
    struct lc_rpc_client *shared;
    int id;
    int ok;
};

static void *client_worker(void *p)
{
    struct worker_arg *a = p;
    char payload[32], info[64], want[64];
    struct lc_rpc_status st;
    int ok = 0;
    for (int i = 0; i < 40; i++) {
        snprintf(payload, sizeof payload, "w%d-%d", a->id, i);
        if (call_unary(a->shared, payload, "", 0, &st, info, sizeof info) == 0 &&
            strcmp(info, payload) == 0)
            ok++;
    }
    /* one channel per thread as well, with its own bidi stream */
    struct lc_rpc_client *own = NULL;
    if (lc_rpc_client_new(a->target, NULL, NULL, &own) == 0) {
        struct lc_rpc_stream *s = NULL;
        if (lc_rpc_stream_open(own, P_ECHO, 0, &s) == 0) {
            for (int i = 0; i < 50; i++) {
                Common__Envelope e = COMMON__ENVELOPE__INIT;
                snprintf(payload, sizeof payload, "s%d-%d", a->id, i);
                env_set(&e, payload, "");
                if (lc_rpc_stream_send(s, &e.base, -1) != 0)
                    break;
                snprintf(want, sizeof want, "s%d-%d", a->id, i);
                if (recv_info(s, -1, info, sizeof info) == 0 && strcmp(info, want) == 0)
                    ok++;
            }
            if (lc_rpc_stream_close_send(s, -1) == 0 &&
                recv_info(s, -1, info, sizeof info) == LC_ECLOSED)
                ok++;
            lc_rpc_stream_free(s);
        }
        lc_rpc_client_free(own);
    }
    a->ok = ok;
    return NULL;
}

START_TEST(many_concurrent_clients)
{
    struct fx f;
    struct lc_rpc_server_opts o = {.threads = 2};
    fx_start(&f, &o, NULL);
    enum { T = 6 };
    pthread_t th[T];
    struct worker_arg args[T];
    for (int i = 0; i < T; i++) {
        args[i] = (struct worker_arg){f.target, f.cli, i, 0};
        ck_assert_int_eq(pthread_create(&th[i], NULL, client_worker, &args[i]), 0);
    }
    for (int i = 0; i < T; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(args[i].ok, 40 + 50 + 1);
    }
    svc_wait(&f.svc, &f.svc.done, T * 40 + T);
    ck_assert_int_eq(f.svc.done_cancelled, 0);
    fx_stop(&f);
}
END_TEST

static void *shutdown_thread(void *p)
{
    lc_rpc_server_shutdown(p, 100);
    return NULL;
}

START_TEST(shutdown_with_open_streams)
{
    struct fx f;
    fx_start(&f, NULL, NULL);
    struct lc_rpc_status st;
    char info[64];
    /* a connection that is idle at shutdown time */
    ck_assert_int_eq(call_unary(f.cli, "idle", "", 0, &st, info, sizeof info), 0);
    enum { N = 3 };
    struct lc_rpc_client *cli[N];
    struct lc_rpc_stream *s[N];
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(lc_rpc_client_new(f.target, NULL, NULL, &cli[i]), 0);
        ck_assert_int_eq(lc_rpc_stream_open(cli[i], P_FOREVER, -1, &s[i]), 0);
        Common__Envelope e = COMMON__ENVELOPE__INIT;
        env_set(&e, "hi", "");
        ck_assert_int_eq(lc_rpc_stream_send(s[i], &e.base, -1), 0);
    }
    svc_wait(&f.svc, &f.svc.opened, N);

    /* two shutdowns at once (one as a signal thread would), then a third */
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, shutdown_thread, f.srv), 0);
    lc_rpc_server_shutdown(f.srv, 100);
    pthread_join(th, NULL);
    lc_rpc_server_shutdown(f.srv, 100);

    /* every handler heard the end before shutdown returned */
    ck_assert_int_eq(f.svc.done, N + 1);
    ck_assert_int_eq(f.svc.done_cancelled, N);
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(recv_info(s[i], -1, info, sizeof info), LC_EUNAVAIL);
        ck_assert_int_eq(lc_rpc_stream_status(s[i], -1, &st), LC_EUNAVAIL);
        ck_assert_int_eq(st.code, LC_RPC_UNAVAILABLE);
        ck_assert_str_eq(st.msg, "server shutting down");
        lc_rpc_stream_free(s[i]);
        lc_rpc_client_free(cli[i]);
    }
    /* nothing listens any more */
    ck_assert_int_eq(call_unary(f.cli, "gone", "", 0, &st, info, sizeof info), LC_EUNAVAIL);
    ck_assert_int_eq(st.code, LC_RPC_UNAVAILABLE);
    fx_stop(&f);
}
END_TEST

START_TEST(shutdown_with_a_client_that_does_not_read)
{
    struct fx f;
    struct lc_rpc_server_opts o = {.send_queue_msgs = 4};
    fx_start(&f, &o, NULL);
    struct lc_rpc_stream *s = NULL;
    ck_assert_int_eq(lc_rpc_stream_open(f.cli, P_FLOOD, -1, &s), 0);
    Common__Envelope req = COMMON__ENVELOPE__INIT;
    ck_assert_int_eq(lc_rpc_stream_send(s, &req.base, -1), 0);
    svc_wait_held(&f.svc);
    enum { MSG = 256 * 1024 };
    char *big = malloc(MSG + 1);
    ck_assert_ptr_nonnull(big);
    memset(big, 'z', MSG);
    big[MSG] = '\0';
    Orderer__BroadcastResponse br = ORDERER__BROADCAST_RESPONSE__INIT;
    br.info = big;
    int r;
    while ((r = lc_rpc_send(f.svc.held, &br.base)) == 0)
        ;
    ck_assert_int_eq(r, -EAGAIN);
    /* Queued messages, maybe one stuck in flow control: shutdown still completes, cutting the
     * call if its UNAVAILABLE cannot get through. */
    lc_rpc_server_shutdown(f.srv, 0);
    ck_assert_int_eq(f.svc.done, 1);
    ck_assert_int_eq(f.svc.done_cancelled, 1);
    ck_assert_int_eq(lc_rpc_send(f.svc.held, &br.base), LC_ECLOSED);
    /* the client gets what was sent, then an error end */
    ProtobufCMessage *m = NULL;
    while ((r = lc_rpc_stream_recv(s, &orderer__broadcast_response__descriptor, -1, &m)) == 0)
        protobuf_c_message_free_unpacked(m, NULL);
    ck_assert_int_lt(r, 0);
    ck_assert_int_ne(r, LC_ECLOSED);
    free(big);
    lc_rpc_stream_free(s);
    fx_stop(&f);
}
END_TEST

struct held_call {
    struct lc_rpc_client *cli;
    int r;
    char info[64];
};

static void *held_unary(void *p)
{
    struct held_call *h = p;
    struct lc_rpc_status st;
    h->r = call_unary(h->cli, "", "hold", -1, &st, h->info, sizeof h->info);
    return NULL;
}

static void *slow_shutdown(void *p)
{
    lc_rpc_server_shutdown(p, 600000);
    return NULL;
}

START_TEST(shutdown_lets_calls_finish_in_grace)
{
    struct fx f;
    fx_start(&f, NULL, NULL);
    struct held_call h = {.cli = f.cli};
    pthread_t caller, stopper;
    ck_assert_int_eq(pthread_create(&caller, NULL, held_unary, &h), 0);
    svc_wait_held(&f.svc);
    ck_assert_int_eq(pthread_create(&stopper, NULL, slow_shutdown, f.srv), 0);
    /* Wait until the shutdown has begun: new calls are refused (UNAVAILABLE, or CANCELLED when
     * the call raced the GOAWAY and gRPC core dropped it). */
    struct lc_rpc_status st;
    char info[16];
    while (call_unary(f.cli, "probe", "", 0, &st, info, sizeof info) == 0)
        ;
    ck_assert(st.code == LC_RPC_UNAVAILABLE || st.code == LC_RPC_CANCELLED);
    /* The call in flight is answered normally within the grace period... */
    ck_assert_int_eq(reply_info(f.svc.held, "answered"), 0);
    pthread_join(caller, NULL);
    ck_assert_int_eq(h.r, 0);
    ck_assert_str_eq(h.info, "answered");
    /* ...and with nothing left in flight the shutdown ends without using its long grace. */
    pthread_join(stopper, NULL);
    fx_stop(&f);
}
END_TEST

START_TEST(closed_port_is_unavailable)
{
    /* A bound socket that does not listen: connections to it are refused. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t alen = sizeof a;
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", ntohs(a.sin_port));
    struct lc_rpc_client *cli = NULL;
    ck_assert_int_eq(lc_rpc_client_new(target, NULL, NULL, &cli), 0);
    struct lc_rpc_status st;
    char info[16];
    /* no deadline: fail-fast must answer by itself */
    ck_assert_int_eq(call_unary(cli, "x", "", -1, &st, info, sizeof info), LC_EUNAVAIL);
    ck_assert_int_eq(st.code, LC_RPC_UNAVAILABLE);
    struct lc_rpc_stream *s = NULL;
    ck_assert_int_eq(lc_rpc_stream_open(cli, P_ECHO, -1, &s), 0);
    ck_assert_int_eq(recv_info(s, -1, info, sizeof info), LC_EUNAVAIL);
    Common__Envelope e = COMMON__ENVELOPE__INIT;
    ck_assert_int_eq(lc_rpc_stream_send(s, &e.base, -1), LC_ECLOSED);
    lc_rpc_stream_free(s);
    lc_rpc_client_free(cli);
    close(fd);
}
END_TEST

static void *blocked_recv(void *p)
{
    char info[16];
    intptr_t r = recv_info(p, -1, info, sizeof info);
    return (void *)r;
}

START_TEST(stream_cancel_from_another_thread)
{
    struct fx f;
    fx_start(&f, NULL, NULL);
    struct lc_rpc_stream *s = NULL;
    ck_assert_int_eq(lc_rpc_stream_open(f.cli, P_FOREVER, -1, &s), 0);
    svc_wait(&f.svc, &f.svc.opened, 1);
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, blocked_recv, s), 0);
    lc_rpc_stream_cancel(s);
    void *r = NULL;
    pthread_join(th, &r);
    ck_assert_int_eq((intptr_t)r, -ECANCELED);
    lc_rpc_stream_free(s);
    svc_wait(&f.svc, &f.svc.done, 1);
    ck_assert_int_eq(f.svc.done_cancelled, 1);
    fx_stop(&f);
}
END_TEST

START_TEST(recv_pause_and_resume)
{
    struct fx f;
    fx_start(&f, NULL, NULL);
    struct lc_rpc_stream *s = NULL;
    ck_assert_int_eq(lc_rpc_stream_open(f.cli, P_PAUSED, -1, &s), 0);
    for (int i = 0; i < 3; i++) {
        Common__Envelope e = COMMON__ENVELOPE__INIT;
        env_set(&e, "p", "");
        ck_assert_int_eq(lc_rpc_stream_send(s, &e.base, -1), 0);
    }
    svc_wait_held(&f.svc);
    struct lc_rpc_call *call = f.svc.held;
    pthread_mutex_lock(&f.svc.mu);
    int before = f.svc.messages;
    pthread_mutex_unlock(&f.svc.mu);
    ck_assert_int_eq(before, 0); /* paused in on_open: nothing is read */
    ck_assert_int_eq(lc_rpc_recv_resume(call), 0);
    ck_assert_int_eq(lc_rpc_recv_resume(call), -EINVAL);
    svc_wait(&f.svc, &f.svc.messages, 3);
    ck_assert_int_eq(lc_rpc_finish(call, LC_RPC_OK, NULL), 0);
    char info[16];
    ck_assert_int_eq(recv_info(s, -1, info, sizeof info), LC_ECLOSED);
    lc_rpc_stream_free(s);
    svc_wait(&f.svc, &f.svc.done, 1);
    ck_assert_int_eq(lc_rpc_recv_pause(call), LC_ECLOSED);
    ck_assert_int_eq(lc_rpc_send(call, &(Common__Envelope)COMMON__ENVELOPE__INIT.base), LC_ECLOSED);
    fx_stop(&f);
}
END_TEST

static void nop_request(struct lc_rpc_call *c, const ProtobufCMessage *m)
{
    (void)c;
    (void)m;
}

static void nop_open(struct lc_rpc_call *c)
{
    (void)c;
}

START_TEST(server_options_and_registration_are_checked)
{
    struct lc_errbuf err;
    struct lc_rpc_server *srv = NULL;
    struct lc_rpc_server_opts o = {0};
    ck_assert_int_eq(lc_rpc_server_new(NULL, &err, &srv), LC_EINVALID);
    ck_assert_int_eq(lc_rpc_server_new(&o, &err, &srv), LC_EINVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "listen"));
    o.listen = "127.0.0.1:0";
    struct lc_rpc_tls tls = {0};
    o.tls = &tls;
    ck_assert_int_eq(lc_rpc_server_new(&o, &err, &srv), -ENOTSUP);
    o.tls = NULL;
    o.threads = 65;
    ck_assert_int_eq(lc_rpc_server_new(&o, &err, &srv), LC_EINVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "threads"));
    o.threads = 0;
    o.max_recv_bytes = (size_t)INT32_MAX + 1;
    ck_assert_int_eq(lc_rpc_server_new(&o, &err, &srv), LC_EINVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "max_recv_bytes"));
    o.max_recv_bytes = 0;
    ck_assert_ptr_null(srv);

    ck_assert_int_eq(lc_rpc_server_new(&o, &err, &srv), 0);
    const char *bad_paths[] = {"noslash", "/a", "/a/", "//b", "/a/b/c", "/a b/c"};
    for (size_t i = 0; i < sizeof bad_paths / sizeof bad_paths[0]; i++) {
        struct lc_rpc_method m = {.path = bad_paths[i],
                                  .kind = LC_RPC_UNARY,
                                  .request = &common__envelope__descriptor,
                                  .on_request = nop_request};
        ck_assert_int_eq(lc_rpc_server_add(srv, &m, 1, NULL, &err), LC_EINVALID);
        ck_assert_ptr_nonnull(strstr(err.msg, "path"));
    }
    struct lc_rpc_method nodesc = {
        .path = "/a.B/C", .kind = LC_RPC_UNARY, .on_request = nop_request};
    ck_assert_int_eq(lc_rpc_server_add(srv, &nodesc, 1, NULL, &err), LC_EINVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "descriptor"));
    struct lc_rpc_method extra = {.path = "/a.B/C",
                                  .kind = LC_RPC_UNARY,
                                  .request = &common__envelope__descriptor,
                                  .on_request = nop_request,
                                  .on_open = nop_open};
    ck_assert_int_eq(lc_rpc_server_add(srv, &extra, 1, NULL, &err), LC_EINVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "callbacks"));
    struct lc_rpc_method nomsg = {.path = "/a.B/C",
                                  .kind = LC_RPC_BIDI_STREAM,
                                  .request = &common__envelope__descriptor,
                                  .on_open = nop_open};
    ck_assert_int_eq(lc_rpc_server_add(srv, &nomsg, 1, NULL, &err), LC_EINVALID);
    struct lc_rpc_method badkind = {.path = "/a.B/C",
                                    .kind = (enum lc_rpc_kind)7,
                                    .request = &common__envelope__descriptor,
                                    .on_request = nop_request};
    ck_assert_int_eq(lc_rpc_server_add(srv, &badkind, 1, NULL, &err), LC_EINVALID);
    struct lc_rpc_method twice[2] = {
        {.path = "/a.B/C",
         .kind = LC_RPC_UNARY,
         .request = &common__envelope__descriptor,
         .on_request = nop_request},
        {.path = "/a.B/C",
         .kind = LC_RPC_UNARY,
         .request = &common__envelope__descriptor,
         .on_request = nop_request},
    };
    ck_assert_int_eq(lc_rpc_server_add(srv, twice, 2, NULL, &err), LC_EEXISTS);
    ck_assert_int_eq(lc_rpc_server_add(srv, twice, 1, NULL, &err), 0);
    ck_assert_int_eq(lc_rpc_server_add(srv, &twice[1], 1, NULL, &err), LC_EEXISTS);
    ck_assert_int_eq(lc_rpc_server_add(srv, twice, 0, NULL, &err), LC_EINVALID);
    ck_assert_int_eq(lc_rpc_server_start(srv, &err), 0);
    struct lc_rpc_method late = {.path = "/a.B/D",
                                 .kind = LC_RPC_UNARY,
                                 .request = &common__envelope__descriptor,
                                 .on_request = nop_request};
    ck_assert_int_eq(lc_rpc_server_add(srv, &late, 1, NULL, &err), LC_EINVALID);
    ck_assert_int_eq(lc_rpc_server_start(srv, &err), LC_EINVALID);

    /* the same port again: SO_REUSEPORT is off, so this is an error, not a silent share */
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", lc_rpc_server_port(srv));
    struct lc_rpc_server *second = NULL;
    struct lc_rpc_server_opts o2 = {.listen = addr};
    ck_assert_int_eq(lc_rpc_server_new(&o2, &err, &second), 0);
    ck_assert_int_eq(lc_rpc_server_add(second, twice, 1, NULL, &err), 0);
    ck_assert_int_eq(lc_rpc_server_start(second, &err), LC_EUNAVAIL);
    ck_assert_ptr_nonnull(strstr(err.msg, addr));
    lc_rpc_server_shutdown(second, 0);
    lc_rpc_server_free(second);
    lc_rpc_server_free(srv);

    /* a server freed without ever starting */
    ck_assert_int_eq(lc_rpc_server_new(&o, &err, &srv), 0);
    lc_rpc_server_free(srv);
    lc_rpc_server_free(NULL);
}
END_TEST

START_TEST(client_options_are_checked)
{
    struct lc_errbuf err;
    struct lc_rpc_client *c = NULL;
    ck_assert_int_eq(lc_rpc_client_new("", NULL, &err, &c), LC_EINVALID);
    ck_assert_int_eq(lc_rpc_client_new(NULL, NULL, &err, &c), LC_EINVALID);
    struct lc_rpc_tls tls = {0};
    struct lc_rpc_client_opts o = {.tls = &tls};
    ck_assert_int_eq(lc_rpc_client_new("127.0.0.1:1", &o, &err, &c), -ENOTSUP);
    o = (struct lc_rpc_client_opts){.max_send_bytes = (size_t)INT32_MAX + 1};
    ck_assert_int_eq(lc_rpc_client_new("127.0.0.1:1", &o, &err, &c), LC_EINVALID);
    ck_assert_ptr_null(c);
    ck_assert_int_eq(lc_rpc_client_new("127.0.0.1:1", NULL, &err, &c), 0);
    struct lc_rpc_stream *s = NULL;
    ck_assert_int_eq(lc_rpc_stream_open(c, "bad path", 0, &s), -EINVAL);
    Common__Envelope e = COMMON__ENVELOPE__INIT;
    struct lc_rpc_status st;
    ProtobufCMessage *resp = NULL;
    ck_assert_int_eq(lc_rpc_unary(c, "bad", &e.base, &common__envelope__descriptor, 0, &st, &resp),
                     -EINVAL);
    lc_rpc_client_free(c);
    lc_rpc_client_free(NULL);
    lc_rpc_stream_free(NULL);
}
END_TEST

START_TEST(codes_translate_both_ways)
{
    ck_assert_str_eq(lc_rpc_code_name(LC_RPC_UNAVAILABLE), "UNAVAILABLE");
    ck_assert_str_eq(lc_rpc_code_name((enum lc_rpc_code)99), "UNKNOWN_CODE");
    ck_assert_int_eq(lc_rpc_code_from_err(0), LC_RPC_OK);
    ck_assert_int_eq(lc_rpc_code_from_err(LC_EDECODE), LC_RPC_INVALID_ARGUMENT);
    ck_assert_int_eq(lc_rpc_code_from_err(LC_EBADSIG), LC_RPC_UNAUTHENTICATED);
    ck_assert_int_eq(lc_rpc_code_from_err(LC_EPOLICY), LC_RPC_PERMISSION_DENIED);
    ck_assert_int_eq(lc_rpc_code_from_err(LC_ENOTFOUND), LC_RPC_NOT_FOUND);
    ck_assert_int_eq(lc_rpc_code_from_err(LC_EUNAVAIL), LC_RPC_UNAVAILABLE);
    ck_assert_int_eq(lc_rpc_code_from_err(LC_ETIMEOUT), LC_RPC_DEADLINE_EXCEEDED);
    ck_assert_int_eq(lc_rpc_code_from_err(-ENOMEM), LC_RPC_RESOURCE_EXHAUSTED);
    ck_assert_int_eq(lc_rpc_code_from_err(LC_ECORRUPT), LC_RPC_INTERNAL);
    for (int c = 0; c <= 16; c++) {
        int e = lc_rpc_err_from_code((enum lc_rpc_code)c);
        ck_assert(c == 0 ? e == 0 : e < 0);
        ck_assert_int_ne(e, -EAGAIN);
        ck_assert_int_ne(e, LC_ECLOSED);
    }
    ck_assert_int_eq(lc_rpc_code_from_err(lc_rpc_err_from_code(LC_RPC_UNAVAILABLE)),
                     LC_RPC_UNAVAILABLE);
    ck_assert_int_eq(lc_rpc_code_from_err(lc_rpc_err_from_code(LC_RPC_NOT_FOUND)),
                     LC_RPC_NOT_FOUND);
}
END_TEST

START_TEST(signal_helpers)
{
    ck_assert_int_eq(lc_rpc_block_signals(), 0);
    ck_assert_int_eq(kill(getpid(), SIGTERM), 0); /* stays pending: blocked */
    ck_assert_int_eq(lc_rpc_wait_signal(), SIGTERM);
    ck_assert_int_eq(kill(getpid(), SIGINT), 0);
    ck_assert_int_eq(lc_rpc_wait_signal(), SIGINT);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rpc");
    TCase *tc = tcase_create("rpc");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, codes_translate_both_ways);
    tcase_add_test(tc, server_options_and_registration_are_checked);
    tcase_add_test(tc, client_options_are_checked);
    tcase_add_test(tc, unary_round_trip);
    tcase_add_test(tc, unary_reply_from_another_thread);
    tcase_add_test(tc, unary_error_status_and_silent_handler);
    tcase_add_test(tc, undecodable_request_is_invalid_argument);
    tcase_add_test(tc, response_that_does_not_decode);
    tcase_add_test(tc, unknown_method_is_unimplemented);
    tcase_add_test(tc, oversize_is_resource_exhausted);
    tcase_add_test(tc, deadline_exceeded);
    tcase_add_test(tc, bidi_echo_in_order);
    tcase_add_test(tc, server_stream_then_status);
    tcase_add_test(tc, bounded_send_queue);
    tcase_add_test(tc, many_concurrent_clients);
    tcase_add_test(tc, shutdown_with_open_streams);
    tcase_add_test(tc, shutdown_with_a_client_that_does_not_read);
    tcase_add_test(tc, shutdown_lets_calls_finish_in_grace);
    tcase_add_test(tc, closed_port_is_unavailable);
    tcase_add_test(tc, stream_cancel_from_another_thread);
    tcase_add_test(tc, recv_pause_and_resume);
    tcase_add_test(tc, signal_helpers);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
