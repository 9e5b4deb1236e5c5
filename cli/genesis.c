/* SPDX-License-Identifier: Apache-2.0 */
/* `weft genesis`: block 0 of a channel, its config built from a YAML profile as configtxgen does.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <yaml.h>

#include "cli/cmds.h"
#include "common/common.pb-c.h"
#include "common/configtx.pb-c.h"
#include "common/configuration.pb-c.h"
#include "common/policies.pb-c.h"
#include "libcommon/chconf.h"
#include "libcommon/conf.h"
#include "libcommon/crypto.h"
#include "libcommon/msp.h"
#include "libcommon/policy.h"
#include "libcommon/wire.h"
#include "orderer/configuration.pb-c.h"
#include "peer/configuration.pb-c.h"
#include "peer/policy.pb-c.h"
#include "weft/config.pb-c.h"

#define PROFILE_MAX_BYTES (1u << 20)
#define BLOCK_MAX_BYTES (256u << 20)
#define NONCE_MAX_BYTES 1024
#define CHANNEL_ID_MAX 249

/* ---- an arena: everything the profile and the config tree allocate, freed at once ---------- */

struct chunk {
    struct chunk *next;
    void (*dtor)(void *);
    void *obj;
    max_align_t mem[];
};

struct arena {
    struct chunk *head;
};

static void *arena_alloc(struct arena *a, size_t size)
{
    if (size > SIZE_MAX - sizeof(struct chunk))
        return NULL;
    struct chunk *c = calloc(1, sizeof *c + size);
    if (!c)
        return NULL;
    c->next = a->head;
    a->head = c;
    return c->mem;
}

/* Registers obj to be released with dtor when the arena is freed; on failure releases it now. */
static int arena_defer(struct arena *a, void (*dtor)(void *), void *obj)
{
    struct chunk *c = calloc(1, sizeof *c);
    if (!c) {
        dtor(obj);
        return -ENOMEM;
    }
    c->dtor = dtor;
    c->obj = obj;
    c->next = a->head;
    a->head = c;
    return 0;
}

static void arena_free(struct arena *a)
{
    while (a->head) {
        struct chunk *c = a->head;
        a->head = c->next;
        if (c->dtor)
            c->dtor(c->obj);
        free(c);
    }
}

static char *arena_strdup(struct arena *a, const char *s)
{
    size_t n = strlen(s);
    char *d = arena_alloc(a, n + 1);
    if (d)
        memcpy(d, s, n + 1);
    return d;
}

/* A growable array of pointers in the arena (old storage stays until the arena goes). */
static int arena_push(struct arena *a, void ***arr, size_t *n, size_t *cap, void *item)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        void **na = arena_alloc(a, nc * sizeof *na);
        if (!na)
            return -ENOMEM;
        if (*n)
            memcpy(na, *arr, *n * sizeof *na);
        *arr = na;
        *cap = nc;
    }
    (*arr)[(*n)++] = item;
    return 0;
}

/* ---- the profile --------------------------------------------------------------------------- */

enum { POL_SIGNATURE = 1, POL_IMPLICIT_META = 3 };

struct policy_def {
    const char *name;
    int type;          /* POL_SIGNATURE or POL_IMPLICIT_META */
    const char *rule;  /* DSL text, or "ANY Readers" */
    const char *where; /* "file:line:col: Key.Path" for errors found when compiling */
};

struct policy_set {
    struct policy_def *v;
    size_t n, cap;
};

struct anchor {
    const char *host;
    uint32_t port;
};

struct org {
    const char *name, *id, *msp_dir, *where;
    struct policy_set policies;
    struct anchor *anchors;
    size_t n_anchors;
    const char **endpoints;
    size_t n_endpoints;
};

struct chaincode {
    const char *name, *version, *policy, *policy_ref, *where;
    int64_t sequence;
};

struct strlist {
    const char **v;
    size_t n;
};

struct profile {
    /* channel */
    struct strlist channel_caps;
    struct policy_set channel_policies;
    /* orderer */
    const char *orderer_type;
    struct strlist addresses, brokers, orderer_caps;
    const char *batch_timeout; /* normalised as Go's Duration.String() */
    uint32_t max_message_count, absolute_max_bytes, preferred_max_bytes;
    uint64_t max_channels;
    struct policy_set orderer_policies;
    struct org *orderer_orgs;
    size_t n_orderer_orgs;
    /* application */
    struct strlist app_caps;
    struct policy_set app_policies;
    struct org *app_orgs;
    size_t n_app_orgs;
    struct chaincode *chaincodes;
    size_t n_chaincodes;
};

/* Parser context: the YAML document, where errors point, and the key path. */
struct pctx {
    yaml_document_t *doc;
    struct arena *a;
    const char *file;
    const char *base_dir; /* relative MSPDir paths are relative to the profile's folder */
    struct lc_errbuf *err;
    char path[256];
    size_t plen;
};

static size_t ppush(struct pctx *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static size_t ppush(struct pctx *p, const char *fmt, ...)
{
    size_t mark = p->plen;
    if (p->plen < sizeof p->path - 1) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(p->path + p->plen, sizeof p->path - p->plen, fmt, ap);
        va_end(ap);
        if (n > 0)
            p->plen =
                p->plen + (size_t)n < sizeof p->path ? p->plen + (size_t)n : sizeof p->path - 1;
    }
    return mark;
}

static void ppop(struct pctx *p, size_t mark)
{
    p->plen = mark;
    p->path[mark] = '\0';
}

/* "file:line:col: Key.Path: problem" for node n (or the document start when n is NULL). */
static int perr(struct pctx *p, const yaml_node_t *n, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int perr(struct pctx *p, const yaml_node_t *n, int code, const char *fmt, ...)
{
    char msg[sizeof p->err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t line = n ? n->start_mark.line + 1 : 1, col = n ? n->start_mark.column + 1 : 1;
    return lc_fail(p->err, code, "%s:%zu:%zu: %s%s%s", p->file, line, col, p->path,
                   p->plen ? ": " : "", msg);
}

static int oom(struct pctx *p)
{
    return lc_fail(p->err, -ENOMEM, "out of memory");
}

/* The "file:line:col: path" of node n, kept for errors found later (policy compilation). */
static const char *where(struct pctx *p, const yaml_node_t *n)
{
    char buf[sizeof p->path + 300];
    snprintf(buf, sizeof buf, "%s:%zu:%zu: %s", p->file, n->start_mark.line + 1,
             n->start_mark.column + 1, p->path);
    return arena_strdup(p->a, buf);
}

static yaml_node_t *node(struct pctx *p, int idx)
{
    return yaml_document_get_node(p->doc, idx);
}

static bool is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *s = (const char *)n->data.scalar.value;
    return n->data.scalar.length == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
           strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

static const char *kind(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_SCALAR_NODE:
        return "a scalar";
    case YAML_SEQUENCE_NODE:
        return "a list";
    case YAML_MAPPING_NODE:
        return "a mapping";
    default:
        return "nothing";
    }
}

/* Fabric's config element names (groups, policies): [A-Za-z0-9.-]+, at most 249 bytes, not "."
 * or "..". */
static bool valid_name(const char *s)
{
    static const char ok[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-";
    size_t n = strlen(s);
    return n > 0 && n <= 249 && strspn(s, ok) == n && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

struct field {
    const char *key;
    bool required;
    yaml_node_t *val; /* filled in; NULL when absent (or null) */
};

/* Reads mapping m into fields: every key must be listed, none may repeat, required ones must be
 * there. A null m is an empty mapping. */
static int map_fields(struct pctx *p, yaml_node_t *m, struct field *f, size_t nf)
{
    bool seen[16] = {false};
    if (nf > sizeof seen / sizeof seen[0])
        return perr(p, m, LC_EINVALID, "internal: too many keys");
    for (size_t i = 0; i < nf; i++)
        f[i].val = NULL;
    if (m && !is_null(m)) {
        if (m->type != YAML_MAPPING_NODE)
            return perr(p, m, LC_EINVALID, "expected a mapping, found %s", kind(m));
        for (yaml_node_pair_t *pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top;
             pr++) {
            yaml_node_t *k = node(p, pr->key), *v = node(p, pr->value);
            if (!k || !v || k->type != YAML_SCALAR_NODE)
                return perr(p, k ? k : m, LC_EINVALID, "keys must be plain words");
            const char *ks = (const char *)k->data.scalar.value;
            size_t i = 0;
            while (i < nf && strcmp(f[i].key, ks) != 0)
                i++;
            if (i == nf) {
                char known[200] = "";
                size_t kl = 0;
                for (size_t j = 0; j < nf && kl < sizeof known; j++)
                    kl += (size_t)snprintf(known + kl, sizeof known - kl, "%s%s", j ? ", " : "",
                                           f[j].key);
                return perr(p, k, LC_EINVALID, "unknown key '%.60s' (known: %s)", ks, known);
            }
            if (seen[i])
                return perr(p, k, LC_EINVALID, "key '%s' given twice", ks);
            seen[i] = true;
            f[i].val = is_null(v) ? NULL : v; /* a null value counts as absent */
        }
    }
    for (size_t i = 0; i < nf; i++)
        if (f[i].required && !f[i].val)
            return perr(p, m, LC_EINVALID, "missing key '%s'", f[i].key);
    return 0;
}

static int get_str(struct pctx *p, yaml_node_t *n, const char **ret)
{
    if (n->type != YAML_SCALAR_NODE)
        return perr(p, n, LC_EINVALID, "expected a string, found %s", kind(n));
    if (n->data.scalar.length == 0)
        return perr(p, n, LC_EINVALID, "must not be empty");
    if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length)
        return perr(p, n, LC_EINVALID, "must not contain NUL characters");
    *ret = (const char *)n->data.scalar.value;
    return 0;
}

/* A decimal integer in [min, max]. */
static int get_int(struct pctx *p, yaml_node_t *n, int64_t min, int64_t max, int64_t *ret)
{
    const char *s = NULL;
    int r = get_str(p, n, &s);
    if (r < 0)
        return r;
    const char *d = s[0] == '-' ? s + 1 : s;
    if (!*d || strspn(d, "0123456789") != strlen(d) || strlen(d) > 18)
        return perr(p, n, LC_EINVALID, "'%.40s' is not a whole number", s);
    int64_t v = strtoll(s, NULL, 10);
    if (v < min || v > max)
        return perr(p, n, LC_EINVALID, "%" PRId64 " is out of range [%" PRId64 ", %" PRId64 "]", v,
                    min, max);
    *ret = v;
    return 0;
}

static int get_bool(struct pctx *p, yaml_node_t *n, bool *ret)
{
    const char *s = NULL;
    int r = get_str(p, n, &s);
    if (r < 0)
        return r;
    static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On"};
    static const char *const no[] = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcmp(s, yes[i]) == 0) {
            *ret = true;
            return 0;
        }
        if (strcmp(s, no[i]) == 0) {
            *ret = false;
            return 0;
        }
    }
    return perr(p, n, LC_EINVALID, "'%.40s' is not true or false", s);
}

