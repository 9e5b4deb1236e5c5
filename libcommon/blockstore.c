/* SPDX-License-Identifier: Apache-2.0 */
/* Append-only block file with an offset index, torn-tail recovery and height waiters. */
#include "libcommon/blockstore.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "common/common.pb-c.h"
#include "libcommon/log.h"

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

#define DATA_FILE "blocks.dat"
#define INDEX_FILE "blocks.idx"
#define MAGIC "weftblk1"
#define MAGIC_LEN 8u
#define REC_HDR 8u
#define DEFAULT_VERIFY_TAIL 16u
#define MIN_OFFS_CAP 1024u

struct lc_blockstore_sub {
    lc_blockstore_notify_fn fn;
    void *arg;
    struct lc_blockstore_sub *next;
};

struct lc_blockstore {
    char *dir;
    int dfd; /* blocks.dat */
    int ifd; /* blocks.idx */
    enum lc_blockstore_sync sync;
    size_t max_block;

    pthread_mutex_t append_lock; /* one append at a time; guards broken */
    bool broken;                 /* a write or sync failed: appends refused until reopen */

    pthread_mutex_t lock; /* guards everything below; readers hold it only to copy offsets */
    pthread_cond_t cond;  /* broadcast on every height change, kick and shutdown */
    uint64_t *offs;       /* record offset of each block; capacity offs_cap */
    uint64_t offs_cap;
    uint64_t height;
    uint64_t data_end; /* end of the last complete record */
    uint8_t tip[LC_WIRE_HASH_LEN];
    uint64_t kicks;
    bool closed;

    pthread_mutex_t sub_lock; /* held while callbacks run, so unsubscribe waits for them */
    struct lc_blockstore_sub *subs;
};

/* ---- CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) ---- */

/* Filled once by pthread_once and read-only afterwards. */
static uint32_t crc_tab[8][256];
static bool crc_hw;
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static uint32_t crc32c_sw(uint32_t crc, const uint8_t *p, size_t n)
{
    uint32_t c = ~crc;
    while (n >= 8) {
        uint32_t lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                           (uint32_t)p[3] << 24);
        c = crc_tab[7][lo & 0xff] ^ crc_tab[6][(lo >> 8) & 0xff] ^ crc_tab[5][(lo >> 16) & 0xff] ^
            crc_tab[4][lo >> 24] ^ crc_tab[3][p[4]] ^ crc_tab[2][p[5]] ^ crc_tab[1][p[6]] ^
            crc_tab[0][p[7]];
        p += 8;
        n -= 8;
    }
    while (n--)
        c = crc_tab[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    return ~c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t crc, const uint8_t *p,
                                                            size_t n)
{
    uint64_t c = ~crc;
    while (n && ((uintptr_t)p & 7)) {
        c = _mm_crc32_u8((uint32_t)c, *p++);
        n--;
    }
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c = _mm_crc32_u64(c, v);
        p += 8;
        n -= 8;
    }
    while (n--)
        c = _mm_crc32_u8((uint32_t)c, *p++);
    return ~(uint32_t)c;
}
#endif

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        crc_tab[0][i] = c;
    }
    for (int t = 1; t < 8; t++)
        for (int i = 0; i < 256; i++)
            crc_tab[t][i] = (crc_tab[t - 1][i] >> 8) ^ crc_tab[0][crc_tab[t - 1][i] & 0xff];
    assert(crc32c_sw(0, (const uint8_t *)"123456789", 9) == 0xE3069283u);
#if defined(__x86_64__)
    crc_hw = __builtin_cpu_supports("sse4.2");
    assert(!crc_hw || crc32c_hw(0, (const uint8_t *)"123456789", 9) == 0xE3069283u);
#endif
}

/* Continues crc (0 to start) over n bytes. */
static uint32_t crc32c(uint32_t crc, const uint8_t *p, size_t n)
{
    pthread_once(&crc_once, crc_init);
#if defined(__x86_64__)
    if (crc_hw)
        return crc32c_hw(crc, p, n);
#endif
    return crc32c_sw(crc, p, n);
}

/* ---- little-endian integers and whole-buffer I/O ---- */

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Reads up to n bytes at off; returns the count (short only at end of file) or -errno. */
static ssize_t pread_full(int fd, void *buf, size_t n, uint64_t off)
{
    size_t done = 0;
    while (done < n) {
        ssize_t k = pread(fd, (char *)buf + done, n - done, (off_t)(off + done));
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -errno;
        if (k == 0)
            break;
        done += (size_t)k;
    }
    return (ssize_t)done;
}

