/* SPDX-License-Identifier: Apache-2.0 */
/* Interop helper: issues a test identity, and checks or makes SignedProposals with weft's code. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "libcommon/conf.h"
#include "libcommon/crypto.h"
#include "libcommon/err.h"
#include "libcommon/wire.h"
#include "common/configtx.pb-c.h"
#include "common/policies.pb-c.h"
#include "ledger/rwset/kvrwset/kv_rwset.pb-c.h"
#include "ledger/rwset/rwset.pb-c.h"
#include "msp/identities.pb-c.h"
#include "msp/msp_config.pb-c.h"
#include "orderer/ab.pb-c.h"
#include "orderer/configuration.pb-c.h"
#include "orderer/kafka.pb-c.h"
#include "peer/chaincode.pb-c.h"
#include "peer/events.pb-c.h"
#include "peer/proposal.pb-c.h"
#include "peer/proposal_response.pb-c.h"
#include "peer/transaction.pb-c.h"

static const struct lc_conf_setting settings[] = {
    {.name = "channel", .type = LC_CONF_STRING, .def = "mychannel", .help = "Channel ID (make)."},
    {.name = "msp-id",
     .type = LC_CONF_STRING,
     .def = "Org1MSP",
     .help = "Creator's MSP ID (make)."},
    {.name = "chaincode", .type = LC_CONF_STRING, .def = "basic", .help = "Chaincode name (make)."},
    {.name = "fcn", .type = LC_CONF_STRING, .def = "CreateAsset", .help = "Function (make)."},
    {.name = "max-input",
     .type = LC_CONF_SIZE,
     .def = "1MiB",
     .min = 1024,
     .max = 64 << 20,
     .help = "Largest file check reads."},
};

static const struct lc_conf_def conf_def = {
    .service = "proposal-tool",
    .summary = "keygen DIR: write ca.pem, cert.pem (Org1MSP client), key.pem (PKCS#8) into DIR.\n"
               "check FILE: decode a SignedProposal, re-encode every layer, check TxID and "
               "signature; print JSON.\n"
               "make DIR FILE [ARG...]: build and sign a SignedProposal with DIR's identity; "
               "print JSON.\n"
               "roundtrip TYPE FILE...: unpack and pack each FILE as message TYPE (e.g. "
               "common.Block); print JSON.",
    .args_usage = "keygen DIR | check FILE | make DIR FILE [ARG...] | roundtrip TYPE FILE...",
    .settings = settings,
    .n_settings = sizeof settings / sizeof settings[0],
};

/* Reads a whole file of at most max bytes; caller frees *ret_buf. */
static int read_file(const char *path, size_t max, uint8_t **ret_buf, size_t *ret_len,
                     struct lc_errbuf *err)
{
    int r = 0;
    uint8_t *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return lc_fail(err, -errno, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) < 0) {
        r = lc_fail(err, -errno, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (st.st_size < 0 || (uint64_t)st.st_size > max) {
        r = lc_fail(err, LC_ETOOBIG, "%s: over %zu bytes", path, max);
        goto out;
    }
    size_t len = (size_t)st.st_size;
    buf = malloc(len ? len : 1);
    if (!buf) {
        r = lc_fail(err, -ENOMEM, "%s: out of memory", path);
        goto out;
    }
    if (fread(buf, 1, len, f) != len) {
        r = lc_fail(err, -EIO, "%s: short read", path);
        goto out;
    }
    *ret_buf = buf;
    *ret_len = len;
    buf = NULL;
out:
    free(buf);
    fclose(f);
    return r;
}

static int write_file(const char *dir, const char *name, const void *p, size_t n, mode_t mode,
                      struct lc_errbuf *err)
{
    char path[4096];
    if (dir)
        snprintf(path, sizeof path, "%s/%s", dir, name);
    else
        snprintf(path, sizeof path, "%s", name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return lc_fail(err, -errno, "%s: %s", path, strerror(errno));
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            return lc_fail(err, -e, "%s: %s", path, strerror(e));
        }
        b += w;
        n -= (size_t)w;
    }
    if (close(fd) < 0)
        return lc_fail(err, -errno, "%s: %s", path, strerror(errno));
    return 0;
}

