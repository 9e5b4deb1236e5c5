/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for `weft inspect`: hand-built Fabric messages decode to the expected JSON; bad input
 * fails. */
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

#include "cli/cmds.h"
#include "common/common.pb-c.h"
#include "common/configtx.pb-c.h"
#include "ledger/rwset/kvrwset/kv_rwset.pb-c.h"
#include "ledger/rwset/rwset.pb-c.h"
#include "libcommon/crypto.h"
#include "libcommon/wire.h"
#include "msp/identities.pb-c.h"
#include "peer/chaincode.pb-c.h"
#include "peer/chaincode_event.pb-c.h"
#include "peer/proposal.pb-c.h"
#include "peer/proposal_response.pb-c.h"
#include "peer/transaction.pb-c.h"

static ProtobufCBinaryData str_bin(const char *s)
{
    ProtobufCBinaryData b = {.len = strlen(s), .data = (uint8_t *)s};
    return b;
}

/* Every layer of one endorser transaction, as a client and an endorser build them. */
struct tx {
    char *cert_pem;
    ProtobufCBinaryData creator, chdr, shdr, header, cpp, prp, proposal, signed_proposal, response,
        tx, payload, envelope;
    char txid[LC_WIRE_TXID_LEN + 1];
};

static void tx_build(struct tx *t)
{
    memset(t, 0, sizeof *t);
    t->cert_pem = th_cert_pem("User1@org1.example.com", "client");
    Msp__SerializedIdentity id = MSP__SERIALIZED_IDENTITY__INIT;
    id.mspid = "Org1MSP";
    id.id_bytes = str_bin(t->cert_pem);
    t->creator = th_pack(&id.base);

    uint8_t nonce[24];
    for (size_t i = 0; i < sizeof nonce; i++)
        nonce[i] = (uint8_t)(0xa0 + i);
    ck_assert_int_eq(lc_wire_txid(nonce, sizeof nonce, t->creator.data, t->creator.len, t->txid),
                     0);

    Protos__ChaincodeID ccid = PROTOS__CHAINCODE_ID__INIT;
    ccid.name = "basic";
    Protos__ChaincodeHeaderExtension ext = PROTOS__CHAINCODE_HEADER_EXTENSION__INIT;
    ext.chaincode_id = &ccid;
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    ts.seconds = 1700000000;
    ts.nanos = 5;
    Common__ChannelHeader ch = COMMON__CHANNEL_HEADER__INIT;
    ch.type = COMMON__HEADER_TYPE__ENDORSER_TRANSACTION;
    ch.version = 1;
    ch.timestamp = &ts;
    ch.channel_id = "mychannel";
    ch.tx_id = t->txid;
    ch.extension = th_pack(&ext.base);
    t->chdr = th_pack(&ch.base);
    free(ch.extension.data);

    Common__SignatureHeader sh = COMMON__SIGNATURE_HEADER__INIT;
    sh.creator = t->creator;
    sh.nonce.data = nonce;
    sh.nonce.len = sizeof nonce;
    t->shdr = th_pack(&sh.base);

    Common__Header hdr = COMMON__HEADER__INIT;
    hdr.channel_header = t->chdr;
    hdr.signature_header = t->shdr;
    t->header = th_pack(&hdr.base);

    /* proposal payload: transfer(a, <binary>) */
    static const uint8_t binarg[] = {0x00, 0x01, 0xff};
    ProtobufCBinaryData args[] = {
        str_bin("transfer"), str_bin("a"), {.len = sizeof binarg, .data = (uint8_t *)binarg}};
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
    cpp.input = th_pack(&cis.base);
    t->cpp = th_pack(&cpp.base);
    free(cpp.input.data);

    Protos__Proposal prop = PROTOS__PROPOSAL__INIT;
    prop.header = t->header;
    prop.payload = t->cpp;
    t->proposal = th_pack(&prop.base);
    Protos__SignedProposal sp = PROTOS__SIGNED_PROPOSAL__INIT;
    sp.proposal_bytes = t->proposal;
    sp.signature = str_bin("\x30\x06\x02\x01\x01\x02\x01\x01");
    t->signed_proposal = th_pack(&sp.base);

    /* rwset: read a at (1,2), read absent key, write a=100, one range query */
    Kvrwset__Version v12 = KVRWSET__VERSION__INIT;
    v12.block_num = 1;
    v12.tx_num = 2;
    Kvrwset__KVRead r0 = KVRWSET__KVREAD__INIT, r1 = KVRWSET__KVREAD__INIT;
    r0.key = "a";
    r0.version = &v12;
    r1.key = "new";
    Kvrwset__KVRead *reads[] = {&r0, &r1};
    Kvrwset__KVWrite w0 = KVRWSET__KVWRITE__INIT;
    w0.key = "a";
    w0.value = str_bin("100");
    Kvrwset__KVWrite *writes[] = {&w0};
    Kvrwset__KVRead qr = KVRWSET__KVREAD__INIT;
    qr.key = "b";
    qr.version = &v12;
    Kvrwset__KVRead *qreads[] = {&qr};
    Kvrwset__QueryReads q = KVRWSET__QUERY_READS__INIT;
    q.n_kv_reads = 1;
    q.kv_reads = qreads;
    Kvrwset__RangeQueryInfo rq = KVRWSET__RANGE_QUERY_INFO__INIT;
    rq.start_key = "a";
    rq.end_key = "z";
    rq.itr_exhausted = 1;
    rq.reads_info_case = KVRWSET__RANGE_QUERY_INFO__READS_INFO_RAW_READS;
    rq.raw_reads = &q;
    Kvrwset__RangeQueryInfo *rqs[] = {&rq};
    Kvrwset__KVRWSet kv = KVRWSET__KVRWSET__INIT;
    kv.n_reads = 2;
    kv.reads = reads;
    kv.n_writes = 1;
    kv.writes = writes;
    kv.n_range_queries_info = 1;
    kv.range_queries_info = rqs;
    Rwset__NsReadWriteSet ns = RWSET__NS_READ_WRITE_SET__INIT;
    ns.namespace_ = "basic";
    ns.rwset = th_pack(&kv.base);
    Rwset__NsReadWriteSet *nss[] = {&ns};
    Rwset__TxReadWriteSet txrw = RWSET__TX_READ_WRITE_SET__INIT;
    txrw.n_ns_rwset = 1;
    txrw.ns_rwset = nss;

    Protos__ChaincodeEvent ev = PROTOS__CHAINCODE_EVENT__INIT;
    ev.chaincode_id = "basic";
    ev.tx_id = t->txid;
    ev.event_name = "Transferred";
    ev.payload = str_bin("{\"amount\":100}");
    Protos__Response resp = PROTOS__RESPONSE__INIT;
    resp.status = 200;
    resp.message = "OK";
    resp.payload = str_bin("done");
    Protos__ChaincodeID ccv = PROTOS__CHAINCODE_ID__INIT;
    ccv.name = "basic";
    ccv.version = "1.0";
    Protos__ChaincodeAction ca = PROTOS__CHAINCODE_ACTION__INIT;
    ca.results = th_pack(&txrw.base);
    ca.events = th_pack(&ev.base);
    ca.response = &resp;
    ca.chaincode_id = &ccv;
    uint8_t phash[32];
    memset(phash, 0x11, sizeof phash);
    Protos__ProposalResponsePayload prp = PROTOS__PROPOSAL_RESPONSE_PAYLOAD__INIT;
    prp.proposal_hash.data = phash;
    prp.proposal_hash.len = sizeof phash;
    prp.extension = th_pack(&ca.base);
    t->prp = th_pack(&prp.base);
    free(prp.extension.data);
    free(ca.results.data);
    free(ca.events.data);
    free(ns.rwset.data);

    Protos__Endorsement end = PROTOS__ENDORSEMENT__INIT;
    end.endorser = t->creator;
    end.signature = str_bin("\x30\x06\x02\x01\x02\x02\x01\x03");
    Protos__ProposalResponse pr = PROTOS__PROPOSAL_RESPONSE__INIT;
    pr.version = 1;
    pr.response = &resp;
    pr.payload = t->prp;
    pr.endorsement = &end;
    t->response = th_pack(&pr.base);

    Protos__Endorsement *ends[] = {&end};
    Protos__ChaincodeEndorsedAction cea = PROTOS__CHAINCODE_ENDORSED_ACTION__INIT;
    cea.proposal_response_payload = t->prp;
    cea.n_endorsements = 1;
    cea.endorsements = ends;
    Protos__ChaincodeActionPayload cap = PROTOS__CHAINCODE_ACTION_PAYLOAD__INIT;
    cap.chaincode_proposal_payload = t->cpp;
    cap.action = &cea;
    Protos__TransactionAction ta = PROTOS__TRANSACTION_ACTION__INIT;
    ta.header = t->shdr;
    ta.payload = th_pack(&cap.base);
    Protos__TransactionAction *tas[] = {&ta};
    Protos__Transaction tx = PROTOS__TRANSACTION__INIT;
    tx.n_actions = 1;
    tx.actions = tas;
    t->tx = th_pack(&tx.base);
    free(ta.payload.data);

    Common__Payload pl = COMMON__PAYLOAD__INIT;
    pl.header = &hdr;
    pl.data = t->tx;
    t->payload = th_pack(&pl.base);
    Common__Envelope env = COMMON__ENVELOPE__INIT;
    env.payload = t->payload;
    env.signature = str_bin("\x30\x06\x02\x01\x04\x02\x01\x05");
    t->envelope = th_pack(&env.base);
}

