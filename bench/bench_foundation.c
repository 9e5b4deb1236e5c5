/* SPDX-License-Identifier: Apache-2.0 */
/* Rates of the foundation's hot paths: identity validation (cached and cold), policy evaluation,
 * and decoding a 100-transaction block; prints figures and ratios, asserts nothing. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "common/common.pb-c.h"
#include "ledger/rwset/kvrwset/kv_rwset.pb-c.h"
#include "ledger/rwset/rwset.pb-c.h"
#include "msp/identities.pb-c.h"
#include "msp/msp_config.pb-c.h"
#include "peer/chaincode.pb-c.h"
#include "peer/proposal.pb-c.h"
#include "peer/proposal_response.pb-c.h"
#include "peer/transaction.pb-c.h"

#include "libcommon/crypto.h"
#include "libcommon/msp.h"
#include "libcommon/policy.h"
#include "libcommon/wire.h"

/* Each figure is the best of ROUNDS rounds of ROUND_S seconds, after a warm-up round (memory on
 * this VM is slow on first touch). Figures compared with each other are measured in interleaved
 * rounds, so a swing in the machine's load hits them alike. */
#define ROUNDS 5
#define ROUND_S 0.4
#define WARMUP_S 0.3

#define N_ORGS 3
#define N_TX 100
#define CHANNEL "mychannel"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long failures; /* operations that did not give the expected result; printed, not fatal */

static void die(const char *what, const struct lc_errbuf *err)
{
    fprintf(stderr, "bench_foundation: setup: %s: %s\n", what, err ? err->msg : "failed");
    exit(1);
}

/* ---- timing -------------------------------------------------------------------------------- */

struct op {
    const char *name;
    void (*fn)(void *ctx);
    void *ctx;
    double rate; /* best ops/s */
};

static double run_for(const struct op *op, double secs)
{
    long n = 0;
    double t0 = now_s(), t;
    do {
        for (int j = 0; j < 4; j++)
            op->fn(op->ctx);
        n += 4;
        t = now_s();
    } while (t - t0 < secs);
    return (double)n / (t - t0);
}

/* Measures ops[0..n) in interleaved rounds; each keeps its best. */
static void measure(struct op *ops, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        run_for(&ops[i], WARMUP_S);
        ops[i].rate = 0;
    }
    for (int r = 0; r < ROUNDS; r++)
        for (size_t i = 0; i < n; i++) {
            double v = run_for(&ops[i], ROUND_S);
            if (v > ops[i].rate)
                ops[i].rate = v;
        }
}

/* ---- test organisations -------------------------------------------------------------------- */

struct org {
    char mspid[24];
    struct lc_privkey *ca_key;
    struct lc_cert *ca;
    struct lc_privkey *peer_key, *client_key;
    uint8_t *peer_id, *client_id; /* serialized identities */
    size_t peer_id_len, client_id_len;
};

static ProtobufCBinaryData pk(const void *m)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *b = malloc(n ? n : 1);
    if (!b)
        die("out of memory", NULL);
    protobuf_c_message_pack(m, b);
    return (ProtobufCBinaryData){.len = n, .data = b};
}

/* A certificate as Fabric's cryptogen makes them (O, OU, CN; no C/ST/L, so that an endorser
 * envelope comes to about 3 KiB), serialized as an identity of mspid. */
static uint8_t *issue(const struct org *o, enum lc_cert_kind kind, const char *ou, const char *cn,
                      struct lc_privkey **ret_key, size_t *ret_len)
{
    struct lc_errbuf err;
    struct lc_cert *c = NULL;
    char *pem = NULL;
    size_t len;
    const char *ous[1] = {ou};
    time_t now = time(NULL);
    struct lc_cert_template t = {.kind = kind,
                                 .organization = o->mspid,
                                 .ous = ous,
                                 .n_ous = ou ? 1 : 0,
                                 .common_name = cn,
                                 .not_before = now - 3600,
                                 .not_after = now + 86400 * 365};
    if (lc_privkey_generate(ret_key) != 0)
        die("key", NULL);
    if (lc_cert_issue(&t, lc_privkey_public(*ret_key), kind == LC_CERT_CA ? NULL : o->ca,
                      kind == LC_CERT_CA ? *ret_key : o->ca_key, &err, &c) != 0)
        die(cn, &err);
    if (lc_cert_to_pem(c, &pem, &len) != 0)
        die("PEM", NULL);
    if (kind == LC_CERT_CA) {
        ((struct org *)o)->ca = c;
        *ret_len = len;
        return (uint8_t *)pem;
    }
    lc_cert_unref(c);
    Msp__SerializedIdentity sid = MSP__SERIALIZED_IDENTITY__INIT;
    sid.mspid = (char *)o->mspid;
    sid.id_bytes = (ProtobufCBinaryData){.len = len, .data = (uint8_t *)pem};
    ProtobufCBinaryData b = pk(&sid);
    free(pem);
    *ret_len = b.len;
    return b.data;
}

