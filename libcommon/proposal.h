/* SPDX-License-Identifier: Apache-2.0 */
/* Fabric proposals: unpacking and checking a SignedProposal, proposal hashes, endorsements. */
#ifndef LC_PROPOSAL_H
#define LC_PROPOSAL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/common.pb-c.h"
#include "peer/chaincode.pb-c.h"
#include "peer/proposal.pb-c.h"
#include "peer/proposal_response.pb-c.h"

#include "libcommon/err.h"

/*
 * A SignedProposal is unpacked once, layer by layer (wire facts §2), into an lc_proposal that
 * keeps every layer decoded AND the raw bytes each layer was decoded from: TxID, proposal hash
 * and signatures are always computed over the client's bytes, never over a re-encoding (trap 1).
 * The checks an endorser makes are split the way Fabric orders them, so that the caller can put
 * its own checks (channel known, TxID not in the ledger) in between:
 *   lc_proposal_unpack / lc_proposal_from_signed  every layer decodes, chaincode name, spec, input
 *   lc_proposal_check_header                      type, epoch, nonce, creator, signature, TxID
 *   lc_proposal_check_creator                     identity valid on the channel, not expired,
 *                                                 signature over proposal_bytes
 *   lc_proposal_check_policy                      an ACL policy over the proposal's signed data
 * An lc_proposal is immutable: accessors may be used from several threads at once.
 */

struct lc_msp_mgr;
struct lc_identity;
struct lc_signer;
struct lc_chconf;

struct lc_proposal;

#define LC_PROPOSAL_HASH_LEN 32

/* Unpacks packed SignedProposal bytes (copied: buf may go away afterwards). Checks, in Fabric's
 * order, each rejection LC_EDECODE or LC_EINVALID with the layer named in err ("proposal:
 * protos.ChaincodeProposalPayload: truncated or malformed"):
 *   SignedProposal, Proposal (proposal_bytes), Header, ChannelHeader, SignatureHeader,
 *   ChaincodeHeaderExtension (channel header extension) decode;
 *   the extension has a chaincode_id with a non-empty name (LC_EINVALID);
 *   ChaincodeProposalPayload (payload) and ChaincodeInvocationSpec (its input) decode;
 *   the spec has chaincode_spec and chaincode_spec.input (LC_EINVALID).
 * Also computes the proposal hash. -ENOMEM. Caller frees with lc_proposal_free. */
int lc_proposal_unpack(const uint8_t *buf, size_t len, struct lc_errbuf *err,
                       struct lc_proposal **ret);

/* Same from an already decoded SignedProposal (as the rpc layer hands it over). sp is
 * borrowed: it must outlive the proposal. */
int lc_proposal_from_signed(const Protos__SignedProposal *sp, struct lc_errbuf *err,
                            struct lc_proposal **ret);

void lc_proposal_free(struct lc_proposal *p); /* accepts NULL */

/* The decoded layers, borrowed (live as long as p). */
const Protos__SignedProposal *lc_proposal_signed(const struct lc_proposal *p);
const Protos__Proposal *lc_proposal_proposal(const struct lc_proposal *p);
const Common__Header *lc_proposal_header(const struct lc_proposal *p);
const Common__ChannelHeader *lc_proposal_channel_header(const struct lc_proposal *p);
const Common__SignatureHeader *lc_proposal_signature_header(const struct lc_proposal *p);
const Protos__ChaincodeHeaderExtension *lc_proposal_header_extension(const struct lc_proposal *p);
const Protos__ChaincodeProposalPayload *lc_proposal_payload(const struct lc_proposal *p);
const Protos__ChaincodeInvocationSpec *lc_proposal_invocation(const struct lc_proposal *p);
/* chaincode_spec.input: args[0] is the function name. */
const Protos__ChaincodeInput *lc_proposal_input(const struct lc_proposal *p);

/* Shortcuts: channel id and tx id from the channel header; the chaincode name from the header
 * extension (the one Fabric uses, not the spec's); creator bytes as sent. */
const char *lc_proposal_channel_id(const struct lc_proposal *p);
const char *lc_proposal_txid(const struct lc_proposal *p);
const char *lc_proposal_chaincode(const struct lc_proposal *p);
const uint8_t *lc_proposal_creator(const struct lc_proposal *p, size_t *ret_len);
/* Sum of the lengths of the input args (what --max-args-bytes limits). */
size_t lc_proposal_args_bytes(const struct lc_proposal *p);

/* The proposal hash (see lc_proposal_hash1), 32 bytes, borrowed. */
const uint8_t *lc_proposal_hash(const struct lc_proposal *p);

/* Checks the headers as Fabric's endorser does: type ENDORSER_TRANSACTION (3) (weft has no
 * system chaincodes, so CONFIG proposals are refused too), epoch 0, a non-empty nonce, creator
 * and signature (LC_EINVALID naming the field), and tx_id equal to hex(SHA-256(nonce ‖
 * creator)) (LC_EMISMATCH with both values). */
int lc_proposal_check_header(const struct lc_proposal *p, struct lc_errbuf *err);

/* Admission check of the creator against a channel's MSPs (through mgr's identity cache):
 * deserializes and validates it (lc_msp_mgr_deserialize's codes: LC_EUNKNOWNMSP, LC_EBADCERT,
 * LC_EREVOKED, LC_EROLE, LC_EDECODE, ...), rejects a certificate outside its validity window at
 * wall-clock time now (LC_EEXPIRED), then verifies the signature over proposal_bytes
 * (LC_EBADSIG, LC_EHIGHS, LC_EDECODE). err starts with "creator: " or "signature: ". On success
 * *ret_id holds a new reference to the creator (caller unrefs). */