static void tx_free(struct tx *t)
{
    free(t->cert_pem);
    ProtobufCBinaryData *all[] = {&t->creator,  &t->chdr, &t->shdr,     &t->header,
                                  &t->cpp,      &t->prp,  &t->proposal, &t->signed_proposal,
                                  &t->response, &t->tx,   &t->payload,  &t->envelope};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        free(all[i]->data);
}

static json_t *decode_ok(const ProtobufCBinaryData *b, enum weft_inspect_type type,
                         enum weft_inspect_type want_type)
{
    json_t *j = NULL;
    enum weft_inspect_type got = WEFT_INSPECT_AUTO;
    struct lc_errbuf err;
    int r = weft_inspect_decode(b->data, b->len, type, &j, &got, &err);
    ck_assert_msg(r == 0, "decode: %s", err.msg);
    ck_assert_int_eq(got, want_type);
    return j;
}

/* The checks shared by an envelope on its own and inside a block. */
static void check_envelope_json(json_t *env, const struct tx *t)
{
    json_t *ch = TH_AT(env, "payload", "header", "channel_header");
    ck_assert_str_eq(th_str(TH_AT(ch, "type_name")), "ENDORSER_TRANSACTION");
    ck_assert_int_eq(json_integer_value(TH_AT(ch, "type")), 3);
    ck_assert_str_eq(th_str(TH_AT(ch, "timestamp")), "2023-11-14T22:13:20.000000005Z");
    ck_assert_str_eq(th_str(TH_AT(ch, "tx_id")), t->txid);
    ck_assert_str_eq(th_str(TH_AT(ch, "channel_id")), "mychannel");
    ck_assert_str_eq(th_str(TH_AT(ch, "extension", "chaincode_id", "name")), "basic");

    json_t *sh = TH_AT(env, "payload", "header", "signature_header");
    ck_assert_str_eq(th_str(TH_AT(sh, "creator", "mspid")), "Org1MSP");
    ck_assert_str_eq(th_str(TH_AT(sh, "creator", "id_bytes")), t->cert_pem);
    ck_assert_ptr_nonnull(
        strstr(th_str(TH_AT(sh, "creator", "subject")), "CN=User1@org1.example.com"));
    ck_assert_str_eq(th_str(TH_AT(sh, "nonce")),
                     "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7");
    ck_assert_str_eq(th_str(TH_AT(env, "signature")), "3006020104020105");

    json_t *act = TH_AT(env, "payload", "data", "actions", "0");
    ck_assert_str_eq(th_str(TH_AT(act, "header", "creator", "mspid")), "Org1MSP");
    json_t *spec = TH_AT(act, "payload", "chaincode_proposal_payload", "input", "chaincode_spec");
    ck_assert_str_eq(th_str(TH_AT(spec, "type")), "GOLANG");
    ck_assert_str_eq(th_str(TH_AT(spec, "chaincode_id", "name")), "basic");
    ck_assert_str_eq(th_str(TH_AT(spec, "input", "args", "0")), "transfer");
    ck_assert_str_eq(th_str(TH_AT(spec, "input", "args", "1")), "a");
    ck_assert_str_eq(th_str(TH_AT(spec, "input", "args", "2", "base64")), "AAH/");

    json_t *ea = TH_AT(act, "payload", "action");
    json_t *prp = TH_AT(ea, "proposal_response_payload");
    ck_assert_str_eq(th_str(TH_AT(prp, "proposal_hash")),
                     "1111111111111111111111111111111111111111111111111111111111111111");
    json_t *cact = TH_AT(prp, "extension");
    json_t *ns = TH_AT(cact, "results", "ns_rwset", "0");
    ck_assert_str_eq(th_str(TH_AT(cact, "results", "data_model")), "KV");
    ck_assert_str_eq(th_str(TH_AT(ns, "namespace")), "basic");
    ck_assert_str_eq(th_str(TH_AT(ns, "rwset", "reads", "0", "key")), "a");
    ck_assert_str_eq(th_str(TH_AT(ns, "rwset", "reads", "0", "version", "block_num")), "1");
    ck_assert_str_eq(th_str(TH_AT(ns, "rwset", "reads", "0", "version", "tx_num")), "2");
    ck_assert(json_is_null(TH_AT(ns, "rwset", "reads", "1", "version")));
    ck_assert_str_eq(th_str(TH_AT(ns, "rwset", "writes", "0", "value")), "100");
    ck_assert(json_is_false(TH_AT(ns, "rwset", "writes", "0", "is_delete")));
    json_t *rq = TH_AT(ns, "rwset", "range_queries_info", "0");
    ck_assert_str_eq(th_str(TH_AT(rq, "end_key")), "z");
    ck_assert(json_is_true(TH_AT(rq, "itr_exhausted")));
    ck_assert_str_eq(th_str(TH_AT(rq, "raw_reads", "kv_reads", "0", "key")), "b");
    ck_assert_ptr_null(TH_AT(rq, "reads_merkle_hashes")); /* the other oneof member */
    ck_assert_str_eq(th_str(TH_AT(cact, "events", "event_name")), "Transferred");
    ck_assert_str_eq(th_str(TH_AT(cact, "events", "payload")), "{\"amount\":100}");
    ck_assert_int_eq(json_integer_value(TH_AT(cact, "response", "status")), 200);
    ck_assert_str_eq(th_str(TH_AT(cact, "response", "payload")), "done");
    ck_assert_str_eq(th_str(TH_AT(cact, "chaincode_id", "version")), "1.0");
    ck_assert_str_eq(th_str(TH_AT(ea, "endorsements", "0", "endorser", "mspid")), "Org1MSP");
    ck_assert_str_eq(th_str(TH_AT(ea, "endorsements", "0", "signature")), "3006020102020103");
}

