/* SPDX-License-Identifier: Apache-2.0 */
/* The commit pipeline: block checks, parallel per-tx validation, sequential MVCC, one commit. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "libcommon/chconf.h"
#include "libcommon/kv.h"
#include "libcommon/log.h"
#include "libcommon/policy.h"
#include "libcommon/state.h"
#include "libcommon/wire.h"

#include "committer.h"

#define MAX_WORKERS 256
#define MAX_BLOCK_SIGNATURES 64
#define BLOCK_VALIDATION "/Channel/Orderer/BlockValidation"

/* A fixed set of threads that validate the transactions of one block at a time: the feeding
 * thread posts a job, the workers take indexes until none are left, the last one signals. */
struct pool {
    pthread_mutex_t mu;
    pthread_cond_t work, idle;
    pthread_t *th;
    unsigned n_th;
    bool stop;
    uint64_t gen; /* bumped for each job */
    const struct lc_chconf *cc;
    const Common__Block *block;
    struct committer_tx *txs;
    size_t next, n, done;
};

struct committer {
    struct committer_ledger *ledger;
    struct lc_chconf *cc;
    uint64_t height;
    uint8_t prev_hash[LC_WIRE_HASH_LEN];
    struct pool pool;
    void (*on_commit)(void *arg, uint64_t number);
    void *on_commit_arg;
};

static void *worker(void *arg)
{
    struct pool *p = arg;
    uint64_t seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && (p->gen == seen || p->next >= p->n))
            pthread_cond_wait(&p->work, &p->mu);
        if (p->stop)
            break;
        size_t i = p->next++;
        if (p->next >= p->n)
            seen = p->gen;
        pthread_mutex_unlock(&p->mu);
        const ProtobufCBinaryData *d = &p->block->data->data[i];
        committer_tx_validate(p->cc, d->data, d->len, &p->txs[i]);
        pthread_mutex_lock(&p->mu);
        if (++p->done == p->n)
            pthread_cond_signal(&p->idle);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static void pool_run(struct pool *p, const struct lc_chconf *cc, const Common__Block *b,
                     struct committer_tx *txs, size_t n)
{
    if (n == 0)
        return;
    pthread_mutex_lock(&p->mu);
    p->cc = cc;
    p->block = b;
    p->txs = txs;
    p->next = p->done = 0;
    p->n = n;
    p->gen++;
    pthread_cond_broadcast(&p->work);
    while (p->done < p->n)
        pthread_cond_wait(&p->idle, &p->mu);
    p->n = 0;
    pthread_mutex_unlock(&p->mu);
}

static int pool_init(struct pool *p, unsigned n)
{
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->idle, NULL);
    p->th = calloc(n, sizeof *p->th);
    if (!p->th)
        return -ENOMEM;
    for (; p->n_th < n; p->n_th++)
        if (pthread_create(&p->th[p->n_th], NULL, worker, p) != 0)
            return -EAGAIN;
    return 0;
}

static void pool_done(struct pool *p)
{
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->n_th; i++)
        pthread_join(p->th[i], NULL);
    free(p->th);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->idle);
    pthread_mutex_destroy(&p->mu);
}

/* A deep copy of b (through its encoding) with metadata [2] = filter, n_metadata grown to
 * LC_WIRE_BLOCK_METADATA_N when shorter. Caller frees with lc_wire_block_free. */
