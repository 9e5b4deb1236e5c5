/* SPDX-License-Identifier: Apache-2.0 */
/* libweft-client: build, endorse, order and follow Fabric transactions from C (weft's client SDK).
 */
#ifndef WC_CLIENT_H
#define WC_CLIENT_H

/*
 * The flow, one module per step:
 *   profile.c   Fabric's common connection profile (YAML or JSON): orgs, peers, orderers, channels
 *   node.c      a named gRPC endpoint (endorser or orderer) with its MSP id
 *   proposal.c  build and sign a chaincode proposal (SignedProposal)
 *   select.c    which endorsers to ask: explicit, static (all), policy (smallest satisfying set)
 *   endorse.c   ProcessProposal to several endorsers in parallel; validate what comes back
 *   tx.c        the signed transaction envelope from a proposal and its endorsements
 *   broadcast.c Broadcast to an orderer, failing over to the next
 *   deliver.c   Deliver: signed SeekInfo, blocks one by one; the channel config from block 0
 *   gateway.c   all of it behind one handle, as the weft CLI uses it
 *
 * Conventions (as libcommon): functions return 0 or a negative code (libcommon/err.h or -errno),
 * results come through ret_* out-parameters left untouched on failure, and every rejection says
 * what is wrong in the caller's struct lc_errbuf (which may be NULL). Objects are opaque; strings
 * an accessor returns are borrowed from the object. Library code logs at debug level only.
 *
 * Threads: profiles, nodes, proposals and validated response sets are read-only after creation
 * and may be shared by threads; a deliver stream and a gateway are used by one thread at a time.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <protobuf-c/protobuf-c.h>

#include "common/common.pb-c.h"
#include "libcommon/err.h"

struct lc_signer;
struct lc_chconf;

/* ================================ endpoints and nodes ================================ */

/* Where an endorser or orderer is: plain values, borrowed by whoever is given one. */
struct wc_endpoint {
    const char *name;    /* how messages name it: the profile's key, or the address */
    const char *address; /* "host:port" or "[v6]:port" */
    const char *mspid;   /* the MSP id of the org it belongs to; NULL when unknown */
};

/* A connection to one endpoint (a gRPC channel that connects on first use, fails fast when the
 * server cannot be reached). Thread-safe: calls from many threads may share it. */
struct wc_node;

/* Copies ep. Rejects an empty name or address, and an address that is not host:port with a
 * port 1..65535 (LC_EINVALID). max_msg_bytes bounds messages both ways (0: 100 MiB, Fabric's
 * default). Caller frees with wc_node_free. */
int wc_node_new(const struct wc_endpoint *ep, size_t max_msg_bytes, struct lc_errbuf *err,
                struct wc_node **ret);
void wc_node_free(struct wc_node *node); /* accepts NULL */
const char *wc_node_name(const struct wc_node *node);
const char *wc_node_address(const struct wc_node *node);
const char *wc_node_mspid(const struct wc_node *node); /* NULL when unknown */

/* Checks "host:port" (or "[v6]:port"): a non-empty host without '/' or spaces and a decimal port
 * 1..65535. Returns 0 or LC_EINVALID with what is wrong. */
int wc_address_check(const char *address, struct lc_errbuf *err);

/* ================================ connection profile ================================ */

/*
 * Fabric's common connection profile, the file fabric-network and fabric-sdk-go take, parsed
 * with libyaml (JSON is read as YAML). What is read:
 *
 *   name: any                         (optional)
 *   client: {organization: Org1}      (optional; names a key of organizations)
 *   organizations:
 *     Org1: {mspid: Org1MSP, peers: [peer0.org1.example.com]}
 *   peers:
 *     peer0.org1.example.com: {url: grpc://localhost:7051}
 *   orderers:
 *     orderer.example.com: {url: grpc://localhost:7050}
 *   channels:
 *     mychannel:
 *       orderers: [orderer.example.com]
 *       peers:
 *         peer0.org1.example.com: {endorsingPeer: true, chaincodeQuery: true,
 *                                  ledgerQuery: true, eventSource: true}
 *
 * Everything else (certificateAuthorities, tlsCACerts, grpcOptions, x-* keys, ...) is ignored.
 * Peer roles default to true, as in Fabric. A peer's MSP id is that of the organization that lists
 * it. Rejected, naming the file, line and key path (LC_ESYNTAX for YAML that does not parse,
 * LC_EINVALID otherwise): a root or section of the wrong kind; a duplicate key; a peer or orderer
 * without url; a url that is not grpc://host:port (grpcs:// is refused: TLS is not supported yet);
 * an organization without mspid; a peer listed by two organizations; a name in organizations.peers,
 * channels.*.peers, channels.*.orderers or client.organization that is not defined; a role that is
 * not a boolean. Larger than WC_PROFILE_MAX_BYTES or than WC_PROFILE_MAX_ENTRIES entries in a
 * section: LC_ETOOBIG.
 */