START_TEST(envelope_decodes_every_layer)
{
    struct tx t;
    tx_build(&t);
    json_t *j = decode_ok(&t.envelope, WEFT_INSPECT_ENVELOPE, WEFT_INSPECT_ENVELOPE);
    check_envelope_json(j, &t);
    json_decref(j);
    /* the guess finds the same */
    j = decode_ok(&t.envelope, WEFT_INSPECT_AUTO, WEFT_INSPECT_ENVELOPE);
    check_envelope_json(j, &t);
    json_decref(j);
    tx_free(&t);
}
END_TEST

START_TEST(block_decodes_with_metadata)
{
    struct tx t;
    tx_build(&t);
    uint8_t prev[32];
    memset(prev, 0x22, sizeof prev);
    Common__Block *b = NULL;
    ck_assert_int_eq(lc_wire_block_new(7, prev, sizeof prev, &t.envelope, 1, &b), 0);
    /* SIGNATURES: OrdererBlockMetadata{last_config 5} with one signature */
    Common__LastConfig lc = COMMON__LAST_CONFIG__INIT;
    lc.index = 5;
    Common__OrdererBlockMetadata obm = COMMON__ORDERER_BLOCK_METADATA__INIT;
    obm.last_config = &lc;
    Common__MetadataSignature ms = COMMON__METADATA_SIGNATURE__INIT;
    ms.signature_header = t.shdr;
    ms.signature.data = (uint8_t *)"\x30\x00";
    ms.signature.len = 2;
    Common__MetadataSignature *mss[] = {&ms};
    Common__Metadata m0 = COMMON__METADATA__INIT;
    m0.value = th_pack(&obm.base);
    m0.n_signatures = 1;
    m0.signatures = mss;
    ProtobufCBinaryData b0 = th_pack(&m0.base);
    Common__Metadata m1 = COMMON__METADATA__INIT;
    m1.value = th_pack(&lc.base);
    ProtobufCBinaryData b1 = th_pack(&m1.base);
    ck_assert_int_eq(lc_wire_block_set_metadata(b, 0, b0.data, b0.len), 0);
    ck_assert_int_eq(lc_wire_block_set_metadata(b, 1, b1.data, b1.len), 0);
    ck_assert_int_eq(lc_wire_block_set_metadata(b, 2, (const uint8_t *)"\x00\x0b", 2), 0);
    ProtobufCBinaryData bb = th_pack(&b->base);
    uint8_t hh[32];
    char hh_hex[65];
    ck_assert_int_eq(lc_wire_header_hash(b->header, hh), 0);
    lc_hex_encode(hh, sizeof hh, hh_hex);

    json_t *j = decode_ok(&bb, WEFT_INSPECT_AUTO, WEFT_INSPECT_BLOCK);
    ck_assert_str_eq(th_str(TH_AT(j, "header", "number")), "7");
    ck_assert_str_eq(th_str(TH_AT(j, "header", "previous_hash")),
                     "2222222222222222222222222222222222222222222222222222222222222222");
    check_envelope_json(TH_AT(j, "data", "data", "0"), &t);
    json_t *md = TH_AT(j, "metadata", "metadata");
    ck_assert_uint_eq(json_array_size(md), 5);
    ck_assert_str_eq(th_str(TH_AT(md, "0", "name")), "SIGNATURES");
    ck_assert_str_eq(th_str(TH_AT(md, "0", "value", "last_config", "index")), "5");
    ck_assert_str_eq(
        th_str(TH_AT(md, "0", "signatures", "0", "signature_header", "creator", "mspid")),
        "Org1MSP");
    ck_assert_str_eq(th_str(TH_AT(md, "0", "signatures", "0", "signature")), "3000");
    ck_assert_str_eq(th_str(TH_AT(md, "1", "name")), "LAST_CONFIG");
    ck_assert_str_eq(th_str(TH_AT(md, "1", "value", "index")), "5");
    ck_assert_str_eq(th_str(TH_AT(md, "2", "name")), "TRANSACTIONS_FILTER");
    ck_assert_str_eq(th_str(TH_AT(md, "2", "codes", "0")), "VALID");
    ck_assert_str_eq(th_str(TH_AT(md, "2", "codes", "1")), "MVCC_READ_CONFLICT");
    ck_assert(json_is_null(TH_AT(md, "3")));
    ck_assert(json_is_null(TH_AT(md, "4")));
    ck_assert(json_is_true(TH_AT(j, "computed", "data_hash_ok")));
    ck_assert_str_eq(th_str(TH_AT(j, "computed", "header_hash")), hh_hex);
    json_decref(j);

    /* a block whose data_hash is wrong still decodes, and says so */
    b->header->data_hash.data[0] ^= 1;
    ProtobufCBinaryData bad = th_pack(&b->base);
    j = decode_ok(&bad, WEFT_INSPECT_BLOCK, WEFT_INSPECT_BLOCK);
    ck_assert(json_is_false(TH_AT(j, "computed", "data_hash_ok")));
    json_decref(j);

    free(bad.data);
    free(bb.data);
    free(b0.data);
    free(b1.data);
    free(m0.value.data);
    free(m1.value.data);
    lc_wire_block_free(b);
    tx_free(&t);
}
END_TEST

