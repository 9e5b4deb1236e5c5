/* SPDX-License-Identifier: Apache-2.0 */
/* One channel on this orderer: config, block store, cutter, writer and consenter. */
#include "chain.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/common.pb-c.h"
#include "libcommon/crypto.h"
#include "libcommon/log.h"
#include "libcommon/wire.h"

#include "admit.h"
#include "consenter.h"
#include "writer.h"

#define LOG "orderer"
#define DEF_QUEUE_MSGS 1000u
#define DEF_QUEUE_BYTES ((size_t)64 << 20)
#define DEF_IDENTITY_CACHE 1024u
#define MAX_CHANNEL_ID 249

struct orderer_support {
    struct orderer_chain *chain;
};

struct orderer_chain {
    struct orderer_support support;
    char id[MAX_CHANNEL_ID + 1];
    struct lc_chconf *conf;
    struct lc_blockstore *bs;
    struct orderer_cutter *cutter;
    struct orderer_writer *writer;
    const struct orderer_consenter_ops *ops;
    void *impl;
    size_t queue_msgs, queue_bytes;
    bool broken;  /* a block write failed: nothing more is written (consenter thread only) */
    bool started; /* consenter started */
    bool halted;

    pthread_mutex_t mu; /* guards the waiters and serializes order() with their registration */
    struct orderer_task **waiters;
    size_t n_waiters, cap_waiters;
};

/* ---- genesis ------------------------------------------------------------------------------- */

static bool channel_id_ok(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > MAX_CHANNEL_ID || id[0] < 'a' || id[0] > 'z')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-'))
            return false;
    }
    return true;
}

int orderer_chain_peek_id(const uint8_t *genesis, size_t len, char *buf, size_t cap,
                          struct lc_errbuf *err)
{
    Common__Block *b = NULL;
    Common__Envelope *env = NULL;
    struct orderer_env e = {0};
    int r = lc_wire_unpack(&common__block__descriptor, genesis, len, (ProtobufCMessage **)&b, err);
    if (r < 0)
        goto out;
    if (!b->header || b->header->number != 0 || !b->data || b->data->n_data != 1) {
        r = lc_fail(err, LC_EINVALID, "block: not a genesis block (number 0, one envelope)");
        goto out;
    }
    r = LC_WIRE_UNPACK(&common__envelope__descriptor, b->data->data[0], &env, err);
    if (r < 0)
        goto out;
    r = orderer_env_parse(env->payload.data, env->payload.len, &e, err);
    if (r < 0) {
        lc_errbuf_prefix(err, "block: envelope: ");
        goto out;
    }
    if (e.chdr->type != COMMON__HEADER_TYPE__CONFIG) {
        r = lc_fail(err, LC_EINVALID, "block: envelope type %d is not CONFIG", e.chdr->type);
        goto out;
    }
    if (!channel_id_ok(e.chdr->channel_id)) {
        r = lc_fail(err, LC_EINVALID, "block: channel id \"%.64s\" is not valid",
                    e.chdr->channel_id);
        goto out;
    }
    if (strlen(e.chdr->channel_id) >= cap) {
        r = lc_fail(err, LC_ETOOBIG, "block: channel id too long");
        goto out;
    }
    snprintf(buf, cap, "%s", e.chdr->channel_id);
    r = 0;
out:
    orderer_env_done(&e);
    if (env)
        common__envelope__free_unpacked(env, NULL);
    lc_wire_block_free(b);
    return r;
}

/* Checks that the store holds exactly this genesis block as block 0, or puts it there. */
static int put_genesis(struct orderer_chain *ch, const char *dir, const uint8_t *genesis,
                       size_t len, struct lc_errbuf *err)
{
    if (lc_blockstore_height(ch->bs) == 0) {
        Common__Block *b = NULL;
        int r =
            lc_wire_unpack(&common__block__descriptor, genesis, len, (ProtobufCMessage **)&b, err);
        if (r == 0)
            r = lc_wire_block_check_data_hash(b, err);
        lc_wire_block_free(b);
        if (r == 0)
            r = lc_blockstore_append(ch->bs, genesis, len, err);
        if (r < 0)
            lc_errbuf_prefix(err, "genesis block: ");
        else
            lc_log_info(LOG, "chain created channel=%s dir=%s", ch->id, dir);
        return r;
    }
    uint8_t *b0 = NULL;
    size_t b0_len = 0;
    int r = lc_blockstore_get(ch->bs, 0, &b0, &b0_len, err);
    if (r < 0)
        return r;
    if (b0_len != len || memcmp(b0, genesis, len) != 0)
        r = lc_fail(err, LC_EMISMATCH,
                    "block store %s holds another chain: its block 0 is not the genesis block "
                    "given for channel %s",
                    dir, ch->id);
    free(b0);
    return r;
}

