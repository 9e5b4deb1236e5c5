/* SPDX-License-Identifier: Apache-2.0 */
/* Endorser test helpers: identities, SignedProposals with every knob, state seeding, and
 * decoding of ProposalResponses down to the KVRWSet. */
#include "testlib.h"
#include "seed.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "peer/chaincode.pb-c.h"

#include "libcommon/crypto.h"
#include "libcommon/state.h"
#include "libcommon/wire.h"

uint8_t *tl_read_file(const char *path, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "open %s: %s", path, strerror(errno));
    size_t cap = 1 << 16, len = 0, n;
    uint8_t *buf = malloc(cap);
    ck_assert_ptr_nonnull(buf);
    while ((n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            ck_assert_ptr_nonnull(buf);
        }
    }
    fclose(f);
    *ret_len = len;
    return buf;
}

struct lc_signer *tl_signer(const char *msp_dir, const char *mspid)
{
    struct lc_signer *s = NULL;
    struct lc_errbuf err = {{0}};
    ck_assert_msg(lc_signer_load(msp_dir, mspid, &err, &s) == 0, "signer %s: %s", msp_dir, err.msg);
    return s;
}

static struct lc_signer *signer_for(const char *mspid, const struct lc_cert *cert,
                                    const struct lc_privkey *key)
{
    char *cpem = NULL, *kpem = NULL;
    size_t clen, klen;
    ck_assert_int_eq(lc_cert_to_pem(cert, &cpem, &clen), 0);
    ck_assert_int_eq(lc_privkey_to_pem(key, &kpem, &klen), 0);
    struct lc_signer *s = NULL;
    struct lc_errbuf err = {{0}};
    ck_assert_msg(lc_signer_new(mspid, cpem, clen, kpem, klen, &err, &s) == 0, "signer: %s",
                  err.msg);
    free(cpem);
    lc_privkey_pem_free(kpem);
    return s;
}

struct lc_signer *tl_signer_issued(const char *crypto, int org, const char *ou, time_t not_before,
                                   time_t not_after)
{
    char path[4096];
    snprintf(path, sizeof path,
             "%s/peerOrganizations/org%d.example.com/ca/ca.org%d.example.com-cert.pem", crypto, org,
             org);
    size_t len;
    uint8_t *pem = tl_read_file(path, &len);
    struct lc_cert *ca = NULL;
    struct lc_errbuf err = {{0}};
    ck_assert_msg(lc_cert_from_pem(pem, len, &err, &ca) == 0, "ca: %s", err.msg);
    free(pem);
    snprintf(path, sizeof path, "%s/peerOrganizations/org%d.example.com/ca/priv_sk", crypto, org);
    pem = tl_read_file(path, &len);
    struct lc_privkey *ca_key = NULL, *key = NULL;
    ck_assert_msg(lc_privkey_from_pem(pem, len, &err, &ca_key) == 0, "ca key: %s", err.msg);
    free(pem);
    ck_assert_int_eq(lc_privkey_generate(&key), 0);
    const char *ous[] = {ou};
    struct lc_cert_template t = {
        .kind = LC_CERT_SIGN,
        .country = "US",
        .organization = "test",
        .ous = ou ? ous : NULL,
        .n_ous = ou ? 1 : 0,
        .common_name = "issued@test",
        .not_before = not_before,
        .not_after = not_after,
    };
    struct lc_cert *c = NULL;
    ck_assert_msg(lc_cert_issue(&t, lc_privkey_public(key), ca, ca_key, &err, &c) == 0, "issue: %s",
                  err.msg);
    char mspid[32];
    snprintf(mspid, sizeof mspid, "Org%dMSP", org);
    struct lc_signer *s = signer_for(mspid, c, key);
    lc_cert_unref(c);
    lc_cert_unref(ca);
    lc_privkey_free(key);
    lc_privkey_free(ca_key);
    return s;
}

struct lc_signer *tl_signer_self(const char *mspid)
{
    struct lc_privkey *key = NULL;
    ck_assert_int_eq(lc_privkey_generate(&key), 0);
    const char *ous[] = {"client"};
    time_t now = time(NULL);
    struct lc_cert_template t = {
        .kind = LC_CERT_SIGN,
        .common_name = "stranger",
        .ous = ous,
        .n_ous = 1,
        .not_before = now - 3600,
        .not_after = now + 3600,
    };
    struct lc_cert *c = NULL;
    struct lc_errbuf err = {{0}};
    ck_assert_int_eq(lc_cert_issue(&t, lc_privkey_public(key), NULL, key, &err, &c), 0);
    struct lc_signer *s = signer_for(mspid, c, key);
    lc_cert_unref(c);
    lc_privkey_free(key);
    return s;
}

static ProtobufCBinaryData pack(const ProtobufCMessage *m)
{
    ProtobufCBinaryData b;
    struct lc_errbuf err;
    ck_assert_int_eq(lc_wire_pack(m, 64u << 20, &b.data, &b.len, &err), 0);
    return b;
}

