/* SPDX-License-Identifier: Apache-2.0 */
/* `weft invoke`: endorse, check, assemble and sign a transaction, broadcast it with failover. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cmds.h"
#include "client/client.h"
#include "libcommon/conf.h"

/* The client settings plus the commit wait's, filled in by weft_cmd_invoke. */
#define INVOKE_N_SETTINGS (WEFT_CLIENT_N_SETTINGS + 2)
static struct lc_conf_setting invoke_settings[INVOKE_N_SETTINGS];
static const struct lc_conf_setting wait_settings[2] = {
    {.name = "eventd",
     .env = "WEFT_CLIENT_EVENTD",
     .type = LC_CONF_STRING,
     .help = "The event service (host:port): register for the TxID before broadcasting, then "
             "wait for the commit and report its block and validation code."},
    {.name = "no-wait",
     .type = LC_CONF_BOOL,
     .def = "false",
     .help = "Do not wait for the commit even when --eventd is given."},
};

static const struct lc_conf_def invoke_def = {
    .service = "invoke",
    .program = "weft invoke",
    .summary = "Submits a transaction: sends a signed proposal to the selected endorsers, checks "
               "their answers (success, byte-identical results, endorsements signed by valid "
               "peers of the channel), assembles and signs the transaction and broadcasts it to "
               "an orderer, moving to the next orderer when one is unreachable or "
               "SERVICE_UNAVAILABLE. Prints the TxID and the orderer's answer. With --eventd it "
               "registers for the TxID before broadcasting and waits for the commit, prints "
               "the block number and TxValidationCode, and exits 0 only when it is VALID. Without "
               "it (or with --no-wait) it does not wait for the transaction to be committed "
               "and exits 0 when the orderer answered SUCCESS. "
               "Endorsers come from the profile's peers with the endorsingPeer role, or "
               "--targets.",
    .settings = invoke_settings,
    .n_settings = INVOKE_N_SETTINGS,
};