int lc_proposal_check_creator(const struct lc_proposal *p, struct lc_msp_mgr *mgr, time_t now,
                              struct lc_errbuf *err, struct lc_identity **ret_id);

/* Evaluates the channel policy at path (e.g. "/Channel/Application/Writers", the default of
 * ACL peer/Propose) over the proposal's signed data {proposal_bytes, creator, signature}.
 * creator must be the identity lc_proposal_check_creator returned for p: its signature is then
 * known to be good, and is not verified a second time (a verification costs more than the rest
 * of the policy check). Returns 0, LC_EPOLICY (err names the policy and why), LC_ENOTFOUND (no
 * such policy), -ENOMEM. */
int lc_proposal_check_policy(const struct lc_proposal *p, const struct lc_chconf *c,
                             const char *path, struct lc_identity *creator, struct lc_errbuf *err);

/* ---- proposal hashes ---------------------------------------------------------------------- */

/* The endorser's form (Fabric GetProposalHash1, wire facts §3): SHA-256(channel_header ‖
 * signature_header ‖ ChaincodeProposalPayload{input} re-encoded, i.e. 0x0a ‖ varint(len) ‖
 * input, nothing for an empty input), so the TransientMap is left out. All raw bytes as sent. */
void lc_proposal_hash1(const uint8_t *chdr, size_t chdr_len, const uint8_t *shdr, size_t shdr_len,
                       const uint8_t *input, size_t input_len,
                       uint8_t ret_hash[LC_PROPOSAL_HASH_LEN]);

/* The committer's form (Fabric GetProposalHash2, wire facts §9 step 5): SHA-256(channel_header
 * ‖ the action's header (a SignatureHeader) ‖ the ChaincodeActionPayload's
 * chaincode_proposal_payload bytes), all raw as found in the transaction. A transaction built
 * from an endorsed proposal gives the same hash as lc_proposal_hash1 did. */
void lc_proposal_hash2(const uint8_t *chdr, size_t chdr_len, const uint8_t *action_header,
                       size_t action_header_len, const uint8_t *cpp, size_t cpp_len,
                       uint8_t ret_hash[LC_PROPOSAL_HASH_LEN]);

/* ---- responses and endorsements ------------------------------------------------------------ */

/* What a chaincode action produced, for lc_proposal_prp_pack. */
struct lc_proposal_action {
    const uint8_t *proposal_hash; /* LC_PROPOSAL_HASH_LEN bytes */
    const uint8_t *results;       /* packed TxReadWriteSet (may be empty) */
    size_t results_len;
    const uint8_t *events; /* packed ChaincodeEvent, NULL/0 when the chaincode set none */
    size_t events_len;
    const Protos__Response *response; /* the chaincode's response (required) */
    const char *cc_name;              /* ChaincodeID name: the invoked chaincode */
    const char *cc_version;           /* ChaincodeID version: the definition's version */
};

/* Packs ProposalResponsePayload{proposal_hash, extension = ChaincodeAction{results, events,
 * response, chaincode_id{name, version}}} (wire facts §3), at most max_len bytes (LC_ETOOBIG).
 * Rejects a missing hash, response, name or version (LC_EINVALID). *ret_buf is malloc'd
 * (caller frees). */
int lc_proposal_prp_pack(const struct lc_proposal_action *a, size_t max_len, uint8_t **ret_buf,
                         size_t *ret_len, struct lc_errbuf *err);

/* Signs an endorsement: ECDSA over SHA-256(prp ‖ the signer's serialized identity) (trap 3).
 * Returns 0 or LC_ECRYPTO. */
int lc_proposal_endorse(const struct lc_signer *s, const uint8_t *prp, size_t prp_len,
                        uint8_t sig[72], size_t *ret_sig_len);

/* Verifies an endorsement of prp: signature over prp ‖ endorser by the identity endorser_id,
 * whose serialized bytes must be e->endorser (LC_EMISMATCH otherwise). Signature codes as
 * lc_identity_verify. */
int lc_proposal_endorsement_verify(const struct lc_identity *endorser_id, const uint8_t *prp,
                                   size_t prp_len, const Protos__Endorsement *e,
                                   struct lc_errbuf *err);

/* Builds a ProposalResponse as Fabric's endorser shapes it by status (wire facts §3):
 *   status >= 500   Response{status, message, payload} and payload = prp (when prp is given:
 *                   Fabric returns what was simulated), no endorsement, version 0;
 *   400..499        Response only (with its payload);
 *   below 400       version 1, Response, payload = prp, Endorsement{signer identity,
 *                   lc_proposal_endorse(prp)}: prp and signer are required (LC_EINVALID).
 * message may be NULL; payload and prp are copied. Caller frees with lc_proposal_response_free.
 * -ENOMEM, LC_ECRYPTO. */
int lc_proposal_response_new(int32_t status, const char *message, const uint8_t *payload,
                             size_t payload_len, const uint8_t *prp, size_t prp_len,
                             const struct lc_signer *signer, struct lc_errbuf *err,
                             Protos__ProposalResponse **ret);

/* Frees a response made by lc_proposal_response_new (only those); accepts NULL. */
void lc_proposal_response_free(Protos__ProposalResponse *pr);

#endif