#define WC_PROFILE_MAX_BYTES (4u << 20)
#define WC_PROFILE_MAX_ENTRIES 4096

struct wc_profile;

/* Peer roles on a channel (channels.<ch>.peers.<peer>). */
enum wc_role {
    WC_ROLE_ENDORSING = 1u << 0,       /* endorsingPeer */
    WC_ROLE_CHAINCODE_QUERY = 1u << 1, /* chaincodeQuery */
    WC_ROLE_LEDGER_QUERY = 1u << 2,    /* ledgerQuery */
    WC_ROLE_EVENT_SOURCE = 1u << 3,    /* eventSource */
};

/* Reads and parses the file at path (-errno naming the path if it cannot be read). Caller frees
 * with wc_profile_free. */
int wc_profile_load(const char *path, struct lc_errbuf *err, struct wc_profile **ret);
/* Parses text[0..len); origin names it in messages ("<profile>" when NULL). */
int wc_profile_parse(const void *text, size_t len, const char *origin, struct lc_errbuf *err,
                     struct wc_profile **ret);
void wc_profile_free(struct wc_profile *p); /* accepts NULL */

/* "name", or "" when absent. */
const char *wc_profile_name(const struct wc_profile *p);
/* client.organization and its MSP id, or NULL when the profile does not say. */
const char *wc_profile_client_org(const struct wc_profile *p);
const char *wc_profile_client_mspid(const struct wc_profile *p);

/* Sections in file order; NULL when i is out of range. */
size_t wc_profile_org_count(const struct wc_profile *p);
const char *wc_profile_org_name(const struct wc_profile *p, size_t i);
const char *wc_profile_org_mspid(const struct wc_profile *p, size_t i);
size_t wc_profile_peer_count(const struct wc_profile *p);
/* Peer i as an endpoint (strings borrowed from p); false when i is out of range. */
bool wc_profile_peer(const struct wc_profile *p, size_t i, struct wc_endpoint *ret);
size_t wc_profile_orderer_count(const struct wc_profile *p);
bool wc_profile_orderer(const struct wc_profile *p, size_t i, struct wc_endpoint *ret);
size_t wc_profile_channel_count(const struct wc_profile *p);
const char *wc_profile_channel_name(const struct wc_profile *p, size_t i);

/* The peers of channel that have every role in roles (0: any peer of the channel), in the
 * channel's order. A profile without a `channels` section puts every peer on every channel with
 * every role. LC_ENOTFOUND when the profile has channels but not this one. On success *ret is a
 * malloc'd array (caller frees; its strings are borrowed from p), possibly empty (*ret_n 0). */
int wc_profile_channel_peers(const struct wc_profile *p, const char *channel, unsigned roles,
                             struct lc_errbuf *err, struct wc_endpoint **ret, size_t *ret_n);
/* The orderers of channel (every orderer when the profile has no channels section or the channel
 * lists none). Same rules as above. */
int wc_profile_channel_orderers(const struct wc_profile *p, const char *channel,
                                struct lc_errbuf *err, struct wc_endpoint **ret, size_t *ret_n);

/* ================================ proposals ================================ */

/* A transient map entry: sent to the endorsers, never part of the transaction. */
struct wc_transient {
    const char *key;
    const uint8_t *value;
    size_t len;
};

