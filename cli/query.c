/* SPDX-License-Identifier: Apache-2.0 */
/* `weft query`: evaluate a chaincode function on endorsers, check their answers, print the result;
 * and the flags and setup it shares with `weft invoke`. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "cli/cmds.h"
#include "client/client.h"
#include "libcommon/conf.h"

/* Most --args and --transient text taken, and most entries in --targets / --orderers. */
#define ARGS_MAX_TEXT (64u << 20)
#define ADDR_LIST_MAX 64

static const char *const selection_choices[] = {"explicit", "static", "policy", NULL};
static const char *const order_choices[] = {"random", "listed", NULL};

const struct lc_conf_setting weft_client_settings[WEFT_CLIENT_N_SETTINGS] = {
    {.name = "profile",
     .env = "WEFT_CLIENT_PROFILE",
     .type = LC_CONF_PATH,
     .help = "Fabric common connection profile (YAML or JSON): orgs, peers, orderers, channels "
             "(see docs/client.md)."},
    {.name = "channel",
     .env = "WEFT_CLIENT_CHANNEL",
     .type = LC_CONF_STRING,
     .required = true,
     .help = "The channel ID."},
    {.name = "chaincode", .type = LC_CONF_STRING, .required = true, .help = "The chaincode name."},
    {.name = "args",
     .type = LC_CONF_STRING,
     .required = true,
     .help = "The function and its arguments as a JSON array of strings, e.g. "
             "'[\"invoke\",\"a\",\"b\",\"10\"]'."},
    {.name = "transient",
     .type = LC_CONF_STRING,
     .help = "Transient data for the endorsers, never ordered: a JSON object of base64 values."},
    {.name = "targets",
     .type = LC_CONF_STRING,
     .help = "Endorsers to ask, host:port[,host:port...] (explicit selection)."},
    {.name = "selection",
     .type = LC_CONF_ENUM,
     .choices = selection_choices,
     .help = "Which endorsers to ask: explicit (--targets), static (every endorser of the channel "
             "in the profile), policy (the smallest set that satisfies the chaincode's "
             "endorsement policy, asking others when one does not answer). Default: explicit "
             "with --targets, else policy."},
    {.name = "msp-dir",
     .env = "WEFT_CLIENT_MSP_DIR",
     .type = LC_CONF_PATH,
     .required = true,
     .help = "The user's MSP directory (signcerts/, keystore/)."},
    {.name = "mspid",
     .env = "WEFT_CLIENT_MSPID",
     .type = LC_CONF_STRING,
     .help = "The user's MSP ID (default: the profile's client organization's)."},
    {.name = "genesis",
     .env = "WEFT_CLIENT_GENESIS",
     .type = LC_CONF_PATH,
     .help = "The channel's genesis block, for its configuration (MSPs, endorsement policies); "
             "default: block 0 fetched from an orderer."},
    {.name = "orderers",
     .env = "WEFT_CLIENT_ORDERERS",
     .type = LC_CONF_STRING,
     .help = "Orderers, host:port[,host:port...] (default: the channel's orderers in the "
             "profile)."},
    {.name = "orderer-order",
     .type = LC_CONF_ENUM,
     .def = "random",
     .choices = order_choices,
     .help = "Which orderer to try first: a random one or the first listed; the others follow "
             "when one is unreachable or SERVICE_UNAVAILABLE."},
    {.name = "timeout",
     .env = "WEFT_CLIENT_TIMEOUT",
     .type = LC_CONF_DURATION,
     .def = "30s",
     .min = 1,
     .max = 3600000,
     .help = "Deadline of each call to an endorser or orderer."},
    {.name = "json", .type = LC_CONF_BOOL, .def = "false", .help = "Print one JSON object."},
};
_Static_assert(sizeof weft_client_settings / sizeof weft_client_settings[0] ==
                   WEFT_CLIENT_N_SETTINGS,
               "WEFT_CLIENT_N_SETTINGS");

