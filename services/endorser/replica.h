/* SPDX-License-Identifier: Apache-2.0 */
/* The endorser's state replica follower: applies committed blocks from a committer's feed. */
#ifndef ENDORSER_REPLICA_H
#define ENDORSER_REPLICA_H

#include "libcommon/err.h"
#include "libcommon/state.h"

struct endorser_replica;

/* Starts a thread that follows channel's committed blocks on `weft.Committer/Blocks` from the
 * replica's height, trying the committers ("host:port", n of them) in turn and reconnecting with
 * a back-off, and applies each block's valid writes and TxIDs with lc_state_commit_block — the
 * state function the committer uses, so versions are the same (block, tx) everywhere. A block
 * that does not continue the replica (number or previous hash) ends that connection. st and the
 * strings must outlive the follower. Caller frees with endorser_replica_stop. */
int endorser_replica_start(struct lc_state *st, const char *channel, const char *const *committers,
                           size_t n, struct lc_errbuf *err, struct endorser_replica **ret);

/* Stops the thread (cancelling its stream) and frees. Accepts NULL. */
void endorser_replica_stop(struct endorser_replica *r);

#endif