/* What to invoke. The nonce and timestamp are for reproducible tests only. */
struct wc_invocation {
    const char *channel;             /* [a-z][a-z0-9.-]*, at most 249 bytes */
    const char *chaincode;           /* [A-Za-z0-9]+([-_][A-Za-z0-9]+)* */
    const ProtobufCBinaryData *args; /* args[0] is the function name; at least one */
    size_t n_args;
    const struct wc_transient *transient; /* may be NULL */
    size_t n_transient;
    const uint8_t *nonce; /* NULL: LC_NONCE_LEN fresh random bytes */
    size_t nonce_len;
    int64_t seconds; /* timestamp; 0 with nanos 0: now */
    int32_t nanos;
};

/* Limits on what a proposal may carry. */
#define WC_MAX_ARGS 1024
#define WC_MAX_PROPOSAL_BYTES (64u << 20)
#define WC_MAX_NONCE 1024

/* A built, signed proposal. */
struct wc_proposal;

/* Builds and signs the proposal (wire facts §2), the way fabric-common does:
 *   ChannelHeader{type ENDORSER_TRANSACTION (3), version 1, timestamp, channel_id, tx_id,
 *                 extension = ChaincodeHeaderExtension{chaincode_id{name}}}
 *   SignatureHeader{creator = the signer's serialized identity, nonce}
 *   ChaincodeProposalPayload{input = ChaincodeInvocationSpec{ChaincodeSpec{type GOLANG (1),
 *                            chaincode_id{name}, input{args}}}, TransientMap}
 *   SignedProposal{proposal_bytes, signature = ECDSA(SHA-256(proposal_bytes)) by the signer}
 * with tx_id = hex(SHA-256(nonce ‖ creator)). The spec type is GOLANG as the Node SDK and the peer
 * CLI send it; endorsers ignore it (the chaincode definition decides how it runs). Rejects, naming
 * the field (LC_EINVALID): a bad channel or chaincode name, no args or more than WC_MAX_ARGS, an
 * empty or duplicate transient key, a nonce_len of 0 or over WC_MAX_NONCE, a timestamp outside
 * Timestamp's range; LC_ETOOBIG when it packs over WC_MAX_PROPOSAL_BYTES. Caller frees. */
int wc_proposal_new(const struct lc_signer *signer, const struct wc_invocation *inv,
                    struct lc_errbuf *err, struct wc_proposal **ret);
void wc_proposal_free(struct wc_proposal *p); /* accepts NULL */

const char *wc_proposal_txid(const struct wc_proposal *p); /* 64 lowercase hex digits */
const char *wc_proposal_channel(const struct wc_proposal *p);
const char *wc_proposal_chaincode(const struct wc_proposal *p);
/* The packed SignedProposal, as sent to endorsers. */
const uint8_t *wc_proposal_bytes(const struct wc_proposal *p, size_t *ret_len);
/* The proposal_hash endorsers must sign (wire facts §3): SHA-256(channel_header ‖
 * signature_header ‖ ChaincodeProposalPayload without the transient map), 32 bytes. */
const uint8_t *wc_proposal_hash(const struct wc_proposal *p);

/* ================================ endorser responses ================================ */

/* What each asked endorser answered (or why it did not), in the order they were asked. */
struct wc_responses;

/* An empty set for n endorsers; fill every slot with wc_responses_set or _set_error. */
int wc_responses_new(size_t n, struct wc_responses **ret);
void wc_responses_free(struct wc_responses *rs); /* accepts NULL */

/* Slot i: endorser ep (copied) answered the packed ProposalResponse resp[0..len). A response that
 * does not decode is recorded as that endorser's error (LC_EDECODE), which is also returned. */
int wc_responses_set(struct wc_responses *rs, size_t i, const struct wc_endpoint *ep,
                     const uint8_t *resp, size_t len);
/* Slot i: the call to ep failed with code (LC_EUNAVAIL, LC_ETIMEOUT, ...) and message msg. */
int wc_responses_set_error(struct wc_responses *rs, size_t i, const struct wc_endpoint *ep,
                           int code, const char *msg);

size_t wc_responses_count(const struct wc_responses *rs);
const char *wc_responses_endorser(const struct wc_responses *rs, size_t i);
/* 0 when endorser i answered; else the call's error code, with its message in *ret_msg. */
int wc_responses_error(const struct wc_responses *rs, size_t i, const char **ret_msg);
/* Response.status and Response.message of endorser i (0 and "" when it did not answer). */
int32_t wc_responses_status(const struct wc_responses *rs, size_t i);
const char *wc_responses_message(const struct wc_responses *rs, size_t i);

