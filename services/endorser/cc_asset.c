/* SPDX-License-Identifier: Apache-2.0 */
/* Chaincode "asset": Fabric's asset-transfer-basic sample, assets as JSON documents. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "services/endorser/registry.h"

/*
 * An asset is stored under its ID as compact JSON with the keys sorted, which is the form the Go
 * sample writes (its struct lists the fields alphabetically so every language agrees):
 *   {"AppraisedValue":300,"Color":"blue","ID":"asset1","Owner":"Tomoko","Size":5}
 * The functions read and write the same keys as the Go contract, so the rwsets have the same
 * shape: Create/Update/Delete read the asset (the existence check) then write it; Transfer reads
 * then writes; GetAllAssets scans the whole namespace; InitLedger only writes.
 */

#define JSON_FLAGS (JSON_COMPACT | JSON_SORT_KEYS)

struct asset {
    const char *id, *color, *owner;
    long long size, value;
};

static bool parse_int(const char *s, long long *ret)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return false;
    *ret = v;
    return true;
}

static bool params_ok(struct cc_stub *s, size_t want)
{
    if (cc_nparams(s) != want) {
        cc_error(s, "%s: expected %zu parameters, got %zu", cc_function(s), want, cc_nparams(s));
        return false;
    }
    for (size_t i = 0; i < want; i++) {
        if (!cc_param(s, i)) {
            cc_error(s, "%s: parameter %zu holds a 0x00 byte", cc_function(s), i + 1);
            return false;
        }
    }
    return true;
}

/* Stores a as JSON under its ID; on failure the error response is set. */
static int put_asset(struct cc_stub *s, const struct asset *a)
{
    json_t *o =
        json_pack("{s:I, s:s, s:s, s:s, s:I}", "AppraisedValue", (json_int_t)a->value, "Color",
                  a->color, "ID", a->id, "Owner", a->owner, "Size", (json_int_t)a->size);
    char *text = o ? json_dumps(o, JSON_FLAGS) : NULL;
    json_decref(o);
    if (!text) {
        cc_error(s, "asset %s: cannot encode (fields must be UTF-8 text)", a->id);
        return -1;
    }
    int r = cc_put_state(s, a->id, strlen(a->id), text, strlen(text));
    free(text);
    if (r < 0)
        cc_error(s, "failed to put asset %s: %s", a->id, cc_last_error(s));
    return r;
}

/* Reads asset id: 1 and the stored bytes, 0 when absent, < 0 failed (error response set). */
static int get_asset(struct cc_stub *s, const char *id, const uint8_t **ret, size_t *ret_len)
{
    int r = cc_get_state(s, id, strlen(id), ret, ret_len);
    if (r < 0)
        cc_error(s, "failed to read asset %s: %s", id, cc_last_error(s));
    return r;
}

/* Reads the five parameters ID Color Size Owner AppraisedValue. */
static bool asset_params(struct cc_stub *s, struct asset *a)
{
    if (!params_ok(s, 5))
        return false;
    a->id = cc_param(s, 0);
    a->color = cc_param(s, 1);
    a->owner = cc_param(s, 3);
    if (!parse_int(cc_param(s, 2), &a->size)) {
        cc_error(s, "%s: size %s is not an integer", cc_function(s), cc_param(s, 2));
        return false;
    }
    if (!parse_int(cc_param(s, 4), &a->value)) {
        cc_error(s, "%s: appraised value %s is not an integer", cc_function(s), cc_param(s, 4));
        return false;
    }
    return true;
}

static void init_ledger(struct cc_stub *s)
{
    static const struct asset assets[] = {
        {"asset1", "blue", "Tomoko", 5, 300},    {"asset2", "red", "Brad", 5, 400},
        {"asset3", "green", "Jin Soo", 10, 500}, {"asset4", "yellow", "Max", 10, 600},
        {"asset5", "black", "Adriana", 15, 700}, {"asset6", "white", "Michel", 15, 800},
    };
    if (!params_ok(s, 0))
        return;
    for (size_t i = 0; i < sizeof assets / sizeof assets[0]; i++)
        if (put_asset(s, &assets[i]) < 0)
            return;
    cc_success(s, NULL, 0);
}

static void create_asset(struct cc_stub *s)
{
    struct asset a;
    const uint8_t *v;
    size_t len;
    if (!asset_params(s, &a))
        return;
    int r = get_asset(s, a.id, &v, &len);
    if (r < 0)
        return;
    if (r == 1) {
        cc_error(s, "the asset %s already exists", a.id);
        return;
    }
    if (put_asset(s, &a) == 0)
        cc_success(s, NULL, 0);
}

static void read_asset(struct cc_stub *s)
{
    const uint8_t *v;
    size_t len;
    if (!params_ok(s, 1))
        return;
    int r = get_asset(s, cc_param(s, 0), &v, &len);
    if (r < 0)
        return;
    if (r == 0) {
        cc_error(s, "the asset %s does not exist", cc_param(s, 0));
        return;
    }
    cc_success(s, v, len);
}

