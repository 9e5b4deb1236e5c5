/* SPDX-License-Identifier: Apache-2.0 */
/* The solo consenter: one thread per chain that orders envelopes as they arrive. */
#include "solo.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "libcommon/log.h"

#define LOG "orderer"

/* ---- the core -------------------------------------------------------------------------------- */

struct orderer_solo_core {
    struct orderer_cutter *cutter;
    uint64_t timeout_ns;
    orderer_solo_write_fn write;
    void *arg;
    bool timer;
    uint64_t deadline_ns;
};

int orderer_solo_core_new(struct orderer_cutter *cutter, uint64_t timeout_ns,
                          orderer_solo_write_fn write, void *arg, struct orderer_solo_core **ret)
{
    struct orderer_solo_core *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    c->cutter = cutter;
    c->timeout_ns = timeout_ns ? timeout_ns : 1;
    c->write = write;
    c->arg = arg;
    *ret = c;
    return 0;
}

void orderer_solo_core_free(struct orderer_solo_core *c)
{
    free(c);
}

void orderer_solo_core_set_timeout(struct orderer_solo_core *c, uint64_t timeout_ns)
{
    c->timeout_ns = timeout_ns ? timeout_ns : 1;
}

bool orderer_solo_core_deadline(const struct orderer_solo_core *c, uint64_t *ret_deadline_ns)
{
    if (c->timer && ret_deadline_ns)
        *ret_deadline_ns = c->deadline_ns;
    return c->timer;
}

static int write_batches(struct orderer_solo_core *c, struct orderer_batch *b, size_t n)
{
    int r = 0;
    for (size_t i = 0; i < n; i++) {
        if (r == 0)
            r = c->write(c->arg, &b[i], false);
        orderer_batch_done(&b[i]); /* after a failure the rest are dropped */
    }
    return r;
}

int orderer_solo_core_message(struct orderer_solo_core *c, struct orderer_msg *msg, bool is_config,
                              uint64_t now_ns)
{
    if (is_config) {
        struct orderer_batch pending, alone;
        orderer_cutter_cut(c->cutter, &pending);
        int r = 0;
        if (pending.n)
            r = c->write(c->arg, &pending, false);
        orderer_batch_done(&pending);
        alone.msgs = malloc(sizeof *alone.msgs);
        if (!alone.msgs) {
            orderer_msg_free(msg);
            return r < 0 ? r : -ENOMEM;
        }
        alone.msgs[0] = msg;
        alone.n = 1;
        if (r == 0)
            r = c->write(c->arg, &alone, true);
        orderer_batch_done(&alone);
        c->timer = false;
        return r;
    }
    struct orderer_batch b[2];
    size_t n = 0;
    bool pending = false;
    int r = orderer_cutter_ordered(c->cutter, msg, b, &n, &pending);
    if (r < 0)
        return r;
    r = write_batches(c, b, n);
    if (c->timer && !pending) {
        c->timer = false;
    } else if (!c->timer && pending) {
        c->timer = true;
        c->deadline_ns = now_ns + c->timeout_ns;
    }
    return r;
}

int orderer_solo_core_tick(struct orderer_solo_core *c, uint64_t now_ns)
{
    if (!c->timer || now_ns < c->deadline_ns)
        return 0;
    c->timer = false;
    struct orderer_batch b;
    orderer_cutter_cut(c->cutter, &b);
    if (b.n == 0)
        return 0;
    int r = c->write(c->arg, &b, false);
    orderer_batch_done(&b);
    return r;
}

/* ---- the consenter: a queue and a thread ----------------------------------------------------- */

struct qent {
    struct orderer_msg *msg;
    uint64_t seq;
    bool config;
};

struct solo {
    struct orderer_support *s;
    struct orderer_solo_core *core;
    pthread_t thread;
    bool started;