/* Loads the config in force: from the newest config block (block 0 until updates exist). */
static int load_config(struct orderer_chain *ch, const uint8_t *genesis, size_t len, size_t cache,
                       struct lc_errbuf *err)
{
    uint64_t lc = orderer_writer_last_config(ch->writer);
    uint8_t *buf = NULL;
    size_t blen = 0;
    int r = 0;
    if (lc != 0) {
        r = lc_blockstore_get(ch->bs, lc, &buf, &blen, err);
        if (r < 0)
            return r;
        genesis = buf;
        len = blen;
    }
    r = lc_chconf_from_block_bytes(genesis, len, cache, err, &ch->conf);
    if (r < 0)
        lc_errbuf_prefix(err, "config block %llu: ", (unsigned long long)lc);
    free(buf);
    return r;
}

/* Peers accept a block only when its signer satisfies /Channel/Orderer/BlockValidation: say
 * so at once when this orderer's identity does not (a misconfiguration, not a reason to stop:
 * the chain is still ordered and stored). */
static void check_block_signer(const struct orderer_chain *ch, const struct lc_signer *s)
{
    static const char probe[] = "weft orderer block signer check";
    uint8_t sig[LC_ECDSA_SIG_MAX];
    size_t sig_len = 0, creator_len = 0;
    const uint8_t *creator = lc_signer_serialized(s, &creator_len);
    struct lc_errbuf eb = {{0}};
    int r = lc_signer_sign(s, probe, sizeof probe, sig, &sig_len);
    if (r == 0)
        r = orderer_check_signer(ch->conf, "/Channel/Orderer/BlockValidation", creator, creator_len,
                                 (const uint8_t *)probe, sizeof probe, sig, sig_len, time(NULL),
                                 NULL, &eb);
    if (r < 0)
        lc_log_warn(LOG,
                    "this orderer's identity does not satisfy /Channel/Orderer/BlockValidation: "
                    "peers will reject its blocks channel=%s mspid=%s cause=\"%s\"",
                    ch->id, lc_signer_mspid(s), eb.msg);
}

int orderer_chain_open(const uint8_t *genesis, size_t len, const struct orderer_chain_opts *o,
                       struct orderer_chain **ret, struct lc_errbuf *err)
{
    char *dir = NULL;
    struct orderer_chain *ch = calloc(1, sizeof *ch);
    if (!ch)
        return lc_fail(err, -ENOMEM, "out of memory");
    ch->support.chain = ch;
    pthread_mutex_init(&ch->mu, NULL);
    ch->queue_msgs = o->queue_msgs ? o->queue_msgs : DEF_QUEUE_MSGS;
    ch->queue_bytes = o->queue_bytes ? o->queue_bytes : DEF_QUEUE_BYTES;
    int r = orderer_chain_peek_id(genesis, len, ch->id, sizeof ch->id, err);
    if (r < 0)
        goto fail;
    if (asprintf(&dir, "%s/%s", o->data_dir, ch->id) < 0) {
        dir = NULL;
        r = lc_fail(err, -ENOMEM, "out of memory");
        goto fail;
    }
    struct lc_blockstore_options bo = {.sync = o->sync, .verify_tail = o->verify_tail};
    r = lc_blockstore_open(dir, &bo, &ch->bs, err);
    if (r < 0)
        goto fail;
    r = put_genesis(ch, dir, genesis, len, err);
    if (r < 0)
        goto fail;
    r = orderer_writer_new(ch->bs, o->signer, &ch->writer, err);
    if (r < 0)
        goto fail;
    r = load_config(ch, genesis, len, o->identity_cache ? o->identity_cache : DEF_IDENTITY_CACHE,
                    err);
    if (r < 0)
        goto fail;
    check_block_signer(ch, o->signer);
    const char *type = lc_chconf_consensus_type(ch->conf);
    ch->ops = orderer_consenter_find(type);
    if (!ch->ops) {
        r = lc_fail(err, -ENOTSUP, "consensus type \"%s\" is not supported by this orderer", type);
        goto fail;
    }
    r = orderer_cutter_new(lc_chconf_batch_max_message_count(ch->conf),
                           lc_chconf_batch_preferred_max_bytes(ch->conf), &ch->cutter, err);
    if (r < 0)
        goto fail;
    r = ch->ops->create(&ch->support, &ch->impl, err);
    if (r < 0)
        goto fail;
    lc_log_info(LOG, "chain opened channel=%s height=%llu last_config=%llu consensus=%s", ch->id,
                (unsigned long long)lc_blockstore_height(ch->bs),
                (unsigned long long)orderer_writer_last_config(ch->writer), type);
    free(dir);
    *ret = ch;
    return 0;
fail:
    if (ch->id[0])
        lc_errbuf_prefix(err, "channel %s: ", ch->id);
    free(dir);
    orderer_chain_free(ch);
    return r;
}

