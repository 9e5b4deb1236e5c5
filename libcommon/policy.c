/* SPDX-License-Identifier: Apache-2.0 */
/* Fabric signature policies: text parser, printer, cauthdsl and implicit-meta evaluation. */
#include "libcommon/policy.h"
#include "libcommon/wire.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libcommon/log.h"

static const char *const role_names[] = {"member", "admin", "client", "peer", "orderer"};
#define N_ROLES (sizeof role_names / sizeof role_names[0])

static bool is_msp_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-';
}

static bool is_ident_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* ================================ parser ================================ */

enum gate { GATE_AND, GATE_OR, GATE_OUTOF };

static const struct {
    const char *name;
    enum gate gate;
} gate_names[] = {
    {"AND", GATE_AND},     {"And", GATE_AND},     {"and", GATE_AND},
    {"OR", GATE_OR},       {"Or", GATE_OR},       {"or", GATE_OR},
    {"OutOf", GATE_OUTOF}, {"outof", GATE_OUTOF}, {"OUTOF", GATE_OUTOF},
};

struct parser {
    const char *s;
    size_t len;
    size_t pos;
    unsigned depth;
    Common__MSPPrincipal **ids;
    size_t n_ids;
    size_t cap_ids;
    char *msg;
    bool oom;
};

/* Records the first syntax error at byte offset off (reported 1-based) and returns LC_ESYNTAX. */
__attribute__((format(printf, 3, 4))) static int perr(struct parser *p, size_t off, const char *fmt,
                                                      ...)
{
    if (p->msg || p->oom)
        return LC_ESYNTAX;
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (asprintf(&p->msg, "column %zu: %s", off + 1, what) < 0) {
        p->msg = NULL;
        p->oom = true;
        return -ENOMEM;
    }
    return LC_ESYNTAX;
}

static int poom(struct parser *p)
{
    p->oom = true;
    return -ENOMEM;
}

/* Describes the byte at off for a message: "'x'", "byte 0xNN" or "end of input". */
static void describe(const struct parser *p, size_t off, char *buf, size_t len)
{
    if (off >= p->len) {
        snprintf(buf, len, "end of input");
        return;
    }
    unsigned char c = (unsigned char)p->s[off];
    if (c >= 0x20 && c < 0x7f)
        snprintf(buf, len, "'%c'", c);
    else
        snprintf(buf, len, "byte 0x%02x", c);
}

/* Copies up to len-1 bytes of s for a message, '?' for anything unprintable. */
static void printable(const char *s, size_t n, char *buf, size_t len)
{
    size_t i = 0;
    for (; i < n && i + 1 < len; i++)
        buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    buf[i] = '\0';
}

static void skip_ws(struct parser *p)
{
    while (p->pos < p->len && is_space((unsigned char)p->s[p->pos]))
        p->pos++;
}

static Common__SignaturePolicy *new_signed_by(int32_t index)
{
    Common__SignaturePolicy *r = malloc(sizeof *r);
    if (!r)
        return NULL;
    common__signature_policy__init(r);
    r->type_case = COMMON__SIGNATURE_POLICY__TYPE_SIGNED_BY;
    r->signed_by = index;
    return r;
}

static void free_rule(Common__SignaturePolicy *r)
{
    if (r)
        common__signature_policy__free_unpacked(r, NULL);
}