/* Writes all of iov[0..cnt) at off; returns 0 or -errno. */
static int pwrite_full(int fd, struct iovec *iov, int cnt, uint64_t off)
{
    while (cnt > 0) {
        ssize_t k = pwritev(fd, iov, cnt, (off_t)off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -errno;
        if (k == 0)
            return -EIO;
        off += (uint64_t)k;
        size_t left = (size_t)k;
        while (cnt > 0 && left >= iov->iov_len) {
            left -= iov->iov_len;
            iov++;
            cnt--;
        }
        if (cnt > 0) {
            iov->iov_base = (char *)iov->iov_base + left;
            iov->iov_len -= left;
        }
    }
    return 0;
}

/* ---- records ---- */

enum rec_state { REC_OK, REC_SHORT_HDR, REC_BAD_LEN, REC_SHORT_DATA, REC_BAD_CRC };

static const char *rec_state_str(enum rec_state st)
{
    switch (st) {
    case REC_OK:
        return "ok";
    case REC_SHORT_HDR:
        return "record header cut short";
    case REC_BAD_LEN:
        return "record length out of range";
    case REC_SHORT_DATA:
        return "record runs past the end";
    case REC_BAD_CRC:
        return "checksum mismatch";
    }
    return "?";
}

static uint32_t rec_crc(const uint8_t hdr[REC_HDR], const uint8_t *body, size_t len)
{
    return crc32c(crc32c(0, hdr, 4), body, len);
}

/* Reads the record at off, which must end by limit. Returns -errno on an I/O error, else 0 with
 * *ret_state; *ret_len is the header's length once the header was read; on REC_OK *ret_body is
 * the malloc'd block (caller frees). */
static int rec_read(int fd, uint64_t off, uint64_t limit, uint8_t **ret_body, uint32_t *ret_len,
                    enum rec_state *ret_state)
{
    *ret_len = 0;
    if (limit < off || limit - off < REC_HDR) {
        *ret_state = REC_SHORT_HDR;
        return 0;
    }
    uint8_t hdr[REC_HDR];
    ssize_t k = pread_full(fd, hdr, sizeof hdr, off);
    if (k < 0)
        return (int)k;
    if ((size_t)k < sizeof hdr) {
        *ret_state = REC_SHORT_HDR;
        return 0;
    }
    uint32_t len = get_le32(hdr);
    *ret_len = len;
    if (len == 0 || len > LC_BLOCKSTORE_MAX_BLOCK) {
        *ret_state = REC_BAD_LEN;
        return 0;
    }
    if (len > limit - off - REC_HDR) {
        *ret_state = REC_SHORT_DATA;
        return 0;
    }
    uint8_t *body = malloc(len);
    if (!body)
        return -ENOMEM;
    k = pread_full(fd, body, len, off + REC_HDR);
    if (k < 0) {
        free(body);
        return (int)k;
    }
    if ((size_t)k < len) {
        free(body);
        *ret_state = REC_SHORT_DATA;
        return 0;
    }
    if (rec_crc(hdr, body, len) != get_le32(hdr + 4)) {
        free(body);
        *ret_state = REC_BAD_CRC;
        return 0;
    }
    *ret_body = body;
    *ret_state = REC_OK;
    return 0;
}

/* Decodes body as block `number` and, when prev is not NULL, checks its previous_hash against
 * prev. Writes the block's header hash into ret_hash. */
static int check_block(uint64_t number, const uint8_t *body, size_t len, const uint8_t *prev,
                       uint8_t ret_hash[LC_WIRE_HASH_LEN], struct lc_errbuf *err)
{
    Common__Block *b = NULL;
    int r = lc_wire_unpack(&common__block__descriptor, body, len, (ProtobufCMessage **)&b, err);
    if (r < 0)
        return r;
    if (!b->header) {
        r = lc_fail(err, LC_EINVALID, "common.Block has no header");
        goto out;
    }
    if (b->header->number != number) {
        r = lc_fail(err, LC_EMISMATCH, "header number %llu, expected %llu",
                    (unsigned long long)b->header->number, (unsigned long long)number);
        goto out;
    }
    if (prev && (b->header->previous_hash.len != LC_WIRE_HASH_LEN ||
                 memcmp(b->header->previous_hash.data, prev, LC_WIRE_HASH_LEN) != 0)) {
        r = lc_fail(err, LC_EMISMATCH,
                    "previous_hash (%zu bytes) is not the header hash of block %llu",
                    b->header->previous_hash.len, (unsigned long long)number - 1);
        goto out;
    }
    r = lc_wire_header_hash(b->header, ret_hash);
    if (r < 0)
        r = lc_fail(err, r, "header hash: %s", lc_strerror(r));
out:
    lc_wire_block_free(b);
    return r;
}

/* Grows offs to hold at least n entries. Caller holds bs->lock (or is the only user). */
static int offs_reserve(struct lc_blockstore *bs, uint64_t n)
{
    if (n <= bs->offs_cap)
        return 0;
    uint64_t cap = bs->offs_cap ? bs->offs_cap : MIN_OFFS_CAP;
    while (cap < n)
        cap *= 2;
    if (cap > SIZE_MAX / sizeof *bs->offs)
        return -ENOMEM;
    uint64_t *p = realloc(bs->offs, (size_t)cap * sizeof *p);
    if (!p)
        return -ENOMEM;
    bs->offs = p;
    bs->offs_cap = cap;
    return 0;
}

static int index_write(struct lc_blockstore *bs, uint64_t number, uint64_t off)
{
    uint8_t e[8];
    put_le64(e, off);
    struct iovec iov = {.iov_base = e, .iov_len = sizeof e};
    return pwrite_full(bs->ifd, &iov, 1, number * 8);
}

/* ---- open and recovery ---- */

#define CORRUPT(...) lc_fail(err, LC_ECORRUPT, __VA_ARGS__)

/* Checks the magic, starting a fresh file when blocks.dat holds no more than a torn magic. */
static int recover_magic(struct lc_blockstore *bs, uint64_t *dsize, uint64_t isize,
                         struct lc_errbuf *err)
{
    uint8_t m[MAGIC_LEN];
    size_t have = *dsize < MAGIC_LEN ? (size_t)*dsize : MAGIC_LEN;
    ssize_t k = pread_full(bs->dfd, m, have, 0);
    if (k < 0)
        return lc_fail(err, (int)k, "blockstore %s: read " DATA_FILE ": %s", bs->dir,
                       strerror((int)-k));
    if ((size_t)k != have)
        return CORRUPT("blockstore %s: " DATA_FILE " shrank while opening", bs->dir);
    if (memcmp(m, MAGIC, have) != 0)
        return CORRUPT("blockstore %s: " DATA_FILE " is not a weft block file (bad magic)",
                       bs->dir);
    if (have == MAGIC_LEN)
        return 0;
    if (isize >= 8)
        return CORRUPT("blockstore %s: " DATA_FILE " holds no blocks but " INDEX_FILE " lists %llu",
                       bs->dir, (unsigned long long)(isize / 8));
    struct iovec iov = {.iov_base = (void *)MAGIC, .iov_len = MAGIC_LEN};
    int r = pwrite_full(bs->dfd, &iov, 1, 0);
    if (r == 0 && fdatasync(bs->dfd) != 0)
        r = -errno;
    if (r < 0)
        return lc_fail(err, r, "blockstore %s: write " DATA_FILE " header: %s", bs->dir,
                       strerror(-r));
    *dsize = MAGIC_LEN;
    return 0;
}

/* Loads blocks.idx into bs->offs and checks it is increasing and inside blocks.dat. */
static int load_index(struct lc_blockstore *bs, uint64_t isize, uint64_t dsize, uint64_t *ret_n,
                      struct lc_errbuf *err)
{
    if (isize % 8) {
        lc_log_debug("blockstore", "truncating torn index entry dir=%s bytes=%llu", bs->dir,
                     (unsigned long long)(isize % 8));
        isize -= isize % 8;
        if (ftruncate(bs->ifd, (off_t)isize) != 0)
            return lc_fail(err, -errno, "blockstore %s: truncate " INDEX_FILE ": %s", bs->dir,
                           strerror(errno));
    }
    uint64_t n = isize / 8;
    if (offs_reserve(bs, n + 1) < 0)
        return lc_fail(err, -ENOMEM, "blockstore %s: index of %llu blocks: out of memory", bs->dir,
                       (unsigned long long)n);
    ssize_t k = pread_full(bs->ifd, bs->offs, (size_t)isize, 0);
    if (k < 0)
        return lc_fail(err, (int)k, "blockstore %s: read " INDEX_FILE ": %s", bs->dir,
                       strerror((int)-k));
    if ((uint64_t)k != isize)
        return CORRUPT("blockstore %s: " INDEX_FILE " shrank while opening", bs->dir);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t off = get_le64((const uint8_t *)&bs->offs[i]);
        bs->offs[i] = off;
        if (i == 0 && off != MAGIC_LEN)
            return CORRUPT("blockstore %s: block 0: " INDEX_FILE " gives offset %llu, not %u",
                           bs->dir, (unsigned long long)off, MAGIC_LEN);
        if (i > 0 && (off < bs->offs[i - 1] || off - bs->offs[i - 1] <= REC_HDR))
            return CORRUPT("blockstore %s: block %llu: " INDEX_FILE " offset %llu does not "
                           "follow block %llu's (%llu)",
                           bs->dir, (unsigned long long)i, (unsigned long long)off,
                           (unsigned long long)i - 1, (unsigned long long)bs->offs[i - 1]);
        if (off > dsize || dsize - off < REC_HDR)
            return CORRUPT(
                "blockstore %s: block %llu: " INDEX_FILE " points past the end of " DATA_FILE
                " (offset %llu, size %llu); if the store ran without "
                "fsync, remove " INDEX_FILE " to rebuild it from the data",
                bs->dir, (unsigned long long)i, (unsigned long long)off, (unsigned long long)dsize);
    }
    *ret_n = n;
    return 0;
}

