/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the committer: one test per rejection code, MVCC, block checks, restart. */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.pb-c.h"
#include "ledger/rwset/kvrwset/kv_rwset.pb-c.h"
#include "ledger/rwset/rwset.pb-c.h"
#include "peer/chaincode.pb-c.h"
#include "peer/proposal.pb-c.h"
#include "peer/proposal_response.pb-c.h"
#include "peer/transaction.pb-c.h"

#include "harness.h"
#include "libcommon/crypto.h"
#include "libcommon/kv.h"
#include "libcommon/msp.h"
#include "libcommon/proposal.h"
#include "libcommon/state.h"
#include "libcommon/wire.h"
#include "libcommon/rpc.h"
#include "services/committer/committer.h"
#include "services/committer/server.h"
#include "weft/committer.pb-c.h"

static struct wh_net net;
static struct lc_signer *peer1, *peer2, *user1, *orderer;
static Common__Block *genesis;

/* ---- building transactions ---------------------------------------------------------------- */

struct rd {
    const char *key;
    bool absent; /* read of a missing key: no version */
    uint64_t block, tx;
};

struct wr {
    const char *key, *value; /* value NULL: delete */
};

/* A range query [start, end) that read the keys reads[0..n_reads). */
struct rq {
    const char *start, *end;
    const struct rd *reads;
    size_t n_reads;
    const Kvrwset__QueryReadsMerkleSummary *merkle; /* instead of reads */
};

/* A transaction; zero values give a valid kv transaction by user1 endorsed by peer1. */
struct txo {
    const char *chaincode; /* "kv" */
    const char *version;   /* "1.0" */
    const struct lc_signer *creator;
    const struct lc_signer *endorsers[2]; /* {peer1} */
    const struct rd *reads;
    size_t n_reads;
    const struct wr *writes;
    size_t n_writes;
    const struct rq *range;
    const uint8_t *nonce; /* fixed nonce (same TxID); NULL: random */
    uint64_t epoch;
    const char *channel; /* net.channel */
    int32_t type;        /* 0: ENDORSER_TRANSACTION */
    bool bad_txid, bad_creator_sig, bad_endorsement_sig, garbage_payload;
};

static ProtobufCBinaryData pack(const ProtobufCMessage *m)
{
    ProtobufCBinaryData b;
    ck_assert_int_eq(lc_wire_pack(m, 1u << 30, &b.data, &b.len, NULL), 0);
    return b;
}

static Kvrwset__KVRead *mk_read(const struct rd *r, Kvrwset__KVRead *kr, Kvrwset__Version *v)
{
    kvrwset__kvread__init(kr);
    kvrwset__version__init(v);
    kr->key = (char *)r->key;
    if (!r->absent) {
        v->block_num = r->block;
        v->tx_num = r->tx;
        kr->version = v;
    }
    return kr;
}

