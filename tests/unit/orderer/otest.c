/* SPDX-License-Identifier: Apache-2.0 */
/* Orderer test helpers: signed envelopes and SeekInfos, Broadcast and Deliver over libcommon/rpc.
 */
#include "otest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libcommon/crypto.h"
#include "libcommon/wire.h"

struct lc_signer *ot_signer(const char *msp_dir, const char *mspid)
{
    struct lc_signer *s = NULL;
    struct lc_errbuf err = {{0}};
    ck_assert_msg(lc_signer_load(msp_dir, mspid, &err, &s) == 0, "signer %s: %s", msp_dir, err.msg);
    return s;
}

uint8_t *ot_pack(const ProtobufCMessage *m, size_t *ret_len)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *p = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(p);
    protobuf_c_message_pack(m, p);
    *ret_len = n;
    return p;
}

Common__Envelope *ot_envelope(const struct ot_env_spec *sp)
{
    uint8_t nonce[LC_NONCE_LEN];
    ck_assert_int_eq(lc_nonce(nonce), 0);
    size_t creator_len = sp->creator_len;
    const uint8_t *creator = sp->creator;
    if (!creator && sp->signer)
        creator = lc_signer_serialized(sp->signer, &creator_len);
    char txid[LC_WIRE_TXID_LEN + 1];
    ck_assert_int_eq(lc_wire_txid(nonce, sizeof nonce, creator, creator_len, txid), 0);

    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    ts.seconds = sp->ts ? sp->ts : (int64_t)time(NULL);
    Common__ChannelHeader ch = COMMON__CHANNEL_HEADER__INIT;
    ch.type = sp->type;
    ch.version = 1;
    ch.timestamp = sp->ts == -1 ? NULL : &ts;
    ch.channel_id = (char *)sp->channel;
    ch.tx_id = txid;
    Common__SignatureHeader sh = COMMON__SIGNATURE_HEADER__INIT;
    sh.creator.data = (uint8_t *)creator;
    sh.creator.len = creator_len;
    sh.nonce.data = nonce;
    sh.nonce.len = sizeof nonce;
    Common__Header hdr = COMMON__HEADER__INIT;
    size_t chl = 0, shl = 0;
    uint8_t *chb = ot_pack(&ch.base, &chl), *shb = ot_pack(&sh.base, &shl);
    static const uint8_t junk[] = {0xff, 0xff, 0xff};
    hdr.channel_header.data = sp->garbage_chdr ? (uint8_t *)junk : chb;
    hdr.channel_header.len = sp->garbage_chdr ? sizeof junk : chl;
    hdr.signature_header.data = shb;
    hdr.signature_header.len = shl;
    Common__Payload pl = COMMON__PAYLOAD__INIT;
    pl.header = sp->no_header ? NULL : &hdr;
    pl.data.data = (uint8_t *)sp->data;
    pl.data.len = sp->data_len;
    size_t pll = 0;
    uint8_t *plb = ot_pack(&pl.base, &pll);
    uint8_t sig[LC_ECDSA_SIG_MAX];
    size_t sig_len = 0;
    if (sp->signer) {
        ck_assert_int_eq(lc_signer_sign(sp->signer, plb, pll, sig, &sig_len), 0);
        if (sp->bad_sig)
            sig[sig_len - 3] ^= 0x01;
    }
    Common__Envelope env = COMMON__ENVELOPE__INIT;
    env.payload.data = plb;
    env.payload.len = pll;
    env.signature.data = sig;
    env.signature.len = sig_len;
    size_t el = 0;
    uint8_t *eb = ot_pack(&env.base, &el);
    Common__Envelope *out = common__envelope__unpack(NULL, el, eb);
    ck_assert_ptr_nonnull(out);
    free(eb);
    free(plb);
    free(chb);
    free(shb);
    return out;
}

