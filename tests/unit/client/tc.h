/* SPDX-License-Identifier: Apache-2.0 */
/* Shared fixture of the client SDK tests: one cryptogen network and its channel config. */
#ifndef WEFT_TEST_CLIENT_TC_H
#define WEFT_TEST_CLIENT_TC_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "client/client.h"
#include "libcommon/chconf.h"
#include "libcommon/msp.h"
#include "peer/proposal_response.pb-c.h"

/* Made once in main() before the suites run (the forked tests inherit it): 3 peer orgs with 2
 * peers each, User1 and Admin per org, one orderer, and block 0 of channel "mychannel" with the
 * chaincodes below. */
struct tc_net {
    char *dir;
    char *genesis; /* <dir>/mychannel.block */
    char *other;   /* <dir>/other.block: the same orgs on channel "other" */
};
extern struct tc_net tc;

/* Chaincodes on the channel:
 *   basic  AND('Org1MSP.peer', 'Org2MSP.peer')
 *   anyone OR('Org1MSP.peer', 'Org2MSP.peer')
 *   two3   OutOf(2, 'Org1MSP.peer', 'Org2MSP.peer', 'Org3MSP.peer')
 *   dual1  AND('Org1MSP.peer', 'Org1MSP.peer')   (two distinct Org1 peers)
 *   admins OR('Org1MSP.admin')                   (no peer satisfies it)
 *   mixed  OR(AND('Org1MSP.member', 'Org3MSP.peer'), 'Org2MSP.peer')
 *   ref    /Channel/Application/Endorsement       (MAJORITY Endorsement: 2 of 3 orgs) */

struct lc_chconf *tc_chconf(void);                    /* caller frees */
struct lc_signer *tc_peer(int org, int n);            /* peer<n>.org<org>; caller frees */
struct lc_signer *tc_user(int org, const char *user); /* "User1" or "Admin"; caller frees */
struct lc_signer *tc_orderer(void);                   /* orderer0; caller frees */
const char *tc_path(const char *fmt, ...) __attribute__((format(printf, 1, 2))); /* rotating */

/* A proposal of chaincode basic by User1@org1 with args ("put", "k", "v"). */
struct wc_proposal *tc_proposal(const struct lc_signer *user, const char *chaincode);

/* A packed ProposalResponse as an endorser would answer prop: PRP{proposal_hash, ChaincodeAction
 * {results, response{status, payload}, chaincode_id{cc, "1.0"}}}, endorsement by signer over
 * PRP ‖ identity. results lets two endorsers disagree. status >= 400 leaves the endorsement and
 * payload out, as Fabric does. */
struct tc_resp {
    int32_t status;
    const char *message;
    const char *payload;       /* the chaincode's response payload */
    const char *results;       /* stands for the rwset bytes */
    const uint8_t *hash;       /* NULL: the proposal's */
    const char *outer_payload; /* NULL: same as payload */
    int corrupt_sig;           /* 1: sign other bytes */
    const void *raw_prp;       /* not NULL: raw_len bytes as the ProposalResponsePayload */
    size_t raw_len;
    int no_endorsement; /* 1: leave the endorsement out even below 400 */
};
ProtobufCBinaryData tc_response(const struct wc_proposal *prop, const struct lc_signer *signer,
                                const struct tc_resp *o);
/* Same for a proposal known by its hash and chaincode name. */
ProtobufCBinaryData tc_response_for(const uint8_t hash[32], const char *chaincode,
                                    const struct lc_signer *signer, const struct tc_resp *o);

Suite *profile_suite(void);
Suite *proposal_suite(void);
Suite *validate_suite(void);
Suite *tx_suite(void);
Suite *select_suite(void);
Suite *net_suite(void);

#endif
