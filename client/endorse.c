/* SPDX-License-Identifier: Apache-2.0 */
/* ProcessProposal to endorsers in parallel, and the checks their answers must pass. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/internal.h"
#include "libcommon/chconf.h"
#include "libcommon/crypto.h"
#include "libcommon/log.h"
#include "libcommon/msp.h"
#include "libcommon/rpc.h"
#include "peer/proposal.pb-c.h"
#include "peer/proposal_response.pb-c.h"

#define ENDORSE_PATH "/protos.Endorser/ProcessProposal"

struct slot {
    bool filled;
    char *name;
    char *mspid;
    int code; /* 0: answered */
    char *msg;
    Protos__ProposalResponse *resp;
};

struct wc_responses {
    size_t n;
    struct slot *slots;
    bool validated;
    int32_t result_status;
    ProtobufCBinaryData result; /* borrowed from a response */
};

/* ---- the set -------------------------------------------------------------------------------- */

int wc_responses_new(size_t n, struct wc_responses **ret)
{
    struct wc_responses *rs = calloc(1, sizeof *rs);
    if (!rs)
        return -ENOMEM;
    rs->slots = calloc(n ? n : 1, sizeof *rs->slots);
    if (!rs->slots) {
        free(rs);
        return -ENOMEM;
    }
    rs->n = n;
    *ret = rs;
    return 0;
}

static void slot_clear(struct slot *s)
{
    free(s->name);
    free(s->mspid);
    free(s->msg);
    if (s->resp)
        protos__proposal_response__free_unpacked(s->resp, NULL);
    *s = (struct slot){0};
}

void wc_responses_free(struct wc_responses *rs)
{
    if (!rs)
        return;
    for (size_t i = 0; i < rs->n; i++)
        slot_clear(&rs->slots[i]);
    free(rs->slots);
    free(rs);
}

static int slot_start(struct wc_responses *rs, size_t i, const struct wc_endpoint *ep)
{
    if (i >= rs->n || !ep)
        return -EINVAL;
    struct slot *s = &rs->slots[i];
    slot_clear(s);
    rs->validated = false;
    s->name = strdup(ep->name ? ep->name : ep->address ? ep->address : "?");
    if (!s->name)
        return -ENOMEM;
    if (ep->mspid) {
        s->mspid = strdup(ep->mspid);
        if (!s->mspid)
            return -ENOMEM;
    }
    s->filled = true;
    return 0;
}

int wc_responses_set_error(struct wc_responses *rs, size_t i, const struct wc_endpoint *ep,
                           int code, const char *msg)
{
    int r = slot_start(rs, i, ep);
    if (r < 0)
        return r;
    rs->slots[i].code = code < 0 ? code : -EREMOTEIO;
    rs->slots[i].msg = strdup(msg ? msg : lc_strerror(code));
    return rs->slots[i].msg ? 0 : -ENOMEM;
}

int wc_internal_responses_take(struct wc_responses *rs, size_t i, const struct wc_endpoint *ep,
                               Protos__ProposalResponse *resp)
{
    int r = slot_start(rs, i, ep);
    if (r < 0) {
        protos__proposal_response__free_unpacked(resp, NULL);
        return r;
    }
    rs->slots[i].resp = resp;
    return 0;
}

int wc_responses_set(struct wc_responses *rs, size_t i, const struct wc_endpoint *ep,
                     const uint8_t *resp, size_t len)
{
    ProtobufCMessage *m = NULL;
    struct lc_errbuf why;
    int r = lc_wire_unpack(&protos__proposal_response__descriptor, resp, len, &m, &why);
    if (r < 0) {
        int r2 = wc_responses_set_error(rs, i, ep, r, why.msg);
        return r2 < 0 ? r2 : r;
    }
    return wc_internal_responses_take(rs, i, ep, (Protos__ProposalResponse *)m);
}

size_t wc_responses_count(const struct wc_responses *rs)
{
    return rs->n;
}

const char *wc_responses_endorser(const struct wc_responses *rs, size_t i)
{
    return i < rs->n ? rs->slots[i].name : NULL;
}

