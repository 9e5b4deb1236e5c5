/* SPDX-License-Identifier: Apache-2.0 */
/* Block intake from the orderers' Deliver: a thread that pulls from the height and commits. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/client.h"
#include "libcommon/log.h"
#include "libcommon/wire.h"

#include "committer.h"
#include "intake.h"

#define MAX_ORDERERS 16
/* How long one wait for a block lasts before the stop flag is looked at again. */
#define POLL_MS 200
/* Pause between reconnect rounds. */
#define RETRY_MS 500

struct committer_intake {
    struct committer *c;
    const struct lc_signer *signer;
    struct wc_node *nodes[MAX_ORDERERS];
    size_t n;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
};

static bool stopping(struct committer_intake *in, int wait_ms)
{
    pthread_mutex_lock(&in->mu);
    if (!in->stop && wait_ms > 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
        ts.tv_sec += wait_ms / 1000 + ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&in->cv, &in->mu, &ts);
    }
    bool s = in->stop;
    pthread_mutex_unlock(&in->mu);
    return s;
}

/* Pulls from one orderer until it fails; returns when it should move on. */
static void pull(struct committer_intake *in, struct wc_node *node)
{
    struct lc_errbuf err = {{0}};
    struct wc_deliver *d = NULL;
    struct wc_seek seek = {
        .start = WC_SEEK_NUMBER, .start_number = committer_height(in->c), .stop = WC_SEEK_FOREVER};
    const char *channel = committer_channel(in->c);
    int r = wc_deliver_open(node, channel, in->signer, &seek, &err, &d);
    if (r < 0)
        goto fail;
    while (!stopping(in, 0)) {
        Common__Block *b = NULL;
        r = wc_deliver_next(d, POLL_MS, &err, &b);
        if (r == LC_ETIMEOUT)
            continue;
        if (r != 0)
            goto fail;
        struct committer_result res;
        r = committer_commit(in->c, b, &err, &res);
        lc_wire_block_free(b);
        if (r < 0)
            goto fail;
        if (r == 0)
            lc_log_info("committer", "block committed number=%llu txs=%zu valid=%zu",
                        (unsigned long long)res.number, res.n_txs, res.n_valid);
    }
    wc_deliver_free(d);
    return;
fail:
    if (r == 1)
        lc_log_warn("committer", "deliver ended orderer=%s", wc_node_address(node));
    else
        lc_log_warn("committer", "deliver failed orderer=%s cause=\"%s\"", wc_node_address(node),
                    err.msg);
    wc_deliver_free(d);
}

static void *run(void *arg)
{
    struct committer_intake *in = arg;
    for (size_t i = 0; !stopping(in, 0); i = (i + 1) % in->n) {
        pull(in, in->nodes[i]);
        if (stopping(in, RETRY_MS))
            break;
    }
    return NULL;
}

int committer_intake_start(struct committer *c, const char *const *orderers, size_t n,
                           const struct lc_signer *signer, struct lc_errbuf *err,
                           struct committer_intake **ret)
{
    if (n == 0 || n > MAX_ORDERERS)
        return lc_fail(err, LC_EINVALID, "orderers: %zu given, 1 to %d allowed", n, MAX_ORDERERS);
    struct committer_intake *in = calloc(1, sizeof *in);
    if (!in)
        return -ENOMEM;
    in->c = c;
    in->signer = signer;
    pthread_mutex_init(&in->mu, NULL);
    pthread_cond_init(&in->cv, NULL);
    int r = 0;
    for (; in->n < n; in->n++) {
        struct wc_endpoint ep = {orderers[in->n], orderers[in->n], NULL};
        r = wc_node_new(&ep, 0, err, &in->nodes[in->n]);
        if (r < 0)
            goto fail;
    }
    if (pthread_create(&in->th, NULL, run, in) != 0) {
        r = lc_fail(err, -EAGAIN, "cannot start the intake thread");
        goto fail;
    }
    *ret = in;
    return 0;
fail:
    for (size_t i = 0; i < in->n; i++)
        wc_node_free(in->nodes[i]);
    pthread_cond_destroy(&in->cv);
    pthread_mutex_destroy(&in->mu);
    free(in);
    return r;
}

void committer_intake_stop(struct committer_intake *in)
{
    if (!in)
        return;
    pthread_mutex_lock(&in->mu);
    in->stop = true;
    pthread_cond_broadcast(&in->cv);
    pthread_mutex_unlock(&in->mu);
    pthread_join(in->th, NULL);
    for (size_t i = 0; i < in->n; i++)
        wc_node_free(in->nodes[i]);
    pthread_cond_destroy(&in->cv);
    pthread_mutex_destroy(&in->mu);
    free(in);
}
