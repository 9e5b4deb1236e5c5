/* SPDX-License-Identifier: Apache-2.0 */
/* The endorser: its channels and state replicas, and the ProcessProposal pipeline. */
#ifndef ENDORSER_ENDORSER_H
#define ENDORSER_ENDORSER_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "peer/proposal.pb-c.h"
#include "peer/proposal_response.pb-c.h"

#include "libcommon/err.h"
#include "libcommon/rpc.h"

struct lc_state;
struct endorser;

struct endorser_options {
    const char *msp_dir; /* the endorser's signing MSP directory (signcerts/, keystore/) */
    const char *mspid;
    const char *const *genesis; /* genesis block files, or directories of them */
    size_t n_genesis;
    const char *state_dir;  /* one LMDB replica per channel in <state_dir>/<channel>/ */
    size_t max_args_bytes;  /* sum of a proposal's args; 0: 1 MiB */
    size_t max_msg_bytes;   /* largest response, hence rwset; 0: LC_RPC_DEFAULT_MAX_MSG */
    size_t identity_cache;  /* validated identities cached per channel */
    const char *chaincodes; /* "name=module,...": definitions served by another module than
                             * their own name; NULL or "" for none */
    size_t state_map_size;  /* initial LMDB map per channel; 0: 1 GiB (it grows) */
    bool state_nosync;      /* do not sync state commits (tests; the replica is disposable) */
};

/* Loads the signing identity, every genesis block (each must be block 0 of a distinct channel),
 * locks state_dir (a second endorser on the same directory fails with LC_EUNAVAIL: "state
 * directory ... is in use"), opens each channel's replica and applies its genesis block when the
 * replica is new (lc_state_apply_config), or checks that it holds that genesis when it is not.
 * Rejections name the file or setting. Caller frees with endorser_free. */
int endorser_new(const struct endorser_options *o, struct lc_errbuf *err, struct endorser **ret);

/* Closes the replicas and releases the lock; accepts NULL. */
void endorser_free(struct endorser *e);

size_t endorser_channel_count(const struct endorser *e);
const char *endorser_channel_id(const struct endorser *e, size_t i);
/* The world-state replica of a channel (for the committed-block feed and tests), or NULL. */
struct lc_state *endorser_channel_state(struct endorser *e, const char *channel_id);

/* What a proposal came to: a gRPC error (code != LC_RPC_OK, cause in msg) or a
 * ProposalResponse to send (resp, code LC_RPC_OK). */
struct endorser_outcome {
    enum lc_rpc_code code;
    char msg[512];
    Protos__ProposalResponse *resp;
};

/*
 * Runs one proposal through the pipeline, with `now` the wall clock for certificate expiry.
 * Thread-safe: many workers may call it at once. The checks, in order, and what each failure
 * gives (docs/endorser.md has the table):
 *   layers decode, chaincode name, spec and input present     gRPC INVALID_ARGUMENT
 *   channel known                                              response 500 "channel ... not found"
 *   type 3, epoch 0, nonce, creator, signature present,
 *   TxID = hex(SHA-256(nonce ‖ creator))                       gRPC INVALID_ARGUMENT
 *   creator a valid identity of a channel MSP, not expired     gRPC UNAUTHENTICATED
 *   signature over proposal_bytes                              gRPC UNAUTHENTICATED
 *   TxID not already committed                                 gRPC ALREADY_EXISTS
 *   creator satisfies ACL peer/Propose
 *   (/Channel/Application/Writers)                             gRPC PERMISSION_DENIED
 *   args within max_args_bytes                                 gRPC RESOURCE_EXHAUSTED
 *   chaincode defined on the channel                           response 500
 *   chaincode module present in this endorser                  response 500
 *   simulation (state or packing failure)                      response 500
 *   chaincode status >= 500 / 400..499 / < 400                 response as Fabric shapes it
 * Internal failures (state unreadable, out of memory) give gRPC INTERNAL.
 * The caller frees the outcome with endorser_outcome_done.
 */
void endorser_process(struct endorser *e, const Protos__SignedProposal *sp, time_t now,
                      struct endorser_outcome *ret);

void endorser_outcome_done(struct endorser_outcome *o);

#endif
