/* SPDX-License-Identifier: Apache-2.0 */
/* World state on LMDB: versioned keys per namespace, the TxID index and the savepoint height. */
#include "libcommon/state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libcommon/chconf.h"
#include "libcommon/kv.h"
#include "libcommon/log.h"

#define HDR_LEN 16       /* u64 block ‖ u64 tx in front of every value */
#define TXINFO_LEN 17    /* u64 block ‖ u64 tx ‖ u8 code */
#define KEY_BUF_MAX 4096 /* room for any composite key LMDB can take (its limit is below) */
#define SAVEPOINT_KEY "savepoint"

struct lc_state {
    struct lc_kv_env *env;
    struct lc_kv_db *state, *txids, *meta;
    size_t max_key;
};

struct lc_state_iter {
    struct lc_kv_iter *kv;
    size_t ns_len;
};

int lc_state_open(struct lc_kv_env *env, struct lc_errbuf *err, struct lc_state **ret_state)
{
    struct lc_state *st = calloc(1, sizeof *st);
    if (!st)
        return lc_fail(err, -ENOMEM, "state: out of memory");
    st->env = env;
    st->max_key = lc_kv_max_key_size(env);
    if (st->max_key > KEY_BUF_MAX)
        st->max_key = KEY_BUF_MAX;
    int r = lc_kv_db_open(env, "state", LC_KV_DB_CREATE, &st->state, err);
    if (r == 0)
        r = lc_kv_db_open(env, "txids", LC_KV_DB_CREATE, &st->txids, err);
    if (r == 0)
        r = lc_kv_db_open(env, "state_meta", LC_KV_DB_CREATE, &st->meta, err);
    if (r < 0) {
        lc_errbuf_prefix(err, "state: ");
        free(st);
        return r;
    }
    *ret_state = st;
    return 0;
}

void lc_state_free(struct lc_state *st)
{
    free(st);
}

struct lc_kv_env *lc_state_env(const struct lc_state *st)
{
    return st->env;
}

/* Builds ns ‖ 0x00 ‖ key into buf (KEY_BUF_MAX), enforcing the LMDB key limit. */
static int compose(const struct lc_state *st, const char *ns, const void *key, size_t key_len,
                   uint8_t *buf, size_t *ret_len, struct lc_errbuf *err)
{
    if (!ns)
        return lc_fail(err, LC_EINVALID, "state: no namespace");
    size_t ns_len = strlen(ns);
    if (ns_len == 0)
        return lc_fail(err, LC_EINVALID, "state: empty namespace");
    if (ns_len + 1 > st->max_key || key_len > st->max_key - ns_len - 1)
        return lc_fail(err, LC_ETOOBIG,
                       "state: key of %zu bytes in namespace %.64s: over the limit of %zu bytes "
                       "(namespace + 1 + key, LMDB's key size)",
                       key_len, ns, st->max_key);
    return lc_kv_key_compose(buf, KEY_BUF_MAX, ns, ns_len, key, key_len, ret_len, err);
}

int lc_state_check_key(const struct lc_state *st, const char *ns, const void *key, size_t key_len,
                       struct lc_errbuf *err)
{
    uint8_t buf[KEY_BUF_MAX];
    size_t len;
    return compose(st, ns, key, key_len, buf, &len, err);
}

static uint64_t get_u64(const uint8_t *p)
{
    return lc_kv_key_u64_get(p);
}

int lc_state_get(const struct lc_state *st, struct lc_kv_txn *txn, const char *ns, const void *key,
                 size_t key_len, const uint8_t **ret_val, size_t *ret_len,
                 struct lc_state_version *ret_ver, struct lc_errbuf *err)
{
    uint8_t ck[KEY_BUF_MAX];
    size_t ck_len;
    int r = compose(st, ns, key, key_len, ck, &ck_len, err);
    if (r < 0)
        return r;
    const void *v;
    size_t vlen;
    r = lc_kv_get(txn, st->state, ck, ck_len, &v, &vlen, err);
    if (r < 0)
        return r;
    if (vlen < HDR_LEN)
        return lc_fail(err, LC_ECORRUPT, "state: entry of %zu bytes in namespace %.64s", vlen, ns);
    const uint8_t *p = v;
    ret_ver->block = get_u64(p);
    ret_ver->tx = get_u64(p + 8);
    *ret_val = p + HDR_LEN;
    *ret_len = vlen - HDR_LEN;
    return 0;
}

