/* SPDX-License-Identifier: Apache-2.0 */
/* One channel on this orderer: config, block store, cutter, writer and consenter. */
#ifndef ORDERER_CHAIN_H
#define ORDERER_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libcommon/blockstore.h"
#include "libcommon/chconf.h"
#include "libcommon/err.h"
#include "libcommon/msp.h"

#include "cutter.h"
#include "pool.h"

struct orderer_chain;

struct orderer_chain_opts {
    const char *data_dir;           /* the store goes to <data_dir>/<channel id> */
    enum lc_blockstore_sync sync;   /* fsync policy of the store */
    const struct lc_signer *signer; /* signs blocks; borrowed, outlives the chain */
    size_t queue_msgs;              /* consenter queue (see orderer_support_queue_limits) */
    size_t queue_bytes;             /*   0: 1000 messages, 64 MiB */
    size_t identity_cache;          /* validated identities cached per channel: 0 = 1024 */
    uint64_t verify_tail;           /* blocks checked in full at open: 0 = the store's 16 */
};

/*
 * Opens the chain of the channel whose genesis (config) block is genesis[0..len):
 *   - loads the channel config from it (libcommon/chconf), and finds the consenter for its
 *     ConsensusType (only "solo" for now);
 *   - opens the block store <data_dir>/<channel>, recovering a torn tail; a new store gets the
 *     genesis block as block 0, an existing one must hold exactly these bytes as block 0;
 *   - makes the cutter (BatchSize), the writer (continuing numbering and last_config from the
 *     tip) and the consenter.
 * Rejects, with the channel and cause in err: a block that is not a valid config block
 * (chconf's codes), an unsupported consensus type (-ENOTSUP), a store that is damaged
 * (LC_ECORRUPT) or in use (LC_EUNAVAIL), a store of another chain (LC_EMISMATCH: block 0
 * differs). Caller frees with orderer_chain_free.
 */
int orderer_chain_open(const uint8_t *genesis, size_t len, const struct orderer_chain_opts *opts,
                       struct orderer_chain **ret, struct lc_errbuf *err);

/* The channel id of a genesis block without opening anything (for finding duplicates). Copies
 * it into buf (cap bytes). Rejects what orderer_chain_open would reject about the block. */
int orderer_chain_peek_id(const uint8_t *genesis, size_t len, char *buf, size_t cap,
                          struct lc_errbuf *err);

/* Starts the consenter. */
int orderer_chain_start(struct orderer_chain *chain, struct lc_errbuf *err);

/* Halts the consenter (see its halt) and shuts the store's waiters down. Safe twice. */
void orderer_chain_halt(struct orderer_chain *chain);

/* Halts and frees everything; accepts NULL. */
void orderer_chain_free(struct orderer_chain *chain);

const char *orderer_chain_id(const struct orderer_chain *chain);
/* Borrowed; immutable while the chain lives (no channel updates yet). */
const struct lc_chconf *orderer_chain_chconf(const struct orderer_chain *chain);
uint64_t orderer_chain_sequence(const struct orderer_chain *chain);
struct lc_blockstore *orderer_chain_store(struct orderer_chain *chain);
const char *orderer_chain_consensus_type(const struct orderer_chain *chain);

/* The consenter's readiness (0 or LC_EUNAVAIL with the reason) and error state. */
int orderer_chain_ready(struct orderer_chain *chain, struct lc_errbuf *err);
bool orderer_chain_errored(struct orderer_chain *chain);

/* Hands a checked normal message to the consenter (see its order()). Returns 0 (msg taken);
 * -EAGAIN: msg not taken and waiter (if not NULL) is scheduled once the consenter has room;
 * LC_EUNAVAIL / LC_ECLOSED: msg not taken. Never blocks. */
int orderer_chain_order(struct orderer_chain *chain, struct orderer_msg *msg, uint64_t config_seq,
                        struct orderer_task *waiter);

/* Removes waiter from the tasks to schedule when room comes (a stream that ends). */
void orderer_chain_forget(struct orderer_chain *chain, struct orderer_task *waiter);

#endif
