/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for libcommon/wire: TxID, data hash, DER header bytes and hash, pack/unpack, block helpers.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libcommon/crypto.h"
#include "libcommon/wire.h"
#include "common/policies.pb-c.h"

/* Every expected hash below was computed independently with Python's hashlib (and the DER bytes
 * written out by hand from X.690) while writing this test, not with weft's own code. */

static void hex(const uint8_t *p, size_t n, char *out)
{
    lc_hex_encode(p, n, out);
}

START_TEST(txid_is_hex_sha256_of_nonce_and_creator)
{
    uint8_t nonce[24];
    for (size_t i = 0; i < sizeof nonce; i++)
        nonce[i] = (uint8_t)i;
    /* hashlib.sha256(bytes(range(24)) + bytes.fromhex('0a074f7267314d535012') +
     *                b'-----BEGIN CERTIFICATE-----\n').hexdigest() */
    static const char creator[] = "\x0a\x07Org1MSP\x12-----BEGIN CERTIFICATE-----\n";
    char txid[LC_WIRE_TXID_LEN + 1];
    memset(txid, 'x', sizeof txid);
    ck_assert_int_eq(
        lc_wire_txid(nonce, sizeof nonce, (const uint8_t *)creator, sizeof creator - 1, txid), 0);
    ck_assert_str_eq(txid, "67c327cb3f849a423d835f0d50045b4a0cf734ed8931e705bb2d93a279590f45");
}
END_TEST

