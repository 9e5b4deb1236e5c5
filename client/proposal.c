/* SPDX-License-Identifier: Apache-2.0 */
/* Signed chaincode proposals, and the signed headers and envelopes the other messages share. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/internal.h"
#include "common/common.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "libcommon/crypto.h"
#include "libcommon/msp.h"
#include "peer/chaincode.pb-c.h"
#include "peer/proposal.pb-c.h"

/* Largest Timestamp.seconds protobuf allows (9999-12-31T23:59:59Z). */
#define TS_MAX_SECONDS 253402300799LL
#define CHAINCODE_NAME_MAX 255

struct wc_proposal {
    char *channel;
    char *chaincode;
    struct wc_header hdr;
    uint8_t *cpp; /* ChaincodeProposalPayload{input} without the transient map */
    size_t cpp_len;
    uint8_t *signed_bytes; /* packed SignedProposal */
    size_t signed_len;
    uint8_t hash[LC_SHA256_LEN];
};

bool wc_internal_channel_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > WC_CHANNEL_MAX || s[0] < 'a' || s[0] > 'z')
        return false;
    for (size_t i = 1; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-'))
            return false;
    }
    return true;
}

static bool alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Fabric's lifecycle rule: [a-zA-Z0-9]+([-_][a-zA-Z0-9]+)* */
static bool chaincode_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > CHAINCODE_NAME_MAX || !alnum(s[0]) || !alnum(s[n - 1]))
        return false;
    for (size_t i = 1; i < n; i++) {
        if (alnum(s[i]))
            continue;
        if ((s[i] != '-' && s[i] != '_') || !alnum(s[i - 1]))
            return false;
    }
    return true;
}

/* ---- headers and envelopes ------------------------------------------------------------------ */

void wc_internal_header_done(struct wc_header *h)
{
    free(h->channel_header);
    free(h->signature_header);
    h->channel_header = h->signature_header = NULL;
    h->channel_header_len = h->signature_header_len = 0;
}

int wc_internal_header_build(int32_t type, const char *channel, const struct lc_signer *signer,
                             const uint8_t *nonce, size_t nonce_len, int64_t seconds, int32_t nanos,
                             const uint8_t *extension, size_t extension_len, struct wc_header *h,
                             struct lc_errbuf *err)
{
    *h = (struct wc_header){0};
    uint8_t fresh[LC_NONCE_LEN];
    if (!nonce) {
        int r = lc_nonce(fresh);
        if (r < 0)
            return lc_fail(err, r, "nonce: no randomness");
        nonce = fresh;
        nonce_len = sizeof fresh;
    }
    if (seconds == 0 && nanos == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        seconds = ts.tv_sec;
        nanos = (int32_t)ts.tv_nsec;
    }
    size_t creator_len;
    const uint8_t *creator = lc_signer_serialized(signer, &creator_len);
    int r = lc_wire_txid(nonce, nonce_len, creator, creator_len, h->txid);
    if (r < 0)
        return lc_fail(err, r, "txid: %s", lc_strerror(r));

    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    ts.seconds = seconds;
    ts.nanos = nanos;
    Common__ChannelHeader ch = COMMON__CHANNEL_HEADER__INIT;
    ch.type = type;
    ch.version = 1; /* as fabric-common; protoutil leaves 0, nobody checks */
    ch.timestamp = &ts;
    ch.channel_id = (char *)channel;
    ch.tx_id = h->txid;
    ch.extension.data = (uint8_t *)extension;
    ch.extension.len = extension ? extension_len : 0;
    r = lc_wire_pack(&ch.base, WC_MAX_PROPOSAL_BYTES, &h->channel_header, &h->channel_header_len,
                     err);
    if (r < 0)
        goto fail;
    Common__SignatureHeader sh = COMMON__SIGNATURE_HEADER__INIT;
    sh.creator.data = (uint8_t *)creator;
    sh.creator.len = creator_len;
    sh.nonce.data = (uint8_t *)nonce;
    sh.nonce.len = nonce_len;
    r = lc_wire_pack(&sh.base, WC_MAX_PROPOSAL_BYTES, &h->signature_header,
                     &h->signature_header_len, err);
    if (r < 0)
        goto fail;
    return 0;
fail:
    wc_internal_header_done(h);
    return r;
}