/* Reads indexed blocks [start, n) in full and checks their chain; returns the end of block
 * n-1's record in *ret_end and its header hash in bs->tip. */
static int verify_indexed_tail(struct lc_blockstore *bs, uint64_t n, uint64_t dsize,
                               uint64_t verify, uint64_t *ret_end, struct lc_errbuf *err)
{
    uint64_t start = verify >= n ? 0 : n - verify - 1; /* one more: its hash anchors the chain */
    uint8_t prev[LC_WIRE_HASH_LEN] = {0};
    bool have_prev = false;
    uint64_t end = MAGIC_LEN;
    for (uint64_t i = start; i < n; i++) {
        uint64_t off = bs->offs[i];
        uint64_t limit = i + 1 < n ? bs->offs[i + 1] : dsize;
        uint8_t *body = NULL;
        uint32_t len;
        enum rec_state st;
        int r = rec_read(bs->dfd, off, limit, &body, &len, &st);
        if (r < 0)
            return lc_fail(err, r, "blockstore %s: block %llu: read: %s", bs->dir,
                           (unsigned long long)i, strerror(-r));
        if (st != REC_OK)
            return CORRUPT("blockstore %s: block %llu at offset %llu: %s (length %u, %s)", bs->dir,
                           (unsigned long long)i, (unsigned long long)off, rec_state_str(st), len,
                           i + 1 < n ? "up to the next indexed block" : "end of " DATA_FILE);
        if (i + 1 < n && limit - off != REC_HDR + (uint64_t)len) {
            free(body);
            return CORRUPT(
                "blockstore %s: block %llu at offset %llu: length %u does not match " INDEX_FILE
                " (%llu bytes to block %llu)",
                bs->dir, (unsigned long long)i, (unsigned long long)off, len,
                (unsigned long long)(limit - off), (unsigned long long)i + 1);
        }
        struct lc_errbuf why;
        r = check_block(i, body, len, have_prev ? prev : NULL, prev, &why);
        free(body);
        if (r == -ENOMEM)
            return lc_fail(err, r, "blockstore %s: block %llu: out of memory", bs->dir,
                           (unsigned long long)i);
        if (r < 0)
            return CORRUPT("blockstore %s: block %llu at offset %llu: %s", bs->dir,
                           (unsigned long long)i, (unsigned long long)off, why.msg);
        have_prev = true;
        end = off + REC_HDR + len;
    }
    if (n)
        memcpy(bs->tip, prev, sizeof prev);
    *ret_end = end;
    return 0;
}