START_TEST(proposal_and_response_decode)
{
    struct tx t;
    tx_build(&t);
    json_t *j = decode_ok(&t.signed_proposal, WEFT_INSPECT_AUTO, WEFT_INSPECT_SIGNED_PROPOSAL);
    json_t *p = TH_AT(j, "proposal_bytes");
    ck_assert_str_eq(th_str(TH_AT(p, "header", "channel_header", "tx_id")), t.txid);
    ck_assert_str_eq(th_str(TH_AT(p, "payload", "input", "chaincode_spec", "input", "args", "0")),
                     "transfer");
    ck_assert_str_eq(th_str(TH_AT(j, "signature")), "3006020101020101");
    json_decref(j);

    j = decode_ok(&t.proposal, WEFT_INSPECT_PROPOSAL, WEFT_INSPECT_PROPOSAL);
    ck_assert_str_eq(th_str(TH_AT(j, "header", "signature_header", "creator", "mspid")), "Org1MSP");
    json_decref(j);

    j = decode_ok(&t.response, WEFT_INSPECT_AUTO, WEFT_INSPECT_PROPOSAL_RESPONSE);
    ck_assert_int_eq(json_integer_value(TH_AT(j, "version")), 1);
    ck_assert_int_eq(json_integer_value(TH_AT(j, "response", "status")), 200);
    ck_assert_str_eq(
        th_str(TH_AT(j, "payload", "extension", "results", "ns_rwset", "0", "namespace")), "basic");
    ck_assert_str_eq(th_str(TH_AT(j, "endorsement", "endorser", "mspid")), "Org1MSP");
    ck_assert(json_is_null(TH_AT(j, "timestamp")));
    json_decref(j);
    tx_free(&t);
}
END_TEST

