/* SPDX-License-Identifier: Apache-2.0 */
/* What the client SDK's modules share with each other and with nobody else. */
#ifndef WC_INTERNAL_H
#define WC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/client.h"
#include "libcommon/wire.h"
#include "peer/proposal_response.pb-c.h"

struct lc_rpc_client;

/* Default per-call deadline when a caller passes 0. */
#define WC_DEFAULT_TIMEOUT_MS 30000

/* Fabric's channel id rule, as weft genesis and chconf apply it. */
#define WC_CHANNEL_MAX 249
bool wc_internal_channel_ok(const char *channel);

/* The gRPC client of a node (made with the node, thread-safe). */
struct lc_rpc_client *wc_internal_node_rpc(const struct wc_node *node);

/* Opens a Deliver-style stream (path) on node and sends the signed SeekInfo for seek; errors
 * name `what` and the node. Shared by the orderer's Deliver and the peer event service. */
struct lc_rpc_stream;
struct wc_seek;
struct lc_signer;
int wc_internal_seek_stream(struct wc_node *node, const char *path, const char *what,
                            const char *channel, const struct lc_signer *signer,
                            const struct wc_seek *seek, struct lc_errbuf *err,
                            struct lc_rpc_stream **ret);

/* The header pieces every signed message starts with. */
struct wc_header {
    uint8_t *channel_header; /* packed common.ChannelHeader */
    size_t channel_header_len;
    uint8_t *signature_header; /* packed common.SignatureHeader */
    size_t signature_header_len;
    char txid[LC_WIRE_TXID_LEN + 1];
};

/* Packs ChannelHeader{type, version 1, timestamp (seconds, nanos; both 0: now), channel_id,
 * tx_id, extension} and SignatureHeader{creator = signer's identity, nonce (NULL: a fresh
 * LC_NONCE_LEN-byte nonce)}, with tx_id = hex(SHA-256(nonce ‖ creator)). Caller releases h with
 * wc_internal_header_done (also on failure). */
int wc_internal_header_build(int32_t type, const char *channel, const struct lc_signer *signer,
                             const uint8_t *nonce, size_t nonce_len, int64_t seconds, int32_t nanos,
                             const uint8_t *extension, size_t extension_len, struct wc_header *h,
                             struct lc_errbuf *err);
void wc_internal_header_done(struct wc_header *h);

/* Builds, signs and packs Envelope{Payload{Header{h}, data}}; caller frees *ret_env. */
int wc_internal_envelope(const struct wc_header *h, const uint8_t *data, size_t data_len,
                         const struct lc_signer *signer, struct lc_errbuf *err, uint8_t **ret_env,
                         size_t *ret_len);

/* The proposal's pieces the transaction reuses verbatim. */
const struct wc_header *wc_internal_proposal_header(const struct wc_proposal *p);
/* ChaincodeProposalPayload{input} packed without the transient map. */
const uint8_t *wc_internal_proposal_cpp(const struct wc_proposal *p, size_t *ret_len);

/* Slot i takes a decoded response (resp is owned by the set from here on, also on failure). */
int wc_internal_responses_take(struct wc_responses *rs, size_t i, const struct wc_endpoint *ep,
                               Protos__ProposalResponse *resp);
/* Whether wc_responses_validate passed; the agreed payload and endorser i's endorsement. */
bool wc_internal_responses_validated(const struct wc_responses *rs);
const ProtobufCBinaryData *wc_internal_responses_payload(const struct wc_responses *rs);
const Protos__Endorsement *wc_internal_responses_endorsement(const struct wc_responses *rs,
                                                             size_t i);

/* Deliver: keeps a first answer read by the gateway (while picking an orderer) for the next
 * wc_deliver_next. rc and block as wc_deliver_next returned them; block is taken. */
void wc_internal_deliver_push_back(struct wc_deliver *d, int rc, Common__Block *block,
                                   const struct lc_errbuf *err);

#endif
