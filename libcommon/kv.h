/* SPDX-License-Identifier: Apache-2.0 */
/* Key-value storage on LMDB: environments, named databases, snapshot reads, one writer. */
#ifndef LC_KV_H
#define LC_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libcommon/err.h"

/*
 * This module is the only place that includes <lmdb.h>; LMDB's codes come back as weft codes:
 * a full map is LC_EMAPFULL, a missing key LC_ENOTFOUND, a damaged or foreign file LC_ECORRUPT,
 * a limit (key size, readers, dirty pages, databases) LC_ETOOBIG, misuse LC_EINVALID, and system
 * errors -errno. Each failure also writes its cause (with LMDB's own text) into the errbuf.
 *
 * Threads. An environment is shared by all threads of a process; open it once per process (LMDB
 * keeps its locks per process: opening the same directory twice in one process is not allowed).
 * - Read transactions are snapshots: they see the data as of their begin, whatever commits later.
 *   They are cheap (no lock beyond a reader slot) and run concurrently with each other and with
 *   the writer. The environment is opened with MDB_NOTLS, so a read transaction is not pinned to
 *   the thread that began it: it may be handed to another thread (used by one thread at a time),
 *   and a thread may hold several.
 * - One write transaction at a time per environment; a second begin waits for the first to end.
 *   A write transaction must end on the thread that began it (LMDB's writer lock is a mutex).
 * - lc_kv_env_grow() remaps the file and so waits until no transaction of this process is open;
 *   new transactions wait while it is pending. A thread that holds a transaction must therefore
 *   not call it (nor lc_kv_update() or lc_kv_env_stats()), nor begin a second transaction while
 *   another thread may be growing the map: it would wait on itself.
 *
 * Durability. A commit is on disk when lc_kv_txn_commit() returns (LMDB syncs data and meta
 * page), unless the environment was opened with LC_KV_NOSYNC or LC_KV_NOMETASYNC (below).
 * The map is never opened with MDB_WRITEMAP: on this workload it wrote ~19 MB per commit.
 */

struct lc_kv_env;
struct lc_kv_db;
struct lc_kv_txn;
struct lc_kv_iter;

enum lc_kv_env_flags {
    /* Do not sync at commit: fastest, but a crash of the machine (not just the process) can lose
     * the latest commits, and on file systems that reorder writes can damage the file. For tests
     * and for disposable replicas only. */
    LC_KV_NOSYNC = 1u << 0,
    /* Sync the data pages at commit but not the meta page: a machine crash can undo the last
     * commit but keeps the file consistent. Measured ~7% more commits/s than full sync here. */
    LC_KV_NOMETASYNC = 1u << 1,
    /* Open read-only (tools that inspect a live store). Write transactions fail with
     * LC_EINVALID; lc_kv_db_open() does not create databases. */
    LC_KV_RDONLY = 1u << 2,
};

struct lc_kv_options {
    size_t map_size;      /* initial map size in bytes; 0: 1 GiB. Rounded up to the page size. */
    size_t max_map_size;  /* automatic growth limit for lc_kv_update() and lc_kv_env_grow(0);
                           * 0: the map does not grow on its own (explicit sizes still work). */
    unsigned max_dbs;     /* named databases; 0: 16 */
    unsigned max_readers; /* concurrent read transactions; 0: LMDB's default (126) */
    unsigned flags;       /* enum lc_kv_env_flags */
};

/* Opens (creating if needed) the environment in directory dir: the directory itself is created
 * (mode 0750) when it is missing and its parent exists; files are created 0600. opts may be NULL
 * for the defaults. Rejects a path that is not a directory or cannot be created (-errno), an
 * LMDB file that is damaged or not LMDB (LC_ECORRUPT), and a directory in use by another process
 * in an incompatible way. Stale reader slots of dead processes are cleared. Caller frees with
 * lc_kv_env_close(). */
int lc_kv_env_open(const char *dir, const struct lc_kv_options *opts, struct lc_kv_env **ret_env,
                   struct lc_errbuf *err);

/* Closes the environment and frees its database handles. Every transaction and iterator must
 * have ended. Accepts NULL. */
void lc_kv_env_close(struct lc_kv_env *env);

/* Grows the map to new_size bytes, or when new_size is 0 doubles it, capped at max_map_size.
 * Waits until no transaction of this process is open (see Threads). Rejects a size below the
 * current one (LC_EINVALID) and, for new_size 0, a map already at max_map_size or a zero
 * max_map_size (LC_EMAPFULL). The file itself grows only as pages are written. */