static int copy_with_filter(const Common__Block *b, const uint8_t *filter, size_t n,
                            struct lc_errbuf *err, Common__Block **ret)
{
    uint8_t *buf;
    size_t len;
    Common__Block *c = NULL;
    int r = lc_wire_pack(&b->base, SIZE_MAX, &buf, &len, err);
    if (r < 0)
        return r;
    r = lc_wire_unpack(&common__block__descriptor, buf, len, (ProtobufCMessage **)&c, err);
    free(buf);
    if (r < 0)
        return r;
    r = -ENOMEM;
    if (!c->metadata) {
        c->metadata = malloc(sizeof *c->metadata);
        if (!c->metadata)
            goto fail;
        common__block_metadata__init(c->metadata);
    }
    Common__BlockMetadata *m = c->metadata;
    if (m->n_metadata < LC_WIRE_BLOCK_METADATA_N) {
        ProtobufCBinaryData *nm = realloc(m->metadata, LC_WIRE_BLOCK_METADATA_N * sizeof *nm);
        if (!nm)
            goto fail;
        memset(nm + m->n_metadata, 0, (LC_WIRE_BLOCK_METADATA_N - m->n_metadata) * sizeof *nm);
        m->metadata = nm;
        m->n_metadata = LC_WIRE_BLOCK_METADATA_N;
    }
    r = lc_wire_block_set_metadata(c, 2, filter, n);
    if (r < 0)
        goto fail;
    *ret = c;
    return 0;
fail:
    lc_wire_block_free(c);
    return r;
}

/* The TxID of a config block's envelope ("" when it has none). */
static void config_txid(const Common__Block *b, char txid[LC_WIRE_TXID_LEN + 1])
{
    Common__Envelope *env = NULL;
    Common__Payload *pl = NULL;
    Common__ChannelHeader *ch = NULL;
    txid[0] = 0;
    if (!b->data || b->data->n_data == 0 ||
        LC_WIRE_UNPACK(&common__envelope__descriptor, b->data->data[0], &env, NULL) < 0 ||
        LC_WIRE_UNPACK(&common__payload__descriptor, env->payload, &pl, NULL) < 0 || !pl->header ||
        LC_WIRE_UNPACK(&common__channel_header__descriptor, pl->header->channel_header, &ch, NULL) <
            0)
        goto out;
    if (strlen(ch->tx_id) == LC_WIRE_TXID_LEN)
        memcpy(txid, ch->tx_id, LC_WIRE_TXID_LEN + 1);
out:
    if (ch)
        common__channel_header__free_unpacked(ch, NULL);
    if (pl)
        common__payload__free_unpacked(pl, NULL);
    if (env)
        common__envelope__free_unpacked(env, NULL);
}

static int load_tip(struct committer *c, const Common__Block *genesis, struct lc_errbuf *err)
{
    uint8_t *buf = NULL;
    size_t len;
    Common__Block *b = NULL;
    uint8_t h0[LC_WIRE_HASH_LEN], g0[LC_WIRE_HASH_LEN];
    int r = committer_ledger_block(c->ledger, 0, &buf, &len, err);
    if (r < 0)
        return r;
    r = lc_wire_unpack(&common__block__descriptor, buf, len, (ProtobufCMessage **)&b, err);
    free(buf);
    if (r < 0)
        return r;
    r = lc_wire_header_hash(b->header, h0);
    lc_wire_block_free(b);
    b = NULL;
    if (r == 0)
        r = lc_wire_header_hash(genesis->header, g0);
    if (r < 0)
        return lc_fail(err, r, "ledger: block 0 has no header");
    if (memcmp(h0, g0, sizeof h0) != 0)
        return lc_fail(err, LC_EMISMATCH, "ledger: its block 0 is not this genesis block");
    r = committer_ledger_block(c->ledger, c->height - 1, &buf, &len, err);
    if (r < 0)
        return r;
    r = lc_wire_unpack(&common__block__descriptor, buf, len, (ProtobufCMessage **)&b, err);
    free(buf);
    if (r < 0)
        return r;
    r = lc_wire_header_hash(b->header, c->prev_hash);
    lc_wire_block_free(b);
    return r < 0 ? lc_fail(err, LC_ECORRUPT, "ledger: tip block has no header") : 0;
}

