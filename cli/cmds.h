/* SPDX-License-Identifier: Apache-2.0 */
/* The weft tool's subcommands: each takes argv with argv[0] = the command name, returns the exit
 * code. */
#ifndef WEFT_CMDS_H
#define WEFT_CMDS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

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

#endif
