/* SPDX-License-Identifier: Apache-2.0 */
/* MVCC in block order: point reads and range re-scans against state plus the block's writes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "libcommon/crypto.h"
#include "libcommon/state.h"
#include "libcommon/wire.h"

#include "committer.h"

/* Most writes one block may hold in its batch. */
#define MAX_BATCH (1u << 20)

/* A write of an earlier valid transaction of the block; ns and key borrow the tx's decode. */
struct bentry {
    const char *ns;
    const uint8_t *key;
    size_t key_len;
    bool is_delete;
    struct lc_state_version ver;
};

/* Kept sorted by (ns, key) so range re-scans can merge it with the state. */
struct committer_batch {
    struct bentry *e;
    size_t n, cap;
};

int committer_batch_new(struct committer_batch **ret)
{
    struct committer_batch *b = calloc(1, sizeof *b);
    if (!b)
        return -ENOMEM;
    *ret = b;
    return 0;
}

void committer_batch_free(struct committer_batch *b)
{
    if (!b)
        return;
    free(b->e);
    free(b);
}

static int keycmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    if (c)
        return c;
    return al < bl ? -1 : al > bl;
}

static int entcmp(const char *ns, const uint8_t *k, size_t kl, const struct bentry *e)
{
    int c = strcmp(ns, e->ns);
    return c ? c : keycmp(k, kl, e->key, e->key_len);
}