int lc_state_iter_new(const struct lc_state *st, struct lc_kv_txn *txn, const char *ns,
                      const void *start, size_t start_len, const void *end, size_t end_len,
                      struct lc_errbuf *err, struct lc_state_iter **ret_it)
{
    uint8_t s[KEY_BUF_MAX], e[KEY_BUF_MAX];
    size_t s_len, e_len;
    int r = compose(st, ns, start, start_len, s, &s_len, err);
    if (r < 0)
        return r;
    if (end_len)
        r = compose(st, ns, end, end_len, e, &e_len, err);
    else
        r = lc_kv_key_ns_end(e, sizeof e, ns, strlen(ns), &e_len, err);
    if (r < 0)
        return r;
    struct lc_state_iter *it = calloc(1, sizeof *it);
    if (!it)
        return lc_fail(err, -ENOMEM, "state: out of memory");
    it->ns_len = strlen(ns);
    r = lc_kv_iter_new(txn, st->state, s, s_len, e, e_len, &it->kv, err);
    if (r < 0) {
        free(it);
        return r;
    }
    *ret_it = it;
    return 0;
}

int lc_state_iter_next(struct lc_state_iter *it, const uint8_t **ret_key, size_t *ret_key_len,
                       const uint8_t **ret_val, size_t *ret_val_len,
                       struct lc_state_version *ret_ver, struct lc_errbuf *err)
{
    const void *k, *v;
    size_t klen, vlen;
    int r = lc_kv_iter_next(it->kv, &k, &klen, &v, &vlen, err);
    if (r <= 0)
        return r;
    if (klen <= it->ns_len || vlen < HDR_LEN)
        return lc_fail(err, LC_ECORRUPT, "state: malformed entry (%zu-byte key, %zu-byte value)",
                       klen, vlen);
    const uint8_t *p = v;
    *ret_key = (const uint8_t *)k + it->ns_len + 1;
    *ret_key_len = klen - it->ns_len - 1;
    *ret_val = p + HDR_LEN;
    *ret_val_len = vlen - HDR_LEN;
    ret_ver->block = get_u64(p);
    ret_ver->tx = get_u64(p + 8);
    return 1;
}

void lc_state_iter_free(struct lc_state_iter *it)
{
    if (!it)
        return;
    lc_kv_iter_free(it->kv);
    free(it);
}

static int txid_key(const struct lc_state *st, const char *txid, size_t *ret_len,
                    struct lc_errbuf *err)
{
    size_t n = txid ? strlen(txid) : 0;
    if (n == 0)
        return lc_fail(err, LC_EINVALID, "state: empty txid");
    if (n > st->max_key)
        return lc_fail(err, LC_ETOOBIG, "state: txid of %zu bytes over the limit of %zu", n,
                       st->max_key);
    *ret_len = n;
    return 0;
}

int lc_state_txid_get(const struct lc_state *st, struct lc_kv_txn *txn, const char *txid,
                      struct lc_state_txinfo *ret_info, struct lc_errbuf *err)
{
    size_t n = 0;
    int r = txid_key(st, txid, &n, err);
    if (r < 0)
        return r;
    const void *v;
    size_t vlen;
    r = lc_kv_get(txn, st->txids, txid, n, &v, &vlen, err);
    if (r < 0)
        return r;
    if (vlen != TXINFO_LEN)
        return lc_fail(err, LC_ECORRUPT, "state: txid entry of %zu bytes", vlen);
    const uint8_t *p = v;
    ret_info->block = get_u64(p);
    ret_info->tx = get_u64(p + 8);
    ret_info->code = p[16];
    return 0;
}

int lc_state_height(const struct lc_state *st, struct lc_kv_txn *txn, uint64_t *ret_height,
                    struct lc_errbuf *err)
{
    const void *v;
    size_t vlen;
    int r = lc_kv_get(txn, st->meta, SAVEPOINT_KEY, strlen(SAVEPOINT_KEY), &v, &vlen, err);
    if (r == LC_ENOTFOUND) {
        *ret_height = 0;
        return 0;
    }
    if (r < 0)
        return r;
    if (vlen != 8)
        return lc_fail(err, LC_ECORRUPT, "state: savepoint of %zu bytes", vlen);
    *ret_height = get_u64(v);
    return 0;
}