int wc_internal_envelope(const struct wc_header *h, const uint8_t *data, size_t data_len,
                         const struct lc_signer *signer, struct lc_errbuf *err, uint8_t **ret_env,
                         size_t *ret_len)
{
    Common__Header hdr = COMMON__HEADER__INIT;
    hdr.channel_header = (ProtobufCBinaryData){h->channel_header_len, h->channel_header};
    hdr.signature_header = (ProtobufCBinaryData){h->signature_header_len, h->signature_header};
    Common__Payload pl = COMMON__PAYLOAD__INIT;
    pl.header = &hdr;
    pl.data = (ProtobufCBinaryData){data_len, (uint8_t *)data};
    uint8_t *payload = NULL;
    size_t payload_len;
    int r = lc_wire_pack(&pl.base, WC_MAX_ENVELOPE_BYTES, &payload, &payload_len, err);
    if (r < 0)
        return r;
    uint8_t sig[LC_ECDSA_SIG_MAX];
    size_t sig_len;
    r = lc_signer_sign(signer, payload, payload_len, sig, &sig_len);
    if (r < 0) {
        r = lc_fail(err, r, "signing the envelope: %s", lc_strerror(r));
        goto out;
    }
    Common__Envelope env = COMMON__ENVELOPE__INIT;
    env.payload = (ProtobufCBinaryData){payload_len, payload};
    env.signature = (ProtobufCBinaryData){sig_len, sig};
    r = lc_wire_pack(&env.base, WC_MAX_ENVELOPE_BYTES + LC_ECDSA_SIG_MAX + 16, ret_env, ret_len,
                     err);
out:
    free(payload);
    return r;
}

/* ---- proposals ------------------------------------------------------------------------------ */

static int check_invocation(const struct wc_invocation *inv, struct lc_errbuf *err)
{
    if (!wc_internal_channel_ok(inv->channel))
        return lc_fail(err, LC_EINVALID,
                       "channel '%.100s' is not a channel ID ([a-z][a-z0-9.-]*, at most %d bytes)",
                       inv->channel ? inv->channel : "", WC_CHANNEL_MAX);
    if (!chaincode_ok(inv->chaincode))
        return lc_fail(err, LC_EINVALID,
                       "chaincode '%.100s' is not a chaincode name "
                       "([A-Za-z0-9]+([-_][A-Za-z0-9]+)*)",
                       inv->chaincode ? inv->chaincode : "");
    if (inv->n_args == 0 || !inv->args)
        return lc_fail(err, LC_EINVALID, "args: at least the function name is needed");
    if (inv->n_args > WC_MAX_ARGS)
        return lc_fail(err, LC_EINVALID, "args: %zu of them, at most %d", inv->n_args, WC_MAX_ARGS);
    for (size_t i = 0; i < inv->n_args; i++)
        if (inv->args[i].len > 0 && !inv->args[i].data)
            return lc_fail(err, LC_EINVALID, "args[%zu]: no data", i);
    if (inv->n_transient > 0 && !inv->transient)
        return lc_fail(err, LC_EINVALID, "transient: no entries");
    if (inv->n_transient > WC_MAX_ARGS)
        return lc_fail(err, LC_EINVALID, "transient: %zu entries, at most %d", inv->n_transient,
                       WC_MAX_ARGS);
    for (size_t i = 0; i < inv->n_transient; i++) {
        const char *k = inv->transient[i].key;
        if (!k || !*k)
            return lc_fail(err, LC_EINVALID, "transient[%zu]: empty key", i);
        if (inv->transient[i].len > 0 && !inv->transient[i].value)
            return lc_fail(err, LC_EINVALID, "transient '%.100s': no data", k);
        for (size_t j = 0; j < i; j++)
            if (strcmp(inv->transient[j].key, k) == 0)
                return lc_fail(err, LC_EINVALID, "transient: duplicate key '%.100s'", k);
    }
    if (inv->nonce && (inv->nonce_len == 0 || inv->nonce_len > WC_MAX_NONCE))
        return lc_fail(err, LC_EINVALID, "nonce: %zu bytes, expected 1 to %d", inv->nonce_len,
                       WC_MAX_NONCE);
    if (inv->seconds < 0 || inv->seconds > TS_MAX_SECONDS || inv->nanos < 0 ||
        inv->nanos > 999999999)
        return lc_fail(err, LC_EINVALID, "timestamp %lld.%09d is out of range",
                       (long long)inv->seconds, (int)inv->nanos);
    return 0;
}