uint8_t *tl_proposal(const struct tl_prop *o, size_t *ret_len, char *ret_txid)
{
    ck_assert_ptr_nonnull(o->creator);
    size_t creator_len;
    const uint8_t *creator = lc_signer_serialized(o->creator, &creator_len);
    if (o->creator_bytes) {
        creator = o->creator_bytes;
        creator_len = o->creator_len;
    }
    uint8_t nonce[LC_NONCE_LEN];
    const uint8_t *nonce_p = o->nonce;
    size_t nonce_len = o->nonce_len;
    if (!nonce_p) {
        ck_assert_int_eq(lc_nonce(nonce), 0);
        nonce_p = nonce;
        nonce_len = sizeof nonce;
    }
    if (o->empty_nonce)
        nonce_len = 0;
    char txid[LC_WIRE_TXID_LEN + 1];
    ck_assert_int_eq(lc_wire_txid(nonce_p, nonce_len, creator, creator_len, txid), 0);
    if (o->txid)
        snprintf(txid, sizeof txid, "%s", o->txid);

    /* Header extension. */
    Protos__ChaincodeID ccid = PROTOS__CHAINCODE_ID__INIT;
    ccid.name = (char *)(o->chaincode ? o->chaincode : "");
    Protos__ChaincodeHeaderExtension ext = PROTOS__CHAINCODE_HEADER_EXTENSION__INIT;
    ext.chaincode_id = o->drop_ext_ccid ? NULL : &ccid;
    ProtobufCBinaryData ext_b = pack(&ext.base);

    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    ts.seconds = o->ts_seconds ? o->ts_seconds : (int64_t)time(NULL);
    Common__ChannelHeader chdr = COMMON__CHANNEL_HEADER__INIT;
    chdr.type = o->type_zero ? 0 : (o->type ? o->type : 3);
    chdr.version = 1;
    chdr.timestamp = &ts;
    chdr.channel_id = (char *)(o->channel ? o->channel : "mychannel");
    chdr.tx_id = txid;
    chdr.epoch = o->epoch;
    chdr.extension = ext_b;
    ProtobufCBinaryData chdr_b = pack(&chdr.base);

    Common__SignatureHeader shdr = COMMON__SIGNATURE_HEADER__INIT;
    shdr.creator.data = (uint8_t *)creator;
    shdr.creator.len = creator_len;
    shdr.nonce.data = (uint8_t *)nonce_p;
    shdr.nonce.len = nonce_len;
    ProtobufCBinaryData shdr_b = pack(&shdr.base);

    Common__Header hdr = COMMON__HEADER__INIT;
    hdr.channel_header = chdr_b;
    hdr.signature_header = shdr_b;
    ProtobufCBinaryData hdr_b = pack(&hdr.base);

    ProtobufCBinaryData *args = calloc(o->nargs + 1, sizeof *args);
    ck_assert_ptr_nonnull(args);
    for (size_t i = 0; i < o->nargs; i++) {
        args[i].data = (uint8_t *)o->args[i];
        args[i].len = strlen(o->args[i]);
    }
    Protos__ChaincodeInput input = PROTOS__CHAINCODE_INPUT__INIT;
    input.n_args = o->nargs;
    input.args = args;
    Protos__ChaincodeID spec_id = PROTOS__CHAINCODE_ID__INIT;
    spec_id.name = ccid.name;
    Protos__ChaincodeSpec spec = PROTOS__CHAINCODE_SPEC__INIT;
    spec.type = PROTOS__CHAINCODE_SPEC__TYPE__GOLANG;
    spec.chaincode_id = &spec_id;
    spec.input = o->drop_input ? NULL : &input;
    Protos__ChaincodeInvocationSpec cis = PROTOS__CHAINCODE_INVOCATION_SPEC__INIT;
    cis.chaincode_spec = o->drop_spec ? NULL : &spec;
    ProtobufCBinaryData cis_b = pack(&cis.base);

    Protos__ChaincodeProposalPayload__TransientMapEntry te =
        PROTOS__CHAINCODE_PROPOSAL_PAYLOAD__TRANSIENT_MAP_ENTRY__INIT;
    Protos__ChaincodeProposalPayload__TransientMapEntry *tes[] = {&te};
    Protos__ChaincodeProposalPayload cpp = PROTOS__CHAINCODE_PROPOSAL_PAYLOAD__INIT;
    cpp.input = cis_b;
    if (o->transient_key) {
        te.key = (char *)o->transient_key;
        te.value.data = (uint8_t *)o->transient_value;
        te.value.len = strlen(o->transient_value);
        cpp.n_transientmap = 1;
        cpp.transientmap = tes;
    }
    ProtobufCBinaryData cpp_b = pack(&cpp.base);
    if (o->garbage_payload) {
        free(cpp_b.data);
        cpp_b.data = (uint8_t *)strdup("\x0a\xff\xff");
        cpp_b.len = 3;
    }

    Protos__Proposal prop = PROTOS__PROPOSAL__INIT;
    prop.header = hdr_b;
    prop.payload = cpp_b;
    ProtobufCBinaryData prop_b = pack(&prop.base);

    uint8_t sig[LC_ECDSA_SIG_MAX];
    size_t sig_len = 0;
    const struct lc_signer *by = o->sign_with ? o->sign_with : o->creator;
    ck_assert_int_eq(lc_signer_sign(by, prop_b.data, prop_b.len, sig, &sig_len), 0);
    Protos__SignedProposal sp = PROTOS__SIGNED_PROPOSAL__INIT;
    sp.proposal_bytes = prop_b;
    sp.signature.data = sig;
    sp.signature.len = o->empty_signature ? 0 : sig_len;
    ProtobufCBinaryData out = pack(&sp.base);

    free(ext_b.data);
    free(chdr_b.data);
    free(shdr_b.data);
    free(hdr_b.data);
    free(args);
    free(cis_b.data);
    free(cpp_b.data);
    free(prop_b.data);
    if (ret_txid)
        memcpy(ret_txid, txid, sizeof txid);
    *ret_len = out.len;
    return out.data;
}

