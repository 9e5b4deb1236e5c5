/* SPDX-License-Identifier: Apache-2.0 */
/* The committer's ledger: blocks, world state, TxID index and height in one LMDB environment. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "libcommon/chconf.h"
#include "libcommon/kv.h"
#include "libcommon/state.h"
#include "libcommon/wire.h"

#include "committer.h"

/* Largest packed block stored. */
#define MAX_BLOCK_BYTES (256u << 20)

/* The "blocks" database maps a big-endian u64 number to the packed block (filter filled). */
struct committer_ledger {
    struct lc_kv_env *env;
    struct lc_kv_db *blocks;
    struct lc_state *state;
};

int committer_ledger_open(const struct committer_ledger_opts *o, struct lc_errbuf *err,
                          struct committer_ledger **ret)
{
    struct committer_ledger *l = calloc(1, sizeof *l);
    if (!l)
        return -ENOMEM;
    struct lc_kv_options ko = {
        .map_size = 64u << 20,
        .max_map_size = (size_t)64 << 30,
        .max_dbs = 8,
        .flags = o->nosync ? LC_KV_NOSYNC : 0,
    };
    int r = lc_kv_env_open(o->dir, &ko, &l->env, err);
    if (r < 0)
        goto fail;
    r = lc_kv_db_open(l->env, "blocks", LC_KV_DB_CREATE, &l->blocks, err);
    if (r < 0)
        goto fail;
    r = lc_state_open(l->env, err, &l->state);
    if (r < 0)
        goto fail;
    *ret = l;
    return 0;
fail:
    committer_ledger_free(l);
    return r;
}

void committer_ledger_free(struct committer_ledger *l)
{
    if (!l)
        return;
    lc_state_free(l->state);
    lc_kv_env_close(l->env);
    free(l);
}

struct lc_state *committer_ledger_state(struct committer_ledger *l)
{
    return l->state;
}

int committer_ledger_height(struct committer_ledger *l, uint64_t *ret_height, struct lc_errbuf *err)
{
    struct lc_kv_txn *txn;
    int r = lc_kv_txn_begin_read(l->env, &txn, err);
    if (r < 0)
        return r;
    r = lc_state_height(l->state, txn, ret_height, err);
    lc_kv_txn_abort(txn);
    return r;
}

int committer_ledger_block(struct committer_ledger *l, uint64_t num, uint8_t **ret_buf,
                           size_t *ret_len, struct lc_errbuf *err)
{
    struct lc_kv_txn *txn;
    uint8_t key[8];
    lc_kv_key_u64(num, key);
    int r = lc_kv_txn_begin_read(l->env, &txn, err);
    if (r < 0)
        return r;
    void *v;
    size_t vl;
    r = lc_kv_get_copy(txn, l->blocks, key, sizeof key, &v, &vl, err);
    lc_kv_txn_abort(txn);
    if (r < 0)
        return r;
    *ret_buf = v;
    *ret_len = vl;
    return 0;
}

struct commit_arg {
    struct committer_ledger *l;
    const Common__Block *block;
    const uint8_t *packed;
    size_t packed_len;
    const struct lc_state_tx *stx;
    size_t n_txs;
    const char *config_txid;
    const struct lc_chconf *cc;
};

/* The whole commit of one block; runs again from scratch when the map had to grow. */
static int commit_fn(struct lc_kv_txn *txn, void *arg, struct lc_errbuf *err)
{
    struct commit_arg *a = arg;
    uint64_t num = a->block->header->number;
    uint8_t key[8];
    lc_kv_key_u64(num, key);
    int r = lc_kv_put(txn, a->l->blocks, key, sizeof key, a->packed, a->packed_len,
                      LC_KV_NOOVERWRITE, err);
    if (r == LC_EEXISTS)
        return lc_fail(err, LC_EINVALID, "block %llu is already stored", (unsigned long long)num);
    if (r < 0)
        return r;
    if (a->cc)
        return lc_state_apply_config(a->l->state, txn, num, a->config_txid, a->cc, err);
    return lc_state_apply_block(a->l->state, txn, num, a->stx, a->n_txs, err);
}

int committer_ledger_commit(struct committer_ledger *l, const Common__Block *block,
                            const struct committer_tx *txs, size_t n_txs,
                            const struct lc_chconf *cc, struct lc_errbuf *err)
{
    struct lc_state_tx *stx = NULL;
    struct lc_state_write **ws = NULL;
    uint8_t *packed = NULL;
    size_t packed_len = 0;
    int r = -ENOMEM;

    if (!block->header)
        return lc_fail(err, LC_EINVALID, "block has no header");
    if (!cc) {
        stx = calloc(n_txs ? n_txs : 1, sizeof *stx);
        ws = calloc(n_txs ? n_txs : 1, sizeof *ws);
        if (!stx || !ws)
            goto out;
        for (size_t i = 0; i < n_txs; i++) {
            const struct committer_tx *t = &txs[i];
            stx[i].txid = t->has_txid ? t->txid : NULL;
            stx[i].code = t->code;
            if (t->code != 0 || !t->rws)
                continue;
            size_t n = 0;
            for (size_t j = 0; j < t->rws->n_ns_rwset; j++)
                n += t->kv[j]->n_writes;
            ws[i] = calloc(n ? n : 1, sizeof **ws);
            if (!ws[i])
                goto out;
            n = 0;
            for (size_t j = 0; j < t->rws->n_ns_rwset; j++)
                for (size_t k = 0; k < t->kv[j]->n_writes; k++) {
                    const Kvrwset__KVWrite *w = t->kv[j]->writes[k];
                    ws[i][n++] = (struct lc_state_write){t->rws->ns_rwset[j]->namespace_,
                                                         w->key,
                                                         strlen(w->key),
                                                         w->value.data,
                                                         w->value.len,
                                                         w->is_delete};
                }
            stx[i].writes = ws[i];
            stx[i].n_writes = n;
        }
    }
    r = lc_wire_pack(&block->base, MAX_BLOCK_BYTES, &packed, &packed_len, err);
    if (r < 0)
        goto out;
    struct commit_arg a = {
        l, block, packed, packed_len, stx, n_txs, n_txs > 0 && txs[0].has_txid ? txs[0].txid : "",
        cc};
    r = lc_kv_update(l->env, commit_fn, &a, err);
out:
    if (ws)
        for (size_t i = 0; i < n_txs; i++)
            free(ws[i]);
    free(ws);
    free(stx);
    free(packed);
    return r;
}