/* The packed ChaincodeInvocationSpec of inv. */
static int pack_spec(const struct wc_invocation *inv, struct lc_errbuf *err, uint8_t **ret,
                     size_t *ret_len)
{
    Protos__ChaincodeID id = PROTOS__CHAINCODE_ID__INIT;
    id.name = (char *)inv->chaincode;
    Protos__ChaincodeInput in = PROTOS__CHAINCODE_INPUT__INIT;
    in.n_args = inv->n_args;
    in.args = (ProtobufCBinaryData *)inv->args;
    Protos__ChaincodeSpec spec = PROTOS__CHAINCODE_SPEC__INIT;
    /* GOLANG, as fabric-common and the peer CLI send it; endorsers ignore the type */
    spec.type = PROTOS__CHAINCODE_SPEC__TYPE__GOLANG;
    spec.chaincode_id = &id;
    spec.input = &in;
    Protos__ChaincodeInvocationSpec cis = PROTOS__CHAINCODE_INVOCATION_SPEC__INIT;
    cis.chaincode_spec = &spec;
    return lc_wire_pack(&cis.base, WC_MAX_PROPOSAL_BYTES, ret, ret_len, err);
}

int wc_proposal_new(const struct lc_signer *signer, const struct wc_invocation *inv,
                    struct lc_errbuf *err, struct wc_proposal **ret)
{
    int r = check_invocation(inv, err);
    if (r < 0)
        return r;
    uint8_t *ext = NULL, *spec = NULL, *full_cpp = NULL, *prop_bytes = NULL;
    size_t ext_len, spec_len, full_cpp_len, prop_len;
    Protos__ChaincodeProposalPayload__TransientMapEntry *entries = NULL, **entry_ptrs = NULL;
    struct wc_proposal *p = calloc(1, sizeof *p);
    if (!p)
        return lc_fail(err, -ENOMEM, "proposal: out of memory");
    p->channel = strdup(inv->channel);
    p->chaincode = strdup(inv->chaincode);
    if (!p->channel || !p->chaincode) {
        r = lc_fail(err, -ENOMEM, "proposal: out of memory");
        goto fail;
    }

    /* ChannelHeader.extension = ChaincodeHeaderExtension{chaincode_id{name}} */
    Protos__ChaincodeID ccid = PROTOS__CHAINCODE_ID__INIT;
    ccid.name = (char *)inv->chaincode;
    Protos__ChaincodeHeaderExtension che = PROTOS__CHAINCODE_HEADER_EXTENSION__INIT;
    che.chaincode_id = &ccid;
    r = lc_wire_pack(&che.base, WC_MAX_PROPOSAL_BYTES, &ext, &ext_len, err);
    if (r < 0)
        goto fail;
    r = wc_internal_header_build(COMMON__HEADER_TYPE__ENDORSER_TRANSACTION, inv->channel, signer,
                                 inv->nonce, inv->nonce_len, inv->seconds, inv->nanos, ext, ext_len,
                                 &p->hdr, err);
    if (r < 0)
        goto fail;

    r = pack_spec(inv, err, &spec, &spec_len);
    if (r < 0)
        goto fail;
    /* the cpp as the transaction carries it: input only (wire facts §3, §4) */
    Protos__ChaincodeProposalPayload cpp = PROTOS__CHAINCODE_PROPOSAL_PAYLOAD__INIT;
    cpp.input = (ProtobufCBinaryData){spec_len, spec};
    r = lc_wire_pack(&cpp.base, WC_MAX_PROPOSAL_BYTES, &p->cpp, &p->cpp_len, err);
    if (r < 0)
        goto fail;
    /* and as the proposal carries it: with the transient map */
    if (inv->n_transient > 0) {
        entries = calloc(inv->n_transient, sizeof *entries);
        entry_ptrs = calloc(inv->n_transient, sizeof *entry_ptrs);
        if (!entries || !entry_ptrs) {
            r = lc_fail(err, -ENOMEM, "proposal: out of memory");
            goto fail;
        }
        for (size_t i = 0; i < inv->n_transient; i++) {
            protos__chaincode_proposal_payload__transient_map_entry__init(&entries[i]);
            entries[i].key = (char *)inv->transient[i].key;
            entries[i].value =
                (ProtobufCBinaryData){inv->transient[i].len, (uint8_t *)inv->transient[i].value};
            entry_ptrs[i] = &entries[i];
        }
        cpp.n_transientmap = inv->n_transient;
        cpp.transientmap = entry_ptrs;
    }
    r = lc_wire_pack(&cpp.base, WC_MAX_PROPOSAL_BYTES, &full_cpp, &full_cpp_len, err);
    if (r < 0)
        goto fail;