/* A byte size as Fabric's configtxgen reads it: digits, optional spaces, an optional unit K, M or
 * G (powers of 1024) with an optional B, or B alone; case does not matter. Must fit uint32. */
static int get_size(struct pctx *p, yaml_node_t *n, uint32_t *ret)
{
    const char *s = NULL;
    int r = get_str(p, n, &s);
    if (r < 0)
        return r;
    size_t nd = strspn(s, "0123456789");
    if (nd == 0 || nd > 12)
        return perr(p, n, LC_EINVALID, "bad size '%.40s': expected a number of bytes", s);
    uint64_t v = strtoull(s, NULL, 10);
    const char *u = s + nd;
    u += strspn(u, " \t");
    unsigned shift = 0;
    if (*u) {
        char c = (char)(*u | 0x20);
        if (c == 'k' || c == 'm' || c == 'g') {
            shift = c == 'k' ? 10 : c == 'm' ? 20 : 30;
            u++;
            if ((*u | 0x20) == 'b')
                u++;
        } else if (c == 'b') {
            u++;
        }
        if (*u)
            return perr(p, n, LC_EINVALID, "bad size unit in '%.40s': use B, KB, MB or GB", s);
    }
    if (v > (UINT32_MAX >> shift))
        return perr(p, n, LC_EINVALID, "size '%.40s' is over 4 GiB", s);
    *ret = (uint32_t)(v << shift);
    return 0;
}

/* Go's Duration.String() for d > 0: "2s", "1m30s", "1h0m0s", "1.5s", "500ms", "1µs". */
static void format_duration(int64_t d, char out[40])
{
    uint64_t u = (uint64_t)d;
    char frac[16] = "";
    if (u < 1000000000ULL) {
        unsigned prec = u < 1000 ? 0 : u < 1000000 ? 3 : 6;
        const char *unit = u < 1000 ? "ns" : u < 1000000 ? "\xc2\xb5s" : "ms";
        uint64_t div = prec == 0 ? 1 : prec == 3 ? 1000 : 1000000;
        if (u % div) {
            snprintf(frac, sizeof frac, ".%0*" PRIu64, (int)prec, u % div);
            size_t l = strlen(frac);
            while (l > 0 && frac[l - 1] == '0')
                frac[--l] = '\0';
        }
        snprintf(out, 40, "%" PRIu64 "%s%s", u / div, frac, unit);
        return;
    }
    uint64_t secs = u / 1000000000ULL, ns = u % 1000000000ULL;
    if (ns) {
        snprintf(frac, sizeof frac, ".%09" PRIu64, ns);
        size_t l = strlen(frac);
        while (l > 0 && frac[l - 1] == '0')
            frac[--l] = '\0';
    }
    uint64_t h = secs / 3600, m = secs / 60 % 60, s = secs % 60;
    if (h)
        snprintf(out, 40, "%" PRIu64 "h%" PRIu64 "m%" PRIu64 "%ss", h, m, s, frac);
    else if (secs >= 60)
        snprintf(out, 40, "%" PRIu64 "m%" PRIu64 "%ss", m, s, frac);
    else
        snprintf(out, 40, "%" PRIu64 "%ss", s, frac);
}

static int get_duration(struct pctx *p, yaml_node_t *n, const char **ret)
{
    const char *s = NULL;
    int r = get_str(p, n, &s);
    if (r < 0)
        return r;
    int64_t ns;
    struct lc_errbuf why;
    if (lc_chconf_parse_duration(s, &ns, &why) < 0)
        return perr(p, n, LC_EINVALID,
                    "bad duration '%.40s' (%s): expected e.g. 2s, 500ms, 1m30s (units ns us ms s "
                    "m h)",
                    s, why.msg);
    if (ns <= 0)
        return perr(p, n, LC_EINVALID, "duration must be positive");
    char buf[40];
    format_duration(ns, buf);
    *ret = arena_strdup(p->a, buf);
    return *ret ? 0 : oom(p);
}

/* A list of non-empty strings. */
static int get_strlist(struct pctx *p, yaml_node_t *n, struct strlist *ret)
{
    if (n->type != YAML_SEQUENCE_NODE)
        return perr(p, n, LC_EINVALID, "expected a list, found %s", kind(n));
    size_t cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    const char **v = arena_alloc(p->a, (cnt ? cnt : 1) * sizeof *v);
    if (!v)
        return oom(p);
    for (size_t i = 0; i < cnt; i++) {
        size_t mark = ppush(p, "[%zu]", i);
        int r = get_str(p, node(p, n->data.sequence.items.start[i]), &v[i]);
        ppop(p, mark);
        if (r < 0)
            return r;
    }
    ret->v = v;
    ret->n = cnt;
    return 0;
}

/* "host:port" with a port in 1..65535. */
static int check_address(struct pctx *p, yaml_node_t *n, const char *a)
{
    const char *colon = strrchr(a, ':');
    const char *port = colon ? colon + 1 : "";
    long v = strlen(port) <= 5 && strspn(port, "0123456789") == strlen(port) && *port
                 ? strtol(port, NULL, 10)
                 : 0;
    if (!colon || colon == a || v < 1 || v > 65535)
        return perr(p, n, LC_EINVALID, "'%.60s' is not host:port", a);
    return 0;
}

static int get_addresses(struct pctx *p, yaml_node_t *n, struct strlist *ret)
{
    int r = get_strlist(p, n, ret);
    for (size_t i = 0; r == 0 && i < ret->n; i++) {
        size_t mark = ppush(p, "[%zu]", i);
        r = check_address(p, node(p, n->data.sequence.items.start[i]), ret->v[i]);
        ppop(p, mark);
    }
    return r;
}

/* Capabilities: {Name: true|false}; the true ones, sorted as they will be encoded. */
static int get_caps(struct pctx *p, yaml_node_t *n, struct strlist *ret)
{
    if (n->type != YAML_MAPPING_NODE)
        return perr(p, n, LC_EINVALID, "expected a mapping of capability: true, found %s", kind(n));
    size_t cnt = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    const char **v = arena_alloc(p->a, (cnt ? cnt : 1) * sizeof *v);
    if (!v)
        return oom(p);
    size_t k = 0;
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_pair_t *pr = &n->data.mapping.pairs.start[i];
        yaml_node_t *kn = node(p, pr->key), *vn = node(p, pr->value);
        const char *name;
        int r = get_str(p, kn, &name);
        if (r < 0)
            return r;
        for (size_t j = 0; j < k; j++)
            if (strcmp(v[j], name) == 0)
                return perr(p, kn, LC_EINVALID, "capability '%s' given twice", name);
        bool on = false;
        size_t mark = ppush(p, ".%s", name);
        r = get_bool(p, vn, &on);
        ppop(p, mark);
        if (r < 0)
            return r;
        if (on)
            v[k++] = name;
    }
    ret->v = v;
    ret->n = k;
    return 0;
}

