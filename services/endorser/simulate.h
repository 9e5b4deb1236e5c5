/* SPDX-License-Identifier: Apache-2.0 */
/* Chaincode simulation: runs a chaincode on one state snapshot and records its read-write set. */
#ifndef ENDORSER_SIMULATE_H
#define ENDORSER_SIMULATE_H

#include <stddef.h>
#include <stdint.h>

#include "peer/chaincode.pb-c.h"
#include "peer/proposal.pb-c.h"
#include "peer/proposal_response.pb-c.h"

#include "libcommon/err.h"
#include "services/endorser/ccapi.h"

struct lc_state;
struct lc_kv_txn;

/* Fabric's range-query constants (chaincode handler batch, rwset hashing degree). */
#define ENDORSER_SIM_BATCH 100
#define ENDORSER_SIM_MAX_DEGREE 50

/* What a simulation runs on; every pointer is borrowed for the simulation's life. */
struct endorser_sim_input {
    const struct lc_state *state;
    struct lc_kv_txn *txn; /* the one read snapshot every read goes through */
    const char *ns;        /* the invoked chaincode: its namespace */
    const char *channel;
    const char *txid;
    const uint8_t *creator;
    size_t creator_len;
    const char *creator_mspid;
    int64_t ts_seconds;
    int32_t ts_nanos;
    const Protos__ChaincodeInput *input;
    const Protos__ChaincodeProposalPayload *payload; /* for the transient map; may be NULL */
    size_t max_bytes; /* budget for all recorded keys and values (LC_ETOOBIG beyond) */
};

/* Starts a simulation (the stub a chaincode gets). in must outlive it. Caller frees with
 * endorser_sim_free. -ENOMEM. */
int endorser_sim_new(const struct endorser_sim_input *in, struct lc_errbuf *err,
                     struct cc_stub **ret);
void endorser_sim_free(struct cc_stub *s); /* accepts NULL */

/* Records Fabric's read of _lifecycle "namespaces/fields/<ns>/Sequence", with the version the
 * snapshot holds (see lc_state_apply_config). */
int endorser_sim_read_lifecycle(struct cc_stub *s, struct lc_errbuf *err);

/* Runs cc->invoke on the stub, then closes the iterators it left open. */
void endorser_sim_invoke(struct cc_stub *s, const struct cc_chaincode *cc);

/* The chaincode's response (status 500 "chaincode returned no response" if it set none). */
const Protos__Response *endorser_sim_response(const struct cc_stub *s);

/* Packs the TxReadWriteSet as Fabric's rwset builder would: namespaces and keys sorted, reads
 * deduplicated, the last write of a key kept, range queries in creation order deduplicated on
 * (start, end, exhausted), raw reads up to ENDORSER_SIM_MAX_DEGREE results and a Merkle summary
 * beyond. *ret_buf is malloc'd (caller frees); empty when nothing was recorded. */
int endorser_sim_rwset(struct cc_stub *s, size_t max_len, uint8_t **ret_buf, size_t *ret_len,
                       struct lc_errbuf *err);

/* Packs the ChaincodeEvent {chaincode_id = ns, tx_id, event_name, payload} when the chaincode
 * set one; *ret_buf NULL and *ret_len 0 otherwise. Caller frees. */
int endorser_sim_event(struct cc_stub *s, size_t max_len, uint8_t **ret_buf, size_t *ret_len,
                       struct lc_errbuf *err);

#endif