static json_t *hex_json(const uint8_t *p, size_t n)
{
    char *h = malloc(2 * n + 1);
    if (!h)
        return NULL;
    lc_hex_encode(p, n, h);
    json_t *j = json_string(h);
    free(h);
    return j;
}

static void print_json(json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    if (s)
        printf("%s\n", s);
    free(s);
}

/* ---- keygen ---- */

static int issue(const struct lc_cert_template *t, const struct lc_cert *issuer,
                 const struct lc_privkey *issuer_key, struct lc_privkey **ret_key,
                 struct lc_cert **ret_cert, struct lc_errbuf *err)
{
    struct lc_privkey *k = NULL;
    int r = lc_privkey_generate(&k);
    if (r < 0)
        return lc_fail(err, r, "generate key: %s", lc_strerror(r));
    r = lc_cert_issue(t, lc_privkey_public(k), issuer, issuer ? issuer_key : k, err, ret_cert);
    if (r < 0) {
        lc_privkey_free(k);
        return r;
    }
    *ret_key = k;
    return 0;
}

static int write_cert(const char *dir, const char *name, const struct lc_cert *c,
                      struct lc_errbuf *err)
{
    char *pem = NULL;
    size_t len;
    int r = lc_cert_to_pem(c, &pem, &len);
    if (r < 0)
        return lc_fail(err, r, "%s: encode PEM", name);
    r = write_file(dir, name, pem, len, 0644, err);
    free(pem);
    return r;
}

static int cmd_keygen(const char *dir, struct lc_errbuf *err)
{
    struct lc_privkey *ca_key = NULL, *key = NULL;
    struct lc_cert *ca = NULL, *cert = NULL;
    char *pem = NULL;
    size_t pem_len;
    time_t now = time(NULL);
    const char *client_ou[] = {"client"};
    const struct lc_cert_template ca_t = {
        .kind = LC_CERT_CA,
        .country = "US",
        .province = "California",
        .locality = "San Francisco",
        .organization = "org1.example.com",
        .common_name = "ca.org1.example.com",
        .not_before = now - 300,
        .not_after = now + 10 * 365 * 86400L,
    };
    const struct lc_cert_template user_t = {
        .kind = LC_CERT_SIGN,
        .country = "US",
        .province = "California",
        .locality = "San Francisco",
        .ous = client_ou,
        .n_ous = 1,
        .common_name = "User1@org1.example.com",
        .not_before = now - 300,
        .not_after = now + 10 * 365 * 86400L,
    };
    int r = issue(&ca_t, NULL, NULL, &ca_key, &ca, err);
    if (r < 0)
        goto out;
    if ((r = issue(&user_t, ca, ca_key, &key, &cert, err)) < 0)
        goto out;
    if ((r = write_cert(dir, "ca.pem", ca, err)) < 0 ||
        (r = write_cert(dir, "cert.pem", cert, err)) < 0)
        goto out;
    if ((r = lc_privkey_to_pem(key, &pem, &pem_len)) < 0) {
        lc_fail(err, r, "key.pem: encode PEM");
        goto out;
    }
    if ((r = write_file(dir, "key.pem", pem, pem_len, 0600, err)) < 0)
        goto out;
    json_t *j = json_pack("{s:s, s:s, s:s}", "dir", dir, "subject", lc_cert_subject_str(cert),
                          "issuer", lc_cert_issuer_str(cert));
    print_json(j);
    json_decref(j);
out:
    lc_privkey_pem_free(pem);
    lc_privkey_free(ca_key);
    lc_privkey_free(key);
    lc_cert_unref(ca);
    lc_cert_unref(cert);
    return r;
}

/* ---- check ---- */

#define MAX_LAYERS 12

struct check {
    ProtobufCMessage *msgs[MAX_LAYERS];
    size_t n;
    json_t *layers;
};

/* Unpacks one layer with protobuf-c, packs it again and records whether the bytes came back
 * identical. The message stays owned by ck. */
