/* SPDX-License-Identifier: Apache-2.0 */
/* The weft tool's subcommands: each takes argv with argv[0] = the command name, returns the exit
 * code. */
#ifndef WEFT_CMDS_H
#define WEFT_CMDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include <jansson.h>

#include "client/client.h"
#include "libcommon/conf.h"
#include "libcommon/err.h"

int weft_cmd_cryptogen(int argc, char **argv);
int weft_cmd_genesis(int argc, char **argv);
int weft_cmd_inspect(int argc, char **argv);

/* The message types `weft inspect --type` names; WEFT_INSPECT_AUTO tries block, envelope,
 * signed-proposal, proposal-response in that order (see cli/inspect.c). */
enum weft_inspect_type {
    WEFT_INSPECT_AUTO = 0,
    WEFT_INSPECT_BLOCK,
    WEFT_INSPECT_ENVELOPE,
    WEFT_INSPECT_PROPOSAL,
    WEFT_INSPECT_SIGNED_PROPOSAL,
    WEFT_INSPECT_PROPOSAL_RESPONSE,
    WEFT_INSPECT_CONFIG_ENVELOPE,
};

/* Decodes buf as type (every nested layer too) into a JSON tree; the inspect command and the
 * fuzz target share it. Rejects empty input, and fails the whole call when any layer does not
 * decode (LC_EDECODE) or nests deeper than the printer allows (LC_EINVALID), with the path to
 * it in err ("block.data.data[0].payload: common.Payload: truncated or malformed"). On success
 * *ret_json is a new reference (caller json_decref's it) and *ret_type (if not NULL) the type
 * used; on failure both are untouched. */
int weft_inspect_decode(const uint8_t *buf, size_t len, enum weft_inspect_type type,
                        json_t **ret_json, enum weft_inspect_type *ret_type, struct lc_errbuf *err);

int weft_cmd_query(int argc, char **argv);
int weft_cmd_invoke(int argc, char **argv);
int weft_cmd_blocks(int argc, char **argv);
int weft_cmd_events(int argc, char **argv);

/* ---- shared by query and invoke (cli/query.c) ---- */

struct wc_gateway;
struct wc_responses;
struct wc_transient;

/* The settings query and invoke take (the same table). */
#define WEFT_CLIENT_N_SETTINGS 14
extern const struct lc_conf_setting weft_client_settings[WEFT_CLIENT_N_SETTINGS];

/* A chaincode call from the flags: the gateway, the chaincode, its args and transient data. */
struct weft_call {
    struct wc_gateway *gw;
    const char *chaincode;     /* borrowed from the conf */
    ProtobufCBinaryData *args; /* point into json_args */
    size_t n_args;
    struct wc_transient *transient; /* keys point into json_transient, values malloc'd */
    size_t n_transient;
    bool json;
    json_t *json_args, *json_transient;
};

/* Reads the flags into call and opens the gateway (profile peers with roles, when the selection
 * takes them from the profile). Prints what is wrong as "weft <cmd>: ..." and returns the exit
 * status: 0, 2 for a usage error, 1 when the profile, identity or nodes fail. */
int weft_client_prepare(const char *cmd, const struct lc_conf *conf, unsigned roles,
                        struct weft_call *call);
void weft_client_done(struct weft_call *call);

/* Splits "host:port,host:port" (at most 64, each checked) into malloc'd strings; the caller frees
 * each and the array. Prints the problem as "weft: --<flag>: ..." and returns -EINVAL. */
int weft_client_split_addresses(const char *flag, const char *text, char ***ret, size_t *ret_n);

/* JSON helpers: the endorser names; "payload" (a string when UTF-8, else null) and
 * "payload_base64" set on obj; one compact line on stdout (-EIO when it cannot be written). */
json_t *weft_client_endorsers_json(const struct wc_responses *rs);
int weft_client_payload_json(json_t *obj, const uint8_t *p, size_t len);
int weft_client_print_json(json_t *obj);

/* Parses a Deliver position flag of command cmd: "oldest" (start only), "newest", "forever"
 * (stop only) or a decimal block number up to INT64_MAX. Prints the error, naming cmd and --flag,
 * and returns -EINVAL otherwise. Shared by weft blocks and weft events. */
int weft_parse_seek_position(const char *cmd, const char *flag, const char *text, bool is_stop,
                             enum wc_seek_kind *ret_kind, uint64_t *ret_number);

#endif
