/* SPDX-License-Identifier: Apache-2.0 */
/* Fabric wire computations: TxID, block data and header hashes, and protobuf pack/unpack. */
#include "libcommon/wire.h"

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "libcommon/crypto.h"

_Static_assert(LC_WIRE_HASH_LEN == LC_SHA256_LEN, "one hash length");

int lc_wire_txid(const uint8_t *nonce, size_t nonce_len, const uint8_t *creator, size_t creator_len,
                 char ret_txid[LC_WIRE_TXID_LEN + 1])
{
    const struct lc_iov iov[2] = {
        {.base = nonce, .len = nonce_len},
        {.base = creator, .len = creator_len},
    };
    uint8_t md[LC_WIRE_HASH_LEN];
    lc_sha256_iov(iov, 2, md);
    lc_hex_encode(md, sizeof md, ret_txid);
    return 0;
}

int lc_wire_data_hash(const ProtobufCBinaryData *data, size_t n, uint8_t ret_hash[LC_WIRE_HASH_LEN])
{
    struct lc_iov stackv[16] = {{NULL, 0}};
    struct lc_iov *iov = stackv;
    if (n > sizeof stackv / sizeof stackv[0]) {
        iov = calloc(n, sizeof *iov);
        if (!iov)
            return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        iov[i].base = data[i].data;
        iov[i].len = data[i].len;
    }
    lc_sha256_iov(iov, n, ret_hash);
    if (iov != stackv)
        free(iov);
    return 0;
}

/* Writes a DER length (short form below 128, else 0x80|count then big-endian bytes). */
static size_t der_len(uint8_t *p, size_t len)
{
    if (len < 0x80) {
        p[0] = (uint8_t)len;
        return 1;
    }
    size_t nb = 0;
    for (size_t v = len; v; v >>= 8)
        nb++;
    p[0] = (uint8_t)(0x80 | nb);
    for (size_t i = 0; i < nb; i++)
        p[1 + i] = (uint8_t)(len >> (8 * (nb - 1 - i)));
    return 1 + nb;
}

/* Content octets of a non-negative INTEGER in minimal two's complement: no redundant leading
 * 0x00, but a 0x00 in front when the top bit would otherwise read as a sign. Returns the count. */
static size_t der_uint_body(uint8_t out[9], uint64_t v)
{
    uint8_t be[8];
    for (int i = 0; i < 8; i++)
        be[i] = (uint8_t)(v >> (8 * (7 - i)));
    size_t skip = 0;
    while (skip < 7 && be[skip] == 0)
        skip++;
    size_t n = 0;
    if (be[skip] & 0x80)
        out[n++] = 0;
    memcpy(out + n, be + skip, 8 - skip);
    return n + 8 - skip;
}

int lc_wire_header_der(uint64_t number, const uint8_t *prev_hash, size_t prev_len,
                       const uint8_t *data_hash, size_t hash_len, uint8_t *buf, size_t cap,
                       size_t *ret_len)
{
    uint8_t num[9];
    size_t num_len = der_uint_body(num, number);
    uint8_t lbuf[3][10];
    size_t l_num = der_len(lbuf[0], num_len);
    size_t l_prev = der_len(lbuf[1], prev_len);
    size_t l_hash = der_len(lbuf[2], hash_len);
    size_t body = 1 + l_num + num_len + 1 + l_prev + prev_len + 1 + l_hash + hash_len;
    if (body < prev_len || body < hash_len) /* overflow: absurd lengths */
        return LC_ETOOBIG;
    uint8_t seq_len[10];
    size_t l_seq = der_len(seq_len, body);
    size_t total = 1 + l_seq + body;
    if (total > cap)
        return LC_ETOOBIG;
    uint8_t *p = buf;
    *p++ = 0x30; /* SEQUENCE, constructed */
    memcpy(p, seq_len, l_seq);
    p += l_seq;
    *p++ = 0x02; /* INTEGER */
    memcpy(p, lbuf[0], l_num);
    p += l_num;
    memcpy(p, num, num_len);
    p += num_len;
    *p++ = 0x04; /* OCTET STRING */
    memcpy(p, lbuf[1], l_prev);
    p += l_prev;
    if (prev_len)
        memcpy(p, prev_hash, prev_len);
    p += prev_len;
    *p++ = 0x04;
    memcpy(p, lbuf[2], l_hash);
    p += l_hash;
    if (hash_len)
        memcpy(p, data_hash, hash_len);
    p += hash_len;
    *ret_len = (size_t)(p - buf);
    return 0;
}

