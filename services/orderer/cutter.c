/* SPDX-License-Identifier: Apache-2.0 */
/* Fabric's block cutter: which envelopes go into which block, by count and size. */
#include "cutter.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.pb-c.h"

int orderer_msg_new(const uint8_t *payload, size_t payload_len, const uint8_t *sig, size_t sig_len,
                    struct orderer_msg **ret)
{
    Common__Envelope env = COMMON__ENVELOPE__INIT;
    env.payload.data = (uint8_t *)payload;
    env.payload.len = payload_len;
    env.signature.data = (uint8_t *)sig;
    env.signature.len = sig_len;
    struct orderer_msg *m = calloc(1, sizeof *m);
    if (!m)
        return -ENOMEM;
    m->len = common__envelope__get_packed_size(&env);
    m->bytes = malloc(m->len ? m->len : 1);
    if (!m->bytes) {
        free(m);
        return -ENOMEM;
    }
    common__envelope__pack(&env, m->bytes);
    m->size = payload_len + sig_len;
    *ret = m;
    return 0;
}

void orderer_msg_free(struct orderer_msg *m)
{
    if (!m)
        return;
    free(m->bytes);
    free(m);
}

void orderer_batch_done(struct orderer_batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        orderer_msg_free(b->msgs[i]);
    free(b->msgs);
    b->msgs = NULL;
    b->n = 0;
}

struct orderer_cutter {
    uint32_t max_count;
    uint32_t preferred_max;
    struct orderer_msg **pending;
    size_t n, cap;
    size_t bytes;
};

static int check_limits(uint32_t max_count, uint32_t preferred, struct lc_errbuf *err)
{
    if (max_count == 0)
        return lc_fail(err, LC_EINVALID, "cutter: max_message_count is 0");
    if (preferred == 0)
        return lc_fail(err, LC_EINVALID, "cutter: preferred_max_bytes is 0");
    return 0;
}

int orderer_cutter_new(uint32_t max_message_count, uint32_t preferred_max_bytes,
                       struct orderer_cutter **ret, struct lc_errbuf *err)
{
    int r = check_limits(max_message_count, preferred_max_bytes, err);
    if (r < 0)
        return r;
    struct orderer_cutter *c = calloc(1, sizeof *c);
    if (!c)
        return lc_fail(err, -ENOMEM, "out of memory");
    c->max_count = max_message_count;
    c->preferred_max = preferred_max_bytes;
    *ret = c;
    return 0;
}

void orderer_cutter_free(struct orderer_cutter *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        orderer_msg_free(c->pending[i]);
    free(c->pending);
    free(c);
}

int orderer_cutter_set_limits(struct orderer_cutter *c, uint32_t max_message_count,
                              uint32_t preferred_max_bytes, struct lc_errbuf *err)
{
    int r = check_limits(max_message_count, preferred_max_bytes, err);
    if (r < 0)
        return r;
    c->max_count = max_message_count;
    c->preferred_max = preferred_max_bytes;
    return 0;
}

void orderer_cutter_cut(struct orderer_cutter *c, struct orderer_batch *ret_batch)
{
    ret_batch->msgs = c->n ? c->pending : NULL;
    ret_batch->n = c->n;
    if (c->n) {
        c->pending = NULL;
        c->cap = 0;
    }
    c->n = 0;
    c->bytes = 0;
}

/* Room for one more pending message; the array never grows past max_count entries. */
static int reserve(struct orderer_cutter *c)
{
    if (c->n < c->cap)
        return 0;
    size_t cap = c->cap ? c->cap * 2 : 16;
    if (cap > c->max_count)
        cap = c->max_count > c->n ? c->max_count : c->n + 1;
    struct orderer_msg **p = realloc(c->pending, cap * sizeof *p);
    if (!p)
        return -ENOMEM;
    c->pending = p;
    c->cap = cap;
    return 0;
}

int orderer_cutter_ordered(struct orderer_cutter *c, struct orderer_msg *msg,
                           struct orderer_batch ret_batches[2], size_t *ret_n, bool *ret_pending)
{
    size_t n = 0;
    if (msg->size > c->preferred_max) {
        /* Rule 1: too big to share a block. The array for the lone message is made first so
         * that a failure changes nothing. */
        struct orderer_msg **alone = malloc(sizeof *alone);
        if (!alone) {
            orderer_msg_free(msg);
            return -ENOMEM;
        }
        if (c->n)
            orderer_cutter_cut(c, &ret_batches[n++]);
        alone[0] = msg;
        ret_batches[n].msgs = alone;
        ret_batches[n++].n = 1;
        *ret_n = n;
        *ret_pending = false;
        return 0;
    }
    /* Rule 2: cut first if msg would push the pending batch past the preferred size. Storage
     * for the new pending batch is found before anything changes, so -ENOMEM changes nothing. */
    bool cut_first = c->n && c->bytes + msg->size > c->preferred_max;
    if (cut_first) {
        size_t cap = c->max_count < 16 ? c->max_count : 16;
        struct orderer_msg **fresh = malloc(cap * sizeof *fresh);
        if (!fresh) {
            orderer_msg_free(msg);
            return -ENOMEM;
        }
        orderer_cutter_cut(c, &ret_batches[n++]);
        c->pending = fresh;
        c->cap = cap;
    } else if (reserve(c) < 0) {
        orderer_msg_free(msg);
        return -ENOMEM;
    }
    c->pending[c->n++] = msg; /* rule 3 */
    c->bytes += msg->size;
    bool pending = true;
    if (c->n >= c->max_count) { /* rule 4 */
        orderer_cutter_cut(c, &ret_batches[n++]);
        pending = false;
    }
    *ret_n = n;
    *ret_pending = pending;
    return 0;
}

size_t orderer_cutter_pending_count(const struct orderer_cutter *c)
{
    return c->n;
}

size_t orderer_cutter_pending_bytes(const struct orderer_cutter *c)
{
    return c->bytes;
}