static void decode_fails(const void *buf, size_t len, enum weft_inspect_type type,
                         const char *want_msg)
{
    json_t *j = (json_t *)&j; /* must stay untouched */
    struct lc_errbuf err;
    int r = weft_inspect_decode(buf, len, type, &j, NULL, &err);
    ck_assert_msg(r < 0, "decoded but should not have");
    ck_assert_ptr_eq(j, (json_t *)&j);
    ck_assert_msg(strstr(err.msg, want_msg) != NULL, "message '%s' lacks '%s'", err.msg, want_msg);
}

START_TEST(garbage_is_rejected_with_the_cause)
{
    static const uint8_t junk[] = {0xff, 0xff, 0xff, 0x07, 0x01};
    decode_fails(junk, sizeof junk, WEFT_INSPECT_AUTO, "not a block, envelope");
    decode_fails(junk, sizeof junk, WEFT_INSPECT_BLOCK,
                 "block: common.Block: truncated or "
                 "malformed");
    decode_fails("", 0, WEFT_INSPECT_AUTO, "empty input");
    decode_fails("", 0, WEFT_INSPECT_BLOCK, "empty input");
    /* an envelope whose payload is not a Payload: the path names the layer */
    decode_fails("\x0a\x03\x0a\x05x", 5, WEFT_INSPECT_ENVELOPE,
                 "envelope.payload: common.Payload: truncated or malformed");
    /* a channel header that does not decode, inside a block */
    Common__Header hdr = COMMON__HEADER__INIT;
    hdr.channel_header = str_bin("\x08"); /* a varint tag with no value */
    Common__Payload pl = COMMON__PAYLOAD__INIT;
    pl.header = &hdr;
    ProtobufCBinaryData plb = th_pack(&pl.base);
    Common__Envelope env = COMMON__ENVELOPE__INIT;
    env.payload = plb;
    ProtobufCBinaryData eb = th_pack(&env.base);
    Common__Block *b = NULL;
    ck_assert_int_eq(lc_wire_block_new(0, NULL, 0, &eb, 1, &b), 0);
    ProtobufCBinaryData bb = th_pack(&b->base);
    decode_fails(bb.data, bb.len, WEFT_INSPECT_BLOCK,
                 "block.data.data[0].payload.header.channel_header: common.ChannelHeader: "
                 "truncated or malformed");
    decode_fails(bb.data, bb.len, (enum weft_inspect_type)99, "unknown inspect type");
    free(bb.data);
    free(eb.data);
    free(plb.data);
    lc_wire_block_free(b);
}
END_TEST

