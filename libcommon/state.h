/* SPDX-License-Identifier: Apache-2.0 */
/* World state on LMDB: versioned keys per namespace, the TxID index and the savepoint height. */
#ifndef LC_STATE_H
#define LC_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libcommon/err.h"

/*
 * One channel's world state lives in three named databases of a libcommon/kv environment that
 * the caller opens (the committer keeps its blocks in the same environment, so a block and its
 * state updates commit in one write transaction; an endorser replica has an environment of its
 * own):
 *
 *   "state"      ns ‖ 0x00 ‖ key  →  u64 block ‖ u64 tx ‖ value     (big-endian, 16-byte header)
 *   "txids"      txid             →  u64 block ‖ u64 tx ‖ u8 validation code
 *   "state_meta" "savepoint"      →  u64 height (the number of the next block to apply)
 *
 * The version of a key is the (block, tx) of the valid transaction that last wrote it, as in
 * Fabric. Namespaces are chaincode names (plus Fabric's "_lifecycle"); they are non-empty and hold
 * no 0x00 byte. Keys are any bytes.
 *
 * Key size. LMDB keys are at most lc_kv_max_key_size() bytes (511 with Debian's LMDB), and a
 * stored key is ns ‖ 0x00 ‖ key. weft REJECTS longer keys with LC_ETOOBIG (message naming the
 * namespace, the length and the limit) everywhere: get, put, delete, range bounds. Hashing long
 * keys was the alternative, but it would break range scans (hashes do not sort like keys) and
 * add a second lookup path; Fabric's own keys (asset ids, composite keys) are far shorter. An
 * endorser therefore never endorses a write of such a key, and a committer checks
 * lc_state_check_key() before applying a foreign transaction (and marks it invalid) rather than
 * letting lc_state_apply_block() fail the whole block.
 *
 * Reads take a read transaction of the environment (lc_kv_txn_begin_read): every read through
 * it sees one consistent snapshot. Values and keys handed out point into the map and stay valid
 * until that transaction ends. All functions are safe from many threads on distinct
 * transactions.
 */

struct lc_kv_env;
struct lc_kv_txn;
struct lc_chconf;

struct lc_state;
struct lc_state_iter;

/* A key's version: the block and the transaction index in it that wrote it. */
struct lc_state_version {
    uint64_t block;
    uint64_t tx;
};

/* The TxID index entry of a transaction. */
struct lc_state_txinfo {
    uint64_t block;
    uint64_t tx;
    uint8_t code; /* its TxValidationCode (0 VALID) */
};

/* Fabric's lifecycle namespace; weft writes the chaincode definition sequences there. */
#define LC_STATE_LIFECYCLE_NS "_lifecycle"

/* Opens (creating when missing) the state databases in env, which must outlive the state and
 * have room for three more named databases. Call at start, before other threads use env.
 * Caller frees with lc_state_free (env stays open). */
int lc_state_open(struct lc_kv_env *env, struct lc_errbuf *err, struct lc_state **ret_state);

/* Accepts NULL. */
void lc_state_free(struct lc_state *st);

/* The environment the state lives in (borrowed). */
struct lc_kv_env *lc_state_env(const struct lc_state *st);

/* Checks that ns is a usable namespace (non-empty, no 0x00: LC_EINVALID) and that key fits
 * (LC_ETOOBIG, naming ns, the key length and the limit). */
int lc_state_check_key(const struct lc_state *st, const char *ns, const void *key, size_t key_len,
                       struct lc_errbuf *err);

/* Reads key of namespace ns in txn. On success *ret_val and *ret_len hold the value (pointing into
 * the map, valid until txn ends) and *ret_ver its version. LC_ENOTFOUND when the key is absent;
 * the lc_state_check_key rejections; LC_ECORRUPT for a stored entry shorter than its header. */
int lc_state_get(const struct lc_state *st, struct lc_kv_txn *txn, const char *ns, const void *key,
                 size_t key_len, const uint8_t **ret_val, size_t *ret_len,
                 struct lc_state_version *ret_ver, struct lc_errbuf *err);

/* Starts an iterator over the keys k of ns with start <= k < end in byte order; an empty start
 * means from the first key of ns, an empty end (end_len 0) up to and including its last key, as
 * Fabric's range queries read "". Bounds are copied; they obey the key size rule (LC_ETOOBIG).
 * Caller frees with lc_state_iter_free, before txn ends. */
int lc_state_iter_new(const struct lc_state *st, struct lc_kv_txn *txn, const char *ns,
                      const void *start, size_t start_len, const void *end, size_t end_len,
                      struct lc_errbuf *err, struct lc_state_iter **ret_it);

