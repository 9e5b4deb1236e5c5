/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the block cutter (one per Fabric rule), the solo core's timer, and the pool. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cutter.h"
#include "pool.h"
#include "solo.h"
#include "suites.h"

/* A message of exactly `size` counted bytes whose payload starts with tag. */
static struct orderer_msg *mk(uint8_t tag, size_t size)
{
    ck_assert_uint_ge(size, 2);
    uint8_t *p = calloc(1, size);
    ck_assert_ptr_nonnull(p);
    p[0] = tag;
    struct orderer_msg *m = NULL;
    ck_assert_int_eq(orderer_msg_new(p, size - 1, p + size - 1, 1, &m), 0);
    free(p);
    ck_assert_uint_eq(m->size, size);
    return m;
}

/* The tag of message i of a batch: the payload's first byte (after the 0a tag and length). */
static uint8_t tag_of(const struct orderer_batch *b, size_t i)
{
    ck_assert_uint_lt(i, b->n);
    const uint8_t *p = b->msgs[i]->bytes;
    size_t k = 1;
    while (p[k] & 0x80)
        k++;
    return p[k + 1];
}

/* "1,2|3": the tags of the batches. */
static void expect(struct orderer_batch *b, size_t n, const char *want)
{
    char got[128] = "";
    size_t l = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < b[i].n; j++)
            l += (size_t)snprintf(got + l, sizeof got - l, "%s%u", j ? "," : (i ? "|" : ""),
                                  tag_of(&b[i], j));
        orderer_batch_done(&b[i]);
    }
    ck_assert_str_eq(got, want);
}

static struct orderer_cutter *cutter(uint32_t count, uint32_t preferred)
{
    struct orderer_cutter *c = NULL;
    struct lc_errbuf err;
    ck_assert_int_eq(orderer_cutter_new(count, preferred, &c, &err), 0);
    return c;
}

START_TEST(msg_is_canonical_envelope)
{
    uint8_t payload[3] = {1, 2, 3}, sig[2] = {9, 8};
    struct orderer_msg *m = NULL;
    ck_assert_int_eq(orderer_msg_new(payload, 3, sig, 2, &m), 0);
    const uint8_t want[] = {0x0a, 3, 1, 2, 3, 0x12, 2, 9, 8};
    ck_assert_uint_eq(m->len, sizeof want);
    ck_assert(memcmp(m->bytes, want, sizeof want) == 0);
    ck_assert_uint_eq(m->size, 5);
    orderer_msg_free(m);
}
END_TEST