/* Packed MSPConfig with NodeOUs (client, peer, admin, orderer) and one root. */
static ProtobufCBinaryData org_config(const struct org *o, const uint8_t *ca_pem, size_t ca_len)
{
    Msp__FabricMSPConfig fc = MSP__FABRIC_MSPCONFIG__INIT;
    Msp__FabricCryptoConfig cc = MSP__FABRIC_CRYPTO_CONFIG__INIT;
    Msp__FabricNodeOUs nous = MSP__FABRIC_NODE_OUS__INIT;
    Msp__FabricOUIdentifier client = MSP__FABRIC_OUIDENTIFIER__INIT,
                            peer = MSP__FABRIC_OUIDENTIFIER__INIT,
                            admin = MSP__FABRIC_OUIDENTIFIER__INIT,
                            orderer = MSP__FABRIC_OUIDENTIFIER__INIT;
    ProtobufCBinaryData root = {.len = ca_len, .data = (uint8_t *)ca_pem};
    fc.name = (char *)o->mspid;
    fc.n_root_certs = 1;
    fc.root_certs = &root;
    cc.signature_hash_family = "SHA2";
    cc.identity_identifier_hash_function = "SHA256";
    fc.crypto_config = &cc;
    client.organizational_unit_identifier = "client";
    peer.organizational_unit_identifier = "peer";
    admin.organizational_unit_identifier = "admin";
    orderer.organizational_unit_identifier = "orderer";
    nous.enable = true;
    nous.client_ou_identifier = &client;
    nous.peer_ou_identifier = &peer;
    nous.admin_ou_identifier = &admin;
    nous.orderer_ou_identifier = &orderer;
    fc.fabric_node_ous = &nous;
    ProtobufCBinaryData fb = pk(&fc);
    Msp__MSPConfig mc = MSP__MSPCONFIG__INIT;
    mc.config = fb;
    ProtobufCBinaryData out = pk(&mc);
    free(fb.data);
    return out;
}

static void orgs_make(struct org *orgs, struct lc_msp_mgr *const *mgrs, size_t n_mgrs)
{
    for (int i = 0; i < N_ORGS; i++) {
        struct org *o = &orgs[i];
        struct lc_errbuf err;
        char cn[64];
        size_t ca_len;
        snprintf(o->mspid, sizeof o->mspid, "Org%dMSP", i + 1);
        snprintf(cn, sizeof cn, "ca.org%d.example.com", i + 1);
        uint8_t *ca_pem = issue(o, LC_CERT_CA, NULL, cn, &o->ca_key, &ca_len);
        snprintf(cn, sizeof cn, "peer0.org%d.example.com", i + 1);
        o->peer_id = issue(o, LC_CERT_SIGN, "peer", cn, &o->peer_key, &o->peer_id_len);
        snprintf(cn, sizeof cn, "User1@org%d.example.com", i + 1);
        o->client_id = issue(o, LC_CERT_SIGN, "client", cn, &o->client_key, &o->client_id_len);
        ProtobufCBinaryData cfg = org_config(o, ca_pem, ca_len);
        for (size_t m = 0; m < n_mgrs; m++)
            if (lc_msp_mgr_add_config(mgrs[m], cfg.data, cfg.len, &err) != 0)
                die(o->mspid, &err);
        free(cfg.data);
        free(ca_pem);
    }
}

static void orgs_free(struct org *orgs)
{
    for (int i = 0; i < N_ORGS; i++) {
        lc_privkey_free(orgs[i].ca_key);
        lc_privkey_free(orgs[i].peer_key);
        lc_privkey_free(orgs[i].client_key);
        lc_cert_unref(orgs[i].ca);
        free(orgs[i].peer_id);
        free(orgs[i].client_id);
    }
}

/* ---- identity validation ------------------------------------------------------------------- */

#define N_IDS (2 * N_ORGS)

struct id_ctx {
    struct lc_msp_mgr *mgr;
    const uint8_t *ids[N_IDS];
    size_t lens[N_IDS];
    unsigned next;
};