int lc_wire_header_hash(const Common__BlockHeader *header, uint8_t ret_hash[LC_WIRE_HASH_LEN])
{
    if (!header)
        return LC_EINVALID;
    size_t cap = header->previous_hash.len + header->data_hash.len + LC_WIRE_HEADER_DER_OVERHEAD;
    uint8_t stackbuf[256];
    uint8_t *buf = stackbuf;
    if (cap > sizeof stackbuf) {
        buf = malloc(cap);
        if (!buf)
            return -ENOMEM;
    }
    size_t len;
    int r =
        lc_wire_header_der(header->number, header->previous_hash.data, header->previous_hash.len,
                           header->data_hash.data, header->data_hash.len, buf, cap, &len);
    if (r == 0)
        lc_sha256(buf, len, ret_hash);
    if (buf != stackbuf)
        free(buf);
    return r;
}

int lc_wire_pack(const ProtobufCMessage *msg, size_t max_len, uint8_t **ret_buf, size_t *ret_len,
                 struct lc_errbuf *err)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    if (len > max_len)
        return lc_fail(err, LC_ETOOBIG, "%s: packed size %zu is over the limit %zu",
                       msg->descriptor->name, len, max_len);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return lc_fail(err, -ENOMEM, "%s: out of memory", msg->descriptor->name);
    size_t got = protobuf_c_message_pack(msg, buf);
    if (got != len) { /* cannot happen with generated code; never hand out a short buffer */
        free(buf);
        return lc_fail(err, LC_EINVALID, "%s: packed %zu bytes, expected %zu",
                       msg->descriptor->name, got, len);
    }
    *ret_buf = buf;
    *ret_len = len;
    return 0;
}

void lc_wire_tune_malloc(void)
{
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
}

/* Reads a varint at *pos; 0 or LC_EDECODE. */
static int read_varint(const uint8_t *buf, size_t len, size_t *pos, uint64_t *ret)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (*pos >= len)
            return LC_EDECODE;
        uint8_t b = buf[(*pos)++];
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *ret = v;
            return 0;
        }
    }
    return LC_EDECODE;
}

static const ProtobufCFieldDescriptor *field_of(const ProtobufCMessageDescriptor *d, uint64_t num)
{
    for (unsigned i = 0; i < d->n_fields; i++)
        if (d->fields[i].id == num)
            return &d->fields[i];
    return NULL;
}