    pthread_mutex_t mu;
    pthread_cond_t cv; /* CLOCK_MONOTONIC */
    struct qent *ring;
    size_t cap, head, n, bytes, max_bytes;
    bool want_room; /* order() said -EAGAIN since the last room notice */
    bool halting;
    bool errored;
};

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int solo_write(void *arg, struct orderer_batch *batch, bool is_config)
{
    struct solo *so = arg;
    return orderer_support_write_block(so->s, batch, is_config, NULL, 0);
}

static int solo_create(struct orderer_support *s, void **ret_impl, struct lc_errbuf *err)
{
    struct solo *so = calloc(1, sizeof *so);
    if (!so)
        return lc_fail(err, -ENOMEM, "out of memory");
    so->s = s;
    size_t msgs = 0, bytes = 0;
    orderer_support_queue_limits(s, &msgs, &bytes);
    so->cap = msgs ? msgs : 1;
    so->max_bytes = bytes;
    so->ring = calloc(so->cap, sizeof *so->ring);
    uint64_t timeout = lc_chconf_batch_timeout_ns(orderer_support_chconf(s));
    if (!so->ring ||
        orderer_solo_core_new(orderer_support_cutter(s), timeout, solo_write, so, &so->core) < 0) {
        free(so->ring);
        free(so);
        return lc_fail(err, -ENOMEM, "out of memory");
    }
    pthread_mutex_init(&so->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&so->cv, &ca);
    pthread_condattr_destroy(&ca);
    *ret_impl = so;
    return 0;
}

/* One queued message through the core; the lock is not held. */
static int process(struct solo *so, struct qent *e)
{
    uint64_t seq = orderer_support_sequence(so->s);
    if (e->seq < seq) {
        /* Checked under an older config: check again, as Fabric's solo does. */
        struct lc_errbuf eb = {{0}};
        uint64_t now_seq = 0;
        if (orderer_support_revalidate(so->s, e->msg, &now_seq, &eb) < 0) {
            lc_log_warn(LOG, "discarding message that no longer passes channel=%s cause=\"%s\"",
                        orderer_support_channel_id(so->s), eb.msg);
            orderer_msg_free(e->msg);
            return 0;
        }
    }
    return orderer_solo_core_message(so->core, e->msg, e->config, mono_ns());
}

static void *solo_thread(void *arg)
{
    struct solo *so = arg;
    int r = 0;
    pthread_mutex_lock(&so->mu);
    /* On halt, what is queued is still ordered and the pending batch cut, so that every
     * envelope that got SUCCESS is in a block after a clean stop. */
    while (!so->halting || so->n > 0) {
        uint64_t deadline = 0;
        bool armed = orderer_solo_core_deadline(so->core, &deadline);
        if (armed && !so->halting && mono_ns() >= deadline) {
            pthread_mutex_unlock(&so->mu);
            r = orderer_solo_core_tick(so->core, mono_ns());
            pthread_mutex_lock(&so->mu);
            if (r < 0)
                break;
            continue;
        }
        if (so->n == 0) {
            if (armed) {
                struct timespec ts = {.tv_sec = (time_t)(deadline / 1000000000u),
                                      .tv_nsec = (long)(deadline % 1000000000u)};
                pthread_cond_timedwait(&so->cv, &so->mu, &ts);
            } else {
                pthread_cond_wait(&so->cv, &so->mu);
            }
            continue;
        }
        struct qent e = so->ring[so->head];
        so->head = (so->head + 1) % so->cap;
        so->n--;
        so->bytes -= e.msg->size;
        bool room = so->want_room && so->n <= so->cap / 2 && so->bytes <= so->max_bytes / 2;
        if (room)
            so->want_room = false;
        pthread_mutex_unlock(&so->mu);
        if (room)
            orderer_support_room(so->s);
        r = process(so, &e);
        pthread_mutex_lock(&so->mu);
        if (r < 0)
            break;
    }
    if (r == 0) {
        struct orderer_batch b;
        orderer_cutter_cut(orderer_support_cutter(so->s), &b);
        pthread_mutex_unlock(&so->mu);
        if (b.n)
            r = orderer_support_write_block(so->s, &b, false, NULL, 0);
        orderer_batch_done(&b);
        pthread_mutex_lock(&so->mu);
    }
    if (r < 0) {
        so->errored = true;
        lc_log_err(LOG, "solo consenter stopped channel=%s cause=\"%s\"",
                   orderer_support_channel_id(so->s), lc_strerror(r));
    }
    bool room = so->want_room;
    so->want_room = false;
    pthread_mutex_unlock(&so->mu);
    /* Broadcasts waiting for room get their answer (not ready) instead of waiting forever. */
    if (room)
        orderer_support_room(so->s);
    return NULL;
}

