/* SPDX-License-Identifier: Apache-2.0 */
/* A channel config from its config (genesis) block: MSPs, policies, orderer and app values. */
#ifndef LC_CHCONF_H
#define LC_CHCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/common.pb-c.h"
#include "common/configtx.pb-c.h"
#include "weft/config.pb-c.h"

#include "libcommon/err.h"
#include "libcommon/policy.h"

/*
 * What is read (wire facts §6): block.data[0] → Envelope → Payload → ChannelHeader (type CONFIG)
 * → ConfigEnvelope → Config{sequence, channel_group}. The tree must look like configtxgen's:
 *
 *   /Channel            values HashingAlgorithm ("SHA256"), BlockDataHashingStructure
 *                       (width 4294967295), optional OrdererAddresses, Capabilities, Consortium
 *     /Orderer          required; values BatchSize, BatchTimeout, ConsensusType (required),
 *                       KafkaBrokers (required for kafka), ChannelRestrictions, Capabilities
 *       /<org>          value MSP (required), optional Endpoints
 *     /Application      optional; values Capabilities, ACLs, WeftChaincodes (all optional)
 *       /<org>          value MSP (required), optional AnchorPeers
 *
 * Every group may carry policies: SIGNATURE (a SignaturePolicyEnvelope) or IMPLICIT_META
 * (evaluated over the same-named policy of each child group; a child without it counts as not
 * satisfied, as in Fabric). Names of groups, values and policies follow Fabric's rule
 * ([A-Za-z0-9.-]+, at most 249 bytes, not "." or ".."); the channel id follows
 * [a-z][a-z0-9.-]*, at most 249 bytes. Unknown groups, unknown values, unknown capabilities,
 * duplicate map keys and org groups with sub-groups are rejected, as Fabric's channelconfig does.
 * mod_policy and versions are not interpreted (weft applies no config updates yet).
 *
 * Every rejection names the config path that is wrong, e.g.
 * "/Channel/Orderer/BatchSize: max_message_count is 0". Codes: LC_EDECODE for bytes that do not
 * decode, LC_EINVALID for values that are not allowed or missing, the msp module's codes for a
 * broken MSP value, -ENOMEM.
 *
 * A loaded lc_chconf is immutable: every accessor and evaluation may run from many threads at
 * once. Strings and structs it hands out are borrowed and live as long as it does.
 */
struct lc_chconf;
struct lc_msp_mgr;

/* Longest Go duration string accepted for BatchTimeout. */
#define LC_CHCONF_MAX_DURATION_TEXT 64

/* ---- loading ------------------------------------------------------------------------------ */

/* Reads the configuration carried by a config block: exactly one envelope in data, whose channel
 * header has type CONFIG (1). Rejects a block that is not a config block ("block: ..."), and
 * every problem listed above. The identity cache of the MSP manager keeps at most
 * identity_cache_max identities (0 disables it). On success *ret (caller frees with
 * lc_chconf_free). */
int lc_chconf_from_block(const Common__Block *block, size_t identity_cache_max,
                         struct lc_errbuf *err, struct lc_chconf **ret);

/* Same from packed block bytes (LC_EDECODE "block: ..." if they do not decode). */
int lc_chconf_from_block_bytes(const uint8_t *buf, size_t len, size_t identity_cache_max,
                               struct lc_errbuf *err, struct lc_chconf **ret);

/* Same from a decoded Config for channel_id, for tools that build a config before wrapping it in
 * a block (e.g. `weft genesis` checking what it is about to write). */
int lc_chconf_from_config(const char *channel_id, const Common__Config *config,
                          size_t identity_cache_max, struct lc_errbuf *err, struct lc_chconf **ret);

/* Frees; accepts NULL. Identities handed out by its MSP manager stay valid until unref'd. */
void lc_chconf_free(struct lc_chconf *c);

/* ---- channel ------------------------------------------------------------------------------ */

const char *lc_chconf_channel_id(const struct lc_chconf *c);
uint64_t lc_chconf_sequence(const struct lc_chconf *c);

/* The channel's MSPs (all orgs of Application and Orderer), borrowed. Use it with
 * lc_msp_mgr_deserialize, or as ctx of lc_msp_policy_ops for lc_policy_idset_new. */
struct lc_msp_mgr *lc_chconf_msp_mgr(const struct lc_chconf *c);

/* Root OrdererAddresses ("host:port"); NULL when i is out of range. */
size_t lc_chconf_orderer_address_count(const struct lc_chconf *c);
const char *lc_chconf_orderer_address(const struct lc_chconf *c, size_t i);

/* Capabilities, by the group that declares them. */
enum lc_chconf_scope {
    LC_CHCONF_CHANNEL,
    LC_CHCONF_ORDERER,
    LC_CHCONF_APPLICATION,
};
bool lc_chconf_has_capability(const struct lc_chconf *c, enum lc_chconf_scope scope,
                              const char *name);
size_t lc_chconf_capability_count(const struct lc_chconf *c, enum lc_chconf_scope scope);
const char *lc_chconf_capability(const struct lc_chconf *c, enum lc_chconf_scope scope, size_t i);

/* ---- policies ----------------------------------------------------------------------------- */

/* Every policy's absolute path ("/Channel/Application/Org1MSP/Endorsement"), in tree order. */
size_t lc_chconf_policy_count(const struct lc_chconf *c);
const char *lc_chconf_policy_path(const struct lc_chconf *c, size_t i);

/* Whether a policy exists. path is absolute ("/Channel/...") or relative to /Channel
 * ("Application/Writers"), as Fabric's policy manager resolves it. */
bool lc_chconf_policy_exists(const struct lc_chconf *c, const char *path);

