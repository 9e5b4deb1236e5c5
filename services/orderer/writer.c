/* SPDX-License-Identifier: Apache-2.0 */
/* The block writer: numbering, hashes, LAST_CONFIG and the orderer's signature, then the store. */
#include "writer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "libcommon/crypto.h"
#include "libcommon/log.h"
#include "libcommon/wire.h"

#define LOG "orderer"

struct orderer_writer {
    struct lc_blockstore *bs;
    const struct lc_signer *signer;
    uint64_t last_config;
};

/* ---- reading metadata ---------------------------------------------------------------------- */

static const ProtobufCBinaryData *md_entry(const Common__Block *b, size_t idx)
{
    if (!b->metadata || idx >= b->metadata->n_metadata)
        return NULL;
    const ProtobufCBinaryData *e = &b->metadata->metadata[idx];
    return e->len ? e : NULL;
}

static unsigned long long block_no(const Common__Block *b)
{
    return b->header ? (unsigned long long)b->header->number : 0;
}

/* The OrdererBlockMetadata inside [0], or NULL (with 0) when [0] is empty or has no value. */
static int orderer_md(const Common__Block *b, Common__OrdererBlockMetadata **ret,
                      struct lc_errbuf *err)
{
    *ret = NULL;
    const ProtobufCBinaryData *e = md_entry(b, COMMON__BLOCK_METADATA_INDEX__SIGNATURES);
    if (!e)
        return 0;
    Common__Metadata *md = NULL;
    int r = LC_WIRE_UNPACK(&common__metadata__descriptor, *e, &md, err);
    if (r < 0) {
        lc_errbuf_prefix(err, "block %llu: metadata[SIGNATURES]: ", block_no(b));
        return r;
    }
    if (md->value.len)
        r = LC_WIRE_UNPACK(&common__orderer_block_metadata__descriptor, md->value, ret, err);
    if (r < 0)
        lc_errbuf_prefix(err, "block %llu: metadata[SIGNATURES] value: ", block_no(b));
    common__metadata__free_unpacked(md, NULL);
    return r;
}

int orderer_block_last_config(const Common__Block *b, uint64_t *ret_index, struct lc_errbuf *err)
{
    Common__OrdererBlockMetadata *obm = NULL;
    int r = orderer_md(b, &obm, err);
    if (r < 0)
        return r;
    if (obm) {
        /* Fabric reads last_config from here whenever [0] decodes to an OrdererBlockMetadata. */
        *ret_index = obm->last_config ? obm->last_config->index : 0;
        common__orderer_block_metadata__free_unpacked(obm, NULL);
        return 0;
    }
    const ProtobufCBinaryData *e = md_entry(b, COMMON__BLOCK_METADATA_INDEX__LAST_CONFIG);
    uint64_t index = 0;
    if (e) {
        Common__Metadata *md = NULL;
        Common__LastConfig *lc = NULL;
        r = LC_WIRE_UNPACK(&common__metadata__descriptor, *e, &md, err);
        if (r == 0)
            r = LC_WIRE_UNPACK(&common__last_config__descriptor, md->value, &lc, err);
        if (r == 0)
            index = lc->index;
        else
            lc_errbuf_prefix(err, "block %llu: metadata[LAST_CONFIG]: ", block_no(b));
        if (lc)
            common__last_config__free_unpacked(lc, NULL);
        if (md)
            common__metadata__free_unpacked(md, NULL);
        if (r < 0)
            return r;
    }
    *ret_index = index;
    return 0;
}

static int copy_out(const ProtobufCBinaryData *v, uint8_t **ret, size_t *ret_len)
{
    if (!v->len) {
        *ret = NULL;
        *ret_len = 0;
        return 0;
    }
    uint8_t *p = malloc(v->len);
    if (!p)
        return -ENOMEM;
    memcpy(p, v->data, v->len);
    *ret = p;
    *ret_len = v->len;
    return 0;
}