static void op_deserialize(void *arg)
{
    struct id_ctx *c = arg;
    struct lc_identity *id = NULL;
    unsigned i = c->next++ % N_IDS;
    if (lc_msp_mgr_deserialize(c->mgr, c->ids[i], c->lens[i], NULL, &id) != 0)
        failures++;
    lc_identity_unref(id);
}

static void bench_identities(const struct org *orgs, struct lc_msp_mgr *warm,
                             struct lc_msp_mgr *cold)
{
    struct id_ctx w = {.mgr = warm}, c = {.mgr = cold};
    for (int i = 0; i < N_ORGS; i++) {
        w.ids[2 * i] = c.ids[2 * i] = orgs[i].peer_id;
        w.lens[2 * i] = c.lens[2 * i] = orgs[i].peer_id_len;
        w.ids[2 * i + 1] = c.ids[2 * i + 1] = orgs[i].client_id;
        w.lens[2 * i + 1] = c.lens[2 * i + 1] = orgs[i].client_id_len;
    }
    struct op ops[] = {
        {"warm", op_deserialize, &w, 0},
        {"cold", op_deserialize, &c, 0},
    };
    measure(ops, 2);
    struct lc_msp_cache_stats st;
    lc_msp_mgr_cache_stats(warm, &st);
    printf("identity validation (lc_msp_mgr_deserialize, %d distinct identities in turn)\n", N_IDS);
    printf("  warm cache          %9.0f /s  %7.2f us   (cache: %llu hits, %llu misses)\n",
           ops[0].rate, 1e6 / ops[0].rate, (unsigned long long)st.hits,
           (unsigned long long)st.misses);
    printf("  cache disabled      %9.0f /s  %7.2f us   (PEM parse, chain verify, NodeOUs)\n",
           ops[1].rate, 1e6 / ops[1].rate);
    printf("  cold / warm cost    %9.1f x\n", ops[0].rate / ops[1].rate);
}

/* ---- policies ------------------------------------------------------------------------------ */

struct eval_ctx {
    const Common__SignaturePolicyEnvelope *env;
    void *ids[N_ORGS];
    size_t n_ids;
    struct lc_msp_mgr *mgr;
    const struct lc_signed_data *sd;
    size_t n_sd;
    struct lc_identity *verifier;
    const uint8_t *msg, *sig;
    size_t msg_len, sig_len;
};

static void op_eval(void *arg)
{
    struct eval_ctx *c = arg;
    if (lc_policy_eval(c->env, c->ids, c->n_ids, lc_msp_policy_ops.satisfies, c->mgr, NULL) != 0)
        failures++;
}

static void op_eval_signed(void *arg)
{
    struct eval_ctx *c = arg;
    if (lc_policy_eval_signed(c->env, c->sd, c->n_sd, &lc_msp_policy_ops, c->mgr, NULL) != 0)
        failures++;
}

static void op_verify(void *arg)
{
    struct eval_ctx *c = arg;
    if (lc_identity_verify(c->verifier, c->msg, c->msg_len, c->sig, c->sig_len, NULL) != 0)
        failures++;
}

static Common__SignaturePolicyEnvelope *policy(const char *text)
{
    Common__SignaturePolicyEnvelope *env = NULL;
    char *msg = NULL;
    if (lc_policy_parse_envelope(text, &env, &msg) != 0) {
        fprintf(stderr, "bench_foundation: policy %s: %s\n", text, msg ? msg : "");
        exit(1);
    }
    return env;
}