/* Packed Envelope bytes (caller frees) and the TxID. */
static ProtobufCBinaryData mk_tx(const struct txo *o, char txid[LC_WIRE_TXID_LEN + 1])
{
    const char *cc = o->chaincode ? o->chaincode : "kv";
    const struct lc_signer *creator = o->creator ? o->creator : user1;
    size_t creator_len;
    const uint8_t *creator_b = lc_signer_serialized(creator, &creator_len);
    uint8_t nonce[LC_NONCE_LEN];
    if (o->nonce)
        memcpy(nonce, o->nonce, sizeof nonce);
    else
        ck_assert_int_eq(lc_nonce(nonce), 0);
    lc_wire_txid(nonce, sizeof nonce, creator_b, creator_len, txid);

    /* rwset */
    Kvrwset__KVRead kr[8], *krp[8], qr[8], *qrp[8];
    Kvrwset__Version kv_v[8], qv[8];
    Kvrwset__KVWrite kw[64], *kwp[64];
    ck_assert(o->n_reads <= 8 && o->n_writes <= 64);
    for (size_t i = 0; i < o->n_reads; i++)
        krp[i] = mk_read(&o->reads[i], &kr[i], &kv_v[i]);
    for (size_t i = 0; i < o->n_writes; i++) {
        kvrwset__kvwrite__init(&kw[i]);
        kw[i].key = (char *)o->writes[i].key;
        kw[i].is_delete = o->writes[i].value == NULL;
        if (o->writes[i].value) {
            kw[i].value.data = (uint8_t *)o->writes[i].value;
            kw[i].value.len = strlen(o->writes[i].value);
        }
        kwp[i] = &kw[i];
    }
    Kvrwset__KVRWSet kvs = KVRWSET__KVRWSET__INIT;
    kvs.n_reads = o->n_reads;
    kvs.reads = krp;
    kvs.n_writes = o->n_writes;
    kvs.writes = kwp;
    Kvrwset__RangeQueryInfo ri = KVRWSET__RANGE_QUERY_INFO__INIT, *rip = &ri;
    Kvrwset__QueryReads qrs = KVRWSET__QUERY_READS__INIT;
    if (o->range) {
        ck_assert(o->range->n_reads <= 8);
        for (size_t i = 0; i < o->range->n_reads; i++)
            qrp[i] = mk_read(&o->range->reads[i], &qr[i], &qv[i]);
        ri.start_key = (char *)o->range->start;
        ri.end_key = (char *)o->range->end;
        ri.itr_exhausted = true;
        qrs.n_kv_reads = o->range->n_reads;
        qrs.kv_reads = qrp;
        ri.reads_info_case = KVRWSET__RANGE_QUERY_INFO__READS_INFO_RAW_READS;
        ri.raw_reads = &qrs;
        if (o->range->merkle) {
            ri.reads_info_case = KVRWSET__RANGE_QUERY_INFO__READS_INFO_READS_MERKLE_HASHES;
            ri.raw_reads = NULL;
            ri.reads_merkle_hashes = (Kvrwset__QueryReadsMerkleSummary *)o->range->merkle;
        }
        kvs.n_range_queries_info = 1;
        kvs.range_queries_info = &rip;
    }
    ProtobufCBinaryData kvs_b = pack(&kvs.base);
    Rwset__NsReadWriteSet ns = RWSET__NS_READ_WRITE_SET__INIT, *nsp = &ns;
    ns.namespace_ = (char *)cc;
    ns.rwset = kvs_b;
    Rwset__TxReadWriteSet rws = RWSET__TX_READ_WRITE_SET__INIT;
    rws.n_ns_rwset = 1;
    rws.ns_rwset = &nsp;
    ProtobufCBinaryData rws_b = pack(&rws.base);

    /* headers */
    Protos__ChaincodeID ccid = PROTOS__CHAINCODE_ID__INIT;
    ccid.name = (char *)cc;
    Protos__ChaincodeHeaderExtension ext = PROTOS__CHAINCODE_HEADER_EXTENSION__INIT;
    ext.chaincode_id = &ccid;
    Common__ChannelHeader ch = COMMON__CHANNEL_HEADER__INIT;
    ch.type = o->type ? o->type : COMMON__HEADER_TYPE__ENDORSER_TRANSACTION;
    ch.version = 1;
    ch.channel_id = (char *)(o->channel ? o->channel : net.channel);
    ch.tx_id =
        o->bad_txid ? "00000000000000000000000000000000000000000000000000000000000000ab" : txid;
    ch.epoch = o->epoch;
    ch.extension = pack(&ext.base);
    ProtobufCBinaryData ch_b = pack(&ch.base);
    Common__SignatureHeader sh = COMMON__SIGNATURE_HEADER__INIT;
    sh.creator.data = (uint8_t *)creator_b;
    sh.creator.len = creator_len;
    sh.nonce.data = nonce;
    sh.nonce.len = sizeof nonce;
    ProtobufCBinaryData sh_b = pack(&sh.base);

    /* proposal payload and response */
    Protos__ChaincodeInput in = PROTOS__CHAINCODE_INPUT__INIT;
    ProtobufCBinaryData arg = {3, (uint8_t *)"put"};
    in.n_args = 1;
    in.args = &arg;
    Protos__ChaincodeSpec spec = PROTOS__CHAINCODE_SPEC__INIT;
    spec.chaincode_id = &ccid;
    spec.input = &in;
    Protos__ChaincodeInvocationSpec cis = PROTOS__CHAINCODE_INVOCATION_SPEC__INIT;
    cis.chaincode_spec = &spec;
    Protos__ChaincodeProposalPayload cpp = PROTOS__CHAINCODE_PROPOSAL_PAYLOAD__INIT;
    cpp.input = pack(&cis.base);
    ProtobufCBinaryData cpp_b = pack(&cpp.base);
    uint8_t phash[LC_PROPOSAL_HASH_LEN];
    lc_proposal_hash2(ch_b.data, ch_b.len, sh_b.data, sh_b.len, cpp_b.data, cpp_b.len, phash);
    Protos__Response resp = PROTOS__RESPONSE__INIT;
    resp.status = 200;
    Protos__ChaincodeID accid = PROTOS__CHAINCODE_ID__INIT;
    accid.name = (char *)cc;
    accid.version = (char *)(o->version ? o->version : "1.0");
    Protos__ChaincodeAction act = PROTOS__CHAINCODE_ACTION__INIT;
    act.results = rws_b;
    act.response = &resp;
    act.chaincode_id = &accid;
    Protos__ProposalResponsePayload prp = PROTOS__PROPOSAL_RESPONSE_PAYLOAD__INIT;
    prp.proposal_hash.data = phash;
    prp.proposal_hash.len = sizeof phash;
    prp.extension = pack(&act.base);
    ProtobufCBinaryData prp_b = pack(&prp.base);

    Protos__Endorsement en[2], *enp[2];
    uint8_t sigs[2][72];
    size_t n_e = 0;
    for (size_t i = 0; i < 2; i++) {
        const struct lc_signer *e = o->endorsers[i] ? o->endorsers[i] : (i == 0 ? peer1 : NULL);
        if (!e)
            break;
        protos__endorsement__init(&en[i]);
        size_t elen, slen;
        en[i].endorser.data = (uint8_t *)lc_signer_serialized(e, &elen);
        en[i].endorser.len = elen;
        ck_assert_int_eq(lc_proposal_endorse(e, prp_b.data, prp_b.len, sigs[i], &slen), 0);
        if (o->bad_endorsement_sig)
            sigs[i][slen / 2] ^= 1;
        en[i].signature.data = sigs[i];
        en[i].signature.len = slen;
        enp[i] = &en[i];
        n_e++;
    }
    Protos__ChaincodeEndorsedAction cea = PROTOS__CHAINCODE_ENDORSED_ACTION__INIT;
    cea.proposal_response_payload = prp_b;
    cea.n_endorsements = n_e;
    cea.endorsements = enp;
    Protos__ChaincodeActionPayload cap = PROTOS__CHAINCODE_ACTION_PAYLOAD__INIT;
    cap.chaincode_proposal_payload = cpp_b;
    cap.action = &cea;
    Protos__TransactionAction ta = PROTOS__TRANSACTION_ACTION__INIT, *tap = &ta;
    ta.header = sh_b;
    ta.payload = pack(&cap.base);
    Protos__Transaction tx = PROTOS__TRANSACTION__INIT;
    tx.n_actions = 1;
    tx.actions = &tap;
    Common__Header hdr = COMMON__HEADER__INIT;
    hdr.channel_header = ch_b;
    hdr.signature_header = sh_b;
    Common__Payload pl = COMMON__PAYLOAD__INIT;
    pl.header = &hdr;
    pl.data = pack(&tx.base);
    ProtobufCBinaryData pl_b = pack(&pl.base);
    if (o->garbage_payload) {
        free(pl_b.data);
        pl_b.data = (uint8_t *)strdup("\xff\xff\xff");
        pl_b.len = 3;
    }
    uint8_t sig[LC_ECDSA_SIG_MAX];
    size_t sig_len;
    ck_assert_int_eq(lc_signer_sign(creator, pl_b.data, pl_b.len, sig, &sig_len), 0);
    if (o->bad_creator_sig)
        sig[sig_len / 2] ^= 1;
    Common__Envelope env = COMMON__ENVELOPE__INIT;
    env.payload = pl_b;
    env.signature.data = sig;
    env.signature.len = sig_len;
    ProtobufCBinaryData out = pack(&env.base);

    free(kvs_b.data);
    free(rws_b.data);
    free(ch.extension.data);
    free(ch_b.data);
    free(sh_b.data);
    free(cpp.input.data);
    free(cpp_b.data);
    free(prp.extension.data);
    free(prp_b.data);
    free(ta.payload.data);
    free(pl.data.data);
    free(pl_b.data);
    return out;
}