/* True when a complete record with a good checksum starts at off. */
static bool valid_record_at(int fd, uint64_t off, uint64_t dsize)
{
    uint8_t *body = NULL;
    uint32_t len;
    enum rec_state st;
    if (rec_read(fd, off, dsize, &body, &len, &st) < 0 || st != REC_OK)
        return false;
    free(body);
    return true;
}

/* Reads every record after the last indexed one: complete, valid records are indexed, a torn
 * last write is cut off, anything else is corruption. */
static int recover_unindexed(struct lc_blockstore *bs, uint64_t n, uint64_t pos, uint64_t dsize,
                             struct lc_errbuf *err)
{
    uint64_t added = 0;
    int r = 0;
    while (pos < dsize) {
        uint8_t *body = NULL;
        uint32_t len;
        enum rec_state st;
        r = rec_read(bs->dfd, pos, dsize, &body, &len, &st);
        if (r < 0)
            return lc_fail(err, r, "blockstore %s: read at offset %llu: %s", bs->dir,
                           (unsigned long long)pos, strerror(-r));
        if (st == REC_BAD_CRC) {
            uint64_t after = pos + REC_HDR + len;
            if (after < dsize && valid_record_at(bs->dfd, after, dsize))
                return CORRUPT("blockstore %s: block %llu at offset %llu: checksum mismatch, "
                               "with a valid record after it",
                               bs->dir, (unsigned long long)n, (unsigned long long)pos);
        }
        if (st != REC_OK) {
            /* The last write was cut short: nothing after it was ever acknowledged. */
            lc_log_debug("blockstore",
                         "truncating torn tail dir=%s block=%llu offset=%llu bytes=%llu "
                         "cause=\"%s\"",
                         bs->dir, (unsigned long long)n, (unsigned long long)pos,
                         (unsigned long long)(dsize - pos), rec_state_str(st));
            if (ftruncate(bs->dfd, (off_t)pos) != 0 || fdatasync(bs->dfd) != 0)
                return lc_fail(err, -errno, "blockstore %s: truncate torn tail: %s", bs->dir,
                               strerror(errno));
            break;
        }
        struct lc_errbuf why;
        uint8_t hash[LC_WIRE_HASH_LEN];
        r = check_block(n, body, len, n ? bs->tip : NULL, hash, &why);
        free(body);
        if (r == -ENOMEM)
            return lc_fail(err, r, "blockstore %s: block %llu: out of memory", bs->dir,
                           (unsigned long long)n);
        if (r < 0)
            return CORRUPT("blockstore %s: block %llu at offset %llu (not yet indexed): %s",
                           bs->dir, (unsigned long long)n, (unsigned long long)pos, why.msg);
        if (offs_reserve(bs, n + 2) < 0)
            return lc_fail(err, -ENOMEM, "blockstore %s: index: out of memory", bs->dir);
        r = index_write(bs, n, pos);
        if (r < 0)
            return lc_fail(err, r, "blockstore %s: write " INDEX_FILE ": %s", bs->dir,
                           strerror(-r));
        bs->offs[n++] = pos;
        memcpy(bs->tip, hash, sizeof hash);
        pos += REC_HDR + len;
        added++;
    }
    if (added) {
        if (fdatasync(bs->ifd) != 0)
            return lc_fail(err, -errno, "blockstore %s: sync " INDEX_FILE ": %s", bs->dir,
                           strerror(errno));
        lc_log_debug("blockstore", "indexed unindexed blocks dir=%s count=%llu height=%llu",
                     bs->dir, (unsigned long long)added, (unsigned long long)n);
    }
    bs->height = n;
    bs->data_end = pos;
    return 0;
}