START_TEST(guessing_rejects_shapes_no_real_message_has)
{
    /* an envelope whose endorser transaction has no actions decodes with --type envelope but is
     * not taken as an envelope when guessing */
    struct tx t;
    tx_build(&t);
    Common__Header *hdr = NULL;
    ck_assert_int_eq(LC_WIRE_UNPACK(&common__header__descriptor, t.header, &hdr, NULL), 0);
    Common__Payload pl = COMMON__PAYLOAD__INIT;
    pl.header = hdr;
    ProtobufCBinaryData plb = th_pack(&pl.base);
    Common__Envelope env = COMMON__ENVELOPE__INIT;
    env.payload = plb;
    ProtobufCBinaryData eb = th_pack(&env.base);
    json_t *j = decode_ok(&eb, WEFT_INSPECT_ENVELOPE, WEFT_INSPECT_ENVELOPE);
    ck_assert_uint_eq(json_array_size(TH_AT(j, "payload", "data", "actions")), 0);
    json_decref(j);
    decode_fails(eb.data, eb.len, WEFT_INSPECT_AUTO, "transaction without actions");
    free(eb.data);
    free(plb.data);
    common__header__free_unpacked(hdr, NULL);
    tx_free(&t);
}
END_TEST

START_TEST(deep_nesting_is_refused)
{
    /* a config group nested 200 levels deep: protobuf-c decodes it, the printer stops */
    Common__ConfigGroup groups[200];
    Common__ConfigGroup__GroupsEntry entries[200];
    Common__ConfigGroup__GroupsEntry *ptrs[200];
    for (int i = 199; i >= 0; i--) {
        common__config_group__init(&groups[i]);
        if (i < 199) {
            common__config_group__groups_entry__init(&entries[i]);
            entries[i].key = "g";
            entries[i].value = &groups[i + 1];
            ptrs[i] = &entries[i];
            groups[i].n_groups = 1;
            groups[i].groups = &ptrs[i];
        }
    }
    Common__Config cfg = COMMON__CONFIG__INIT;
    cfg.channel_group = &groups[0];
    Common__ConfigEnvelope ce = COMMON__CONFIG_ENVELOPE__INIT;
    ce.config = &cfg;
    ProtobufCBinaryData b = th_pack(&ce.base);
    decode_fails(b.data, b.len, WEFT_INSPECT_CONFIG_ENVELOPE, "nested deeper than");
    free(b.data);
}
END_TEST