/* Steps: returns 1 with the next key (without the namespace), value and version, 0 at the end
 * of the range (and after), or a negative code (LC_ECORRUPT, LC_ECLOSED once txn ended). */
int lc_state_iter_next(struct lc_state_iter *it, const uint8_t **ret_key, size_t *ret_key_len,
                       const uint8_t **ret_val, size_t *ret_val_len,
                       struct lc_state_version *ret_ver, struct lc_errbuf *err);

void lc_state_iter_free(struct lc_state_iter *it); /* accepts NULL */

/* Looks a TxID up in the index: 0 and *ret_info when a transaction with it was committed
 * (valid or not), LC_ENOTFOUND when not; LC_EINVALID for an empty txid. */
int lc_state_txid_get(const struct lc_state *st, struct lc_kv_txn *txn, const char *txid,
                      struct lc_state_txinfo *ret_info, struct lc_errbuf *err);

/* The savepoint: the number of blocks applied so far (0 for a new state). */
int lc_state_height(const struct lc_state *st, struct lc_kv_txn *txn, uint64_t *ret_height,
                    struct lc_errbuf *err);

/* ---- applying committed blocks ------------------------------------------------------------ */

/* One write of a transaction's write set: value (value_len may be 0) or a delete. */
struct lc_state_write {
    const char *ns; /* NUL-terminated namespace */
    const void *key;
    size_t key_len;
    const void *value;
    size_t value_len;
    bool is_delete;
};

/* One transaction of a block, in block order: its TxID ("" or NULL for none, e.g. an
 * orderer-made config envelope), its validation code, and its writes (applied only when code
 * is 0, VALID). */
struct lc_state_tx {
    const char *txid;
    uint8_t code;
    const struct lc_state_write *writes;
    size_t n_writes;
};

/* Applies block block_num in the caller's write transaction txn:
 *  - the writes of every VALID transaction i, in order, each at version (block_num, i): a put
 *    stores the value, a delete removes the key (deleting an absent key is not an error);
 *  - every non-empty TxID into the index with (block_num, i, code), unless the index already
 *    holds it (the first occurrence wins, as the committer marks later duplicates invalid);
 *  - the savepoint to block_num + 1.
 * Rejects, leaving txn to be aborted by the caller: block_num other than the current height
 * (LC_EINVALID "block N does not follow height H"), a write with a bad namespace or a key over
 * the limit (LC_EINVALID / LC_ETOOBIG naming tx i), a txid over the key limit (LC_ETOOBIG), and
 * the kv codes (LC_EMAPFULL: the caller grows the map and runs the whole transaction again). */
int lc_state_apply_block(struct lc_state *st, struct lc_kv_txn *txn, uint64_t block_num,
                         const struct lc_state_tx *txs, size_t n_txs, struct lc_errbuf *err);

/* The same in a write transaction of its own, committed before it returns, growing the map
 * when it is full (lc_kv_update). For replicas and tests; no transaction may be open in this
 * thread. */
int lc_state_commit_block(struct lc_state *st, uint64_t block_num, const struct lc_state_tx *txs,
                          size_t n_txs, struct lc_errbuf *err);

/* weft's lifecycle is the channel configuration: chaincode definitions come from config blocks,
 * not from _lifecycle transactions. So that every invoke's rwset can carry Fabric's read of
 * _lifecycle "namespaces/fields/<cc>/Sequence" with a version every weft node agrees on, the
 * config block that carries a definition writes that key, as one transaction at index 0 of the
 * block:
 *   key   "namespaces/fields/<name>/Sequence"
 *   value Fabric's lifecycle StateData{Int64: sequence} encoding (0x08 ‖ varint(sequence))
 *   version (config block number, 0) — (0, 0) for definitions in the genesis block.
 * Only definitions whose stored sequence differs (or that are new) are written, so a config
 * block that leaves a definition alone leaves its version alone.
 *
 * Applies config block block_num in txn: the TxID of its config transaction (txid, may be "")
 * as VALID at (block_num, 0), the _lifecycle writes above for the chaincode definitions of cc,
 * and the savepoint block_num + 1. Same rejections as lc_state_apply_block, plus -ENOMEM. */
int lc_state_apply_config(struct lc_state *st, struct lc_kv_txn *txn, uint64_t block_num,
                          const char *txid, const struct lc_chconf *cc, struct lc_errbuf *err);

/* Writes the _lifecycle key of chaincode name ("namespaces/fields/<name>/Sequence") into buf
 * (cap bytes, NUL-terminated) and its length into *ret_len. LC_ETOOBIG if it does not fit,
 * LC_EINVALID for an empty name. */
int lc_state_lifecycle_key(const char *name, char *buf, size_t cap, size_t *ret_len,
                           struct lc_errbuf *err);

#endif