Common__Envelope *ot_tx(const struct lc_signer *s, const char *channel, size_t size)
{
    uint8_t *data = malloc(size ? size : 1);
    ck_assert_ptr_nonnull(data);
    ck_assert_int_eq(lc_random_bytes(data, size), 0);
    struct ot_env_spec sp = {.channel = channel,
                             .type = COMMON__HEADER_TYPE__ENDORSER_TRANSACTION,
                             .data = data,
                             .data_len = size,
                             .signer = s};
    Common__Envelope *e = ot_envelope(&sp);
    free(data);
    return e;
}

static Orderer__SeekPosition *position(enum ot_pos k, uint64_t n, Orderer__SeekPosition *p,
                                       Orderer__SeekSpecified *spec, Orderer__SeekNewest *nw,
                                       Orderer__SeekOldest *od)
{
    orderer__seek_position__init(p);
    switch (k) {
    case OT_OLDEST:
        p->type_case = ORDERER__SEEK_POSITION__TYPE_OLDEST;
        p->oldest = od;
        break;
    case OT_NEWEST:
        p->type_case = ORDERER__SEEK_POSITION__TYPE_NEWEST;
        p->newest = nw;
        break;
    case OT_SPECIFIED:
        p->type_case = ORDERER__SEEK_POSITION__TYPE_SPECIFIED;
        spec->number = n;
        p->specified = spec;
        break;
    case OT_UNSET:
        break;
    }
    return p;
}

Common__Envelope *ot_seek(const struct ot_seek_spec *sp)
{
    Orderer__SeekPosition start, stop;
    Orderer__SeekSpecified s1 = ORDERER__SEEK_SPECIFIED__INIT, s2 = ORDERER__SEEK_SPECIFIED__INIT;
    Orderer__SeekNewest nw = ORDERER__SEEK_NEWEST__INIT;
    Orderer__SeekOldest od = ORDERER__SEEK_OLDEST__INIT;
    Orderer__SeekInfo si = ORDERER__SEEK_INFO__INIT;
    si.start = position(sp->start, sp->start_n, &start, &s1, &nw, &od);
    si.stop = position(sp->stop, sp->stop_n, &stop, &s2, &nw, &od);
    si.behavior = sp->fail_if_not_ready ? ORDERER__SEEK_INFO__SEEK_BEHAVIOR__FAIL_IF_NOT_READY
                                        : ORDERER__SEEK_INFO__SEEK_BEHAVIOR__BLOCK_UNTIL_READY;
    si.error_response = sp->best_effort ? ORDERER__SEEK_INFO__SEEK_ERROR_RESPONSE__BEST_EFFORT
                                        : ORDERER__SEEK_INFO__SEEK_ERROR_RESPONSE__STRICT;
    size_t len = 0;
    uint8_t *data = ot_pack(&si.base, &len);
    struct ot_env_spec es = {.channel = sp->channel,
                             .type = sp->type ? sp->type : COMMON__HEADER_TYPE__DELIVER_SEEK_INFO,
                             .data = data,
                             .data_len = len,
                             .ts = sp->ts,
                             .signer = sp->signer,
                             .bad_sig = sp->bad_sig};
    Common__Envelope *e = ot_envelope(&es);
    free(data);
    return e;
}

void ot_open(struct ot_stream *s, const char *target, const char *path)
{
    struct lc_errbuf err = {{0}};
    memset(s, 0, sizeof *s);
    ck_assert_msg(lc_rpc_client_new(target, NULL, &err, &s->client) == 0, "client: %s", err.msg);
    ck_assert_int_eq(lc_rpc_stream_open(s->client, path, -1, &s->stream), 0);
}

void ot_close(struct ot_stream *s)
{
    lc_rpc_stream_free(s->stream);
    lc_rpc_client_free(s->client);
    memset(s, 0, sizeof *s);
}

void ot_send(struct ot_stream *s, const Common__Envelope *env)
{
    int r = lc_rpc_stream_send(s->stream, &env->base, 30000);
    ck_assert_msg(r == 0, "send: %s", lc_strerror(r));
}