static int recover(struct lc_blockstore *bs, uint64_t verify, struct lc_errbuf *err)
{
    struct stat ds, is;
    if (fstat(bs->dfd, &ds) != 0 || fstat(bs->ifd, &is) != 0)
        return lc_fail(err, -errno, "blockstore %s: stat: %s", bs->dir, strerror(errno));
    uint64_t dsize = (uint64_t)ds.st_size, isize = (uint64_t)is.st_size;
    int r = recover_magic(bs, &dsize, isize, err);
    if (r < 0)
        return r;
    uint64_t n = 0;
    r = load_index(bs, isize, dsize, &n, err);
    if (r < 0)
        return r;
    uint64_t end = MAGIC_LEN;
    r = verify_indexed_tail(bs, n, dsize, verify, &end, err);
    if (r < 0)
        return r;
    return recover_unindexed(bs, n, end, dsize, err);
}

static int ensure_dir(const char *dir, struct lc_errbuf *err)
{
    struct stat st;
    if (stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            return lc_fail(err, -ENOTDIR, "blockstore %s: not a directory", dir);
        return 0;
    }
    int e = errno;
    if (e == ENOENT && mkdir(dir, 0750) == 0)
        return 0;
    if (e == ENOENT)
        e = errno;
    return lc_fail(err, -e, "blockstore %s: %s", dir, strerror(e));
}

static int open_file(struct lc_blockstore *bs, int dirfd, const char *name, int *ret_fd,
                     struct lc_errbuf *err)
{
    int fd = openat(dirfd, name, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0)
        return lc_fail(err, -errno, "blockstore %s: open %s: %s", bs->dir, name, strerror(errno));
    *ret_fd = fd;
    return 0;
}