static int layer(struct check *ck, const char *name, const ProtobufCMessageDescriptor *desc,
                 ProtobufCBinaryData raw, ProtobufCMessage **ret, struct lc_errbuf *err)
{
    ProtobufCMessage *m = NULL;
    uint8_t *again = NULL;
    size_t again_len = 0;
    int r = lc_wire_unpack(desc, raw.data, raw.len, &m, err);
    if (r < 0) {
        lc_errbuf_prefix(err, "%s: ", name);
        return r;
    }
    ck->msgs[ck->n++] = m;
    if ((r = lc_wire_pack(m, SIZE_MAX, &again, &again_len, err)) < 0)
        return r;
    bool same = again_len == raw.len && memcmp(again, raw.data, raw.len) == 0;
    json_array_append_new(ck->layers, json_pack("{s:s, s:s, s:I, s:I, s:b, s:o}", "name", name,
                                                "type", desc->name, "len", (json_int_t)raw.len,
                                                "reencoded_len", (json_int_t)again_len, "identical",
                                                same, "reencoded", hex_json(again, again_len)));
    free(again);
    *ret = m;
    return 0;
}

static int cmd_check(const struct lc_conf *conf, const char *path, struct lc_errbuf *err)
{
    struct check ck = {.layers = json_array()};
    json_t *out = json_object();
    uint8_t *file = NULL;
    size_t file_len = 0;
    struct lc_cert *cert = NULL;
    Protos__SignedProposal *sp;
    Protos__Proposal *prop;
    Common__Header *hdr;
    Common__ChannelHeader *chdr;
    Common__SignatureHeader *shdr;
    Msp__SerializedIdentity *sid;
    Protos__ChaincodeHeaderExtension *ext;
    Protos__ChaincodeProposalPayload *cpp;
    Protos__ChaincodeInvocationSpec *cis;
    int r = read_file(path, lc_conf_size(conf, "max-input"), &file, &file_len, err);
    if (r < 0)
        goto out;
    ProtobufCBinaryData whole = {file_len, file};
#define LAYER(name, desc, raw, ret)                                                                \
    if ((r = layer(&ck, name, &desc, raw, (ProtobufCMessage **)(ret), err)) < 0)                   \
        goto out;
    LAYER("SignedProposal", protos__signed_proposal__descriptor, whole, &sp);
    LAYER("Proposal", protos__proposal__descriptor, sp->proposal_bytes, &prop);
    LAYER("Header", common__header__descriptor, prop->header, &hdr);
    LAYER("ChannelHeader", common__channel_header__descriptor, hdr->channel_header, &chdr);
    LAYER("SignatureHeader", common__signature_header__descriptor, hdr->signature_header, &shdr);
    LAYER("SerializedIdentity", msp__serialized_identity__descriptor, shdr->creator, &sid);
    LAYER("ChaincodeHeaderExtension", protos__chaincode_header_extension__descriptor,
          chdr->extension, &ext);
    LAYER("ChaincodeProposalPayload", protos__chaincode_proposal_payload__descriptor, prop->payload,
          &cpp);
    LAYER("ChaincodeInvocationSpec", protos__chaincode_invocation_spec__descriptor, cpp->input,
          &cis);
#undef LAYER
    json_object_set_new(out, "layers", ck.layers);
    ck.layers = NULL;

    char txid[LC_WIRE_TXID_LEN + 1];
    if ((r = lc_wire_txid(shdr->nonce.data, shdr->nonce.len, shdr->creator.data, shdr->creator.len,
                          txid)) < 0) {
        lc_fail(err, r, "txid: %s", lc_strerror(r));
        goto out;
    }
    bool txid_ok = strcmp(txid, chdr->tx_id) == 0;
    json_object_set_new(out, "tx_id", json_string(chdr->tx_id));
    json_object_set_new(out, "tx_id_computed", json_string(txid));
    json_object_set_new(out, "tx_id_match", json_boolean(txid_ok));
    json_object_set_new(out, "type", json_integer(chdr->type));
    json_object_set_new(out, "version", json_integer(chdr->version));
    json_object_set_new(out, "epoch", json_integer((json_int_t)chdr->epoch));
    json_object_set_new(out, "channel_id", json_string(chdr->channel_id));
    json_object_set_new(out, "nonce_len", json_integer((json_int_t)shdr->nonce.len));
    json_object_set_new(out, "mspid", json_string(sid->mspid));
    json_object_set_new(out, "n_transient", json_integer((json_int_t)cpp->n_transientmap));
    if (!chdr->timestamp) {
        r = lc_fail(err, LC_EINVALID, "ChannelHeader: no timestamp");
        goto out;
    }
    json_object_set_new(out, "timestamp_seconds", json_integer(chdr->timestamp->seconds));
    if (!ext->chaincode_id || !cis->chaincode_spec || !cis->chaincode_spec->input ||
        !cis->chaincode_spec->chaincode_id) {
        r = lc_fail(err, LC_EINVALID, "chaincode id, spec or input missing");
        goto out;
    }
    json_object_set_new(out, "chaincode", json_string(ext->chaincode_id->name));
    json_object_set_new(out, "spec_chaincode",
                        json_string(cis->chaincode_spec->chaincode_id->name));
    json_object_set_new(out, "spec_type", json_integer(cis->chaincode_spec->type));
    json_t *args = json_array();
    const Protos__ChaincodeInput *in = cis->chaincode_spec->input;
    for (size_t i = 0; i < in->n_args; i++)
        json_array_append_new(args, json_stringn((const char *)in->args[i].data, in->args[i].len));
    json_object_set_new(out, "args", args);

    if ((r = lc_cert_from_pem(sid->id_bytes.data, sid->id_bytes.len, err, &cert)) < 0) {
        lc_errbuf_prefix(err, "creator certificate: ");
        goto out;
    }
    json_object_set_new(out, "creator_cn", json_string(lc_cert_subject_cn(cert)));
    json_object_set_new(out, "creator_ou",
                        json_string(lc_cert_ou_count(cert) ? lc_cert_ou(cert, 0) : ""));
    struct lc_errbuf sigerr = {""};
    int sr = lc_ecdsa_verify(lc_cert_pubkey(cert), sp->proposal_bytes.data, sp->proposal_bytes.len,
                             sp->signature.data, sp->signature.len, &sigerr);
    json_object_set_new(out, "signature_valid", json_boolean(sr == 0));
    if (sr < 0)
        json_object_set_new(out, "signature_error", json_string(sigerr.msg));
    json_object_set_new(out, "ok", json_boolean(txid_ok && sr == 0));
    print_json(out);
    if (!txid_ok)
        r = lc_fail(err, LC_EMISMATCH, "tx_id %s, computed %s", chdr->tx_id, txid);
    else if (sr < 0)
        r = lc_fail(err, sr, "signature: %s", sigerr.msg);
out:
    for (size_t i = 0; i < ck.n; i++)
        protobuf_c_message_free_unpacked(ck.msgs[i], NULL);
    json_decref(ck.layers);
    json_decref(out);
    lc_cert_unref(cert);
    free(file);
    return r;
}

