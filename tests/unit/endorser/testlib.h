/* SPDX-License-Identifier: Apache-2.0 */
/* Endorser test helpers: identities, SignedProposals with every knob, state seeding, and
 * decoding of ProposalResponses down to the KVRWSet. Shared by unit and integration tests. */
#ifndef WEFT_TEST_ENDORSER_TESTLIB_H
#define WEFT_TEST_ENDORSER_TESTLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ledger/rwset/kvrwset/kv_rwset.pb-c.h"
#include "ledger/rwset/rwset.pb-c.h"
#include "peer/chaincode_event.pb-c.h"
#include "peer/proposal.pb-c.h"
#include "peer/proposal_response.pb-c.h"

#include "libcommon/msp.h"

/* A signer from an MSP directory (asserts). */
struct lc_signer *tl_signer(const char *msp_dir, const char *mspid);
/* A signer whose certificate the CA of peer org `org` issues now, with subject OU ou (NULL for
 * none) and the validity window [not_before, not_after]; crypto is the harness's crypto dir. */
struct lc_signer *tl_signer_issued(const char *crypto, int org, const char *ou, time_t not_before,
                                   time_t not_after);
/* A self-signed signer claiming mspid (no channel trusts it). */
struct lc_signer *tl_signer_self(const char *mspid);

/* How to build a SignedProposal; zero values give a well-formed proposal. */
struct tl_prop {
    const char *channel;   /* "mychannel" */
    const char *chaincode; /* header extension name; required unless drop_ext_ccid */
    const char *const *args;
    size_t nargs;
    const struct lc_signer *creator;   /* required: creator bytes and signer */
    const struct lc_signer *sign_with; /* sign with this one instead (a bad signature) */
    const uint8_t *creator_bytes;      /* send these as creator instead */
    size_t creator_len;
    int32_t type;   /* 0: ENDORSER_TRANSACTION (3) */
    bool type_zero; /* really send type 0 */
    uint64_t epoch;
    const char *txid; /* NULL: computed */
    bool empty_nonce;
    bool empty_signature;
    const uint8_t *nonce; /* NULL: 24 random bytes */
    size_t nonce_len;
    int64_t ts_seconds; /* 0: now */
    const char *transient_key, *transient_value;
    bool drop_spec, drop_input, drop_ext_ccid;
    bool garbage_payload; /* Proposal.payload that does not decode */
};

/* Builds and packs the SignedProposal; *ret_len its length, ret_txid (65 bytes) the TxID in
 * the header. Caller frees. */
uint8_t *tl_proposal(const struct tl_prop *o, size_t *ret_len, char *ret_txid);
/* Decodes packed SignedProposal bytes (asserts); free with protos__signed_proposal__free_unpacked.
 */
Protos__SignedProposal *tl_unpack_sp(const uint8_t *buf, size_t len);

/* Brings <state_dir>/<channel of genesis> to its genesis, then commits one more block with one
 * transaction: TxID txid (may be NULL) writing the pairs kv[0]=kv[1], kv[2]=kv[3], ... (a NULL
 * value deletes) in namespace ns. kv is NULL-terminated on an even index. Asserts. */
void tl_seed(const char *state_dir, const char *genesis, const char *txid, const char *ns,
             const char *const *kv);
/* The same with n keys "<prefix><i, 4 digits>" = "v<i>". */
void tl_seed_many(const char *state_dir, const char *genesis, const char *ns, const char *prefix,
                  size_t n);

/* A ProposalResponsePayload decoded down to each namespace's KVRWSet. */
struct tl_decoded {
    Protos__ProposalResponsePayload *prp;
    Protos__ChaincodeAction *act;
    Rwset__TxReadWriteSet *rw;
    Kvrwset__KVRWSet *ns[8];
    Protos__ChaincodeEvent *event;
};
void tl_decode(const ProtobufCBinaryData *payload, struct tl_decoded *ret);
/* The KVRWSet of namespace name, or NULL. */
Kvrwset__KVRWSet *tl_ns(const struct tl_decoded *d, const char *name);
void tl_decoded_free(struct tl_decoded *d);

/* Reads a whole file (asserts); caller frees. */
uint8_t *tl_read_file(const char *path, size_t *ret_len);

#endif
