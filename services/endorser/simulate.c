/* SPDX-License-Identifier: Apache-2.0 */
/* Chaincode simulation: the stub API on one state snapshot, recording the read-write set the way
 * Fabric's rwset builder and chaincode handler do. */
#include "services/endorser/simulate.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/rwset/kvrwset/kv_rwset.pb-c.h"
#include "ledger/rwset/rwset.pb-c.h"
#include "peer/chaincode_event.pb-c.h"

#include "libcommon/crypto.h"
#include "libcommon/state.h"
#include "libcommon/wire.h"

/* What each recorded entry costs against the budget besides its key and value bytes. */
#define ENTRY_OVERHEAD 32
/* Merkle tree levels; each level is 51 times coarser, so 16 is far beyond any real scan. */
#define MT_LEVELS 16
/* Fabric's shim sends this for an empty range start. */
#define EMPTY_START "\x01"

struct read_rec {
    const char *ns;
    char *key;
    bool has_ver;
    struct lc_state_version ver;
    size_t seq;
};

struct write_rec {
    const char *ns;
    char *key;
    uint8_t *val;
    size_t val_len;
    bool del;
    size_t seq;
};

/* One result of a range scan, as recorded (key copied). */
struct kv_read {
    char *key;
    struct lc_state_version ver;
};

/* Fabric's Merkle summary of range results beyond ENDORSER_SIM_MAX_DEGREE. */
struct mtree {
    uint8_t h[MT_LEVELS][ENDORSER_SIM_MAX_DEGREE + 1][LC_SHA256_LEN];
    size_t n[MT_LEVELS];
    unsigned max_level; /* 1-based, as Fabric counts */
};

struct range_rec {
    const char *ns;
    char *start;
    char *end;      /* as given */
    char *last_key; /* the last key read, the recorded end while not exhausted */
    bool exhausted;
    struct kv_read *pending; /* results not yet hashed (all of them when there is no tree) */
    size_t n_pending, cap_pending;
    struct mtree *mt;
};

struct ent {
    const uint8_t *k, *v;
    size_t kl, vl;
};

struct cc_iter {
    struct cc_stub *s;
    size_t rq;                /* index of its range record */
    struct lc_state_iter *it; /* NULL once the scan is exhausted or failed */
    struct ent batch[ENDORSER_SIM_BATCH];
    struct ent carry; /* the read-ahead result Fabric's handler keeps for the next batch */
    size_t n, pos;
    bool has_carry, has_more;
    struct cc_iter *next;
};

struct cc_stub {
    const struct endorser_sim_input *in;
    size_t used; /* bytes recorded, against in->max_bytes */
    char last_err[320];

    char *argbuf;
    char **argv; /* NUL-terminated copies; NULL for args holding a 0x00 byte */
    size_t argc;

    struct read_rec *reads;
    size_t n_reads, cap_reads;
    struct write_rec *writes;
    size_t n_writes, cap_writes;
    struct range_rec *ranges;
    size_t n_ranges, cap_ranges;
    size_t seq;
    struct cc_iter *iters; /* open iterators */

    bool responded;
    Protos__Response resp;

    bool has_event;
    char *ev_name;
    uint8_t *ev_payload;
    size_t ev_len;
};

/* ---- helpers ------------------------------------------------------------------------------ */

static int fail(struct cc_stub *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct cc_stub *s, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->last_err, sizeof s->last_err, fmt, ap);
    va_end(ap);
    return code;
}

/* Grows an array of elements of size sz to hold one more; returns 0 or -ENOMEM. */
static int grow(void **arr, size_t *cap, size_t n, size_t sz)
{
    if (n < *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 8;
    void *p = realloc(*arr, nc * sz);
    if (!p)
        return -ENOMEM;
    *arr = p;
    *cap = nc;
    return 0;
}

static void *memdup(const void *p, size_t n)
{
    void *d = malloc(n ? n : 1);
    if (d && n)
        memcpy(d, p, n);
    return d;
}

static char *strndup_bytes(const void *p, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        if (n)
            memcpy(d, p, n);
        d[n] = '\0';
    }
    return d;
}