/* Appends a ROLE principal for msp/role and returns its index through ret_index. */
static int add_principal(struct parser *p, const char *msp, size_t msp_len, int role,
                         int32_t *ret_index)
{
    if (p->n_ids >= INT32_MAX)
        return poom(p);
    if (p->n_ids == p->cap_ids) {
        size_t cap = p->cap_ids ? p->cap_ids * 2 : 8;
        Common__MSPPrincipal **ids = realloc(p->ids, cap * sizeof *ids);
        if (!ids)
            return poom(p);
        p->ids = ids;
        p->cap_ids = cap;
    }
    Common__MSPRole mr = COMMON__MSPROLE__INIT;
    char *name = strndup(msp, msp_len);
    Common__MSPPrincipal *pr = malloc(sizeof *pr);
    if (!name || !pr)
        goto fail;
    mr.msp_identifier = name;
    mr.role = (Common__MSPRole__MSPRoleType)role;
    common__mspprincipal__init(pr);
    pr->principal_classification = COMMON__MSPPRINCIPAL__CLASSIFICATION__ROLE;
    pr->principal.len = common__msprole__get_packed_size(&mr);
    pr->principal.data = malloc(pr->principal.len);
    if (!pr->principal.data)
        goto fail;
    common__msprole__pack(&mr, pr->principal.data);
    free(name);
    *ret_index = (int32_t)p->n_ids;
    p->ids[p->n_ids++] = pr;
    return 0;
fail:
    free(name);
    free(pr);
    return poom(p);
}

/* principal = quote MSPID '.' role quote; at p->pos is the opening quote. */
static int parse_principal(struct parser *p, Common__SignaturePolicy **ret_rule)
{
    char q = p->s[p->pos];
    size_t open = p->pos;
    size_t start = open + 1;
    size_t end = start;
    while (end < p->len && p->s[end] != q)
        end++;
    if (end >= p->len)
        return perr(p, p->len, "expected closing %c for the principal opened at column %zu", q,
                    open + 1);
    size_t dot = end;
    for (size_t i = start; i < end; i++)
        if (p->s[i] == '.')
            dot = i;
    if (dot == end)
        return perr(p, start, "expected a principal of the form 'MSPID.role'");
    if (dot == start)
        return perr(p, start, "expected an MSP id before '.'");
    for (size_t i = start; i < dot; i++) {
        if (!is_msp_char((unsigned char)p->s[i])) {
            char d[24];
            describe(p, i, d, sizeof d);
            return perr(p, i, "invalid character %s in MSP id (expected letters, digits, '.', '-')",
                        d);
        }
    }
    size_t rlen = end - dot - 1;
    int role = -1;
    for (size_t r = 0; r < N_ROLES; r++)
        if (strlen(role_names[r]) == rlen && memcmp(role_names[r], p->s + dot + 1, rlen) == 0)
            role = (int)r;
    if (role < 0) {
        char shown[68];
        printable(p->s + dot + 1, rlen, shown, sizeof shown);
        return perr(p, dot + 1,
                    "unknown role '%s' (expected member, admin, client, peer or orderer)", shown);
    }
    int32_t index;
    int r = add_principal(p, p->s + start, dot - start, role, &index);
    if (r < 0)
        return r;
    Common__SignaturePolicy *rule = new_signed_by(index);
    if (!rule)
        return poom(p);
    p->pos = end + 1;
    *ret_rule = rule;
    return 0;
}

static int parse_gate(struct parser *p, Common__SignaturePolicy **ret_rule);

/* arg = gate | principal */
static int parse_arg(struct parser *p, Common__SignaturePolicy **ret_rule)
{
    skip_ws(p);
    if (p->pos < p->len && (p->s[p->pos] == '\'' || p->s[p->pos] == '"'))
        return parse_principal(p, ret_rule);
    if (p->pos < p->len && is_ident_char((unsigned char)p->s[p->pos]))
        return parse_gate(p, ret_rule);
    char d[24];
    describe(p, p->pos, d, sizeof d);
    return perr(p, p->pos, "expected a principal ('MSPID.role') or AND, OR, OutOf, found %s", d);
}

static int push_rule(struct parser *p, Common__SignaturePolicy__NOutOf *no,
                     Common__SignaturePolicy *rule, size_t *cap)
{
    if (no->n_rules == *cap) {
        size_t ncap = *cap ? *cap * 2 : 4;
        Common__SignaturePolicy **rules = realloc(no->rules, ncap * sizeof *rules);
        if (!rules)
            return poom(p);
        no->rules = rules;
        *cap = ncap;
    }
    no->rules[no->n_rules++] = rule;
    return 0;
}