/* Checks the set before its result is believed or ordered, stopping at the first problem:
 *   an endorser that did not answer            -> its code, "endorser X: <cause>"
 *   Response.status outside [200, 400)         -> LC_EINVALID, "endorser X: status 500: <msg>"
 *   no payload or no endorsement               -> LC_EINVALID
 *   payloads not byte-identical                -> LC_EMISMATCH, "ProposalResponsePayloads do not
 *                                                 match: [a, b] vs [c]" (the groups of endorsers
 *                                                 that agree with each other)
 *   chaincode response payloads not identical  -> LC_EMISMATCH, same form
 *   payload not a ProposalResponsePayload, or its proposal_hash not this proposal's
 *                                              -> LC_EDECODE / LC_EMISMATCH
 *   endorser identity not valid in its channel MSP (chain, CRL, NodeOU), not a PEER, outside its
 *   validity window at `now`, or of another MSP than the endpoint's   -> the msp module's code
 *   endorsement signature over payload ‖ endorser does not verify     -> LC_EBADSIG / LC_EHIGHS
 * An empty set is LC_EINVALID. Errors name the endorser and the cause. On success the set is
 * marked validated (wc_responses_result and wc_tx_assemble need that). */
int wc_responses_validate(struct wc_responses *rs, const struct wc_proposal *prop,
                          const struct lc_chconf *chconf, time_t now, struct lc_errbuf *err);

/* After validation: the chaincode's Response (status, message, payload) all endorsers agreed on.
 * NULL / 0 before. */
int32_t wc_responses_result_status(const struct wc_responses *rs);
const uint8_t *wc_responses_result(const struct wc_responses *rs, size_t *ret_len);

/* ================================ selection and endorsement ================================ */

enum wc_selection {
    WC_SELECT_EXPLICIT, /* exactly the given targets */
    WC_SELECT_STATIC,   /* every configured endorser of the channel */
    WC_SELECT_POLICY,   /* the smallest set whose orgs satisfy the chaincode's policy */
};

/* "explicit", "static", "policy" <-> the enum. Parse returns LC_EINVALID for other words. */
int wc_selection_parse(const char *word, enum wc_selection *ret);
const char *wc_selection_name(enum wc_selection s);

/* The policy selection. Picks the smallest set of candidates (ties: the earliest in candidate
 * order) whose members, each counted as a distinct identity that satisfies ROLE member and ROLE
 * peer of its own MSP (cands[i].mspid), satisfy chaincode's endorsement policy on the channel
 * (a signature policy or a channel policy reference, evaluated with libcommon/policy). Candidates
 * without an MSP id and those with skip[i] set (skip may be NULL) are left out. Principals other
 * than ROLE (OU, IDENTITY, ...) cannot be judged without certificates and count as unsatisfied.
 * At most WC_SELECT_MAX_CANDIDATES candidates are considered. Returns 0 with the chosen indexes
 * in ret_idx (room for n) ascending and their number in *ret_n; LC_ENOTFOUND when the channel
 * does not define the chaincode; LC_EPOLICY when no set of the usable candidates satisfies it
 * (err names the policy and the candidates tried); LC_ETOOBIG over the limits. */
#define WC_SELECT_MAX_CANDIDATES 64
int wc_select_policy(const struct lc_chconf *chconf, const char *chaincode,
                     const struct wc_endpoint *cands, size_t n, const bool *skip,
                     struct lc_errbuf *err, size_t *ret_idx, size_t *ret_n);

/* Sends prop to nodes[0..n) at once (a thread per node), each call bounded by timeout_ms
 * (> 0; 0 means 30 s). Failures of single endorsers are recorded in the set, not returned.
 * Returns 0 and the set (caller frees), -ENOMEM, or -errno when threads cannot be started. */
int wc_endorse(const struct wc_proposal *prop, struct wc_node *const *nodes, size_t n,
               int timeout_ms, struct wc_responses **ret);

/* Endorses with a selection mode: EXPLICIT and STATIC ask every node; POLICY asks the set
 * wc_select_policy picks and, when endorsers of it do not answer (down, unreachable, timed out,
 * call refused), picks again without them, until a set answers or none is left (then the last
 * answers are returned for wc_responses_validate to report). An error status is the chaincode's
 * answer and is not retried elsewhere. POLICY needs chconf. Returns 0 and the set (caller
 * frees), or the selection's error. */