int weft_client_split_addresses(const char *flag, const char *text, char ***ret, size_t *ret_n)
{
    char **items = calloc(ADDR_LIST_MAX, sizeof *items);
    if (!items)
        return -ENOMEM;
    size_t n = 0;
    const char *p = text;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == 0 || n == ADDR_LIST_MAX) {
            fprintf(stderr, "weft: --%s: %s\n", flag,
                    len == 0 ? "empty entry" : "too many entries");
            goto fail;
        }
        items[n] = strndup(p, len);
        if (!items[n])
            goto fail;
        struct lc_errbuf err;
        if (wc_address_check(items[n++], &err) < 0) {
            fprintf(stderr, "weft: --%s: %s\n", flag, err.msg);
            goto fail;
        }
        if (!comma)
            break;
        p = comma + 1;
    }
    *ret = items;
    *ret_n = n;
    return 0;
fail:
    for (size_t i = 0; i < n; i++)
        free(items[i]);
    free(items);
    return -EINVAL;
}

static void free_list(char **items, size_t n)
{
    for (size_t i = 0; items && i < n; i++)
        free(items[i]);
    free(items);
}

/* --args: a JSON array of strings, kept in call->json_args (the strings point into it). */
static int parse_args(const char *text, struct weft_call *call)
{
    json_error_t je;
    json_t *a = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    if (!a || !json_is_array(a)) {
        fprintf(stderr, "weft: --args: expected a JSON array of strings%s%s\n", a ? "" : ": ",
                a ? "" : je.text);
        json_decref(a);
        return -EINVAL;
    }
    size_t n = json_array_size(a);
    if (n == 0 || n > WC_MAX_ARGS) {
        fprintf(stderr, "weft: --args: %zu entries; give the function and up to %d arguments\n", n,
                WC_MAX_ARGS - 1);
        json_decref(a);
        return -EINVAL;
    }
    call->args = calloc(n, sizeof *call->args);
    if (!call->args) {
        json_decref(a);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *s = json_array_get(a, i);
        if (!json_is_string(s)) {
            fprintf(stderr, "weft: --args[%zu]: not a string\n", i);
            json_decref(a);
            return -EINVAL;
        }
        call->args[i] =
            (ProtobufCBinaryData){json_string_length(s), (uint8_t *)json_string_value(s)};
    }
    call->n_args = n;
    call->json_args = a;
    return 0;
}

/* --transient: a JSON object of base64 values. */
static int parse_transient(const char *text, struct weft_call *call)
{
    json_error_t je;
    json_t *o = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    if (!o || !json_is_object(o)) {
        fprintf(stderr, "weft: --transient: expected a JSON object of base64 values%s%s\n",
                o ? "" : ": ", o ? "" : je.text);
        json_decref(o);
        return -EINVAL;
    }
    call->json_transient = o;
    size_t n = json_object_size(o);
    if (n > WC_MAX_ARGS) {
        fprintf(stderr, "weft: --transient: more than %d entries\n", WC_MAX_ARGS);
        return -EINVAL;
    }
    call->transient = calloc(n ? n : 1, sizeof *call->transient);
    if (!call->transient)
        return -ENOMEM;
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        if (!json_is_string(v)) {
            fprintf(stderr, "weft: --transient '%s': not a base64 string\n", key);
            return -EINVAL;
        }
        size_t cap = json_string_length(v) / 4 * 3 + 3, len;
        uint8_t *bytes = malloc(cap);
        if (!bytes)
            return -ENOMEM;
        if (sodium_base642bin(bytes, cap, json_string_value(v), json_string_length(v), NULL, &len,
                              NULL, sodium_base64_VARIANT_ORIGINAL) != 0) {
            free(bytes);
            fprintf(stderr, "weft: --transient '%s': not base64\n", key);
            return -EINVAL;
        }
        call->transient[call->n_transient++] = (struct wc_transient){key, bytes, len};
    }
    return 0;
}