/* k: a decimal integer; leaves it in *ret_k (INT64 clamp above INT32_MAX). */
static int parse_k(struct parser *p, int64_t *ret_k)
{
    size_t start = p->pos;
    int64_t k = 0;
    while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') {
        if (k <= INT32_MAX)
            k = k * 10 + (p->s[p->pos] - '0');
        p->pos++;
    }
    if (p->pos == start) {
        char d[24];
        describe(p, p->pos, d, sizeof d);
        return perr(p, p->pos,
                    "expected the count k (a non-negative integer) after 'OutOf(', "
                    "found %s",
                    d);
    }
    *ret_k = k;
    return 0;
}

/* gate = NAME '(' [k ','] arg {',' arg} ')' ; p->pos is at NAME. */
static int parse_gate(struct parser *p, Common__SignaturePolicy **ret_rule)
{
    size_t name_at = p->pos;
    size_t name_end = name_at;
    while (name_end < p->len && is_ident_char((unsigned char)p->s[name_end]))
        name_end++;
    size_t name_len = name_end - name_at;
    int gate = -1;
    for (size_t i = 0; i < sizeof gate_names / sizeof gate_names[0]; i++)
        if (strlen(gate_names[i].name) == name_len &&
            memcmp(gate_names[i].name, p->s + name_at, name_len) == 0)
            gate = (int)gate_names[i].gate;
    if (gate < 0)
        return perr(p, name_at, "unknown function '%.*s' (expected AND, OR or OutOf)",
                    (int)(name_len > 64 ? 64 : name_len), p->s + name_at);
    if (p->depth >= LC_POLICY_MAX_DEPTH)
        return perr(p, name_at, "expected at most %d nested gates", LC_POLICY_MAX_DEPTH);
    p->pos = name_end;
    skip_ws(p);
    if (p->pos >= p->len || p->s[p->pos] != '(') {
        char d[24];
        describe(p, p->pos, d, sizeof d);
        return perr(p, p->pos, "expected '(' after '%.*s', found %s", (int)name_len, p->s + name_at,
                    d);
    }
    p->pos++;
    p->depth++;

    int r;
    int64_t k = 0;
    size_t k_at = 0;
    size_t cap = 0;
    Common__SignaturePolicy *rule = malloc(sizeof *rule);
    Common__SignaturePolicy__NOutOf *no = malloc(sizeof *no);
    if (!rule || !no) {
        free(rule);
        free(no);
        return poom(p);
    }
    common__signature_policy__init(rule);
    common__signature_policy__nout_of__init(no);
    rule->type_case = COMMON__SIGNATURE_POLICY__TYPE_N_OUT_OF;
    rule->n_out_of = no;

    if (gate == GATE_OUTOF) {
        skip_ws(p);
        k_at = p->pos;
        r = parse_k(p, &k);
        if (r < 0)
            goto fail;
        skip_ws(p);
        if (p->pos >= p->len || p->s[p->pos] != ',') {
            char d[24];
            describe(p, p->pos, d, sizeof d);
            r = perr(p, p->pos, "expected ',' and at least one argument after k, found %s", d);
            goto fail;
        }
        p->pos++;
    }
    for (;;) {
        Common__SignaturePolicy *sub = NULL;
        r = parse_arg(p, &sub);
        if (r < 0)
            goto fail;
        r = push_rule(p, no, sub, &cap);
        if (r < 0) {
            free_rule(sub);
            goto fail;
        }
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->len && p->s[p->pos] == ')') {
            p->pos++;
            break;
        }
        char d[24];
        describe(p, p->pos, d, sizeof d);
        r = perr(p, p->pos, "expected ',' or ')' after an argument of '%.*s', found %s",
                 (int)name_len, p->s + name_at, d);
        goto fail;
    }
    switch (gate) {
    case GATE_AND:
        if (no->n_rules > INT32_MAX) {
            r = perr(p, name_at, "expected at most %d arguments", INT32_MAX);
            goto fail;
        }
        no->n = (int32_t)no->n_rules;
        break;
    case GATE_OR:
        no->n = 1;
        break;
    default:
        /* Fabric accepts 0 <= k <= args + 1. */
        if (k > (int64_t)no->n_rules + 1) {
            r = perr(p, k_at, "k out of range: expected 0..%zu for %zu arguments, found %s%lld",
                     no->n_rules + 1, no->n_rules, k > INT32_MAX ? "over " : "",
                     (long long)(k > INT32_MAX ? INT32_MAX : k));
            goto fail;
        }
        no->n = (int32_t)k;
        break;
    }
    p->depth--;
    *ret_rule = rule;
    return 0;