int committer_new(const struct committer_opts *o, const Common__Block *genesis,
                  struct lc_errbuf *err, struct committer **ret)
{
    struct committer *c = calloc(1, sizeof *c);
    Common__Block *g = NULL;
    if (!c)
        return -ENOMEM;
    int r = lc_chconf_from_block(genesis, 1024, err, &c->cc);
    if (r < 0)
        goto fail;
    if (!genesis->header || genesis->header->number != 0) {
        r = lc_fail(err, LC_EINVALID, "genesis: not block 0");
        goto fail;
    }
    struct committer_ledger_opts lo = {o->data_dir, o->nosync};
    r = committer_ledger_open(&lo, err, &c->ledger);
    if (r < 0)
        goto fail;
    r = committer_ledger_height(c->ledger, &c->height, err);
    if (r < 0)
        goto fail;
    if (c->height == 0) {
        const uint8_t valid = 0;
        struct committer_tx t = {0};
        config_txid(genesis, t.txid);
        t.has_txid = t.txid[0] != 0;
        r = copy_with_filter(genesis, &valid, 1, err, &g);
        if (r < 0)
            goto fail;
        r = committer_ledger_commit(c->ledger, g, &t, 1, c->cc, err);
        if (r < 0)
            goto fail;
        r = lc_wire_header_hash(genesis->header, c->prev_hash);
        if (r < 0)
            goto fail;
        c->height = 1;
    } else {
        r = load_tip(c, genesis, err);
        if (r < 0)
            goto fail;
    }
    unsigned n = o->workers ? o->workers : 1;
    r = pool_init(&c->pool, n > MAX_WORKERS ? MAX_WORKERS : n);
    if (r < 0) {
        lc_fail(err, r, "cannot start %u workers", n);
        goto fail;
    }
    lc_wire_block_free(g);
    *ret = c;
    return 0;
fail:
    lc_wire_block_free(g);
    committer_free(c);
    return r;
}

void committer_free(struct committer *c)
{
    if (!c)
        return;
    if (c->pool.th)
        pool_done(&c->pool);
    committer_ledger_free(c->ledger);
    lc_chconf_free(c->cc);
    free(c);
}

uint64_t committer_height(const struct committer *c)
{
    return c->height;
}

const char *committer_channel(const struct committer *c)
{
    return lc_chconf_channel_id(c->cc);
}

struct committer_ledger *committer_get_ledger(struct committer *c)
{
    return c->ledger;
}

void committer_on_commit(struct committer *c, void (*fn)(void *arg, uint64_t number), void *arg)
{
    c->on_commit = fn;
    c->on_commit_arg = arg;
}

/* The orderer signatures of metadata [0] over value ‖ signature_header ‖ header DER bytes must
 * satisfy BlockValidation. */
static int check_block_signature(const struct committer *c, const Common__Block *b,
                                 struct lc_errbuf *err)
{
    Common__Metadata *md = NULL;
    Common__SignatureHeader **sh = NULL;
    struct lc_signed_data *sd = NULL;
    uint8_t **bufs = NULL;
    size_t n = 0;
    uint8_t der[2 * LC_WIRE_HASH_LEN + LC_WIRE_HEADER_DER_OVERHEAD + 64];
    size_t der_len;
    const Common__BlockHeader *h = b->header;
    int r;

