/* SPDX-License-Identifier: Apache-2.0 */
/* The signed transaction envelope, from a proposal and the endorsements it gathered. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client/internal.h"
#include "libcommon/msp.h"
#include "peer/transaction.pb-c.h"

int wc_tx_assemble(const struct wc_proposal *prop, const struct wc_responses *rs,
                   const struct lc_signer *signer, struct lc_errbuf *err, uint8_t **ret_env,
                   size_t *ret_len)
{
    if (!wc_internal_responses_validated(rs))
        return lc_fail(err, LC_EINVALID, "transaction: the endorsements were not validated");
    const struct wc_header *h = wc_internal_proposal_header(prop);

    /* the envelope's creator must be the proposal's: the committer checks the envelope signature
     * with the creator in the (shared) signature header */
    size_t creator_len;
    const uint8_t *creator = lc_signer_serialized(signer, &creator_len);
    Common__SignatureHeader *sh =
        common__signature_header__unpack(NULL, h->signature_header_len, h->signature_header);
    if (!sh)
        return lc_fail(err, -ENOMEM, "transaction: out of memory");
    bool same =
        sh->creator.len == creator_len && memcmp(sh->creator.data, creator, creator_len) == 0;
    common__signature_header__free_unpacked(sh, NULL);
    if (!same)
        return lc_fail(err, LC_EMISMATCH, "transaction: the signer is not the proposal's creator");

    size_t n = wc_responses_count(rs);
    Protos__Endorsement **ends = calloc(n, sizeof *ends);
    if (!ends)
        return lc_fail(err, -ENOMEM, "transaction: out of memory");
    for (size_t i = 0; i < n; i++)
        ends[i] = (Protos__Endorsement *)wc_internal_responses_endorsement(rs, i);

    uint8_t *cap_bytes = NULL, *tx_bytes = NULL;
    size_t cap_len, tx_len;
    Protos__ChaincodeEndorsedAction cea = PROTOS__CHAINCODE_ENDORSED_ACTION__INIT;
    cea.proposal_response_payload = *wc_internal_responses_payload(rs);
    cea.n_endorsements = n;
    cea.endorsements = ends;
    Protos__ChaincodeActionPayload cap = PROTOS__CHAINCODE_ACTION_PAYLOAD__INIT;
    size_t cpp_len;
    const uint8_t *cpp = wc_internal_proposal_cpp(prop, &cpp_len);
    cap.chaincode_proposal_payload = (ProtobufCBinaryData){cpp_len, (uint8_t *)cpp};
    cap.action = &cea;
    int r = lc_wire_pack(&cap.base, WC_MAX_ENVELOPE_BYTES, &cap_bytes, &cap_len, err);
    if (r < 0)
        goto out;
    Protos__TransactionAction ta = PROTOS__TRANSACTION_ACTION__INIT;
    ta.header = (ProtobufCBinaryData){h->signature_header_len, h->signature_header};
    ta.payload = (ProtobufCBinaryData){cap_len, cap_bytes};
    Protos__TransactionAction *tas[] = {&ta};
    Protos__Transaction tx = PROTOS__TRANSACTION__INIT;
    tx.n_actions = 1;
    tx.actions = tas;
    r = lc_wire_pack(&tx.base, WC_MAX_ENVELOPE_BYTES, &tx_bytes, &tx_len, err);
    if (r < 0)
        goto out;
    r = wc_internal_envelope(h, tx_bytes, tx_len, signer, err, ret_env, ret_len);
out:
    free(ends);
    free(cap_bytes);
    free(tx_bytes);
    return r;
}