int orderer_block_consenter_metadata(const Common__Block *b, uint8_t **ret_md, size_t *ret_len,
                                     struct lc_errbuf *err)
{
    Common__OrdererBlockMetadata *obm = NULL;
    Common__Metadata *md = NULL;
    int r = orderer_md(b, &obm, err);
    if (r < 0)
        return r;
    const ProtobufCBinaryData *src = NULL;
    const char *where = "SIGNATURES consenter_metadata";
    if (obm && obm->consenter_metadata.len) {
        src = &obm->consenter_metadata;
    } else {
        src = md_entry(b, COMMON__BLOCK_METADATA_INDEX__ORDERER);
        where = "ORDERER";
    }
    if (!src) {
        *ret_md = NULL;
        *ret_len = 0;
        goto out;
    }
    r = LC_WIRE_UNPACK(&common__metadata__descriptor, *src, &md, err);
    if (r < 0) {
        lc_errbuf_prefix(err, "block %llu: metadata[%s]: ", block_no(b), where);
        goto out;
    }
    r = copy_out(&md->value, ret_md, ret_len);
    if (r < 0)
        lc_fail(err, r, "out of memory");
out:
    if (md)
        common__metadata__free_unpacked(md, NULL);
    if (obm)
        common__orderer_block_metadata__free_unpacked(obm, NULL);
    return r;
}

/* ---- writing ------------------------------------------------------------------------------- */

int orderer_writer_new(struct lc_blockstore *bs, const struct lc_signer *signer,
                       struct orderer_writer **ret, struct lc_errbuf *err)
{
    uint64_t height = lc_blockstore_height(bs);
    if (height == 0)
        return lc_fail(err, LC_EINVALID, "block writer: the store has no genesis block");
    uint8_t *buf = NULL;
    size_t len = 0;
    Common__Block *tip = NULL;
    int r = lc_blockstore_get(bs, height - 1, &buf, &len, err);
    if (r < 0)
        return r;
    r = lc_wire_unpack(&common__block__descriptor, buf, len, (ProtobufCMessage **)&tip, err);
    free(buf);
    if (r < 0) {
        lc_errbuf_prefix(err, "block %llu: ", (unsigned long long)(height - 1));
        return r;
    }
    uint64_t last_config = 0;
    r = orderer_block_last_config(tip, &last_config, err);
    lc_wire_block_free(tip);
    if (r < 0)
        return r;
    if (last_config >= height)
        return lc_fail(err, LC_ECORRUPT, "block %llu: last_config %llu is past the tip",
                       (unsigned long long)(height - 1), (unsigned long long)last_config);
    struct orderer_writer *w = calloc(1, sizeof *w);
    if (!w)
        return lc_fail(err, -ENOMEM, "out of memory");
    w->bs = bs;
    w->signer = signer;
    w->last_config = last_config;
    *ret = w;
    return 0;
}

void orderer_writer_free(struct orderer_writer *w)
{
    free(w);
}

uint64_t orderer_writer_last_config(const struct orderer_writer *w)
{
    return w->last_config;
}

/* Packs a message into a malloc'd buffer; -ENOMEM only (generated code packs exactly). */
static int pack(const ProtobufCMessage *m, ProtobufCBinaryData *ret)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *p = malloc(n ? n : 1);
    if (!p)
        return -ENOMEM;
    protobuf_c_message_pack(m, p);
    ret->data = p;
    ret->len = n;
    return 0;
}