START_TEST(command_prints_json_and_reports_errors)
{
    struct tx t;
    tx_build(&t);
    char *dir = th_tmpdir();
    th_write(th_path(dir, "env.bin"), t.envelope.data, t.envelope.len);
    th_write(th_path(dir, "junk.bin"), "\xff\xff\xff", 3);

    char *out, *err;
    ck_assert_int_eq(th_weft(dir, &out, &err, (const char *[]){"inspect", "env.bin", NULL}), 0);
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    ck_assert_msg(j != NULL, "stdout is not JSON: %s", je.text);
    check_envelope_json(j, &t);
    ck_assert_ptr_nonnull(strchr(out, '\n'));
    ck_assert_ptr_ne(strchr(out, '\n'), out + strlen(out) - 1); /* indented: many lines */
    json_decref(j);
    free(out);
    free(err);

    /* --json: one compact line */
    ck_assert_int_eq(
        th_weft(dir, &out, &err, (const char *[]){"inspect", "--json", "env.bin", NULL}), 0);
    ck_assert_ptr_eq(strchr(out, '\n'), out + strlen(out) - 1);
    free(out);
    free(err);

    ck_assert_int_eq(
        th_weft(dir, &out, &err, (const char *[]){"inspect", "--type", "block", "junk.bin", NULL}),
        1);
    ck_assert_ptr_nonnull(strstr(err, "junk.bin: block: common.Block: truncated or malformed"));
    ck_assert_str_eq(out, "");
    free(out);
    free(err);

    ck_assert_int_eq(th_weft(dir, &out, &err, (const char *[]){"inspect", "junk.bin", NULL}), 1);
    ck_assert_ptr_nonnull(strstr(err, "not a block, envelope, signed proposal or proposal "
                                      "response"));
    free(out);
    free(err);

    ck_assert_int_eq(th_weft(dir, &out, &err, (const char *[]){"inspect", "missing.bin", NULL}), 1);
    ck_assert_ptr_nonnull(strstr(err, "missing.bin: No such file"));
    free(out);
    free(err);

    ck_assert_int_eq(
        th_weft(dir, &out, &err, (const char *[]){"inspect", "--type", "cheese", "x", NULL}), 2);
    ck_assert_ptr_nonnull(strstr(err, "--type"));
    free(out);
    free(err);

    ck_assert_int_eq(th_weft(dir, &out, &err, (const char *[]){"inspect", NULL}), 2);
    ck_assert_ptr_nonnull(strstr(err, "expected one FILE"));
    free(out);
    free(err);

    ck_assert_int_eq(th_weft(dir, &out, &err, (const char *[]){"inspect", "--help", NULL}), 0);
    ck_assert_ptr_nonnull(strstr(out, "weft inspect"));
    free(out);
    free(err);

    th_rmtree(dir);
    free(dir);
    tx_free(&t);
}
END_TEST

