/* SPDX-License-Identifier: Apache-2.0 */
/* Fabric proposals: unpacking and checking a SignedProposal, proposal hashes, endorsements. */
#include "libcommon/proposal.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "libcommon/chconf.h"
#include "libcommon/crypto.h"
#include "libcommon/log.h"
#include "libcommon/msp.h"
#include "libcommon/policy.h"
#include "libcommon/wire.h"

#define ENDORSER_TRANSACTION 3

struct lc_proposal {
    Protos__SignedProposal *sp_owned; /* set when unpacked from bytes */
    const Protos__SignedProposal *sp;
    Protos__Proposal *prop;
    Common__Header *hdr;
    Common__ChannelHeader *chdr;
    Common__SignatureHeader *shdr;
    Protos__ChaincodeHeaderExtension *ext;
    Protos__ChaincodeProposalPayload *cpp;
    Protos__ChaincodeInvocationSpec *cis;
    uint8_t hash[LC_PROPOSAL_HASH_LEN];
};

/* Frees an unpacked message; NULL is fine. */
static void msg_free(void *m)
{
    if (m)
        protobuf_c_message_free_unpacked(m, NULL);
}

void lc_proposal_free(struct lc_proposal *p)
{
    if (!p)
        return;
    msg_free(p->cis);
    msg_free(p->cpp);
    msg_free(p->ext);
    msg_free(p->shdr);
    msg_free(p->chdr);
    msg_free(p->hdr);
    msg_free(p->prop);
    msg_free(p->sp_owned);
    free(p);
}

/* Decodes the layers below the SignedProposal, in Fabric's order. */
static int unpack_layers(struct lc_proposal *p, struct lc_errbuf *err)
{
    int r = LC_WIRE_UNPACK(&protos__proposal__descriptor, p->sp->proposal_bytes, &p->prop, err);
    if (r == 0)
        r = LC_WIRE_UNPACK(&common__header__descriptor, p->prop->header, &p->hdr, err);
    if (r == 0)
        r = LC_WIRE_UNPACK(&common__channel_header__descriptor, p->hdr->channel_header, &p->chdr,
                           err);
    if (r == 0)
        r = LC_WIRE_UNPACK(&common__signature_header__descriptor, p->hdr->signature_header,
                           &p->shdr, err);
    if (r == 0)
        r = LC_WIRE_UNPACK(&protos__chaincode_header_extension__descriptor, p->chdr->extension,
                           &p->ext, err);
    if (r < 0)
        return r;
    if (!p->ext->chaincode_id)
        return lc_fail(err, LC_EINVALID, "header extension: no chaincode_id");
    if (!p->ext->chaincode_id->name || !*p->ext->chaincode_id->name)
        return lc_fail(err, LC_EINVALID, "header extension: empty chaincode name");
    r = LC_WIRE_UNPACK(&protos__chaincode_proposal_payload__descriptor, p->prop->payload, &p->cpp,
                       err);
    if (r == 0)
        r = LC_WIRE_UNPACK(&protos__chaincode_invocation_spec__descriptor, p->cpp->input, &p->cis,
                           err);
    if (r < 0)
        return r;
    if (!p->cis->chaincode_spec)
        return lc_fail(err, LC_EINVALID, "invocation spec: no chaincode_spec");
    if (!p->cis->chaincode_spec->input)
        return lc_fail(err, LC_EINVALID, "invocation spec: no chaincode input");
    lc_proposal_hash1(p->hdr->channel_header.data, p->hdr->channel_header.len,
                      p->hdr->signature_header.data, p->hdr->signature_header.len,
                      p->cpp->input.data, p->cpp->input.len, p->hash);
    return 0;
}