int wc_endorse_select(const struct wc_proposal *prop, enum wc_selection mode,
                      struct wc_node *const *nodes, size_t n, const struct lc_chconf *chconf,
                      int timeout_ms, struct lc_errbuf *err, struct wc_responses **ret);

/* ================================ transactions ================================ */

/* Largest envelope assembled. */
#define WC_MAX_ENVELOPE_BYTES (100u << 20)

/* Assembles the transaction envelope from a validated set (wire facts §4):
 *   Transaction{actions: [TransactionAction{header = the proposal's SignatureHeader bytes,
 *     payload = ChaincodeActionPayload{chaincode_proposal_payload = the proposal's cpp with the
 *     transient map stripped, action = ChaincodeEndorsedAction{proposal_response_payload = the
 *     agreed payload, endorsements in the order asked}}}]}
 *   Payload{header = the proposal's Header (both byte strings verbatim), data = Transaction}
 *   Envelope{payload, signature = ECDSA(SHA-256(payload)) by signer}
 * Rejects a set that was not validated (LC_EINVALID) and a signer other than the proposal's
 * creator (LC_EMISMATCH). On success *ret_env (caller frees with free()) and *ret_len. */
int wc_tx_assemble(const struct wc_proposal *prop, const struct wc_responses *rs,
                   const struct lc_signer *signer, struct lc_errbuf *err, uint8_t **ret_env,
                   size_t *ret_len);

/* ================================ ordering ================================ */

/* The orderer to try first. */
enum wc_order {
    WC_ORDER_RANDOM, /* a random orderer, then the following ones (wrapping around) */
    WC_ORDER_LISTED, /* the first, then the next */
};

/* What Broadcast gave back. */
struct wc_broadcast_result {
    int32_t status;     /* BroadcastResponse.status (common.Status: 200 SUCCESS, ...) */
    char info[256];     /* BroadcastResponse.info, truncated */
    size_t orderer;     /* index of the orderer that answered */
    size_t failed_over; /* how many orderers were tried before it */
};

/* Sends the envelope env[0..len) on orderer.AtomicBroadcast/Broadcast and reads the one
 * BroadcastResponse. Starting at the orderer `order` says, moves to the next one when an orderer
 * cannot be reached, the call fails or times out (timeout_ms, 0: 30 s), or it answers
 * SERVICE_UNAVAILABLE (503). Any other answer ends the attempt: returns 0 and the result, also
 * for statuses other than SUCCESS (the caller decides). When every orderer failed: the last 503
 * answer if there was one (returns 0), otherwise LC_EUNAVAIL with each orderer's cause in err.
 * Rejects n == 0 and an envelope that does not decode (LC_EINVALID / LC_EDECODE). */
int wc_broadcast(struct wc_node *const *orderers, size_t n, const uint8_t *env, size_t len,
                 enum wc_order order, int timeout_ms, struct lc_errbuf *err,
                 struct wc_broadcast_result *ret);

/* "SUCCESS", "BAD_REQUEST", ... for a common.Status; "UNKNOWN" for other numbers. */
const char *wc_status_name(int32_t status);

/* ================================ deliver ================================ */

enum wc_seek_kind {
    WC_SEEK_OLDEST,  /* start only */
    WC_SEEK_NEWEST,  /* start or stop: the newest block at request time */
    WC_SEEK_NUMBER,  /* a block number */
    WC_SEEK_FOREVER, /* stop only: never stop (a specified position at 2^63 - 1, as Node) */
};

struct wc_seek {
    enum wc_seek_kind start;
    uint64_t start_number;
    enum wc_seek_kind stop;
    uint64_t stop_number;
    bool fail_if_not_ready; /* FAIL_IF_NOT_READY instead of BLOCK_UNTIL_READY */
};

/* Builds the signed Deliver request: Envelope{Payload{Header{ChannelHeader{type
 * DELIVER_SEEK_INFO (5), version 1, timestamp now, channel_id, tx_id}, SignatureHeader{creator,
 * 24-byte nonce}}, data = SeekInfo{start, stop, behavior, STRICT}}, signature by signer}. Rejects a
 * bad channel name, a start of FOREVER, a stop of OLDEST and a numbered stop before a numbered
 * start (LC_EINVALID). Caller frees *ret_env with free(). */
