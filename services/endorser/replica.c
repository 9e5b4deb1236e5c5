/* SPDX-License-Identifier: Apache-2.0 */
/* The endorser's state replica follower: one thread per channel reading the committer's
 * committed-block feed and applying valid writes in block order. */
#include "replica.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/common.pb-c.h"
#include "ledger/rwset/kvrwset/kv_rwset.pb-c.h"
#include "ledger/rwset/rwset.pb-c.h"
#include "libcommon/kv.h"
#include "libcommon/log.h"
#include "libcommon/rpc.h"
#include "libcommon/wire.h"
#include "peer/proposal.pb-c.h"
#include "peer/proposal_response.pb-c.h"
#include "peer/transaction.pb-c.h"
#include "weft/committer.pb-c.h"

#define LOG "replica"
#define RECV_POLL_MS 500
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

struct endorser_replica {
    struct lc_state *st;
    const char *channel;
    const char *const *committers;
    size_t n;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    struct lc_rpc_stream *stream; /* the open stream, for cancel on stop (under mu) */
    uint8_t tip_hash[LC_WIRE_HASH_LEN];
    bool have_tip;
};

/* Decoded pieces of one transaction that must stay alive while its writes are applied. */
struct txparts {
    Common__Envelope *env;
    Common__Payload *pl;
    Common__ChannelHeader *ch;
    Common__SignatureHeader *sh;
    const char *txid; /* the TxID to index (in ch), or NULL */
    Protos__Transaction *tx;
    Protos__ChaincodeActionPayload *cap;
    Protos__ProposalResponsePayload *prp;
    Protos__ChaincodeAction *act;
    Rwset__TxReadWriteSet *rws;
    Kvrwset__KVRWSet **kv;
    size_t n_kv;
    struct lc_state_write *writes;
    size_t n_writes;
};

static void txparts_done(struct txparts *p)
{
    for (size_t i = 0; i < p->n_kv; i++)
        if (p->kv[i])
            kvrwset__kvrwset__free_unpacked(p->kv[i], NULL);
    free(p->kv);
    free(p->writes);
    if (p->rws)
        rwset__tx_read_write_set__free_unpacked(p->rws, NULL);
    if (p->act)
        protos__chaincode_action__free_unpacked(p->act, NULL);
    if (p->prp)
        protos__proposal_response_payload__free_unpacked(p->prp, NULL);
    if (p->cap)
        protos__chaincode_action_payload__free_unpacked(p->cap, NULL);
    if (p->tx)
        protos__transaction__free_unpacked(p->tx, NULL);
    if (p->sh)
        common__signature_header__free_unpacked(p->sh, NULL);
    if (p->ch)
        common__channel_header__free_unpacked(p->ch, NULL);
    if (p->pl)
        common__payload__free_unpacked(p->pl, NULL);
    if (p->env)
        common__envelope__free_unpacked(p->env, NULL);
    memset(p, 0, sizeof *p);
}

#define UNPACK(type, field, bin)                                                                   \
    (lc_wire_unpack(&type##__descriptor, (bin).data, (bin).len, (ProtobufCMessage **)&(field),     \
                    err) == 0)

/* The TxID the committer indexes for this transaction, by its rules (services/committer/
 * validate.c): one whose common headers pass (header type, epoch 0, a signature header with nonce
 * and creator) and whose TxID has the right length, unless it was found forged
 * (BAD_PROPOSAL_TXID). NULL for none. */
static const char *indexed_txid(struct txparts *p, uint8_t code)
{
    struct lc_errbuf scratch = {{0}}, *err = &scratch;
    int32_t type = p->ch->type;
    if (type != COMMON__HEADER_TYPE__CONFIG && type != COMMON__HEADER_TYPE__CONFIG_UPDATE &&
        type != COMMON__HEADER_TYPE__ENDORSER_TRANSACTION)
        return NULL;
    if (p->ch->epoch != 0 ||
        !UNPACK(common__signature_header, p->sh, p->pl->header->signature_header) ||
        p->sh->nonce.len == 0 || p->sh->creator.len == 0)
        return NULL;
    if (strlen(p->ch->tx_id) != LC_WIRE_TXID_LEN ||
        code == PROTOS__TX_VALIDATION_CODE__BAD_PROPOSAL_TXID)
        return NULL;
    return p->ch->tx_id;
}

/* The TxID and, for a VALID endorser transaction, its writes. A valid transaction the committer
 * accepted always decodes; anything else is LC_EDECODE (the feed is not what it claims). */