int orderer_writer_write(struct orderer_writer *w, struct orderer_msg *const *msgs, size_t n,
                         bool is_config, const uint8_t *cmd, size_t cmd_len,
                         bool legacy_orderer_slot, uint64_t *ret_number, struct lc_errbuf *err)
{
    if (n == 0)
        return lc_fail(err, LC_EINVALID, "block writer: empty batch");
    int r = -ENOMEM;
    Common__Block *block = NULL;
    ProtobufCBinaryData *data = NULL, lc_bytes = {0}, lcmd_bytes = {0}, cmd_wrapped = {0};
    ProtobufCBinaryData value = {0}, sighdr = {0}, md0 = {0}, packed = {0};
    uint8_t prev[LC_WIRE_HASH_LEN];

    uint64_t number = lc_blockstore_height(w->bs);
    r = lc_blockstore_tip_hash(w->bs, prev);
    if (r < 0) {
        lc_fail(err, r, "block writer: no tip: %s", lc_strerror(r));
        goto out;
    }
    r = -ENOMEM;
    data = calloc(n, sizeof *data);
    if (!data)
        goto nomem;
    for (size_t i = 0; i < n; i++) {
        data[i].data = msgs[i]->bytes;
        data[i].len = msgs[i]->len;
    }
    r = lc_wire_block_new(number, prev, sizeof prev, data, n, &block);
    if (r < 0)
        goto nomem;
    uint64_t last_config = is_config ? number : w->last_config;

    /* [1] LAST_CONFIG: Metadata{value = LastConfig{index}}. */
    Common__LastConfig lc = COMMON__LAST_CONFIG__INIT;
    lc.index = last_config;
    if (pack(&lc.base, &lc_bytes) < 0)
        goto nomem;
    Common__Metadata lcmd = COMMON__METADATA__INIT;
    lcmd.value = lc_bytes;
    if (pack(&lcmd.base, &lcmd_bytes) < 0)
        goto nomem;
    r = lc_wire_block_set_metadata(block, COMMON__BLOCK_METADATA_INDEX__LAST_CONFIG,
                                   lcmd_bytes.data, lcmd_bytes.len);
    if (r < 0)
        goto nomem;

    /* [0] SIGNATURES: value = OrdererBlockMetadata, signed with the header. */
    if (cmd_len) {
        Common__Metadata cm = COMMON__METADATA__INIT;
        cm.value.data = (uint8_t *)cmd;
        cm.value.len = cmd_len;
        if ((r = pack(&cm.base, &cmd_wrapped)) < 0)
            goto nomem;
    }
    Common__OrdererBlockMetadata obm = COMMON__ORDERER_BLOCK_METADATA__INIT;
    obm.last_config = &lc; /* always present, "0a00" for index 0 */
    obm.consenter_metadata = cmd_wrapped;
    if ((r = pack(&obm.base, &value)) < 0)
        goto nomem;
    uint8_t nonce[LC_NONCE_LEN];
    r = lc_nonce(nonce);
    if (r < 0) {
        lc_fail(err, r, "block writer: no nonce");
        goto out;
    }
    Common__SignatureHeader sh = COMMON__SIGNATURE_HEADER__INIT;
    sh.creator.data = (uint8_t *)lc_signer_serialized(w->signer, &sh.creator.len);
    sh.nonce.data = nonce;
    sh.nonce.len = sizeof nonce;
    if ((r = pack(&sh.base, &sighdr)) < 0)
        goto nomem;
    uint8_t der[2 * LC_WIRE_HASH_LEN + LC_WIRE_HEADER_DER_OVERHEAD];
    size_t der_len = 0;
    r = lc_wire_header_der(number, block->header->previous_hash.data,
                           block->header->previous_hash.len, block->header->data_hash.data,
                           block->header->data_hash.len, der, sizeof der, &der_len);
    if (r < 0) {
        lc_fail(err, r, "block writer: header DER: %s", lc_strerror(r));
        goto out;
    }
    const struct lc_iov iov[3] = {
        {value.data, value.len}, {sighdr.data, sighdr.len}, {der, der_len}};
    uint8_t sig[LC_ECDSA_SIG_MAX];
    size_t sig_len = 0;
    r = lc_signer_sign_iov(w->signer, iov, 3, sig, &sig_len);
    if (r < 0) {
        lc_fail(err, r, "block writer: signing block %llu failed", (unsigned long long)number);
        goto out;
    }
    Common__MetadataSignature ms = COMMON__METADATA_SIGNATURE__INIT;
    ms.signature_header = sighdr;
    ms.signature.data = sig;
    ms.signature.len = sig_len;
    Common__MetadataSignature *sigs[1] = {&ms};
    Common__Metadata m0 = COMMON__METADATA__INIT;
    m0.value = value;
    m0.n_signatures = 1;
    m0.signatures = sigs;
    if ((r = pack(&m0.base, &md0)) < 0)
        goto nomem;
    r = lc_wire_block_set_metadata(block, COMMON__BLOCK_METADATA_INDEX__SIGNATURES, md0.data,
                                   md0.len);
    if (r < 0)
        goto nomem;
    if (legacy_orderer_slot && cmd_len) {
        r = lc_wire_block_set_metadata(block, COMMON__BLOCK_METADATA_INDEX__ORDERER,
                                       cmd_wrapped.data, cmd_wrapped.len);
        if (r < 0)
            goto nomem;
    }

    if ((r = pack(&block->base, &packed)) < 0)
        goto nomem;
    r = lc_blockstore_append(w->bs, packed.data, packed.len, err);
    if (r < 0) {
        lc_errbuf_prefix(err, "block %llu: ", (unsigned long long)number);
        goto out;
    }
    w->last_config = last_config;
    lc_log_debug(LOG, "block written number=%llu txs=%zu bytes=%zu config=%d",
                 (unsigned long long)number, n, packed.len, is_config);
    if (ret_number)
        *ret_number = number;
    r = 0;
    goto out;
nomem:
    r = lc_fail(err, -ENOMEM, "block writer: out of memory");
out:
    free(data);
    lc_wire_block_free(block);
    free(lc_bytes.data);
    free(lcmd_bytes.data);
    free(cmd_wrapped.data);
    free(value.data);
    free(sighdr.data);
    free(md0.data);
    free(packed.data);
    return r;
}