/* ---- building blocks ---------------------------------------------------------------------- */

/* Block num after prev (NULL: after genesis) with the n envelopes of data, signed by signer
 * (NULL: the orderer). Takes the data. Caller frees. */
static Common__Block *mk_block(const Common__Block *prev, ProtobufCBinaryData *data, size_t n,
                               const struct lc_signer *signer)
{
    const Common__Block *p = prev ? prev : genesis;
    uint8_t ph[LC_WIRE_HASH_LEN];
    ck_assert_int_eq(lc_wire_header_hash(p->header, ph), 0);
    Common__Block *b;
    ck_assert_int_eq(lc_wire_block_new(p->header->number + 1, ph, sizeof ph, data, n, &b), 0);
    for (size_t i = 0; i < n; i++)
        free(data[i].data);
    const struct lc_signer *s = signer ? signer : orderer;
    size_t cl;
    const uint8_t *cb = lc_signer_serialized(s, &cl);
    uint8_t nonce[LC_NONCE_LEN];
    ck_assert_int_eq(lc_nonce(nonce), 0);
    Common__SignatureHeader sh = COMMON__SIGNATURE_HEADER__INIT;
    sh.creator.data = (uint8_t *)cb;
    sh.creator.len = cl;
    sh.nonce.data = nonce;
    sh.nonce.len = sizeof nonce;
    ProtobufCBinaryData sh_b = pack(&sh.base);
    uint8_t value[] = {0x0a, 0x02, 0x0a, 0x00};
    uint8_t der[200];
    size_t der_len;
    const Common__BlockHeader *h = b->header;
    ck_assert_int_eq(lc_wire_header_der(h->number, h->previous_hash.data, h->previous_hash.len,
                                        h->data_hash.data, h->data_hash.len, der, sizeof der,
                                        &der_len),
                     0);
    struct lc_iov v[3] = {{value, sizeof value}, {sh_b.data, sh_b.len}, {der, der_len}};
    uint8_t sig[LC_ECDSA_SIG_MAX];
    size_t sig_len;
    ck_assert_int_eq(lc_signer_sign_iov(s, v, 3, sig, &sig_len), 0);
    Common__MetadataSignature ms = COMMON__METADATA_SIGNATURE__INIT, *msp = &ms;
    ms.signature_header = sh_b;
    ms.signature.data = sig;
    ms.signature.len = sig_len;
    Common__Metadata md = COMMON__METADATA__INIT;
    md.value.data = value;
    md.value.len = sizeof value;
    md.n_signatures = 1;
    md.signatures = &msp;
    ProtobufCBinaryData md_b = pack(&md.base);
    ck_assert_int_eq(lc_wire_block_set_metadata(b, 0, md_b.data, md_b.len), 0);
    free(md_b.data);
    free(sh_b.data);
    return b;
}

static struct committer *open_committer(const char *dir)
{
    struct committer_opts o = {.data_dir = dir, .workers = 2, .nosync = true};
    struct lc_errbuf err = {{0}};
    struct committer *c = NULL;
    int r = committer_new(&o, genesis, &err, &c);
    ck_assert_msg(r == 0, "committer_new: %s", err.msg);
    return c;
}

static void commit_ok(struct committer *c, const Common__Block *b)
{
    struct lc_errbuf err = {{0}};
    struct committer_result res;
    int r = committer_commit(c, b, &err, &res);
    ck_assert_msg(r == 0, "commit: %s (%d)", err.msg, r);
    ck_assert_uint_eq(res.number, b->header->number);
}