void weft_client_done(struct weft_call *call)
{
    wc_gateway_free(call->gw);
    free(call->args);
    json_decref(call->json_args);
    for (size_t i = 0; i < call->n_transient; i++)
        free((void *)call->transient[i].value);
    free(call->transient);
    json_decref(call->json_transient);
    *call = (struct weft_call){0};
}

int weft_client_prepare(const char *cmd, const struct lc_conf *conf, unsigned roles,
                        struct weft_call *call)
{
    *call = (struct weft_call){0};
    int status = 2;
    char **targets = NULL, **orderers = NULL;
    size_t n_targets = 0, n_orderers = 0;
    const char *profile = lc_conf_str(conf, "profile");
    enum wc_selection sel = WC_SELECT_POLICY;
    if (lc_conf_is_set(conf, "selection"))
        wc_selection_parse(lc_conf_enum(conf, "selection"), &sel);
    else if (lc_conf_is_set(conf, "targets"))
        sel = WC_SELECT_EXPLICIT;
    if (sel == WC_SELECT_EXPLICIT && !lc_conf_is_set(conf, "targets")) {
        fprintf(stderr, "weft %s: explicit selection needs --targets\n", cmd);
        goto out;
    }
    if (sel != WC_SELECT_EXPLICIT && lc_conf_is_set(conf, "targets")) {
        fprintf(stderr, "weft %s: --targets goes with --selection explicit, not %s\n", cmd,
                wc_selection_name(sel));
        goto out;
    }
    if (sel != WC_SELECT_EXPLICIT && !profile) {
        fprintf(stderr, "weft %s: %s selection needs --profile (or give --targets)\n", cmd,
                wc_selection_name(sel));
        goto out;
    }
    if (lc_conf_is_set(conf, "targets") &&
        weft_client_split_addresses("targets", lc_conf_str(conf, "targets"), &targets, &n_targets) <
            0)
        goto out;
    if (lc_conf_is_set(conf, "orderers") &&
        weft_client_split_addresses("orderers", lc_conf_str(conf, "orderers"), &orderers,
                                    &n_orderers) < 0)
        goto out;
    if (parse_args(lc_conf_str(conf, "args"), call) < 0)
        goto out;
    if (lc_conf_is_set(conf, "transient") &&
        parse_transient(lc_conf_str(conf, "transient"), call) < 0)
        goto out;
    call->chaincode = lc_conf_str(conf, "chaincode");
    call->json = lc_conf_bool(conf, "json");

    const struct wc_gateway_opts opts = {
        .profile = profile,
        .channel = lc_conf_str(conf, "channel"),
        .msp_dir = lc_conf_str(conf, "msp-dir"),
        .mspid = lc_conf_str(conf, "mspid"),
        .targets = (const char *const *)targets,
        .n_targets = n_targets,
        .selection = sel,
        .roles = roles,
        .genesis = lc_conf_str(conf, "genesis"),
        .orderers = (const char *const *)orderers,
        .n_orderers = n_orderers,
        .orderer_order =
            lc_conf_enum_index(conf, "orderer-order") == 1 ? WC_ORDER_LISTED : WC_ORDER_RANDOM,
        .timeout_ms = (int)lc_conf_duration_ms(conf, "timeout"),
    };
    struct lc_errbuf err;
    if (wc_gateway_open(&opts, &err, &call->gw) < 0) {
        fprintf(stderr, "weft %s: %s\n", cmd, err.msg);
        status = 1;
        goto out;
    }
    status = 0;
out:
    free_list(targets, n_targets);
    free_list(orderers, n_orderers);
    if (status != 0)
        weft_client_done(call);
    return status;
}

json_t *weft_client_endorsers_json(const struct wc_responses *rs)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < wc_responses_count(rs); i++)
        json_array_append_new(a, json_string(wc_responses_endorser(rs, i)));
    return a;
}