/* ---- writing ------------------------------------------------------------------------------ */

static int check_height(struct lc_state *st, struct lc_kv_txn *txn, uint64_t block_num,
                        struct lc_errbuf *err)
{
    uint64_t h;
    int r = lc_state_height(st, txn, &h, err);
    if (r < 0)
        return r;
    if (block_num != h)
        return lc_fail(err, LC_EINVALID, "state: block %llu does not follow height %llu",
                       (unsigned long long)block_num, (unsigned long long)h);
    return 0;
}

static int put_version(struct lc_state *st, struct lc_kv_txn *txn, const uint8_t *ck, size_t ck_len,
                       uint64_t block, uint64_t tx, const void *value, size_t value_len,
                       struct lc_errbuf *err)
{
    if (value_len > SIZE_MAX - HDR_LEN)
        return lc_fail(err, LC_ETOOBIG, "state: value of %zu bytes", value_len);
    uint8_t *buf = malloc(HDR_LEN + value_len);
    if (!buf)
        return lc_fail(err, -ENOMEM, "state: out of memory for a %zu-byte value", value_len);
    lc_kv_key_u64(block, buf);
    lc_kv_key_u64(tx, buf + 8);
    if (value_len)
        memcpy(buf + HDR_LEN, value, value_len);
    int r = lc_kv_put(txn, st->state, ck, ck_len, buf, HDR_LEN + value_len, 0, err);
    free(buf);
    return r;
}

static int index_txid(struct lc_state *st, struct lc_kv_txn *txn, const char *txid, uint64_t block,
                      uint64_t tx, uint8_t code, struct lc_errbuf *err)
{
    if (!txid || !*txid)
        return 0;
    size_t n = 0;
    int r = txid_key(st, txid, &n, err);
    if (r < 0)
        return r;
    uint8_t v[TXINFO_LEN];
    lc_kv_key_u64(block, v);
    lc_kv_key_u64(tx, v + 8);
    v[16] = code;
    r = lc_kv_put(txn, st->txids, txid, n, v, sizeof v, LC_KV_NOOVERWRITE, err);
    return r == LC_EEXISTS ? 0 : r;
}

static int set_savepoint(struct lc_state *st, struct lc_kv_txn *txn, uint64_t height,
                         struct lc_errbuf *err)
{
    uint8_t v[8];
    lc_kv_key_u64(height, v);
    return lc_kv_put(txn, st->meta, SAVEPOINT_KEY, strlen(SAVEPOINT_KEY), v, sizeof v, 0, err);
}

static int apply_write(struct lc_state *st, struct lc_kv_txn *txn, uint64_t block, uint64_t tx,
                       const struct lc_state_write *w, struct lc_errbuf *err)
{
    uint8_t ck[KEY_BUF_MAX];
    size_t ck_len;
    int r = compose(st, w->ns, w->key, w->key_len, ck, &ck_len, err);
    if (r < 0)
        return r;
    if (w->is_delete) {
        r = lc_kv_del(txn, st->state, ck, ck_len, err);
        return r == LC_ENOTFOUND ? 0 : r;
    }
    return put_version(st, txn, ck, ck_len, block, tx, w->value, w->value_len, err);
}

int lc_state_apply_block(struct lc_state *st, struct lc_kv_txn *txn, uint64_t block_num,
                         const struct lc_state_tx *txs, size_t n_txs, struct lc_errbuf *err)
{
    int r = check_height(st, txn, block_num, err);
    if (r < 0)
        return r;
    for (size_t i = 0; i < n_txs; i++) {
        const struct lc_state_tx *t = &txs[i];
        if (t->code == 0) {
            for (size_t j = 0; j < t->n_writes; j++) {
                r = apply_write(st, txn, block_num, i, &t->writes[j], err);
                if (r < 0) {
                    lc_errbuf_prefix(
                        err, "block %llu tx %zu write %zu: ", (unsigned long long)block_num, i, j);
                    return r;
                }
            }
        }
        r = index_txid(st, txn, t->txid, block_num, i, t->code, err);
        if (r < 0) {
            lc_errbuf_prefix(err, "block %llu tx %zu: ", (unsigned long long)block_num, i);
            return r;
        }
    }
    r = set_savepoint(st, txn, block_num + 1, err);
    if (r == 0)
        lc_log_debug("state", "applied block=%llu txs=%zu", (unsigned long long)block_num, n_txs);
    return r;
}