/* ---- make ---- */

struct packed {
    uint8_t *p[12];
    size_t n;
};

/* Packs m into a buffer kept in pk; returns it as binary data. */
static int pack(struct packed *pk, const void *m, ProtobufCBinaryData *ret, struct lc_errbuf *err)
{
    size_t len;
    if (pk->n == sizeof pk->p / sizeof pk->p[0])
        return lc_fail(err, LC_ETOOBIG, "pack: more than %zu layers", pk->n);
    int r = lc_wire_pack(m, 4u << 20, &pk->p[pk->n], &len, err);
    if (r < 0)
        return r;
    ret->data = pk->p[pk->n++];
    ret->len = len;
    return 0;
}

static int cmd_make(const struct lc_conf *conf, const char *dir, const char *path, size_t nargs,
                    const char *const *argv, struct lc_errbuf *err)
{
    struct packed pk = {0};
    uint8_t *cert_pem = NULL, *key_pem = NULL;
    size_t cert_len = 0, key_len = 0;
    struct lc_privkey *key = NULL;
    struct lc_cert *cert = NULL;
    ProtobufCBinaryData *args = NULL;
    char path_buf[4096];
    int r;

    snprintf(path_buf, sizeof path_buf, "%s/cert.pem", dir);
    if ((r = read_file(path_buf, LC_PEM_MAX, &cert_pem, &cert_len, err)) < 0)
        goto out;
    snprintf(path_buf, sizeof path_buf, "%s/key.pem", dir);
    if ((r = read_file(path_buf, LC_PEM_MAX, &key_pem, &key_len, err)) < 0)
        goto out;
    if ((r = lc_privkey_from_pem(key_pem, key_len, err, &key)) < 0 ||
        (r = lc_cert_from_pem(cert_pem, cert_len, err, &cert)) < 0)
        goto out;
    if (!lc_cert_matches_key(cert, key)) {
        r = lc_fail(err, LC_EBADKEY, "%s: key.pem is not cert.pem's key", dir);
        goto out;
    }

    /* creator = SerializedIdentity{mspid, the PEM as the file has it}, as the Node SDK sends */
    Msp__SerializedIdentity sid = MSP__SERIALIZED_IDENTITY__INIT;
    sid.mspid = (char *)lc_conf_str(conf, "msp-id");
    sid.id_bytes = (ProtobufCBinaryData){cert_len, cert_pem};
    ProtobufCBinaryData creator;
    if ((r = pack(&pk, &sid, &creator, err)) < 0)
        goto out;
    uint8_t nonce[LC_NONCE_LEN];
    if ((r = lc_nonce(nonce)) < 0) {
        lc_fail(err, r, "nonce: %s", lc_strerror(r));
        goto out;
    }
    char txid[LC_WIRE_TXID_LEN + 1];
    if ((r = lc_wire_txid(nonce, sizeof nonce, creator.data, creator.len, txid)) < 0) {
        lc_fail(err, r, "txid: %s", lc_strerror(r));
        goto out;
    }

    Protos__ChaincodeID ccid = PROTOS__CHAINCODE_ID__INIT;
    ccid.name = (char *)lc_conf_str(conf, "chaincode");
    Protos__ChaincodeHeaderExtension ext = PROTOS__CHAINCODE_HEADER_EXTENSION__INIT;
    ext.chaincode_id = &ccid;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    Google__Protobuf__Timestamp stamp = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    stamp.seconds = ts.tv_sec;
    stamp.nanos = (int32_t)ts.tv_nsec;
    Common__ChannelHeader chdr = COMMON__CHANNEL_HEADER__INIT;
    chdr.type = COMMON__HEADER_TYPE__ENDORSER_TRANSACTION;
    chdr.version = 1; /* as the Node SDK */
    chdr.timestamp = &stamp;
    chdr.channel_id = (char *)lc_conf_str(conf, "channel");
    chdr.tx_id = txid;
    Common__SignatureHeader shdr = COMMON__SIGNATURE_HEADER__INIT;
    shdr.creator = creator;
    shdr.nonce = (ProtobufCBinaryData){sizeof nonce, nonce};
    Common__Header hdr = COMMON__HEADER__INIT;
    if ((r = pack(&pk, &ext, &chdr.extension, err)) < 0 ||
        (r = pack(&pk, &chdr, &hdr.channel_header, err)) < 0 ||
        (r = pack(&pk, &shdr, &hdr.signature_header, err)) < 0)
        goto out;

    args = calloc(nargs + 1, sizeof *args);
    if (!args) {
        r = lc_fail(err, -ENOMEM, "out of memory");
        goto out;
    }
    const char *fcn = lc_conf_str(conf, "fcn");
    args[0] = (ProtobufCBinaryData){strlen(fcn), (uint8_t *)fcn};
    for (size_t i = 0; i < nargs; i++)
        args[i + 1] = (ProtobufCBinaryData){strlen(argv[i]), (uint8_t *)argv[i]};
    Protos__ChaincodeInput input = PROTOS__CHAINCODE_INPUT__INIT;
    input.n_args = nargs + 1;
    input.args = args;
    Protos__ChaincodeSpec spec = PROTOS__CHAINCODE_SPEC__INIT;
    spec.type = PROTOS__CHAINCODE_SPEC__TYPE__GOLANG;
    spec.chaincode_id = &ccid;
    spec.input = &input;
    Protos__ChaincodeInvocationSpec cis = PROTOS__CHAINCODE_INVOCATION_SPEC__INIT;
    cis.chaincode_spec = &spec;
    Protos__ChaincodeProposalPayload cpp = PROTOS__CHAINCODE_PROPOSAL_PAYLOAD__INIT;
    Protos__Proposal prop = PROTOS__PROPOSAL__INIT;
    if ((r = pack(&pk, &cis, &cpp.input, err)) < 0 || (r = pack(&pk, &cpp, &prop.payload, err)) < 0)
        goto out;
    if ((r = pack(&pk, &hdr, &prop.header, err)) < 0)
        goto out;
    Protos__SignedProposal sp = PROTOS__SIGNED_PROPOSAL__INIT;
    if ((r = pack(&pk, &prop, &sp.proposal_bytes, err)) < 0)
        goto out;
    uint8_t sig[LC_ECDSA_SIG_MAX];
    size_t sig_len;
    if ((r = lc_ecdsa_sign(key, sp.proposal_bytes.data, sp.proposal_bytes.len, sig, &sig_len)) <
        0) {
        lc_fail(err, r, "sign: %s", lc_strerror(r));
        goto out;
    }
    sp.signature = (ProtobufCBinaryData){sig_len, sig};
    ProtobufCBinaryData whole;
    if ((r = pack(&pk, &sp, &whole, err)) < 0)
        goto out;
    if ((r = write_file(NULL, path, whole.data, whole.len, 0644, err)) < 0)
        goto out;
    json_t *out = json_pack("{s:s, s:o, s:s, s:s, s:I}", "tx_id", txid, "nonce",
                            hex_json(nonce, sizeof nonce), "channel_id", chdr.channel_id, "mspid",
                            sid.mspid, "len", (json_int_t)whole.len);
    print_json(out);
    json_decref(out);
out:
    for (size_t i = 0; i < pk.n; i++)
        free(pk.p[i]);
    free(args);
    lc_cert_unref(cert);
    lc_privkey_free(key);
    free(cert_pem);
    free(key_pem);
    return r;
}