/* The payload as a JSON string when it is UTF-8, else null; and always as base64. */
int weft_client_payload_json(json_t *obj, const uint8_t *p, size_t len)
{
    json_t *text = len ? json_stringn((const char *)p, len) : json_string("");
    size_t b64_len = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc(b64_len);
    if (!b64) {
        json_decref(text);
        return -ENOMEM;
    }
    sodium_bin2base64(b64, b64_len, p, len, sodium_base64_VARIANT_ORIGINAL);
    json_object_set_new(obj, "payload", text ? text : json_null());
    json_object_set_new(obj, "payload_base64", json_string(b64));
    free(b64);
    return 0;
}

int weft_client_print_json(json_t *obj)
{
    if (!obj || json_dumpf(obj, stdout, JSON_COMPACT | JSON_SORT_KEYS) < 0 ||
        fputc('\n', stdout) == EOF || fflush(stdout) != 0) {
        fprintf(stderr, "weft: writing stdout failed\n");
        return -EIO;
    }
    return 0;
}

static const struct lc_conf_def query_def = {
    .service = "query",
    .program = "weft query",
    .summary = "Evaluates a chaincode function: sends a signed proposal to the selected "
               "endorsers, checks that every answer succeeded, that all endorsers agree "
               "byte for byte and that each endorsement is signed by a valid peer of the "
               "channel, then prints the chaincode's response payload. Nothing is ordered. "
               "Endorsers come from the profile's peers with the chaincodeQuery role, or "
               "--targets.",
    .settings = weft_client_settings,
    .n_settings = WEFT_CLIENT_N_SETTINGS,
};

int weft_cmd_query(int argc, char **argv)
{
    struct lc_conf *conf = NULL;
    struct lc_errbuf err;
    struct weft_call call = {0};
    struct wc_proposal *prop = NULL;
    struct wc_responses *rs = NULL;
    int status = 1;
    if (lc_conf_new(&query_def, &conf, &err) < 0) {
        fprintf(stderr, "weft query: %s\n", err.msg);
        return 1;
    }
    if (lc_conf_parse(conf, argc, argv, NULL, &err) < 0) {
        fprintf(stderr, "weft query: %s\n", err.msg);
        status = 2;
        goto out;
    }
    if (lc_conf_help_requested(conf) != LC_CONF_HELP_NONE) {
        status = lc_conf_write_help(conf, lc_conf_help_requested(conf), stdout) < 0;
        goto out;
    }
    status = weft_client_prepare("query", conf, WC_ROLE_CHAINCODE_QUERY, &call);
    if (status != 0)
        goto out;
    status = 1;
    if (wc_gateway_endorse(call.gw, call.chaincode, call.args, call.n_args, call.transient,
                           call.n_transient, &err, &prop, &rs) < 0) {
        fprintf(stderr, "weft query: %s\n", err.msg);
        goto out;
    }
    size_t len;
    const uint8_t *payload = wc_responses_result(rs, &len);
    if (call.json) {
        json_t *o = json_object();
        if (!o)
            goto out;
        json_object_set_new(o, "txid", json_string(wc_proposal_txid(prop)));
        json_object_set_new(o, "status", json_integer(wc_responses_result_status(rs)));
        json_object_set_new(o, "endorsers", weft_client_endorsers_json(rs));
        weft_client_payload_json(o, payload, len);
        int r = weft_client_print_json(o);
        json_decref(o);
        if (r < 0)
            goto out;
    } else if (fwrite(payload, 1, len, stdout) != len || fputc('\n', stdout) == EOF ||
               fflush(stdout) != 0) {
        fprintf(stderr, "weft query: writing stdout failed\n");
        goto out;
    }
    status = 0;
out:
    wc_responses_free(rs);
    wc_proposal_free(prop);
    weft_client_done(&call);
    lc_conf_free(conf);
    return status;
}