static int policy_set_put(struct pctx *p, struct policy_set *s, const char *name, int type,
                          const char *rule, const char *wh)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i].name, name) == 0) {
            s->v[i] = (struct policy_def){name, type, rule, wh};
            return 0;
        }
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 8;
        struct policy_def *nv = arena_alloc(p->a, nc * sizeof *nv);
        if (!nv)
            return oom(p);
        if (s->n)
            memcpy(nv, s->v, s->n * sizeof *nv);
        s->v = nv;
        s->cap = nc;
    }
    s->v[s->n++] = (struct policy_def){name, type, rule, wh};
    return 0;
}

/* "ANY Readers": a rule word and a sub-policy name, as Fabric's ImplicitMeta text. */
static int check_implicit(const char *rule)
{
    const char *sp = strchr(rule, ' ');
    if (!sp || !sp[1] || strchr(sp + 1, ' '))
        return -1;
    size_t wl = (size_t)(sp - rule);
    if (!((wl == 3 && strncmp(rule, "ANY", 3) == 0) || (wl == 3 && strncmp(rule, "ALL", 3) == 0) ||
          (wl == 8 && strncmp(rule, "MAJORITY", 8) == 0)))
        return -1;
    return 0;
}

/* Policies: {Name: {Type: Signature|ImplicitMeta, Rule: text}}, merged over the defaults in s. */
static int get_policies(struct pctx *p, yaml_node_t *n, struct policy_set *s)
{
    if (n->type != YAML_MAPPING_NODE)
        return perr(p, n, LC_EINVALID, "expected a mapping of policies, found %s", kind(n));
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
        yaml_node_t *kn = node(p, pr->key), *vn = node(p, pr->value);
        const char *name;
        int r = get_str(p, kn, &name);
        if (r < 0)
            return r;
        if (!valid_name(name))
            return perr(p, kn, LC_EINVALID,
                        "policy name '%.60s' is not a config name (A-Z a-z 0-9 . -)", name);
        for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < pr; q++)
            if (strcmp((const char *)node(p, q->key)->data.scalar.value, name) == 0)
                return perr(p, kn, LC_EINVALID, "policy '%s' given twice", name);
        size_t mark = ppush(p, ".%s", name);
        struct field f[] = {{"Type", true, NULL}, {"Rule", true, NULL}};
        const char *type, *rule;
        if ((r = map_fields(p, vn, f, 2)) < 0)
            goto out;
        size_t m2 = ppush(p, ".Type");
        r = get_str(p, f[0].val, &type);
        if (r == 0 && strcmp(type, "Signature") != 0 && strcmp(type, "ImplicitMeta") != 0)
            r = perr(p, f[0].val, LC_EINVALID, "'%.40s' is not Signature or ImplicitMeta", type);
        ppop(p, m2);
        if (r < 0)
            goto out;
        m2 = ppush(p, ".Rule");
        r = get_str(p, f[1].val, &rule);
        bool sig = strcmp(type, "Signature") == 0;
        if (r == 0 && !sig && check_implicit(rule) < 0)
            r = perr(p, f[1].val, LC_EINVALID,
                     "bad ImplicitMeta rule '%.60s': expected ANY, ALL or MAJORITY and a policy "
                     "name, e.g. \"MAJORITY Admins\"",
                     rule);
        const char *wh = r == 0 ? where(p, f[1].val) : NULL;
        ppop(p, m2);
        if (r == 0 && !wh)
            r = oom(p);
        if (r == 0)
            r = policy_set_put(p, s, name, sig ? POL_SIGNATURE : POL_IMPLICIT_META, rule, wh);
    out:
        ppop(p, mark);
        if (r < 0)
            return r;
    }
    return 0;
}

static int set_implicit_defaults(struct pctx *p, struct policy_set *s, bool endorsement)
{
    int r = policy_set_put(p, s, "Readers", POL_IMPLICIT_META, "ANY Readers", "default");
    if (r == 0)
        r = policy_set_put(p, s, "Writers", POL_IMPLICIT_META, "ANY Writers", "default");
    if (r == 0)
        r = policy_set_put(p, s, "Admins", POL_IMPLICIT_META, "MAJORITY Admins", "default");
    if (r == 0 && endorsement)
        r = policy_set_put(p, s, "Endorsement", POL_IMPLICIT_META, "MAJORITY Endorsement",
                           "default");
    if (r == 0 && endorsement)
        r = policy_set_put(p, s, "LifecycleEndorsement", POL_IMPLICIT_META, "MAJORITY Endorsement",
                           "default");
    return r;
}

/* Default org policies, Fabric's sample style with the org's MSP id. */
static int set_org_defaults(struct pctx *p, struct org *o, bool orderer, const char *wh)
{
    char buf[4][400];
    if (orderer) {
        snprintf(buf[0], sizeof buf[0], "OR('%s.member')", o->id);
        snprintf(buf[1], sizeof buf[1], "OR('%s.admin')", o->id);
    } else {
        snprintf(buf[0], sizeof buf[0], "OR('%s.admin','%s.peer','%s.client')", o->id, o->id,
                 o->id);
        snprintf(buf[1], sizeof buf[1], "OR('%s.admin')", o->id);
        snprintf(buf[2], sizeof buf[2], "OR('%s.peer')", o->id);
    }
    const char *readers = arena_strdup(p->a, buf[0]), *admins = arena_strdup(p->a, buf[1]);
    const char *endorse = orderer ? "" : arena_strdup(p->a, buf[2]);
    if (!readers || !admins || !endorse)
        return oom(p);
    int r = policy_set_put(p, &o->policies, "Readers", POL_SIGNATURE, readers, wh);
    if (r == 0)
        r = policy_set_put(p, &o->policies, "Writers", POL_SIGNATURE, readers, wh);
    if (r == 0)
        r = policy_set_put(p, &o->policies, "Admins", POL_SIGNATURE, admins, wh);
    if (r == 0 && !orderer)
        r = policy_set_put(p, &o->policies, "Endorsement", POL_SIGNATURE, endorse, wh);
    return r;
}