/* ---- roundtrip ---- */

/* The messages other tests encode with Fabric's protobufjs types for a protobuf-c round trip. */
static const ProtobufCMessageDescriptor *const roundtrip_types[] = {
    &common__envelope__descriptor,
    &common__payload__descriptor,
    &common__block__descriptor,
    &common__block_header__descriptor,
    &common__metadata__descriptor,
    &common__last_config__descriptor,
    &common__orderer_block_metadata__descriptor,
    &common__config_envelope__descriptor,
    &common__config_update_envelope__descriptor,
    &common__signature_policy_envelope__descriptor,
    &common__implicit_meta_policy__descriptor,
    &common__mspprincipal__descriptor,
    &common__msprole__descriptor,
    &msp__serialized_identity__descriptor,
    &msp__fabric_mspconfig__descriptor,
    &orderer__seek_info__descriptor,
    &orderer__broadcast_response__descriptor,
    &orderer__deliver_response__descriptor,
    &orderer__kafka_message__descriptor,
    &orderer__kafka_metadata__descriptor,
    &orderer__batch_size__descriptor,
    &protos__signed_proposal__descriptor,
    &protos__proposal_response__descriptor,
    &protos__proposal_response_payload__descriptor,
    &protos__chaincode_action__descriptor,
    &protos__transaction__descriptor,
    &protos__chaincode_action_payload__descriptor,
    &protos__deliver_response__descriptor,
    &protos__filtered_block__descriptor,
    &rwset__tx_read_write_set__descriptor,
    &kvrwset__kvrwset__descriptor,
};