static int tx_decode(const ProtobufCBinaryData *data, uint8_t code, struct txparts *p,
                     struct lc_errbuf *err)
{
    if (!UNPACK(common__envelope, p->env, *data))
        return code == 0 ? LC_EDECODE : 0;
    if (!UNPACK(common__payload, p->pl, p->env->payload) || !p->pl->header)
        return code == 0 ? LC_EDECODE : 0;
    if (!UNPACK(common__channel_header, p->ch, p->pl->header->channel_header))
        return code == 0 ? LC_EDECODE : 0;
    p->txid = indexed_txid(p, code);
    if (code != 0 || p->ch->type != COMMON__HEADER_TYPE__ENDORSER_TRANSACTION)
        return 0;
    if (!UNPACK(protos__transaction, p->tx, p->pl->data) || p->tx->n_actions != 1 ||
        !UNPACK(protos__chaincode_action_payload, p->cap, p->tx->actions[0]->payload) ||
        !p->cap->action ||
        !UNPACK(protos__proposal_response_payload, p->prp,
                p->cap->action->proposal_response_payload) ||
        !UNPACK(protos__chaincode_action, p->act, p->prp->extension) ||
        !UNPACK(rwset__tx_read_write_set, p->rws, p->act->results))
        return LC_EDECODE;
    size_t total = 0;
    p->kv = calloc(p->rws->n_ns_rwset ? p->rws->n_ns_rwset : 1, sizeof *p->kv);
    if (!p->kv)
        return -ENOMEM;
    p->n_kv = p->rws->n_ns_rwset;
    for (size_t i = 0; i < p->n_kv; i++) {
        if (!UNPACK(kvrwset__kvrwset, p->kv[i], p->rws->ns_rwset[i]->rwset))
            return LC_EDECODE;
        total += p->kv[i]->n_writes;
    }
    p->writes = calloc(total ? total : 1, sizeof *p->writes);
    if (!p->writes)
        return -ENOMEM;
    for (size_t i = 0; i < p->n_kv; i++)
        for (size_t j = 0; j < p->kv[i]->n_writes; j++) {
            const Kvrwset__KVWrite *w = p->kv[i]->writes[j];
            p->writes[p->n_writes++] = (struct lc_state_write){
                .ns = p->rws->ns_rwset[i]->namespace_,
                .key = w->key,
                .key_len = strlen(w->key),
                .value = w->value.data,
                .value_len = w->value.len,
                .is_delete = w->is_delete,
            };
        }
    return 0;
}

/* Applies one committed block that must be the replica's next. */
static int apply(struct endorser_replica *r, const Common__Block *b, uint64_t height,
                 struct lc_errbuf *err)
{
    if (!b->header || !b->data || !b->metadata || b->metadata->n_metadata < 3)
        return lc_fail(err, LC_EDECODE, "block without header, data or filter");
    if (b->header->number != height)
        return lc_fail(err, LC_EMISMATCH, "block %llu does not follow height %llu",
                       (unsigned long long)b->header->number, (unsigned long long)height);
    if (r->have_tip && (b->header->previous_hash.len != LC_WIRE_HASH_LEN ||
                        memcmp(b->header->previous_hash.data, r->tip_hash, LC_WIRE_HASH_LEN)))
        return lc_fail(err, LC_EMISMATCH, "block %llu does not link to the block before it",
                       (unsigned long long)height);
    size_t n = b->data->n_data;
    const ProtobufCBinaryData *filter = &b->metadata->metadata[2];
    if (filter->len != n)
        return lc_fail(err, LC_EDECODE, "block %llu: filter has %zu codes for %zu transactions",
                       (unsigned long long)height, filter->len, n);
    struct txparts *parts = calloc(n ? n : 1, sizeof *parts);
    struct lc_state_tx *txs = calloc(n ? n : 1, sizeof *txs);
    int rc = parts && txs ? 0 : -ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = tx_decode(&b->data->data[i], filter->data[i], &parts[i], err);
        txs[i].code = filter->data[i];
        txs[i].txid = parts[i].txid;
        txs[i].writes = parts[i].writes;
        txs[i].n_writes = parts[i].n_writes;
    }
    if (rc == 0)
        rc = lc_state_commit_block(r->st, height, txs, n, err);
    if (rc == 0) {
        rc = lc_wire_header_hash(b->header, r->tip_hash);
        r->have_tip = rc == 0;
    }
    for (size_t i = 0; parts && i < n; i++)
        txparts_done(&parts[i]);
    free(parts);
    free(txs);
    return rc;
}

/* Takes the header hash of block number (the last one the replica applied) as the tip. */
static int set_anchor(struct endorser_replica *r, const Common__Block *b, uint64_t number,
                      struct lc_errbuf *err)
{
    if (!b->header)
        return lc_fail(err, LC_EDECODE, "block without header");
    if (b->header->number != number)
        return lc_fail(err, LC_EMISMATCH, "block %llu is not the replica's last block %llu",
                       (unsigned long long)b->header->number, (unsigned long long)number);
    int rc = lc_wire_header_hash(b->header, r->tip_hash);
    r->have_tip = rc == 0;
    return rc;
}

static bool stopping(struct endorser_replica *r)
{
    pthread_mutex_lock(&r->mu);
    bool s = r->stop;
    pthread_mutex_unlock(&r->mu);
    return s;
}