/* An MSP id a policy can name: [A-Za-z0-9.-]+. */
static bool valid_mspid(const char *s)
{
    static const char ok[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-";
    return *s && strspn(s, ok) == strlen(s);
}

static int resolve_dir(struct pctx *p, yaml_node_t *n, const char *dir, const char **ret)
{
    char buf[4096];
    if (dir[0] == '/' || !p->base_dir || !*p->base_dir)
        snprintf(buf, sizeof buf, "%s", dir);
    else if ((size_t)snprintf(buf, sizeof buf, "%s/%s", p->base_dir, dir) >= sizeof buf)
        return perr(p, n, LC_EINVALID, "path too long");
    struct stat st;
    if (stat(buf, &st) < 0)
        return perr(p, n, -errno, "MSP directory '%.200s': %s", buf, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return perr(p, n, LC_EINVALID, "MSP directory '%.200s' is not a directory", buf);
    *ret = arena_strdup(p->a, buf);
    return *ret ? 0 : oom(p);
}

static int get_org(struct pctx *p, yaml_node_t *n, bool orderer, struct org *o)
{
    struct field f[] = {
        {"Name", true, NULL},
        {"ID", true, NULL},
        {"MSPDir", true, NULL},
        {"Policies", false, NULL},
        {orderer ? "OrdererEndpoints" : "AnchorPeers", false, NULL},
    };
    int r = map_fields(p, n, f, 5);
    if (r < 0)
        return r;
    memset(o, 0, sizeof *o);
    size_t mark = ppush(p, ".Name");
    r = get_str(p, f[0].val, &o->name);
    if (r == 0 && !valid_name(o->name))
        r = perr(p, f[0].val, LC_EINVALID,
                 "'%.60s' is not a config name (A-Z a-z 0-9 . -, at most 249)", o->name);
    ppop(p, mark);
    if (r < 0)
        return r;
    mark = ppush(p, ".ID");
    r = get_str(p, f[1].val, &o->id);
    if (r == 0 && !valid_mspid(o->id))
        r = perr(p, f[1].val, LC_EINVALID,
                 "'%.60s' is not an MSP id a policy can name (use A-Z a-z 0-9 . -)", o->id);
    ppop(p, mark);
    if (r < 0)
        return r;
    mark = ppush(p, ".MSPDir");
    const char *dir;
    r = get_str(p, f[2].val, &dir);
    if (r == 0)
        r = resolve_dir(p, f[2].val, dir, &o->msp_dir);
    ppop(p, mark);
    if (r < 0)
        return r;
    o->where = where(p, n);
    if (!o->where)
        return oom(p);
    if ((r = set_org_defaults(p, o, orderer, o->where)) < 0)
        return r;
    if (f[3].val) {
        mark = ppush(p, ".Policies");
        r = get_policies(p, f[3].val, &o->policies);
        ppop(p, mark);
        if (r < 0)
            return r;
    }
    if (!f[4].val)
        return 0;
    mark = ppush(p, ".%s", f[4].key);
    if (orderer) {
        struct strlist l;
        r = get_addresses(p, f[4].val, &l);
        o->endpoints = l.v;
        o->n_endpoints = r == 0 ? l.n : 0;
    } else if (f[4].val->type != YAML_SEQUENCE_NODE) {
        r = perr(p, f[4].val, LC_EINVALID, "expected a list, found %s", kind(f[4].val));
    } else {
        yaml_node_t *seq = f[4].val;
        size_t cnt = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
        o->anchors = arena_alloc(p->a, (cnt ? cnt : 1) * sizeof *o->anchors);
        if (!o->anchors)
            r = oom(p);
        for (size_t i = 0; r == 0 && i < cnt; i++) {
            size_t m2 = ppush(p, "[%zu]", i);
            struct field af[] = {{"Host", true, NULL}, {"Port", true, NULL}};
            int64_t port = 0;
            r = map_fields(p, node(p, seq->data.sequence.items.start[i]), af, 2);
            if (r == 0) {
                size_t m3 = ppush(p, ".Host");
                r = get_str(p, af[0].val, &o->anchors[i].host);
                ppop(p, m3);
            }
            if (r == 0) {
                size_t m3 = ppush(p, ".Port");
                r = get_int(p, af[1].val, 1, 65535, &port);
                ppop(p, m3);
            }
            o->anchors[i].port = (uint32_t)port;
            ppop(p, m2);
        }
        o->n_anchors = r == 0 ? cnt : 0;
    }
    ppop(p, mark);
    return r;
}

static int get_orgs(struct pctx *p, yaml_node_t *n, bool orderer, struct org **ret, size_t *ret_n)
{
    if (n->type != YAML_SEQUENCE_NODE)
        return perr(p, n, LC_EINVALID, "expected a list of organizations, found %s", kind(n));
    size_t cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (cnt == 0)
        return perr(p, n, LC_EINVALID, "at least one organization is needed");
    struct org *orgs = arena_alloc(p->a, cnt * sizeof *orgs);
    if (!orgs)
        return oom(p);
    for (size_t i = 0; i < cnt; i++) {
        size_t mark = ppush(p, "[%zu]", i);
        yaml_node_t *on = node(p, n->data.sequence.items.start[i]);
        int r = get_org(p, on, orderer, &orgs[i]);
        for (size_t j = 0; r == 0 && j < i; j++) {
            if (strcmp(orgs[j].name, orgs[i].name) == 0)
                r = perr(p, on, LC_EINVALID, "organization name '%s' used twice", orgs[i].name);
            else if (strcmp(orgs[j].id, orgs[i].id) == 0)
                r = perr(p, on, LC_EINVALID, "MSP id '%s' used twice", orgs[i].id);
        }
        ppop(p, mark);
        if (r < 0)
            return r;
    }
    *ret = orgs;
    *ret_n = cnt;
    return 0;
}

/* Fabric's chaincode name and version rules (lifecycle). */
static bool valid_cc_name(const char *s)
{
    static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    size_t n = strspn(s, alnum);
    if (n == 0)
        return false;
    for (s += n; *s; s += n) {
        if (*s != '-' && *s != '_')
            return false;
        s++;
        n = strspn(s, alnum);
        if (n == 0)
            return false;
    }
    return true;
}

static bool valid_cc_version(const char *s)
{
    static const char ok[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.+-";
    return *s && strspn(s, ok) == strlen(s);
}

static int get_chaincodes(struct pctx *p, yaml_node_t *n, struct profile *pr)
{
    if (n->type != YAML_SEQUENCE_NODE)
        return perr(p, n, LC_EINVALID, "expected a list of chaincodes, found %s", kind(n));
    size_t cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    pr->chaincodes = arena_alloc(p->a, (cnt ? cnt : 1) * sizeof *pr->chaincodes);
    if (!pr->chaincodes)
        return oom(p);
    for (size_t i = 0; i < cnt; i++) {
        struct chaincode *cc = &pr->chaincodes[i];
        yaml_node_t *cn = node(p, n->data.sequence.items.start[i]);
        size_t mark = ppush(p, "[%zu]", i);
        struct field f[] = {{"Name", true, NULL},
                            {"Version", true, NULL},
                            {"Sequence", false, NULL},
                            {"EndorsementPolicy", false, NULL},
                            {"EndorsementPolicyRef", false, NULL}};
        int r = map_fields(p, cn, f, 5);
        size_t m2;
        if (r < 0)
            goto out;
        m2 = ppush(p, ".Name");
        r = get_str(p, f[0].val, &cc->name);
        if (r == 0 && !valid_cc_name(cc->name))
            r = perr(p, f[0].val, LC_EINVALID,
                     "'%.60s' is not a chaincode name (letters and digits, single - or _ "
                     "between them)",
                     cc->name);
        for (size_t j = 0; r == 0 && j < i; j++)
            if (strcmp(pr->chaincodes[j].name, cc->name) == 0)
                r = perr(p, f[0].val, LC_EINVALID, "chaincode '%s' defined twice", cc->name);
        ppop(p, m2);
        if (r < 0)
            goto out;
        m2 = ppush(p, ".Version");
        r = get_str(p, f[1].val, &cc->version);
        if (r == 0 && !valid_cc_version(cc->version))
            r = perr(p, f[1].val, LC_EINVALID, "'%.60s' is not a version (use A-Z a-z 0-9 _ . + -)",
                     cc->version);
        ppop(p, m2);
        if (r < 0)
            goto out;
        cc->sequence = 1;
        if (f[2].val) {
            m2 = ppush(p, ".Sequence");
            r = get_int(p, f[2].val, 1, INT64_MAX, &cc->sequence);
            ppop(p, m2);
            if (r < 0)
                goto out;
        }
        if (f[3].val && f[4].val) {
            r = perr(p, f[4].val, LC_EINVALID,
                     "give EndorsementPolicy or EndorsementPolicyRef, not both");
            goto out;
        }
        if (f[3].val) {
            m2 = ppush(p, ".EndorsementPolicy");
            r = get_str(p, f[3].val, &cc->policy);
            cc->where = r == 0 ? where(p, f[3].val) : NULL;
            if (r == 0 && !cc->where)
                r = oom(p);
            ppop(p, m2);
        } else if (f[4].val) {
            m2 = ppush(p, ".EndorsementPolicyRef");
            r = get_str(p, f[4].val, &cc->policy_ref);
            ppop(p, m2);
        } else {
            cc->policy_ref = "/Channel/Application/Endorsement";
        }
    out:
        ppop(p, mark);
        if (r < 0)
            return r;
    }
    pr->n_chaincodes = cnt;
    return 0;
}

static int get_orderer(struct pctx *p, yaml_node_t *n, struct profile *pr)
{
    struct field f[] = {
        {"OrdererType", false, NULL},  {"Addresses", false, NULL},   {"BatchTimeout", false, NULL},
        {"BatchSize", false, NULL},    {"MaxChannels", false, NULL}, {"Kafka", false, NULL},
        {"Organizations", true, NULL}, {"Policies", false, NULL},    {"Capabilities", false, NULL}};
    int r = map_fields(p, n, f, 9);
    if (r < 0)
        return r;
    size_t mark;
    pr->orderer_type = "solo";
    if (f[0].val) {
        mark = ppush(p, ".OrdererType");
        r = get_str(p, f[0].val, &pr->orderer_type);
        if (r == 0 && strcmp(pr->orderer_type, "solo") != 0 &&
            strcmp(pr->orderer_type, "kafka") != 0)
            r = perr(p, f[0].val, LC_EINVALID, "'%.40s' is not solo or kafka", pr->orderer_type);
        ppop(p, mark);
        if (r < 0)
            return r;
    }
    if (f[1].val) {
        mark = ppush(p, ".Addresses");
        r = get_addresses(p, f[1].val, &pr->addresses);
        ppop(p, mark);
        if (r < 0)
            return r;
    }
    pr->batch_timeout = "2s";
    if (f[2].val) {
        mark = ppush(p, ".BatchTimeout");
        r = get_duration(p, f[2].val, &pr->batch_timeout);
        ppop(p, mark);
        if (r < 0)
            return r;
    }
    pr->max_message_count = 10;
    pr->absolute_max_bytes = 99u << 20;
    pr->preferred_max_bytes = 512u << 10;
    if (f[3].val) {
        mark = ppush(p, ".BatchSize");
        struct field bf[] = {{"MaxMessageCount", false, NULL},
                             {"AbsoluteMaxBytes", false, NULL},
                             {"PreferredMaxBytes", false, NULL}};
        r = map_fields(p, f[3].val, bf, 3);
        size_t m2;
        if (r == 0 && bf[0].val) {
            int64_t v;
            m2 = ppush(p, ".MaxMessageCount");
            r = get_int(p, bf[0].val, 1, UINT32_MAX, &v);
            pr->max_message_count = (uint32_t)v;
            ppop(p, m2);
        }
        if (r == 0 && bf[1].val) {
            m2 = ppush(p, ".AbsoluteMaxBytes");
            r = get_size(p, bf[1].val, &pr->absolute_max_bytes);
            if (r == 0 && pr->absolute_max_bytes == 0)
                r = perr(p, bf[1].val, LC_EINVALID, "must be positive");
            ppop(p, m2);
        }
        if (r == 0 && bf[2].val) {
            m2 = ppush(p, ".PreferredMaxBytes");
            r = get_size(p, bf[2].val, &pr->preferred_max_bytes);
            if (r == 0 && pr->preferred_max_bytes == 0)
                r = perr(p, bf[2].val, LC_EINVALID, "must be positive");
            ppop(p, m2);
        }
        if (r == 0 && pr->preferred_max_bytes > pr->absolute_max_bytes)
            r = perr(p, f[3].val, LC_EINVALID,
                     "PreferredMaxBytes (%" PRIu32 ") is over AbsoluteMaxBytes (%" PRIu32 ")",
                     pr->preferred_max_bytes, pr->absolute_max_bytes);
        ppop(p, mark);
        if (r < 0)
            return r;
    }
    if (f[4].val) {
        int64_t v;
        mark = ppush(p, ".MaxChannels");
        r = get_int(p, f[4].val, 0, INT64_MAX, &v);
        pr->max_channels = (uint64_t)v;
        ppop(p, mark);
        if (r < 0)
            return r;
    }
    if (f[5].val) {
        mark = ppush(p, ".Kafka");
        struct field kf[] = {{"Brokers", true, NULL}};
        r = map_fields(p, f[5].val, kf, 1);
        if (r == 0) {
            size_t m2 = ppush(p, ".Brokers");
            r = get_addresses(p, kf[0].val, &pr->brokers);
            ppop(p, m2);
        }
        ppop(p, mark);
        if (r < 0)
            return r;
    }
    if (strcmp(pr->orderer_type, "kafka") == 0 && pr->brokers.n == 0)
        return perr(p, n, LC_EINVALID, "OrdererType kafka needs Kafka.Brokers");
    mark = ppush(p, ".Organizations");
    r = get_orgs(p, f[6].val, true, &pr->orderer_orgs, &pr->n_orderer_orgs);
    ppop(p, mark);
    if (r < 0)
        return r;
    if ((r = set_implicit_defaults(p, &pr->orderer_policies, false)) < 0)
        return r;
    if ((r = policy_set_put(p, &pr->orderer_policies, "BlockValidation", POL_IMPLICIT_META,
                            "ANY Writers", "default")) < 0)
        return r;
    if (f[7].val) {
        mark = ppush(p, ".Policies");
        r = get_policies(p, f[7].val, &pr->orderer_policies);
        ppop(p, mark);
        if (r < 0)
            return r;
    }
    static const char *v20[] = {"V2_0"};
    pr->orderer_caps = (struct strlist){v20, 1};
    if (f[8].val) {
        mark = ppush(p, ".Capabilities");
        r = get_caps(p, f[8].val, &pr->orderer_caps);
        ppop(p, mark);
    }
    return r;
}

static int get_application(struct pctx *p, yaml_node_t *n, struct profile *pr)
{
    struct field f[] = {
        {"Organizations", true, NULL}, {"Policies", false, NULL}, {"Capabilities", false, NULL}};
    int r = map_fields(p, n, f, 3);
    if (r < 0)
        return r;
    size_t mark = ppush(p, ".Organizations");
    r = get_orgs(p, f[0].val, false, &pr->app_orgs, &pr->n_app_orgs);
    ppop(p, mark);
    if (r < 0)
        return r;
    if ((r = set_implicit_defaults(p, &pr->app_policies, true)) < 0)
        return r;
    if (f[1].val) {
        mark = ppush(p, ".Policies");
        r = get_policies(p, f[1].val, &pr->app_policies);
        ppop(p, mark);
        if (r < 0)
            return r;
    }
    static const char *v20[] = {"V2_0"};
    pr->app_caps = (struct strlist){v20, 1};
    if (f[2].val) {
        mark = ppush(p, ".Capabilities");
        r = get_caps(p, f[2].val, &pr->app_caps);
        ppop(p, mark);
    }
    return r;
}

static int get_profile(struct pctx *p, yaml_node_t *root, struct profile *pr)
{
    struct field f[] = {{"Orderer", true, NULL},
                        {"Application", true, NULL},
                        {"Chaincodes", false, NULL},
                        {"Policies", false, NULL},
                        {"Capabilities", false, NULL}};
    int r = map_fields(p, root, f, 5);
    if (r < 0)
        return r;
    size_t mark = ppush(p, "Orderer");
    r = get_orderer(p, f[0].val, pr);
    ppop(p, mark);
    if (r < 0)
        return r;
    mark = ppush(p, "Application");
    r = get_application(p, f[1].val, pr);
    ppop(p, mark);
    if (r < 0)
        return r;
    if (f[2].val) {
        mark = ppush(p, "Chaincodes");
        r = get_chaincodes(p, f[2].val, pr);
        ppop(p, mark);
        if (r < 0)
            return r;
    }
    if ((r = set_implicit_defaults(p, &pr->channel_policies, false)) < 0)
        return r;
    if (f[3].val) {
        mark = ppush(p, "Policies");
        r = get_policies(p, f[3].val, &pr->channel_policies);
        ppop(p, mark);
        if (r < 0)
            return r;
    }
    static const char *v20[] = {"V2_0"};
    pr->channel_caps = (struct strlist){v20, 1};
    if (f[4].val) {
        mark = ppush(p, "Capabilities");
        r = get_caps(p, f[4].val, &pr->channel_caps);
        ppop(p, mark);
    }
    return r;
}

static void yaml_doc_free(void *d)
{
    yaml_document_delete(d);
    free(d);
}

/* Reads and checks the profile at path. Strings in *pr live in the arena (the YAML document is
 * kept there too). */
static int load_profile(struct arena *a, const char *path, struct profile *pr,
                        struct lc_errbuf *err)
{
    int r;
    FILE *f = fopen(path, "rb");
    if (!f)
        return lc_fail(err, -errno, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && st.st_size > (off_t)PROFILE_MAX_BYTES) {
        fclose(f);
        return lc_fail(err, LC_ETOOBIG, "%s: larger than %u bytes", path, PROFILE_MAX_BYTES);
    }
    yaml_parser_t parser;
    yaml_document_t *doc = calloc(1, sizeof *doc);
    if (!doc || !yaml_parser_initialize(&parser)) {
        free(doc);
        fclose(f);
        return lc_fail(err, -ENOMEM, "out of memory");
    }
    yaml_parser_set_input_file(&parser, f);
    if (!yaml_parser_load(&parser, doc)) {
        r = lc_fail(err, LC_ESYNTAX, "%s:%zu:%zu: YAML: %s%s%s", path, parser.problem_mark.line + 1,
                    parser.problem_mark.column + 1,
                    parser.problem ? parser.problem : "cannot parse", parser.context ? " " : "",
                    parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        free(doc);
        fclose(f);
        return r;
    }
    yaml_parser_delete(&parser);
    fclose(f);
    if ((r = arena_defer(a, yaml_doc_free, doc)) < 0)
        return lc_fail(err, r, "out of memory");
    yaml_node_t *root = yaml_document_get_root_node(doc);
    if (!root)
        return lc_fail(err, LC_EINVALID, "%s: empty profile", path);
    char *dir = arena_strdup(a, path);
    if (!dir)
        return lc_fail(err, -ENOMEM, "out of memory");
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    else
        dir[0] = '\0';
    struct pctx p = {.doc = doc, .a = a, .file = path, .base_dir = dir, .err = err};
    memset(pr, 0, sizeof *pr);
    return get_profile(&p, root, pr);
}

/* ---- the config tree ----------------------------------------------------------------------- */

struct tree {
    struct arena *a;
    struct lc_errbuf *err;
};

static int toom(struct tree *t)
{
    return lc_fail(t->err, -ENOMEM, "out of memory");
}

/* Growable map arrays live with their capacities beside the group. */
struct group {
    Common__ConfigGroup g;
    size_t cap_groups, cap_values, cap_policies;
};

static struct group *group_new(struct tree *t)
{
    struct group *g = arena_alloc(t->a, sizeof *g);
    if (!g)
        return NULL;
    common__config_group__init(&g->g);
    g->g.mod_policy = "Admins";
    return g;
}

static int group_add_group(struct tree *t, struct group *parent, const char *name,
                           struct group *child)
{
    Common__ConfigGroup__GroupsEntry *e = arena_alloc(t->a, sizeof *e);
    if (!e)
        return toom(t);
    common__config_group__groups_entry__init(e);
    e->key = (char *)name;
    e->value = &child->g;
    return arena_push(t->a, (void ***)&parent->g.groups, &parent->g.n_groups, &parent->cap_groups,
                      e) < 0
               ? toom(t)
               : 0;
}

/* Adds value bytes under key (the bytes must live in the arena). */
static int group_add_value_bytes(struct tree *t, struct group *g, const char *key, uint8_t *buf,
                                 size_t len, const char *mod_policy)
{
    Common__ConfigGroup__ValuesEntry *e = arena_alloc(t->a, sizeof *e);
    Common__ConfigValue *v = arena_alloc(t->a, sizeof *v);
    if (!e || !v)
        return toom(t);
    common__config_group__values_entry__init(e);
    common__config_value__init(v);
    v->value.data = buf;
    v->value.len = len;
    v->mod_policy = (char *)mod_policy;
    e->key = (char *)key;
    e->value = v;
    return arena_push(t->a, (void ***)&g->g.values, &g->g.n_values, &g->cap_values, e) < 0 ? toom(t)
                                                                                           : 0;
}

/* Packs msg into arena memory. */
static int tree_pack(struct tree *t, const ProtobufCMessage *msg, uint8_t **ret, size_t *ret_len)
{
    uint8_t *buf;
    size_t len;
    int r = lc_wire_pack(msg, BLOCK_MAX_BYTES, &buf, &len, t->err);
    if (r < 0)
        return r;
    if ((r = arena_defer(t->a, free, buf)) < 0)
        return toom(t);
    *ret = buf;
    *ret_len = len;
    return 0;
}

static int group_add_value(struct tree *t, struct group *g, const char *key,
                           const ProtobufCMessage *msg, const char *mod_policy)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int r = tree_pack(t, msg, &buf, &len);
    return r < 0 ? r : group_add_value_bytes(t, g, key, buf, len, mod_policy);
}

/* Compiles one policy definition and adds it. */
static int group_add_policy(struct tree *t, struct group *g, const struct policy_def *pd)
{
    Common__Policy *pol = arena_alloc(t->a, sizeof *pol);
    Common__ConfigPolicy *cp = arena_alloc(t->a, sizeof *cp);
    Common__ConfigGroup__PoliciesEntry *e = arena_alloc(t->a, sizeof *e);
    if (!pol || !cp || !e)
        return toom(t);
    common__policy__init(pol);
    common__config_policy__init(cp);
    common__config_group__policies_entry__init(e);
    pol->type = pd->type;
    int r;
    if (pd->type == POL_SIGNATURE) {
        uint8_t *bytes = NULL;
        size_t len = 0;
        char *msg = NULL;
        r = lc_policy_parse(pd->rule, &bytes, &len, &msg);
        if (r == -ENOMEM)
            return toom(t);
        if (r < 0) {
            lc_fail(t->err, r, "%s: policy %s: bad policy \"%.80s\": %s", pd->where, pd->name,
                    pd->rule, msg ? msg : lc_strerror(r));
            lc_policy_msg_free(msg);
            return r;
        }
        if (arena_defer(t->a, free, bytes) < 0)
            return toom(t);
        pol->value.data = bytes;
        pol->value.len = len;
    } else {
        /* "RULE SubPolicy", checked when the profile was read */
        Common__ImplicitMetaPolicy imp = COMMON__IMPLICIT_META_POLICY__INIT;
        const char *sp = strchr(pd->rule, ' ');
        imp.sub_policy = (char *)sp + 1;
        imp.rule = strncmp(pd->rule, "ANY", 3) == 0 ? COMMON__IMPLICIT_META_POLICY__RULE__ANY
                   : strncmp(pd->rule, "ALL", 3) == 0
                       ? COMMON__IMPLICIT_META_POLICY__RULE__ALL
                       : COMMON__IMPLICIT_META_POLICY__RULE__MAJORITY;
        if ((r = tree_pack(t, &imp.base, &pol->value.data, &pol->value.len)) < 0)
            return r;
    }
    cp->policy = pol;
    cp->mod_policy = "Admins";
    e->key = (char *)pd->name;
    e->value = cp;
    return arena_push(t->a, (void ***)&g->g.policies, &g->g.n_policies, &g->cap_policies, e) < 0
               ? toom(t)
               : 0;
}

static int group_add_policies(struct tree *t, struct group *g, const struct policy_set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        int r = group_add_policy(t, g, &s->v[i]);
        if (r < 0)
            return r;
    }
    return 0;
}

static int add_capabilities(struct tree *t, struct group *g, const struct strlist *caps)
{
    if (caps->n == 0)
        return 0;
    Common__Capabilities c = COMMON__CAPABILITIES__INIT;
    Common__Capabilities__CapabilitiesEntry *entries = arena_alloc(t->a, caps->n * sizeof *entries);
    Common__Capabilities__CapabilitiesEntry **ptrs = arena_alloc(t->a, caps->n * sizeof *ptrs);
    Common__Capability *empty = arena_alloc(t->a, sizeof *empty);
    if (!entries || !ptrs || !empty)
        return toom(t);
    common__capability__init(empty);
    for (size_t i = 0; i < caps->n; i++) {
        common__capabilities__capabilities_entry__init(&entries[i]);
        entries[i].key = (char *)caps->v[i];
        entries[i].value = empty;
        ptrs[i] = &entries[i];
    }
    c.n_capabilities = caps->n;
    c.capabilities = ptrs;
    return group_add_value(t, g, "Capabilities", &c.base, "Admins");
}

static int add_msp(struct tree *t, struct group *g, const struct org *o)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int r = lc_msp_config_from_dir(o->msp_dir, o->id, t->err, &buf, &len);
    if (r < 0) {
        lc_errbuf_prefix(t->err, "%s: MSPDir: ", o->where);
        return r;
    }
    if (arena_defer(t->a, free, buf) < 0)
        return toom(t);
    return group_add_value_bytes(t, g, "MSP", buf, len, "Admins");
}

static int build_orderer(struct tree *t, const struct profile *pr, struct group **ret)
{
    struct group *og = group_new(t);
    if (!og)
        return toom(t);
    int r = group_add_policies(t, og, &pr->orderer_policies);
    if (r < 0)
        return r;
    Orderer__BatchSize bs = ORDERER__BATCH_SIZE__INIT;
    bs.max_message_count = pr->max_message_count;
    bs.absolute_max_bytes = pr->absolute_max_bytes;
    bs.preferred_max_bytes = pr->preferred_max_bytes;
    Orderer__BatchTimeout bt = ORDERER__BATCH_TIMEOUT__INIT;
    bt.timeout = (char *)pr->batch_timeout;
    Orderer__ConsensusType ct = ORDERER__CONSENSUS_TYPE__INIT;
    ct.type = (char *)pr->orderer_type;
    if ((r = group_add_value(t, og, "BatchSize", &bs.base, "Admins")) < 0 ||
        (r = group_add_value(t, og, "BatchTimeout", &bt.base, "Admins")) < 0)
        return r;
    if (pr->max_channels > 0) {
        Orderer__ChannelRestrictions cr = ORDERER__CHANNEL_RESTRICTIONS__INIT;
        cr.max_count = pr->max_channels;
        if ((r = group_add_value(t, og, "ChannelRestrictions", &cr.base, "Admins")) < 0)
            return r;
    }
    if ((r = add_capabilities(t, og, &pr->orderer_caps)) < 0 ||
        (r = group_add_value(t, og, "ConsensusType", &ct.base, "Admins")) < 0)
        return r;
    if (strcmp(pr->orderer_type, "kafka") == 0) {
        Orderer__KafkaBrokers kb = ORDERER__KAFKA_BROKERS__INIT;
        kb.n_brokers = pr->brokers.n;
        kb.brokers = (char **)pr->brokers.v;
        if ((r = group_add_value(t, og, "KafkaBrokers", &kb.base, "Admins")) < 0)
            return r;
    }
    for (size_t i = 0; i < pr->n_orderer_orgs; i++) {
        const struct org *o = &pr->orderer_orgs[i];
        struct group *g = group_new(t);
        if (!g)
            return toom(t);
        if ((r = group_add_policies(t, g, &o->policies)) < 0 || (r = add_msp(t, g, o)) < 0)
            return r;
        if (o->n_endpoints) {
            Common__OrdererAddresses ep = COMMON__ORDERER_ADDRESSES__INIT;
            ep.n_addresses = o->n_endpoints;
            ep.addresses = (char **)o->endpoints;
            if ((r = group_add_value(t, g, "Endpoints", &ep.base, "Admins")) < 0)
                return r;
        }
        if ((r = group_add_group(t, og, o->name, g)) < 0)
            return r;
    }
    *ret = og;
    return 0;
}

static void free_envelope(void *env)
{
    common__signature_policy_envelope__free_unpacked(env, NULL);
}

static int add_chaincodes(struct tree *t, struct group *ag, const struct profile *pr)
{
    if (pr->n_chaincodes == 0)
        return 0;
    Weft__ChaincodeDefinitions defs = WEFT__CHAINCODE_DEFINITIONS__INIT;
    Weft__ChaincodeDefinition **ptrs = arena_alloc(t->a, pr->n_chaincodes * sizeof *ptrs);
    if (!ptrs)
        return toom(t);
    for (size_t i = 0; i < pr->n_chaincodes; i++) {
        const struct chaincode *cc = &pr->chaincodes[i];
        Weft__ChaincodeDefinition *d = arena_alloc(t->a, sizeof *d);
        Protos__ApplicationPolicy *ap = arena_alloc(t->a, sizeof *ap);
        if (!d || !ap)
            return toom(t);
        weft__chaincode_definition__init(d);
        protos__application_policy__init(ap);
        d->name = (char *)cc->name;
        d->version = (char *)cc->version;
        d->sequence = cc->sequence;
        d->endorsement_policy = ap;
        if (cc->policy) {
            Common__SignaturePolicyEnvelope *env = NULL;
            char *msg = NULL;
            int r = lc_policy_parse_envelope(cc->policy, &env, &msg);
            if (r == -ENOMEM)
                return toom(t);
            if (r < 0) {
                lc_fail(t->err, r, "%s: bad policy \"%.80s\": %s", cc->where, cc->policy,
                        msg ? msg : lc_strerror(r));
                lc_policy_msg_free(msg);
                return r;
            }
            if (arena_defer(t->a, free_envelope, env) < 0)
                return toom(t);
            ap->type_case = PROTOS__APPLICATION_POLICY__TYPE_SIGNATURE_POLICY;
            ap->signature_policy = env;
        } else {
            ap->type_case = PROTOS__APPLICATION_POLICY__TYPE_CHANNEL_CONFIG_POLICY_REFERENCE;
            ap->channel_config_policy_reference = (char *)cc->policy_ref;
        }
        ptrs[i] = d;
    }
    defs.n_chaincodes = pr->n_chaincodes;
    defs.chaincodes = ptrs;
    return group_add_value(t, ag, "WeftChaincodes", &defs.base, "Admins");
}

static int build_application(struct tree *t, const struct profile *pr, struct group **ret)
{
    struct group *ag = group_new(t);
    if (!ag)
        return toom(t);
    int r = group_add_policies(t, ag, &pr->app_policies);
    if (r < 0 || (r = add_capabilities(t, ag, &pr->app_caps)) < 0 ||
        (r = add_chaincodes(t, ag, pr)) < 0)
        return r;
    for (size_t i = 0; i < pr->n_app_orgs; i++) {
        const struct org *o = &pr->app_orgs[i];
        struct group *g = group_new(t);
        if (!g)
            return toom(t);
        if ((r = group_add_policies(t, g, &o->policies)) < 0 || (r = add_msp(t, g, o)) < 0)
            return r;
        if (o->n_anchors) {
            Protos__AnchorPeers aps = PROTOS__ANCHOR_PEERS__INIT;
            Protos__AnchorPeer *ap = arena_alloc(t->a, o->n_anchors * sizeof *ap);
            Protos__AnchorPeer **pp = arena_alloc(t->a, o->n_anchors * sizeof *pp);
            if (!ap || !pp)
                return toom(t);
            for (size_t k = 0; k < o->n_anchors; k++) {
                protos__anchor_peer__init(&ap[k]);
                ap[k].host = (char *)o->anchors[k].host;
                ap[k].port = (int32_t)o->anchors[k].port;
                pp[k] = &ap[k];
            }
            aps.n_anchor_peers = o->n_anchors;
            aps.anchor_peers = pp;
            if ((r = group_add_value(t, g, "AnchorPeers", &aps.base, "Admins")) < 0)
                return r;
        }
        if ((r = group_add_group(t, ag, o->name, g)) < 0)
            return r;
    }
    *ret = ag;
    return 0;
}

static int cmp_groups(const void *a, const void *b)
{
    return strcmp((*(Common__ConfigGroup__GroupsEntry *const *)a)->key,
                  (*(Common__ConfigGroup__GroupsEntry *const *)b)->key);
}
static int cmp_values(const void *a, const void *b)
{
    return strcmp((*(Common__ConfigGroup__ValuesEntry *const *)a)->key,
                  (*(Common__ConfigGroup__ValuesEntry *const *)b)->key);
}
static int cmp_policies(const void *a, const void *b)
{
    return strcmp((*(Common__ConfigGroup__PoliciesEntry *const *)a)->key,
                  (*(Common__ConfigGroup__PoliciesEntry *const *)b)->key);
}

/* Map entries in key order, as Go's deterministic marshalling writes them, so the same profile
 * always gives the same bytes. (The tree is at most three groups deep.) */
static void sort_group(Common__ConfigGroup *g)
{
    if (g->n_groups)
        qsort(g->groups, g->n_groups, sizeof *g->groups, cmp_groups);
    if (g->n_values)
        qsort(g->values, g->n_values, sizeof *g->values, cmp_values);
    if (g->n_policies)
        qsort(g->policies, g->n_policies, sizeof *g->policies, cmp_policies);
    for (size_t i = 0; i < g->n_groups; i++)
        sort_group(g->groups[i]->value);
}

/* The channel group: root values and policies, Orderer and Application groups. */
static int build_channel(struct tree *t, const struct profile *pr, Common__ConfigGroup **ret)
{
    struct group *root = group_new(t), *og = NULL, *ag = NULL;
    if (!root)
        return toom(t);
    int r = group_add_policies(t, root, &pr->channel_policies);
    if (r < 0)
        return r;
    Common__HashingAlgorithm ha = COMMON__HASHING_ALGORITHM__INIT;
    ha.name = "SHA256";
    Common__BlockDataHashingStructure bdhs = COMMON__BLOCK_DATA_HASHING_STRUCTURE__INIT;
    bdhs.width = UINT32_MAX;
    if ((r = group_add_value(t, root, "HashingAlgorithm", &ha.base, "Admins")) < 0 ||
        (r = group_add_value(t, root, "BlockDataHashingStructure", &bdhs.base, "Admins")) < 0)
        return r;
    if (pr->addresses.n) {
        Common__OrdererAddresses oa = COMMON__ORDERER_ADDRESSES__INIT;
        oa.n_addresses = pr->addresses.n;
        oa.addresses = (char **)pr->addresses.v;
        if ((r = group_add_value(t, root, "OrdererAddresses", &oa.base,
                                 "/Channel/Orderer/Admins")) < 0)
            return r;
    }
    if ((r = add_capabilities(t, root, &pr->channel_caps)) < 0 ||
        (r = build_orderer(t, pr, &og)) < 0 || (r = group_add_group(t, root, "Orderer", og)) < 0 ||
        (r = build_application(t, pr, &ag)) < 0 ||
        (r = group_add_group(t, root, "Application", ag)) < 0)
        return r;
    sort_group(&root->g);
    *ret = &root->g;
    return 0;
}

/* ---- envelope and block -------------------------------------------------------------------- */

/* Fabric's channel names: [a-z][a-z0-9.-]*, shorter than 250 characters. */
static bool valid_channel_id(const char *s)
{
    static const char ok[] = "abcdefghijklmnopqrstuvwxyz0123456789.-";
    size_t n = strlen(s);
    return n > 0 && n <= CHANNEL_ID_MAX && s[0] >= 'a' && s[0] <= 'z' && strspn(s, ok) == n;
}

struct genesis_args {
    const char *channel;
    int64_t timestamp;
    const uint8_t *nonce;
    size_t nonce_len;
};

/* Builds the packed genesis block from the profile. Caller frees *ret_buf. */
static int build_block(struct arena *a, const struct profile *pr, const struct genesis_args *ga,
                       uint8_t **ret_buf, size_t *ret_len, struct lc_errbuf *err)
{
    struct tree t = {.a = a, .err = err};
    Common__ConfigGroup *channel = NULL;
    int r = build_channel(&t, pr, &channel);
    if (r < 0)
        return r;
    Common__Config cfg = COMMON__CONFIG__INIT;
    cfg.channel_group = channel;
    Common__ConfigEnvelope ce = COMMON__CONFIG_ENVELOPE__INIT;
    ce.config = &cfg;
    /* what every daemon will do with this block: refuse to write one they would refuse */
    struct lc_chconf *check = NULL;
    if ((r = lc_chconf_from_config(ga->channel, &cfg, 0, err, &check)) < 0) {
        lc_errbuf_prefix(err, "the channel config would not load: ");
        return r;
    }
    lc_chconf_free(check);

    char txid[LC_WIRE_TXID_LEN + 1];
    if ((r = lc_wire_txid(ga->nonce, ga->nonce_len, NULL, 0, txid)) < 0)
        return lc_fail(err, r, "txid: %s", lc_strerror(r));
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    ts.seconds = ga->timestamp;
    Common__ChannelHeader ch = COMMON__CHANNEL_HEADER__INIT;
    ch.type = COMMON__HEADER_TYPE__CONFIG;
    ch.version = 1;
    ch.timestamp = &ts;
    ch.channel_id = (char *)ga->channel;
    ch.tx_id = txid;
    Common__SignatureHeader sh = COMMON__SIGNATURE_HEADER__INIT;
    sh.nonce.data = (uint8_t *)ga->nonce;
    sh.nonce.len = ga->nonce_len;
    Common__Header hdr = COMMON__HEADER__INIT;
    Common__Payload pl = COMMON__PAYLOAD__INIT;
    Common__Envelope env = COMMON__ENVELOPE__INIT;
    ProtobufCBinaryData env_bytes;
    Common__Block *block = NULL;
    if ((r = tree_pack(&t, &ch.base, &hdr.channel_header.data, &hdr.channel_header.len)) < 0 ||
        (r = tree_pack(&t, &sh.base, &hdr.signature_header.data, &hdr.signature_header.len)) < 0 ||
        (r = tree_pack(&t, &ce.base, &pl.data.data, &pl.data.len)) < 0)
        return r;
    pl.header = &hdr;
    if ((r = tree_pack(&t, &pl.base, &env.payload.data, &env.payload.len)) < 0 ||
        (r = tree_pack(&t, &env.base, &env_bytes.data, &env_bytes.len)) < 0)
        return r;
    if ((r = lc_wire_block_new(0, NULL, 0, &env_bytes, 1, &block)) < 0)
        return lc_fail(err, r, "block: %s", lc_strerror(r));
    /* configtxgen's metadata: [SIGNATURES] = Metadata{value = OrdererBlockMetadata{last_config:
     * {}}}, unsigned; [LAST_CONFIG] empty (wire facts section 5). */
    static const uint8_t sig_meta[] = {0x0a, 0x02, 0x0a, 0x00};
    r = lc_wire_block_set_metadata(block, COMMON__BLOCK_METADATA_INDEX__SIGNATURES, sig_meta,
                                   sizeof sig_meta);
    if (r == 0)
        r = lc_wire_pack(&block->base, BLOCK_MAX_BYTES, ret_buf, ret_len, err);
    else
        lc_fail(err, r, "block metadata: %s", lc_strerror(r));
    lc_wire_block_free(block);
    return r;
}

/* Writes buf to path through a temporary file renamed into place. */
static int write_file(const char *path, const uint8_t *buf, size_t len, struct lc_errbuf *err)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmpXXXXXX", path) >= sizeof tmp)
        return lc_fail(err, LC_EINVALID, "%s: path too long", path);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return lc_fail(err, -errno, "%s: %s", tmp, strerror(errno));
    int r = 0;
    for (size_t off = 0; off < len;) {
        ssize_t n = write(fd, buf + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r = lc_fail(err, -errno, "%s: %s", tmp, strerror(errno));
            break;
        }
        off += (size_t)n;
    }
    if (r == 0 && fchmod(fd, 0644) < 0)
        r = lc_fail(err, -errno, "%s: %s", tmp, strerror(errno));
    if (r == 0 && fsync(fd) < 0)
        r = lc_fail(err, -errno, "%s: %s", tmp, strerror(errno));
    if (close(fd) < 0 && r == 0)
        r = lc_fail(err, -errno, "%s: %s", tmp, strerror(errno));
    if (r == 0 && rename(tmp, path) < 0)
        r = lc_fail(err, -errno, "%s: %s", path, strerror(errno));
    if (r < 0)
        unlink(tmp);
    return r;
}

