/* SPDX-License-Identifier: Apache-2.0 */
/* Admission checks shared by Broadcast and Deliver: envelope headers, the creator, policies. */
#ifndef ORDERER_ADMIT_H
#define ORDERER_ADMIT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/common.pb-c.h"
#include "libcommon/chconf.h"
#include "libcommon/err.h"
#include "libcommon/msp.h"

/* An envelope's payload with its two headers, each decoded once. */
struct orderer_env {
    Common__Payload *payload;      /* owns the bytes the other two were decoded from */
    Common__ChannelHeader *chdr;   /* never NULL after a successful parse */
    Common__SignatureHeader *shdr; /* never NULL after a successful parse */
};

/* Decodes payload bytes into e: Payload, its header (required), the ChannelHeader and the
 * SignatureHeader. Rejects (LC_EDECODE / LC_EINVALID, naming the layer): an empty payload, a
 * payload, channel header or signature header that does not decode, a missing header. Nothing
 * else is checked. On failure e is left empty. Free with orderer_env_done. */
int orderer_env_parse(const uint8_t *payload, size_t len, struct orderer_env *e,
                      struct lc_errbuf *err);

/* Frees what e holds and empties it; accepts an empty e. */
void orderer_env_done(struct orderer_env *e);

/*
 * The signer of an envelope, checked for admission at wall-clock time now:
 *   the creator deserializes into a valid identity of the channel's MSPs (LC_EUNKNOWNMSP,
 *     LC_EBADCERT, LC_EROLE, LC_EREVOKED, LC_EDECODE, ... from the msp module);
 *   its certificate is within its validity period at now (LC_EEXPIRED);
 *   sig is its valid signature over data (LC_EBADSIG, LC_EHIGHS, LC_EDECODE, LC_EBADKEY);
 *   it satisfies the policy at policy_path (LC_EPOLICY; LC_ENOTFOUND if no such policy).
 * The signature is verified exactly once; the policy is then evaluated over that one verified
 * identity. Cause in err, prefixed by what failed. On success, *ret_id (if not NULL) holds a
 * reference to the identity (caller unrefs).
 */
int orderer_check_signer(const struct lc_chconf *c, const char *policy_path, const uint8_t *creator,
                         size_t creator_len, const uint8_t *data, size_t data_len,
                         const uint8_t *sig, size_t sig_len, time_t now,
                         struct lc_identity **ret_id, struct lc_errbuf *err);

/*
 * Broadcast's checks of a normal (non-config) message once its channel is known, in Fabric's
 * order (wire facts §10), as a Fabric status:
 *   ORDERER_TRANSACTION, CONFIG sent directly                   BAD_REQUEST
 *   CONFIG_UPDATE (channel updates are not supported yet)       BAD_REQUEST
 *   ConsensusType state MAINTENANCE                              SERVICE_UNAVAILABLE
 *   len(payload) + len(signature) > AbsoluteMaxBytes             BAD_REQUEST
 *   creator certificate expired (or not yet valid)               BAD_REQUEST
 *   creator not a valid identity, bad signature, /Channel/Writers not satisfied  FORBIDDEN
 *   out of memory                                                INTERNAL_SERVER_ERROR
 * Returns COMMON__STATUS__SUCCESS when the message may be ordered; otherwise the status, with
 * the reason in err.
 */
Common__Status orderer_admit_normal(const struct lc_chconf *c, const struct orderer_env *e,
                                    const uint8_t *payload, size_t payload_len, const uint8_t *sig,
                                    size_t sig_len, time_t now, struct lc_errbuf *err);

#endif