int ot_recv_status(struct ot_stream *s, char *info, size_t cap, int *ret_end)
{
    ProtobufCMessage *m = NULL;
    int r = lc_rpc_stream_recv(s->stream, &orderer__broadcast_response__descriptor, 30000, &m);
    if (ret_end)
        *ret_end = r;
    if (r < 0)
        return -1;
    Orderer__BroadcastResponse *resp = (Orderer__BroadcastResponse *)m;
    int st = resp->status;
    if (info)
        snprintf(info, cap, "%s", resp->info ? resp->info : "");
    protobuf_c_message_free_unpacked(m, NULL);
    return st;
}

Orderer__DeliverResponse *ot_recv_deliver(struct ot_stream *s, int timeout_ms, int *ret_code)
{
    ProtobufCMessage *m = NULL;
    int r = lc_rpc_stream_recv(s->stream, &orderer__deliver_response__descriptor,
                               timeout_ms < 0 ? 30000 : timeout_ms, &m);
    if (ret_code)
        *ret_code = r;
    return r < 0 ? NULL : (Orderer__DeliverResponse *)m;
}

int ot_broadcast_one(const char *target, const Common__Envelope *env, char *info, size_t cap)
{
    struct ot_stream s;
    ot_open(&s, target, OT_BROADCAST);
    ot_send(&s, env);
    int end = 0;
    int st = ot_recv_status(&s, info, cap, &end);
    ck_assert_msg(st >= 0, "no broadcast response: %s", lc_strerror(end));
    ot_close(&s);
    return st;
}

int ot_deliver(const char *target, Common__Envelope *seek, Common__Block ***ret_blocks,
               size_t *ret_n)
{
    struct ot_stream s;
    ot_open(&s, target, OT_DELIVER);
    ot_send(&s, seek);
    common__envelope__free_unpacked((Common__Envelope *)seek, NULL);
    Common__Block **blocks = NULL;
    size_t n = 0;
    int status = -1;
    for (;;) {
        int code = 0;
        Orderer__DeliverResponse *r = ot_recv_deliver(&s, -1, &code);
        ck_assert_msg(r != NULL, "deliver stream ended without a status: %s", lc_strerror(code));
        if (r->type_case == ORDERER__DELIVER_RESPONSE__TYPE_STATUS) {
            status = r->status;
            orderer__deliver_response__free_unpacked(r, NULL);
            break;
        }
        ck_assert_int_eq(r->type_case, ORDERER__DELIVER_RESPONSE__TYPE_BLOCK);
        blocks = realloc(blocks, (n + 1) * sizeof *blocks);
        ck_assert_ptr_nonnull(blocks);
        blocks[n++] = r->block;
        r->block = NULL;
        r->type_case = ORDERER__DELIVER_RESPONSE__TYPE__NOT_SET;
        orderer__deliver_response__free_unpacked(r, NULL);
    }
    ot_close(&s);
    if (ret_blocks) {
        *ret_blocks = blocks;
        *ret_n = n;
    } else {
        ot_blocks_free(blocks, n);
    }
    return status;
}

void ot_blocks_free(Common__Block **blocks, size_t n)
{
    for (size_t i = 0; i < n; i++)
        common__block__free_unpacked(blocks[i], NULL);
    free(blocks);
}