fail:
    free_rule(rule);
    return r;
}

static void free_ids(Common__MSPPrincipal **ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        common__mspprincipal__free_unpacked(ids[i], NULL);
    free(ids);
}

int lc_policy_parse_envelope(const char *text, Common__SignaturePolicyEnvelope **ret_env,
                             char **ret_msg)
{
    struct parser p = {.s = text};
    Common__SignaturePolicy *rule = NULL;
    Common__SignaturePolicyEnvelope *env = NULL;
    int r;

    p.len = strnlen(text, (size_t)LC_POLICY_MAX_TEXT + 1);
    if (p.len > LC_POLICY_MAX_TEXT) {
        r = perr(&p, LC_POLICY_MAX_TEXT, "expected at most %d bytes of policy text",
                 LC_POLICY_MAX_TEXT);
        goto fail;
    }
    skip_ws(&p);
    if (p.pos >= p.len || !is_ident_char((unsigned char)p.s[p.pos])) {
        char d[24];
        describe(&p, p.pos, d, sizeof d);
        r = perr(&p, p.pos, "expected AND, OR or OutOf at the top level, found %s", d);
        goto fail;
    }
    r = parse_gate(&p, &rule);
    if (r < 0)
        goto fail;
    skip_ws(&p);
    if (p.pos < p.len) {
        char d[24];
        describe(&p, p.pos, d, sizeof d);
        r = perr(&p, p.pos, "expected end of input after the policy, found %s", d);
        goto fail;
    }
    env = malloc(sizeof *env);
    if (!env) {
        r = -ENOMEM;
        goto fail;
    }
    common__signature_policy_envelope__init(env);
    env->version = 0;
    env->rule = rule;
    env->identities = p.ids;
    env->n_identities = p.n_ids;
    *ret_env = env;
    return 0;
fail:
    free_rule(rule);
    free_ids(p.ids, p.n_ids);
    if (p.oom) {
        free(p.msg);
        return -ENOMEM;
    }
    if (r == LC_ESYNTAX && ret_msg)
        *ret_msg = p.msg;
    else
        free(p.msg);
    return r;
}

int lc_policy_parse(const char *text, uint8_t **ret_bytes, size_t *ret_len, char **ret_msg)
{
    Common__SignaturePolicyEnvelope *env = NULL;
    int r = lc_policy_parse_envelope(text, &env, ret_msg);
    if (r < 0)
        return r;
    size_t len = common__signature_policy_envelope__get_packed_size(env);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) {
        common__signature_policy_envelope__free_unpacked(env, NULL);
        return -ENOMEM;
    }
    common__signature_policy_envelope__pack(env, buf);
    common__signature_policy_envelope__free_unpacked(env, NULL);
    *ret_bytes = buf;
    *ret_len = len;
    return 0;
}

void lc_policy_msg_free(char *msg)
{
    free(msg);
}

/* ================================ checker ================================ */