static int hex_decode(const char *s, uint8_t *out, size_t cap, size_t *ret_len)
{
    size_t n = strlen(s);
    if (n == 0 || n % 2 || n / 2 > cap)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        int v = 0;
        for (int k = 0; k < 2; k++) {
            char c = s[2 * i + (size_t)k];
            int d = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
            if (d < 0)
                return -1;
            v = v * 16 + d;
        }
        out[i] = (uint8_t)v;
    }
    *ret_len = n / 2;
    return 0;
}

static const struct lc_conf_setting genesis_settings[] = {
    {.name = "profile",
     .type = LC_CONF_PATH,
     .required = true,
     .help = "The channel profile, YAML or JSON (see docs/genesis-profile.md)."},
    {.name = "channel",
     .type = LC_CONF_STRING,
     .required = true,
     .help = "The channel ID: lower-case letters, digits, '.' and '-', starting with a letter."},
    {.name = "output", .type = LC_CONF_PATH, .required = true, .help = "Where to write block 0."},
    {.name = "timestamp",
     .type = LC_CONF_INT,
     .min = 0,
     .max = 253402300799LL,
     .help = "The channel header timestamp, Unix seconds (default: now); with --nonce-hex the "
             "output is byte-for-byte reproducible."},
    {.name = "nonce-hex",
     .type = LC_CONF_STRING,
     .help = "The signature header nonce, in hex (default: 24 random bytes)."},
};