static int cmd_roundtrip(const struct lc_conf *conf, size_t n, const char *const *pairs,
                         struct lc_errbuf *err)
{
    json_t *out = json_array();
    uint8_t *file = NULL, *again = NULL;
    ProtobufCMessage *m = NULL;
    int r = 0;
    for (size_t i = 0; i + 1 < n; i += 2) {
        const ProtobufCMessageDescriptor *desc = NULL;
        for (size_t k = 0; k < sizeof roundtrip_types / sizeof roundtrip_types[0]; k++)
            if (strcmp(roundtrip_types[k]->name, pairs[i]) == 0)
                desc = roundtrip_types[k];
        if (!desc) {
            r = lc_fail(err, LC_ENOTFOUND, "roundtrip: no message type %s here", pairs[i]);
            goto out;
        }
        size_t len = 0, again_len = 0;
        if ((r = read_file(pairs[i + 1], lc_conf_size(conf, "max-input"), &file, &len, err)) < 0)
            goto out;
        if ((r = lc_wire_unpack(desc, file, len, &m, err)) < 0 ||
            (r = lc_wire_pack(m, SIZE_MAX, &again, &again_len, err)) < 0)
            goto out;
        bool same = again_len == len && memcmp(again, file, len) == 0;
        json_array_append_new(out, json_pack("{s:s, s:s, s:b, s:o}", "type", desc->name, "file",
                                             pairs[i + 1], "identical", same, "reencoded",
                                             hex_json(again, again_len)));
        protobuf_c_message_free_unpacked(m, NULL);
        m = NULL;
        free(file);
        file = NULL;
        free(again);
        again = NULL;
    }
    print_json(out);
out:
    if (m)
        protobuf_c_message_free_unpacked(m, NULL);
    free(file);
    free(again);
    json_decref(out);
    return r;
}

