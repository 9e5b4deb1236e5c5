/* SPDX-License-Identifier: Apache-2.0 */
/* Fabric wire computations: TxID, block data and header hashes, and protobuf pack/unpack. */
#ifndef LC_WIRE_H
#define LC_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "common/common.pb-c.h"
#include "libcommon/err.h"

#define LC_WIRE_HASH_LEN 32
/* A TxID is 64 lowercase hex characters; buffers for it hold the terminating NUL too. */
#define LC_WIRE_TXID_LEN 64
/* Fabric's NewBlock makes this many metadata entries (SIGNATURES .. COMMIT_HASH). */
#define LC_WIRE_BLOCK_METADATA_N 5
/* Longest DER header: SEQUENCE hdr (1+9) + INTEGER (1+1+9) + two OCTET STRING headers (1+9 each).
 */
#define LC_WIRE_HEADER_DER_OVERHEAD 40

/* TxID = lowercase hex(SHA-256(nonce || creator)), both raw as sent (wire facts section 1).
 * Accepts empty nonce or creator (the genesis config tx has an empty creator); validators that
 * require them non-empty check that themselves. Writes 64 characters and a NUL into ret_txid. */
int lc_wire_txid(const uint8_t *nonce, size_t nonce_len, const uint8_t *creator, size_t creator_len,
                 char ret_txid[LC_WIRE_TXID_LEN + 1]);

/* Block data hash = SHA-256(data[0] || data[1] || ...), a flat concatenation; n may be 0. */
int lc_wire_data_hash(const ProtobufCBinaryData *data, size_t n,
                      uint8_t ret_hash[LC_WIRE_HASH_LEN]);

/* Fabric's BlockHeaderBytes: DER SEQUENCE{INTEGER number (minimal two's complement),
 * OCTET STRING previous_hash, OCTET STRING data_hash}. Writes into buf (cap bytes) and sets
 * *ret_len; LC_ETOOBIG if cap is short (prev_len + hash_len + LC_WIRE_HEADER_DER_OVERHEAD is
 * always enough). */
int lc_wire_header_der(uint64_t number, const uint8_t *prev_hash, size_t prev_len,
                       const uint8_t *data_hash, size_t hash_len, uint8_t *buf, size_t cap,
                       size_t *ret_len);

/* SHA-256 of the header's DER bytes: the hash the next block carries as previous_hash.
 * Rejects a NULL header with LC_EINVALID. */
int lc_wire_header_hash(const Common__BlockHeader *header, uint8_t ret_hash[LC_WIRE_HASH_LEN]);

/* Packs msg into a malloc'd buffer (caller frees). Rejects a message whose packed size is over
 * max_len with LC_ETOOBIG, naming the message type in err. An empty message gives a non-NULL
 * buffer of length 0. */
int lc_wire_pack(const ProtobufCMessage *msg, size_t max_len, uint8_t **ret_buf, size_t *ret_len,
                 struct lc_errbuf *err);

/* Daemons call this once at start. Decoding a block mallocs and frees hundreds of KB; glibc's
 * default then trims the heap and the next block pays first-touch page faults again, which
 * bench_foundation measured at ~10x the decode cost (177 us vs 18 us per 100-tx block). Raising
 * the trim and mmap thresholds keeps that memory in the heap. */
void lc_wire_tune_malloc(void);

/* Deepest message nesting any weft decoder accepts. The deepest legitimate input is a signature
 * policy at the policy module's depth limit (about 66 message levels); protobuf-c recurses once
 * per level with no limit of its own (≈1 KiB of stack per level), so decoding needs threads with
 * at least 256 KiB of stack. */
#define LC_WIRE_MAX_DEPTH 100

/* Checks buf's wire structure against desc before protobuf-c sees it, iteratively: rejects
 * (LC_EDECODE, naming the type) nesting deeper than LC_WIRE_MAX_DEPTH, field number 0 (which
 * protobuf-c 1.4 accepts and then re-packs into bytes nobody can decode, while Go rejects it),
 * group wire types, and truncation. lc_wire_unpack calls it; other decoders of untrusted bytes
 * must too. */
int lc_wire_scan(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len,
                 struct lc_errbuf *err);

/* Unpacks buf with desc, after lc_wire_scan. A malformed or truncated input gives LC_EDECODE with
 * the message
 * "<full type name>: truncated or malformed" (e.g. "common.Envelope: ..."), so every decode
 * error reads the same. Caller frees the result with protobuf_c_message_free_unpacked(m, NULL)
 * (or the type's __free_unpacked). len 0 decodes to an all-default message. */
int lc_wire_unpack(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len,
                   ProtobufCMessage **ret_msg, struct lc_errbuf *err);

/* Typed convenience over lc_wire_unpack for the common case of a bytes field. */
#define LC_WIRE_UNPACK(desc, bin, ret, err)                                                        \
    lc_wire_unpack((desc), (bin).data, (bin).len, (ProtobufCMessage **)(ret), (err))

/* Builds block `number` with previous_hash (prev_len 0 or LC_WIRE_HASH_LEN bytes; empty for
 * block 0), copies of the n data entries, LC_WIRE_BLOCK_METADATA_N empty metadata entries, and
 * data_hash computed. Every part is malloc'd, so the caller frees it with lc_wire_block_free
 * (= common__block__free_unpacked). */
int lc_wire_block_new(uint64_t number, const uint8_t *prev_hash, size_t prev_len,
                      const ProtobufCBinaryData *data, size_t n, Common__Block **ret_block);

/* Frees a block from lc_wire_block_new or from unpacking; NULL is fine. */
void lc_wire_block_free(Common__Block *block);

/* Replaces metadata entry idx (< block's n_metadata) with a copy of value. For blocks from
 * lc_wire_block_new or unpacking (malloc'd parts). */
int lc_wire_block_set_metadata(Common__Block *block, size_t idx, const uint8_t *value, size_t len);

/* Checks that the block has a header and data and that header.data_hash equals the data hash
 * recomputed from block.data. LC_EINVALID if parts are missing, LC_EMISMATCH on a wrong hash. */
int lc_wire_block_check_data_hash(const Common__Block *block, struct lc_errbuf *err);

/* Checks that next follows prev: next.number == prev.number + 1 and next.previous_hash ==
 * lc_wire_header_hash(prev.header). LC_EINVALID if a header is missing, LC_EMISMATCH otherwise. */
int lc_wire_block_check_link(const Common__Block *prev, const Common__Block *next,
                             struct lc_errbuf *err);

#endif
