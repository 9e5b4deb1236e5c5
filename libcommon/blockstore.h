/* SPDX-License-Identifier: Apache-2.0 */
/* The orderer's append-only block store: one directory per channel, durable before served. */
#ifndef LC_BLOCKSTORE_H
#define LC_BLOCKSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "libcommon/err.h"
#include "libcommon/wire.h"

/*
 * Files, in the channel's directory:
 * - blocks.dat: the 8-byte magic "weftblk1", then one record per block, in block order:
 *   [u32 length][u32 CRC-32C of (length field ‖ block)][block: a serialized common.Block],
 *   integers little-endian. The block bytes are stored exactly as appended.
 * - blocks.idx: one u64 (little-endian) per block, the offset of its record in blocks.dat. It is
 *   derived data: if it is removed, the next open rebuilds it by reading every record.
 *
 * Durability. With LC_BLOCKSTORE_SYNC_EVERY (the default), append writes the record, calls
 * fdatasync() on blocks.dat, and only then writes the index entry and advances the height.
 * Readers (Deliver) see a block only once the height covers it, so they never serve a block that
 * a crash could take back. The index is not synced per block (it is synced at close): entries a
 * crash loses are rebuilt at open from the records after the last entry, which are read and
 * checked in full. LC_BLOCKSTORE_SYNC_NONE skips fdatasync() (tests, throwaway networks): a
 * machine crash may then lose recent blocks that were already served.
 *
 * Recovery at open:
 * - A torn last write (a partial record header, a length running past the end of the file, a
 *   zero length, or a bad checksum on the very last record, or garbage after it that does not
 *   form a valid record) is truncated away; the open succeeds and logs the byte count at debug.
 *   Only bytes after the last index entry are ever treated so.
 * - Anything else is refused with LC_ECORRUPT and a message naming the block and the problem:
 *   a bad checksum followed by a valid record, a length that disagrees with the index, an index
 *   that is not increasing or points past the data, a record that does not decode as a block, a
 *   block whose number or previous_hash breaks the chain, a foreign file (bad magic).
 * - The last verify_tail indexed blocks are read in full: checksum, decode, number, and each
 *   one's previous_hash against the header hash of the one before. Older blocks are checked
 *   (length and checksum) whenever lc_blockstore_get() reads them.
 *
 * Threads. One appender at a time (appends are serialized), any number of readers: get() uses
 * pread() and never blocks an append for longer than a pointer copy. Waiters block on a
 * condition variable until the height passes a number; subscribers get a callback per append.
 * A store directory is locked (flock) while open: a second open, in this or another process,
 * fails with LC_EUNAVAIL.
 */

struct lc_blockstore;
struct lc_blockstore_sub;

enum lc_blockstore_sync {
    LC_BLOCKSTORE_SYNC_EVERY = 0, /* fdatasync every block before it becomes visible */
    LC_BLOCKSTORE_SYNC_NONE,      /* never sync (not durable across a machine crash) */
};

struct lc_blockstore_options {
    enum lc_blockstore_sync sync;
    size_t max_block_size; /* appends over it are refused; 0: 256 MiB (also the hard maximum) */
    uint64_t verify_tail;  /* blocks checked in full at open; 0: 16; UINT64_MAX: all of them */
};

#define LC_BLOCKSTORE_MAX_BLOCK ((size_t)256 << 20)

/* Opens (creating if needed; the directory itself is created when only it is missing) the store
 * in dir, recovering a torn tail as described above. opts may be NULL for the defaults. Rejects
 * a bad path (-errno), a store open elsewhere (LC_EUNAVAIL), damage (LC_ECORRUPT), bad options
 * (LC_EINVALID). Caller closes with lc_blockstore_close(). */
int lc_blockstore_open(const char *dir, const struct lc_blockstore_options *opts,
                       struct lc_blockstore **ret_bs, struct lc_errbuf *err);

/* Wakes every waiter (they return LC_ECLOSED) and refuses further appends and waits. Safe to
 * call twice and from any thread. */
void lc_blockstore_shutdown(struct lc_blockstore *bs);

/* Shuts down, syncs the index and frees. No other thread may be inside a blockstore call, and
 * every subscription must have been removed. Accepts NULL. */
void lc_blockstore_close(struct lc_blockstore *bs);

/* Appends one serialized common.Block (len bytes at block, copied). Rejects an empty or
 * undecodable block (LC_EINVALID / LC_EDECODE), one over max_block_size (LC_ETOOBIG), a header
 * number other than the height or a previous_hash other than the tip's header hash
 * (LC_EMISMATCH). On return 0 the block is durable (per the sync policy) and visible. A write
 * or sync failure returns -errno and leaves the store refusing appends (LC_EUNAVAIL) until it
 * is reopened, which recovers the tail. After shutdown: LC_ECLOSED. */
int lc_blockstore_append(struct lc_blockstore *bs, const uint8_t *block, size_t len,
                         struct lc_errbuf *err);

/* Number of blocks stored (the next block's number). */
uint64_t lc_blockstore_height(struct lc_blockstore *bs);

/* Writes the header hash of the last block (the previous_hash the next block must carry);
 * LC_ENOTFOUND when the store is empty. */
int lc_blockstore_tip_hash(struct lc_blockstore *bs, uint8_t ret_hash[LC_WIRE_HASH_LEN]);

/* Reads block `number` into a malloc'd buffer (caller frees). LC_ENOTFOUND past the tip,
 * LC_ECORRUPT (naming the block) when its record fails its length or checksum check. */
int lc_blockstore_get(struct lc_blockstore *bs, uint64_t number, uint8_t **ret_block,
                      size_t *ret_len, struct lc_errbuf *err);

/* Blocks until block `number` exists (height > number) and returns 0 with the height in
 * *ret_height (may be NULL). timeout_ms < 0 waits without limit. Returns LC_ETIMEOUT when the
 * time passes, LC_ECLOSED after shutdown, -EINTR when lc_blockstore_kick() was called meanwhile
 * (so a Deliver stream can check whether its client went away). */
int lc_blockstore_wait(struct lc_blockstore *bs, uint64_t number, int timeout_ms,
                       uint64_t *ret_height);

/* Wakes every current waiter with -EINTR. */
void lc_blockstore_kick(struct lc_blockstore *bs);

/* Called after each append with the new height, on the appender's thread. It must be quick,
 * must not block, and must not subscribe or unsubscribe; it may call height/get/tip_hash. */
typedef void (*lc_blockstore_notify_fn)(void *arg, uint64_t height);

/* Registers fn(arg, height): LC_EINVALID for a NULL fn, -ENOMEM. Caller removes it with
 * lc_blockstore_unsubscribe(). */
int lc_blockstore_subscribe(struct lc_blockstore *bs, lc_blockstore_notify_fn fn, void *arg,
                            struct lc_blockstore_sub **ret_sub);

/* Removes sub; once this returns, its callback is not running and will not run again. Accepts
 * NULL. */
void lc_blockstore_unsubscribe(struct lc_blockstore *bs, struct lc_blockstore_sub *sub);

#endif