    Common__Header hdr = COMMON__HEADER__INIT;
    hdr.channel_header = (ProtobufCBinaryData){p->hdr.channel_header_len, p->hdr.channel_header};
    hdr.signature_header =
        (ProtobufCBinaryData){p->hdr.signature_header_len, p->hdr.signature_header};
    uint8_t *hdr_bytes = NULL;
    size_t hdr_len;
    r = lc_wire_pack(&hdr.base, WC_MAX_PROPOSAL_BYTES, &hdr_bytes, &hdr_len, err);
    if (r < 0)
        goto fail;
    Protos__Proposal prop = PROTOS__PROPOSAL__INIT;
    prop.header = (ProtobufCBinaryData){hdr_len, hdr_bytes};
    prop.payload = (ProtobufCBinaryData){full_cpp_len, full_cpp};
    r = lc_wire_pack(&prop.base, WC_MAX_PROPOSAL_BYTES, &prop_bytes, &prop_len, err);
    free(hdr_bytes);
    if (r < 0)
        goto fail;

    uint8_t sig[LC_ECDSA_SIG_MAX];
    size_t sig_len;
    r = lc_signer_sign(signer, prop_bytes, prop_len, sig, &sig_len);
    if (r < 0) {
        r = lc_fail(err, r, "signing the proposal: %s", lc_strerror(r));
        goto fail;
    }
    Protos__SignedProposal sp = PROTOS__SIGNED_PROPOSAL__INIT;
    sp.proposal_bytes = (ProtobufCBinaryData){prop_len, prop_bytes};
    sp.signature = (ProtobufCBinaryData){sig_len, sig};
    r = lc_wire_pack(&sp.base, WC_MAX_PROPOSAL_BYTES, &p->signed_bytes, &p->signed_len, err);
    if (r < 0)
        goto fail;

    const struct lc_iov parts[] = {
        {p->hdr.channel_header, p->hdr.channel_header_len},
        {p->hdr.signature_header, p->hdr.signature_header_len},
        {p->cpp, p->cpp_len},
    };
    lc_sha256_iov(parts, 3, p->hash);
    *ret = p;
    p = NULL;
fail:
    free(ext);
    free(spec);
    free(full_cpp);
    free(prop_bytes);
    free(entries);
    free(entry_ptrs);
    wc_proposal_free(p);
    return r;
}

void wc_proposal_free(struct wc_proposal *p)
{
    if (!p)
        return;
    free(p->channel);
    free(p->chaincode);
    wc_internal_header_done(&p->hdr);
    free(p->cpp);
    free(p->signed_bytes);
    free(p);
}

const char *wc_proposal_txid(const struct wc_proposal *p)
{
    return p->hdr.txid;
}

const char *wc_proposal_channel(const struct wc_proposal *p)
{
    return p->channel;
}

const char *wc_proposal_chaincode(const struct wc_proposal *p)
{
    return p->chaincode;
}

const uint8_t *wc_proposal_bytes(const struct wc_proposal *p, size_t *ret_len)
{
    *ret_len = p->signed_len;
    return p->signed_bytes;
}

const uint8_t *wc_proposal_hash(const struct wc_proposal *p)
{
    return p->hash;
}

const struct wc_header *wc_internal_proposal_header(const struct wc_proposal *p)
{
    return &p->hdr;
}

const uint8_t *wc_internal_proposal_cpp(const struct wc_proposal *p, size_t *ret_len)
{
    *ret_len = p->cpp_len;
    return p->cpp;
}
