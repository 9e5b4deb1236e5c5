/* SPDX-License-Identifier: Apache-2.0 */
/* The consenter interface: how a chain hands envelopes to a consensus type, and what it gets. */
#ifndef ORDERER_CONSENTER_H
#define ORDERER_CONSENTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libcommon/chconf.h"
#include "libcommon/err.h"

#include "cutter.h"

/*
 * A chain (chain.c) is one channel: its config, block store, block cutter, block writer and one
 * consenter. Broadcast checks an envelope and calls the chain, which calls the consenter's
 * order(); the consenter decides when and in what order envelopes reach the cutter, and writes
 * the blocks the cutter cuts through the support functions below. Deliver only reads the block
 * store. So a new consensus type (Kafka, Fabric 1.x design) is one more ops table in
 * consenters.c; Broadcast, Deliver, the cutter and the writer stay as they are.
 *
 * How Kafka maps onto this (its own issue):
 *   order()      produces KafkaMessageRegular{payload, config_seq, class NORMAL} to the
 *                channel's topic; returns -EAGAIN while the producer queue is full and calls
 *                orderer_support_room() when it drains;
 *   ready()      LC_EUNAVAIL until the partition is connected and consumed up to the offset
 *                saved in the last block (Fabric's WaitReady), which Broadcast turns into 503;
 *   the consumer thread runs orderer_cutter_ordered() on every consumed regular message
 *                (re-validating with orderer_support_revalidate when its config_seq is behind),
 *                posts TimeToCut when its timer fires and cuts on consuming it, and passes the
 *                packed KafkaMetadata{last_offset_persisted, ...} as cmd to
 *                orderer_support_write_block, which puts it into every block's
 *                OrdererBlockMetadata.consenter_metadata;
 *   create()     reads orderer_support_last_consenter_metadata() to know where to resume.
 */

/* What a chain offers its consenter. Valid from create() until destroy() returns. */
struct orderer_support;

/* The operations of one consensus type. Tables are static const. Every function gets the
 * object create() made. */
struct orderer_consenter_ops {
    const char *type; /* ConsensusType.type it implements: "solo", "kafka" */

    /* Makes the consenter for one chain; must not start threads yet. Cause in err. */
    int (*create)(struct orderer_support *support, void **ret_impl, struct lc_errbuf *err);
    /* Starts its threads; after this, order() may be called. */
    int (*start)(void *impl, struct lc_errbuf *err);
    /* Stops: order() fails with LC_ECLOSED from now on, and no block is written after it
     * returns. What to do with messages already taken is the consenter's: solo still orders
     * them and cuts the pending batch (so a clean stop loses nothing that got SUCCESS); Kafka
     * leaves them in the topic. Safe to call twice. */
    void (*halt)(void *impl);
    /* Frees (after halt). */
    void (*destroy)(void *impl);

    /* 0 when order() can be called; LC_EUNAVAIL (with the reason in err) while it cannot
     * (starting, reconnecting), which Broadcast answers with SERVICE_UNAVAILABLE. Must not
     * block. */
    int (*ready)(void *impl, struct lc_errbuf *err);
    /* Nonzero while the consenter is in error (Fabric's Errored channel): a Deliver with
     * STRICT error response then gets SERVICE_UNAVAILABLE. Must not block. */
    bool (*errored)(void *impl);

    /* Hands over one checked normal envelope, checked under config sequence config_seq.
     * Must not block. Returns 0 when taken (msg now belongs to the consenter: Broadcast answers
     * SUCCESS); -EAGAIN when it cannot take more now: msg is NOT taken, and the consenter calls
     * orderer_support_room() once it can; LC_EUNAVAIL / LC_ECLOSED when it is not ready or
     * halted (msg not taken). */
    int (*order)(void *impl, struct orderer_msg *msg, uint64_t config_seq);
    /* Same for a config envelope (a CONFIG envelope made from an accepted CONFIG_UPDATE):
     * it is ordered like the others but always in a block of its own. Nothing calls it yet:
     * Broadcast rejects CONFIG_UPDATE until channel updates exist. */
    int (*configure)(void *impl, struct orderer_msg *msg, uint64_t config_seq);
};

/* ---- the support a chain gives its consenter ------------------------------------------------ */

const char *orderer_support_channel_id(const struct orderer_support *s);

/* The channel config in force (borrowed; stays valid while the chain lives), and its sequence. */
const struct lc_chconf *orderer_support_chconf(const struct orderer_support *s);
uint64_t orderer_support_sequence(const struct orderer_support *s);

/* Blocks in the store (the next block's number). */
uint64_t orderer_support_height(const struct orderer_support *s);

/* How many envelopes (and bytes of them) a consenter may hold between order() and the cutter
 * before order() answers -EAGAIN; a message is always taken into an empty queue. */
void orderer_support_queue_limits(const struct orderer_support *s, size_t *ret_msgs,
                                  size_t *ret_bytes);

/* The chain's block cutter, for the consenter's thread alone. */
struct orderer_cutter *orderer_support_cutter(struct orderer_support *s);

/* Writes the next block from batch (taken and emptied, whatever happens) with consenter
 * metadata cmd[0..cmd_len) (0: none). A config batch (exactly one CONFIG envelope) becomes the
 * new last_config. Returns 0 once the block is durable; on failure the chain is broken (no
 * further block may be written; the consenter should report errored()) and the cause is
 * logged here. Called from one consenter thread only. */
int orderer_support_write_block(struct orderer_support *s, struct orderer_batch *batch,
                                bool is_config, const uint8_t *cmd, size_t cmd_len);

/* The consenter metadata of the last block written (see orderer_block_consenter_metadata),
 * for resuming after a restart: malloc'd copy in *ret_md (caller frees), NULL / 0 when none. */
int orderer_support_last_consenter_metadata(struct orderer_support *s, uint8_t **ret_md,
                                            size_t *ret_len, struct lc_errbuf *err);

/* Checks msg again as Broadcast would for the current config (for a message ordered under an
 * older config_seq). 0 and the current sequence in *ret_seq, or the rejection in err. */
int orderer_support_revalidate(struct orderer_support *s, const struct orderer_msg *msg,
                               uint64_t *ret_seq, struct lc_errbuf *err);

/* The consenter can take messages again after order() returned -EAGAIN. Safe from any thread;
 * never blocks for long. */
void orderer_support_room(struct orderer_support *s);

/* ---- the consensus types this orderer knows (consenters.c) ---------------------------------- */

/* The ops for ConsensusType.type, or NULL when it is not supported. */
const struct orderer_consenter_ops *orderer_consenter_find(const char *type);

extern const struct orderer_consenter_ops orderer_solo_ops;

#endif