START_TEST(txid_with_empty_creator_hashes_nonce_only)
{
    /* the genesis config tx: empty creator; sha256(b'hello') */
    char txid[LC_WIRE_TXID_LEN + 1];
    ck_assert_int_eq(lc_wire_txid((const uint8_t *)"hello", 5, NULL, 0, txid), 0);
    ck_assert_str_eq(txid, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
    /* and the split between nonce and creator does not matter, only the concatenation */
    ck_assert_int_eq(lc_wire_txid((const uint8_t *)"he", 2, (const uint8_t *)"llo", 3, txid), 0);
    ck_assert_str_eq(txid, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
}
END_TEST

static ProtobufCBinaryData bin(const char *s)
{
    ProtobufCBinaryData b = {.len = strlen(s), .data = (uint8_t *)s};
    return b;
}

START_TEST(data_hash_is_flat_concatenation)
{
    uint8_t md[LC_WIRE_HASH_LEN];
    char h[2 * LC_WIRE_HASH_LEN + 1];
    ck_assert_int_eq(lc_wire_data_hash(NULL, 0, md), 0);
    hex(md, sizeof md, h);
    ck_assert_str_eq(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

    ProtobufCBinaryData one[] = {bin("hello")};
    ck_assert_int_eq(lc_wire_data_hash(one, 1, md), 0);
    hex(md, sizeof md, h);
    ck_assert_str_eq(h, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");

    /* sha256(b'first' + b'second' + b'third') */
    ProtobufCBinaryData three[] = {bin("first"), bin("second"), bin("third")};
    ck_assert_int_eq(lc_wire_data_hash(three, 3, md), 0);
    hex(md, sizeof md, h);
    ck_assert_str_eq(h, "e3d4c0477520a72cc8b8964a863330c8558c8e436b58386829bec0f9f2723241");
}
END_TEST

START_TEST(data_hash_of_many_entries)
{
    /* more entries than the stack array: 40 x "a" hashes like sha256(b'a' * 40) */
    ProtobufCBinaryData many[40];
    for (size_t i = 0; i < 40; i++)
        many[i] = bin("a");
    uint8_t md[LC_WIRE_HASH_LEN], want[LC_WIRE_HASH_LEN];
    ck_assert_int_eq(lc_wire_data_hash(many, 40, md), 0);
    char forty[41];
    memset(forty, 'a', 40);
    lc_sha256(forty, 40, want);
    ck_assert_mem_eq(md, want, sizeof md);
}
END_TEST

/* DER of SEQUENCE{INTEGER n, OCTET STRING "", OCTET STRING ""} is 30 L 02 len bytes 04 00 04 00;
 * the INTEGER part is checked against hand-written X.690 encodings. */
static void check_number(uint64_t n, const char *int_hex)
{
    uint8_t buf[64];
    size_t len = 0;
    ck_assert_int_eq(lc_wire_header_der(n, NULL, 0, NULL, 0, buf, sizeof buf, &len), 0);
    char h[129];
    hex(buf, len, h);
    char want[129];
    size_t int_len = strlen(int_hex) / 2;
    snprintf(want, sizeof want, "30%02zx%s04000400", int_len + 4, int_hex);
    ck_assert_str_eq(h, want);
}

START_TEST(der_integer_is_minimal_twos_complement)
{
    check_number(0, "020100");
    check_number(1, "020101");
    check_number(127, "02017f");
    check_number(128, "02020080");
    check_number(255, "020200ff");
    check_number(256, "02020100");
    check_number(UINT64_C(1) << 63, "0209008000000000000000");
    check_number(UINT64_MAX, "020900ffffffffffffffff");
}
END_TEST

START_TEST(header_hash_of_known_headers)
{
    /* block 0: number 0, no previous hash, data_hash sha256(b'x');
     * DER 3027 020100 0400 0420 2d71...4881, sha256 of it b2ae87e7... */
    uint8_t dh[LC_WIRE_HASH_LEN];
    lc_sha256("x", 1, dh);
    Common__BlockHeader h0 = COMMON__BLOCK_HEADER__INIT;
    h0.number = 0;
    h0.data_hash.data = dh;
    h0.data_hash.len = sizeof dh;
    uint8_t buf[128];
    size_t len;
    ck_assert_int_eq(lc_wire_header_der(0, NULL, 0, dh, sizeof dh, buf, sizeof buf, &len), 0);
    char h[257];
    hex(buf, len, h);
    ck_assert_str_eq(h, "3027020100040004202d711642b726b04401627ca9fbac32f5c8530fb1903cc4db0225871"
                        "7921a4881");
    uint8_t hh0[LC_WIRE_HASH_LEN];
    ck_assert_int_eq(lc_wire_header_hash(&h0, hh0), 0);
    hex(hh0, sizeof hh0, h);
    ck_assert_str_eq(h, "b2ae87e71eeabc5c3932a059e0ff379b8278f07d081b20ac5302ee02ed600609");

    /* block 1: previous hash = hash of block 0's header, data hash of no data */
    uint8_t empty[LC_WIRE_HASH_LEN];
    ck_assert_int_eq(lc_wire_data_hash(NULL, 0, empty), 0);
    Common__BlockHeader h1 = COMMON__BLOCK_HEADER__INIT;
    h1.number = 1;
    h1.previous_hash.data = hh0;
    h1.previous_hash.len = sizeof hh0;
    h1.data_hash.data = empty;
    h1.data_hash.len = sizeof empty;
    uint8_t hh1[LC_WIRE_HASH_LEN];
    ck_assert_int_eq(lc_wire_header_hash(&h1, hh1), 0);
    hex(hh1, sizeof hh1, h);
    ck_assert_str_eq(h, "bdaa3ae8963f309bfb0d508a8ee370ea8137d12d2e4cf49aec2648b3e0967426");

    ck_assert_int_eq(lc_wire_header_hash(NULL, hh1), LC_EINVALID);
}
END_TEST

START_TEST(header_der_long_form_lengths)
{
    /* number 300, a 200-byte previous hash of 0xaa, a 32-byte data hash of 0xbb: 244 bytes,
     * starting 3081f1 0202012c 0481c8 aaaa; hashlib gives 97725518... */
    uint8_t prev[200], dh[32];
    memset(prev, 0xaa, sizeof prev);
    memset(dh, 0xbb, sizeof dh);
    uint8_t buf[300];
    size_t len;
    ck_assert_int_eq(
        lc_wire_header_der(300, prev, sizeof prev, dh, sizeof dh, buf, sizeof buf, &len), 0);
    ck_assert_uint_eq(len, 244);
    char h[600];
    hex(buf, 12, h);
    ck_assert_str_eq(h, "3081f10202012c0481c8aaaa");
    Common__BlockHeader hd = COMMON__BLOCK_HEADER__INIT;
    hd.number = 300;
    hd.previous_hash.data = prev;
    hd.previous_hash.len = sizeof prev;
    hd.data_hash.data = dh;
    hd.data_hash.len = sizeof dh;
    uint8_t md[LC_WIRE_HASH_LEN];
    ck_assert_int_eq(lc_wire_header_hash(&hd, md), 0); /* takes the heap path (> 256 bytes) */
    hex(md, sizeof md, h);
    ck_assert_str_eq(h, "97725518b7c81ea0d730b0d06dff7e975023d7ec2f9ca4826471f25949b93fd5");
}
END_TEST

START_TEST(header_der_rejects_short_buffer)
{
    uint8_t dh[32] = {0};
    uint8_t buf[80];
    size_t len = 12345;
    ck_assert_int_eq(lc_wire_header_der(1, NULL, 0, dh, sizeof dh, buf, 20, &len), LC_ETOOBIG);
    ck_assert_uint_eq(len, 12345);
    /* the documented bound is always enough */
    ck_assert_int_eq(lc_wire_header_der(UINT64_MAX, NULL, 0, dh, sizeof dh, buf,
                                        sizeof dh + LC_WIRE_HEADER_DER_OVERHEAD, &len),
                     0);
}
END_TEST

START_TEST(pack_and_unpack_round_trip)
{
    Common__Envelope env = COMMON__ENVELOPE__INIT;
    env.payload = bin("payload");
    env.signature = bin("sig");
    uint8_t *buf = NULL;
    size_t len = 0;
    ck_assert_int_eq(lc_wire_pack(&env.base, 1024, &buf, &len, NULL), 0);
    ck_assert_uint_eq(len, 2 + 7 + 2 + 3);
    ck_assert_mem_eq(buf, "\x0a\x07payload\x12\x03sig", len);
    Common__Envelope *out = NULL;
    ck_assert_int_eq(
        lc_wire_unpack(&common__envelope__descriptor, buf, len, (ProtobufCMessage **)&out, NULL),
        0);
    ck_assert_uint_eq(out->payload.len, 7);
    ck_assert_mem_eq(out->payload.data, "payload", 7);
    common__envelope__free_unpacked(out, NULL);
    free(buf);

    /* an empty message packs to a non-NULL zero-length buffer and unpacks from nothing */
    Common__Envelope empty = COMMON__ENVELOPE__INIT;
    ck_assert_int_eq(lc_wire_pack(&empty.base, 0, &buf, &len, NULL), 0);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(len, 0);
    free(buf);
    ck_assert_int_eq(
        lc_wire_unpack(&common__envelope__descriptor, NULL, 0, (ProtobufCMessage **)&out, NULL), 0);
    common__envelope__free_unpacked(out, NULL);
}
END_TEST

START_TEST(pack_rejects_over_limit)
{
    Common__Envelope env = COMMON__ENVELOPE__INIT;
    env.payload = bin("payload");
    uint8_t *buf = (uint8_t *)"untouched";
    size_t len = 77;
    struct lc_errbuf err;
    ck_assert_int_eq(lc_wire_pack(&env.base, 8, &buf, &len, &err), LC_ETOOBIG);
    ck_assert_str_eq((char *)buf, "untouched");
    ck_assert_uint_eq(len, 77);
    ck_assert_ptr_nonnull(strstr(err.msg, "common.Envelope"));
    ck_assert_ptr_nonnull(strstr(err.msg, "limit 8"));
}
END_TEST

START_TEST(unpack_rejects_garbage_naming_the_type)
{
    struct lc_errbuf err;
    ProtobufCMessage *m = (ProtobufCMessage *)&err; /* must stay untouched */
    /* field 1 length-delimited, claims 5 bytes, has 1: truncated */
    ck_assert_int_eq(
        lc_wire_unpack(&common__envelope__descriptor, (const uint8_t *)"\x0a\x05x", 3, &m, &err),
        LC_EDECODE);
    ck_assert_str_eq(err.msg, "common.Envelope: truncated or malformed");
    ck_assert_ptr_eq(m, (ProtobufCMessage *)&err);
    /* a varint where BlockHeader.previous_hash (bytes) is expected: wrong wire type */
    ck_assert_int_eq(
        lc_wire_unpack(&common__block_header__descriptor, (const uint8_t *)"\x10\x01", 2, &m, &err),
        LC_EDECODE);
    ck_assert_str_eq(err.msg, "common.BlockHeader: truncated or malformed");
}
END_TEST

START_TEST(block_new_builds_a_checkable_block)
{
    ProtobufCBinaryData data[] = {bin("first"), bin("second"), bin("third")};
    Common__Block *b0 = NULL, *b1 = NULL;
    ck_assert_int_eq(lc_wire_block_new(0, NULL, 0, data, 3, &b0), 0);
    ck_assert_uint_eq(b0->header->number, 0);
    ck_assert_uint_eq(b0->header->previous_hash.len, 0);
    ck_assert_uint_eq(b0->data->n_data, 3);
    ck_assert_ptr_ne(b0->data->data[0].data, data[0].data); /* copied */
    ck_assert_uint_eq(b0->metadata->n_metadata, LC_WIRE_BLOCK_METADATA_N);
    for (size_t i = 0; i < LC_WIRE_BLOCK_METADATA_N; i++)
        ck_assert_uint_eq(b0->metadata->metadata[i].len, 0);
    char h[2 * LC_WIRE_HASH_LEN + 1];
    hex(b0->header->data_hash.data, b0->header->data_hash.len, h);
    ck_assert_str_eq(h, "e3d4c0477520a72cc8b8964a863330c8558c8e436b58386829bec0f9f2723241");
    ck_assert_int_eq(lc_wire_block_check_data_hash(b0, NULL), 0);

    uint8_t hh0[LC_WIRE_HASH_LEN];
    ck_assert_int_eq(lc_wire_header_hash(b0->header, hh0), 0);
    ck_assert_int_eq(lc_wire_block_new(1, hh0, sizeof hh0, NULL, 0, &b1), 0);
    ck_assert_int_eq(lc_wire_block_check_data_hash(b1, NULL), 0);
    ck_assert_int_eq(lc_wire_block_check_link(b0, b1, NULL), 0);

    /* metadata is replaceable, and the block survives a pack/unpack round trip */
    ck_assert_int_eq(lc_wire_block_set_metadata(b0, 0, (const uint8_t *)"\x0a\x02\x0a\x00", 4), 0);
    ck_assert_int_eq(lc_wire_block_set_metadata(b0, 5, (const uint8_t *)"x", 1), LC_EINVALID);
    uint8_t *buf;
    size_t len;
    ck_assert_int_eq(lc_wire_pack(&b0->base, 1 << 20, &buf, &len, NULL), 0);
    Common__Block *back = NULL;
    ck_assert_int_eq(
        lc_wire_unpack(&common__block__descriptor, buf, len, (ProtobufCMessage **)&back, NULL), 0);
    free(buf);
    ck_assert_uint_eq(back->metadata->metadata[0].len, 4);
    ck_assert_int_eq(lc_wire_block_check_data_hash(back, NULL), 0);
    ck_assert_int_eq(lc_wire_block_check_link(back, b1, NULL), 0);
    lc_wire_block_free(back);
    lc_wire_block_free(b0);
    lc_wire_block_free(b1);
    lc_wire_block_free(NULL);
}
END_TEST

START_TEST(block_new_rejects_bad_previous_hash_length)
{
    Common__Block *b = (Common__Block *)1;
    uint8_t prev[20] = {0};
    ck_assert_int_eq(lc_wire_block_new(1, prev, sizeof prev, NULL, 0, &b), LC_EINVALID);
    ck_assert_ptr_eq(b, (Common__Block *)1);
}
END_TEST

START_TEST(check_data_hash_rejects_tampering)
{
    ProtobufCBinaryData data[] = {bin("first")};
    Common__Block *b = NULL;
    ck_assert_int_eq(lc_wire_block_new(7, NULL, 0, data, 1, &b), 0);
    struct lc_errbuf err;
    b->data->data[0].data[0] ^= 1;
    ck_assert_int_eq(lc_wire_block_check_data_hash(b, &err), LC_EMISMATCH);
    ck_assert_ptr_nonnull(strstr(err.msg, "block 7: data_hash"));
    b->data->data[0].data[0] ^= 1;
    b->header->data_hash.len = 31; /* a short hash never matches */
    ck_assert_int_eq(lc_wire_block_check_data_hash(b, &err), LC_EMISMATCH);
    b->header->data_hash.len = 32;

    Common__BlockData *d = b->data;
    b->data = NULL;
    ck_assert_int_eq(lc_wire_block_check_data_hash(b, &err), LC_EINVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "no data"));
    b->data = d;
    Common__BlockHeader *h = b->header;
    b->header = NULL;
    ck_assert_int_eq(lc_wire_block_check_data_hash(b, &err), LC_EINVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "no header"));
    b->header = h;
    lc_wire_block_free(b);
}
END_TEST

START_TEST(check_link_rejects_wrong_number_and_hash)
{
    Common__Block *b0 = NULL, *b1 = NULL, *b2 = NULL;
    ck_assert_int_eq(lc_wire_block_new(0, NULL, 0, NULL, 0, &b0), 0);
    uint8_t hh[LC_WIRE_HASH_LEN];
    ck_assert_int_eq(lc_wire_header_hash(b0->header, hh), 0);
    ck_assert_int_eq(lc_wire_block_new(2, hh, sizeof hh, NULL, 0, &b2), 0);
    struct lc_errbuf err;
    ck_assert_int_eq(lc_wire_block_check_link(b0, b2, &err), LC_EMISMATCH);
    ck_assert_str_eq(err.msg, "block 2 does not follow block 0");

    hh[0] ^= 1;
    ck_assert_int_eq(lc_wire_block_new(1, hh, sizeof hh, NULL, 0, &b1), 0);
    ck_assert_int_eq(lc_wire_block_check_link(b0, b1, &err), LC_EMISMATCH);
    ck_assert_ptr_nonnull(strstr(err.msg, "previous_hash"));

    /* block 1 without a previous hash */
    lc_wire_block_free(b1);
    ck_assert_int_eq(lc_wire_block_new(1, NULL, 0, NULL, 0, &b1), 0);
    ck_assert_int_eq(lc_wire_block_check_link(b0, b1, &err), LC_EMISMATCH);

    Common__BlockHeader *h = b0->header;
    b0->header = NULL;
    ck_assert_int_eq(lc_wire_block_check_link(b0, b1, &err), LC_EINVALID);
    b0->header = h;
    /* no successor of the largest number */
    b0->header->number = UINT64_MAX;
    ck_assert_int_eq(lc_wire_block_check_link(b0, b1, &err), LC_EMISMATCH);
    lc_wire_block_free(b0);
    lc_wire_block_free(b1);
    lc_wire_block_free(b2);
}
END_TEST

START_TEST(scan_rejects_field_number_zero)
{
    /* Envelope{payload=1 "a"} followed by field 0 as a two-byte tag: protobuf-c alone accepts it */
    const uint8_t buf[] = {0x0a, 0x01, 'a', 0x80, 0x00, 0x01};
    struct lc_errbuf err;
    ck_assert_int_eq(lc_wire_scan(&common__envelope__descriptor, buf, sizeof buf, &err),
                     LC_EDECODE);
    ck_assert_ptr_nonnull(strstr(err.msg, "field number 0"));
    ProtobufCMessage *m = NULL;
    ck_assert_int_eq(lc_wire_unpack(&common__envelope__descriptor, buf, sizeof buf, &m, &err),
                     LC_EDECODE);
    ck_assert_ptr_null(m);
}
END_TEST

START_TEST(scan_rejects_groups)
{
    const uint8_t buf[] = {0x0b, 0x0c}; /* field 1 start-group, end-group */
    struct lc_errbuf err;
    ck_assert_int_eq(lc_wire_scan(&common__envelope__descriptor, buf, sizeof buf, &err),
                     LC_EDECODE);
    ck_assert_ptr_nonnull(strstr(err.msg, "groups"));
}
END_TEST

/* SignaturePolicy nested n levels: n_out_of=2 { rules=2 { n_out_of=2 { ... } } }. */
static uint8_t *nested_policy(size_t levels, size_t *ret_len)
{
    size_t cap = levels * 12 + 16, len = 0;
    uint8_t *inner = calloc(1, cap), *outer = calloc(1, cap);
    inner[len++] = 0x08; /* signed_by = 0 */
    inner[len++] = 0x00;
    for (size_t i = 0; i < levels; i++) {
        /* NOutOf{rules=2 <inner>} then SignaturePolicy{n_out_of=2 <that>} */
        size_t o = 0;
        uint8_t tmp[12];
        size_t t = 0;
        tmp[t++] = 0x12;
        size_t l = len;
        do {
            tmp[t++] = (uint8_t)((l & 0x7f) | (l > 0x7f ? 0x80 : 0));
            l >>= 7;
        } while (l);
        size_t nlen = t + len;
        outer[o++] = 0x12;
        l = nlen;
        do {
            outer[o++] = (uint8_t)((l & 0x7f) | (l > 0x7f ? 0x80 : 0));
            l >>= 7;
        } while (l);
        memcpy(outer + o, tmp, t);
        memcpy(outer + o + t, inner, len);
        len = o + t + len;
        uint8_t *sw = inner;
        inner = outer;
        outer = sw;
    }
    free(outer);
    *ret_len = len;
    return inner;
}

START_TEST(scan_limits_nesting_depth)
{
    size_t len;
    uint8_t *ok = nested_policy(20, &len);
    ck_assert_int_eq(lc_wire_scan(&common__signature_policy__descriptor, ok, len, NULL), 0);
    ProtobufCMessage *m = NULL;
    ck_assert_int_eq(lc_wire_unpack(&common__signature_policy__descriptor, ok, len, &m, NULL), 0);
    protobuf_c_message_free_unpacked(m, NULL);
    free(ok);
    uint8_t *deep = nested_policy(LC_WIRE_MAX_DEPTH, &len);
    struct lc_errbuf err;
    ck_assert_int_eq(lc_wire_scan(&common__signature_policy__descriptor, deep, len, &err),
                     LC_EDECODE);
    ck_assert_ptr_nonnull(strstr(err.msg, "nested deeper"));
    free(deep);
}
END_TEST

START_TEST(scan_rejects_truncation)
{
    const uint8_t buf[] = {0x0a, 0x05, 'a'};
    ck_assert_int_eq(lc_wire_scan(&common__envelope__descriptor, buf, sizeof buf, NULL),
                     LC_EDECODE);
    const uint8_t buf2[] = {0x0a};
    ck_assert_int_eq(lc_wire_scan(&common__envelope__descriptor, buf2, sizeof buf2, NULL),
                     LC_EDECODE);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("wire");
    TCase *tc = tcase_create("wire");
    tcase_add_test(tc, txid_is_hex_sha256_of_nonce_and_creator);
    tcase_add_test(tc, txid_with_empty_creator_hashes_nonce_only);
    tcase_add_test(tc, data_hash_is_flat_concatenation);
    tcase_add_test(tc, data_hash_of_many_entries);
    tcase_add_test(tc, der_integer_is_minimal_twos_complement);
    tcase_add_test(tc, header_hash_of_known_headers);
    tcase_add_test(tc, header_der_long_form_lengths);
    tcase_add_test(tc, header_der_rejects_short_buffer);
    tcase_add_test(tc, pack_and_unpack_round_trip);
    tcase_add_test(tc, pack_rejects_over_limit);
    tcase_add_test(tc, unpack_rejects_garbage_naming_the_type);
    tcase_add_test(tc, block_new_builds_a_checkable_block);
    tcase_add_test(tc, block_new_rejects_bad_previous_hash_length);
    tcase_add_test(tc, check_data_hash_rejects_tampering);
    tcase_add_test(tc, check_link_rejects_wrong_number_and_hash);
    tcase_add_test(tc, scan_rejects_field_number_zero);
    tcase_add_test(tc, scan_rejects_groups);
    tcase_add_test(tc, scan_limits_nesting_depth);
    tcase_add_test(tc, scan_rejects_truncation);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