int lc_proposal_from_signed(const Protos__SignedProposal *sp, struct lc_errbuf *err,
                            struct lc_proposal **ret)
{
    struct lc_proposal *p = calloc(1, sizeof *p);
    if (!p)
        return lc_fail(err, -ENOMEM, "proposal: out of memory");
    p->sp = sp;
    int r = unpack_layers(p, err);
    if (r < 0) {
        lc_errbuf_prefix(err, "proposal: ");
        lc_proposal_free(p);
        return r;
    }
    *ret = p;
    return 0;
}

int lc_proposal_unpack(const uint8_t *buf, size_t len, struct lc_errbuf *err,
                       struct lc_proposal **ret)
{
    Protos__SignedProposal *sp = NULL;
    int r = lc_wire_unpack(&protos__signed_proposal__descriptor, buf, len, (ProtobufCMessage **)&sp,
                           err);
    if (r < 0) {
        lc_errbuf_prefix(err, "proposal: ");
        return r;
    }
    struct lc_proposal *p = NULL;
    r = lc_proposal_from_signed(sp, err, &p);
    if (r < 0) {
        msg_free(sp);
        return r;
    }
    p->sp_owned = sp;
    *ret = p;
    return 0;
}

const Protos__SignedProposal *lc_proposal_signed(const struct lc_proposal *p)
{
    return p->sp;
}

const Protos__Proposal *lc_proposal_proposal(const struct lc_proposal *p)
{
    return p->prop;
}

const Common__Header *lc_proposal_header(const struct lc_proposal *p)
{
    return p->hdr;
}

const Common__ChannelHeader *lc_proposal_channel_header(const struct lc_proposal *p)
{
    return p->chdr;
}

const Common__SignatureHeader *lc_proposal_signature_header(const struct lc_proposal *p)
{
    return p->shdr;
}

const Protos__ChaincodeHeaderExtension *lc_proposal_header_extension(const struct lc_proposal *p)
{
    return p->ext;
}

const Protos__ChaincodeProposalPayload *lc_proposal_payload(const struct lc_proposal *p)
{
    return p->cpp;
}

const Protos__ChaincodeInvocationSpec *lc_proposal_invocation(const struct lc_proposal *p)
{
    return p->cis;
}

const Protos__ChaincodeInput *lc_proposal_input(const struct lc_proposal *p)
{
    return p->cis->chaincode_spec->input;
}

const char *lc_proposal_channel_id(const struct lc_proposal *p)
{
    return p->chdr->channel_id;
}

const char *lc_proposal_txid(const struct lc_proposal *p)
{
    return p->chdr->tx_id;
}

const char *lc_proposal_chaincode(const struct lc_proposal *p)
{
    return p->ext->chaincode_id->name;
}

const uint8_t *lc_proposal_creator(const struct lc_proposal *p, size_t *ret_len)
{
    *ret_len = p->shdr->creator.len;
    return p->shdr->creator.data;
}

size_t lc_proposal_args_bytes(const struct lc_proposal *p)
{
    const Protos__ChaincodeInput *in = lc_proposal_input(p);
    size_t n = 0;
    for (size_t i = 0; i < in->n_args; i++)
        n += in->args[i].len; /* bounded by the message size: cannot overflow */
    return n;
}

const uint8_t *lc_proposal_hash(const struct lc_proposal *p)
{
    return p->hash;
}

int lc_proposal_check_header(const struct lc_proposal *p, struct lc_errbuf *err)
{
    if (p->chdr->type != ENDORSER_TRANSACTION)
        return lc_fail(err, LC_EINVALID,
                       "header type %d: only ENDORSER_TRANSACTION (3) proposals are endorsed",
                       (int)p->chdr->type);
    if (p->chdr->epoch != 0)
        return lc_fail(err, LC_EINVALID, "epoch %llu: must be 0",
                       (unsigned long long)p->chdr->epoch);
    if (p->shdr->nonce.len == 0)
        return lc_fail(err, LC_EINVALID, "signature header: empty nonce");
    if (p->shdr->creator.len == 0)
        return lc_fail(err, LC_EINVALID, "signature header: empty creator");
    if (p->sp->signature.len == 0)
        return lc_fail(err, LC_EINVALID, "signed proposal: empty signature");
    char want[LC_WIRE_TXID_LEN + 1];
    int r = lc_wire_txid(p->shdr->nonce.data, p->shdr->nonce.len, p->shdr->creator.data,
                         p->shdr->creator.len, want);
    if (r < 0)
        return lc_fail(err, r, "txid: cannot compute");
    if (strcmp(want, p->chdr->tx_id) != 0)
        return lc_fail(err, LC_EMISMATCH, "txid '%.80s' is not hex(SHA-256(nonce ‖ creator)) '%s'",
                       p->chdr->tx_id, want);
    return 0;
}

