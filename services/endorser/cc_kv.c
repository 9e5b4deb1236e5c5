/* SPDX-License-Identifier: Apache-2.0 */
/* Chaincode "kv": plain key-value access (put, get, del, range) plus helpers for tests
 * (event, respond). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "services/endorser/registry.h"

static bool need(struct cc_stub *s, size_t min, size_t max, const char *usage)
{
    size_t n = cc_nparams(s);
    if (n < min || n > max) {
        cc_error(s, "%s: usage: %s", cc_function(s), usage);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!cc_param(s, i)) {
            cc_error(s, "%s: parameter %zu holds a 0x00 byte", cc_function(s), i + 1);
            return false;
        }
    }
    return true;
}

/* put KEY VALUE */
static void do_put(struct cc_stub *s)
{
    if (!need(s, 2, 2, "put KEY VALUE"))
        return;
    size_t vlen;
    const uint8_t *v = cc_arg(s, 2, &vlen);
    const char *k = cc_param(s, 0);
    if (cc_put_state(s, k, strlen(k), v, vlen) < 0) {
        cc_error(s, "put: %s", cc_last_error(s));
        return;
    }
    cc_success(s, NULL, 0);
}

/* get KEY: the value (empty when the key is absent). */
static void do_get(struct cc_stub *s)
{
    if (!need(s, 1, 1, "get KEY"))
        return;
    const char *k = cc_param(s, 0);
    const uint8_t *v;
    size_t len;
    if (cc_get_state(s, k, strlen(k), &v, &len) < 0) {
        cc_error(s, "get: %s", cc_last_error(s));
        return;
    }
    cc_success(s, v, len);
}

/* del KEY */
static void do_del(struct cc_stub *s)
{
    if (!need(s, 1, 1, "del KEY"))
        return;
    const char *k = cc_param(s, 0);
    if (cc_del_state(s, k, strlen(k)) < 0) {
        cc_error(s, "del: %s", cc_last_error(s));
        return;
    }
    cc_success(s, NULL, 0);
}

/* range START END [LIMIT]: a JSON array of {"key", "value"} for START <= key < END ("" for no
 * bound), stopping after LIMIT results when given (the scan is then not exhausted). Values that
 * are not UTF-8 text come back as {"key", "value_hex"}. */
static void do_range(struct cc_stub *s)
{
    if (!need(s, 2, 3, "range START END [LIMIT]"))
        return;
    long long limit = -1;
    if (cc_nparams(s) == 3) {
        char *end;
        errno = 0;
        limit = strtoll(cc_param(s, 2), &end, 10);
        if (errno || *end || limit < 0) {
            cc_error(s, "range: LIMIT must be a non-negative integer");
            return;
        }
    }
    const char *a = cc_param(s, 0), *b = cc_param(s, 1);
    struct cc_iter *it = NULL;
    json_t *arr = json_array();
    char *out = NULL;
    if (!arr) {
        cc_error(s, "range: out of memory");
        return;
    }
    if (cc_get_state_by_range(s, a, strlen(a), b, strlen(b), &it) < 0) {
        cc_error(s, "range: %s", cc_last_error(s));
        goto out;
    }
    const uint8_t *k, *v;
    size_t kl, vl;
    int r = 0;
    for (long long n = 0; limit < 0 || n < limit; n++) {
        r = cc_iter_next(it, &k, &kl, &v, &vl);
        if (r <= 0)
            break;
        json_t *val = json_stringn(v ? (const char *)v : "", vl);
        const char *field = "value";
        if (!val) {
            char *hex = malloc(2 * vl + 1);
            for (size_t i = 0; hex && i < vl; i++) {
                static const char digits[] = "0123456789abcdef";
                hex[2 * i] = digits[v[i] >> 4];
                hex[2 * i + 1] = digits[v[i] & 15];
            }
            if (hex)
                hex[2 * vl] = '\0';
            val = hex ? json_string(hex) : NULL;
            free(hex);
            field = "value_hex";
        }
        json_t *o = json_object();
        if (!o || !val || json_object_set_new(o, "key", json_stringn((const char *)k, kl)) ||
            json_object_set_new(o, field, val) || json_array_append_new(arr, o)) {
            json_decref(o);
            cc_error(s, "range: out of memory");
            goto out;
        }
    }
    if (r < 0) {
        cc_error(s, "range: %s", cc_last_error(s));
        goto out;
    }
    out = json_dumps(arr, JSON_COMPACT | JSON_SORT_KEYS);
    if (!out) {
        cc_error(s, "range: out of memory");
        goto out;
    }
    cc_success(s, out, strlen(out));
out:
    cc_iter_close(it);
    json_decref(arr);
    free(out);
}

/* event NAME PAYLOAD: sets the chaincode event and succeeds. */
static void do_event(struct cc_stub *s)
{
    if (!need(s, 2, 2, "event NAME PAYLOAD"))
        return;
    size_t len;
    const uint8_t *p = cc_arg(s, 2, &len);
    if (cc_set_event(s, cc_param(s, 0), p, len) < 0) {
        cc_error(s, "event: %s", cc_last_error(s));
        return;
    }
    cc_success(s, NULL, 0);
}

/* respond STATUS MESSAGE [PAYLOAD]: answers with any status, after writing key "respond" (so
 * tests can see what a failing chaincode's simulation recorded). */
static void do_respond(struct cc_stub *s)
{
    if (!need(s, 2, 3, "respond STATUS MESSAGE [PAYLOAD]"))
        return;
    char *end;
    errno = 0;
    long st = strtol(cc_param(s, 0), &end, 10);
    if (errno || *end || st < 0 || st > 999) {
        cc_error(s, "respond: STATUS must be 0..999");
        return;
    }
    if (cc_put_state(s, "respond", 7, "x", 1) < 0) {
        cc_error(s, "respond: %s", cc_last_error(s));
        return;
    }
    if (cc_set_event(s, "responded", NULL, 0) < 0) {
        cc_error(s, "respond: %s", cc_last_error(s));
        return;
    }
    size_t len = 0;
    const uint8_t *p = cc_nparams(s) == 3 ? cc_arg(s, 3, &len) : NULL;
    cc_respond(s, (int32_t)st, cc_param(s, 1), p, len);
}

static void invoke(struct cc_stub *s)
{
    static const struct {
        const char *name;
        void (*fn)(struct cc_stub *);
    } fns[] = {{"put", do_put},     {"get", do_get},     {"del", do_del},
               {"range", do_range}, {"event", do_event}, {"respond", do_respond}};
    const char *f = cc_function(s);
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        if (strcmp(f, fns[i].name) == 0) {
            fns[i].fn(s);
            return;
        }
    }
    cc_error(s, "unknown function \"%.64s\": use put, get, del, range, event or respond", f);
}

const struct cc_chaincode cc_kv = {.name = "kv", .invoke = invoke};