int wc_seek_envelope(const char *channel, const struct lc_signer *signer,
                     const struct wc_seek *seek, struct lc_errbuf *err, uint8_t **ret_env,
                     size_t *ret_len);

/* An open Deliver stream. */
struct wc_deliver;

/* Opens orderer.AtomicBroadcast/Deliver on orderer and sends the request for seek. A connection
 * failure shows in the first wc_deliver_next. Caller frees with wc_deliver_free. */
int wc_deliver_open(struct wc_node *orderer, const char *channel, const struct lc_signer *signer,
                    const struct wc_seek *seek, struct lc_errbuf *err, struct wc_deliver **ret);

/* The next block, waiting up to timeout_ms (< 0: forever). Returns:
 *   0            a block in *ret_block (caller frees with lc_wire_block_free)
 *   1            the orderer said SUCCESS after the stop block: no more blocks
 *   LC_ETIMEOUT  nothing came in time (the stream stays usable)
 *   < 0          the orderer refused or failed: a status other than SUCCESS (LC_ENOTFOUND for
 *                NOT_FOUND, -EACCES for FORBIDDEN, LC_EINVALID for BAD_REQUEST, LC_EUNAVAIL for
 *                SERVICE_UNAVAILABLE, -EREMOTEIO otherwise) or a gRPC error; err says which. */
int wc_deliver_next(struct wc_deliver *d, int timeout_ms, struct lc_errbuf *err,
                    Common__Block **ret_block);
void wc_deliver_free(struct wc_deliver *d); /* accepts NULL */

/* Largest genesis block read from a file. */
#define WC_MAX_BLOCK_BYTES (256u << 20)

/* The channel configuration from a genesis (config) block file. -errno naming the path, or
 * lc_chconf_from_block_bytes's errors. Caller frees with lc_chconf_free. */
int wc_chconf_load(const char *path, struct lc_errbuf *err, struct lc_chconf **ret);

/* The channel configuration from block 0, fetched with Deliver from the first orderer of
 * orderers[0..n) that serves it (each bounded by timeout_ms). Also checks that the block is
 * block 0 and that its data hash is right. Caller frees with lc_chconf_free. */
int wc_chconf_fetch(struct wc_node *const *orderers, size_t n, const char *channel,
                    const struct lc_signer *signer, int timeout_ms, struct lc_errbuf *err,
                    struct lc_chconf **ret);

/* ================================ gateway ================================ */

/* Everything a client application sets once. Strings are read by wc_gateway_open, not kept. */
struct wc_gateway_opts {
    const char *profile;        /* connection profile path; NULL: none (then targets / orderers) */
    const char *channel;        /* required */
    const char *msp_dir;        /* required: the user's MSP directory (signcerts/, keystore/) */
    const char *mspid;          /* NULL: the MSP id of the profile's client organization */
    const char *const *targets; /* explicit endorsers, "host:port"; n_targets may be 0 */
    size_t n_targets;
    enum wc_selection selection; /* EXPLICIT: the targets (none: no endorsers, e.g. to read
                                  * blocks only); STATIC and POLICY need a profile */
    unsigned roles; /* profile peers asked: those with these WC_ROLE_* (0: WC_ROLE_ENDORSING) */
    const char *genesis;         /* channel config from this block file; NULL: from an orderer */
    const char *const *orderers; /* "host:port", used instead of the profile's; may be empty */
    size_t n_orderers;
    enum wc_order orderer_order;
    int timeout_ms; /* each call; 0: 30 s */
};

struct wc_gateway;

/* Loads the profile and the signer and makes the nodes: the endorsers (targets for EXPLICIT,
 * else the profile's endorsing peers of the channel) and the orderers. Rejects, saying which
 * flag-level setting is wrong (LC_EINVALID): no channel or msp_dir, no MSP id from anywhere,
 * targets with a selection other than EXPLICIT, STATIC or POLICY without a profile.
 * The channel configuration is read when first needed. Caller frees with wc_gateway_free. */