int lc_wire_scan(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len,
                 struct lc_errbuf *err)
{
    struct {
        const ProtobufCMessageDescriptor *desc;
        size_t end;
    } stack[LC_WIRE_MAX_DEPTH];
    size_t depth = 0, pos = 0;
    stack[0].desc = desc;
    stack[0].end = len;
    for (;;) {
        while (pos == stack[depth].end) {
            if (depth == 0)
                return 0;
            depth--;
        }
        uint64_t tag, v;
        if (read_varint(buf, stack[depth].end, &pos, &tag) < 0)
            return lc_fail(err, LC_EDECODE, "%s: truncated or malformed", desc->name);
        uint64_t num = tag >> 3;
        unsigned wt = (unsigned)(tag & 7);
        if (num == 0 || num > 536870911)
            return lc_fail(err, LC_EDECODE, "%s: truncated or malformed (field number %llu)",
                           desc->name, (unsigned long long)num);
        size_t end = stack[depth].end;
        switch (wt) {
        case 0:
            if (read_varint(buf, end, &pos, &v) < 0)
                return lc_fail(err, LC_EDECODE, "%s: truncated or malformed", desc->name);
            break;
        case 1:
        case 5: {
            size_t w = wt == 1 ? 8 : 4;
            if (end - pos < w)
                return lc_fail(err, LC_EDECODE, "%s: truncated or malformed", desc->name);
            pos += w;
            break;
        }
        case 2: {
            if (read_varint(buf, end, &pos, &v) < 0 || v > end - pos)
                return lc_fail(err, LC_EDECODE, "%s: truncated or malformed", desc->name);
            const ProtobufCFieldDescriptor *f = field_of(stack[depth].desc, num);
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE) {
                if (depth + 1 >= LC_WIRE_MAX_DEPTH)
                    return lc_fail(err, LC_EDECODE,
                                   "%s: truncated or malformed (nested deeper than %d messages)",
                                   desc->name, LC_WIRE_MAX_DEPTH);
                depth++;
                stack[depth].desc = f->descriptor;
                stack[depth].end = pos + (size_t)v;
            } else {
                pos += (size_t)v;
            }
            break;
        }
        default:
            return lc_fail(err, LC_EDECODE, "%s: truncated or malformed (wire type %u%s)",
                           desc->name, wt, wt == 3 || wt == 4 ? ": groups" : "");
        }
    }
}

int lc_wire_unpack(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len,
                   ProtobufCMessage **ret_msg, struct lc_errbuf *err)
{
    static const uint8_t empty[1];
    int r = lc_wire_scan(desc, buf ? buf : empty, len, err);
    if (r < 0)
        return r;
    ProtobufCMessage *m = protobuf_c_message_unpack(desc, NULL, len, buf ? buf : empty);
    if (!m)
        return lc_fail(err, LC_EDECODE, "%s: truncated or malformed", desc->name);
    *ret_msg = m;
    return 0;
}

/* malloc'd copy of len bytes (a 1-byte allocation for 0 so the result is never NULL). */
static int bin_copy(ProtobufCBinaryData *dst, const uint8_t *src, size_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    if (!p)
        return -ENOMEM;
    if (len)
        memcpy(p, src, len);
    dst->data = p;
    dst->len = len;
    return 0;
}

int lc_wire_block_new(uint64_t number, const uint8_t *prev_hash, size_t prev_len,
                      const ProtobufCBinaryData *data, size_t n, Common__Block **ret_block)
{
    if (prev_len != 0 && prev_len != LC_WIRE_HASH_LEN)
        return LC_EINVALID;
    int r = -ENOMEM;
    Common__Block *b = malloc(sizeof *b);
    if (!b)
        return -ENOMEM;
    common__block__init(b);
    b->header = malloc(sizeof *b->header);
    b->data = malloc(sizeof *b->data);
    b->metadata = malloc(sizeof *b->metadata);
    if (!b->header || !b->data || !b->metadata) {
        free(b->header);
        free(b->data);
        free(b->metadata);
        free(b);
        return -ENOMEM;
    }
    common__block_header__init(b->header);
    common__block_data__init(b->data);
    common__block_metadata__init(b->metadata);
    b->header->number = number;
    if (prev_len && bin_copy(&b->header->previous_hash, prev_hash, prev_len) < 0)
        goto fail;
    b->header->data_hash.data = malloc(LC_WIRE_HASH_LEN);
    if (!b->header->data_hash.data)
        goto fail;
    b->header->data_hash.len = LC_WIRE_HASH_LEN;
    if (n) {
        b->data->data = calloc(n, sizeof *b->data->data);
        if (!b->data->data)
            goto fail;
        for (size_t i = 0; i < n; i++) {
            if (bin_copy(&b->data->data[i], data[i].data, data[i].len) < 0)
                goto fail;
            b->data->n_data = i + 1;
        }
    }
    b->metadata->metadata = calloc(LC_WIRE_BLOCK_METADATA_N, sizeof *b->metadata->metadata);
    if (!b->metadata->metadata)
        goto fail;
    b->metadata->n_metadata = LC_WIRE_BLOCK_METADATA_N;
    r = lc_wire_data_hash(b->data->data, b->data->n_data, b->header->data_hash.data);
    if (r < 0)
        goto fail;
    *ret_block = b;
    return 0;
fail:
    lc_wire_block_free(b);
    return r;
}