static int check_rule(const Common__SignaturePolicy *r, size_t n_ids, unsigned depth,
                      unsigned *max_depth, struct lc_errbuf *err)
{
    if (!r)
        return lc_fail(err, LC_EINVALID, "signature policy: empty rule");
    switch (r->type_case) {
    case COMMON__SIGNATURE_POLICY__TYPE_SIGNED_BY:
        if (r->signed_by < 0 || (size_t)r->signed_by >= n_ids)
            return lc_fail(err, LC_EINVALID,
                           "signature policy: signed_by %d out of range (%zu identities)",
                           (int)r->signed_by, n_ids);
        return 0;
    case COMMON__SIGNATURE_POLICY__TYPE_N_OUT_OF:
        if (!r->n_out_of)
            return lc_fail(err, LC_EINVALID, "signature policy: empty n_out_of");
        if (depth + 1 > LC_POLICY_MAX_DEPTH)
            return lc_fail(err, LC_EINVALID, "signature policy: nested deeper than %d",
                           LC_POLICY_MAX_DEPTH);
        if (depth + 1 > *max_depth)
            *max_depth = depth + 1;
        for (size_t i = 0; i < r->n_out_of->n_rules; i++) {
            int e = check_rule(r->n_out_of->rules[i], n_ids, depth + 1, max_depth, err);
            if (e < 0)
                return e;
        }
        return 0;
    default:
        return lc_fail(err, LC_EINVALID, "signature policy: rule type %d unknown",
                       (int)r->type_case);
    }
}

static int check_env(const Common__SignaturePolicyEnvelope *env, unsigned *ret_depth,
                     struct lc_errbuf *err)
{
    if (!env)
        return lc_fail(err, LC_EINVALID, "signature policy: no envelope");
    if (env->version != 0)
        return lc_fail(err, LC_EINVALID, "signature policy: version %d, expected 0",
                       (int)env->version);
    unsigned depth = 0;
    int r = check_rule(env->rule, env->n_identities, 0, &depth, err);
    if (r < 0)
        return r;
    *ret_depth = depth;
    return 0;
}

int lc_policy_check(const Common__SignaturePolicyEnvelope *env, struct lc_errbuf *err)
{
    unsigned depth;
    return check_env(env, &depth, err);
}

/* ================================ printer ================================ */

struct out {
    char *buf;
    size_t len;
    size_t cap;
    int err; /* 0, -ENOMEM or LC_ETOOBIG */
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->err)
        return;
    if (o->len + n > LC_POLICY_MAX_TEXT) {
        o->err = LC_ETOOBIG;
        return;
    }
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 64;
        while (cap < o->len + n + 1)
            cap *= 2;
        char *b = realloc(o->buf, cap);
        if (!b) {
            o->err = -ENOMEM;
            return;
        }
        o->buf = b;
        o->cap = cap;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