int lc_blockstore_open(const char *dir, const struct lc_blockstore_options *opts,
                       struct lc_blockstore **ret_bs, struct lc_errbuf *err)
{
    static const struct lc_blockstore_options defaults = {0};
    if (!opts)
        opts = &defaults;
    if (!dir || !*dir)
        return lc_fail(err, LC_EINVALID, "blockstore: empty path");
    if (opts->sync != LC_BLOCKSTORE_SYNC_EVERY && opts->sync != LC_BLOCKSTORE_SYNC_NONE)
        return lc_fail(err, LC_EINVALID, "blockstore options: unknown sync policy %d",
                       (int)opts->sync);
    if (opts->max_block_size > LC_BLOCKSTORE_MAX_BLOCK)
        return lc_fail(err, LC_EINVALID, "blockstore options: max_block_size %zu over %zu",
                       opts->max_block_size, LC_BLOCKSTORE_MAX_BLOCK);
    int r = ensure_dir(dir, err);
    if (r < 0)
        return r;

    struct lc_blockstore *bs = calloc(1, sizeof *bs);
    if (!bs)
        return lc_fail(err, -ENOMEM, "blockstore %s: out of memory", dir);
    bs->dfd = bs->ifd = -1;
    int dirfd = -1;
    bool locks = false;
    bs->sync = opts->sync;
    bs->max_block = opts->max_block_size ? opts->max_block_size : LC_BLOCKSTORE_MAX_BLOCK;
    bs->dir = strdup(dir);
    if (!bs->dir) {
        r = lc_fail(err, -ENOMEM, "blockstore %s: out of memory", dir);
        goto fail;
    }
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0) {
        r = lc_fail(err, -ENOMEM, "blockstore %s: condition attributes", dir);
        goto fail;
    }
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (pthread_mutex_init(&bs->append_lock, NULL) || pthread_mutex_init(&bs->lock, NULL) ||
        pthread_mutex_init(&bs->sub_lock, NULL) || pthread_cond_init(&bs->cond, &ca)) {
        pthread_condattr_destroy(&ca);
        r = lc_fail(err, -ENOMEM, "blockstore %s: locks", dir);
        goto fail; /* glibc's init of these cannot fail with default attributes */
    }
    pthread_condattr_destroy(&ca);
    locks = true;

    dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) {
        r = lc_fail(err, -errno, "blockstore %s: %s", dir, strerror(errno));
        goto fail;
    }
    r = open_file(bs, dirfd, DATA_FILE, &bs->dfd, err);
    if (r < 0)
        goto fail;
    if (flock(bs->dfd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        r = e == EWOULDBLOCK ? lc_fail(err, LC_EUNAVAIL, "blockstore %s: in use (locked)", dir)
                             : lc_fail(err, -e, "blockstore %s: lock: %s", dir, strerror(e));
        goto fail;
    }
    r = open_file(bs, dirfd, INDEX_FILE, &bs->ifd, err);
    if (r < 0)
        goto fail;
    if (fsync(dirfd) != 0) { /* the files' directory entries, if they were just created */
        r = lc_fail(err, -errno, "blockstore %s: sync directory: %s", dir, strerror(errno));
        goto fail;
    }
    r = recover(bs, opts->verify_tail ? opts->verify_tail : DEFAULT_VERIFY_TAIL, err);
    if (r < 0)
        goto fail;
    close(dirfd);
    lc_log_debug("blockstore", "open dir=%s height=%llu size=%llu", dir,
                 (unsigned long long)bs->height, (unsigned long long)bs->data_end);
    *ret_bs = bs;
    return 0;

fail:
    if (dirfd >= 0)
        close(dirfd);
    if (bs->ifd >= 0)
        close(bs->ifd);
    if (bs->dfd >= 0)
        close(bs->dfd);
    if (locks) {
        pthread_cond_destroy(&bs->cond);
        pthread_mutex_destroy(&bs->sub_lock);
        pthread_mutex_destroy(&bs->lock);
        pthread_mutex_destroy(&bs->append_lock);
    }
    free(bs->offs);
    free(bs->dir);
    free(bs);
    return r;
}

void lc_blockstore_shutdown(struct lc_blockstore *bs)
{
    pthread_mutex_lock(&bs->lock);
    bs->closed = true;
    pthread_cond_broadcast(&bs->cond);
    pthread_mutex_unlock(&bs->lock);
}

void lc_blockstore_close(struct lc_blockstore *bs)
{
    if (!bs)
        return;
    lc_blockstore_shutdown(bs);
    assert(!bs->subs);
    if (fdatasync(bs->ifd) != 0)
        lc_log_debug("blockstore", "index sync failed at close dir=%s errno=%d", bs->dir, errno);
    close(bs->ifd);
    close(bs->dfd);
    pthread_cond_destroy(&bs->cond);
    pthread_mutex_destroy(&bs->sub_lock);
    pthread_mutex_destroy(&bs->lock);
    pthread_mutex_destroy(&bs->append_lock);
    lc_log_debug("blockstore", "closed dir=%s height=%llu", bs->dir,
                 (unsigned long long)bs->height);
    free(bs->offs);
    free(bs->dir);
    free(bs);
}