static void update_asset(struct cc_stub *s)
{
    struct asset a;
    const uint8_t *v;
    size_t len;
    if (!asset_params(s, &a))
        return;
    int r = get_asset(s, a.id, &v, &len);
    if (r < 0)
        return;
    if (r == 0) {
        cc_error(s, "the asset %s does not exist", a.id);
        return;
    }
    if (put_asset(s, &a) == 0)
        cc_success(s, NULL, 0);
}

static void delete_asset(struct cc_stub *s)
{
    const uint8_t *v;
    size_t len;
    if (!params_ok(s, 1))
        return;
    const char *id = cc_param(s, 0);
    int r = get_asset(s, id, &v, &len);
    if (r < 0)
        return;
    if (r == 0) {
        cc_error(s, "the asset %s does not exist", id);
        return;
    }
    if (cc_del_state(s, id, strlen(id)) < 0) {
        cc_error(s, "failed to delete asset %s: %s", id, cc_last_error(s));
        return;
    }
    cc_success(s, NULL, 0);
}

static void asset_exists(struct cc_stub *s)
{
    const uint8_t *v;
    size_t len;
    if (!params_ok(s, 1))
        return;
    int r = get_asset(s, cc_param(s, 0), &v, &len);
    if (r < 0)
        return;
    cc_success(s, r ? "true" : "false", r ? 4 : 5);
}

/* TransferAsset ID NEWOWNER: sets the owner; the payload is the previous owner. */
static void transfer_asset(struct cc_stub *s)
{
    const uint8_t *v;
    size_t len;
    if (!params_ok(s, 2))
        return;
    const char *id = cc_param(s, 0);
    int r = get_asset(s, id, &v, &len);
    if (r < 0)
        return;
    if (r == 0) {
        cc_error(s, "the asset %s does not exist", id);
        return;
    }
    json_error_t je;
    json_t *o = json_loadb((const char *)v, len, 0, &je);
    json_t *owner = o ? json_object_get(o, "Owner") : NULL;
    if (!json_is_string(owner)) {
        cc_error(s, "asset %s: stored value is not an asset", id);
        json_decref(o);
        return;
    }
    char *old = strdup(json_string_value(owner));
    char *text = NULL;
    if (!old || json_object_set_new(o, "Owner", json_string(cc_param(s, 1))) != 0 ||
        !(text = json_dumps(o, JSON_FLAGS))) {
        cc_error(s, "asset %s: cannot set the owner (UTF-8 text expected)", id);
        goto out;
    }
    if (cc_put_state(s, id, strlen(id), text, strlen(text)) < 0) {
        cc_error(s, "failed to put asset %s: %s", id, cc_last_error(s));
        goto out;
    }
    cc_success(s, old, strlen(old));
out:
    free(old);
    free(text);
    json_decref(o);
}

/* GetAllAssets: every asset of the namespace as a JSON array. */
static void get_all_assets(struct cc_stub *s)
{
    if (!params_ok(s, 0))
        return;
    struct cc_iter *it = NULL;
    json_t *arr = json_array();
    char *text = NULL;
    if (!arr) {
        cc_error(s, "GetAllAssets: out of memory");
        return;
    }
    if (cc_get_state_by_range(s, "", 0, "", 0, &it) < 0) {
        cc_error(s, "GetAllAssets: %s", cc_last_error(s));
        goto out;
    }
    const uint8_t *k, *v;
    size_t kl, vl;
    int r;
    while ((r = cc_iter_next(it, &k, &kl, &v, &vl)) == 1) {
        json_error_t je;
        json_t *o = json_loadb((const char *)v, vl, 0, &je);
        if (!o || json_array_append_new(arr, o) != 0) {
            cc_error(s, "GetAllAssets: key %.*s does not hold an asset", (int)kl, (const char *)k);
            goto out;
        }
    }
    if (r < 0) {
        cc_error(s, "GetAllAssets: %s", cc_last_error(s));
        goto out;
    }
    text = json_dumps(arr, JSON_FLAGS);
    if (!text) {
        cc_error(s, "GetAllAssets: out of memory");
        goto out;
    }
    cc_success(s, text, strlen(text));
out:
    cc_iter_close(it);
    json_decref(arr);
    free(text);
}

static void invoke(struct cc_stub *s)
{
    static const struct {
        const char *name;
        void (*fn)(struct cc_stub *);
    } fns[] = {
        {"InitLedger", init_ledger},       {"CreateAsset", create_asset},
        {"ReadAsset", read_asset},         {"UpdateAsset", update_asset},
        {"DeleteAsset", delete_asset},     {"AssetExists", asset_exists},
        {"TransferAsset", transfer_asset}, {"GetAllAssets", get_all_assets},
    };
    const char *f = cc_function(s);
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        if (strcmp(f, fns[i].name) == 0) {
            fns[i].fn(s);
            return;
        }
    }
    cc_error(s, "unknown function \"%.64s\" in contract asset", f);
}

const struct cc_chaincode cc_asset = {.name = "asset", .invoke = invoke};