static void bench_policies(const struct org *orgs, struct lc_msp_mgr *mgr)
{
    struct lc_errbuf err;
    Common__SignaturePolicyEnvelope *and2 = policy("AND('Org1MSP.peer', 'Org2MSP.peer')");
    Common__SignaturePolicyEnvelope *outof =
        policy("OutOf(2, 'Org1MSP.peer', 'Org2MSP.peer', 'Org3MSP.peer')");

    /* an endorsement's signed bytes: a ~1 KiB response payload followed by the endorser */
    static uint8_t payload[1024];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(i * 7);
    uint8_t *data[N_ORGS], sigs[N_ORGS][LC_ECDSA_SIG_MAX];
    struct lc_signed_data sd[N_ORGS];
    struct lc_identity *peers[N_ORGS];
    for (int i = 0; i < N_ORGS; i++) {
        size_t n = sizeof payload + orgs[i].peer_id_len, siglen;
        if (!(data[i] = malloc(n)))
            die("out of memory", NULL);
        memcpy(data[i], payload, sizeof payload);
        memcpy(data[i] + sizeof payload, orgs[i].peer_id, orgs[i].peer_id_len);
        if (lc_ecdsa_sign(orgs[i].peer_key, data[i], n, sigs[i], &siglen) != 0)
            die("sign", NULL);
        sd[i] = (struct lc_signed_data){data[i], n,     orgs[i].peer_id, orgs[i].peer_id_len,
                                        sigs[i], siglen};
        if (lc_msp_mgr_deserialize(mgr, orgs[i].peer_id, orgs[i].peer_id_len, &err, &peers[i]))
            die("peer identity", &err);
    }

    struct eval_ctx and_c = {.env = and2, .n_ids = 2, .mgr = mgr, .sd = sd, .n_sd = 2};
    struct eval_ctx out_c = {.env = outof, .n_ids = 3, .mgr = mgr, .sd = sd, .n_sd = 3};
    for (int i = 0; i < N_ORGS; i++)
        and_c.ids[i] = out_c.ids[i] = peers[i];
    struct eval_ctx ver = {.verifier = peers[0],
                           .msg = sd[0].data,
                           .msg_len = sd[0].data_len,
                           .sig = sd[0].signature,
                           .sig_len = sd[0].signature_len};

    struct op pure[] = {
        {"AND", op_eval, &and_c, 0},
        {"OutOf", op_eval, &out_c, 0},
    };
    measure(pure, 2);
    printf("policy evaluation over validated identities (lc_policy_eval, no signatures)\n");
    printf("  AND('Org1MSP.peer','Org2MSP.peer'), 2 ids        %9.0f /s  %7.2f us\n", pure[0].rate,
           1e6 / pure[0].rate);
    printf("  OutOf(2, Org1..Org3 peers), 3 ids                %9.0f /s  %7.2f us\n", pure[1].rate,
           1e6 / pure[1].rate);

    struct op sig[] = {
        {"verify", op_verify, &ver, 0},
        {"AND signed", op_eval_signed, &and_c, 0},
        {"OutOf signed", op_eval_signed, &out_c, 0},
    };
    measure(sig, 3);
    double v = sig[0].rate;
    printf("policy evaluation with signatures (lc_policy_eval_signed: cached identities, every "
           "signature verified)\n");
    printf("  lc_identity_verify, %4zu-byte message              %9.0f /s  %7.2f us\n",
           sd[0].data_len, v, 1e6 / v);
    printf("  AND, 2 signatures                                %9.0f /s  %7.2f us  = %.3f x 2 "
           "verifies\n",
           sig[1].rate, 1e6 / sig[1].rate, (2.0 / v) / (1.0 / sig[1].rate));
    printf("  OutOf(2 of 3), 3 signatures                      %9.0f /s  %7.2f us  = %.3f x 3 "
           "verifies\n",
           sig[2].rate, 1e6 / sig[2].rate, (3.0 / v) / (1.0 / sig[2].rate));
    printf("  (ratio = time of the verifies alone / time of the evaluation; 1.0 = no overhead)\n");

    for (int i = 0; i < N_ORGS; i++) {
        free(data[i]);
        lc_identity_unref(peers[i]);
    }
    common__signature_policy_envelope__free_unpacked(and2, NULL);
    common__signature_policy_envelope__free_unpacked(outof, NULL);
}

/* ---- a 100-transaction block --------------------------------------------------------------- */

static ProtobufCBinaryData sign_blob(const struct lc_privkey *k, const struct lc_iov *v, size_t nv)
{
    uint8_t *sig = malloc(LC_ECDSA_SIG_MAX);
    size_t len = 0;
    if (!sig || lc_ecdsa_sign_iov(k, v, nv, sig, &len) != 0)
        die("sign", NULL);
    return (ProtobufCBinaryData){.len = len, .data = sig};
}

/* Envelope of transaction i as a client sends it after two endorsements: an asset transfer on
 * chaincode "basic" whose rwset reads _lifecycle's sequence key and reads and writes one asset.
 * Caller frees the returned bytes. */