int main(int argc, char **argv)
{
    struct lc_errbuf err = {""};
    struct lc_conf *conf = NULL;
    int r = lc_conf_new(&conf_def, &conf, &err);
    if (r == 0)
        r = lc_conf_parse(conf, argc, argv, NULL, &err);
    if (r < 0)
        goto out;
    if (lc_conf_help_requested(conf)) {
        r = lc_conf_write_help(conf, lc_conf_help_requested(conf), stdout);
        goto out;
    }
    size_t n = lc_conf_nargs(conf);
    const char *cmd = lc_conf_arg(conf, 0);
    if (cmd && strcmp(cmd, "keygen") == 0 && n == 2) {
        r = cmd_keygen(lc_conf_arg(conf, 1), &err);
    } else if (cmd && strcmp(cmd, "check") == 0 && n == 2) {
        r = cmd_check(conf, lc_conf_arg(conf, 1), &err);
    } else if (cmd && strcmp(cmd, "make") == 0 && n >= 3) {
        const char *args[64];
        if (n - 3 > sizeof args / sizeof args[0]) {
            r = lc_fail(&err, LC_ETOOBIG, "make: more than 64 chaincode arguments");
            goto out;
        }
        for (size_t i = 3; i < n; i++)
            args[i - 3] = lc_conf_arg(conf, i);
        r = cmd_make(conf, lc_conf_arg(conf, 1), lc_conf_arg(conf, 2), n - 3, args, &err);
    } else if (cmd && strcmp(cmd, "roundtrip") == 0 && n >= 3 && n % 2 == 1) {
        const char **pairs = calloc(n, sizeof *pairs);
        if (!pairs) {
            r = lc_fail(&err, -ENOMEM, "out of memory");
            goto out;
        }
        for (size_t i = 1; i < n; i++)
            pairs[i - 1] = lc_conf_arg(conf, i);
        r = cmd_roundtrip(conf, n - 1, pairs, &err);
        free(pairs);
    } else {
        r = lc_fail(&err, LC_ESYNTAX, "usage: proposal_tool %s", conf_def.args_usage);
    }
out:
    if (r < 0)
        fprintf(stderr, "proposal_tool: %s\n", err.msg);
    lc_conf_free(conf);
    return r < 0 ? 1 : 0;
}