void lc_wire_block_free(Common__Block *block)
{
    if (block)
        common__block__free_unpacked(block, NULL);
}

int lc_wire_block_set_metadata(Common__Block *block, size_t idx, const uint8_t *value, size_t len)
{
    if (!block || !block->metadata || idx >= block->metadata->n_metadata)
        return LC_EINVALID;
    ProtobufCBinaryData nb;
    if (bin_copy(&nb, value, len) < 0)
        return -ENOMEM;
    free(block->metadata->metadata[idx].data);
    block->metadata->metadata[idx] = nb;
    return 0;
}

/* Lowercase hex of up to 32 bytes for messages. */
static void hex32(const uint8_t *p, size_t len, char out[2 * LC_WIRE_HASH_LEN + 1])
{
    if (len > LC_WIRE_HASH_LEN)
        len = LC_WIRE_HASH_LEN;
    lc_hex_encode(p, len, out);
}

int lc_wire_block_check_data_hash(const Common__Block *block, struct lc_errbuf *err)
{
    if (!block || !block->header)
        return lc_fail(err, LC_EINVALID, "block: no header");
    if (!block->data)
        return lc_fail(err, LC_EINVALID, "block %llu: no data",
                       (unsigned long long)block->header->number);
    uint8_t md[LC_WIRE_HASH_LEN];
    int r = lc_wire_data_hash(block->data->data, block->data->n_data, md);
    if (r < 0)
        return lc_fail(err, r, "block %llu: data hash: %s",
                       (unsigned long long)block->header->number, lc_strerror(r));
    const ProtobufCBinaryData *have = &block->header->data_hash;
    if (have->len != sizeof md || memcmp(have->data, md, sizeof md) != 0) {
        char want[2 * LC_WIRE_HASH_LEN + 1], got[2 * LC_WIRE_HASH_LEN + 1];
        hex32(md, sizeof md, want);
        hex32(have->data, have->len, got);
        return lc_fail(err, LC_EMISMATCH, "block %llu: data_hash %s%s does not match data (%s)",
                       (unsigned long long)block->header->number, got,
                       have->len > LC_WIRE_HASH_LEN ? "..." : "", want);
    }
    return 0;
}

int lc_wire_block_check_link(const Common__Block *prev, const Common__Block *next,
                             struct lc_errbuf *err)
{
    if (!prev || !prev->header || !next || !next->header)
        return lc_fail(err, LC_EINVALID, "block link: block without a header");
    uint64_t pn = prev->header->number;
    if (pn == UINT64_MAX || next->header->number != pn + 1)
        return lc_fail(err, LC_EMISMATCH, "block %llu does not follow block %llu",
                       (unsigned long long)next->header->number, (unsigned long long)pn);
    uint8_t md[LC_WIRE_HASH_LEN];
    int r = lc_wire_header_hash(prev->header, md);
    if (r < 0)
        return lc_fail(err, r, "block %llu: header hash: %s", (unsigned long long)pn,
                       lc_strerror(r));
    const ProtobufCBinaryData *have = &next->header->previous_hash;
    if (have->len != sizeof md || memcmp(have->data, md, sizeof md) != 0) {
        char want[2 * LC_WIRE_HASH_LEN + 1], got[2 * LC_WIRE_HASH_LEN + 1];
        hex32(md, sizeof md, want);
        hex32(have->data, have->len, got);
        return lc_fail(err, LC_EMISMATCH,
                       "block %llu: previous_hash %s%s is not the hash of block %llu's header (%s)",
                       (unsigned long long)next->header->number, got,
                       have->len > LC_WIRE_HASH_LEN ? "..." : "", (unsigned long long)pn, want);
    }
    return 0;
}