static ProtobufCBinaryData build_tx(const struct org *orgs, unsigned i)
{
    const struct org *cl = &orgs[0];
    uint8_t nonce[LC_NONCE_LEN];
    char txid[LC_WIRE_TXID_LEN + 1];
    if (lc_nonce(nonce) != 0 ||
        lc_wire_txid(nonce, sizeof nonce, cl->client_id, cl->client_id_len, txid) != 0)
        die("txid", NULL);

    Protos__ChaincodeID ccid = PROTOS__CHAINCODE_ID__INIT;
    ccid.name = "basic";
    Protos__ChaincodeHeaderExtension ext = PROTOS__CHAINCODE_HEADER_EXTENSION__INIT;
    ext.chaincode_id = &ccid;
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    ts.seconds = 1700000000 + i;
    ts.nanos = (int32_t)(i * 1000);
    Common__ChannelHeader ch = COMMON__CHANNEL_HEADER__INIT;
    ch.type = COMMON__HEADER_TYPE__ENDORSER_TRANSACTION;
    ch.timestamp = &ts;
    ch.channel_id = CHANNEL;
    ch.tx_id = txid;
    ch.extension = pk(&ext);
    ProtobufCBinaryData chdr = pk(&ch);

    Common__SignatureHeader sh = COMMON__SIGNATURE_HEADER__INIT;
    sh.creator = (ProtobufCBinaryData){.len = cl->client_id_len, .data = cl->client_id};
    sh.nonce = (ProtobufCBinaryData){.len = sizeof nonce, .data = nonce};
    ProtobufCBinaryData shdr = pk(&sh);

    char asset[32], owner[32], value[256];
    snprintf(asset, sizeof asset, "asset%06u", i);
    snprintf(owner, sizeof owner, "owner%u", i % 97);
    ProtobufCBinaryData args[3] = {
        {.len = 13, .data = (uint8_t *)"TransferAsset"},
        {.len = strlen(asset), .data = (uint8_t *)asset},
        {.len = strlen(owner), .data = (uint8_t *)owner},
    };
    Protos__ChaincodeInput in = PROTOS__CHAINCODE_INPUT__INIT;
    in.n_args = 3;
    in.args = args;
    Protos__ChaincodeSpec spec = PROTOS__CHAINCODE_SPEC__INIT;
    spec.type = PROTOS__CHAINCODE_SPEC__TYPE__GOLANG;
    spec.chaincode_id = &ccid;
    spec.input = &in;
    Protos__ChaincodeInvocationSpec cis = PROTOS__CHAINCODE_INVOCATION_SPEC__INIT;
    cis.chaincode_spec = &spec;
    Protos__ChaincodeProposalPayload cpp = PROTOS__CHAINCODE_PROPOSAL_PAYLOAD__INIT;
    cpp.input = pk(&cis);
    ProtobufCBinaryData cppb = pk(&cpp);

    Kvrwset__Version v1 = KVRWSET__VERSION__INIT, v2 = KVRWSET__VERSION__INIT;
    v1.block_num = 3;
    v2.block_num = 1000 + i / 100;
    v2.tx_num = i % 100;
    Kvrwset__KVRead lr = KVRWSET__KVREAD__INIT, r = KVRWSET__KVREAD__INIT;
    lr.key = "namespaces/fields/basic/Sequence";
    lr.version = &v1;
    r.key = asset;
    r.version = &v2;
    Kvrwset__KVRead *lreads[1] = {&lr}, *reads[1] = {&r};
    Kvrwset__KVRWSet lkv = KVRWSET__KVRWSET__INIT, kv = KVRWSET__KVRWSET__INIT;
    lkv.n_reads = 1;
    lkv.reads = lreads;
    int vn = snprintf(value, sizeof value,
                      "{\"ID\":\"%s\",\"Color\":\"blue\",\"Size\":%u,\"Owner\":\"%s\","
                      "\"AppraisedValue\":%u,\"Notes\":\"padding for a realistic asset\"}",
                      asset, 5 + i % 10, owner, 300 + i);
    Kvrwset__KVWrite w = KVRWSET__KVWRITE__INIT;
    w.key = asset;
    w.value = (ProtobufCBinaryData){.len = (size_t)vn, .data = (uint8_t *)value};
    Kvrwset__KVWrite *writes[1] = {&w};
    kv.n_reads = 1;
    kv.reads = reads;
    kv.n_writes = 1;
    kv.writes = writes;
    Rwset__NsReadWriteSet ns0 = RWSET__NS_READ_WRITE_SET__INIT,
                          ns1 = RWSET__NS_READ_WRITE_SET__INIT;
    ns0.namespace_ = "_lifecycle";
    ns0.rwset = pk(&lkv);
    ns1.namespace_ = "basic";
    ns1.rwset = pk(&kv);
    Rwset__NsReadWriteSet *nss[2] = {&ns0, &ns1};
    Rwset__TxReadWriteSet txrw = RWSET__TX_READ_WRITE_SET__INIT;
    txrw.data_model = RWSET__TX_READ_WRITE_SET__DATA_MODEL__KV;
    txrw.n_ns_rwset = 2;
    txrw.ns_rwset = nss;

    Protos__Response resp = PROTOS__RESPONSE__INIT;
    resp.status = 200;
    Protos__ChaincodeID ccv = PROTOS__CHAINCODE_ID__INIT;
    ccv.name = "basic";
    ccv.version = "1.0";
    Protos__ChaincodeAction cca = PROTOS__CHAINCODE_ACTION__INIT;
    cca.results = pk(&txrw);
    cca.response = &resp;
    cca.chaincode_id = &ccv;
    uint8_t phash[LC_SHA256_LEN];
    struct lc_iov hv[3] = {{chdr.data, chdr.len}, {shdr.data, shdr.len}, {cppb.data, cppb.len}};
    lc_sha256_iov(hv, 3, phash);
    Protos__ProposalResponsePayload prp = PROTOS__PROPOSAL_RESPONSE_PAYLOAD__INIT;
    prp.proposal_hash = (ProtobufCBinaryData){.len = sizeof phash, .data = phash};
    prp.extension = pk(&cca);
    ProtobufCBinaryData prpb = pk(&prp);

    Protos__Endorsement e[2], *es[2];
    for (int j = 0; j < 2; j++) {
        protos__endorsement__init(&e[j]);
        e[j].endorser = (ProtobufCBinaryData){.len = orgs[j].peer_id_len, .data = orgs[j].peer_id};
        struct lc_iov sv[2] = {{prpb.data, prpb.len}, {orgs[j].peer_id, orgs[j].peer_id_len}};
        e[j].signature = sign_blob(orgs[j].peer_key, sv, 2);
        es[j] = &e[j];
    }
    Protos__ChaincodeEndorsedAction cea = PROTOS__CHAINCODE_ENDORSED_ACTION__INIT;
    cea.proposal_response_payload = prpb;
    cea.n_endorsements = 2;
    cea.endorsements = es;
    Protos__ChaincodeActionPayload cap = PROTOS__CHAINCODE_ACTION_PAYLOAD__INIT;
    cap.chaincode_proposal_payload = cppb;
    cap.action = &cea;
    Protos__TransactionAction ta = PROTOS__TRANSACTION_ACTION__INIT, *tas[1] = {&ta};
    ta.header = shdr;
    ta.payload = pk(&cap);
    Protos__Transaction tx = PROTOS__TRANSACTION__INIT;
    tx.n_actions = 1;
    tx.actions = tas;
    Common__Header hdr = COMMON__HEADER__INIT;
    hdr.channel_header = chdr;
    hdr.signature_header = shdr;
    Common__Payload pl = COMMON__PAYLOAD__INIT;
    pl.header = &hdr;
    pl.data = pk(&tx);
    ProtobufCBinaryData plb = pk(&pl);
    Common__Envelope env = COMMON__ENVELOPE__INIT;
    env.payload = plb;
    struct lc_iov ev[1] = {{plb.data, plb.len}};
    env.signature = sign_blob(cl->client_key, ev, 1);
    ProtobufCBinaryData out = pk(&env);

    ProtobufCBinaryData *owned[] = {
        &ch.extension,   &chdr,           &shdr,        &cpp.input,     &cppb,
        &ns0.rwset,      &ns1.rwset,      &cca.results, &prp.extension, &prpb,
        &e[0].signature, &e[1].signature, &ta.payload,  &pl.data,       &plb,
        &env.signature};
    for (size_t k = 0; k < sizeof owned / sizeof owned[0]; k++)
        free(owned[k]->data);
    return out;
}