    if (!b->metadata || b->metadata->n_metadata < 1)
        return lc_fail(err, LC_EPOLICY, "block %llu: no signatures", (unsigned long long)h->number);
    if (h->previous_hash.len > LC_WIRE_HASH_LEN + 32 || h->data_hash.len > LC_WIRE_HASH_LEN + 32)
        return lc_fail(err, LC_EINVALID, "block %llu: header hash too long",
                       (unsigned long long)h->number);
    r = lc_wire_header_der(h->number, h->previous_hash.data, h->previous_hash.len,
                           h->data_hash.data, h->data_hash.len, der, sizeof der, &der_len);
    if (r < 0)
        return lc_fail(err, r, "block %llu: header", (unsigned long long)h->number);
    r = LC_WIRE_UNPACK(&common__metadata__descriptor, b->metadata->metadata[0], &md, err);
    if (r < 0)
        goto out;
    n = md->n_signatures;
    if (n == 0 || n > MAX_BLOCK_SIGNATURES) {
        r = lc_fail(err, LC_EPOLICY, "block %llu: %zu signatures", (unsigned long long)h->number,
                    n);
        n = 0;
        goto out;
    }
    r = -ENOMEM;
    sd = calloc(n, sizeof *sd);
    sh = calloc(n, sizeof *sh);
    bufs = calloc(n, sizeof *bufs);
    if (!sd || !sh || !bufs)
        goto out;
    for (size_t i = 0; i < n; i++) {
        const Common__MetadataSignature *ms = md->signatures[i];
        if (LC_WIRE_UNPACK(&common__signature_header__descriptor, ms->signature_header, &sh[i],
                           NULL) < 0) {
            sh[i] = NULL;
            continue; /* an undecodable header carries no identity: it counts for nothing */
        }
        size_t len = md->value.len + ms->signature_header.len + der_len;
        bufs[i] = malloc(len + 1);
        if (!bufs[i])
            goto out;
        uint8_t *p = bufs[i];
        if (md->value.len)
            memcpy(p, md->value.data, md->value.len);
        p += md->value.len;
        if (ms->signature_header.len)
            memcpy(p, ms->signature_header.data, ms->signature_header.len);
        p += ms->signature_header.len;
        memcpy(p, der, der_len);
        sd[i] = (struct lc_signed_data){
            bufs[i],          len, sh[i]->creator.data, sh[i]->creator.len, ms->signature.data,
            ms->signature.len};
    }
    r = lc_chconf_policy_eval(c->cc, BLOCK_VALIDATION, sd, n, err);
    if (r < 0)
        lc_errbuf_prefix(err, "block %llu: ", (unsigned long long)h->number);
out:
    for (size_t i = 0; i < n; i++) {
        if (sh && sh[i])
            common__signature_header__free_unpacked(sh[i], NULL);
        if (bufs)
            free(bufs[i]);
    }
    free(bufs);
    free(sh);
    free(sd);
    if (md)
        common__metadata__free_unpacked(md, NULL);
    return r;
}

/* Codes set at or after the dispatch step: a TxID already in the ledger overrides them. */
static bool reached_ledger_check(uint8_t code)
{
    switch (code) {
    case PROTOS__TX_VALIDATION_CODE__VALID:
    case PROTOS__TX_VALIDATION_CODE__ENDORSEMENT_POLICY_FAILURE:
    case PROTOS__TX_VALIDATION_CODE__CHAINCODE_VERSION_CONFLICT:
    case PROTOS__TX_VALIDATION_CODE__BAD_HEADER_EXTENSION:
    case PROTOS__TX_VALIDATION_CODE__BAD_RWSET:
    case PROTOS__TX_VALIDATION_CODE__ILLEGAL_WRITESET:
    case PROTOS__TX_VALIDATION_CODE__INVALID_CHAINCODE:
        return true;
    default:
        return false;
    }
}