static int solo_start(void *impl, struct lc_errbuf *err)
{
    struct solo *so = impl;
    int r = pthread_create(&so->thread, NULL, solo_thread, so);
    if (r != 0)
        return lc_fail(err, -r, "cannot start the solo thread: %s", strerror(r));
    pthread_setname_np(so->thread, "orderer-solo");
    so->started = true;
    return 0;
}

static void solo_halt(void *impl)
{
    struct solo *so = impl;
    pthread_mutex_lock(&so->mu);
    so->halting = true;
    pthread_cond_signal(&so->cv);
    pthread_mutex_unlock(&so->mu);
    if (so->started) {
        pthread_join(so->thread, NULL);
        so->started = false;
    }
}

static void solo_destroy(void *impl)
{
    struct solo *so = impl;
    if (!so)
        return;
    solo_halt(so);
    for (size_t i = 0; i < so->n; i++)
        orderer_msg_free(so->ring[(so->head + i) % so->cap].msg);
    free(so->ring);
    orderer_solo_core_free(so->core);
    pthread_cond_destroy(&so->cv);
    pthread_mutex_destroy(&so->mu);
    free(so);
}

static int solo_ready(void *impl, struct lc_errbuf *err)
{
    struct solo *so = impl;
    pthread_mutex_lock(&so->mu);
    int r = 0;
    if (so->errored)
        r = lc_fail(err, LC_EUNAVAIL, "the solo consenter stopped after a write failure");
    else if (so->halting)
        r = lc_fail(err, LC_EUNAVAIL, "the solo consenter is halting");
    pthread_mutex_unlock(&so->mu);
    return r;
}

static bool solo_errored(void *impl)
{
    struct solo *so = impl;
    pthread_mutex_lock(&so->mu);
    bool e = so->errored;
    pthread_mutex_unlock(&so->mu);
    return e;
}

static int enqueue(struct solo *so, struct orderer_msg *msg, uint64_t seq, bool config)
{
    int r = 0;
    pthread_mutex_lock(&so->mu);
    if (so->halting || so->errored) {
        r = so->errored ? LC_EUNAVAIL : LC_ECLOSED;
    } else if (so->n >= so->cap || (so->n > 0 && so->bytes + msg->size > so->max_bytes)) {
        so->want_room = true;
        r = -EAGAIN;
    } else {
        so->ring[(so->head + so->n) % so->cap] = (struct qent){msg, seq, config};
        so->n++;
        so->bytes += msg->size;
        pthread_cond_signal(&so->cv);
    }
    pthread_mutex_unlock(&so->mu);
    return r;
}

static int solo_order(void *impl, struct orderer_msg *msg, uint64_t config_seq)
{
    return enqueue(impl, msg, config_seq, false);
}

static int solo_configure(void *impl, struct orderer_msg *msg, uint64_t config_seq)
{
    return enqueue(impl, msg, config_seq, true);
}

const struct orderer_consenter_ops orderer_solo_ops = {
    .type = "solo",
    .create = solo_create,
    .start = solo_start,
    .halt = solo_halt,
    .destroy = solo_destroy,
    .ready = solo_ready,
    .errored = solo_errored,
    .order = solo_order,
    .configure = solo_configure,
};