struct commit_arg {
    struct lc_state *st;
    uint64_t block_num;
    const struct lc_state_tx *txs;
    size_t n_txs;
};

static int commit_fn(struct lc_kv_txn *txn, void *arg, struct lc_errbuf *err)
{
    struct commit_arg *a = arg;
    return lc_state_apply_block(a->st, txn, a->block_num, a->txs, a->n_txs, err);
}

int lc_state_commit_block(struct lc_state *st, uint64_t block_num, const struct lc_state_tx *txs,
                          size_t n_txs, struct lc_errbuf *err)
{
    struct commit_arg a = {st, block_num, txs, n_txs};
    return lc_kv_update(st->env, commit_fn, &a, err);
}

/* ---- lifecycle ---------------------------------------------------------------------------- */

int lc_state_lifecycle_key(const char *name, char *buf, size_t cap, size_t *ret_len,
                           struct lc_errbuf *err)
{
    if (!name || !*name)
        return lc_fail(err, LC_EINVALID, "state: empty chaincode name");
    int n = snprintf(buf, cap, "namespaces/fields/%s/Sequence", name);
    if (n < 0 || (size_t)n >= cap)
        return lc_fail(err, LC_ETOOBIG, "state: lifecycle key for %.64s does not fit", name);
    *ret_len = (size_t)n;
    return 0;
}

/* Fabric's lifecycle StateData{Int64 = 1}: tag 0x08 and the varint (a negative int64 takes ten
 * bytes, as in Go). Returns the length written into buf (11 bytes always suffice). */
static size_t encode_sequence(int64_t seq, uint8_t buf[11])
{
    uint64_t v = (uint64_t)seq;
    size_t n = 0;
    buf[n++] = 0x08;
    do {
        uint8_t b = v & 0x7f;
        v >>= 7;
        buf[n++] = v ? (uint8_t)(b | 0x80) : b;
    } while (v);
    return n;
}

int lc_state_apply_config(struct lc_state *st, struct lc_kv_txn *txn, uint64_t block_num,
                          const char *txid, const struct lc_chconf *cc, struct lc_errbuf *err)
{
    int r = check_height(st, txn, block_num, err);
    if (r < 0)
        return r;
    size_t n = lc_chconf_chaincode_count(cc);
    for (size_t i = 0; i < n; i++) {
        const Weft__ChaincodeDefinition *d = lc_chconf_chaincode_at(cc, i);
        char key[KEY_BUF_MAX];
        size_t key_len;
        r = lc_state_lifecycle_key(d->name, key, sizeof key, &key_len, err);
        if (r < 0)
            return r;
        uint8_t val[11];
        size_t val_len = encode_sequence(d->sequence, val);
        const uint8_t *old;
        size_t old_len;
        struct lc_state_version ver;
        r = lc_state_get(st, txn, LC_STATE_LIFECYCLE_NS, key, key_len, &old, &old_len, &ver, err);
        if (r == 0 && old_len == val_len && memcmp(old, val, val_len) == 0)
            continue;
        if (r < 0 && r != LC_ENOTFOUND)
            return r;
        uint8_t ck[KEY_BUF_MAX];
        size_t ck_len;
        r = compose(st, LC_STATE_LIFECYCLE_NS, key, key_len, ck, &ck_len, err);
        if (r == 0)
            r = put_version(st, txn, ck, ck_len, block_num, 0, val, val_len, err);
        if (r < 0) {
            lc_errbuf_prefix(err, "config block %llu: ", (unsigned long long)block_num);
            return r;
        }
    }
    r = index_txid(st, txn, txid, block_num, 0, 0, err);
    if (r == 0)
        r = set_savepoint(st, txn, block_num + 1, err);
    return r;
}