/* Evaluates the policy at path against signed data: the identity set is prepared once (Fabric's
 * rules, see lc_policy_idset_new, with this channel's MSPs) and shared by every signature policy
 * the evaluation reaches. Returns 0 when satisfied; LC_EPOLICY when not, with err naming the
 * policy and why ("policy /Channel/Writers: implicit meta policy ANY Writers: 0 of 2
 * sub-policies satisfied, 1 needed"); LC_ENOTFOUND when no policy has that path; -ENOMEM. */
int lc_chconf_policy_eval(const struct lc_chconf *c, const char *path,
                          const struct lc_signed_data *sd, size_t n_sd, struct lc_errbuf *err);

/* Same over an identity set the caller prepared (for several checks on the same signatures);
 * the set must come from this channel's MSP manager. */
int lc_chconf_policy_eval_idset(const struct lc_chconf *c, const char *path,
                                const struct lc_policy_idset *set, struct lc_errbuf *err);

/* ---- orderer ------------------------------------------------------------------------------ */

uint32_t lc_chconf_batch_max_message_count(const struct lc_chconf *c);
uint32_t lc_chconf_batch_absolute_max_bytes(const struct lc_chconf *c);
uint32_t lc_chconf_batch_preferred_max_bytes(const struct lc_chconf *c);
/* BatchTimeout in nanoseconds (always > 0). */
uint64_t lc_chconf_batch_timeout_ns(const struct lc_chconf *c);
/* ConsensusType: "solo" or "kafka"; state 0 (NORMAL) or 1 (MAINTENANCE); metadata bytes. */
const char *lc_chconf_consensus_type(const struct lc_chconf *c);
int lc_chconf_consensus_state(const struct lc_chconf *c);
const uint8_t *lc_chconf_consensus_metadata(const struct lc_chconf *c, size_t *ret_len);
/* KafkaBrokers ("host:port"); none for solo. */
size_t lc_chconf_kafka_broker_count(const struct lc_chconf *c);
const char *lc_chconf_kafka_broker(const struct lc_chconf *c, size_t i);
/* ChannelRestrictions.max_count (0 when absent). */
uint64_t lc_chconf_max_channels(const struct lc_chconf *c);

/* Orderer orgs: group name, MSP id, Endpoints ("host:port"). NULL when out of range. */
size_t lc_chconf_orderer_org_count(const struct lc_chconf *c);
const char *lc_chconf_orderer_org_name(const struct lc_chconf *c, size_t i);
const char *lc_chconf_orderer_org_mspid(const struct lc_chconf *c, size_t i);
size_t lc_chconf_orderer_org_endpoint_count(const struct lc_chconf *c, size_t i);
const char *lc_chconf_orderer_org_endpoint(const struct lc_chconf *c, size_t i, size_t j);

/* ---- application -------------------------------------------------------------------------- */

bool lc_chconf_has_application(const struct lc_chconf *c);

/* Application orgs: group name, MSP id, anchor peers. NULL / 0 when out of range. */
size_t lc_chconf_app_org_count(const struct lc_chconf *c);
const char *lc_chconf_app_org_name(const struct lc_chconf *c, size_t i);
const char *lc_chconf_app_org_mspid(const struct lc_chconf *c, size_t i);
size_t lc_chconf_anchor_peer_count(const struct lc_chconf *c, size_t org);
/* Host of anchor peer j of org, and its port in *ret_port (1..65535); NULL when out of range. */
const char *lc_chconf_anchor_peer(const struct lc_chconf *c, size_t org, size_t j, int *ret_port);

/* ACLs: the policy reference for a resource ("peer/Propose"), or NULL when not set. */
const char *lc_chconf_acl(const struct lc_chconf *c, const char *resource);

/* Chaincode definitions from the Application value "WeftChaincodes". Each has a valid name
 * (Fabric's [a-zA-Z0-9]+([-_][a-zA-Z0-9]+)*) unique on the channel, a non-empty version of
 * [A-Za-z0-9_.+-], sequence >= 1, and an endorsement policy that is a checked signature policy
 * or a reference to a policy of this channel; a definition without a policy gets Fabric's
 * default reference /Channel/Application/Endorsement. Borrowed, read-only. */
size_t lc_chconf_chaincode_count(const struct lc_chconf *c);
const Weft__ChaincodeDefinition *lc_chconf_chaincode_at(const struct lc_chconf *c, size_t i);
/* By name; NULL when the channel has no such chaincode. */
const Weft__ChaincodeDefinition *lc_chconf_chaincode(const struct lc_chconf *c, const char *name);

/* Evaluates chaincode name's endorsement policy against signed data (for endorsements:
 * {prp ‖ endorser, endorser, signature}). Returns 0, LC_EPOLICY (err names the chaincode and
 * why), LC_ENOTFOUND (no such chaincode), -ENOMEM. */
int lc_chconf_chaincode_policy_eval(const struct lc_chconf *c, const char *name,
                                    const struct lc_signed_data *sd, size_t n_sd,
                                    struct lc_errbuf *err);
/* Same over a prepared identity set. */
int lc_chconf_chaincode_policy_eval_idset(const struct lc_chconf *c, const char *name,
                                          const struct lc_policy_idset *set, struct lc_errbuf *err);

/* ---- helpers ------------------------------------------------------------------------------ */

/* Parses a Go duration string ("2s", "500ms", "1m30s", "1.5h", "0"), as Go's time.ParseDuration
 * does (units ns, us, µs, μs, ms, s, m, h; an optional sign; fractions). Rejects an empty or
 * over-long string, a number without unit, an unknown unit, and overflow (LC_ESYNTAX with the
 * cause in err). Negative values are returned as they are; callers decide what they accept. */
int lc_chconf_parse_duration(const char *text, int64_t *ret_ns, struct lc_errbuf *err);

#endif
