/* SPDX-License-Identifier: Apache-2.0 */
/* The endorser's gRPC service: protos.Endorser/ProcessProposal answered from a worker pool. */
#include "services/endorser/server.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "peer/proposal.pb-c.h"

#include "libcommon/log.h"
#include "libcommon/rpc.h"
#include "services/endorser/endorser.h"

#define MOD "endorser"
#define MAX_WORKERS 64
#define DEFAULT_WORKERS 2
#define DEFAULT_QUEUE 1024
#define DEFAULT_QUEUE_BYTES (256u << 20)

/* A queued call; it holds a reference, which keeps req valid. */
struct job {
    struct lc_rpc_call *call;
    const Protos__SignedProposal *req;
    size_t bytes; /* its encoded size, counted against queue_bytes_max */
};

struct endorser_server {
    struct endorser *e;
    struct lc_rpc_server *rpc;
    pthread_t threads[MAX_WORKERS];
    unsigned n_threads;

    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct job *queue; /* ring of queue_max jobs */
    unsigned queue_max, head, count;
    size_t queue_bytes, queue_bytes_max;
    bool stopping, paused;
};

static void on_request(struct lc_rpc_call *call, const ProtobufCMessage *req)
{
    struct endorser_server *s = lc_rpc_call_ctx(call);
    const uint8_t *raw;
    size_t bytes = 0;
    if (lc_rpc_call_request_bytes(call, &raw, &bytes) < 0)
        bytes = 0;
    pthread_mutex_lock(&s->lock);
    if (s->stopping || s->count == s->queue_max ||
        (s->count > 0 && bytes > s->queue_bytes_max - s->queue_bytes)) {
        unsigned n = s->count;
        pthread_mutex_unlock(&s->lock);
        lc_rpc_finish(call, LC_RPC_UNAVAILABLE, "endorser busy: %u proposals queued", n);
        return;
    }
    s->queue_bytes += bytes;
    s->queue[(s->head + s->count++) % s->queue_max] =
        (struct job){lc_rpc_call_ref(call), (const Protos__SignedProposal *)req, bytes};
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

static const struct lc_rpc_method methods[] = {{
    .path = "/protos.Endorser/ProcessProposal",
    .kind = LC_RPC_UNARY,
    .request = &protos__signed_proposal__descriptor,
    .on_request = on_request,
}};

static void answer(struct endorser_server *s, const struct job *j)
{
    struct endorser_outcome o;
    endorser_process(s->e, j->req, time(NULL), &o);
    int r;
    if (o.code == LC_RPC_OK)
        r = lc_rpc_reply(j->call, &o.resp->base);
    else
        r = lc_rpc_finish(j->call, o.code, "%s", o.msg);
    /* LC_ECLOSED: the client gave up or the server is stopping; nothing to answer. */
    if (r == LC_ETOOBIG || r == -ENOMEM)
        lc_rpc_finish(j->call, LC_RPC_RESOURCE_EXHAUSTED, "response over the message limit");
    endorser_outcome_done(&o);
}

static void *worker(void *arg)
{
    struct endorser_server *s = arg;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while ((s->count == 0 || s->paused) && !s->stopping)
            pthread_cond_wait(&s->cond, &s->lock);
        if (s->count == 0)
            break;
        struct job j = s->queue[s->head];
        s->head = (s->head + 1) % s->queue_max;
        s->count--;
        s->queue_bytes -= j.bytes;
        pthread_mutex_unlock(&s->lock);
        answer(s, &j);
        lc_rpc_call_unref(j.call);
        pthread_mutex_lock(&s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

void endorser_server_pause(struct endorser_server *s, bool paused)
{
    pthread_mutex_lock(&s->lock);
    s->paused = paused;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

unsigned endorser_server_queued(struct endorser_server *s)
{
    pthread_mutex_lock(&s->lock);
    unsigned n = s->count;
    pthread_mutex_unlock(&s->lock);
    return n;
}

static void stop_workers(struct endorser_server *s)
{
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    for (unsigned i = 0; i < s->n_threads; i++)
        pthread_join(s->threads[i], NULL);
    s->n_threads = 0;
}

void endorser_server_free(struct endorser_server *s, unsigned grace_ms)
{
    if (!s)
        return;
    /* The workers keep answering while gRPC waits for the calls in flight. */
    if (s->rpc)
        lc_rpc_server_shutdown(s->rpc, grace_ms);
    stop_workers(s);
    lc_rpc_server_free(s->rpc);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    free(s->queue);
    free(s);
}

int endorser_server_start(struct endorser *e, const struct endorser_server_opts *o,
                          struct lc_errbuf *err, struct endorser_server **ret)
{
    unsigned workers = o->workers ? o->workers : DEFAULT_WORKERS;
    if (workers > MAX_WORKERS)
        return lc_fail(err, LC_EINVALID, "workers: at most %d", MAX_WORKERS);
    struct endorser_server *s = calloc(1, sizeof *s);
    if (!s)
        return lc_fail(err, -ENOMEM, "out of memory");
    s->e = e;
    s->queue_max = o->queue_max ? o->queue_max : DEFAULT_QUEUE;
    s->queue_bytes_max = o->queue_bytes_max ? o->queue_bytes_max : DEFAULT_QUEUE_BYTES;
    s->queue = calloc(s->queue_max, sizeof *s->queue);
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    if (!s->queue) {
        endorser_server_free(s, 0);
        return lc_fail(err, -ENOMEM, "out of memory");
    }
    struct lc_rpc_server_opts ro = {
        .listen = o->listen,
        .threads = o->rpc_threads ? o->rpc_threads : 1,
        .max_recv_bytes = o->max_msg_bytes,
        .max_send_bytes = o->max_msg_bytes,
    };
    int r = lc_rpc_server_new(&ro, err, &s->rpc);
    if (r == 0)
        r = lc_rpc_server_add(s->rpc, methods, sizeof methods / sizeof methods[0], s, err);
    for (unsigned i = 0; r == 0 && i < workers; i++) {
        int pr = pthread_create(&s->threads[i], NULL, worker, s);
        if (pr) {
            r = lc_fail(err, -pr, "worker thread: %s", strerror(pr));
        } else {
            pthread_setname_np(s->threads[i], "endorser-work");
            s->n_threads++;
        }
    }
    if (r == 0)
        r = lc_rpc_server_start(s->rpc, err);
    if (r < 0) {
        endorser_server_free(s, 0);
        return r;
    }
    lc_log_debug(MOD, "serving workers=%u queue=%u", workers, s->queue_max);
    *ret = s;
    return 0;
}

int endorser_server_port(const struct endorser_server *s)
{
    return lc_rpc_server_port(s->rpc);
}