START_TEST(cut_at_max_message_count)
{
    struct orderer_cutter *c = cutter(3, 1000);
    struct orderer_batch b[2];
    size_t n;
    bool pending;
    ck_assert_int_eq(orderer_cutter_ordered(c, mk(1, 10), b, &n, &pending), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert(pending);
    ck_assert_int_eq(orderer_cutter_ordered(c, mk(2, 10), b, &n, &pending), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(orderer_cutter_ordered(c, mk(3, 10), b, &n, &pending), 0);
    ck_assert(!pending);
    expect(b, n, "1,2,3");
    ck_assert_uint_eq(orderer_cutter_pending_count(c), 0);
    ck_assert_uint_eq(orderer_cutter_pending_bytes(c), 0);
    orderer_cutter_free(c);
}
END_TEST

START_TEST(oversized_cuts_pending_then_goes_alone)
{
    struct orderer_cutter *c = cutter(10, 100);
    struct orderer_batch b[2];
    size_t n;
    bool pending;
    ck_assert_int_eq(orderer_cutter_ordered(c, mk(1, 10), b, &n, &pending), 0);
    ck_assert_int_eq(orderer_cutter_ordered(c, mk(2, 10), b, &n, &pending), 0);
    ck_assert_int_eq(orderer_cutter_ordered(c, mk(3, 101), b, &n, &pending), 0);
    ck_assert(!pending);
    expect(b, n, "1,2|3");
    ck_assert_uint_eq(orderer_cutter_pending_count(c), 0);
    orderer_cutter_free(c);
}
END_TEST

START_TEST(oversized_alone_when_nothing_pending)
{
    struct orderer_cutter *c = cutter(10, 100);
    struct orderer_batch b[2];
    size_t n;
    bool pending;
    ck_assert_int_eq(orderer_cutter_ordered(c, mk(7, 500), b, &n, &pending), 0);
    ck_assert(!pending);
    expect(b, n, "7");
    orderer_cutter_free(c);
}
END_TEST

START_TEST(cut_before_pending_would_pass_preferred)
{
    struct orderer_cutter *c = cutter(10, 100);
    struct orderer_batch b[2];
    size_t n;
    bool pending;
    ck_assert_int_eq(orderer_cutter_ordered(c, mk(1, 60), b, &n, &pending), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(orderer_cutter_ordered(c, mk(2, 41), b, &n, &pending), 0);
    ck_assert(pending);
    expect(b, n, "1");
    ck_assert_uint_eq(orderer_cutter_pending_count(c), 1);
    ck_assert_uint_eq(orderer_cutter_pending_bytes(c), 41);
    orderer_cutter_free(c);
}
END_TEST

START_TEST(exactly_preferred_is_not_overflow)
{
    struct orderer_cutter *c = cutter(10, 100);
    struct orderer_batch b[2];
    size_t n;
    bool pending;
    ck_assert_int_eq(orderer_cutter_ordered(c, mk(1, 60), b, &n, &pending), 0);
    ck_assert_int_eq(orderer_cutter_ordered(c, mk(2, 40), b, &n, &pending), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert(pending);
    ck_assert_uint_eq(orderer_cutter_pending_bytes(c), 100);
    /* and a message of exactly PreferredMaxBytes is not oversized */
    ck_assert_int_eq(orderer_cutter_ordered(c, mk(3, 100), b, &n, &pending), 0);
    ck_assert(pending);
    expect(b, n, "1,2");
    orderer_cutter_free(c);
}
END_TEST

START_TEST(overflow_and_count_cut_in_one_call)
{
    struct orderer_cutter *c = cutter(2, 100);
    struct orderer_batch b[2];
    size_t n;
    bool pending;
    ck_assert_int_eq(orderer_cutter_ordered(c, mk(1, 60), b, &n, &pending), 0);
    struct lc_errbuf err;
    ck_assert_int_eq(orderer_cutter_set_limits(c, 1, 100, &err), 0);
    ck_assert_int_eq(orderer_cutter_ordered(c, mk(2, 50), b, &n, &pending), 0);
    ck_assert(!pending);
    expect(b, n, "1|2");
    ck_assert_int_eq(orderer_cutter_set_limits(c, 0, 100, &err), LC_EINVALID);
    orderer_cutter_free(c);
}
END_TEST

START_TEST(cut_hands_over_pending)
{
    struct orderer_cutter *c = cutter(10, 100);
    struct orderer_batch b[2], one;
    size_t n;
    bool pending;
    orderer_cutter_cut(c, &one);
    ck_assert_uint_eq(one.n, 0);
    ck_assert_int_eq(orderer_cutter_ordered(c, mk(4, 10), b, &n, &pending), 0);
    ck_assert_int_eq(orderer_cutter_ordered(c, mk(5, 10), b, &n, &pending), 0);
    orderer_cutter_cut(c, &one);
    expect(&one, 1, "4,5");
    ck_assert_uint_eq(orderer_cutter_pending_count(c), 0);
    ck_assert_uint_eq(orderer_cutter_pending_bytes(c), 0);
    /* pending messages are freed with the cutter */
    ck_assert_int_eq(orderer_cutter_ordered(c, mk(6, 10), b, &n, &pending), 0);
    orderer_cutter_free(c);
}
END_TEST

START_TEST(rejects_zero_limits)
{
    struct orderer_cutter *c = NULL;
    struct lc_errbuf err;
    ck_assert_int_eq(orderer_cutter_new(0, 10, &c, &err), LC_EINVALID);
    ck_assert_int_eq(orderer_cutter_new(10, 0, &c, &err), LC_EINVALID);
    ck_assert_ptr_null(c);
}
END_TEST

/* ---- the solo core ------------------------------------------------------------------------- */

struct blocks {
    struct orderer_batch b[32];
    bool config[32];
    size_t n;
    int fail; /* return this from the next write */
};

static int collect(void *arg, struct orderer_batch *batch, bool is_config)
{
    struct blocks *bl = arg;
    if (bl->fail)
        return bl->fail;
    ck_assert_uint_lt(bl->n, 32);
    bl->config[bl->n] = is_config;
    bl->b[bl->n++] = *batch;
    batch->msgs = NULL;
    batch->n = 0;
    return 0;
}

static void expect_blocks(struct blocks *bl, const char *want)
{
    expect(bl->b, bl->n, want);
    bl->n = 0;
}

#define T 1000u /* BatchTimeout in the core tests, ns */

static struct orderer_solo_core *core(struct orderer_cutter *c, struct blocks *bl)
{
    struct orderer_solo_core *k = NULL;
    ck_assert_int_eq(orderer_solo_core_new(c, T, collect, bl, &k), 0);
    return k;
}

START_TEST(timer_starts_with_first_pending_and_cuts_on_expiry)
{
    struct blocks bl = {0};
    struct orderer_cutter *c = cutter(10, 1000);
    struct orderer_solo_core *k = core(c, &bl);
    uint64_t dl = 0;
    ck_assert(!orderer_solo_core_deadline(k, &dl));
    ck_assert_int_eq(orderer_solo_core_message(k, mk(1, 10), false, 5000), 0);
    ck_assert(orderer_solo_core_deadline(k, &dl));
    ck_assert_uint_eq(dl, 5000 + T);
    ck_assert_int_eq(orderer_solo_core_message(k, mk(2, 10), false, 5000 + T / 2), 0);
    ck_assert(orderer_solo_core_deadline(k, &dl));
    ck_assert_uint_eq(dl, 5000 + T); /* a second message does not move it */
    ck_assert_int_eq(orderer_solo_core_tick(k, 5000 + T - 1), 0);
    ck_assert_uint_eq(bl.n, 0);
    ck_assert_int_eq(orderer_solo_core_tick(k, 5000 + T), 0);
    expect_blocks(&bl, "1,2");
    ck_assert(!orderer_solo_core_deadline(k, NULL));
    /* nothing pending: a later tick cuts nothing */
    ck_assert_int_eq(orderer_solo_core_tick(k, 5000 + 5 * T), 0);
    ck_assert_uint_eq(bl.n, 0);
    orderer_solo_core_free(k);
    orderer_cutter_free(c);
}
END_TEST

START_TEST(timer_cleared_when_count_cut_empties_pending)
{
    struct blocks bl = {0};
    struct orderer_cutter *c = cutter(2, 1000);
    struct orderer_solo_core *k = core(c, &bl);
    ck_assert_int_eq(orderer_solo_core_message(k, mk(1, 10), false, 0), 0);
    ck_assert(orderer_solo_core_deadline(k, NULL));
    ck_assert_int_eq(orderer_solo_core_message(k, mk(2, 10), false, 10), 0);
    expect_blocks(&bl, "1,2");
    ck_assert(!orderer_solo_core_deadline(k, NULL));
    /* the next message starts a fresh timer from its own arrival */
    uint64_t dl = 0;
    ck_assert_int_eq(orderer_solo_core_message(k, mk(3, 10), false, 50), 0);
    ck_assert(orderer_solo_core_deadline(k, &dl));
    ck_assert_uint_eq(dl, 50 + T);
    orderer_solo_core_free(k);
    orderer_cutter_free(c);
}
END_TEST

START_TEST(timer_not_restarted_after_overflow_cut)
{
    struct blocks bl = {0};
    struct orderer_cutter *c = cutter(10, 100);
    struct orderer_solo_core *k = core(c, &bl);
    uint64_t dl = 0;
    ck_assert_int_eq(orderer_solo_core_message(k, mk(1, 60), false, 0), 0);
    ck_assert_int_eq(orderer_solo_core_message(k, mk(2, 50), false, T - 10), 0);
    expect_blocks(&bl, "1"); /* overflow cut; 2 stays pending */
    ck_assert(orderer_solo_core_deadline(k, &dl));
    ck_assert_uint_eq(dl, T); /* still the first message's deadline */
    ck_assert_int_eq(orderer_solo_core_tick(k, T), 0);
    expect_blocks(&bl, "2");
    orderer_solo_core_free(k);
    orderer_cutter_free(c);
}
END_TEST

START_TEST(oversized_message_cuts_and_clears_timer)
{
    struct blocks bl = {0};
    struct orderer_cutter *c = cutter(10, 100);
    struct orderer_solo_core *k = core(c, &bl);
    ck_assert_int_eq(orderer_solo_core_message(k, mk(1, 10), false, 0), 0);
    ck_assert_int_eq(orderer_solo_core_message(k, mk(2, 200), false, 1), 0);
    expect_blocks(&bl, "1|2");
    ck_assert(!orderer_solo_core_deadline(k, NULL));
    orderer_solo_core_free(k);
    orderer_cutter_free(c);
}
END_TEST

START_TEST(config_message_cut_alone_at_once)
{
    struct blocks bl = {0};
    struct orderer_cutter *c = cutter(10, 1000);
    struct orderer_solo_core *k = core(c, &bl);
    ck_assert_int_eq(orderer_solo_core_message(k, mk(1, 10), false, 0), 0);
    ck_assert_int_eq(orderer_solo_core_message(k, mk(2, 10), false, 1), 0);
    ck_assert_int_eq(orderer_solo_core_message(k, mk(9, 10), true, 2), 0);
    ck_assert(!bl.config[0]);
    ck_assert(bl.config[1]);
    expect_blocks(&bl, "1,2|9");
    ck_assert(!orderer_solo_core_deadline(k, NULL));
    /* with nothing pending: one block, the config alone */
    ck_assert_int_eq(orderer_solo_core_message(k, mk(8, 10), true, 3), 0);
    ck_assert(bl.config[0]);
    expect_blocks(&bl, "8");
    orderer_solo_core_free(k);
    orderer_cutter_free(c);
}
END_TEST

START_TEST(write_failure_is_returned)
{
    struct blocks bl = {0};
    struct orderer_cutter *c = cutter(1, 1000);
    struct orderer_solo_core *k = core(c, &bl);
    bl.fail = -EIO;
    ck_assert_int_eq(orderer_solo_core_message(k, mk(1, 10), false, 0), -EIO);
    orderer_solo_core_free(k);
    orderer_cutter_free(c);
}
END_TEST

/* ---- the pool ------------------------------------------------------------------------------ */

struct counter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int runs;
    int running; /* concurrent runs seen */
    int max_running;
    bool block; /* the first run waits until released */
    bool released;
    bool retire_at; /* retire on the next run */
    bool retired;
};

static void count_run(struct orderer_task *t, void *arg)
{
    struct counter *c = arg;
    pthread_mutex_lock(&c->mu);
    c->running++;
    if (c->running > c->max_running)
        c->max_running = c->running;
    c->runs++;
    pthread_cond_broadcast(&c->cv);
    while (c->block && !c->released)
        pthread_cond_wait(&c->cv, &c->mu);
    c->block = false;
    c->running--;
    if (c->retire_at && c->runs >= 2) {
        orderer_task_retire(t);
        c->retired = true;
    }
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

START_TEST(pool_runs_task_once_more_when_scheduled_while_running)
{
    struct orderer_pool *p = NULL;
    struct lc_errbuf err;
    ck_assert_int_eq(orderer_pool_new(3, &p, &err), 0);
    struct counter c = {.block = true};
    pthread_mutex_init(&c.mu, NULL);
    pthread_cond_init(&c.cv, NULL);
    struct orderer_task *t = NULL;
    ck_assert_int_eq(orderer_task_new(p, count_run, &c, &t), 0);
    orderer_task_schedule(t);
    pthread_mutex_lock(&c.mu);
    while (c.runs < 1)
        pthread_cond_wait(&c.cv, &c.mu);
    pthread_mutex_unlock(&c.mu);
    /* while it runs: three schedules make exactly one more run, never concurrent */
    orderer_task_schedule(t);
    orderer_task_schedule(t);
    orderer_task_schedule(t);
    pthread_mutex_lock(&c.mu);
    c.released = true;
    c.retire_at = true;
    pthread_cond_broadcast(&c.cv);
    while (c.runs < 2 || c.running)
        pthread_cond_wait(&c.cv, &c.mu);
    pthread_mutex_unlock(&c.mu);
    orderer_pool_free(p); /* drains; the retired task is gone */
    ck_assert_int_eq(c.runs, 2);
    ck_assert_int_eq(c.max_running, 1);
    ck_assert(c.retired);
}
END_TEST

START_TEST(pool_rejects_bad_sizes)
{
    struct orderer_pool *p = NULL;
    struct lc_errbuf err;
    ck_assert_int_eq(orderer_pool_new(0, &p, &err), LC_EINVALID);
    ck_assert_int_eq(orderer_pool_new(65, &p, &err), LC_EINVALID);
    ck_assert_ptr_null(p);
}
END_TEST

Suite *cutter_suite(void)
{
    Suite *s = suite_create("cutter");
    TCase *tc = tcase_create("cutter");
    tcase_add_test(tc, msg_is_canonical_envelope);
    tcase_add_test(tc, cut_at_max_message_count);
    tcase_add_test(tc, oversized_cuts_pending_then_goes_alone);
    tcase_add_test(tc, oversized_alone_when_nothing_pending);
    tcase_add_test(tc, cut_before_pending_would_pass_preferred);
    tcase_add_test(tc, exactly_preferred_is_not_overflow);
    tcase_add_test(tc, overflow_and_count_cut_in_one_call);
    tcase_add_test(tc, cut_hands_over_pending);
    tcase_add_test(tc, rejects_zero_limits);
    suite_add_tcase(s, tc);
    tc = tcase_create("solo");
    tcase_add_test(tc, timer_starts_with_first_pending_and_cuts_on_expiry);
    tcase_add_test(tc, timer_cleared_when_count_cut_empties_pending);
    tcase_add_test(tc, timer_not_restarted_after_overflow_cut);
    tcase_add_test(tc, oversized_message_cuts_and_clears_timer);
    tcase_add_test(tc, config_message_cut_alone_at_once);
    tcase_add_test(tc, write_failure_is_returned);
    suite_add_tcase(s, tc);
    tc = tcase_create("pool");
    tcase_add_test(tc, pool_runs_task_once_more_when_scheduled_while_running);
    tcase_add_test(tc, pool_rejects_bad_sizes);
    suite_add_tcase(s, tc);
    return s;
}
