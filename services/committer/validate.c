/* SPDX-License-Identifier: Apache-2.0 */
/* Per-transaction validation in Fabric's order (wire facts §9 steps 1-11), VSCC included. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.pb-c.h"
#include "peer/chaincode_event.pb-c.h"

#include "libcommon/chconf.h"
#include "libcommon/msp.h"
#include "libcommon/policy.h"
#include "libcommon/proposal.h"
#include "libcommon/state.h"
#include "libcommon/wire.h"

#include "committer.h"

/* Most endorsements one transaction may carry. */
#define MAX_ENDORSEMENTS 64

static void set_code(struct committer_tx *t, uint8_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_code(struct committer_tx *t, uint8_t code, const char *fmt, ...)
{
    va_list ap;
    t->code = code;
    va_start(ap, fmt);
    vsnprintf(t->why.msg, sizeof t->why.msg, fmt, ap);
    va_end(ap);
}

#define UNPACK(desc, bin, ret) (LC_WIRE_UNPACK((desc), (bin), (ret), NULL) == 0)

/* The creator must belong to the channel and have signed the payload bytes (step 4). */
static bool check_creator(const struct lc_chconf *cc, const Common__Envelope *env,
                          const Common__SignatureHeader *shdr, struct committer_tx *t)
{
    struct lc_identity *id = NULL;
    struct lc_errbuf e;
    int r = lc_msp_mgr_deserialize(lc_chconf_msp_mgr(cc), shdr->creator.data, shdr->creator.len, &e,
                                   &id);
    if (r == 0)
        r = lc_identity_verify(id, env->payload.data, env->payload.len, env->signature.data,
                               env->signature.len, &e);
    lc_identity_unref(id);
    if (r < 0) {
        t->code = PROTOS__TX_VALIDATION_CODE__BAD_CREATOR_SIGNATURE;
        lc_fail(&t->why, r, "creator: %s", e.msg);
        return false;
    }
    return true;
}

/* Transaction shape and proposal hash (step 5, INVALID_ENDORSER_TRANSACTION). */
static bool check_endorser_tx(struct committer_tx *t)
{
    const uint8_t code = PROTOS__TX_VALIDATION_CODE__INVALID_ENDORSER_TRANSACTION;
    if (!UNPACK(&protos__transaction__descriptor, t->payload->data, &t->tx)) {
        set_code(t, code, "%s does not decode", "Transaction");
        return false;
    }
    if (t->tx->n_actions != 1) {
        set_code(t, code, "%s: not exactly one action", "Transaction");
        return false;
    }
    const Protos__TransactionAction *a = t->tx->actions[0];
    Common__SignatureHeader *ash = NULL;
    if (!UNPACK(&common__signature_header__descriptor, a->header, &ash) || ash->creator.len == 0 ||
        ash->nonce.len == 0) {
        if (ash)
            common__signature_header__free_unpacked(ash, NULL);
        set_code(t, code, "%s: bad action signature header", "Transaction");
        return false;
    }
    common__signature_header__free_unpacked(ash, NULL);
    if (!UNPACK(&protos__chaincode_action_payload__descriptor, a->payload, &t->cap) ||
        !t->cap->action) {
        set_code(t, code, "%s does not decode", "ChaincodeActionPayload");
        return false;
    }
    if (!UNPACK(&protos__proposal_response_payload__descriptor,
                t->cap->action->proposal_response_payload, &t->prp)) {
        set_code(t, PROTOS__TX_VALIDATION_CODE__BAD_RESPONSE_PAYLOAD, "%s does not decode",
                 "ProposalResponsePayload");
        return false;
    }
    uint8_t h[LC_PROPOSAL_HASH_LEN];
    lc_proposal_hash2(t->payload->header->channel_header.data,
                      t->payload->header->channel_header.len, a->header.data, a->header.len,
                      t->cap->chaincode_proposal_payload.data,
                      t->cap->chaincode_proposal_payload.len, h);
    if (t->prp->proposal_hash.len != sizeof h || memcmp(t->prp->proposal_hash.data, h, sizeof h)) {
        set_code(t, code, "%s", "proposal hash mismatch");
        return false;
    }
    return true;
}

/* The chaincode action and the endorsement policies (step 9). */
static void check_action(const struct lc_chconf *cc, struct committer_tx *t)
{
    Protos__ChaincodeHeaderExtension *ext = NULL;
    Protos__ChaincodeEvent *ev = NULL;
    struct lc_signed_data *sd = NULL;
    uint8_t **bufs = NULL;
    size_t n_e = 0;

    if (!UNPACK(&protos__chaincode_header_extension__descriptor, t->chdr->extension, &ext)) {
        set_code(t, PROTOS__TX_VALIDATION_CODE__BAD_HEADER_EXTENSION, "%s does not decode",
                 "ChaincodeHeaderExtension");
        goto out;
    }
    if (!UNPACK(&protos__chaincode_action__descriptor, t->prp->extension, &t->act)) {
        set_code(t, PROTOS__TX_VALIDATION_CODE__BAD_RESPONSE_PAYLOAD, "%s does not decode",
                 "ChaincodeAction");
        goto out;
    }
    if (!UNPACK(&rwset__tx_read_write_set__descriptor, t->act->results, &t->rws)) {
        set_code(t, PROTOS__TX_VALIDATION_CODE__BAD_RWSET, "%s does not decode", "TxReadWriteSet");
        goto out;
    }
    t->kv = calloc(t->rws->n_ns_rwset ? t->rws->n_ns_rwset : 1, sizeof *t->kv);
    if (!t->kv) {
        set_code(t, PROTOS__TX_VALIDATION_CODE__INVALID_OTHER_REASON, "%s", "out of memory");
        goto out;
    }
    for (size_t i = 0; i < t->rws->n_ns_rwset; i++) {
        if (!UNPACK(&kvrwset__kvrwset__descriptor, t->rws->ns_rwset[i]->rwset, &t->kv[i])) {
            set_code(t, PROTOS__TX_VALIDATION_CODE__BAD_RWSET, "%s does not decode", "KVRWSet");
            goto out;
        }
    }
    if (!ext->chaincode_id || !t->act->chaincode_id) {
        set_code(t, PROTOS__TX_VALIDATION_CODE__INVALID_OTHER_REASON, "%s", "no chaincode id");
        goto out;
    }
    const char *name = ext->chaincode_id->name;
    const char *version = t->act->chaincode_id->version;
    if (!name[0] || strcmp(name, t->act->chaincode_id->name) != 0 || !version[0]) {
        set_code(t, PROTOS__TX_VALIDATION_CODE__INVALID_CHAINCODE, "chaincode %s: name mismatch",
                 name);
        goto out;
    }
    const Weft__ChaincodeDefinition *def = lc_chconf_chaincode(cc, name);
    if (!def) {
        set_code(t, PROTOS__TX_VALIDATION_CODE__INVALID_CHAINCODE,
                 "chaincode %s not defined on the channel", name);
        goto out;
    }
    if (strcmp(def->version, version) != 0) {
        set_code(t, PROTOS__TX_VALIDATION_CODE__CHAINCODE_VERSION_CONFLICT,
                 "chaincode %s: version differs from its definition", name);
        goto out;
    }
    if (t->act->events.len > 0) {
        if (!UNPACK(&protos__chaincode_event__descriptor, t->act->events, &ev) ||
            strcmp(ev->chaincode_id, name) != 0) {
            set_code(t, PROTOS__TX_VALIDATION_CODE__INVALID_OTHER_REASON,
                     "chaincode %s: event of another chaincode", name);
            goto out;
        }
    }
    for (size_t i = 0; i < t->rws->n_ns_rwset; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(t->rws->ns_rwset[i]->namespace_, t->rws->ns_rwset[j]->namespace_) == 0) {
                set_code(t, PROTOS__TX_VALIDATION_CODE__ILLEGAL_WRITESET,
                         "namespace %s appears twice", t->rws->ns_rwset[i]->namespace_);
                goto out;
            }

    /* VSCC: each endorsement is signed data {prp ‖ endorser, endorser, signature} (trap 3). */
    const Protos__ChaincodeEndorsedAction *ea = t->cap->action;
    n_e = ea->n_endorsements;
    if (n_e == 0 || n_e > MAX_ENDORSEMENTS) {
        set_code(t, PROTOS__TX_VALIDATION_CODE__ENDORSEMENT_POLICY_FAILURE,
                 "chaincode %s: no or too many endorsements", name);
        goto out;
    }
    sd = calloc(n_e, sizeof *sd);
    bufs = calloc(n_e, sizeof *bufs);
    if (!sd || !bufs) {
        set_code(t, PROTOS__TX_VALIDATION_CODE__INVALID_OTHER_REASON, "%s", "out of memory");
        goto out;
    }
    const ProtobufCBinaryData *prp = &ea->proposal_response_payload;
    for (size_t i = 0; i < n_e; i++) {
        const Protos__Endorsement *e = ea->endorsements[i];
        bufs[i] = malloc(prp->len + e->endorser.len + 1);
        if (!bufs[i]) {
            set_code(t, PROTOS__TX_VALIDATION_CODE__INVALID_OTHER_REASON, "%s", "out of memory");
            goto out;
        }
        if (prp->len)
            memcpy(bufs[i], prp->data, prp->len);
        if (e->endorser.len)
            memcpy(bufs[i] + prp->len, e->endorser.data, e->endorser.len);
        sd[i] =
            (struct lc_signed_data){bufs[i],         prp->len + e->endorser.len, e->endorser.data,
                                    e->endorser.len, e->signature.data,          e->signature.len};
    }
    /* The invoked chaincode's policy, then that of every other namespace it wrote. */
    for (size_t i = 0; i <= t->rws->n_ns_rwset; i++) {
        const char *ns = name;
        if (i > 0) {
            ns = t->rws->ns_rwset[i - 1]->namespace_;
            if (strcmp(ns, name) == 0 || t->kv[i - 1]->n_writes == 0)
                continue;
        }
        struct lc_errbuf e;
        int r = lc_chconf_chaincode_policy_eval(cc, ns, sd, n_e, &e);
        if (r < 0) {
            t->code = PROTOS__TX_VALIDATION_CODE__ENDORSEMENT_POLICY_FAILURE;
            lc_fail(&t->why, r, "vscc: %s", e.msg);
            goto out;
        }
    }
out:
    if (bufs)
        for (size_t i = 0; i < n_e; i++)
            free(bufs[i]);
    free(bufs);
    free(sd);
    if (ev)
        protos__chaincode_event__free_unpacked(ev, NULL);
    if (ext)
        protos__chaincode_header_extension__free_unpacked(ext, NULL);
}

void committer_tx_validate(const struct lc_chconf *cc, const uint8_t *data, size_t len,
                           struct committer_tx *t)
{
    t->code = 0;
    if (len == 0) {
        set_code(t, PROTOS__TX_VALIDATION_CODE__NIL_ENVELOPE, "%s is empty", "envelope");
        return;
    }
    ProtobufCBinaryData raw = {len, (uint8_t *)data};
    if (!UNPACK(&common__envelope__descriptor, raw, &t->env)) {
        set_code(t, PROTOS__TX_VALIDATION_CODE__INVALID_OTHER_REASON, "%s does not decode",
                 "Envelope");
        return;
    }
    if (!UNPACK(&common__payload__descriptor, t->env->payload, &t->payload)) {
        set_code(t, PROTOS__TX_VALIDATION_CODE__BAD_PAYLOAD, "%s does not decode", "Payload");
        return;
    }
    if (!t->payload->header) {
        set_code(t, PROTOS__TX_VALIDATION_CODE__BAD_COMMON_HEADER, "%s", "payload has no header");
        return;
    }
    if (!UNPACK(&common__channel_header__descriptor, t->payload->header->channel_header,
                &t->chdr)) {
        set_code(t, PROTOS__TX_VALIDATION_CODE__BAD_CHANNEL_HEADER, "%s does not decode",
                 "ChannelHeader");
        return;
    }
    int32_t type = t->chdr->type;
    if (type != COMMON__HEADER_TYPE__CONFIG && type != COMMON__HEADER_TYPE__CONFIG_UPDATE &&
        type != COMMON__HEADER_TYPE__ENDORSER_TRANSACTION) {
        set_code(t, PROTOS__TX_VALIDATION_CODE__BAD_COMMON_HEADER, "%s", "header type not allowed");
        return;
    }
    if (t->chdr->epoch != 0) {
        set_code(t, PROTOS__TX_VALIDATION_CODE__BAD_COMMON_HEADER, "%s", "epoch is not 0");
        return;
    }
    if (!UNPACK(&common__signature_header__descriptor, t->payload->header->signature_header,
                &t->shdr)) {
        set_code(t, PROTOS__TX_VALIDATION_CODE__BAD_COMMON_HEADER, "%s does not decode",
                 "SignatureHeader");
        return;
    }
    if (t->shdr->nonce.len == 0 || t->shdr->creator.len == 0) {
        set_code(t, PROTOS__TX_VALIDATION_CODE__BAD_COMMON_HEADER, "%s", "empty nonce or creator");
        return;
    }
    if (strlen(t->chdr->tx_id) == LC_WIRE_TXID_LEN) {
        memcpy(t->txid, t->chdr->tx_id, LC_WIRE_TXID_LEN + 1);
        t->has_txid = true;
    }
    if (!check_creator(cc, t->env, t->shdr, t))
        return;
    if (type == COMMON__HEADER_TYPE__ENDORSER_TRANSACTION) {
        char want[LC_WIRE_TXID_LEN + 1];
        lc_wire_txid(t->shdr->nonce.data, t->shdr->nonce.len, t->shdr->creator.data,
                     t->shdr->creator.len, want);
        if (strcmp(want, t->chdr->tx_id) != 0) {
            set_code(t, PROTOS__TX_VALIDATION_CODE__BAD_PROPOSAL_TXID, "txid %s is not computed",
                     t->chdr->tx_id);
            t->has_txid = false; /* a forged TxID must not shadow the real one in the index */
            return;
        }
        if (!check_endorser_tx(t))
            return;
    } else if (type == COMMON__HEADER_TYPE__CONFIG_UPDATE) {
        set_code(t, PROTOS__TX_VALIDATION_CODE__UNSUPPORTED_TX_PAYLOAD, "%s", "CONFIG_UPDATE");
        return;
    }
    if (strcmp(t->chdr->channel_id, lc_chconf_channel_id(cc)) != 0) {
        set_code(t, PROTOS__TX_VALIDATION_CODE__TARGET_CHAIN_NOT_FOUND, "channel %s unknown",
                 t->chdr->channel_id);
        return;
    }
    if (type == COMMON__HEADER_TYPE__CONFIG) {
        /* weft applies no config updates: a config transaction after genesis is refused. */
        set_code(t, PROTOS__TX_VALIDATION_CODE__INVALID_CONFIG_TRANSACTION, "%s",
                 "config updates are not supported");
        return;
    }
    check_action(cc, t);
}

void committer_tx_done(struct committer_tx *t)
{
    if (t->kv && t->rws)
        for (size_t i = 0; i < t->rws->n_ns_rwset; i++)
            if (t->kv[i])
                kvrwset__kvrwset__free_unpacked(t->kv[i], NULL);
    free(t->kv);
    t->kv = NULL;
#define FREE(f, fn)                                                                                \
    do {                                                                                           \
        if (t->f)                                                                                  \
            fn(t->f, NULL);                                                                        \
        t->f = NULL;                                                                               \
    } while (0)
    FREE(rws, rwset__tx_read_write_set__free_unpacked);
    FREE(act, protos__chaincode_action__free_unpacked);
    FREE(prp, protos__proposal_response_payload__free_unpacked);
    FREE(cap, protos__chaincode_action_payload__free_unpacked);
    FREE(tx, protos__transaction__free_unpacked);
    FREE(shdr, common__signature_header__free_unpacked);
    FREE(chdr, common__channel_header__free_unpacked);
    FREE(payload, common__payload__free_unpacked);
    FREE(env, common__envelope__free_unpacked);
#undef FREE
}
