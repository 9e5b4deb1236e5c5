/* SPDX-License-Identifier: Apache-2.0 */
/* The committer's modules: per-transaction validation, MVCC, the ledger, and the pipeline. */
#ifndef WEFT_COMMITTER_H
#define WEFT_COMMITTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/common.pb-c.h"
#include "ledger/rwset/kvrwset/kv_rwset.pb-c.h"
#include "ledger/rwset/rwset.pb-c.h"
#include "peer/proposal.pb-c.h"
#include "peer/proposal_response.pb-c.h"
#include "peer/transaction.pb-c.h"

#include "libcommon/err.h"
#include "libcommon/wire.h"

struct lc_chconf;
struct lc_state;
struct lc_kv_txn;

/* ---- validate.c: the per-transaction checks that need no ledger (run in parallel) ---------- */

/* One transaction of a block while it is validated. Every decoded layer is owned and freed by
 * committer_tx_done. */
struct committer_tx {
    uint8_t code; /* TxValidationCode; 0 VALID */
    bool has_txid;
    char txid[LC_WIRE_TXID_LEN + 1];
    Common__Envelope *env;
    Common__Payload *payload;
    Common__ChannelHeader *chdr;
    Common__SignatureHeader *shdr;
    Protos__Transaction *tx;
    Protos__ChaincodeActionPayload *cap;
    Protos__ProposalResponsePayload *prp;
    Protos__ChaincodeAction *act;
    Rwset__TxReadWriteSet *rws;
    Kvrwset__KVRWSet **kv; /* one per rws->ns_rwset, same order */
    struct lc_errbuf why;  /* the cause when code is not VALID */
};

/* Runs Fabric's per-transaction checks on data (the raw bytes of block.data[i]) against
 * channel cc, in Fabric's order, and leaves the verdict in t->code (and the cause in t->why):
 * envelope, payload, headers, creator signature, TxID, transaction shape and proposal hash,
 * type, channel, then the chaincode action (extension, response payload, rwset, chaincode
 * name/version as defined on the channel, namespaces) and the endorsement policy (VSCC).
 * Never fails as a function: a transaction that cannot be checked gets a code. t must be
 * zeroed; free its parts with committer_tx_done. Safe from many threads. */
void committer_tx_validate(const struct lc_chconf *cc, const uint8_t *data, size_t len,
                           struct committer_tx *t);

/* Frees the decoded layers of t (zeroing them); accepts a zeroed t. */
void committer_tx_done(struct committer_tx *t);

/* ---- mvcc.c: read-set checks in block order ----------------------------------------------- */

struct committer_batch;

int committer_batch_new(struct committer_batch **ret);
void committer_batch_free(struct committer_batch *b); /* accepts NULL */

/* Checks the reads of t (VALID so far) against the committed state in read txn rtx and the
 * writes of the earlier valid transactions of the block (batch): point reads first, then range
 * queries, per namespace. Sets t->code to MVCC_READ_CONFLICT (11) or PHANTOM_READ_CONFLICT (12)
 * on a conflict; when t stays VALID, adds its writes to batch at version (block, tx_idx).
 * Returns 0, or a negative code when the state cannot be read (-ENOMEM, LC_ECORRUPT): the block
 * must not be committed then. */
int committer_mvcc_check(const struct lc_state *st, struct lc_kv_txn *rtx,
                         struct committer_batch *batch, uint64_t block, uint64_t tx_idx,
                         struct committer_tx *t, struct lc_errbuf *err);

/* ---- ledger.c: blocks and state in one LMDB environment ----------------------------------- */

struct committer_ledger;

struct committer_ledger_opts {
    const char *dir;
    bool nosync; /* tests only */
};

/* Opens (creating) the ledger in opts->dir. Caller frees with committer_ledger_free. */
int committer_ledger_open(const struct committer_ledger_opts *o, struct lc_errbuf *err,
                          struct committer_ledger **ret);
void committer_ledger_free(struct committer_ledger *l); /* accepts NULL */

struct lc_state *committer_ledger_state(struct committer_ledger *l);

/* The number of blocks stored (the next block number to commit). */
int committer_ledger_height(struct committer_ledger *l, uint64_t *ret_height,
                            struct lc_errbuf *err);

/* The stored block num as packed bytes (metadata [2] filled); caller frees *ret_buf.
 * LC_ENOTFOUND past the height. */
int committer_ledger_block(struct committer_ledger *l, uint64_t num, uint8_t **ret_buf,
                           size_t *ret_len, struct lc_errbuf *err);

/* Stores block (its metadata [2] already holding the filter) and applies the writes of txs
 * (txs[i] is block.data[i]) in ONE write transaction; for a genesis block (number 0) cc gives
 * the chaincode definitions (lc_state_apply_config) and txs is ignored. Rejects a block whose
 * number is not the height (LC_EINVALID). Nothing is stored on failure. */
int committer_ledger_commit(struct committer_ledger *l, const Common__Block *block,
                            const struct committer_tx *txs, size_t n_txs,
                            const struct lc_chconf *cc, struct lc_errbuf *err);

/* ---- committer.c: the pipeline ------------------------------------------------------------ */

struct committer;

struct committer_opts {
    const char *data_dir;
    unsigned workers; /* validation threads; 0: 1 */
    bool nosync;      /* tests only */
};

/* Opens the ledger and, when it is empty, commits genesis (block 0, its filter VALID); when not
 * empty, checks that its block 0 has genesis's header hash (LC_EMISMATCH). Caller frees. */
int committer_new(const struct committer_opts *o, const Common__Block *genesis,
                  struct lc_errbuf *err, struct committer **ret);
void committer_free(struct committer *c); /* accepts NULL */

uint64_t committer_height(const struct committer *c);
const char *committer_channel(const struct committer *c);
struct committer_ledger *committer_get_ledger(struct committer *c);

/* Calls fn(arg, number) after each block committer_commit stores, on the committing thread
 * (one hook; NULL removes it). Set it before blocks flow. */
void committer_on_commit(struct committer *c, void (*fn)(void *arg, uint64_t number), void *arg);

/* What committing a block gave. */
struct committer_result {
    uint64_t number;
    size_t n_txs, n_valid;
};

/* Validates block and commits it: it must be the block at the height (a lower number is an
 * old block: 1 is returned and nothing done; a higher one LC_EINVALID), link to the previous
 * block (LC_EMISMATCH), have a correct data hash (LC_EMISMATCH) and signatures that satisfy
 * /Channel/Orderer/BlockValidation (LC_EPOLICY). Then every transaction is validated, the
 * filter set into metadata [2] and the block committed atomically. Fills *ret on success (0).
 * Not thread-safe: one caller feeds blocks. */
int committer_commit(struct committer *c, const Common__Block *block, struct lc_errbuf *err,
                     struct committer_result *ret);

#endif