static uint64_t replica_height(struct endorser_replica *r, struct lc_errbuf *err, int *rc)
{
    struct lc_kv_txn *txn = NULL;
    uint64_t h = 0;
    *rc = lc_kv_txn_begin_read(lc_state_env(r->st), &txn, err);
    if (*rc == 0)
        *rc = lc_state_height(r->st, txn, &h, err);
    lc_kv_txn_abort(txn);
    return h;
}

/* One connection: stream blocks from the replica's height until an error or stop. Returns
 * whether it applied a block (the caller then starts its back-off afresh). */
static bool follow_once(struct endorser_replica *r, const char *target)
{
    bool applied = false;
    struct lc_errbuf err = {{0}};
    struct lc_rpc_client *cli = NULL;
    struct lc_rpc_stream *s = NULL;
    int rc;
    uint64_t height = replica_height(r, &err, &rc);
    if (rc < 0)
        goto out;
    if ((rc = lc_rpc_client_new(target, NULL, &err, &cli)) < 0 ||
        (rc = lc_rpc_stream_open(cli, "/weft.Committer/Blocks", -1, &s)) < 0)
        goto out;
    pthread_mutex_lock(&r->mu);
    r->stream = r->stop ? NULL : s;
    bool stop = r->stop;
    pthread_mutex_unlock(&r->mu);
    if (stop)
        goto out;
    /* Without the header hash of the last applied block (a fresh start), the stream begins one
     * block earlier: that block, which must be height - 1, anchors the previous-hash check. */
    bool anchor = !r->have_tip && height > 0;
    Weft__BlocksRequest req = WEFT__BLOCKS_REQUEST__INIT;
    req.channel_id = (char *)r->channel;
    req.start = anchor ? height - 1 : height;
    if ((rc = lc_rpc_stream_send(s, &req.base, 5000)) < 0 ||
        (rc = lc_rpc_stream_close_send(s, 5000)) < 0)
        goto out;
    lc_log_debug(LOG, "following channel=%s committer=%s from=%llu", r->channel, target,
                 (unsigned long long)height);
    while (!stopping(r)) {
        ProtobufCMessage *m = NULL;
        rc = lc_rpc_stream_recv(s, &common__block__descriptor, RECV_POLL_MS, &m);
        if (rc == -EAGAIN)
            continue;
        if (rc < 0)
            break;
        if (anchor) {
            rc = set_anchor(r, (Common__Block *)m, height - 1, &err);
            protobuf_c_message_free_unpacked(m, NULL);
            if (rc < 0)
                break;
            anchor = false;
            continue;
        }
        rc = apply(r, (Common__Block *)m, height, &err);
        protobuf_c_message_free_unpacked(m, NULL);
        if (rc < 0)
            break;
        lc_log_info(LOG, "replica applied channel=%s number=%llu", r->channel,
                    (unsigned long long)height);
        height++;
        applied = true;
    }
out:
    if (rc < 0 && rc != -EAGAIN && !stopping(r))
        lc_log_warn(LOG, "follow failed channel=%s committer=%s cause=\"%s\"", r->channel, target,
                    err.msg[0] ? err.msg : lc_strerror(rc));
    pthread_mutex_lock(&r->mu);
    r->stream = NULL;
    pthread_mutex_unlock(&r->mu);
    lc_rpc_stream_free(s);
    lc_rpc_client_free(cli);
    return applied;
}

static void *follow(void *arg)
{
    struct endorser_replica *r = arg;
    int backoff = BACKOFF_MIN_MS;
    for (size_t i = 0; !stopping(r); i = (i + 1) % r->n) {
        if (follow_once(r, r->committers[i]))
            backoff = BACKOFF_MIN_MS;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += backoff / 1000;
        until.tv_nsec += (long)(backoff % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&r->mu);
        while (!r->stop && pthread_cond_timedwait(&r->cv, &r->mu, &until) != ETIMEDOUT)
            ;
        pthread_mutex_unlock(&r->mu);
        backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
    }
    return NULL;
}

int endorser_replica_start(struct lc_state *st, const char *channel, const char *const *committers,
                           size_t n, struct lc_errbuf *err, struct endorser_replica **ret)
{
    if (!st || !channel || !committers || n == 0)
        return lc_fail(err, LC_EINVALID, "replica: no state, channel or committer");
    struct endorser_replica *r = calloc(1, sizeof *r);
    if (!r)
        return lc_fail(err, -ENOMEM, "replica: out of memory");
    r->st = st;
    r->channel = channel;
    r->committers = committers;
    r->n = n;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    if (pthread_create(&r->thread, NULL, follow, r) != 0) {
        pthread_cond_destroy(&r->cv);
        pthread_mutex_destroy(&r->mu);
        free(r);
        return lc_fail(err, -EAGAIN, "replica: cannot start a thread");
    }
    *ret = r;
    return 0;
}

void endorser_replica_stop(struct endorser_replica *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->mu);
    r->stop = true;
    if (r->stream)
        lc_rpc_stream_cancel(r->stream);
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    free(r);
}
