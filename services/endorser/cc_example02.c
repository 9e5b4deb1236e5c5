/* SPDX-License-Identifier: Apache-2.0 */
/* Chaincode "example02": Fabric's classic two-account sample (init, invoke, query, delete). */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "services/endorser/registry.h"

/* Balances are stored as decimal text, as the Go sample stores them. */

/* Parses a whole decimal int64; false for anything else (empty, spaces, overflow). */
static bool parse_i64(const char *s, int64_t *ret)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || end == s || (*s != '-' && (*s < '0' || *s > '9')))
        return false;
    *ret = v;
    return true;
}

/* Reads an account's balance: 1 found, 0 absent (error response set), < 0 failed (set too). */
static int balance(struct cc_stub *s, const char *name, int64_t *ret)
{
    const uint8_t *v;
    size_t len;
    int r = cc_get_state(s, name, strlen(name), &v, &len);
    if (r < 0) {
        cc_error(s, "failed to read %s: %s", name, cc_last_error(s));
        return r;
    }
    if (r == 0) {
        cc_error(s, "account %s not found", name);
        return 0;
    }
    char buf[32];
    if (len >= sizeof buf) {
        cc_error(s, "account %s holds no balance", name);
        return -1;
    }
    memcpy(buf, v, len);
    buf[len] = '\0';
    if (!parse_i64(buf, ret)) {
        cc_error(s, "account %s holds no balance", name);
        return -1;
    }
    return 1;
}

static int put_balance(struct cc_stub *s, const char *name, int64_t v)
{
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%" PRId64, v);
    int r = cc_put_state(s, name, strlen(name), buf, (size_t)n);
    if (r < 0)
        cc_error(s, "failed to write %s: %s", name, cc_last_error(s));
    return r;
}

/* init A Aval B Bval: sets both accounts (weft has no separate Init: it is a function like any
 * other, invoked once by whoever sets the chaincode up). */
static void do_init(struct cc_stub *s)
{
    if (cc_nparams(s) != 4) {
        cc_error(s, "init: expected 4 parameters (A Aval B Bval), got %zu", cc_nparams(s));
        return;
    }
    int64_t av, bv;
    const char *a = cc_param(s, 0), *b = cc_param(s, 2);
    if (!a || !b || !*a || !*b) {
        cc_error(s, "init: account names must be non-empty text");
        return;
    }
    if (!parse_i64(cc_param(s, 1), &av) || !parse_i64(cc_param(s, 3), &bv) || av < 0 || bv < 0) {
        cc_error(s, "init: balances must be non-negative integers");
        return;
    }
    if (strcmp(a, b) == 0) {
        cc_error(s, "init: the two accounts must differ");
        return;
    }
    if (put_balance(s, a, av) < 0 || put_balance(s, b, bv) < 0)
        return;
    cc_success(s, NULL, 0);
}

/* invoke A B X: moves X from A to B. */
static void do_invoke(struct cc_stub *s)
{
    if (cc_nparams(s) != 3) {
        cc_error(s, "invoke: expected 3 parameters (A B X), got %zu", cc_nparams(s));
        return;
    }
    const char *a = cc_param(s, 0), *b = cc_param(s, 1);
    int64_t x, av, bv;
    if (!a || !b || !*a || !*b) {
        cc_error(s, "invoke: account names must be non-empty text");
        return;
    }
    if (!parse_i64(cc_param(s, 2), &x) || x <= 0) {
        cc_error(s, "invoke: the amount must be a positive integer");
        return;
    }
    if (strcmp(a, b) == 0) {
        cc_error(s, "invoke: cannot move funds from %s to itself", a);
        return;
    }
    if (balance(s, a, &av) <= 0 || balance(s, b, &bv) <= 0)
        return;
    if (av < x) {
        cc_error(s, "insufficient funds: %s holds %" PRId64 ", %" PRId64 " needed", a, av, x);
        return;
    }
    if (bv > INT64_MAX - x) {
        cc_error(s, "invoke: %s would overflow", b);
        return;
    }
    if (put_balance(s, a, av - x) < 0 || put_balance(s, b, bv + x) < 0)
        return;
    cc_success(s, NULL, 0);
}

/* query A: the balance as decimal text. */
static void do_query(struct cc_stub *s)
{
    if (cc_nparams(s) != 1 || !cc_param(s, 0)) {
        cc_error(s, "query: expected 1 parameter (the account), got %zu", cc_nparams(s));
        return;
    }
    int64_t v;
    if (balance(s, cc_param(s, 0), &v) <= 0)
        return;
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%" PRId64, v);
    cc_success(s, buf, (size_t)n);
}

/* delete A: removes the account. */
static void do_delete(struct cc_stub *s)
{
    if (cc_nparams(s) != 1 || !cc_param(s, 0) || !*cc_param(s, 0)) {
        cc_error(s, "delete: expected 1 parameter (the account), got %zu", cc_nparams(s));
        return;
    }
    const char *a = cc_param(s, 0);
    if (cc_del_state(s, a, strlen(a)) < 0) {
        cc_error(s, "failed to delete %s: %s", a, cc_last_error(s));
        return;
    }
    cc_success(s, NULL, 0);
}

static void invoke(struct cc_stub *s)
{
    const char *f = cc_function(s);
    if (strcmp(f, "init") == 0)
        do_init(s);
    else if (strcmp(f, "invoke") == 0)
        do_invoke(s);
    else if (strcmp(f, "query") == 0)
        do_query(s);
    else if (strcmp(f, "delete") == 0)
        do_delete(s);
    else
        cc_error(s, "unknown function \"%.64s\": use init, invoke, query or delete", f);
}

const struct cc_chaincode cc_example02 = {.name = "example02", .invoke = invoke};