int wc_responses_error(const struct wc_responses *rs, size_t i, const char **ret_msg)
{
    if (i >= rs->n)
        return -EINVAL;
    if (rs->slots[i].code < 0 && ret_msg)
        *ret_msg = rs->slots[i].msg;
    return rs->slots[i].code;
}

int32_t wc_responses_status(const struct wc_responses *rs, size_t i)
{
    if (i >= rs->n || !rs->slots[i].resp || !rs->slots[i].resp->response)
        return 0;
    return rs->slots[i].resp->response->status;
}

const char *wc_responses_message(const struct wc_responses *rs, size_t i)
{
    if (i >= rs->n || !rs->slots[i].resp || !rs->slots[i].resp->response ||
        !rs->slots[i].resp->response->message)
        return "";
    return rs->slots[i].resp->response->message;
}

int32_t wc_responses_result_status(const struct wc_responses *rs)
{
    return rs->validated ? rs->result_status : 0;
}

const uint8_t *wc_responses_result(const struct wc_responses *rs, size_t *ret_len)
{
    if (!rs->validated) {
        *ret_len = 0;
        return NULL;
    }
    *ret_len = rs->result.len;
    return rs->result.data ? rs->result.data : (const uint8_t *)"";
}

bool wc_internal_responses_validated(const struct wc_responses *rs)
{
    return rs->validated;
}

const ProtobufCBinaryData *wc_internal_responses_payload(const struct wc_responses *rs)
{
    return rs->validated ? &rs->slots[0].resp->payload : NULL;
}

const Protos__Endorsement *wc_internal_responses_endorsement(const struct wc_responses *rs,
                                                             size_t i)
{
    return i < rs->n && rs->slots[i].resp ? rs->slots[i].resp->endorsement : NULL;
}

/* ---- validation ----------------------------------------------------------------------------- */