int lc_proposal_check_creator(const struct lc_proposal *p, struct lc_msp_mgr *mgr, time_t now,
                              struct lc_errbuf *err, struct lc_identity **ret_id)
{
    struct lc_identity *id = NULL;
    int r = lc_msp_mgr_deserialize(mgr, p->shdr->creator.data, p->shdr->creator.len, err, &id);
    if (r < 0) {
        lc_errbuf_prefix(err, "creator: ");
        return r;
    }
    r = lc_identity_check_validity(id, now, err);
    if (r < 0) {
        lc_errbuf_prefix(err, "creator: ");
        goto fail;
    }
    r = lc_identity_verify(id, p->sp->proposal_bytes.data, p->sp->proposal_bytes.len,
                           p->sp->signature.data, p->sp->signature.len, err);
    if (r < 0) {
        lc_errbuf_prefix(err, "signature: ");
        goto fail;
    }
    *ret_id = id;
    return 0;
fail:
    lc_identity_unref(id);
    return r;
}

/* Identity callbacks over the one creator already checked by lc_proposal_check_creator. */
struct known_creator {
    struct lc_identity *id;
};

static int kc_deserialize(void *ctx, const uint8_t *bytes, size_t len, void **ret_identity)
{
    struct known_creator *kc = ctx;
    size_t n;
    const uint8_t *mine = lc_identity_serialized(kc->id, &n);
    if (n != len || memcmp(mine, bytes, n) != 0)
        return -EINVAL;
    *ret_identity = lc_identity_ref(kc->id);
    return 0;
}

static const char *kc_key(void *ctx, void *identity)
{
    return lc_identity_id(identity);
}

/* The signature over exactly these bytes by exactly this identity was verified already. */
static int kc_verify(void *ctx, void *identity, const uint8_t *data, size_t data_len,
                     const uint8_t *sig, size_t sig_len)
{
    return 0;
}

static int kc_satisfies(void *identity, const Common__MSPPrincipal *principal, void *ctx)
{
    return lc_identity_satisfies_principal(identity, principal, NULL);
}

static void kc_release(void *ctx, void *identity)
{
    lc_identity_unref(identity);
}

static const struct lc_policy_identity_ops known_creator_ops = {
    .deserialize = kc_deserialize,
    .key = kc_key,
    .verify = kc_verify,
    .satisfies = kc_satisfies,
    .release = kc_release,
};

int lc_proposal_check_policy(const struct lc_proposal *p, const struct lc_chconf *c,
                             const char *path, struct lc_identity *creator, struct lc_errbuf *err)
{
    struct known_creator kc = {creator};
    struct lc_signed_data sd = {
        .data = p->sp->proposal_bytes.data,
        .data_len = p->sp->proposal_bytes.len,
        .identity = p->shdr->creator.data,
        .identity_len = p->shdr->creator.len,
        .signature = p->sp->signature.data,
        .signature_len = p->sp->signature.len,
    };
    struct lc_policy_idset *set = NULL;
    int r = lc_policy_idset_new(&sd, 1, &known_creator_ops, &kc, &set);
    if (r < 0)
        return lc_fail(err, r, "policy %s: out of memory", path);
    r = lc_chconf_policy_eval_idset(c, path, set, err);
    lc_policy_idset_free(set);
    return r;
}