/* Go's utf8.Valid: no overlong forms, no surrogates, nothing above U+10FFFF. */
static bool utf8_valid(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint32_t cp, min;
        if ((c & 0xe0) == 0xc0) {
            len = 2, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (n - i < len)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (p[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}

/* A key the rwset can carry and the state can hold. */
static int check_key(struct cc_stub *s, const char *what, const void *key, size_t len,
                     bool allow_empty)
{
    if (!key && len)
        return fail(s, LC_EINVALID, "%s: NULL key", what);
    if (len == 0 && !allow_empty)
        return fail(s, LC_EINVALID, "%s: empty key", what);
    if (len && memchr(key, 0, len))
        return fail(s, LC_EINVALID, "%s: key holds a 0x00 byte (composite keys are not supported)",
                    what);
    if (!utf8_valid(key, len))
        return fail(s, LC_EINVALID, "%s: key is not valid UTF-8", what);
    struct lc_errbuf eb;
    int r = lc_state_check_key(s->in->state, s->in->ns, key, len, &eb);
    if (r < 0)
        return fail(s, r, "%s: %s", what, eb.msg);
    return 0;
}

static int charge(struct cc_stub *s, size_t n)
{
    size_t max = s->in->max_bytes;
    if (n > max || ENTRY_OVERHEAD > max - n || s->used > max - n - ENTRY_OVERHEAD)
        return fail(s, LC_ETOOBIG, "simulation recorded more than %zu bytes", max);
    s->used += n + ENTRY_OVERHEAD;
    return 0;
}

static int record_read(struct cc_stub *s, const char *ns, const void *key, size_t key_len,
                       bool has_ver, const struct lc_state_version *ver)
{
    int r = charge(s, key_len);
    if (r < 0)
        return r;
    if (grow((void **)&s->reads, &s->cap_reads, s->n_reads, sizeof *s->reads) < 0)
        return fail(s, -ENOMEM, "out of memory");
    char *k = strndup_bytes(key, key_len);
    if (!k)
        return fail(s, -ENOMEM, "out of memory");
    struct read_rec *rr = &s->reads[s->n_reads++];
    *rr = (struct read_rec){.ns = ns, .key = k, .has_ver = has_ver, .seq = s->seq++};
    if (has_ver)
        rr->ver = *ver;
    return 0;
}

/* ---- life ----------------------------------------------------------------------------------- */

int endorser_sim_new(const struct endorser_sim_input *in, struct lc_errbuf *err,
                     struct cc_stub **ret)
{
    struct cc_stub *s = calloc(1, sizeof *s);
    if (!s)
        return lc_fail(err, -ENOMEM, "simulation: out of memory");
    s->in = in;
    protos__response__init(&s->resp);
    const Protos__ChaincodeInput *input = in->input;
    size_t total = 0;
    for (size_t i = 0; i < input->n_args; i++)
        total += input->args[i].len + 1;
    s->argc = input->n_args;
    s->argbuf = malloc(total ? total : 1);
    s->argv = calloc(s->argc ? s->argc : 1, sizeof *s->argv);
    if (!s->argbuf || !s->argv) {
        endorser_sim_free(s);
        return lc_fail(err, -ENOMEM, "simulation: out of memory");
    }
    char *p = s->argbuf;
    for (size_t i = 0; i < input->n_args; i++) {
        const ProtobufCBinaryData *a = &input->args[i];
        if (a->len)
            memcpy(p, a->data, a->len);
        p[a->len] = '\0';
        s->argv[i] = a->len && memchr(a->data, 0, a->len) ? NULL : p;
        p += a->len + 1;
    }
    *ret = s;
    return 0;
}

static void free_range(struct range_rec *rq)
{
    free(rq->start);
    free(rq->end);
    free(rq->last_key);
    for (size_t i = 0; i < rq->n_pending; i++)
        free(rq->pending[i].key);
    free(rq->pending);
    free(rq->mt);
}

void endorser_sim_free(struct cc_stub *s)
{
    if (!s)
        return;
    while (s->iters)
        cc_iter_close(s->iters);
    for (size_t i = 0; i < s->n_reads; i++)
        free(s->reads[i].key);
    free(s->reads);
    for (size_t i = 0; i < s->n_writes; i++) {
        free(s->writes[i].key);
        free(s->writes[i].val);
    }
    free(s->writes);
    for (size_t i = 0; i < s->n_ranges; i++)
        free_range(&s->ranges[i]);
    free(s->ranges);
    if (s->resp.message != protobuf_c_empty_string)
        free(s->resp.message);
    free(s->resp.payload.data);
    free(s->ev_name);
    free(s->ev_payload);
    free(s->argbuf);
    free(s->argv);
    free(s);
}

int endorser_sim_read_lifecycle(struct cc_stub *s, struct lc_errbuf *err)
{
    char key[512];
    size_t key_len;
    int r = lc_state_lifecycle_key(s->in->ns, key, sizeof key, &key_len, err);
    if (r < 0)
        return r;
    const uint8_t *v;
    size_t vlen;
    struct lc_state_version ver;
    r = lc_state_get(s->in->state, s->in->txn, LC_STATE_LIFECYCLE_NS, key, key_len, &v, &vlen, &ver,
                     err);
    if (r < 0 && r != LC_ENOTFOUND)
        return r;
    int rr = record_read(s, LC_STATE_LIFECYCLE_NS, key, key_len, r == 0, &ver);
    if (rr < 0)
        return lc_fail(err, rr, "%s", s->last_err);
    return 0;
}

void endorser_sim_invoke(struct cc_stub *s, const struct cc_chaincode *cc)
{
    cc->invoke(s);
    while (s->iters)
        cc_iter_close(s->iters);
    if (!s->responded)
        cc_respond(s, CC_ERROR, "chaincode returned no response", NULL, 0);
}

const Protos__Response *endorser_sim_response(const struct cc_stub *s)
{
    return &s->resp;
}

/* ---- the invocation ------------------------------------------------------------------------- */

size_t cc_argc(const struct cc_stub *s)
{
    return s->argc;
}

const uint8_t *cc_arg(const struct cc_stub *s, size_t i, size_t *ret_len)
{
    if (i >= s->argc) {
        *ret_len = 0;
        return NULL;
    }
    *ret_len = s->in->input->args[i].len;
    return s->in->input->args[i].data;
}

const char *cc_arg_str(const struct cc_stub *s, size_t i)
{
    return i < s->argc ? s->argv[i] : NULL;
}

const char *cc_function(const struct cc_stub *s)
{
    const char *f = cc_arg_str(s, 0);
    return f ? f : "";
}

size_t cc_nparams(const struct cc_stub *s)
{
    return s->argc ? s->argc - 1 : 0;
}

const char *cc_param(const struct cc_stub *s, size_t i)
{
    return cc_arg_str(s, i + 1);
}

const char *cc_txid(const struct cc_stub *s)
{
    return s->in->txid;
}

const char *cc_channel(const struct cc_stub *s)
{
    return s->in->channel;
}

const uint8_t *cc_creator(const struct cc_stub *s, size_t *ret_len)
{
    *ret_len = s->in->creator_len;
    return s->in->creator;
}

const char *cc_creator_mspid(const struct cc_stub *s)
{
    return s->in->creator_mspid;
}

void cc_tx_timestamp(const struct cc_stub *s, int64_t *ret_seconds, int32_t *ret_nanos)
{
    *ret_seconds = s->in->ts_seconds;
    *ret_nanos = s->in->ts_nanos;
}

const uint8_t *cc_transient(const struct cc_stub *s, const char *key, size_t *ret_len)
{
    *ret_len = 0;
    const Protos__ChaincodeProposalPayload *p = s->in->payload;
    if (!p || !key)
        return NULL;
    for (size_t i = 0; i < p->n_transientmap; i++) {
        if (p->transientmap[i]->key && strcmp(p->transientmap[i]->key, key) == 0) {
            *ret_len = p->transientmap[i]->value.len;
            return p->transientmap[i]->value.data;
        }
    }
    return NULL;
}

const char *cc_last_error(const struct cc_stub *s)
{
    return s->last_err;
}

/* ---- state ---------------------------------------------------------------------------------- */

int cc_get_state(struct cc_stub *s, const void *key, size_t key_len, const uint8_t **ret_val,
                 size_t *ret_len)
{
    int r = check_key(s, "GetState", key, key_len, true);
    if (r < 0)
        return r;
    const uint8_t *v = NULL;
    size_t vlen = 0;
    struct lc_state_version ver;
    struct lc_errbuf eb;
    r = lc_state_get(s->in->state, s->in->txn, s->in->ns, key, key_len, &v, &vlen, &ver, &eb);
    if (r < 0 && r != LC_ENOTFOUND)
        return fail(s, r, "GetState: %s", eb.msg);
    bool found = r == 0;
    r = record_read(s, s->in->ns, key, key_len, found, &ver);
    if (r < 0)
        return r;
    *ret_val = found ? v : NULL;
    *ret_len = found ? vlen : 0;
    return found;
}

static int record_write(struct cc_stub *s, const char *what, const void *key, size_t key_len,
                        const void *val, size_t val_len)
{
    int r = check_key(s, what, key, key_len, false);
    if (r < 0)
        return r;
    if (!val && val_len)
        return fail(s, LC_EINVALID, "%s: NULL value", what);
    if (val_len > s->in->max_bytes)
        return fail(s, LC_ETOOBIG, "%s: value of %zu bytes", what, val_len);
    r = charge(s, key_len + val_len);
    if (r < 0)
        return r;
    if (grow((void **)&s->writes, &s->cap_writes, s->n_writes, sizeof *s->writes) < 0)
        return fail(s, -ENOMEM, "out of memory");
    char *k = strndup_bytes(key, key_len);
    uint8_t *v = val_len ? memdup(val, val_len) : NULL;
    if (!k || (val_len && !v)) {
        free(k);
        free(v);
        return fail(s, -ENOMEM, "out of memory");
    }
    /* Fabric's rwset builder: a write of an empty value is a delete. */
    s->writes[s->n_writes++] = (struct write_rec){.ns = s->in->ns,
                                                  .key = k,
                                                  .val = v,
                                                  .val_len = val_len,
                                                  .del = val_len == 0,
                                                  .seq = s->seq++};
    return 0;
}

int cc_put_state(struct cc_stub *s, const void *key, size_t key_len, const void *val,
                 size_t val_len)
{
    return record_write(s, "PutState", key, key_len, val, val_len);
}

int cc_del_state(struct cc_stub *s, const void *key, size_t key_len)
{
    return record_write(s, "DelState", key, key_len, NULL, 0);
}

static void mt_update(struct mtree *mt, const uint8_t leaf[LC_SHA256_LEN]);

/* Hashes the pending results into one leaf of rq's tree (made on first use) and clears them:
 * leaf = SHA-256(QueryReads{kv_reads}). Returns 0 or -ENOMEM. */
static int hash_pending(struct range_rec *rq)
{
    if (!rq->mt) {
        rq->mt = calloc(1, sizeof *rq->mt);
        if (!rq->mt)
            return -ENOMEM;
        rq->mt->max_level = 1;
    }
    int r = -ENOMEM;
    Kvrwset__KVRead *reads = calloc(rq->n_pending, sizeof *reads);
    Kvrwset__KVRead **pr = calloc(rq->n_pending, sizeof *pr);
    Kvrwset__Version *vers = calloc(rq->n_pending, sizeof *vers);
    uint8_t *buf = NULL;
    size_t len;
    if (!reads || !pr || !vers)
        goto out;
    for (size_t i = 0; i < rq->n_pending; i++) {
        kvrwset__kvread__init(&reads[i]);
        kvrwset__version__init(&vers[i]);
        vers[i].block_num = rq->pending[i].ver.block;
        vers[i].tx_num = rq->pending[i].ver.tx;
        reads[i].key = rq->pending[i].key;
        reads[i].version = &vers[i];
        pr[i] = &reads[i];
    }
    Kvrwset__QueryReads qr = KVRWSET__QUERY_READS__INIT;
    qr.n_kv_reads = rq->n_pending;
    qr.kv_reads = pr;
    r = lc_wire_pack(&qr.base, SIZE_MAX, &buf, &len, NULL);
    if (r < 0)
        goto out;
    uint8_t leaf[LC_SHA256_LEN];
    lc_sha256(buf, len, leaf);
    mt_update(rq->mt, leaf);
    for (size_t i = 0; i < rq->n_pending; i++)
        free(rq->pending[i].key);
    rq->n_pending = 0;
out:
    free(buf);
    free(reads);
    free(pr);
    free(vers);
    return r;
}

/* Records one scan result into its range record, hashing full groups as Fabric's
 * RangeQueryResultsHelper does. */
static int range_add(struct cc_stub *s, struct range_rec *rq, const struct ent *e,
                     const struct lc_state_version *ver)
{
    int r = charge(s, e->kl);
    if (r < 0)
        return r;
    if (memchr(e->k, 0, e->kl) || !utf8_valid(e->k, e->kl))
        return fail(s, LC_EINVALID, "GetStateByRange: a stored key is not valid UTF-8 text");
    char *k = strndup_bytes(e->k, e->kl);
    char *last = strndup_bytes(e->k, e->kl);
    if (!k || !last ||
        grow((void **)&rq->pending, &rq->cap_pending, rq->n_pending, sizeof *rq->pending) < 0) {
        free(k);
        free(last);
        return fail(s, -ENOMEM, "out of memory");
    }
    rq->pending[rq->n_pending++] = (struct kv_read){k, *ver};
    free(rq->last_key);
    rq->last_key = last;
    if (rq->n_pending <= ENDORSER_SIM_MAX_DEGREE)
        return 0;
    r = hash_pending(rq);
    return r < 0 ? fail(s, r, "range query: cannot hash results") : 0;
}

static void combine(uint8_t (*hs)[LC_SHA256_LEN], size_t n, uint8_t out[LC_SHA256_LEN])
{
    lc_sha256(hs, n * LC_SHA256_LEN, out);
}

/* Appends h at level idx (0-based), as Fabric's merkleTree.update / done do. */
static void mt_push(struct mtree *mt, unsigned idx, const uint8_t h[LC_SHA256_LEN])
{
    memcpy(mt->h[idx][mt->n[idx]++], h, LC_SHA256_LEN);
    if (idx + 1 > mt->max_level)
        mt->max_level = idx + 1;
}

/* The top level never overflows: the byte budget caps a scan far below 51^MT_LEVELS results. */
static void mt_update(struct mtree *mt, const uint8_t leaf[LC_SHA256_LEN])
{
    unsigned idx = 0;
    mt_push(mt, idx, leaf);
    while (mt->n[idx] > ENDORSER_SIM_MAX_DEGREE && idx + 1 < MT_LEVELS) {
        uint8_t h[LC_SHA256_LEN];
        combine(mt->h[idx], mt->n[idx], h);
        mt->n[idx] = 0;
        idx++;
        mt_push(mt, idx, h);
    }
}

static void mt_done(struct mtree *mt)
{
    for (unsigned lvl = 1; lvl < mt->max_level; lvl++) {
        unsigned idx = lvl - 1;
        if (mt->n[idx] == 0)
            continue;
        uint8_t h[LC_SHA256_LEN];
        if (mt->n[idx] == 1)
            memcpy(h, mt->h[idx][0], LC_SHA256_LEN);
        else
            combine(mt->h[idx], mt->n[idx], h);
        mt->n[idx] = 0;
        mt_push(mt, idx + 1, h);
    }
    unsigned top = mt->max_level - 1;
    if (mt->n[top] > ENDORSER_SIM_MAX_DEGREE && top + 1 < MT_LEVELS) {
        uint8_t h[LC_SHA256_LEN];
        combine(mt->h[top], mt->n[top], h);
        mt->n[top] = 0;
        mt_push(mt, top + 1, h);
    }
}

/* Reads the next batch as Fabric's chaincode handler does: up to ENDORSER_SIM_BATCH results
 * for the chaincode plus one read ahead (kept for the next batch), every read recorded. */
static int fetch_batch(struct cc_iter *it)
{
    struct cc_stub *s = it->s;
    it->n = it->pos = 0;
    it->has_more = false;
    if (it->has_carry) {
        it->batch[it->n++] = it->carry;
        it->has_carry = false;
    }
    while (it->it) {
        struct ent e;
        struct lc_state_version ver;
        struct lc_errbuf eb;
        int r = lc_state_iter_next(it->it, &e.k, &e.kl, &e.v, &e.vl, &ver, &eb);
        if (r < 0) {
            lc_state_iter_free(it->it);
            it->it = NULL;
            return fail(s, r, "GetStateByRange: %s", eb.msg);
        }
        struct range_rec *rq = &s->ranges[it->rq];
        if (r == 0) {
            rq->exhausted = true;
            lc_state_iter_free(it->it);
            it->it = NULL;
            break;
        }
        r = range_add(s, rq, &e, &ver);
        if (r < 0)
            return r;
        if (it->n == ENDORSER_SIM_BATCH) {
            it->carry = e;
            it->has_carry = true;
            it->has_more = true;
            break;
        }
        it->batch[it->n++] = e;
    }
    return 0;
}

int cc_get_state_by_range(struct cc_stub *s, const void *start, size_t start_len, const void *end,
                          size_t end_len, struct cc_iter **ret_it)
{
    if (start_len == 0) {
        start = EMPTY_START;
        start_len = 1;
    }
    int r = check_key(s, "GetStateByRange start", start, start_len, false);
    if (r == 0)
        r = check_key(s, "GetStateByRange end", end, end_len, true);
    if (r == 0)
        r = charge(s, start_len + end_len);
    if (r < 0)
        return r;
    if (grow((void **)&s->ranges, &s->cap_ranges, s->n_ranges, sizeof *s->ranges) < 0)
        return fail(s, -ENOMEM, "out of memory");
    struct cc_iter *it = calloc(1, sizeof *it);
    char *sk = strndup_bytes(start, start_len), *ek = strndup_bytes(end, end_len);
    if (!it || !sk || !ek) {
        free(it);
        free(sk);
        free(ek);
        return fail(s, -ENOMEM, "out of memory");
    }
    struct lc_errbuf eb;
    r = lc_state_iter_new(s->in->state, s->in->txn, s->in->ns, start, start_len, end, end_len, &eb,
                          &it->it);
    if (r < 0) {
        free(it);
        free(sk);
        free(ek);
        return fail(s, r, "GetStateByRange: %s", eb.msg);
    }
    it->s = s;
    it->rq = s->n_ranges;
    s->ranges[s->n_ranges++] = (struct range_rec){.ns = s->in->ns, .start = sk, .end = ek};
    it->next = s->iters;
    s->iters = it;
    r = fetch_batch(it);
    if (r < 0) {
        cc_iter_close(it);
        return r;
    }
    *ret_it = it;
    return 0;
}

int cc_iter_next(struct cc_iter *it, const uint8_t **ret_key, size_t *ret_key_len,
                 const uint8_t **ret_val, size_t *ret_val_len)
{
    if (it->pos == it->n && it->has_more) {
        int r = fetch_batch(it);
        if (r < 0)
            return r;
    }
    if (it->pos == it->n)
        return 0;
    const struct ent *e = &it->batch[it->pos++];
    *ret_key = e->k;
    *ret_key_len = e->kl;
    *ret_val = e->v;
    *ret_val_len = e->vl;
    return 1;
}

void cc_iter_close(struct cc_iter *it)
{
    if (!it)
        return;
    struct cc_iter **pp = &it->s->iters;
    while (*pp && *pp != it)
        pp = &(*pp)->next;
    if (*pp)
        *pp = it->next;
    lc_state_iter_free(it->it);
    free(it);
}

/* ---- events and responses ------------------------------------------------------------------- */

int cc_set_event(struct cc_stub *s, const char *name, const void *payload, size_t len)
{
    if (!name || !*name)
        return fail(s, LC_EINVALID, "SetEvent: empty event name");
    if (!payload && len)
        return fail(s, LC_EINVALID, "SetEvent: NULL payload");
    if (len > s->in->max_bytes)
        return fail(s, LC_ETOOBIG, "SetEvent: payload of %zu bytes", len);
    char *n = strdup(name);
    uint8_t *p = len ? memdup(payload, len) : NULL;
    if (!n || (len && !p)) {
        free(n);
        free(p);
        return fail(s, -ENOMEM, "out of memory");
    }
    free(s->ev_name);
    free(s->ev_payload);
    s->ev_name = n;
    s->ev_payload = p;
    s->ev_len = len;
    s->has_event = true;
    return 0;
}

void cc_respond(struct cc_stub *s, int32_t status, const char *message, const void *payload,
                size_t len)
{
    if (s->resp.message != protobuf_c_empty_string)
        free(s->resp.message);
    free(s->resp.payload.data);
    protos__response__init(&s->resp);
    s->resp.status = status;
    s->responded = true;
    if (message && *message) {
        s->resp.message = strdup(message);
        if (!s->resp.message)
            goto oom;
    }
    if (len) {
        s->resp.payload.data = memdup(payload, len);
        if (!s->resp.payload.data)
            goto oom;
        s->resp.payload.len = len;
    }
    return;
oom:
    /* Out of memory: still answer, with a fixed message and no payload. */
    if (!s->resp.message)
        s->resp.message = (char *)protobuf_c_empty_string;
    s->resp.status = CC_ERROR;
    s->resp.payload.data = NULL;
    s->resp.payload.len = 0;
}

void cc_success(struct cc_stub *s, const void *payload, size_t len)
{
    cc_respond(s, CC_OK, NULL, payload, len);
}

void cc_error(struct cc_stub *s, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cc_respond(s, CC_ERROR, msg, NULL, 0);
}

/* ---- packing -------------------------------------------------------------------------------- */

static int cmp_reads(const void *a, const void *b)
{
    const struct read_rec *x = a, *y = b;
    int c = strcmp(x->ns, y->ns);
    if (!c)
        c = strcmp(x->key, y->key);
    if (!c)
        c = x->seq < y->seq ? -1 : x->seq > y->seq;
    return c;
}

static int cmp_writes(const void *a, const void *b)
{
    const struct write_rec *x = a, *y = b;
    int c = strcmp(x->ns, y->ns);
    if (!c)
        c = strcmp(x->key, y->key);
    if (!c)
        c = x->seq < y->seq ? -1 : x->seq > y->seq;
    return c;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* What one namespace's KVRWSet is built from; the arrays are sized for the worst case. */
struct ns_build {
    Kvrwset__KVRead *reads;
    Kvrwset__KVRead **preads;
    Kvrwset__Version *rvers;
    Kvrwset__KVWrite *writes;
    Kvrwset__KVWrite **pwrites;
    Kvrwset__RangeQueryInfo *rqs;
    Kvrwset__RangeQueryInfo **prqs;
    Kvrwset__QueryReads *qrs;
    Kvrwset__QueryReadsMerkleSummary *sums;
    ProtobufCBinaryData **sum_hashes;
    Kvrwset__KVRead **rq_reads; /* per range: its raw reads */
    Kvrwset__Version **rq_vers;
    Kvrwset__KVRead ***rq_preads;
};

static void ns_build_free(struct ns_build *b, size_t n_ranges)
{
    for (size_t i = 0; i < n_ranges; i++) {
        if (b->sum_hashes)
            free(b->sum_hashes[i]);
        if (b->rq_reads)
            free(b->rq_reads[i]);
        if (b->rq_vers)
            free(b->rq_vers[i]);
        if (b->rq_preads)
            free(b->rq_preads[i]);
    }
    free(b->reads);
    free(b->preads);
    free(b->rvers);
    free(b->writes);
    free(b->pwrites);
    free(b->rqs);
    free(b->prqs);
    free(b->qrs);
    free(b->sums);
    free(b->sum_hashes);
    free(b->rq_reads);
    free(b->rq_vers);
    free(b->rq_preads);
}

/* Finishes range record rq (Fabric's RangeQueryResultsHelper.Done) into info i of b. */
static int build_range(struct range_rec *rq, struct ns_build *b, size_t i)
{
    Kvrwset__RangeQueryInfo *ri = &b->rqs[i];
    kvrwset__range_query_info__init(ri);
    ri->start_key = rq->start;
    ri->end_key = rq->exhausted ? rq->end : (rq->last_key ? rq->last_key : rq->end);
    ri->itr_exhausted = rq->exhausted;
    if (rq->mt && rq->n_pending) {
        int r = hash_pending(rq); /* the leftover results form one more leaf */
        if (r < 0)
            return r;
    }
    if (rq->mt) {
        mt_done(rq->mt);
        unsigned top = rq->mt->max_level - 1;
        size_t n = rq->mt->n[top];
        b->sum_hashes[i] = calloc(n ? n : 1, sizeof **b->sum_hashes);
        if (!b->sum_hashes[i])
            return -ENOMEM;
        for (size_t k = 0; k < n; k++) {
            b->sum_hashes[i][k].data = rq->mt->h[top][k];
            b->sum_hashes[i][k].len = LC_SHA256_LEN;
        }
        Kvrwset__QueryReadsMerkleSummary *sum = &b->sums[i];
        kvrwset__query_reads_merkle_summary__init(sum);
        sum->max_degree = ENDORSER_SIM_MAX_DEGREE;
        sum->max_level = rq->mt->max_level;
        sum->n_max_level_hashes = n;
        sum->max_level_hashes = b->sum_hashes[i];
        ri->reads_info_case = KVRWSET__RANGE_QUERY_INFO__READS_INFO_READS_MERKLE_HASHES;
        ri->reads_merkle_hashes = sum;
        return 0;
    }
    if (rq->n_pending == 0)
        return 0; /* Fabric sets no reads_info for a scan that returned nothing */
    size_t n = rq->n_pending;
    b->rq_reads[i] = calloc(n, sizeof **b->rq_reads);
    b->rq_vers[i] = calloc(n, sizeof **b->rq_vers);
    b->rq_preads[i] = calloc(n, sizeof **b->rq_preads);
    if (!b->rq_reads[i] || !b->rq_vers[i] || !b->rq_preads[i])
        return -ENOMEM;
    for (size_t k = 0; k < n; k++) {
        kvrwset__kvread__init(&b->rq_reads[i][k]);
        kvrwset__version__init(&b->rq_vers[i][k]);
        b->rq_vers[i][k].block_num = rq->pending[k].ver.block;
        b->rq_vers[i][k].tx_num = rq->pending[k].ver.tx;
        b->rq_reads[i][k].key = rq->pending[k].key;
        b->rq_reads[i][k].version = &b->rq_vers[i][k];
        b->rq_preads[i][k] = &b->rq_reads[i][k];
    }
    Kvrwset__QueryReads *qr = &b->qrs[i];
    kvrwset__query_reads__init(qr);
    qr->n_kv_reads = n;
    qr->kv_reads = b->rq_preads[i];
    ri->reads_info_case = KVRWSET__RANGE_QUERY_INFO__READS_INFO_RAW_READS;
    ri->raw_reads = qr;
    return 0;
}

static bool same_range(const Kvrwset__RangeQueryInfo *a, const Kvrwset__RangeQueryInfo *b)
{
    return a->itr_exhausted == b->itr_exhausted && strcmp(a->start_key, b->start_key) == 0 &&
           strcmp(a->end_key, b->end_key) == 0;
}

/* Packs the KVRWSet of namespace ns. */
static int pack_ns(struct cc_stub *s, const char *ns, size_t max_len, uint8_t **ret_buf,
                   size_t *ret_len, struct lc_errbuf *err)
{
    struct ns_build b = {0};
    size_t nr = s->n_ranges ? s->n_ranges : 1;
    int r = -ENOMEM;
    b.reads = calloc(s->n_reads + 1, sizeof *b.reads);
    b.preads = calloc(s->n_reads + 1, sizeof *b.preads);
    b.rvers = calloc(s->n_reads + 1, sizeof *b.rvers);
    b.writes = calloc(s->n_writes + 1, sizeof *b.writes);
    b.pwrites = calloc(s->n_writes + 1, sizeof *b.pwrites);
    b.rqs = calloc(nr, sizeof *b.rqs);
    b.prqs = calloc(nr, sizeof *b.prqs);
    b.qrs = calloc(nr, sizeof *b.qrs);
    b.sums = calloc(nr, sizeof *b.sums);
    b.sum_hashes = calloc(nr, sizeof *b.sum_hashes);
    b.rq_reads = calloc(nr, sizeof *b.rq_reads);
    b.rq_vers = calloc(nr, sizeof *b.rq_vers);
    b.rq_preads = calloc(nr, sizeof *b.rq_preads);
    if (!b.reads || !b.preads || !b.rvers || !b.writes || !b.pwrites || !b.rqs || !b.prqs ||
        !b.qrs || !b.sums || !b.sum_hashes || !b.rq_reads || !b.rq_vers || !b.rq_preads)
        goto oom;

    Kvrwset__KVRWSet set = KVRWSET__KVRWSET__INIT;
    /* Reads: sorted already; the last read of a key wins (Fabric's map overwrite). */
    for (size_t i = 0; i < s->n_reads; i++) {
        const struct read_rec *rr = &s->reads[i];
        if (strcmp(rr->ns, ns) != 0)
            continue;
        if (i + 1 < s->n_reads && strcmp(s->reads[i + 1].ns, ns) == 0 &&
            strcmp(s->reads[i + 1].key, rr->key) == 0)
            continue;
        Kvrwset__KVRead *kr = &b.reads[set.n_reads];
        kvrwset__kvread__init(kr);
        kr->key = rr->key;
        if (rr->has_ver) {
            Kvrwset__Version *v = &b.rvers[set.n_reads];
            kvrwset__version__init(v);
            v->block_num = rr->ver.block;
            v->tx_num = rr->ver.tx;
            kr->version = v;
        }
        b.preads[set.n_reads++] = kr;
    }
    set.reads = b.preads;
    for (size_t i = 0; i < s->n_ranges; i++) {
        if (strcmp(s->ranges[i].ns, ns) != 0)
            continue;
        r = build_range(&s->ranges[i], &b, i);
        if (r < 0)
            goto oom;
        bool dup = false;
        for (size_t k = 0; k < set.n_range_queries_info && !dup; k++)
            dup = same_range(b.prqs[k], &b.rqs[i]);
        if (!dup)
            b.prqs[set.n_range_queries_info++] = &b.rqs[i];
    }
    set.range_queries_info = b.prqs;
    for (size_t i = 0; i < s->n_writes; i++) {
        const struct write_rec *w = &s->writes[i];
        if (strcmp(w->ns, ns) != 0)
            continue;
        if (i + 1 < s->n_writes && strcmp(s->writes[i + 1].ns, ns) == 0 &&
            strcmp(s->writes[i + 1].key, w->key) == 0)
            continue;
        Kvrwset__KVWrite *kw = &b.writes[set.n_writes];
        kvrwset__kvwrite__init(kw);
        kw->key = w->key;
        kw->is_delete = w->del;
        kw->value.data = w->val;
        kw->value.len = w->val_len;
        b.pwrites[set.n_writes++] = kw;
    }
    set.writes = b.pwrites;
    r = lc_wire_pack(&set.base, max_len, ret_buf, ret_len, err);
    ns_build_free(&b, s->n_ranges);
    return r;
oom:
    ns_build_free(&b, s->n_ranges);
    return lc_fail(err, -ENOMEM, "rwset: out of memory");
}

int endorser_sim_rwset(struct cc_stub *s, size_t max_len, uint8_t **ret_buf, size_t *ret_len,
                       struct lc_errbuf *err)
{
    if (s->n_reads)
        qsort(s->reads, s->n_reads, sizeof *s->reads, cmp_reads);
    if (s->n_writes)
        qsort(s->writes, s->n_writes, sizeof *s->writes, cmp_writes);
    /* The namespaces touched, sorted and unique. */
    size_t cap = s->n_reads + s->n_writes + s->n_ranges;
    const char **nss = calloc(cap ? cap : 1, sizeof *nss);
    if (!nss)
        return lc_fail(err, -ENOMEM, "rwset: out of memory");
    size_t n = 0;
    for (size_t i = 0; i < s->n_reads; i++)
        nss[n++] = s->reads[i].ns;
    for (size_t i = 0; i < s->n_writes; i++)
        nss[n++] = s->writes[i].ns;
    for (size_t i = 0; i < s->n_ranges; i++)
        nss[n++] = s->ranges[i].ns;
    if (n)
        qsort(nss, n, sizeof *nss, cmp_str);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (u == 0 || strcmp(nss[u - 1], nss[i]) != 0)
            nss[u++] = nss[i];

    int r = 0;
    Rwset__NsReadWriteSet *ns = calloc(u ? u : 1, sizeof *ns);
    Rwset__NsReadWriteSet **pns = calloc(u ? u : 1, sizeof *pns);
    if (!ns || !pns) {
        r = lc_fail(err, -ENOMEM, "rwset: out of memory");
        goto out;
    }
    for (size_t i = 0; i < u; i++) {
        rwset__ns_read_write_set__init(&ns[i]);
        ns[i].namespace_ = (char *)nss[i];
        r = pack_ns(s, nss[i], max_len, &ns[i].rwset.data, &ns[i].rwset.len, err);
        if (r < 0)
            goto out;
        pns[i] = &ns[i];
    }
    Rwset__TxReadWriteSet tx = RWSET__TX_READ_WRITE_SET__INIT;
    tx.data_model = RWSET__TX_READ_WRITE_SET__DATA_MODEL__KV;
    tx.n_ns_rwset = u;
    tx.ns_rwset = pns;
    r = lc_wire_pack(&tx.base, max_len, ret_buf, ret_len, err);
out:
    for (size_t i = 0; ns && i < u; i++)
        free(ns[i].rwset.data);
    free(ns);
    free(pns);
    free(nss);
    return r;
}

int endorser_sim_event(struct cc_stub *s, size_t max_len, uint8_t **ret_buf, size_t *ret_len,
                       struct lc_errbuf *err)
{
    if (!s->has_event) {
        *ret_buf = NULL;
        *ret_len = 0;
        return 0;
    }
    Protos__ChaincodeEvent ev = PROTOS__CHAINCODE_EVENT__INIT;
    ev.chaincode_id = (char *)s->in->ns;
    ev.tx_id = (char *)s->in->txid;
    ev.event_name = s->ev_name;
    ev.payload.data = s->ev_payload;
    ev.payload.len = s->ev_len;
    return lc_wire_pack(&ev.base, max_len, ret_buf, ret_len, err);
}