static const struct lc_conf_def genesis_def = {
    .service = "genesis",
    .program = "weft genesis",
    .summary = "Writes block 0 of a channel: one unsigned CONFIG envelope holding the channel "
               "configuration the profile describes, laid out as Fabric's configtxgen does.",
    .settings = genesis_settings,
    .n_settings = sizeof genesis_settings / sizeof genesis_settings[0],
};

int weft_cmd_genesis(int argc, char **argv)
{
    struct lc_conf *conf = NULL;
    struct lc_errbuf err;
    struct arena a = {0};
    struct profile pr;
    uint8_t *block = NULL;
    size_t block_len = 0;
    int status = 1;
    if (lc_conf_new(&genesis_def, &conf, &err) < 0) {
        fprintf(stderr, "weft genesis: %s\n", err.msg);
        return 1;
    }
    if (lc_conf_parse(conf, argc, argv, NULL, &err) < 0) {
        fprintf(stderr, "weft genesis: %s\n", err.msg);
        status = 2;
        goto out;
    }
    if (lc_conf_help_requested(conf) != LC_CONF_HELP_NONE) {
        status = lc_conf_write_help(conf, lc_conf_help_requested(conf), stdout) < 0;
        goto out;
    }
    struct genesis_args ga = {.channel = lc_conf_str(conf, "channel")};
    if (!valid_channel_id(ga.channel)) {
        fprintf(stderr,
                "weft genesis: --channel: '%.60s' is not a channel ID ([a-z][a-z0-9.-]*, at "
                "most %d characters)\n",
                ga.channel, CHANNEL_ID_MAX);
        status = 2;
        goto out;
    }
    ga.timestamp =
        lc_conf_is_set(conf, "timestamp") ? lc_conf_int(conf, "timestamp") : (int64_t)time(NULL);
    uint8_t nonce[NONCE_MAX_BYTES];
    if (lc_conf_is_set(conf, "nonce-hex")) {
        if (hex_decode(lc_conf_str(conf, "nonce-hex"), nonce, sizeof nonce, &ga.nonce_len) < 0) {
            fprintf(stderr, "weft genesis: --nonce-hex: expected 1 to %d bytes of hex\n",
                    NONCE_MAX_BYTES);
            status = 2;
            goto out;
        }
    } else {
        if (lc_nonce(nonce) < 0) {
            fprintf(stderr, "weft genesis: no randomness for the nonce\n");
            goto out;
        }
        ga.nonce_len = LC_NONCE_LEN;
    }
    ga.nonce = nonce;
    if (load_profile(&a, lc_conf_str(conf, "profile"), &pr, &err) < 0 ||
        build_block(&a, &pr, &ga, &block, &block_len, &err) < 0 ||
        write_file(lc_conf_str(conf, "output"), block, block_len, &err) < 0) {
        fprintf(stderr, "weft genesis: %s\n", err.msg);
        goto out;
    }
    status = 0;
out:
    free(block);
    arena_free(&a);
    lc_conf_free(conf);
    return status;
}