/* ---- hashes ------------------------------------------------------------------------------- */

void lc_proposal_hash1(const uint8_t *chdr, size_t chdr_len, const uint8_t *shdr, size_t shdr_len,
                       const uint8_t *input, size_t input_len,
                       uint8_t ret_hash[LC_PROPOSAL_HASH_LEN])
{
    /* ChaincodeProposalPayload{input = 1}: tag 0x0a, varint length, the bytes; Go leaves an
     * empty bytes field out, so an empty input re-encodes to nothing. */
    uint8_t pre[11];
    size_t n = 0;
    if (input_len) {
        pre[n++] = 0x0a;
        uint64_t v = input_len;
        do {
            uint8_t b = v & 0x7f;
            v >>= 7;
            pre[n++] = v ? (uint8_t)(b | 0x80) : b;
        } while (v);
    }
    const struct lc_iov iov[] = {{chdr, chdr_len}, {shdr, shdr_len}, {pre, n}, {input, input_len}};
    lc_sha256_iov(iov, 4, ret_hash);
}

void lc_proposal_hash2(const uint8_t *chdr, size_t chdr_len, const uint8_t *action_header,
                       size_t action_header_len, const uint8_t *cpp, size_t cpp_len,
                       uint8_t ret_hash[LC_PROPOSAL_HASH_LEN])
{
    const struct lc_iov iov[] = {
        {chdr, chdr_len}, {action_header, action_header_len}, {cpp, cpp_len}};
    lc_sha256_iov(iov, 3, ret_hash);
}

/* ---- responses ---------------------------------------------------------------------------- */

int lc_proposal_prp_pack(const struct lc_proposal_action *a, size_t max_len, uint8_t **ret_buf,
                         size_t *ret_len, struct lc_errbuf *err)
{
    if (!a->proposal_hash || !a->response)
        return lc_fail(err, LC_EINVALID, "proposal response payload: no hash or response");
    if (!a->cc_name || !*a->cc_name || !a->cc_version || !*a->cc_version)
        return lc_fail(err, LC_EINVALID,
                       "proposal response payload: empty chaincode name or "
                       "version");
    Protos__ChaincodeID ccid = PROTOS__CHAINCODE_ID__INIT;
    ccid.name = (char *)a->cc_name;
    ccid.version = (char *)a->cc_version;
    Protos__ChaincodeAction act = PROTOS__CHAINCODE_ACTION__INIT;
    act.results.data = (uint8_t *)a->results;
    act.results.len = a->results_len;
    act.events.data = (uint8_t *)a->events;
    act.events.len = a->events ? a->events_len : 0;
    act.response = (Protos__Response *)a->response;
    act.chaincode_id = &ccid;
    uint8_t *ext = NULL;
    size_t ext_len;
    int r = lc_wire_pack(&act.base, max_len, &ext, &ext_len, err);
    if (r < 0)
        return r;
    Protos__ProposalResponsePayload prp = PROTOS__PROPOSAL_RESPONSE_PAYLOAD__INIT;
    prp.proposal_hash.data = (uint8_t *)a->proposal_hash;
    prp.proposal_hash.len = LC_PROPOSAL_HASH_LEN;
    prp.extension.data = ext;
    prp.extension.len = ext_len;
    r = lc_wire_pack(&prp.base, max_len, ret_buf, ret_len, err);
    free(ext);
    return r;
}

int lc_proposal_endorse(const struct lc_signer *s, const uint8_t *prp, size_t prp_len,
                        uint8_t sig[72], size_t *ret_sig_len)
{
    size_t id_len;
    const uint8_t *id = lc_signer_serialized(s, &id_len);
    const struct lc_iov iov[] = {{prp, prp_len}, {id, id_len}};
    return lc_signer_sign_iov(s, iov, 2, sig, ret_sig_len);
}