int lc_kv_env_grow(struct lc_kv_env *env, size_t new_size, struct lc_errbuf *err);

struct lc_kv_stats {
    size_t map_size;     /* bytes the map can hold */
    size_t max_map_size; /* growth limit from the options (0: none) */
    size_t page_size;
    size_t used_pages; /* high-water mark of pages in use (pages freed inside stay counted) */
    unsigned readers;  /* reader slots in use */
    unsigned max_readers;
};

/* Fills ret_stats; for a /healthz check: used_pages * page_size against map_size. */
int lc_kv_env_stats(struct lc_kv_env *env, struct lc_kv_stats *ret_stats, struct lc_errbuf *err);

/* Largest key the environment accepts, in bytes (511 with Debian's LMDB). */
size_t lc_kv_max_key_size(const struct lc_kv_env *env);

enum lc_kv_db_flags {
    LC_KV_DB_CREATE = 1u << 0, /* create the database when it does not exist */
};

/* Opens the named database (a non-empty NUL-terminated name), once, at start, before other
 * threads use the environment. Opening the same name again returns the same handle. Rejects a
 * missing database without LC_KV_DB_CREATE (LC_ENOTFOUND) and more names than max_dbs
 * (LC_ETOOBIG). The handle belongs to env and lives until lc_kv_env_close(). */
int lc_kv_db_open(struct lc_kv_env *env, const char *name, unsigned flags, struct lc_kv_db **ret_db,
                  struct lc_errbuf *err);

/* Begins a read-only snapshot transaction. Caller ends it with lc_kv_txn_abort() (or commit,
 * which for a read transaction is the same). */
int lc_kv_txn_begin_read(struct lc_kv_env *env, struct lc_kv_txn **ret_txn, struct lc_errbuf *err);

/* Begins the write transaction, waiting while another one is open. Caller ends it with
 * lc_kv_txn_commit() or lc_kv_txn_abort(), on the same thread. Rejected on a read-only env. */
int lc_kv_txn_begin_write(struct lc_kv_env *env, struct lc_kv_txn **ret_txn, struct lc_errbuf *err);

/* Moves a read transaction to the latest committed snapshot, keeping its reader slot (cheaper
 * than abort + begin). Values and iterators of the old snapshot become invalid (iterators
 * report LC_ECLOSED). Rejects a write transaction (LC_EINVALID). */
int lc_kv_txn_refresh(struct lc_kv_txn *txn, struct lc_errbuf *err);

/* Commits and frees txn in all cases. A write transaction in which an operation already failed
 * with LC_EMAPFULL (or another error that poisons it) is aborted and that code returned. On
 * LC_EMAPFULL nothing of the transaction is stored: the caller may lc_kv_env_grow() and run the
 * whole transaction again (lc_kv_update() does that loop). */
int lc_kv_txn_commit(struct lc_kv_txn *txn, struct lc_errbuf *err);

/* Discards txn's changes (if any) and frees it. Accepts NULL. */
void lc_kv_txn_abort(struct lc_kv_txn *txn);

bool lc_kv_txn_is_write(const struct lc_kv_txn *txn);

/* Looks key up. On success *ret_val points into the map: valid until txn ends or refreshes, or
 * (in a write txn) until the next put/del; never write through it. Rejects an empty or too long
 * key (LC_EINVALID / LC_ETOOBIG); a missing key is LC_ENOTFOUND. */
int lc_kv_get(struct lc_kv_txn *txn, struct lc_kv_db *db, const void *key, size_t key_len,
              const void **ret_val, size_t *ret_len, struct lc_errbuf *err);

/* As lc_kv_get() but returns a malloc'd copy (caller frees; a zero-length value gives a non-NULL
 * one-byte buffer). */
int lc_kv_get_copy(struct lc_kv_txn *txn, struct lc_kv_db *db, const void *key, size_t key_len,
                   void **ret_val, size_t *ret_len, struct lc_errbuf *err);

enum lc_kv_put_flags {
    LC_KV_NOOVERWRITE = 1u << 0, /* fail with LC_EEXISTS when the key is there */
};

/* Stores key → val (val may be empty) in a write transaction. Rejects a read transaction
 * (LC_EINVALID), an empty or too long key. LC_EMAPFULL poisons txn (see lc_kv_txn_commit()). */