/* ---- append ---- */

static void notify(struct lc_blockstore *bs, uint64_t height)
{
    pthread_mutex_lock(&bs->sub_lock);
    for (struct lc_blockstore_sub *s = bs->subs; s; s = s->next)
        s->fn(s->arg, height);
    pthread_mutex_unlock(&bs->sub_lock);
}

int lc_blockstore_append(struct lc_blockstore *bs, const uint8_t *block, size_t len,
                         struct lc_errbuf *err)
{
    if (!block || len == 0)
        return lc_fail(err, LC_EINVALID, "blockstore %s: empty block", bs->dir);
    if (len > bs->max_block)
        return lc_fail(err, LC_ETOOBIG, "blockstore %s: block of %zu bytes over the limit of %zu",
                       bs->dir, len, bs->max_block);

    pthread_mutex_lock(&bs->append_lock);
    pthread_mutex_lock(&bs->lock);
    bool closed = bs->closed;
    uint64_t n = bs->height, off = bs->data_end;
    uint8_t tip[LC_WIRE_HASH_LEN];
    memcpy(tip, bs->tip, sizeof tip);
    /* Reserve the index slot now, so nothing can fail once the block is on disk. */
    int r = closed ? 0 : offs_reserve(bs, n + 1);
    pthread_mutex_unlock(&bs->lock);
    if (closed) {
        r = lc_fail(err, LC_ECLOSED, "blockstore %s: shut down", bs->dir);
        goto out;
    }
    if (bs->broken) {
        r = lc_fail(err, LC_EUNAVAIL, "blockstore %s: a write failed earlier; reopen to recover",
                    bs->dir);
        goto out;
    }
    if (r < 0) {
        r = lc_fail(err, r, "blockstore %s: index: out of memory", bs->dir);
        goto out;
    }

    uint8_t hash[LC_WIRE_HASH_LEN];
    struct lc_errbuf why;
    r = check_block(n, block, len, n ? tip : NULL, hash, &why);
    if (r < 0) {
        r = lc_fail(err, r, "blockstore %s: block %llu refused: %s", bs->dir, (unsigned long long)n,
                    why.msg);
        goto out;
    }

    uint8_t hdr[REC_HDR];
    put_le32(hdr, (uint32_t)len);
    put_le32(hdr + 4, rec_crc(hdr, block, len));
    struct iovec iov[2] = {{.iov_base = hdr, .iov_len = sizeof hdr},
                           {.iov_base = (void *)block, .iov_len = len}};
    r = pwrite_full(bs->dfd, iov, 2, off);
    if (r < 0) {
        /* Drop the partial record so the file ends at the last complete one again. */
        if (ftruncate(bs->dfd, (off_t)off) != 0)
            bs->broken = true;
        r = lc_fail(err, r, "blockstore %s: write block %llu: %s", bs->dir, (unsigned long long)n,
                    strerror(-r));
        goto out;
    }
    /* After a failed fdatasync the kernel may have dropped the dirty pages: nothing about the
     * file can be trusted until a reopen re-reads it. */
    if (bs->sync == LC_BLOCKSTORE_SYNC_EVERY && fdatasync(bs->dfd) != 0) {
        int e = errno;
        bs->broken = true;
        r = lc_fail(err, -e, "blockstore %s: sync block %llu: %s", bs->dir, (unsigned long long)n,
                    strerror(e));
        goto out;
    }
    r = index_write(bs, n, off);
    if (r < 0) {
        bs->broken = true;
        r = lc_fail(err, r, "blockstore %s: index block %llu: %s", bs->dir, (unsigned long long)n,
                    strerror(-r));
        goto out;
    }

    pthread_mutex_lock(&bs->lock);
    bs->offs[n] = off;
    bs->data_end = off + REC_HDR + len;
    memcpy(bs->tip, hash, sizeof hash);
    bs->height = n + 1;
    pthread_cond_broadcast(&bs->cond);
    pthread_mutex_unlock(&bs->lock);
    notify(bs, n + 1);
    r = 0;
out:
    pthread_mutex_unlock(&bs->append_lock);
    return r;
}

/* ---- readers ---- */