int weft_cmd_invoke(int argc, char **argv)
{
    struct lc_conf *conf = NULL;
    struct lc_errbuf err;
    struct weft_call call = {0};
    struct wc_proposal *prop = NULL;
    struct wc_responses *rs = NULL;
    struct wc_node *evnode = NULL;
    struct wc_events *ev = NULL;
    int status = 1;
    memcpy(invoke_settings, weft_client_settings, sizeof weft_client_settings);
    memcpy(invoke_settings + WEFT_CLIENT_N_SETTINGS, wait_settings, sizeof wait_settings);
    if (lc_conf_new(&invoke_def, &conf, &err) < 0) {
        fprintf(stderr, "weft invoke: %s\n", err.msg);
        return 1;
    }
    if (lc_conf_parse(conf, argc, argv, NULL, &err) < 0) {
        fprintf(stderr, "weft invoke: %s\n", err.msg);
        status = 2;
        goto out;
    }
    if (lc_conf_help_requested(conf) != LC_CONF_HELP_NONE) {
        status = lc_conf_write_help(conf, lc_conf_help_requested(conf), stdout) < 0;
        goto out;
    }
    status = weft_client_prepare("invoke", conf, WC_ROLE_ENDORSING, &call);
    if (status != 0)
        goto out;
    status = 1;
    if (wc_gateway_orderer_count(call.gw) == 0) {
        fprintf(stderr, "weft invoke: no orderers: give --orderers or a profile that has them\n");
        status = 2;
        goto out;
    }
    if (wc_gateway_endorse(call.gw, call.chaincode, call.args, call.n_args, call.transient,
                           call.n_transient, &err, &prop, &rs) < 0) {
        fprintf(stderr, "weft invoke: %s\n", err.msg);
        goto out;
    }
    int wait_ms = (int)lc_conf_duration_ms(conf, "timeout");
    if (lc_conf_is_set(conf, "eventd") && !lc_conf_bool(conf, "no-wait")) {
        /* registered before the broadcast: the first answer (the newest block) says the
         * stream is open, so the commit cannot be missed */
        struct wc_endpoint ep = {.name = lc_conf_str(conf, "eventd"),
                                 .address = lc_conf_str(conf, "eventd")};
        struct wc_seek seek = {.start = WC_SEEK_NEWEST, .stop = WC_SEEK_FOREVER};
        struct wc_event_block *first = NULL;
        if (wc_node_new(&ep, 0, &err, &evnode) < 0 ||
            wc_events_open(evnode, lc_conf_str(conf, "channel"), wc_gateway_signer(call.gw), &seek,
                           true, &err, &ev) < 0 ||
            wc_events_next(ev, wait_ms, &err, &first) != 0) {
            fprintf(stderr, "weft invoke: eventd %s: %s\n", lc_conf_str(conf, "eventd"), err.msg);
            goto out;
        }
        wc_event_block_free(first);
    }
    struct wc_broadcast_result res;
    if (wc_gateway_submit(call.gw, prop, rs, &err, &res) < 0) {
        fprintf(stderr, "weft invoke: txid %s: %s\n", wc_proposal_txid(prop), err.msg);
        goto out;
    }
    const char *orderer = wc_node_name(wc_gateway_orderer(call.gw, res.orderer));
    uint64_t block = 0;
    int32_t code = -1;
    bool waited = false;
    if (ev && res.status == 200) {
        if (wc_events_wait_tx(ev, wc_proposal_txid(prop), wait_ms, &err, &block, &code) < 0) {
            fprintf(stderr, "weft invoke: txid %s: %s\n", wc_proposal_txid(prop), err.msg);
            goto out;
        }
        waited = true;
    }
    size_t len;
    const uint8_t *payload = wc_responses_result(rs, &len);
    if (call.json) {
        json_t *o = json_object();
        if (!o)
            goto out;
        json_object_set_new(o, "txid", json_string(wc_proposal_txid(prop)));
        json_object_set_new(o, "endorsers", weft_client_endorsers_json(rs));
        json_object_set_new(o, "chaincode_status", json_integer(wc_responses_result_status(rs)));
        weft_client_payload_json(o, payload, len);
        json_object_set_new(o, "orderer", json_string(orderer));
        json_object_set_new(o, "failed_over", json_integer((json_int_t)res.failed_over));
        json_object_set_new(o, "status", json_integer(res.status));
        json_object_set_new(o, "status_name", json_string(wc_status_name(res.status)));
        json_object_set_new(o, "info", json_string(res.info));
        if (waited) {
            json_object_set_new(o, "block", json_integer((json_int_t)block));
            json_object_set_new(o, "validation_code", json_integer(code));
            json_object_set_new(o, "validation_code_name", json_string(wc_tx_code_name(code)));
        }
        int r = weft_client_print_json(o);
        json_decref(o);
        if (r < 0)
            goto out;
    } else {
        printf("txid %s\n", wc_proposal_txid(prop));
        printf("endorsed by");
        for (size_t i = 0; i < wc_responses_count(rs); i++)
            printf("%s %s", i ? "," : "", wc_responses_endorser(rs, i));
        printf(" (chaincode status %d)\n", (int)wc_responses_result_status(rs));
        printf("orderer %s: %s (%d)%s%s", orderer, wc_status_name(res.status), (int)res.status,
               res.info[0] ? ": " : "", res.info);
        if (res.failed_over)
            printf(" after %zu unavailable", res.failed_over);
        printf("\n");
        if (waited)
            printf("committed in block %llu: %s (%d)\n", (unsigned long long)block,
                   wc_tx_code_name(code), (int)code);
        if (fflush(stdout) != 0) {
            fprintf(stderr, "weft invoke: writing stdout failed\n");
            goto out;
        }
    }
    if (res.status != 200) {
        fprintf(stderr, "weft invoke: txid %s: orderer %s answered %s (%d)%s%s\n",
                wc_proposal_txid(prop), orderer, wc_status_name(res.status), (int)res.status,
                res.info[0] ? ": " : "", res.info);
        goto out;
    }
    if (waited && code != 0) {
        fprintf(stderr, "weft invoke: txid %s: committed in block %llu as %s (%d)\n",
                wc_proposal_txid(prop), (unsigned long long)block, wc_tx_code_name(code),
                (int)code);
        goto out;
    }
    status = 0;
out:
    wc_events_free(ev);
    wc_node_free(evnode);
    wc_responses_free(rs);
    wc_proposal_free(prop);
    weft_client_done(&call);
    lc_conf_free(conf);
    return status;
}