/* Index of the first entry >= (ns, key). */
static size_t lower_bound(const struct committer_batch *b, const char *ns, const uint8_t *k,
                          size_t kl)
{
    size_t lo = 0, hi = b->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (entcmp(ns, k, kl, &b->e[mid]) > 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static const struct bentry *batch_find(const struct committer_batch *b, const char *ns,
                                       const uint8_t *k, size_t kl)
{
    size_t i = lower_bound(b, ns, k, kl);
    return i < b->n && entcmp(ns, k, kl, &b->e[i]) == 0 ? &b->e[i] : NULL;
}

static int batch_put(struct committer_batch *b, const struct bentry *ne)
{
    size_t i = lower_bound(b, ne->ns, ne->key, ne->key_len);
    if (i < b->n && entcmp(ne->ns, ne->key, ne->key_len, &b->e[i]) == 0) {
        b->e[i] = *ne;
        return 0;
    }
    if (b->n == b->cap) {
        if (b->cap >= MAX_BATCH)
            return LC_ETOOBIG;
        size_t nc = b->cap ? 2 * b->cap : 64;
        struct bentry *e = realloc(b->e, nc * sizeof *e);
        if (!e)
            return -ENOMEM;
        b->e = e;
        b->cap = nc;
    }
    memmove(&b->e[i + 1], &b->e[i], (b->n - i) * sizeof *b->e);
    b->e[i] = *ne;
    b->n++;
    return 0;
}

static bool ver_eq(const Kvrwset__Version *v, const struct lc_state_version *s)
{
    return v && v->block_num == s->block && v->tx_num == s->tx;
}

/* 1 when the point read r of ns still holds, 0 on a conflict, < 0 on a state error. */
static int read_ok(const struct lc_state *st, struct lc_kv_txn *rtx,
                   const struct committer_batch *b, const char *ns, const Kvrwset__KVRead *r,
                   struct lc_errbuf *err)
{
    size_t kl = strlen(r->key);
    if (batch_find(b, ns, (const uint8_t *)r->key, kl))
        return 0; /* an earlier valid tx of this block wrote or deleted it */
    const uint8_t *val;
    size_t vl;
    struct lc_state_version ver;
    int rc = lc_state_get(st, rtx, ns, r->key, kl, &val, &vl, &ver, err);
    if (rc == LC_ENOTFOUND)
        return r->version == NULL;
    if (rc == LC_ETOOBIG || rc == LC_EINVALID)
        return 0; /* a key no state can hold was never read as present */
    if (rc < 0)
        return rc;
    return ver_eq(r->version, &ver);
}

/* One result of a re-run range query; key points into the map or into a decoded tx. */
struct res {
    const uint8_t *key;
    size_t key_len;
    struct lc_state_version ver;
};

/* Fabric's range-results Merkle summary (wire facts §9): leaves are SHA-256 of a packed
 * QueryReads of MAX_DEGREE + 1 results, a level holding more than MAX_DEGREE hashes folds into
 * one hash of the next, and the leftovers fold up at the end. */
#define MAX_DEGREE 50
#define MT_LEVELS 16

struct mtree {
    uint8_t h[MT_LEVELS][MAX_DEGREE + 2][LC_SHA256_LEN];
    size_t n[MT_LEVELS];
    unsigned max_level; /* 1-based */
};

static void mt_push(struct mtree *mt, unsigned idx, const uint8_t h[LC_SHA256_LEN])
{
    memcpy(mt->h[idx][mt->n[idx]++], h, LC_SHA256_LEN);
    if (idx + 1 > mt->max_level)
        mt->max_level = idx + 1;
}

static void mt_fold(struct mtree *mt, unsigned idx)
{
    uint8_t h[LC_SHA256_LEN];
    lc_sha256(mt->h[idx], mt->n[idx] * LC_SHA256_LEN, h);
    mt->n[idx] = 0;
    mt_push(mt, idx + 1, h);
}

static void mt_update(struct mtree *mt, const uint8_t leaf[LC_SHA256_LEN])
{
    unsigned idx = 0;
    mt_push(mt, 0, leaf);
    while (mt->n[idx] > MAX_DEGREE && idx + 1 < MT_LEVELS)
        mt_fold(mt, idx++);
}

static void mt_done(struct mtree *mt)
{
    for (unsigned idx = 0; idx + 1 < mt->max_level; idx++) {
        if (mt->n[idx] == 0)
            continue;
        if (mt->n[idx] == 1) {
            uint8_t h[LC_SHA256_LEN];
            memcpy(h, mt->h[idx][0], LC_SHA256_LEN);
            mt->n[idx] = 0;
            mt_push(mt, idx + 1, h);
        } else {
            mt_fold(mt, idx);
        }
    }
    unsigned top = mt->max_level - 1;
    if (mt->n[top] > MAX_DEGREE && top + 1 < MT_LEVELS)
        mt_fold(mt, top);
}

/* Hashes r[0..n) as one leaf: SHA-256(QueryReads{kv_reads}). */
static int mt_leaf(struct mtree *mt, const struct res *r, size_t n)
{
    int rc = -ENOMEM;
    Kvrwset__KVRead *reads = calloc(n, sizeof *reads);
    Kvrwset__KVRead **pr = calloc(n, sizeof *pr);
    Kvrwset__Version *vers = calloc(n, sizeof *vers);
    char **keys = calloc(n, sizeof *keys);
    uint8_t *buf = NULL;
    size_t len;
    if (!reads || !pr || !vers || !keys)
        goto out;
    for (size_t i = 0; i < n; i++) {
        keys[i] = strndup((const char *)r[i].key, r[i].key_len);
        if (!keys[i])
            goto out;
        kvrwset__kvread__init(&reads[i]);
        kvrwset__version__init(&vers[i]);
        vers[i].block_num = r[i].ver.block;
        vers[i].tx_num = r[i].ver.tx;
        reads[i].key = keys[i];
        reads[i].version = &vers[i];
        pr[i] = &reads[i];
    }
    Kvrwset__QueryReads qr = KVRWSET__QUERY_READS__INIT;
    qr.n_kv_reads = n;
    qr.kv_reads = pr;
    rc = lc_wire_pack(&qr.base, SIZE_MAX, &buf, &len, NULL);
    if (rc < 0)
        goto out;
    uint8_t leaf[LC_SHA256_LEN];
    lc_sha256(buf, len, leaf);
    mt_update(mt, leaf);
out:
    for (size_t i = 0; keys && i < n; i++)
        free(keys[i]);
    free(keys);
    free(buf);
    free(reads);
    free(pr);
    free(vers);
    return rc;
}

/* 1 when results r[0..n) summarise to sum, 0 when not, -ENOMEM. */
static int merkle_ok(const struct res *r, size_t n, const Kvrwset__QueryReadsMerkleSummary *sum)
{
    if (n <= MAX_DEGREE || sum->max_degree != MAX_DEGREE)
        return 0; /* the endorser would have recorded so few results raw */
    struct mtree *mt = calloc(1, sizeof *mt);
    if (!mt)
        return -ENOMEM;
    mt->max_level = 1;
    int rc = 0;
    size_t i = 0;
    while (i < n) {
        size_t k = n - i > MAX_DEGREE + 1 ? MAX_DEGREE + 1 : n - i;
        rc = mt_leaf(mt, r + i, k);
        if (rc < 0)
            goto out;
        i += k;
    }
    mt_done(mt);
    unsigned top = mt->max_level - 1;
    rc = sum->max_level == mt->max_level && sum->n_max_level_hashes == mt->n[top];
    for (size_t j = 0; rc && j < mt->n[top]; j++)
        rc = sum->max_level_hashes[j].len == LC_SHA256_LEN &&
             memcmp(sum->max_level_hashes[j].data, mt->h[top][j], LC_SHA256_LEN) == 0;
out:
    free(mt);
    return rc;
}

static int res_push(struct res **v, size_t *n, size_t *cap, const struct res *r)
{
    if (*n == *cap) {
        if (*cap >= MAX_BATCH)
            return LC_ETOOBIG;
        size_t nc = *cap ? 2 * *cap : 64;
        struct res *nv = realloc(*v, nc * sizeof *nv);
        if (!nv)
            return -ENOMEM;
        *v = nv;
        *cap = nc;
    }
    (*v)[(*n)++] = *r;
    return 0;
}

/* Re-runs range query q of ns over state merged with the batch: 1 when it yields exactly the
 * recorded reads (or their Merkle summary), 0 on a phantom, < 0 on a state error. */
static int range_ok(const struct lc_state *st, struct lc_kv_txn *rtx,
                    const struct committer_batch *b, const char *ns,
                    const Kvrwset__RangeQueryInfo *q, struct lc_errbuf *err)
{
    struct res *got = NULL;
    size_t n_got = 0, cap = 0;
    const uint8_t *start = (const uint8_t *)q->start_key;
    size_t sl = strlen(q->start_key), el = strlen(q->end_key);
    /* Not exhausted: the endorser stopped at end_key, which it read: include it. */
    uint8_t *end = malloc(el + 2);
    if (!end)
        return -ENOMEM;
    memcpy(end, q->end_key, el);
    if (!q->itr_exhausted && el > 0)
        end[el++] = 0;
    struct lc_state_iter *it = NULL;
    int rc = lc_state_iter_new(st, rtx, ns, start, sl, end, el, err, &it);
    if (rc == LC_ETOOBIG || rc == LC_EINVALID) {
        rc = 0;
        goto out;
    }
    if (rc < 0)
        goto out;
    size_t bi = lower_bound(b, ns, start, sl);
    const uint8_t *sk = NULL;
    size_t skl = 0;
    struct lc_state_version sv;
    bool have_s = false, s_done = false;
    for (;;) {
        if (!have_s && !s_done) {
            const uint8_t *v;
            size_t vl;
            rc = lc_state_iter_next(it, &sk, &skl, &v, &vl, &sv, err);
            if (rc < 0)
                goto out;
            have_s = rc == 1;
            s_done = rc == 0;
        }
        const struct bentry *be = NULL;
        if (bi < b->n && strcmp(b->e[bi].ns, ns) == 0 &&
            (el == 0 || keycmp(b->e[bi].key, b->e[bi].key_len, end, el) < 0))
            be = &b->e[bi];
        if (!have_s && !be)
            break;
        struct res r;
        int c = !have_s ? 1 : !be ? -1 : keycmp(sk, skl, be->key, be->key_len);
        if (c < 0) {
            r = (struct res){sk, skl, sv};
            have_s = false;
        } else {
            if (c == 0)
                have_s = false; /* the batch overrides the state */
            bi++;
            if (be->is_delete)
                continue;
            r = (struct res){be->key, be->key_len, be->ver};
        }
        rc = res_push(&got, &n_got, &cap, &r);
        if (rc < 0)
            goto out;
    }
    if (q->reads_info_case == KVRWSET__RANGE_QUERY_INFO__READS_INFO_READS_MERKLE_HASHES) {
        rc = q->reads_merkle_hashes ? merkle_ok(got, n_got, q->reads_merkle_hashes) : 0;
        goto out;
    }
    size_t n_exp = 0;
    Kvrwset__KVRead **exp = NULL;
    if (q->reads_info_case == KVRWSET__RANGE_QUERY_INFO__READS_INFO_RAW_READS && q->raw_reads) {
        n_exp = q->raw_reads->n_kv_reads;
        exp = q->raw_reads->kv_reads;
    }
    rc = n_got == n_exp;
    for (size_t i = 0; rc && i < n_got; i++)
        rc = keycmp(got[i].key, got[i].key_len, (const uint8_t *)exp[i]->key,
                    strlen(exp[i]->key)) == 0 &&
             ver_eq(exp[i]->version, &got[i].ver);
out:
    lc_state_iter_free(it);
    free(got);
    free(end);
    return rc;
}

int committer_mvcc_check(const struct lc_state *st, struct lc_kv_txn *rtx,
                         struct committer_batch *batch, uint64_t block, uint64_t tx_idx,
                         struct committer_tx *t, struct lc_errbuf *err)
{
    if (t->code != 0 || !t->rws)
        return 0;
    for (size_t i = 0; i < t->rws->n_ns_rwset; i++) {
        const char *ns = t->rws->ns_rwset[i]->namespace_;
        const Kvrwset__KVRWSet *kv = t->kv[i];
        for (size_t j = 0; j < kv->n_reads; j++) {
            int r = read_ok(st, rtx, batch, ns, kv->reads[j], err);
            if (r < 0)
                return r;
            if (r == 0) {
                t->code = PROTOS__TX_VALIDATION_CODE__MVCC_READ_CONFLICT;
                lc_fail(&t->why, LC_EMISMATCH, "mvcc: read of %s/%s is stale", ns,
                        kv->reads[j]->key);
                return 0;
            }
        }
        for (size_t j = 0; j < kv->n_range_queries_info; j++) {
            int r = range_ok(st, rtx, batch, ns, kv->range_queries_info[j], err);
            if (r < 0)
                return r;
            if (r == 0) {
                t->code = PROTOS__TX_VALIDATION_CODE__PHANTOM_READ_CONFLICT;
                lc_fail(&t->why, LC_EMISMATCH, "mvcc: range [%s, %s) of %s changed",
                        kv->range_queries_info[j]->start_key, kv->range_queries_info[j]->end_key,
                        ns);
                return 0;
            }
        }
    }
    /* Valid: its writes now shadow the state for the rest of the block. */
    for (size_t i = 0; i < t->rws->n_ns_rwset; i++) {
        const Kvrwset__KVRWSet *kv = t->kv[i];
        for (size_t j = 0; j < kv->n_writes; j++) {
            const Kvrwset__KVWrite *w = kv->writes[j];
            struct bentry e = {t->rws->ns_rwset[i]->namespace_,
                               (const uint8_t *)w->key,
                               strlen(w->key),
                               w->is_delete,
                               {block, tx_idx}};
            int r = batch_put(batch, &e);
            if (r < 0)
                return lc_fail(err, r, "mvcc: batch of block %llu is full",
                               (unsigned long long)block);
        }
    }
    return 0;
}
