/* SPDX-License-Identifier: Apache-2.0 */
/* Fabric's block cutter: which envelopes go into which block, by count and size. */
#ifndef ORDERER_CUTTER_H
#define ORDERER_CUTTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libcommon/err.h"

/*
 * One envelope on its way into a block: a plain value, owned by whoever holds it.
 *   bytes/len  the envelope exactly as it goes into Block.data (the orderer's canonical
 *              re-marshal, see orderer_msg_new), malloc'd;
 *   size       what the cutter counts: len(payload) + len(signature), as Fabric does.
 */
struct orderer_msg {
    uint8_t *bytes;
    size_t len;
    size_t size;
};

/* Makes a message holding the canonical encoding of Envelope{payload, signature}: both fields
 * in field order, no unknown fields; what Go's proto.Marshal writes for the decoded envelope,
 * and so what Fabric peers require of each data[i]. Copies the inputs. Returns 0, -ENOMEM.
 * Caller frees with orderer_msg_free. */
int orderer_msg_new(const uint8_t *payload, size_t payload_len, const uint8_t *sig, size_t sig_len,
                    struct orderer_msg **ret);
/* Accepts NULL. */
void orderer_msg_free(struct orderer_msg *m);

/* A cut batch: n messages in order, owned by the batch (free with orderer_batch_done). */
struct orderer_batch {
    struct orderer_msg **msgs;
    size_t n;
};

/* Frees the messages and the array; leaves an empty batch. Accepts an empty batch. */
void orderer_batch_done(struct orderer_batch *b);

/* The cutter itself. Not thread-safe: one consenter thread drives it. */
struct orderer_cutter;

/* Makes a cutter for BatchSize{max_message_count, preferred_max_bytes}. Rejects 0 for either
 * (LC_EINVALID; chconf never hands out such values). Caller frees. */
int orderer_cutter_new(uint32_t max_message_count, uint32_t preferred_max_bytes,
                       struct orderer_cutter **ret, struct lc_errbuf *err);

/* Frees the cutter and the pending messages. Accepts NULL. */
void orderer_cutter_free(struct orderer_cutter *c);

/* New limits for the next messages (a config change); pending messages stay pending. */
int orderer_cutter_set_limits(struct orderer_cutter *c, uint32_t max_message_count,
                              uint32_t preferred_max_bytes, struct lc_errbuf *err);

/*
 * Fabric's Ordered: takes msg (ownership passes to the cutter) and returns 0, 1 or 2 batches in
 * ret_batches[0..*ret_n) (each owned by the caller) and whether messages are left pending:
 *   1. msg->size > preferred_max_bytes: what is pending is cut (if anything), then msg alone;
 *   2. otherwise, if pending bytes + msg->size > preferred_max_bytes: the pending batch is cut;
 *   3. msg is appended;
 *   4. pending count >= max_message_count: the pending batch is cut.
 * Returns -ENOMEM (msg freed, nothing else changes).
 */
int orderer_cutter_ordered(struct orderer_cutter *c, struct orderer_msg *msg,
                           struct orderer_batch ret_batches[2], size_t *ret_n, bool *ret_pending);

/* Fabric's Cut: hands over whatever is pending (maybe an empty batch) and resets. */
void orderer_cutter_cut(struct orderer_cutter *c, struct orderer_batch *ret_batch);

/* Pending messages and their summed sizes. */
size_t orderer_cutter_pending_count(const struct orderer_cutter *c);
size_t orderer_cutter_pending_bytes(const struct orderer_cutter *c);

#endif