uint64_t lc_blockstore_height(struct lc_blockstore *bs)
{
    pthread_mutex_lock(&bs->lock);
    uint64_t h = bs->height;
    pthread_mutex_unlock(&bs->lock);
    return h;
}

int lc_blockstore_tip_hash(struct lc_blockstore *bs, uint8_t ret_hash[LC_WIRE_HASH_LEN])
{
    pthread_mutex_lock(&bs->lock);
    int r = bs->height ? 0 : LC_ENOTFOUND;
    if (r == 0)
        memcpy(ret_hash, bs->tip, LC_WIRE_HASH_LEN);
    pthread_mutex_unlock(&bs->lock);
    return r;
}

int lc_blockstore_get(struct lc_blockstore *bs, uint64_t number, uint8_t **ret_block,
                      size_t *ret_len, struct lc_errbuf *err)
{
    pthread_mutex_lock(&bs->lock);
    uint64_t h = bs->height, off = 0, end = 0;
    if (number < h) {
        off = bs->offs[number];
        end = number + 1 < h ? bs->offs[number + 1] : bs->data_end;
    }
    pthread_mutex_unlock(&bs->lock);
    if (number >= h)
        return lc_fail(err, LC_ENOTFOUND, "blockstore %s: no block %llu (height %llu)", bs->dir,
                       (unsigned long long)number, (unsigned long long)h);
    uint8_t *body = NULL;
    uint32_t len;
    enum rec_state st;
    int r = rec_read(bs->dfd, off, end, &body, &len, &st);
    if (r < 0)
        return lc_fail(err, r, "blockstore %s: block %llu: read: %s", bs->dir,
                       (unsigned long long)number, strerror(-r));
    if (st == REC_OK && end - off != REC_HDR + (uint64_t)len) {
        free(body);
        return CORRUPT(
            "blockstore %s: block %llu at offset %llu: length %u does not match " INDEX_FILE,
            bs->dir, (unsigned long long)number, (unsigned long long)off, len);
    }
    if (st != REC_OK)
        return CORRUPT("blockstore %s: block %llu at offset %llu: %s", bs->dir,
                       (unsigned long long)number, (unsigned long long)off, rec_state_str(st));
    *ret_block = body;
    *ret_len = len;
    return 0;
}

int lc_blockstore_wait(struct lc_blockstore *bs, uint64_t number, int timeout_ms,
                       uint64_t *ret_height)
{
    struct timespec deadline = {0};
    if (timeout_ms >= 0) {
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += timeout_ms / 1000;
        deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
    }
    int r = 0;
    pthread_mutex_lock(&bs->lock);
    uint64_t kicks = bs->kicks;
    while (bs->height <= number) {
        if (bs->closed) {
            r = LC_ECLOSED;
            break;
        }
        if (bs->kicks != kicks) {
            r = -EINTR;
            break;
        }
        if (timeout_ms < 0) {
            pthread_cond_wait(&bs->cond, &bs->lock);
        } else if (pthread_cond_timedwait(&bs->cond, &bs->lock, &deadline) == ETIMEDOUT) {
            if (bs->height <= number)
                r = LC_ETIMEOUT;
            break;
        }
    }
    uint64_t h = bs->height;
    pthread_mutex_unlock(&bs->lock);
    if (r == 0 && ret_height)
        *ret_height = h;
    return r;
}

void lc_blockstore_kick(struct lc_blockstore *bs)
{
    pthread_mutex_lock(&bs->lock);
    bs->kicks++;
    pthread_cond_broadcast(&bs->cond);
    pthread_mutex_unlock(&bs->lock);
}

int lc_blockstore_subscribe(struct lc_blockstore *bs, lc_blockstore_notify_fn fn, void *arg,
                            struct lc_blockstore_sub **ret_sub)
{
    if (!fn)
        return LC_EINVALID;
    struct lc_blockstore_sub *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->fn = fn;
    s->arg = arg;
    pthread_mutex_lock(&bs->sub_lock);
    s->next = bs->subs;
    bs->subs = s;
    pthread_mutex_unlock(&bs->sub_lock);
    *ret_sub = s;
    return 0;
}

void lc_blockstore_unsubscribe(struct lc_blockstore *bs, struct lc_blockstore_sub *sub)
{
    if (!sub)
        return;
    pthread_mutex_lock(&bs->sub_lock);
    for (struct lc_blockstore_sub **p = &bs->subs; *p; p = &(*p)->next) {
        if (*p == sub) {
            *p = sub->next;
            break;
        }
    }
    pthread_mutex_unlock(&bs->sub_lock);
    free(sub);
}