int lc_kv_put(struct lc_kv_txn *txn, struct lc_kv_db *db, const void *key, size_t key_len,
              const void *val, size_t val_len, unsigned flags, struct lc_errbuf *err);

/* Deletes key in a write transaction; LC_ENOTFOUND when it is not there. */
int lc_kv_del(struct lc_kv_txn *txn, struct lc_kv_db *db, const void *key, size_t key_len,
              struct lc_errbuf *err);

/* Finds the entry with the largest key (e.g. the last block number); LC_ENOTFOUND when db is
 * empty. Pointers as for lc_kv_get(). */
int lc_kv_last(struct lc_kv_txn *txn, struct lc_kv_db *db, const void **ret_key,
               size_t *ret_key_len, const void **ret_val, size_t *ret_val_len,
               struct lc_errbuf *err);

/* Starts an iterator over the keys k with start <= k < end in byte order (memcmp, shorter
 * first on a common prefix). start NULL (or start_len 0) means from the first key; end NULL
 * means to the last key. The bounds are copied. Caller frees with lc_kv_iter_free(), before or
 * after txn ends; once txn ends or refreshes, lc_kv_iter_next() returns LC_ECLOSED. */
int lc_kv_iter_new(struct lc_kv_txn *txn, struct lc_kv_db *db, const void *start, size_t start_len,
                   const void *end, size_t end_len, struct lc_kv_iter **ret_it,
                   struct lc_errbuf *err);

/* Steps to the next entry: returns 1 with the key and value (pointers as for lc_kv_get()), 0 at
 * the end of the range (and every call after), or a negative code. Do not put or delete in db
 * through the same transaction while iterating over it. */
int lc_kv_iter_next(struct lc_kv_iter *it, const void **ret_key, size_t *ret_key_len,
                    const void **ret_val, size_t *ret_val_len, struct lc_errbuf *err);

/* Accepts NULL. */
void lc_kv_iter_free(struct lc_kv_iter *it);

/* Runs fn(txn, arg, err) in a write transaction and commits it. When fn or the commit fails
 * with LC_EMAPFULL, the transaction is aborted, the map grows (lc_kv_env_grow(env, 0)) and fn
 * runs again on a fresh transaction, until it fits or the map reaches max_map_size (then
 * LC_EMAPFULL). fn must therefore keep no effects outside the transaction until it returns 0.
 * Any other failure of fn aborts and returns fn's code. Call with no transaction open in this
 * thread. */
typedef int (*lc_kv_update_fn)(struct lc_kv_txn *txn, void *arg, struct lc_errbuf *err);
int lc_kv_update(struct lc_kv_env *env, lc_kv_update_fn fn, void *arg, struct lc_errbuf *err);

/* Composite keys: ns ‖ 0x00 ‖ key, so that all keys of one namespace (a chaincode name) are
 * contiguous and sorted by key, and a namespace is never mixed with one that extends its name
 * ("cc" keys all sort before "cc2" keys). ns must be non-empty and hold no 0x00 byte; key may
 * hold any bytes (Fabric's own composite keys contain 0x00) and may be empty. */

/* Writes ns ‖ 0x00 ‖ key into buf (cap bytes) and its length into *ret_len. Rejects a bad ns
 * (LC_EINVALID) and a result over cap (LC_ETOOBIG). */
int lc_kv_key_compose(void *buf, size_t cap, const char *ns, size_t ns_len, const void *key,
                      size_t key_len, size_t *ret_len, struct lc_errbuf *err);

/* Writes ns ‖ 0x01: the exclusive end of namespace ns, for a range [compose(ns, start), this)
 * that runs to the namespace's last key. Same rejections as lc_kv_key_compose(). */
int lc_kv_key_ns_end(void *buf, size_t cap, const char *ns, size_t ns_len, size_t *ret_len,
                     struct lc_errbuf *err);

/* Splits a composite key at its first 0x00; the results point into ckey. Rejects a key without
 * 0x00 or with an empty namespace (LC_EINVALID). */
int lc_kv_key_split(const void *ckey, size_t len, const char **ret_ns, size_t *ret_ns_len,
                    const void **ret_key, size_t *ret_key_len, struct lc_errbuf *err);

/* Big-endian u64 keys sort numerically (block numbers, heights). */
void lc_kv_key_u64(uint64_t v, uint8_t ret_key[8]);
uint64_t lc_kv_key_u64_get(const uint8_t key[8]);

#endif