Protos__SignedProposal *tl_unpack_sp(const uint8_t *buf, size_t len)
{
    Protos__SignedProposal *sp = protos__signed_proposal__unpack(NULL, len, buf);
    ck_assert_ptr_nonnull(sp);
    return sp;
}

/* ---- state seeding ---- */

static void seed_writes(const char *state_dir, const char *genesis, const char *txid,
                        const struct lc_state_write *w, size_t n)
{
    char err[512];
    ck_assert_msg(seed_state(state_dir, genesis, txid, w, n, err, sizeof err) == 0, "seed: %s",
                  err);
}

void tl_seed(const char *state_dir, const char *genesis, const char *txid, const char *ns,
             const char *const *kv)
{
    size_t n = 0;
    while (kv && kv[2 * n])
        n++;
    struct lc_state_write *w = calloc(n + 1, sizeof *w);
    ck_assert_ptr_nonnull(w);
    for (size_t i = 0; i < n; i++) {
        const char *v = kv[2 * i + 1];
        w[i] = (struct lc_state_write){ns, kv[2 * i],         strlen(kv[2 * i]),
                                       v,  v ? strlen(v) : 0, v == NULL};
    }
    seed_writes(state_dir, genesis, txid, w, n);
    free(w);
}

void tl_seed_many(const char *state_dir, const char *genesis, const char *ns, const char *prefix,
                  size_t n)
{
    struct lc_state_write *w = calloc(n + 1, sizeof *w);
    char(*keys)[64] = calloc(n + 1, 64);
    char(*vals)[32] = calloc(n + 1, 32);
    ck_assert(w && keys && vals);
    for (size_t i = 0; i < n; i++) {
        snprintf(keys[i], 64, "%s%04zu", prefix, i);
        snprintf(vals[i], 32, "v%zu", i);
        w[i] =
            (struct lc_state_write){ns, keys[i], strlen(keys[i]), vals[i], strlen(vals[i]), false};
    }
    seed_writes(state_dir, genesis, NULL, w, n);
    free(w);
    free(keys);
    free(vals);
}

/* ---- decoding ---- */

void tl_decode(const ProtobufCBinaryData *payload, struct tl_decoded *d)
{
    memset(d, 0, sizeof *d);
    d->prp = protos__proposal_response_payload__unpack(NULL, payload->len, payload->data);
    ck_assert_ptr_nonnull(d->prp);
    d->act = protos__chaincode_action__unpack(NULL, d->prp->extension.len, d->prp->extension.data);
    ck_assert_ptr_nonnull(d->act);
    d->rw = rwset__tx_read_write_set__unpack(NULL, d->act->results.len, d->act->results.data);
    ck_assert_ptr_nonnull(d->rw);
    ck_assert_uint_le(d->rw->n_ns_rwset, 8);
    for (size_t i = 0; i < d->rw->n_ns_rwset; i++) {
        d->ns[i] = kvrwset__kvrwset__unpack(NULL, d->rw->ns_rwset[i]->rwset.len,
                                            d->rw->ns_rwset[i]->rwset.data);
        ck_assert_ptr_nonnull(d->ns[i]);
    }
    if (d->act->events.len) {
        d->event = protos__chaincode_event__unpack(NULL, d->act->events.len, d->act->events.data);
        ck_assert_ptr_nonnull(d->event);
    }
}

Kvrwset__KVRWSet *tl_ns(const struct tl_decoded *d, const char *name)
{
    for (size_t i = 0; d->rw && i < d->rw->n_ns_rwset; i++)
        if (strcmp(d->rw->ns_rwset[i]->namespace_, name) == 0)
            return d->ns[i];
    return NULL;
}

void tl_decoded_free(struct tl_decoded *d)
{
    for (size_t i = 0; i < 8; i++)
        if (d->ns[i])
            kvrwset__kvrwset__free_unpacked(d->ns[i], NULL);
    if (d->rw)
        rwset__tx_read_write_set__free_unpacked(d->rw, NULL);
    if (d->act)
        protos__chaincode_action__free_unpacked(d->act, NULL);
    if (d->prp)
        protos__proposal_response_payload__free_unpacked(d->prp, NULL);
    if (d->event)
        protos__chaincode_event__free_unpacked(d->event, NULL);
    memset(d, 0, sizeof *d);
}