START_TEST(dispatcher_flags_and_unknown_command)
{
    char *out, *err;
    ck_assert_int_eq(th_weft(NULL, &out, &err, (const char *[]){"--version", NULL}), 0);
    ck_assert_ptr_nonnull(strstr(out, "weft "));
    free(out);
    free(err);
    ck_assert_int_eq(th_weft(NULL, &out, &err, (const char *[]){"--help", NULL}), 0);
    ck_assert_ptr_nonnull(strstr(out, "inspect"));
    ck_assert_ptr_nonnull(strstr(out, "genesis"));
    free(out);
    free(err);
    ck_assert_int_eq(th_weft(NULL, &out, &err, (const char *[]){"frobnicate", NULL}), 2);
    ck_assert_ptr_nonnull(strstr(err, "unknown command 'frobnicate'"));
    ck_assert_ptr_nonnull(strstr(err, "genesis, inspect"));
    free(out);
    free(err);
    ck_assert_int_eq(th_weft(NULL, &out, &err, (const char *[]){NULL}), 2);
    ck_assert_ptr_nonnull(strstr(err, "usage"));
    free(out);
    free(err);
    ck_assert_int_eq(th_weft(NULL, &out, &err, (const char *[]){"help", "genesis", NULL}), 0);
    ck_assert_ptr_nonnull(strstr(out, "weft genesis"));
    free(out);
    free(err);
    ck_assert_int_eq(
        th_weft(NULL, &out, &err, (const char *[]){"--log-spec", "loud", "inspect", NULL}), 2);
    ck_assert_ptr_nonnull(strstr(err, "--log-spec"));
    free(out);
    free(err);
    ck_assert_int_eq(th_weft(NULL, &out, &err, (const char *[]){"--bogus", NULL}), 2);
    ck_assert_ptr_nonnull(strstr(err, "unknown flag '--bogus'"));
    free(out);
    free(err);
}
END_TEST

Suite *inspect_suite(void)
{
    Suite *s = suite_create("inspect");
    TCase *tc = tcase_create("inspect");
    tcase_add_test(tc, envelope_decodes_every_layer);
    tcase_add_test(tc, block_decodes_with_metadata);
    tcase_add_test(tc, proposal_and_response_decode);
    tcase_add_test(tc, garbage_is_rejected_with_the_cause);
    tcase_add_test(tc, guessing_rejects_shapes_no_real_message_has);
    tcase_add_test(tc, deep_nesting_is_refused);
    tcase_add_test(tc, command_prints_json_and_reports_errors);
    tcase_add_test(tc, dispatcher_flags_and_unknown_command);
    suite_add_tcase(s, tc);
    return s;
}