int orderer_chain_start(struct orderer_chain *ch, struct lc_errbuf *err)
{
    int r = ch->ops->start(ch->impl, err);
    if (r == 0)
        ch->started = true;
    return r;
}

void orderer_chain_halt(struct orderer_chain *ch)
{
    if (!ch || ch->halted)
        return;
    ch->halted = true;
    if (ch->impl)
        ch->ops->halt(ch->impl);
    if (ch->bs)
        lc_blockstore_shutdown(ch->bs);
}

void orderer_chain_free(struct orderer_chain *ch)
{
    if (!ch)
        return;
    orderer_chain_halt(ch);
    if (ch->impl)
        ch->ops->destroy(ch->impl);
    orderer_cutter_free(ch->cutter);
    orderer_writer_free(ch->writer);
    lc_blockstore_close(ch->bs);
    lc_chconf_free(ch->conf);
    free(ch->waiters);
    pthread_mutex_destroy(&ch->mu);
    free(ch);
}

const char *orderer_chain_id(const struct orderer_chain *ch)
{
    return ch->id;
}

const struct lc_chconf *orderer_chain_chconf(const struct orderer_chain *ch)
{
    return ch->conf;
}

uint64_t orderer_chain_sequence(const struct orderer_chain *ch)
{
    return lc_chconf_sequence(ch->conf);
}

struct lc_blockstore *orderer_chain_store(struct orderer_chain *ch)
{
    return ch->bs;
}

const char *orderer_chain_consensus_type(const struct orderer_chain *ch)
{
    return ch->ops->type;
}

int orderer_chain_ready(struct orderer_chain *ch, struct lc_errbuf *err)
{
    return ch->ops->ready(ch->impl, err);
}

bool orderer_chain_errored(struct orderer_chain *ch)
{
    return ch->ops->errored(ch->impl);
}

int orderer_chain_order(struct orderer_chain *ch, struct orderer_msg *msg, uint64_t config_seq,
                        struct orderer_task *waiter)
{
    pthread_mutex_lock(&ch->mu);
    int r = ch->ops->order(ch->impl, msg, config_seq);
    if (r == -EAGAIN && waiter) {
        bool have = false;
        for (size_t i = 0; i < ch->n_waiters && !have; i++)
            have = ch->waiters[i] == waiter;
        if (!have) {
            if (ch->n_waiters == ch->cap_waiters) {
                size_t cap = ch->cap_waiters ? 2 * ch->cap_waiters : 16;
                struct orderer_task **w = realloc(ch->waiters, cap * sizeof *w);
                if (!w) {
                    pthread_mutex_unlock(&ch->mu);
                    return -ENOMEM;
                }
                ch->waiters = w;
                ch->cap_waiters = cap;
            }
            ch->waiters[ch->n_waiters++] = waiter;
        }
    }
    pthread_mutex_unlock(&ch->mu);
    return r;
}

void orderer_chain_forget(struct orderer_chain *ch, struct orderer_task *waiter)
{
    pthread_mutex_lock(&ch->mu);
    for (size_t i = 0; i < ch->n_waiters; i++)
        if (ch->waiters[i] == waiter) {
            ch->waiters[i] = ch->waiters[--ch->n_waiters];
            break;
        }
    pthread_mutex_unlock(&ch->mu);
}