/* The stored filter of block num: its codes in ret (at least n). */
static void filter_of(struct committer *c, uint64_t num, const uint8_t *want, size_t n)
{
    uint8_t *buf;
    size_t len;
    ck_assert_int_eq(committer_ledger_block(committer_get_ledger(c), num, &buf, &len, NULL), 0);
    Common__Block *b;
    ck_assert_int_eq(
        lc_wire_unpack(&common__block__descriptor, buf, len, (ProtobufCMessage **)&b, NULL), 0);
    free(buf);
    ck_assert_uint_ge(b->metadata->n_metadata, 3);
    ck_assert_uint_eq(b->metadata->metadata[2].len, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(b->metadata->metadata[2].data[i] == want[i],
                      "block %llu tx %zu: code %u, want %u", (unsigned long long)num, i,
                      b->metadata->metadata[2].data[i], want[i]);
    lc_wire_block_free(b);
}

/* Value of kv key k in the committed state (NULL when absent; caller frees). */
static char *state_get(struct committer *c, const char *k, struct lc_state_version *ret_ver)
{
    struct lc_state *st = committer_ledger_state(committer_get_ledger(c));
    struct lc_kv_txn *t;
    ck_assert_int_eq(lc_kv_txn_begin_read(lc_state_env(st), &t, NULL), 0);
    const uint8_t *v;
    size_t vl;
    struct lc_state_version ver;
    char *out = NULL;
    int r = lc_state_get(st, t, "kv", k, strlen(k), &v, &vl, &ver, NULL);
    if (r == 0) {
        out = strndup((const char *)v, vl);
        if (ret_ver)
            *ret_ver = ver;
    } else {
        ck_assert_int_eq(r, LC_ENOTFOUND);
    }
    lc_kv_txn_abort(t);
    return out;
}

/* Commits block 1 holding the one envelope d (taken) and returns its code. */
static uint8_t one_raw_code(ProtobufCBinaryData d)
{
    const char *dir = wh_tmpdir();
    struct committer *c = open_committer(dir);
    Common__Block *b = mk_block(NULL, &d, 1, NULL);
    commit_ok(c, b);
    uint8_t *buf;
    size_t len;
    ck_assert_int_eq(committer_ledger_block(committer_get_ledger(c), 1, &buf, &len, NULL), 0);
    Common__Block *s;
    ck_assert_int_eq(
        lc_wire_unpack(&common__block__descriptor, buf, len, (ProtobufCMessage **)&s, NULL), 0);
    free(buf);
    uint8_t code = s->metadata->metadata[2].data[0];
    lc_wire_block_free(s);
    lc_wire_block_free(b);
    committer_free(c);
    wh_rmtree(dir);
    return code;
}

/* Commits block 1 holding the one transaction o and returns its code. */
static uint8_t one_tx_code(const struct txo *o)
{
    char txid[LC_WIRE_TXID_LEN + 1];
    return one_raw_code(mk_tx(o, txid));
}

static const struct wr put_k1[] = {{"k1", "v1"}};

/* ---- tests ---------------------------------------------------------------------------------- */

START_TEST(genesis_then_valid_tx)
{
    const char *dir = wh_tmpdir();
    struct committer *c = open_committer(dir);
    ck_assert_uint_eq(committer_height(c), 1);
    filter_of(c, 0, (const uint8_t[]){0}, 1);
    char txid[LC_WIRE_TXID_LEN + 1];
    ProtobufCBinaryData d = mk_tx(&(struct txo){.writes = put_k1, .n_writes = 1}, txid);
    Common__Block *b = mk_block(NULL, &d, 1, NULL);
    commit_ok(c, b);
    ck_assert_uint_eq(committer_height(c), 2);
    filter_of(c, 1, (const uint8_t[]){0}, 1);
    struct lc_state_version ver;
    char *v = state_get(c, "k1", &ver);
    ck_assert_str_eq(v, "v1");
    ck_assert_uint_eq(ver.block, 1);
    ck_assert_uint_eq(ver.tx, 0);
    free(v);
    lc_wire_block_free(b);
    committer_free(c);
}
END_TEST

START_TEST(nil_envelope)
{
    ProtobufCBinaryData d = {0, malloc(1)};
    ck_assert_uint_eq(one_raw_code(d), PROTOS__TX_VALIDATION_CODE__NIL_ENVELOPE);
    d = (ProtobufCBinaryData){3, (uint8_t *)strdup("\xff\xff\xff")};
    ck_assert_uint_eq(one_raw_code(d), PROTOS__TX_VALIDATION_CODE__INVALID_OTHER_REASON);
}
END_TEST

START_TEST(header_type_and_channel)
{
    ck_assert_uint_eq(one_tx_code(&(struct txo){.type = COMMON__HEADER_TYPE__MESSAGE + 100}),
                      PROTOS__TX_VALIDATION_CODE__BAD_COMMON_HEADER);
    ck_assert_uint_eq(one_tx_code(&(struct txo){.type = COMMON__HEADER_TYPE__CONFIG_UPDATE}),
                      PROTOS__TX_VALIDATION_CODE__UNSUPPORTED_TX_PAYLOAD);
    ck_assert_uint_eq(one_tx_code(&(struct txo){.channel = "otherchannel"}),
                      PROTOS__TX_VALIDATION_CODE__TARGET_CHAIN_NOT_FOUND);
}
END_TEST

START_TEST(bad_payload)
{
    ck_assert_uint_eq(one_tx_code(&(struct txo){.garbage_payload = true}),
                      PROTOS__TX_VALIDATION_CODE__BAD_PAYLOAD);
}
END_TEST

START_TEST(bad_common_header)
{
    ck_assert_uint_eq(one_tx_code(&(struct txo){.epoch = 1}),
                      PROTOS__TX_VALIDATION_CODE__BAD_COMMON_HEADER);
}
END_TEST

START_TEST(bad_creator_signature)
{
    ck_assert_uint_eq(one_tx_code(&(struct txo){.bad_creator_sig = true}),
                      PROTOS__TX_VALIDATION_CODE__BAD_CREATOR_SIGNATURE);
}
END_TEST

START_TEST(bad_proposal_txid)
{
    ck_assert_uint_eq(one_tx_code(&(struct txo){.bad_txid = true}),
                      PROTOS__TX_VALIDATION_CODE__BAD_PROPOSAL_TXID);
}
END_TEST

START_TEST(and_policy_with_one_endorsement)
{
    ck_assert_uint_eq(one_tx_code(&(struct txo){.chaincode = "andcc"}),
                      PROTOS__TX_VALIDATION_CODE__ENDORSEMENT_POLICY_FAILURE);
    /* both endorsements satisfy it */
    ck_assert_uint_eq(one_tx_code(&(struct txo){.chaincode = "andcc", .endorsers = {peer1, peer2}}),
                      PROTOS__TX_VALIDATION_CODE__VALID);
}
END_TEST

START_TEST(tampered_endorsement_signature)
{
    ck_assert_uint_eq(one_tx_code(&(struct txo){.bad_endorsement_sig = true}),
                      PROTOS__TX_VALIDATION_CODE__ENDORSEMENT_POLICY_FAILURE);
}
END_TEST

START_TEST(endorsed_by_a_client)
{
    ck_assert_uint_eq(one_tx_code(&(struct txo){.endorsers = {user1}}),
                      PROTOS__TX_VALIDATION_CODE__ENDORSEMENT_POLICY_FAILURE);
}
END_TEST

START_TEST(unknown_chaincode_and_version)
{
    ck_assert_uint_eq(one_tx_code(&(struct txo){.chaincode = "nosuchcc"}),
                      PROTOS__TX_VALIDATION_CODE__INVALID_CHAINCODE);
    ck_assert_uint_eq(one_tx_code(&(struct txo){.version = "9.9"}),
                      PROTOS__TX_VALIDATION_CODE__CHAINCODE_VERSION_CONFLICT);
}
END_TEST

START_TEST(duplicate_txid_in_ledger)
{
    const char *dir = wh_tmpdir();
    struct committer *c = open_committer(dir);
    uint8_t nonce[LC_NONCE_LEN] = {7};
    char txid[LC_WIRE_TXID_LEN + 1];
    ProtobufCBinaryData d =
        mk_tx(&(struct txo){.writes = put_k1, .n_writes = 1, .nonce = nonce}, txid);
    Common__Block *b1 = mk_block(NULL, &d, 1, NULL);
    commit_ok(c, b1);
    static const struct wr put_k2[] = {{"k2", "v2"}};
    d = mk_tx(&(struct txo){.writes = put_k2, .n_writes = 1, .nonce = nonce}, txid);
    Common__Block *b2 = mk_block(b1, &d, 1, NULL);
    commit_ok(c, b2);
    filter_of(c, 2, (const uint8_t[]){PROTOS__TX_VALIDATION_CODE__DUPLICATE_TXID}, 1);
    ck_assert_ptr_null(state_get(c, "k2", NULL)); /* an invalid tx touches no state */
    lc_wire_block_free(b1);
    lc_wire_block_free(b2);
    committer_free(c);
}
END_TEST

START_TEST(duplicate_txid_in_block)
{
    const char *dir = wh_tmpdir();
    struct committer *c = open_committer(dir);
    uint8_t nonce[LC_NONCE_LEN] = {9};
    char txid[LC_WIRE_TXID_LEN + 1];
    static const struct wr put_k2[] = {{"k2", "v2"}};
    ProtobufCBinaryData d[2] = {
        mk_tx(&(struct txo){.writes = put_k1, .n_writes = 1, .nonce = nonce}, txid),
        mk_tx(&(struct txo){.writes = put_k2, .n_writes = 1, .nonce = nonce}, txid)};
    Common__Block *b = mk_block(NULL, d, 2, NULL);
    commit_ok(c, b);
    filter_of(c, 1, (const uint8_t[]){0, PROTOS__TX_VALIDATION_CODE__DUPLICATE_TXID}, 2);
    free(state_get(c, "k1", NULL));
    ck_assert_ptr_null(state_get(c, "k2", NULL));
    struct lc_state *st = committer_ledger_state(committer_get_ledger(c));
    struct lc_kv_txn *t;
    ck_assert_int_eq(lc_kv_txn_begin_read(lc_state_env(st), &t, NULL), 0);
    struct lc_state_txinfo info;
    ck_assert_int_eq(lc_state_txid_get(st, t, txid, &info, NULL), 0);
    ck_assert_uint_eq(info.tx, 0); /* the first occurrence is indexed */
    ck_assert_uint_eq(info.code, 0);
    lc_kv_txn_abort(t);
    lc_wire_block_free(b);
    committer_free(c);
}
END_TEST

START_TEST(mvcc_read_conflict)
{
    const char *dir = wh_tmpdir();
    struct committer *c = open_committer(dir);
    char txid[LC_WIRE_TXID_LEN + 1];
    ProtobufCBinaryData d = mk_tx(&(struct txo){.writes = put_k1, .n_writes = 1}, txid);
    Common__Block *b1 = mk_block(NULL, &d, 1, NULL);
    commit_ok(c, b1);
    /* Two txs read k1 at (1,0) and write it: the first wins. A third read a stale version. */
    static const struct rd rk1[] = {{"k1", false, 1, 0}};
    static const struct rd stale[] = {{"k1", false, 0, 5}};
    static const struct rd absent[] = {{"k9", true, 0, 0}};
    static const struct wr w2[] = {{"k1", "v2"}};
    static const struct wr w3[] = {{"k1", "v3"}};
    ProtobufCBinaryData ds[4] = {
        mk_tx(&(struct txo){.reads = rk1, .n_reads = 1, .writes = w2, .n_writes = 1}, txid),
        mk_tx(&(struct txo){.reads = rk1, .n_reads = 1, .writes = w3, .n_writes = 1}, txid),
        mk_tx(&(struct txo){.reads = stale, .n_reads = 1}, txid),
        mk_tx(&(struct txo){.reads = absent, .n_reads = 1}, txid)};
    Common__Block *b2 = mk_block(b1, ds, 4, NULL);
    commit_ok(c, b2);
    filter_of(c, 2,
              (const uint8_t[]){0, PROTOS__TX_VALIDATION_CODE__MVCC_READ_CONFLICT,
                                PROTOS__TX_VALIDATION_CODE__MVCC_READ_CONFLICT, 0},
              4);
    struct lc_state_version ver;
    char *v = state_get(c, "k1", &ver);
    ck_assert_str_eq(v, "v2");
    ck_assert_uint_eq(ver.block, 2);
    ck_assert_uint_eq(ver.tx, 0);
    free(v);
    lc_wire_block_free(b1);
    lc_wire_block_free(b2);
    committer_free(c);
}
END_TEST

START_TEST(phantom_read_conflict)
{
    const char *dir = wh_tmpdir();
    struct committer *c = open_committer(dir);
    char txid[LC_WIRE_TXID_LEN + 1];
    static const struct wr wa[] = {{"a1", "x"}, {"a2", "y"}};
    ProtobufCBinaryData d = mk_tx(&(struct txo){.writes = wa, .n_writes = 2}, txid);
    Common__Block *b1 = mk_block(NULL, &d, 1, NULL);
    commit_ok(c, b1);
    static const struct rd seen[] = {{"a1", false, 1, 0}, {"a2", false, 1, 0}};
    static const struct rq range = {"a", "b", seen, 2, NULL};
    static const struct wr wa3[] = {{"a3", "z"}};
    /* the range holds as read; then a blind insert into it; then the same range fails */
    ProtobufCBinaryData ds[3] = {mk_tx(&(struct txo){.range = &range}, txid),
                                 mk_tx(&(struct txo){.writes = wa3, .n_writes = 1}, txid),
                                 mk_tx(&(struct txo){.range = &range}, txid)};
    Common__Block *b2 = mk_block(b1, ds, 3, NULL);
    commit_ok(c, b2);
    filter_of(c, 2, (const uint8_t[]){0, 0, PROTOS__TX_VALIDATION_CODE__PHANTOM_READ_CONFLICT}, 3);
    /* and against the committed state, in the next block */
    d = mk_tx(&(struct txo){.range = &range}, txid);
    Common__Block *b3 = mk_block(b2, &d, 1, NULL);
    commit_ok(c, b3);
    filter_of(c, 3, (const uint8_t[]){PROTOS__TX_VALIDATION_CODE__PHANTOM_READ_CONFLICT}, 1);
    lc_wire_block_free(b1);
    lc_wire_block_free(b2);
    lc_wire_block_free(b3);
    committer_free(c);
}
END_TEST

/* SHA-256 of QueryReads{keys "r<from..to-1>" all at version (1, 0)}: one Merkle leaf. */
static void leaf(int from, int to, uint8_t out[LC_SHA256_LEN])
{
    Kvrwset__KVRead r[64], *pr[64];
    Kvrwset__Version v = KVRWSET__VERSION__INIT;
    char keys[64][8];
    v.block_num = 1;
    for (int i = from; i < to; i++) {
        kvrwset__kvread__init(&r[i - from]);
        snprintf(keys[i - from], sizeof keys[0], "r%02d", i);
        r[i - from].key = keys[i - from];
        r[i - from].version = &v;
        pr[i - from] = &r[i - from];
    }
    Kvrwset__QueryReads q = KVRWSET__QUERY_READS__INIT;
    q.n_kv_reads = (size_t)(to - from);
    q.kv_reads = pr;
    ProtobufCBinaryData b = pack(&q.base);
    lc_sha256(b.data, b.len, out);
    free(b.data);
}

START_TEST(phantom_read_conflict_merkle)
{
    const char *dir = wh_tmpdir();
    struct committer *c = open_committer(dir);
    char txid[LC_WIRE_TXID_LEN + 1];
    struct wr w[60];
    char keys[60][8];
    for (int i = 0; i < 60; i++) {
        snprintf(keys[i], sizeof keys[i], "r%02d", i);
        w[i] = (struct wr){keys[i], "v"};
    }
    ProtobufCBinaryData d = mk_tx(&(struct txo){.writes = w, .n_writes = 60}, txid);
    Common__Block *b1 = mk_block(NULL, &d, 1, NULL);
    commit_ok(c, b1);
    /* 60 results: a leaf of 51 and a leaf of 9, both at level 1 */
    uint8_t h[2][LC_SHA256_LEN];
    leaf(0, 51, h[0]);
    leaf(51, 60, h[1]);
    ProtobufCBinaryData hs[2] = {{LC_SHA256_LEN, h[0]}, {LC_SHA256_LEN, h[1]}};
    Kvrwset__QueryReadsMerkleSummary sum = KVRWSET__QUERY_READS_MERKLE_SUMMARY__INIT;
    sum.max_degree = 50;
    sum.max_level = 1;
    sum.n_max_level_hashes = 2;
    sum.max_level_hashes = hs;
    struct rq range = {"r", "s", NULL, 0, &sum};
    static const struct wr ins[] = {{"r555", "x"}};
    ProtobufCBinaryData ds[3] = {mk_tx(&(struct txo){.range = &range}, txid),
                                 mk_tx(&(struct txo){.writes = ins, .n_writes = 1}, txid),
                                 mk_tx(&(struct txo){.range = &range}, txid)};
    Common__Block *b2 = mk_block(b1, ds, 3, NULL);
    commit_ok(c, b2);
    filter_of(c, 2, (const uint8_t[]){0, 0, PROTOS__TX_VALIDATION_CODE__PHANTOM_READ_CONFLICT}, 3);
    lc_wire_block_free(b1);
    lc_wire_block_free(b2);
    committer_free(c);
}
END_TEST

START_TEST(bad_block_signature_rejected)
{
    const char *dir = wh_tmpdir();
    struct committer *c = open_committer(dir);
    char txid[LC_WIRE_TXID_LEN + 1];
    ProtobufCBinaryData d = mk_tx(&(struct txo){.writes = put_k1, .n_writes = 1}, txid);
    Common__Block *b = mk_block(NULL, &d, 1, user1); /* not an orderer */
    struct lc_errbuf err = {{0}};
    ck_assert_int_eq(committer_commit(c, b, &err, NULL), LC_EPOLICY);
    ck_assert_uint_eq(committer_height(c), 1);
    ck_assert_ptr_null(state_get(c, "k1", NULL));
    /* a tampered data hash and a broken chain are refused too */
    lc_wire_block_free(b);
    d = mk_tx(&(struct txo){.writes = put_k1, .n_writes = 1}, txid);
    b = mk_block(NULL, &d, 1, NULL);
    b->header->data_hash.data[0] ^= 1;
    ck_assert_int_eq(committer_commit(c, b, &err, NULL), LC_EMISMATCH);
    b->header->data_hash.data[0] ^= 1;
    b->header->previous_hash.data[0] ^= 1;
    ck_assert_int_eq(committer_commit(c, b, &err, NULL), LC_EMISMATCH);
    b->header->previous_hash.data[0] ^= 1;
    /* a block from the future is refused, an old one skipped */
    b->header->number = 5;
    ck_assert_int_eq(committer_commit(c, b, &err, NULL), LC_EINVALID);
    b->header->number = 0;
    ck_assert_int_eq(committer_commit(c, b, &err, NULL), 1);
    ck_assert_uint_eq(committer_height(c), 1);
    lc_wire_block_free(b);
    committer_free(c);
}
END_TEST

START_TEST(restart_at_height)
{
    const char *dir = wh_tmpdir();
    struct committer *c = open_committer(dir);
    char txid[LC_WIRE_TXID_LEN + 1];
    ProtobufCBinaryData d = mk_tx(&(struct txo){.writes = put_k1, .n_writes = 1}, txid);
    Common__Block *b1 = mk_block(NULL, &d, 1, NULL);
    commit_ok(c, b1);
    committer_free(c);

    c = open_committer(dir);
    ck_assert_uint_eq(committer_height(c), 2);
    /* block 1 again is not applied twice */
    struct lc_errbuf err = {{0}};
    ck_assert_int_eq(committer_commit(c, b1, &err, NULL), 1);
    char *v = state_get(c, "k1", NULL);
    ck_assert_str_eq(v, "v1");
    free(v);
    /* block, filter, TxID index and state of block 1 are all there */
    filter_of(c, 1, (const uint8_t[]){0}, 1);
    struct lc_state *st = committer_ledger_state(committer_get_ledger(c));
    struct lc_kv_txn *t;
    struct lc_state_txinfo info;
    ck_assert_int_eq(lc_kv_txn_begin_read(lc_state_env(st), &t, NULL), 0);
    ck_assert_int_eq(lc_state_txid_get(st, t, txid, &info, NULL), 0);
    ck_assert_uint_eq(info.block, 1);
    lc_kv_txn_abort(t);
    /* the chain continues from the stored tip */
    static const struct wr w2[] = {{"k2", "v2"}};
    d = mk_tx(&(struct txo){.writes = w2, .n_writes = 1}, txid);
    Common__Block *b2 = mk_block(b1, &d, 1, NULL);
    commit_ok(c, b2);
    ck_assert_uint_eq(committer_height(c), 3);
    lc_wire_block_free(b1);
    lc_wire_block_free(b2);
    committer_free(c);
}
END_TEST

/* Receives the next block on the Blocks stream and checks its number and filter length. */
static void recv_block(struct lc_rpc_stream *st, uint64_t num, size_t n_txs)
{
    Common__Block *b = NULL;
    int r = lc_rpc_stream_recv(st, &common__block__descriptor, 30000, (ProtobufCMessage **)&b);
    ck_assert_msg(r == 0, "recv block %llu: %d", (unsigned long long)num, r);
    ck_assert_uint_eq(b->header->number, num);
    ck_assert_uint_ge(b->metadata->n_metadata, 3);
    ck_assert_uint_eq(b->metadata->metadata[2].len, n_txs);
    lc_wire_block_free(b);
}

START_TEST(feed_blocks_and_height)
{
    const char *dir = wh_tmpdir();
    struct committer *c = open_committer(dir);
    struct committer_server *srv = NULL;
    struct lc_errbuf err = {{0}};
    ck_assert_int_eq(committer_server_start(c, "127.0.0.1:0", &err, &srv), 0);
    char txid[LC_WIRE_TXID_LEN + 1];
    ProtobufCBinaryData d = mk_tx(&(struct txo){.writes = put_k1, .n_writes = 1}, txid);
    Common__Block *b1 = mk_block(NULL, &d, 1, NULL);
    commit_ok(c, b1);

    struct lc_rpc_client *cl;
    ck_assert_int_eq(
        lc_rpc_client_new(wh_fmt("127.0.0.1:%d", committer_server_port(srv)), NULL, &err, &cl), 0);
    Weft__HeightRequest hreq = WEFT__HEIGHT_REQUEST__INIT;
    hreq.channel_id = (char *)net.channel;
    Weft__HeightResponse *hresp = NULL;
    struct lc_rpc_status status;
    ck_assert_int_eq(lc_rpc_unary(cl, "/weft.Committer/Height", &hreq.base,
                                  &weft__height_response__descriptor, 0, &status,
                                  (ProtobufCMessage **)&hresp),
                     0);
    ck_assert_uint_eq(hresp->height, 2);
    weft__height_response__free_unpacked(hresp, NULL);
    hreq.channel_id = "otherchannel";
    hresp = NULL;
    ck_assert_int_eq(lc_rpc_unary(cl, "/weft.Committer/Height", &hreq.base,
                                  &weft__height_response__descriptor, 0, &status,
                                  (ProtobufCMessage **)&hresp),
                     LC_ENOTFOUND);

    /* from block 0: the stored blocks, then a live one */
    struct lc_rpc_stream *st;
    ck_assert_int_eq(lc_rpc_stream_open(cl, "/weft.Committer/Blocks", -1, &st), 0);
    Weft__BlocksRequest breq = WEFT__BLOCKS_REQUEST__INIT;
    breq.channel_id = (char *)net.channel;
    breq.start = 0;
    ck_assert_int_eq(lc_rpc_stream_send(st, &breq.base, 30000), 0);
    ck_assert_int_eq(lc_rpc_stream_close_send(st, 30000), 0);
    recv_block(st, 0, 1);
    recv_block(st, 1, 1);
    static const struct wr w2[] = {{"k2", "v2"}};
    ProtobufCBinaryData ds[2] = {mk_tx(&(struct txo){.writes = w2, .n_writes = 1}, txid),
                                 mk_tx(&(struct txo){.writes = w2, .n_writes = 1}, txid)};
    Common__Block *b2 = mk_block(b1, ds, 2, NULL);
    commit_ok(c, b2);
    recv_block(st, 2, 2);
    lc_rpc_stream_free(st);
    lc_rpc_client_free(cl);
    committer_server_free(srv, 1000);
    lc_wire_block_free(b1);
    lc_wire_block_free(b2);
    committer_free(c);
}
END_TEST

static void setup(void)
{
    ck_assert_int_eq(lc_crypto_init(), 0);
    struct wh_net_opts no = {
        .orgs = 2,
        .peers_per_org = 1,
        .chaincodes_yaml = "  - Name: kv\n    Version: \"1.0\"\n"
                           "    EndorsementPolicy: \"OR('Org1MSP.peer','Org2MSP.peer')\"\n"
                           "  - Name: andcc\n    Version: \"1.0\"\n"
                           "    EndorsementPolicy: \"AND('Org1MSP.peer','Org2MSP.peer')\"\n",
    };
    ck_assert_int_eq(wh_net_make(&net, &no), 0);
    struct lc_errbuf err = {{0}};
    ck_assert_int_eq(lc_signer_load(wh_peer_msp(&net, 1, 0), "Org1MSP", &err, &peer1), 0);
    ck_assert_int_eq(lc_signer_load(wh_peer_msp(&net, 2, 0), "Org2MSP", &err, &peer2), 0);
    ck_assert_int_eq(lc_signer_load(wh_user_msp(&net, 1, "User1"), "Org1MSP", &err, &user1), 0);
    ck_assert_int_eq(lc_signer_load(wh_orderer_msp(&net, 0), "OrdererMSP", &err, &orderer), 0);
    FILE *f = fopen(net.genesis, "rb");
    ck_assert_ptr_nonnull(f);
    static uint8_t buf[1 << 20];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    ck_assert_int_eq(
        lc_wire_unpack(&common__block__descriptor, buf, len, (ProtobufCMessage **)&genesis, &err),
        0);
}

static void teardown(void)
{
    lc_signer_free(peer1);
    lc_signer_free(peer2);
    lc_signer_free(user1);
    lc_signer_free(orderer);
    lc_wire_block_free(genesis);
    wh_cleanup();
}

int main(void)
{
    Suite *s = suite_create("committer");
    TCase *tc = tcase_create("pipeline");
    /* One network for all tests, made once: no fork (see tests/unit/endorser). */
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, genesis_then_valid_tx);
    tcase_add_test(tc, nil_envelope);
    tcase_add_test(tc, header_type_and_channel);
    tcase_add_test(tc, bad_payload);
    tcase_add_test(tc, bad_common_header);
    tcase_add_test(tc, bad_creator_signature);
    tcase_add_test(tc, bad_proposal_txid);
    tcase_add_test(tc, and_policy_with_one_endorsement);
    tcase_add_test(tc, tampered_endorsement_signature);
    tcase_add_test(tc, endorsed_by_a_client);
    tcase_add_test(tc, unknown_chaincode_and_version);
    tcase_add_test(tc, duplicate_txid_in_ledger);
    tcase_add_test(tc, duplicate_txid_in_block);
    tcase_add_test(tc, mvcc_read_conflict);
    tcase_add_test(tc, phantom_read_conflict);
    tcase_add_test(tc, phantom_read_conflict_merkle);
    tcase_add_test(tc, bad_block_signature_rejected);
    tcase_add_test(tc, restart_at_height);
    tcase_add_test(tc, feed_blocks_and_height);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
