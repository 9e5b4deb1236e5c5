/* SPDX-License-Identifier: Apache-2.0 */
/* Where the committer's blocks come from: for now the orderers' Deliver, pulled from its height. */
#ifndef WEFT_COMMITTER_INTAKE_H
#define WEFT_COMMITTER_INTAKE_H

#include <stddef.h>

#include "libcommon/err.h"

struct committer;
struct lc_signer;
struct committer_intake;

/* Starts a thread that feeds c (which must outlive the intake) with the blocks from its height
 * on: it opens Deliver on orderers[0..n) ("host:port", copied) in turn with a SeekInfo signed by
 * signer (borrowed), commits each block, and reconnects to the next orderer after a failure or
 * a refused block. This is the one place that knows where blocks come from (a gossip stream
 * will replace it). Caller stops and frees with committer_intake_stop. */
int committer_intake_start(struct committer *c, const char *const *orderers, size_t n,
                           const struct lc_signer *signer, struct lc_errbuf *err,
                           struct committer_intake **ret);

/* Stops the thread (it finishes the block it is committing) and frees; accepts NULL. */
void committer_intake_stop(struct committer_intake *in);

#endif