static void puts_(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

static int print_principal(struct out *o, const Common__SignaturePolicyEnvelope *env, int32_t index,
                           struct lc_errbuf *err)
{
    const Common__MSPPrincipal *pr = env->identities[index];
    if (pr->principal_classification != COMMON__MSPPRINCIPAL__CLASSIFICATION__ROLE)
        return lc_fail(err, LC_EINVALID,
                       "signature policy: identity %d has principal classification %d, which "
                       "the policy language cannot write (only ROLE)",
                       (int)index, (int)pr->principal_classification);
    Common__MSPRole *mr = common__msprole__unpack(NULL, pr->principal.len, pr->principal.data);
    if (!mr)
        return lc_fail(err, LC_EDECODE, "signature policy: identity %d: MSPRole does not decode",
                       (int)index);
    int r = 0;
    size_t mlen = strlen(mr->msp_identifier);
    if (mlen == 0) {
        r = lc_fail(err, LC_EINVALID, "signature policy: identity %d has an empty MSP id",
                    (int)index);
        goto out;
    }
    for (size_t i = 0; i < mlen; i++) {
        if (!is_msp_char((unsigned char)mr->msp_identifier[i])) {
            r = lc_fail(err, LC_EINVALID,
                        "signature policy: identity %d: MSP id has a character the policy "
                        "language cannot write",
                        (int)index);
            goto out;
        }
    }
    if ((unsigned)mr->role >= N_ROLES) {
        r = lc_fail(err, LC_EINVALID, "signature policy: identity %d has unknown role %d",
                    (int)index, (int)mr->role);
        goto out;
    }
    put(o, "'", 1);
    put(o, mr->msp_identifier, mlen);
    put(o, ".", 1);
    puts_(o, role_names[mr->role]);
    put(o, "'", 1);
out:
    common__msprole__free_unpacked(mr, NULL);
    return r;
}

static int print_rule(struct out *o, const Common__SignaturePolicyEnvelope *env,
                      const Common__SignaturePolicy *rule, struct lc_errbuf *err)
{
    if (rule->type_case == COMMON__SIGNATURE_POLICY__TYPE_SIGNED_BY)
        return print_principal(o, env, rule->signed_by, err);
    const Common__SignaturePolicy__NOutOf *no = rule->n_out_of;
    if (no->n_rules == 0)
        return lc_fail(err, LC_EINVALID, "signature policy: n_out_of without rules");
    if (no->n < 0 || (size_t)no->n > no->n_rules + 1)
        return lc_fail(err, LC_EINVALID,
                       "signature policy: n_out_of n = %d out of range for %zu rules", (int)no->n,
                       no->n_rules);
    if (no->n == 1) {
        puts_(o, "OR(");
    } else if ((size_t)no->n == no->n_rules) {
        puts_(o, "AND(");
    } else {
        char k[24];
        int kl = snprintf(k, sizeof k, "OutOf(%d, ", (int)no->n);
        put(o, k, (size_t)kl);
    }
    for (size_t i = 0; i < no->n_rules; i++) {
        if (i > 0)
            puts_(o, ", ");
        int r = print_rule(o, env, no->rules[i], err);
        if (r < 0)
            return r;
    }
    puts_(o, ")");
    return 0;
}

int lc_policy_print(const Common__SignaturePolicyEnvelope *env, char **ret_text,
                    struct lc_errbuf *err)
{
    unsigned depth;
    int r = check_env(env, &depth, err);
    if (r < 0)
        return r;
    struct out o = {0};
    if (env->rule->type_case == COMMON__SIGNATURE_POLICY__TYPE_SIGNED_BY) {
        /* The language has no bare principal at the top; OR of one means the same. */
        puts_(&o, "OR(");
        r = print_principal(&o, env, env->rule->signed_by, err);
        puts_(&o, ")");
    } else {
        r = print_rule(&o, env, env->rule, err);
    }
    if (r == 0 && o.err == LC_ETOOBIG)
        r = lc_fail(err, LC_ETOOBIG, "signature policy: text longer than %d bytes",
                    LC_POLICY_MAX_TEXT);
    else if (r == 0 && o.err)
        r = o.err;
    if (r < 0) {
        free(o.buf);
        return r;
    }
    *ret_text = o.buf;
    return 0;
}

int lc_policy_print_bytes(const uint8_t *bytes, size_t len, char **ret_text, struct lc_errbuf *err)
{
    if (lc_wire_scan(&common__signature_policy_envelope__descriptor, bytes, len, err) < 0)
        return LC_EDECODE;
    Common__SignaturePolicyEnvelope *env =
        common__signature_policy_envelope__unpack(NULL, len, bytes);
    if (!env)
        return lc_fail(err, LC_EDECODE, "signature policy: envelope does not decode");
    int r = lc_policy_print(env, ret_text, err);
    common__signature_policy_envelope__free_unpacked(env, NULL);
    return r;
}

/* ================================ evaluation ================================ */

struct eval {
    const Common__SignaturePolicyEnvelope *env;
    void *const *ids;
    size_t n_ids;
    lc_policy_satisfies_fn satisfies;
    void *ctx;
    bool *scratch; /* one row of n_ids flags per nesting level */
};

static bool eval_rule(const struct eval *e, const Common__SignaturePolicy *rule, bool *used,
                      unsigned depth)
{
    if (rule->type_case == COMMON__SIGNATURE_POLICY__TYPE_SIGNED_BY) {
        const Common__MSPPrincipal *pr = e->env->identities[rule->signed_by];
        for (size_t i = 0; i < e->n_ids; i++) {
            if (used[i])
                continue;
            if (e->satisfies(e->ids[i], pr, e->ctx) == 0) {
                used[i] = true;
                return true;
            }
        }
        return false;
    }
    const Common__SignaturePolicy__NOutOf *no = rule->n_out_of;
    bool *copy = e->scratch + (size_t)depth * e->n_ids;
    int64_t passed = 0;
    for (size_t i = 0; i < no->n_rules; i++) {
        if (e->n_ids)
            memcpy(copy, used, e->n_ids * sizeof *copy);
        if (eval_rule(e, no->rules[i], copy, depth + 1)) {
            passed++;
            if (e->n_ids)
                memcpy(used, copy, e->n_ids * sizeof *used);
        }
    }
    return passed >= no->n;
}

int lc_policy_eval(const Common__SignaturePolicyEnvelope *env, void *const *ids, size_t n_ids,
                   lc_policy_satisfies_fn satisfies, void *ctx, struct lc_errbuf *err)
{
    unsigned depth;
    int r = check_env(env, &depth, err);
    if (r < 0)
        return r;
    /* Rows: the top-level used flags, then one copy per NOutOf level. */
    size_t rows = (size_t)depth + 1;
    if (n_ids > SIZE_MAX / sizeof(bool) / rows)
        return -ENOMEM;
    bool *flags = calloc(rows * (n_ids ? n_ids : 1), sizeof *flags);
    if (!flags)
        return -ENOMEM;
    struct eval e = {.env = env,
                     .ids = ids,
                     .n_ids = n_ids,
                     .satisfies = satisfies,
                     .ctx = ctx,
                     .scratch = flags + n_ids};
    bool ok = eval_rule(&e, env->rule, flags, 0);
    free(flags);
    if (!ok)
        return lc_fail(err, LC_EPOLICY, "signature policy not satisfied by %zu identities", n_ids);
    return 0;
}

/* ================================ identity sets ================================ */

struct lc_policy_idset {
    const struct lc_policy_identity_ops *ops;
    void *ctx;
    void **ids;
    const char **keys;
    size_t n;
};

static void release(const struct lc_policy_identity_ops *ops, void *ctx, void *id)
{
    if (id && ops->release)
        ops->release(ctx, id);
}

int lc_policy_idset_new(const struct lc_signed_data *sd, size_t n_sd,
                        const struct lc_policy_identity_ops *ops, void *ctx,
                        struct lc_policy_idset **ret_set)
{
    struct lc_policy_idset *set = calloc(1, sizeof *set);
    if (!set)
        return -ENOMEM;
    set->ops = ops;
    set->ctx = ctx;
    set->ids = calloc(n_sd ? n_sd : 1, sizeof *set->ids);
    set->keys = calloc(n_sd ? n_sd : 1, sizeof *set->keys);
    if (!set->ids || !set->keys)
        goto oom;
    for (size_t i = 0; i < n_sd; i++) {
        void *id = NULL;
        int r = ops->deserialize(ctx, sd[i].identity, sd[i].identity_len, &id);
        if (r == -ENOMEM)
            goto oom;
        if (r < 0) {
            lc_log_debug("policy", "identity dropped index=%zu cause=\"deserialize: %s\"", i,
                         lc_strerror(r));
            continue;
        }
        const char *key = ops->key(ctx, id);
        bool dup = key == NULL;
        for (size_t j = 0; !dup && j < set->n; j++)
            dup = strcmp(set->keys[j], key) == 0;
        if (dup) {
            /* Before verifying, so a repeated identity cannot make us verify it again. */
            lc_log_debug("policy", "identity dropped index=%zu cause=repeat", i);
            release(ops, ctx, id);
            continue;
        }
        r = ops->verify(ctx, id, sd[i].data, sd[i].data_len, sd[i].signature, sd[i].signature_len);
        if (r < 0) {
            release(ops, ctx, id);
            if (r == -ENOMEM)
                goto oom;
            lc_log_debug("policy", "identity dropped index=%zu cause=\"verify: %s\"", i,
                         lc_strerror(r));
            continue;
        }
        set->ids[set->n] = id;
        set->keys[set->n] = key;
        set->n++;
    }
    *ret_set = set;
    return 0;
oom:
    lc_policy_idset_free(set);
    return -ENOMEM;
}

size_t lc_policy_idset_count(const struct lc_policy_idset *set)
{
    return set ? set->n : 0;
}

int lc_policy_idset_eval(const struct lc_policy_idset *set,
                         const Common__SignaturePolicyEnvelope *env, struct lc_errbuf *err)
{
    return lc_policy_eval(env, set->ids, set->n, set->ops->satisfies, set->ctx, err);
}

void lc_policy_idset_free(struct lc_policy_idset *set)
{
    if (!set)
        return;
    for (size_t i = 0; set->ids && i < set->n; i++)
        release(set->ops, set->ctx, set->ids[i]);
    free(set->ids);
    free(set->keys);
    free(set);
}

int lc_policy_eval_signed(const Common__SignaturePolicyEnvelope *env,
                          const struct lc_signed_data *sd, size_t n_sd,
                          const struct lc_policy_identity_ops *ops, void *ctx,
                          struct lc_errbuf *err)
{
    struct lc_policy_idset *set = NULL;
    int r = lc_policy_idset_new(sd, n_sd, ops, ctx, &set);
    if (r < 0)
        return r;
    r = lc_policy_idset_eval(set, env, err);
    lc_policy_idset_free(set);
    return r;
}

/* ================================ implicit meta ================================ */

static const char *rule_name(Common__ImplicitMetaPolicy__Rule rule)
{
    switch (rule) {
    case COMMON__IMPLICIT_META_POLICY__RULE__ANY:
        return "ANY";
    case COMMON__IMPLICIT_META_POLICY__RULE__ALL:
        return "ALL";
    case COMMON__IMPLICIT_META_POLICY__RULE__MAJORITY:
        return "MAJORITY";
    default:
        return "?";
    }
}

int lc_policy_implicit_decode(const uint8_t *bytes, size_t len,
                              Common__ImplicitMetaPolicy **ret_imp, struct lc_errbuf *err)
{
    Common__ImplicitMetaPolicy *imp = common__implicit_meta_policy__unpack(NULL, len, bytes);
    if (!imp)
        return lc_fail(err, LC_EDECODE, "implicit meta policy does not decode");
    int r = 0;
    if (imp->rule != COMMON__IMPLICIT_META_POLICY__RULE__ANY &&
        imp->rule != COMMON__IMPLICIT_META_POLICY__RULE__ALL &&
        imp->rule != COMMON__IMPLICIT_META_POLICY__RULE__MAJORITY)
        r = lc_fail(err, LC_EINVALID, "implicit meta policy: rule %d unknown", (int)imp->rule);
    else if (imp->sub_policy[0] == '\0')
        r = lc_fail(err, LC_EINVALID, "implicit meta policy: empty sub_policy");
    if (r < 0) {
        common__implicit_meta_policy__free_unpacked(imp, NULL);
        return r;
    }
    *ret_imp = imp;
    return 0;
}

size_t lc_policy_implicit_threshold(Common__ImplicitMetaPolicy__Rule rule, size_t n)
{
    if (n == 0)
        return 0;
    switch (rule) {
    case COMMON__IMPLICIT_META_POLICY__RULE__ANY:
        return 1;
    case COMMON__IMPLICIT_META_POLICY__RULE__ALL:
        return n;
    case COMMON__IMPLICIT_META_POLICY__RULE__MAJORITY:
        return n / 2 + 1;
    default:
        /* Unknown rules are rejected at decode; never pass one by accident. */
        return n + 1;
    }
}

int lc_policy_implicit_eval(const Common__ImplicitMetaPolicy *imp, size_t n_children,
                            int (*eval_child)(void *ctx, size_t i), void *ctx,
                            struct lc_errbuf *err)
{
    size_t need = lc_policy_implicit_threshold(imp->rule, n_children);
    size_t passed = 0;
    for (size_t i = 0; passed < need && i < n_children; i++) {
        int r = eval_child(ctx, i);
        if (r == -ENOMEM)
            return r;
        if (r == 0)
            passed++;
    }
    if (passed >= need)
        return 0;
    return lc_fail(err, LC_EPOLICY,
                   "implicit meta policy %s %s: %zu of %zu sub-policies satisfied, %zu needed",
                   rule_name(imp->rule), imp->sub_policy, passed, n_children, need);
}