uint64_t ot_check_block(const Common__Block *b, const Common__Block *prev,
                        const struct lc_signer *orderer)
{
    struct lc_errbuf err = {{0}};
    ck_assert_ptr_nonnull(b->header);
    ck_assert_msg(lc_wire_block_check_data_hash(b, &err) == 0, "%s", err.msg);
    if (prev)
        ck_assert_msg(lc_wire_block_check_link(prev, b, &err) == 0, "%s", err.msg);
    ck_assert_ptr_nonnull(b->metadata);
    ck_assert_uint_eq(b->metadata->n_metadata, 5);
    ck_assert_uint_eq(b->metadata->metadata[2].len, 0);
    ck_assert_uint_eq(b->metadata->metadata[3].len, 0);
    ck_assert_uint_eq(b->metadata->metadata[4].len, 0);
    for (size_t i = 0; i < b->data->n_data; i++) {
        /* data[i] is the canonical envelope: re-packing gives the same bytes */
        Common__Envelope *e =
            common__envelope__unpack(NULL, b->data->data[i].len, b->data->data[i].data);
        ck_assert_ptr_nonnull(e);
        size_t len = 0;
        uint8_t *again = ot_pack(&e->base, &len);
        ck_assert_uint_eq(len, b->data->data[i].len);
        ck_assert(memcmp(again, b->data->data[i].data, len) == 0);
        free(again);
        common__envelope__free_unpacked(e, NULL);
    }
    /* [0]: Metadata{value = OrdererBlockMetadata, signatures = [one]} */
    Common__Metadata *m0 =
        common__metadata__unpack(NULL, b->metadata->metadata[0].len, b->metadata->metadata[0].data);
    ck_assert_ptr_nonnull(m0);
    ck_assert_uint_eq(m0->n_signatures, 1);
    Common__OrdererBlockMetadata *obm =
        common__orderer_block_metadata__unpack(NULL, m0->value.len, m0->value.data);
    ck_assert_ptr_nonnull(obm);
    ck_assert_ptr_nonnull(obm->last_config);
    uint64_t lc = obm->last_config->index;
    Common__MetadataSignature *ms = m0->signatures[0];
    Common__SignatureHeader *sh =
        common__signature_header__unpack(NULL, ms->signature_header.len, ms->signature_header.data);
    ck_assert_ptr_nonnull(sh);
    ck_assert_uint_eq(sh->nonce.len, 24);
    if (orderer) {
        size_t id_len = 0;
        const uint8_t *id = lc_signer_serialized(orderer, &id_len);
        ck_assert_uint_eq(sh->creator.len, id_len);
        ck_assert(memcmp(sh->creator.data, id, id_len) == 0);
        uint8_t der[200];
        size_t der_len = 0;
        ck_assert_int_eq(lc_wire_header_der(b->header->number, b->header->previous_hash.data,
                                            b->header->previous_hash.len, b->header->data_hash.data,
                                            b->header->data_hash.len, der, sizeof der, &der_len),
                         0);
        const struct lc_iov v[3] = {{m0->value.data, m0->value.len},
                                    {ms->signature_header.data, ms->signature_header.len},
                                    {der, der_len}};
        ck_assert_msg(lc_ecdsa_verify_iov(lc_cert_pubkey(lc_signer_cert(orderer)), v, 3,
                                          ms->signature.data, ms->signature.len, &err) == 0,
                      "block %llu signature: %s", (unsigned long long)b->header->number, err.msg);
    }
    /* [1]: Metadata{value = LastConfig{index}}, the same index */
    Common__Metadata *m1 =
        common__metadata__unpack(NULL, b->metadata->metadata[1].len, b->metadata->metadata[1].data);
    ck_assert_ptr_nonnull(m1);
    Common__LastConfig *lcv = common__last_config__unpack(NULL, m1->value.len, m1->value.data);
    ck_assert_ptr_nonnull(lcv);
    ck_assert_uint_eq(lcv->index, lc);
    common__last_config__free_unpacked(lcv, NULL);
    common__metadata__free_unpacked(m1, NULL);
    common__signature_header__free_unpacked(sh, NULL);
    common__orderer_block_metadata__free_unpacked(obm, NULL);
    common__metadata__free_unpacked(m0, NULL);
    return lc;
}

char *ot_block_txid(const Common__Block *b, size_t i)
{
    ck_assert_uint_lt(i, b->data->n_data);
    Common__Envelope *e =
        common__envelope__unpack(NULL, b->data->data[i].len, b->data->data[i].data);
    ck_assert_ptr_nonnull(e);
    Common__Payload *p = common__payload__unpack(NULL, e->payload.len, e->payload.data);
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(p->header);
    Common__ChannelHeader *ch = common__channel_header__unpack(NULL, p->header->channel_header.len,
                                                               p->header->channel_header.data);
    ck_assert_ptr_nonnull(ch);
    char *txid = strdup(ch->tx_id);
    common__channel_header__free_unpacked(ch, NULL);
    common__payload__free_unpacked(p, NULL);
    common__envelope__free_unpacked(e, NULL);
    return txid;
}