/* Decoded messages of one transaction, freed together. */
struct held {
    ProtobufCMessage *m[32];
    int n;
};

static void *un(struct held *h, const ProtobufCMessageDescriptor *d, ProtobufCBinaryData b)
{
    ProtobufCMessage *m = NULL;
    if (h->n == (int)(sizeof h->m / sizeof h->m[0]) ||
        lc_wire_unpack(d, b.data, b.len, &m, NULL) != 0)
        return NULL;
    h->m[h->n++] = m;
    return m;
}

static void held_free(struct held *h)
{
    while (h->n > 0)
        protobuf_c_message_free_unpacked(h->m[--h->n], NULL);
}

/* Every layer of one endorser transaction, as a committer reads it: envelope, payload, both
 * headers and the chaincode header extension, creator, transaction, and per action its header,
 * action payload, proposal payload, invocation spec, response payload, chaincode action, rwset,
 * each namespace's KV rwset and each endorser's identity. Returns 0 or -1. */
static int tx_all_layers(ProtobufCBinaryData envb)
{
    struct held h = {.n = 0};
    int r = -1;
    Common__Envelope *env = un(&h, &common__envelope__descriptor, envb);
    Common__Payload *pl = env ? un(&h, &common__payload__descriptor, env->payload) : NULL;
    if (!pl || !pl->header)
        goto out;
    Common__ChannelHeader *ch =
        un(&h, &common__channel_header__descriptor, pl->header->channel_header);
    Common__SignatureHeader *sh =
        un(&h, &common__signature_header__descriptor, pl->header->signature_header);
    if (!ch || !sh || !un(&h, &protos__chaincode_header_extension__descriptor, ch->extension) ||
        !un(&h, &msp__serialized_identity__descriptor, sh->creator))
        goto out;
    Protos__Transaction *tx = un(&h, &protos__transaction__descriptor, pl->data);
    if (!tx)
        goto out;
    for (size_t a = 0; a < tx->n_actions; a++) {
        Protos__ChaincodeActionPayload *cap =
            un(&h, &protos__chaincode_action_payload__descriptor, tx->actions[a]->payload);
        if (!un(&h, &common__signature_header__descriptor, tx->actions[a]->header) || !cap ||
            !cap->action)
            goto out;
        Protos__ChaincodeProposalPayload *cpp = un(
            &h, &protos__chaincode_proposal_payload__descriptor, cap->chaincode_proposal_payload);
        Protos__ProposalResponsePayload *prp =
            un(&h, &protos__proposal_response_payload__descriptor,
               cap->action->proposal_response_payload);
        if (!cpp || !prp || !un(&h, &protos__chaincode_invocation_spec__descriptor, cpp->input))
            goto out;
        Protos__ChaincodeAction *cca =
            un(&h, &protos__chaincode_action__descriptor, prp->extension);
        Rwset__TxReadWriteSet *rw =
            cca ? un(&h, &rwset__tx_read_write_set__descriptor, cca->results) : NULL;
        if (!rw)
            goto out;
        for (size_t k = 0; k < rw->n_ns_rwset; k++)
            if (!un(&h, &kvrwset__kvrwset__descriptor, rw->ns_rwset[k]->rwset))
                goto out;
        for (size_t k = 0; k < cap->action->n_endorsements; k++)
            if (!un(&h, &msp__serialized_identity__descriptor,
                    cap->action->endorsements[k]->endorser))
                goto out;
    }
    r = 0;
out:
    held_free(&h);
    return r;
}