int wc_gateway_open(const struct wc_gateway_opts *opts, struct lc_errbuf *err,
                    struct wc_gateway **ret);
void wc_gateway_free(struct wc_gateway *gw); /* accepts NULL */

const struct lc_signer *wc_gateway_signer(const struct wc_gateway *gw);
size_t wc_gateway_endorser_count(const struct wc_gateway *gw);
struct wc_node *wc_gateway_endorser(const struct wc_gateway *gw, size_t i);
size_t wc_gateway_orderer_count(const struct wc_gateway *gw);
struct wc_node *wc_gateway_orderer(const struct wc_gateway *gw, size_t i);
/* The channel configuration: from opts.genesis, else block 0 from the orderers; loaded once. */
int wc_gateway_chconf(struct wc_gateway *gw, struct lc_errbuf *err, const struct lc_chconf **ret);

/* Builds and signs a proposal for chaincode with args (and transient data), endorses it with the
 * gateway's selection and validates the answers against the channel configuration. On success
 * the caller owns *ret_prop and *ret_rs (validated). */
int wc_gateway_endorse(struct wc_gateway *gw, const char *chaincode,
                       const ProtobufCBinaryData *args, size_t n_args,
                       const struct wc_transient *transient, size_t n_transient,
                       struct lc_errbuf *err, struct wc_proposal **ret_prop,
                       struct wc_responses **ret_rs);

/* Assembles, signs and broadcasts the transaction of an endorsed proposal, with failover. Returns
 * 0 when an orderer answered (ret->status says what), else wc_broadcast's error. */
int wc_gateway_submit(struct wc_gateway *gw, const struct wc_proposal *prop,
                      const struct wc_responses *rs, struct lc_errbuf *err,
                      struct wc_broadcast_result *ret);

/* Opens Deliver for the gateway's channel on the first orderer that accepts the request (tried
 * in the gateway's order). Caller frees *ret with wc_deliver_free; *ret_orderer (may be NULL)
 * gets the index of the orderer used. */
int wc_gateway_deliver(struct wc_gateway *gw, const struct wc_seek *seek, struct lc_errbuf *err,
                       struct wc_deliver **ret, size_t *ret_orderer);

/* ================================ events ================================ */

/* One block from a peer Deliver stream (eventd), whole or filtered. */
struct wc_event_tx {
    char *txid;   /* "" when the envelope does not decode */
    int32_t code; /* TxValidationCode (metadata[2] byte): 0 VALID, 11 MVCC_READ_CONFLICT, ... */
    int32_t type; /* HeaderType (filtered streams only; 0 for whole blocks) */
};
struct wc_event_block {
    uint64_t number;
    size_t n_txs;
    struct wc_event_tx *txs;
    Common__Block *block; /* whole-block streams only, else NULL */
};
void wc_event_block_free(struct wc_event_block *b); /* accepts NULL */

struct wc_events;

/* Opens protos.Deliver/DeliverFiltered (filtered) or /Deliver on node and sends the signed
 * SeekInfo (wc_seek_envelope). Caller frees with wc_events_free. */
int wc_events_open(struct wc_node *node, const char *channel, const struct lc_signer *signer,
                   const struct wc_seek *seek, bool filtered, struct lc_errbuf *err,
                   struct wc_events **ret);
/* The next block, as wc_deliver_next: 0 and *ret (caller frees), 1 after SUCCESS, LC_ETIMEOUT,
 * or < 0 for a refusing status (-EACCES for FORBIDDEN, ...) or a gRPC error. */
int wc_events_next(struct wc_events *e, int timeout_ms, struct lc_errbuf *err,
                   struct wc_event_block **ret);
/* Reads blocks until one holds txid: 0 with its block number and validation code;
 * LC_ETIMEOUT after timeout_ms (0: 30 s); LC_ENOTFOUND when the stream ended first. */
int wc_events_wait_tx(struct wc_events *e, const char *txid, int timeout_ms, struct lc_errbuf *err,
                      uint64_t *ret_block, int32_t *ret_code);
void wc_events_free(struct wc_events *e); /* accepts NULL */
/* "VALID", "MVCC_READ_CONFLICT", ... for a TxValidationCode; "UNKNOWN" for other numbers. */
const char *wc_tx_code_name(int32_t code);

#endif