static bool bin_eq(const ProtobufCBinaryData *a, const ProtobufCBinaryData *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static const ProtobufCBinaryData *field_payload(const struct slot *s)
{
    return &s->resp->payload;
}

static const ProtobufCBinaryData *field_cc_payload(const struct slot *s)
{
    static const ProtobufCBinaryData none = {0, NULL};
    return s->resp->response ? &s->resp->response->payload : &none;
}

/* When not all slots agree on field, writes "what: [a, b] vs [c]" (the groups of endorsers with
 * equal values, in order of first appearance) and returns LC_EMISMATCH. */
static int check_agree(const struct wc_responses *rs,
                       const ProtobufCBinaryData *(*field)(const struct slot *), const char *what,
                       struct lc_errbuf *err)
{
    size_t *group = calloc(rs->n ? rs->n : 1, sizeof *group);
    if (!group)
        return lc_fail(err, -ENOMEM, "%s: out of memory", what);
    size_t n_groups = 0;
    for (size_t i = 0; i < rs->n; i++) {
        group[i] = SIZE_MAX;
        for (size_t j = 0; j < i; j++) {
            if (bin_eq(field(&rs->slots[i]), field(&rs->slots[j]))) {
                group[i] = group[j];
                break;
            }
        }
        if (group[i] == SIZE_MAX)
            group[i] = n_groups++;
    }
    if (n_groups <= 1) {
        free(group);
        return 0;
    }
    char msg[sizeof err->msg];
    size_t len = (size_t)snprintf(msg, sizeof msg, "%s do not match:", what);
    for (size_t g = 0; g < n_groups && len < sizeof msg; g++) {
        len += (size_t)snprintf(msg + len, sizeof msg - len, "%s[", g ? " vs " : " ");
        bool first = true;
        for (size_t i = 0; i < rs->n && len < sizeof msg; i++) {
            if (group[i] != g)
                continue;
            len += (size_t)snprintf(msg + len, sizeof msg - len, "%s%s", first ? "" : ", ",
                                    rs->slots[i].name);
            first = false;
        }
        if (len < sizeof msg)
            len += (size_t)snprintf(msg + len, sizeof msg - len, "]");
    }
    free(group);
    return lc_fail(err, LC_EMISMATCH, "%s", msg);
}

/* The endorser's identity is a valid, current PEER of its channel MSP, and its signature over
 * payload ‖ endorser verifies. */
static int check_endorsement(const struct slot *s, const struct lc_chconf *cc, time_t now,
                             struct lc_errbuf *err)
{
    const Protos__Endorsement *e = s->resp->endorsement;
    struct lc_errbuf why;
    struct lc_identity *id = NULL;
    int r =
        lc_msp_mgr_deserialize(lc_chconf_msp_mgr(cc), e->endorser.data, e->endorser.len, &why, &id);
    if (r < 0)
        return lc_fail(err, r, "endorser %s: identity: %s", s->name, why.msg);
    const char *mspid = lc_identity_mspid(id);
    if (s->mspid && strcmp(s->mspid, mspid) != 0) {
        r = lc_fail(err, LC_EMISMATCH, "endorser %s: signed as a member of %s, expected %s",
                    s->name, mspid, s->mspid);
        goto out;
    }
    if (!(lc_identity_roles(id) & LC_ROLE_PEER)) {
        r = lc_fail(err, LC_EROLE, "endorser %s: identity is not a peer of %s", s->name, mspid);
        goto out;
    }
    r = lc_identity_check_validity(id, now, &why);
    if (r < 0) {
        r = lc_fail(err, r, "endorser %s: identity: %s", s->name, why.msg);
        goto out;
    }
    const struct lc_iov signed_bytes[] = {
        {s->resp->payload.data, s->resp->payload.len},
        {e->endorser.data, e->endorser.len},
    };
    r = lc_identity_verify_iov(id, signed_bytes, 2, e->signature.data, e->signature.len, &why);
    if (r < 0)
        r = lc_fail(err, r, "endorser %s: endorsement signature: %s", s->name, why.msg);
out:
    lc_identity_unref(id);
    return r;
}

int wc_responses_validate(struct wc_responses *rs, const struct wc_proposal *prop,
                          const struct lc_chconf *chconf, time_t now, struct lc_errbuf *err)
{
    rs->validated = false;
    if (rs->n == 0)
        return lc_fail(err, LC_EINVALID, "no endorser was asked");
    if (!chconf)
        return lc_fail(err, LC_EINVALID, "no channel configuration to check endorsers against");
    if (strcmp(lc_chconf_channel_id(chconf), wc_proposal_channel(prop)) != 0)
        return lc_fail(err, LC_EMISMATCH, "channel configuration is for %s, proposal for %s",
                       lc_chconf_channel_id(chconf), wc_proposal_channel(prop));
    for (size_t i = 0; i < rs->n; i++) {
        const struct slot *s = &rs->slots[i];
        if (!s->filled)
            return lc_fail(err, LC_EINVALID, "endorser #%zu: no answer recorded", i);
        if (s->code < 0)
            return lc_fail(err, s->code, "endorser %s: %s", s->name, s->msg);
        const Protos__Response *resp = s->resp->response;
        if (!resp)
            return lc_fail(err, LC_EINVALID, "endorser %s: no response", s->name);
        if (resp->status < 200 || resp->status >= 400)
            return lc_fail(err, LC_EINVALID, "endorser %s: status %d: %.200s", s->name,
                           (int)resp->status, resp->message ? resp->message : "");
        if (s->resp->payload.len == 0)
            return lc_fail(err, LC_EINVALID, "endorser %s: status %d without a payload", s->name,
                           (int)resp->status);
        if (!s->resp->endorsement)
            return lc_fail(err, LC_EINVALID, "endorser %s: status %d without an endorsement",
                           s->name, (int)resp->status);
    }
    int r = check_agree(rs, field_payload, "ProposalResponsePayloads", err);
    if (r < 0)
        return r;
    r = check_agree(rs, field_cc_payload, "chaincode response payloads", err);
    if (r < 0)
        return r;

    /* the payloads are identical: decoding the first covers them all */
    struct lc_errbuf why;
    Protos__ProposalResponsePayload *prp = NULL;
    Protos__ChaincodeAction *act = NULL;
    r = LC_WIRE_UNPACK(&protos__proposal_response_payload__descriptor, rs->slots[0].resp->payload,
                       &prp, &why);
    if (r < 0)
        return lc_fail(err, r, "endorser %s: payload: %s", rs->slots[0].name, why.msg);
    if (prp->proposal_hash.len != LC_SHA256_LEN ||
        memcmp(prp->proposal_hash.data, wc_proposal_hash(prop), LC_SHA256_LEN) != 0) {
        r = lc_fail(err, LC_EMISMATCH, "endorser %s: proposal_hash is not this proposal's",
                    rs->slots[0].name);
        goto out;
    }
    r = LC_WIRE_UNPACK(&protos__chaincode_action__descriptor, prp->extension, &act, &why);
    if (r < 0) {
        r = lc_fail(err, r, "endorser %s: payload extension: %s", rs->slots[0].name, why.msg);
        goto out;
    }
    for (size_t i = 0; i < rs->n; i++) {
        r = check_endorsement(&rs->slots[i], chconf, now, err);
        if (r < 0)
            goto out;
    }
    /* the result is the signed one (ChaincodeAction.response), as fabric-network reads it; an
     * action without one falls back to the outer response, which all endorsers agreed on */
    const Protos__Response *outer = rs->slots[0].resp->response;
    rs->result_status = act->response ? act->response->status : outer->status;
    rs->result = outer->payload;
    if (act->response && !bin_eq(&act->response->payload, &outer->payload)) {
        r = lc_fail(err, LC_EMISMATCH,
                    "endorser %s: response payload differs from the signed chaincode action",
                    rs->slots[0].name);
        goto out;
    }
    rs->validated = true;
    r = 0;
out:
    if (act)
        protos__chaincode_action__free_unpacked(act, NULL);
    protos__proposal_response_payload__free_unpacked(prp, NULL);
    return r;
}

/* ---- sending -------------------------------------------------------------------------------- */

struct job {
    struct wc_node *node;
    const Protos__SignedProposal *sp;
    int timeout_ms;
    int rc;
    struct lc_rpc_status status;
    Protos__ProposalResponse *resp;
};

static void *endorse_one(void *arg)
{
    struct job *j = arg;
    ProtobufCMessage *m = NULL;
    j->rc = lc_rpc_unary(wc_internal_node_rpc(j->node), ENDORSE_PATH, &j->sp->base,
                         &protos__proposal_response__descriptor, j->timeout_ms, &j->status, &m);
    if (j->rc == 0)
        j->resp = (Protos__ProposalResponse *)m;
    return NULL;
}

int wc_endorse(const struct wc_proposal *prop, struct wc_node *const *nodes, size_t n,
               int timeout_ms, struct wc_responses **ret)
{
    size_t len;
    const uint8_t *bytes = wc_proposal_bytes(prop, &len);
    Protos__SignedProposal *sp = protos__signed_proposal__unpack(NULL, len, bytes);
    if (!sp)
        return -ENOMEM; /* we packed it ourselves: only memory can fail */
    int r;
    struct wc_responses *rs = NULL;
    struct job *jobs = calloc(n ? n : 1, sizeof *jobs);
    pthread_t *threads = calloc(n ? n : 1, sizeof *threads);
    bool *started = calloc(n ? n : 1, sizeof *started);
    if (!jobs || !threads || !started || wc_responses_new(n, &rs) < 0) {
        r = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        jobs[i] = (struct job){.node = nodes[i],
                               .sp = sp,
                               .timeout_ms = timeout_ms > 0 ? timeout_ms : WC_DEFAULT_TIMEOUT_MS};
        /* the last one runs here: one thread fewer */
        if (i + 1 < n) {
            int e = pthread_create(&threads[i], NULL, endorse_one, &jobs[i]);
            if (e != 0) {
                r = -e;
                goto join;
            }
            started[i] = true;
        } else {
            endorse_one(&jobs[i]);
        }
    }
    r = 0;
join:
    for (size_t i = 0; i < n; i++)
        if (started[i])
            pthread_join(threads[i], NULL);
    for (size_t i = 0; r == 0 && i < n; i++) {
        struct wc_endpoint ep = {wc_node_name(nodes[i]), wc_node_address(nodes[i]),
                                 wc_node_mspid(nodes[i])};
        lc_log_debug("client", "endorse endorser=%s txid=%s rc=%d", ep.name, wc_proposal_txid(prop),
                     jobs[i].rc);
        if (jobs[i].rc == 0) {
            r = wc_internal_responses_take(rs, i, &ep, jobs[i].resp);
            jobs[i].resp = NULL;
        } else {
            char msg[320];
            snprintf(msg, sizeof msg, "%s: %s", lc_rpc_code_name(jobs[i].status.code),
                     jobs[i].status.msg[0] ? jobs[i].status.msg : lc_strerror(jobs[i].rc));
            r = wc_responses_set_error(rs, i, &ep, jobs[i].rc, msg);
        }
    }
    for (size_t i = 0; i < n; i++)
        if (jobs[i].resp)
            protos__proposal_response__free_unpacked(jobs[i].resp, NULL);
    if (r == 0) {
        *ret = rs;
        rs = NULL;
    }
out:
    wc_responses_free(rs);
    free(jobs);
    free(threads);
    free(started);
    protos__signed_proposal__free_unpacked(sp, NULL);
    return r;
}

/* Whether endorser i failed in a way another endorser might not: it did not answer (down,
 * unreachable, timed out, refused the call). An error status is the chaincode's verdict, which
 * every endorser would give alike, so it is not a reason to ask others. */
static bool slot_failed(const struct wc_responses *rs, size_t i)
{
    return rs->slots[i].code < 0;
}

int wc_endorse_select(const struct wc_proposal *prop, enum wc_selection mode,
                      struct wc_node *const *nodes, size_t n, const struct lc_chconf *chconf,
                      int timeout_ms, struct lc_errbuf *err, struct wc_responses **ret)
{
    if (n == 0)
        return lc_fail(err, LC_EINVALID, "no endorsers to ask");
    if (mode != WC_SELECT_POLICY) {
        int r = wc_endorse(prop, nodes, n, timeout_ms, ret);
        return r < 0 ? lc_fail(err, r, "endorse: %s", lc_strerror(r)) : 0;
    }
    if (n > WC_SELECT_MAX_CANDIDATES)
        return lc_fail(err, LC_ETOOBIG, "policy selection: %zu endorsers, at most %d", n,
                       WC_SELECT_MAX_CANDIDATES);
    struct wc_endpoint eps[WC_SELECT_MAX_CANDIDATES];
    bool skip[WC_SELECT_MAX_CANDIDATES] = {false};
    for (size_t i = 0; i < n; i++)
        eps[i] = (struct wc_endpoint){wc_node_name(nodes[i]), wc_node_address(nodes[i]),
                                      wc_node_mspid(nodes[i])};
    struct wc_responses *last = NULL;
    int r;
    for (;;) {
        size_t idx[WC_SELECT_MAX_CANDIDATES], k;
        r = wc_select_policy(chconf, wc_proposal_chaincode(prop), eps, n, skip, err, idx, &k);
        if (r < 0)
            break;
        struct wc_node *chosen[WC_SELECT_MAX_CANDIDATES];
        for (size_t i = 0; i < k; i++)
            chosen[i] = nodes[idx[i]];
        struct wc_responses *rs = NULL;
        r = wc_endorse(prop, chosen, k, timeout_ms, &rs);
        if (r < 0) {
            wc_responses_free(last);
            return lc_fail(err, r, "endorse: %s", lc_strerror(r));
        }
        wc_responses_free(last);
        last = rs;
        bool failed = false;
        for (size_t i = 0; i < k; i++) {
            if (slot_failed(rs, i)) {
                skip[idx[i]] = true;
                failed = true;
                lc_log_debug("client", "endorser failed, selecting again endorser=%s",
                             eps[idx[i]].name);
            }
        }
        if (!failed)
            break;
    }
    /* the last answers say best why it failed; the selection error only when nobody was asked */
    if (last) {
        *ret = last;
        return 0;
    }
    return r;
}
