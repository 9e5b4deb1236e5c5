/* SPDX-License-Identifier: Apache-2.0 */
/* The block writer: numbering, hashes, LAST_CONFIG and the orderer's signature, then the store. */
#ifndef ORDERER_WRITER_H
#define ORDERER_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/common.pb-c.h"
#include "libcommon/blockstore.h"
#include "libcommon/err.h"
#include "libcommon/msp.h"

#include "cutter.h"

/*
 * Blocks are made as Fabric 2.x's block writer makes them (wire facts §5, §6):
 *   header   number = the store's height, previous_hash = header hash of the tip,
 *            data_hash = SHA-256(data[0] ‖ data[1] ‖ …);
 *   data[i]  each message's bytes (the canonical envelope, see orderer_msg_new);
 *   metadata five entries:
 *     [0] SIGNATURES  Metadata{value = OrdererBlockMetadata{last_config{index},
 *                     consenter_metadata = Metadata{value = consenter bytes} or omitted when
 *                     there are none}, signatures = [{signature_header = SignatureHeader{our
 *                     serialized identity, fresh 24-byte nonce}, signature = ECDSA over
 *                     value ‖ signature_header ‖ BlockHeaderBytes}]}
 *     [1] LAST_CONFIG Metadata{value = LastConfig{index}}, unsigned
 *     [2] empty (the committer fills TRANSACTIONS_FILTER)
 *     [3] ORDERER     empty, as Fabric 2.x leaves it; Metadata{value = consenter bytes} only
 *                     when the consenter asks for Fabric 1.x's layout (legacy_orderer_slot)
 *     [4] empty
 *   last_config is the number of the newest block holding a CONFIG envelope.
 * The block is durable (per the store's sync policy) when write returns.
 *
 * One thread writes (the chain's consenter); nothing here is locked.
 */
struct orderer_writer;

/* Makes a writer appending to bs (which must hold at least the genesis block) and signing with
 * signer; both are borrowed and must outlive the writer. Reads the tip block to continue its
 * last_config. Rejects an empty store (LC_EINVALID) and a tip block whose metadata does not
 * decode (LC_EDECODE / LC_ECORRUPT, naming the block). Caller frees. */
int orderer_writer_new(struct lc_blockstore *bs, const struct lc_signer *signer,
                       struct orderer_writer **ret, struct lc_errbuf *err);

/* Accepts NULL. */
void orderer_writer_free(struct orderer_writer *w);

/* Builds, signs and appends the next block from msgs[0..n) (n >= 1; borrowed), as a config
 * block (it becomes last_config) when is_config is set, with consenter metadata cmd[0..cmd_len)
 * (cmd_len 0: none). Returns 0 and the block's number in *ret_number (may be NULL); the
 * store's errors otherwise (the chain must then stop writing), LC_EINVALID for n == 0. */
int orderer_writer_write(struct orderer_writer *w, struct orderer_msg *const *msgs, size_t n,
                         bool is_config, const uint8_t *cmd, size_t cmd_len,
                         bool legacy_orderer_slot, uint64_t *ret_number, struct lc_errbuf *err);

/* The last_config index the next block will carry. */
uint64_t orderer_writer_last_config(const struct orderer_writer *w);

/* ---- reading what a writer wrote --------------------------------------------------------- */

/* The LAST_CONFIG index of a block, as Fabric reads it: from OrdererBlockMetadata in [0], else
 * from [1]. An entry that is missing or empty reads as 0 (a genesis block made by a 2.2 system
 * channel has empty metadata). LC_EDECODE names the entry that does not decode. */
int orderer_block_last_config(const Common__Block *block, uint64_t *ret_index,
                              struct lc_errbuf *err);

/* The consenter metadata of a block, as Fabric reads it on restart: Metadata.value from
 * OrdererBlockMetadata.consenter_metadata in [0], else Metadata.value from [3]. Gives a malloc'd
 * copy (caller frees; NULL with length 0 when there is none). LC_EDECODE as above. */
int orderer_block_consenter_metadata(const Common__Block *block, uint8_t **ret_md, size_t *ret_len,
                                     struct lc_errbuf *err);

#endif