/* Envelope, payload and the two headers only: what routing and dedup need. */
static int tx_headers(ProtobufCBinaryData envb)
{
    struct held h = {.n = 0};
    int r = -1;
    Common__Envelope *env = un(&h, &common__envelope__descriptor, envb);
    Common__Payload *pl = env ? un(&h, &common__payload__descriptor, env->payload) : NULL;
    if (pl && pl->header &&
        un(&h, &common__channel_header__descriptor, pl->header->channel_header) &&
        un(&h, &common__signature_header__descriptor, pl->header->signature_header))
        r = 0;
    held_free(&h);
    return r;
}

struct block_ctx {
    const uint8_t *bytes;
    size_t len;
    const Common__Block *block;
};

static void op_block_unpack(void *arg)
{
    struct block_ctx *c = arg;
    ProtobufCMessage *m = NULL;
    if (lc_wire_unpack(&common__block__descriptor, c->bytes, c->len, &m, NULL) != 0)
        failures++;
    else
        protobuf_c_message_free_unpacked(m, NULL);
}

static void op_block_all_layers(void *arg)
{
    struct block_ctx *c = arg;
    Common__Block *b = NULL;
    if (lc_wire_unpack(&common__block__descriptor, c->bytes, c->len, (ProtobufCMessage **)&b,
                       NULL) != 0 ||
        !b->data) {
        failures++;
    } else {
        for (size_t i = 0; i < b->data->n_data; i++)
            if (tx_all_layers(b->data->data[i]) != 0)
                failures++;
    }
    lc_wire_block_free(b);
}

static void op_block_headers(void *arg)
{
    struct block_ctx *c = arg;
    Common__Block *b = NULL;
    if (lc_wire_unpack(&common__block__descriptor, c->bytes, c->len, (ProtobufCMessage **)&b,
                       NULL) != 0 ||
        !b->data) {
        failures++;
    } else {
        for (size_t i = 0; i < b->data->n_data; i++)
            if (tx_headers(b->data->data[i]) != 0)
                failures++;
    }
    lc_wire_block_free(b);
}

static void op_data_hash(void *arg)
{
    struct block_ctx *c = arg;
    uint8_t h[LC_WIRE_HASH_LEN];
    if (lc_wire_data_hash(c->block->data->data, c->block->data->n_data, h) != 0)
        failures++;
}