/* The checks that need the ledger or block order: TxIDs, writes, MVCC. */
static int sequential_checks(struct committer *c, uint64_t num, struct committer_tx *txs, size_t n,
                             struct lc_errbuf *err)
{
    struct lc_state *st = committer_ledger_state(c->ledger);
    struct committer_batch *batch = NULL;
    struct lc_kv_txn *rtx = NULL;
    int r = committer_batch_new(&batch);
    if (r < 0)
        return r;
    r = lc_kv_txn_begin_read(lc_state_env(st), &rtx, err);
    if (r < 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        struct committer_tx *t = &txs[i];
        if (t->has_txid && reached_ledger_check(t->code)) {
            struct lc_state_txinfo info;
            r = lc_state_txid_get(st, rtx, t->txid, &info, err);
            if (r == 0) {
                t->code = PROTOS__TX_VALIDATION_CODE__DUPLICATE_TXID;
                lc_fail(&t->why, LC_EEXISTS, "txid %s is in block %llu", t->txid,
                        (unsigned long long)info.block);
            } else if (r != LC_ENOTFOUND) {
                goto out;
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        struct committer_tx *t = &txs[i];
        if (!t->has_txid || t->code != 0)
            continue;
        for (size_t j = 0; j < i; j++)
            if (txs[j].has_txid && strcmp(txs[j].txid, t->txid) == 0) {
                t->code = PROTOS__TX_VALIDATION_CODE__DUPLICATE_TXID;
                lc_fail(&t->why, LC_EEXISTS, "txid %s is also tx %zu of this block", t->txid, j);
                break;
            }
    }
    for (size_t i = 0; i < n; i++) {
        struct committer_tx *t = &txs[i];
        for (size_t j = 0; t->code == 0 && t->rws && j < t->rws->n_ns_rwset; j++)
            for (size_t k = 0; k < t->kv[j]->n_writes; k++) {
                const char *key = t->kv[j]->writes[k]->key;
                if (lc_state_check_key(st, t->rws->ns_rwset[j]->namespace_, key, strlen(key),
                                       &t->why) < 0) {
                    t->code = PROTOS__TX_VALIDATION_CODE__INVALID_WRITESET;
                    break;
                }
            }
        r = committer_mvcc_check(st, rtx, batch, num, i, t, err);
        if (r < 0)
            goto out;
    }
    r = 0;
out:
    lc_kv_txn_abort(rtx);
    committer_batch_free(batch);
    return r;
}

int committer_commit(struct committer *c, const Common__Block *b, struct lc_errbuf *err,
                     struct committer_result *ret)
{
    struct committer_tx *txs = NULL;
    uint8_t *filter = NULL;
    Common__Block *stored = NULL;
    size_t n = 0;
    int r;

    if (!b->header || !b->data)
        return lc_fail(err, LC_EINVALID, "block: no header or data");
    uint64_t num = b->header->number;
    if (num < c->height)
        return 1;
    if (num > c->height)
        return lc_fail(err, LC_EINVALID, "block %llu does not follow height %llu",
                       (unsigned long long)num, (unsigned long long)c->height);
    if (b->header->previous_hash.len != LC_WIRE_HASH_LEN ||
        memcmp(b->header->previous_hash.data, c->prev_hash, LC_WIRE_HASH_LEN) != 0)
        return lc_fail(err, LC_EMISMATCH, "block %llu: previous_hash is not the tip's hash",
                       (unsigned long long)num);
    r = lc_wire_block_check_data_hash(b, err);
    if (r < 0)
        return r;
    r = check_block_signature(c, b, err);
    if (r < 0)
        return r;

    n = b->data->n_data;
    r = -ENOMEM;
    txs = calloc(n ? n : 1, sizeof *txs);
    filter = malloc(n ? n : 1);
    if (!txs || !filter)
        goto out;
    pool_run(&c->pool, c->cc, b, txs, n);
    r = sequential_checks(c, num, txs, n, err);
    if (r < 0)
        goto out;
    size_t valid = 0;
    for (size_t i = 0; i < n; i++) {
        filter[i] = txs[i].code;
        valid += txs[i].code == 0;
        if (txs[i].code != 0)
            lc_log_debug("committer", "tx invalid block=%llu tx=%zu code=%u cause=%s",
                         (unsigned long long)num, i, txs[i].code, txs[i].why.msg);
    }
    r = copy_with_filter(b, filter, n, err, &stored);
    if (r < 0)
        goto out;
    r = committer_ledger_commit(c->ledger, stored, txs, n, NULL, err);
    if (r < 0)
        goto out;
    r = lc_wire_header_hash(b->header, c->prev_hash);
    if (r < 0)
        goto out;
    c->height = num + 1;
    if (c->on_commit)
        c->on_commit(c->on_commit_arg, num);
    if (ret)
        *ret = (struct committer_result){num, n, valid};
out:
    for (size_t i = 0; txs && i < n; i++)
        committer_tx_done(&txs[i]);
    free(txs);
    free(filter);
    lc_wire_block_free(stored);
    return r;
}