/* ---- support ------------------------------------------------------------------------------- */

const char *orderer_support_channel_id(const struct orderer_support *s)
{
    return s->chain->id;
}

const struct lc_chconf *orderer_support_chconf(const struct orderer_support *s)
{
    return s->chain->conf;
}

uint64_t orderer_support_sequence(const struct orderer_support *s)
{
    return lc_chconf_sequence(s->chain->conf);
}

uint64_t orderer_support_height(const struct orderer_support *s)
{
    return lc_blockstore_height(s->chain->bs);
}

void orderer_support_queue_limits(const struct orderer_support *s, size_t *ret_msgs,
                                  size_t *ret_bytes)
{
    *ret_msgs = s->chain->queue_msgs;
    *ret_bytes = s->chain->queue_bytes;
}

struct orderer_cutter *orderer_support_cutter(struct orderer_support *s)
{
    return s->chain->cutter;
}

int orderer_support_write_block(struct orderer_support *s, struct orderer_batch *batch,
                                bool is_config, const uint8_t *cmd, size_t cmd_len)
{
    struct orderer_chain *ch = s->chain;
    int r = LC_EUNAVAIL;
    if (!ch->broken && batch->n) {
        struct lc_errbuf eb = {{0}};
        uint64_t number = 0;
        r = orderer_writer_write(ch->writer, batch->msgs, batch->n, is_config, cmd, cmd_len, false,
                                 &number, &eb);
        if (r < 0) {
            ch->broken = true;
            lc_log_err(LOG, "block write failed, chain stops channel=%s cause=\"%s\"", ch->id,
                       eb.msg);
        } else {
            lc_log_debug(LOG, "block cut channel=%s number=%llu txs=%zu", ch->id,
                         (unsigned long long)number, batch->n);
        }
    } else if (!batch->n) {
        r = 0;
    }
    orderer_batch_done(batch);
    return r;
}

int orderer_support_last_consenter_metadata(struct orderer_support *s, uint8_t **ret_md,
                                            size_t *ret_len, struct lc_errbuf *err)
{
    struct orderer_chain *ch = s->chain;
    uint64_t h = lc_blockstore_height(ch->bs);
    uint8_t *buf = NULL;
    size_t len = 0;
    Common__Block *b = NULL;
    int r = lc_blockstore_get(ch->bs, h - 1, &buf, &len, err);
    if (r < 0)
        return r;
    r = lc_wire_unpack(&common__block__descriptor, buf, len, (ProtobufCMessage **)&b, err);
    free(buf);
    if (r == 0)
        r = orderer_block_consenter_metadata(b, ret_md, ret_len, err);
    lc_wire_block_free(b);
    return r;
}

int orderer_support_revalidate(struct orderer_support *s, const struct orderer_msg *msg,
                               uint64_t *ret_seq, struct lc_errbuf *err)
{
    struct orderer_chain *ch = s->chain;
    Common__Envelope *env = NULL;
    struct orderer_env e = {0};
    int r = lc_wire_unpack(&common__envelope__descriptor, msg->bytes, msg->len,
                           (ProtobufCMessage **)&env, err);
    if (r < 0)
        return r;
    r = orderer_env_parse(env->payload.data, env->payload.len, &e, err);
    if (r == 0) {
        Common__Status st =
            orderer_admit_normal(ch->conf, &e, env->payload.data, env->payload.len,
                                 env->signature.data, env->signature.len, time(NULL), err);
        r = st == COMMON__STATUS__SUCCESS ? 0 : LC_EPOLICY;
    }
    orderer_env_done(&e);
    common__envelope__free_unpacked(env, NULL);
    if (r == 0)
        *ret_seq = lc_chconf_sequence(ch->conf);
    return r;
}

void orderer_support_room(struct orderer_support *s)
{
    struct orderer_chain *ch = s->chain;
    /* Scheduled under the lock: a stream that ends forgets itself under it before its task is
     * retired, so no task here can be gone. */
    pthread_mutex_lock(&ch->mu);
    for (size_t i = 0; i < ch->n_waiters; i++)
        orderer_task_schedule(ch->waiters[i]);
    ch->n_waiters = 0;
    pthread_mutex_unlock(&ch->mu);
}