int lc_proposal_endorsement_verify(const struct lc_identity *endorser_id, const uint8_t *prp,
                                   size_t prp_len, const Protos__Endorsement *e,
                                   struct lc_errbuf *err)
{
    size_t n;
    const uint8_t *id = lc_identity_serialized(endorser_id, &n);
    if (n != e->endorser.len || memcmp(id, e->endorser.data, n) != 0)
        return lc_fail(err, LC_EMISMATCH, "endorsement: endorser bytes are not the identity's");
    const struct lc_iov iov[] = {{prp, prp_len}, {e->endorser.data, e->endorser.len}};
    return lc_identity_verify_iov(endorser_id, iov, 2, e->signature.data, e->signature.len, err);
}

/* The response and everything it points to, in one allocation plus copies. */
struct response_box {
    Protos__ProposalResponse pr;
    Protos__Response resp;
    Protos__Endorsement end;
    uint8_t sig[LC_ECDSA_SIG_MAX];
};

static void *dup_bytes(const void *p, size_t n)
{
    void *d = malloc(n ? n : 1);
    if (d && n)
        memcpy(d, p, n);
    return d;
}

void lc_proposal_response_free(Protos__ProposalResponse *pr)
{
    if (!pr)
        return;
    struct response_box *b =
        (struct response_box *)((char *)pr - offsetof(struct response_box, pr));
    if (b->resp.message != protobuf_c_empty_string)
        free(b->resp.message);
    free(b->resp.payload.data);
    free(b->pr.payload.data);
    free(b->end.endorser.data);
    free(b);
}

int lc_proposal_response_new(int32_t status, const char *message, const uint8_t *payload,
                             size_t payload_len, const uint8_t *prp, size_t prp_len,
                             const struct lc_signer *signer, struct lc_errbuf *err,
                             Protos__ProposalResponse **ret)
{
    bool endorse = status < 400;
    if (endorse && (!prp || !signer))
        return lc_fail(err, LC_EINVALID,
                       "proposal response: status %d needs a payload and a "
                       "signer",
                       (int)status);
    struct response_box *b = calloc(1, sizeof *b);
    if (!b)
        return lc_fail(err, -ENOMEM, "proposal response: out of memory");
    protos__proposal_response__init(&b->pr);
    protos__response__init(&b->resp);
    protos__endorsement__init(&b->end);
    b->pr.response = &b->resp;
    b->resp.status = status;
    int r = 0;
    if (message && *message) {
        b->resp.message = strdup(message);
        if (!b->resp.message) {
            b->resp.message = (char *)protobuf_c_empty_string;
            r = -ENOMEM;
            goto fail;
        }
    }
    if (payload_len) {
        b->resp.payload.data = dup_bytes(payload, payload_len);
        if (!b->resp.payload.data) {
            r = -ENOMEM;
            goto fail;
        }
        b->resp.payload.len = payload_len;
    }
    if (status < 400 || status >= 500) {
        if (prp) {
            b->pr.payload.data = dup_bytes(prp, prp_len);
            if (!b->pr.payload.data) {
                r = -ENOMEM;
                goto fail;
            }
            b->pr.payload.len = prp_len;
        }
    }
    if (endorse) {
        size_t id_len, sig_len;
        const uint8_t *id = lc_signer_serialized(signer, &id_len);
        b->end.endorser.data = dup_bytes(id, id_len);
        if (!b->end.endorser.data) {
            r = -ENOMEM;
            goto fail;
        }
        b->end.endorser.len = id_len;
        r = lc_proposal_endorse(signer, prp, prp_len, b->sig, &sig_len);
        if (r < 0)
            goto fail;
        b->end.signature.data = b->sig;
        b->end.signature.len = sig_len;
        b->pr.endorsement = &b->end;
        b->pr.version = 1;
    }
    *ret = &b->pr;
    return 0;
fail:
    lc_fail(err, r, "proposal response: %s", r == -ENOMEM ? "out of memory" : "signing failed");
    lc_proposal_response_free(&b->pr);
    return r;
}