static void op_header_hash(void *arg)
{
    struct block_ctx *c = arg;
    uint8_t h[LC_WIRE_HASH_LEN];
    if (lc_wire_header_hash(c->block->header, h) != 0)
        failures++;
}

static void print_decode(const struct op *ops, const char *allocator)
{
    printf("  decode, with %s:\n", allocator);
    printf("    Block unpack only                %9.0f blocks/s  %8.1f us/block\n", ops[0].rate,
           1e6 / ops[0].rate);
    printf("    Block + every layer of every tx  %9.0f blocks/s  %8.2f us/tx\n", ops[1].rate,
           1e6 / ops[1].rate / N_TX);
    printf("    Block + envelope headers only    %9.0f blocks/s  %8.2f us/tx\n", ops[2].rate,
           1e6 / ops[2].rate / N_TX);
}

static void bench_block(const struct org *orgs)
{
    ProtobufCBinaryData envs[N_TX];
    size_t env_bytes = 0;
    for (unsigned i = 0; i < N_TX; i++) {
        envs[i] = build_tx(orgs, i);
        env_bytes += envs[i].len;
    }
    uint8_t prev[LC_WIRE_HASH_LEN];
    lc_sha256("previous", 8, prev);
    Common__Block *block = NULL;
    if (lc_wire_block_new(1000, prev, sizeof prev, envs, N_TX, &block) != 0)
        die("block", NULL);
    struct lc_errbuf err;
    struct block_ctx c = {.block = block};
    uint8_t *bytes = NULL;
    if (lc_wire_pack(&block->base, SIZE_MAX, &bytes, &c.len, &err) != 0)
        die("pack block", &err);
    c.bytes = bytes;
    if (tx_all_layers(envs[0]) != 0)
        die("decode a transaction", NULL);

    struct op ops[] = {
        {"block", op_block_unpack, &c, 0},      {"all layers", op_block_all_layers, &c, 0},
        {"headers", op_block_headers, &c, 0},   {"data hash", op_data_hash, &c, 0},
        {"header hash", op_header_hash, &c, 0},
    };
    measure(ops, sizeof ops / sizeof ops[0]);
    printf("proto decode of a %d-transaction block (%zu bytes; endorser envelopes of %zu bytes on "
           "average, 2 endorsements)\n",
           N_TX, c.len, env_bytes / N_TX);
    printf("  lc_wire_data_hash of the block     %9.0f /s        %8.1f us  (%.0f MB/s)\n",
           ops[3].rate, 1e6 / ops[3].rate, ops[3].rate * (double)env_bytes / 1e6);
    printf("  lc_wire_header_hash                %9.0f /s        %8.2f us\n", ops[4].rate,
           1e6 / ops[4].rate);
    print_decode(ops, "glibc malloc defaults");
#ifdef __GLIBC__
    /* Freeing a decoded block drops the top of the heap below glibc's default trim threshold
     * (128 KiB), so the next block faults its pages in again, and first touch is slow on this
     * VM. The same decode with trimming and mmap moved out of the way shows what that costs. */
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    measure(ops, 3);
    print_decode(ops, "mallopt M_TRIM_THRESHOLD 64 MiB, M_MMAP_THRESHOLD 32 MiB");
#endif

    free(bytes);
    lc_wire_block_free(block);
    for (unsigned i = 0; i < N_TX; i++)
        free(envs[i].data);
}

int main(void)
{
    if (lc_crypto_init() != 0) {
        fprintf(stderr, "bench_foundation: crypto init failed\n");
        return 1;
    }
    struct lc_msp_mgr *warm = NULL, *cold = NULL;
    if (lc_msp_mgr_new(1024, &warm) != 0 || lc_msp_mgr_new(0, &cold) != 0)
        die("MSP manager", NULL);
    struct org orgs[N_ORGS];
    memset(orgs, 0, sizeof orgs);
    struct lc_msp_mgr *mgrs[2] = {warm, cold};
    orgs_make(orgs, mgrs, 2);

    printf("best of %d interleaved rounds of %.1f s after a %.1f s warm-up, single thread\n\n",
           ROUNDS, ROUND_S, WARMUP_S);
    bench_identities(orgs, warm, cold);
    printf("\n");
    bench_policies(orgs, warm);
    printf("\n");
    bench_block(orgs);
    if (failures)
        printf("\n%ld operations FAILED: the figures above are not to be trusted\n", failures);

    orgs_free(orgs);
    lc_msp_mgr_free(warm);
    lc_msp_mgr_free(cold);
    return 0;
}
