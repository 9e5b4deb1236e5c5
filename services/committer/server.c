/* SPDX-License-Identifier: Apache-2.0 */
/* weft.Committer: Blocks streams committed blocks from any height then live, with back-pressure. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "weft/committer.pb-c.h"

#include "libcommon/log.h"
#include "libcommon/rpc.h"

#include "committer.h"
#include "server.h"

/* One Blocks call: the next block it is owed, and whether it waits for room in its queue. */
struct stream {
    struct lc_rpc_call *call;
    uint64_t next;
    bool blocked, over;
    struct stream *prev, *nxt;
};

struct committer_server {
    struct lc_rpc_server *rpc;
    struct committer *c;
    pthread_mutex_t mu; /* guards the stream list and every stream */
    struct stream *streams;
};

/* Sends s what it is owed, up to the height or a full queue. Holds srv->mu. */
static void pump(struct committer_server *srv, struct stream *s)
{
    struct lc_errbuf err;
    uint64_t height;
    if (s->over || s->blocked ||
        committer_ledger_height(committer_get_ledger(srv->c), &height, &err) < 0)
        return;
    while (s->next < height) {
        uint8_t *buf;
        size_t len;
        int r = committer_ledger_block(committer_get_ledger(srv->c), s->next, &buf, &len, &err);
        if (r < 0) {
            lc_rpc_finish(s->call, LC_RPC_INTERNAL, "block %llu: %s", (unsigned long long)s->next,
                          err.msg);
            s->over = true;
            return;
        }
        r = lc_rpc_send_raw(s->call, buf, len);
        free(buf);
        if (r == -EAGAIN) {
            s->blocked = true;
            return;
        }
        if (r < 0) {
            s->over = true;
            return;
        }
        s->next++;
    }
}

static void on_commit(void *arg, uint64_t number)
{
    struct committer_server *srv = arg;
    (void)number;
    pthread_mutex_lock(&srv->mu);
    for (struct stream *s = srv->streams; s; s = s->nxt)
        pump(srv, s);
    pthread_mutex_unlock(&srv->mu);
}

static void blocks_request(struct lc_rpc_call *call, const ProtobufCMessage *msg)
{
    struct committer_server *srv = lc_rpc_call_ctx(call);
    const Weft__BlocksRequest *req = (const Weft__BlocksRequest *)msg;
    if (strcmp(req->channel_id, committer_channel(srv->c)) != 0) {
        lc_rpc_finish(call, LC_RPC_NOT_FOUND, "channel %s not served", req->channel_id);
        return;
    }
    struct stream *s = calloc(1, sizeof *s);
    if (!s) {
        lc_rpc_finish(call, LC_RPC_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    s->call = lc_rpc_call_ref(call);
    s->next = req->start;
    lc_rpc_call_set_data(call, s);
    pthread_mutex_lock(&srv->mu);
    s->nxt = srv->streams;
    if (srv->streams)
        srv->streams->prev = s;
    srv->streams = s;
    pump(srv, s);
    pthread_mutex_unlock(&srv->mu);
}

static void blocks_writable(struct lc_rpc_call *call)
{
    struct committer_server *srv = lc_rpc_call_ctx(call);
    struct stream *s = lc_rpc_call_data(call);
    if (!s)
        return;
    pthread_mutex_lock(&srv->mu);
    s->blocked = false;
    pump(srv, s);
    pthread_mutex_unlock(&srv->mu);
}

static void blocks_done(struct lc_rpc_call *call, bool cancelled)
{
    struct committer_server *srv = lc_rpc_call_ctx(call);
    struct stream *s = lc_rpc_call_data(call);
    (void)cancelled;
    if (!s)
        return;
    pthread_mutex_lock(&srv->mu);
    if (s->prev)
        s->prev->nxt = s->nxt;
    else
        srv->streams = s->nxt;
    if (s->nxt)
        s->nxt->prev = s->prev;
    pthread_mutex_unlock(&srv->mu);
    lc_rpc_call_set_data(call, NULL);
    lc_rpc_call_unref(s->call);
    free(s);
}

static void height_request(struct lc_rpc_call *call, const ProtobufCMessage *msg)
{
    struct committer_server *srv = lc_rpc_call_ctx(call);
    const Weft__HeightRequest *req = (const Weft__HeightRequest *)msg;
    struct lc_errbuf err;
    Weft__HeightResponse resp = WEFT__HEIGHT_RESPONSE__INIT;
    if (strcmp(req->channel_id, committer_channel(srv->c)) != 0) {
        lc_rpc_finish(call, LC_RPC_NOT_FOUND, "channel %s not served", req->channel_id);
        return;
    }
    if (committer_ledger_height(committer_get_ledger(srv->c), &resp.height, &err) < 0) {
        lc_rpc_finish(call, LC_RPC_INTERNAL, "%s", err.msg);
        return;
    }
    lc_rpc_reply(call, &resp.base);
}

static const struct lc_rpc_method methods[] = {
    {.path = "/weft.Committer/Blocks",
     .kind = LC_RPC_SERVER_STREAM,
     .request = &weft__blocks_request__descriptor,
     .on_request = blocks_request,
     .on_writable = blocks_writable,
     .on_done = blocks_done},
    {.path = "/weft.Committer/Height",
     .kind = LC_RPC_UNARY,
     .request = &weft__height_request__descriptor,
     .on_request = height_request},
};

int committer_server_start(struct committer *c, const char *listen, struct lc_errbuf *err,
                           struct committer_server **ret)
{
    struct committer_server *srv = calloc(1, sizeof *srv);
    if (!srv)
        return -ENOMEM;
    srv->c = c;
    pthread_mutex_init(&srv->mu, NULL);
    struct lc_rpc_server_opts o = {.listen = listen};
    int r = lc_rpc_server_new(&o, err, &srv->rpc);
    if (r == 0)
        r = lc_rpc_server_add(srv->rpc, methods, sizeof methods / sizeof methods[0], srv, err);
    if (r == 0)
        r = lc_rpc_server_start(srv->rpc, err);
    if (r < 0) {
        lc_rpc_server_free(srv->rpc);
        pthread_mutex_destroy(&srv->mu);
        free(srv);
        return r;
    }
    committer_on_commit(c, on_commit, srv);
    *ret = srv;
    return 0;
}

int committer_server_port(const struct committer_server *s)
{
    return lc_rpc_server_port(s->rpc);
}

void committer_server_free(struct committer_server *s, unsigned grace_ms)
{
    if (!s)
        return;
    committer_on_commit(s->c, NULL, NULL);
    lc_rpc_server_shutdown(s->rpc, grace_ms);
    lc_rpc_server_free(s->rpc);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
