/* SPDX-License-Identifier: Apache-2.0 */
/* Fabric's common connection profile (YAML or JSON), read with libyaml's document loader. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <yaml.h>

#include "client/internal.h"

/* A peer or an orderer. */
struct prof_node {
    char *name;
    char *address;
    const char *mspid; /* peers: borrowed from the org that lists it */
};

struct prof_org {
    char *name;
    char *mspid;
};

struct prof_chan_peer {
    size_t peer;
    unsigned roles;
};

struct prof_channel {
    char *name;
    size_t *orderers;
    size_t n_orderers;
    struct prof_chan_peer *peers;
    size_t n_peers;
};

struct wc_profile {
    char *name;
    const char *client_org;   /* borrowed from orgs */
    const char *client_mspid; /* borrowed from orgs */
    struct prof_org *orgs;
    size_t n_orgs;
    struct prof_node *peers;
    size_t n_peers;
    struct prof_node *orderers;
    size_t n_orderers;
    struct prof_channel *channels;
    size_t n_channels;
    bool has_channels;
};

#define ALL_ROLES                                                                                  \
    (WC_ROLE_ENDORSING | WC_ROLE_CHAINCODE_QUERY | WC_ROLE_LEDGER_QUERY | WC_ROLE_EVENT_SOURCE)

/* ---- the YAML document ---------------------------------------------------------------------- */

struct yc {
    yaml_document_t doc;
    const char *origin;
    struct lc_errbuf *err;
    char path[256]; /* key path of what is being read, for messages */
};

static yaml_node_t *ynode(struct yc *y, int id)
{
    return yaml_document_get_node(&y->doc, id);
}

/* "origin:line: path: message". */
static int yfail(struct yc *y, const yaml_node_t *n, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int yfail(struct yc *y, const yaml_node_t *n, int code, const char *fmt, ...)
{
    char msg[sizeof y->err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n)
        return lc_fail(y->err, code, "%s:%zu: %s%s%s", y->origin, n->start_mark.line + 1, y->path,
                       *y->path ? ": " : "", msg);
    return lc_fail(y->err, code, "%s: %s%s%s", y->origin, y->path, *y->path ? ": " : "", msg);
}

static size_t path_push(struct yc *y, const char *key)
{
    size_t mark = strlen(y->path);
    snprintf(y->path + mark, sizeof y->path - mark, "%s%s", mark ? "/" : "", key);
    return mark;
}

static void path_pop(struct yc *y, size_t mark)
{
    y->path[mark] = '\0';
}

static const char *kind_name(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_SCALAR_NODE:
        return "a scalar";
    case YAML_SEQUENCE_NODE:
        return "a list";
    case YAML_MAPPING_NODE:
        return "a mapping";
    default:
        return "empty";
    }
}

/* An empty plain scalar ("key:" with nothing after it) or "null"/"~": YAML's null. */
static bool is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *v = (const char *)n->data.scalar.value;
    return n->data.scalar.length == 0 || strcmp(v, "~") == 0 || strcasecmp(v, "null") == 0;
}

/* The text of a scalar node, rejecting other kinds and embedded NULs. */
static int scalar(struct yc *y, const yaml_node_t *n, const char **ret)
{
    if (n->type != YAML_SCALAR_NODE)
        return yfail(y, n, LC_EINVALID, "expected a scalar, got %s", kind_name(n));
    if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length)
        return yfail(y, n, LC_EINVALID, "NUL byte in a value");
    *ret = (const char *)n->data.scalar.value;
    return 0;
}

/* A non-empty string. */
static int text(struct yc *y, const yaml_node_t *n, const char **ret)
{
    const char *s = NULL;
    int r = scalar(y, n, &s);
    if (r < 0)
        return r;
    if (!*s || is_null(n))
        return yfail(y, n, LC_EINVALID, "empty value");
    *ret = s;
    return 0;
}

/* Checks that n is a mapping with scalar, unique keys and at most WC_PROFILE_MAX_ENTRIES
 * entries. A null counts as an empty mapping when null_ok. */
static int check_map(struct yc *y, const yaml_node_t *n, bool null_ok)
{
    if (null_ok && is_null(n))
        return 0;
    if (n->type != YAML_MAPPING_NODE)
        return yfail(y, n, LC_EINVALID, "expected a mapping, got %s", kind_name(n));
    size_t count = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    if (count > WC_PROFILE_MAX_ENTRIES)
        return yfail(y, n, LC_ETOOBIG, "more than %d entries", WC_PROFILE_MAX_ENTRIES);
    for (yaml_node_pair_t *a = n->data.mapping.pairs.start; a < n->data.mapping.pairs.top; a++) {
        const yaml_node_t *ka = ynode(y, a->key);
        const char *sa = NULL;
        int r = scalar(y, ka, &sa);
        if (r < 0)
            return r;
        for (yaml_node_pair_t *b = n->data.mapping.pairs.start; b < a; b++) {
            const yaml_node_t *kb = ynode(y, b->key);
            if (strcmp(sa, (const char *)kb->data.scalar.value) == 0)
                return yfail(y, ka, LC_EINVALID, "duplicate key '%.100s'", sa);
        }
    }
    return 0;
}

/* The value under key in a checked mapping, or NULL. */
static yaml_node_t *map_get(struct yc *y, const yaml_node_t *map, const char *key)
{
    if (map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        const yaml_node_t *k = ynode(y, p->key);
        if (strcmp((const char *)k->data.scalar.value, key) == 0)
            return ynode(y, p->value);
    }
    return NULL;
}

static size_t map_len(const yaml_node_t *map)
{
    if (map->type != YAML_MAPPING_NODE)
        return 0;
    return (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
}

static const char *map_key(struct yc *y, const yaml_node_t *map, size_t i)
{
    return (const char *)ynode(y, map->data.mapping.pairs.start[i].key)->data.scalar.value;
}

static yaml_node_t *map_val(struct yc *y, const yaml_node_t *map, size_t i)
{
    return ynode(y, map->data.mapping.pairs.start[i].value);
}

/* A list of non-empty strings (null: empty). */
static int check_list(struct yc *y, const yaml_node_t *n)
{
    if (is_null(n))
        return 0;
    if (n->type != YAML_SEQUENCE_NODE)
        return yfail(y, n, LC_EINVALID, "expected a list, got %s", kind_name(n));
    size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (count > WC_PROFILE_MAX_ENTRIES)
        return yfail(y, n, LC_ETOOBIG, "more than %d entries", WC_PROFILE_MAX_ENTRIES);
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        const char *s = NULL;
        int r = text(y, ynode(y, *it), &s);
        if (r < 0)
            return r;
    }
    return 0;
}

static size_t list_len(const yaml_node_t *n)
{
    if (n->type != YAML_SEQUENCE_NODE)
        return 0;
    return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

static const yaml_node_t *list_at(struct yc *y, const yaml_node_t *n, size_t i)
{
    return ynode(y, n->data.sequence.items.start[i]);
}

static int boolean(struct yc *y, const yaml_node_t *n, bool *ret)
{
    const char *s = NULL;
    int r = scalar(y, n, &s);
    if (r < 0)
        return r;
    static const char *const yes[] = {"true", "yes", "on"}, *const no[] = {"false", "no", "off"};
    for (size_t i = 0; i < 3; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *ret = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *ret = false;
            return 0;
        }
    }
    return yfail(y, n, LC_EINVALID, "'%.60s' is not a boolean (true or false)", s);
}

/* url: grpc://host:port -> "host:port" (malloc'd). */
static int parse_url(struct yc *y, const yaml_node_t *n, char **ret)
{
    const char *url = NULL;
    int r = text(y, n, &url);
    if (r < 0)
        return r;
    const char *rest;
    if (strncasecmp(url, "grpc://", 7) == 0) {
        rest = url + 7;
    } else if (strncasecmp(url, "grpcs://", 8) == 0) {
        return yfail(y, n, LC_EINVALID,
                     "'%.100s': grpcs:// needs TLS, which weft does not support yet; use grpc://",
                     url);
    } else {
        return yfail(y, n, LC_EINVALID, "'%.100s': expected grpc://host:port", url);
    }
    struct lc_errbuf why;
    if (wc_address_check(rest, &why) < 0)
        return yfail(y, n, LC_EINVALID, "url %s", why.msg);
    char *a = strdup(rest);
    if (!a)
        return yfail(y, n, -ENOMEM, "out of memory");
    *ret = a;
    return 0;
}

/* ---- sections ------------------------------------------------------------------------------- */

static ssize_t find_peer(const struct wc_profile *p, const char *name)
{
    for (size_t i = 0; i < p->n_peers; i++)
        if (strcmp(p->peers[i].name, name) == 0)
            return (ssize_t)i;
    return -1;
}

static ssize_t find_orderer(const struct wc_profile *p, const char *name)
{
    for (size_t i = 0; i < p->n_orderers; i++)
        if (strcmp(p->orderers[i].name, name) == 0)
            return (ssize_t)i;
    return -1;
}

static ssize_t find_org(const struct wc_profile *p, const char *name)
{
    for (size_t i = 0; i < p->n_orgs; i++)
        if (strcmp(p->orgs[i].name, name) == 0)
            return (ssize_t)i;
    return -1;
}

/* peers: and orderers: share a shape, name -> {url, ...}. Fills *arr; *n counts the complete
 * entries (the profile frees them on failure). */
static int read_endpoints(struct yc *y, const yaml_node_t *sec, const char *what,
                          struct prof_node **arr, size_t *n)
{
    size_t mark = path_push(y, what);
    int r = check_map(y, sec, true);
    if (r < 0)
        return r;
    size_t count = map_len(sec);
    *arr = calloc(count ? count : 1, sizeof **arr);
    if (!*arr)
        return yfail(y, sec, -ENOMEM, "out of memory");
    for (size_t i = 0; i < count; i++) {
        size_t m2 = path_push(y, map_key(y, sec, i));
        const yaml_node_t *v = map_val(y, sec, i);
        r = check_map(y, v, false);
        if (r < 0)
            return r;
        const yaml_node_t *url = map_get(y, v, "url");
        if (!url)
            return yfail(y, v, LC_EINVALID, "url is missing");
        path_push(y, "url");
        struct prof_node *e = &(*arr)[i];
        r = parse_url(y, url, &e->address);
        if (r < 0)
            return r;
        e->name = strdup(map_key(y, sec, i));
        (*n)++;
        if (!e->name)
            return yfail(y, v, -ENOMEM, "out of memory");
        path_pop(y, m2);
    }
    path_pop(y, mark);
    return 0;
}

static int read_orgs(struct yc *y, struct wc_profile *p, const yaml_node_t *sec)
{
    size_t mark = path_push(y, "organizations");
    int r = check_map(y, sec, true);
    if (r < 0)
        return r;
    size_t n = map_len(sec);
    p->orgs = calloc(n ? n : 1, sizeof *p->orgs);
    if (!p->orgs)
        return yfail(y, sec, -ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        size_t m2 = path_push(y, map_key(y, sec, i));
        const yaml_node_t *v = map_val(y, sec, i);
        r = check_map(y, v, false);
        if (r < 0)
            return r;
        const yaml_node_t *mspid = map_get(y, v, "mspid");
        if (!mspid)
            return yfail(y, v, LC_EINVALID, "mspid is missing");
        const char *id;
        size_t m3 = path_push(y, "mspid");
        r = text(y, mspid, &id);
        if (r < 0)
            return r;
        path_pop(y, m3);
        struct prof_org *o = &p->orgs[p->n_orgs];
        o->name = strdup(map_key(y, sec, i));
        o->mspid = strdup(id);
        p->n_orgs++;
        if (!o->name || !o->mspid)
            return yfail(y, v, -ENOMEM, "out of memory");
        const yaml_node_t *peers = map_get(y, v, "peers");
        if (peers) {
            m3 = path_push(y, "peers");
            r = check_list(y, peers);
            if (r < 0)
                return r;
            for (size_t j = 0; j < list_len(peers); j++) {
                const yaml_node_t *e = list_at(y, peers, j);
                const char *name = (const char *)e->data.scalar.value;
                ssize_t pi = find_peer(p, name);
                if (pi < 0)
                    return yfail(y, e, LC_EINVALID, "peer '%.100s' is not defined under peers",
                                 name);
                if (p->peers[pi].mspid && p->peers[pi].mspid != o->mspid)
                    return yfail(y, e, LC_EINVALID,
                                 "peer '%.100s' is already listed by another organization (%s)",
                                 name, p->peers[pi].mspid);
                p->peers[pi].mspid = o->mspid;
            }
            path_pop(y, m3);
        }
        path_pop(y, m2);
    }
    path_pop(y, mark);
    return 0;
}

static int read_client(struct yc *y, struct wc_profile *p, const yaml_node_t *sec)
{
    size_t mark = path_push(y, "client");
    int r = check_map(y, sec, true);
    if (r < 0)
        return r;
    const yaml_node_t *org = map_get(y, sec, "organization");
    if (org) {
        path_push(y, "organization");
        const char *name;
        r = text(y, org, &name);
        if (r < 0)
            return r;
        ssize_t oi = find_org(p, name);
        if (oi < 0)
            return yfail(y, org, LC_EINVALID, "organization '%.100s' is not defined", name);
        p->client_org = p->orgs[oi].name;
        p->client_mspid = p->orgs[oi].mspid;
    }
    path_pop(y, mark);
    return 0;
}

static int read_roles(struct yc *y, const yaml_node_t *v, unsigned *ret)
{
    static const struct {
        const char *key;
        unsigned bit;
    } roles[] = {
        {"endorsingPeer", WC_ROLE_ENDORSING},
        {"chaincodeQuery", WC_ROLE_CHAINCODE_QUERY},
        {"ledgerQuery", WC_ROLE_LEDGER_QUERY},
        {"eventSource", WC_ROLE_EVENT_SOURCE},
    };
    int r = check_map(y, v, true);
    if (r < 0)
        return r;
    unsigned bits = ALL_ROLES;
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++) {
        const yaml_node_t *b = map_get(y, v, roles[i].key);
        if (!b)
            continue;
        size_t mark = path_push(y, roles[i].key);
        bool on = false;
        r = boolean(y, b, &on);
        if (r < 0)
            return r;
        path_pop(y, mark);
        if (!on)
            bits &= ~roles[i].bit;
    }
    *ret = bits;
    return 0;
}

static int read_channels(struct yc *y, struct wc_profile *p, const yaml_node_t *sec)
{
    size_t mark = path_push(y, "channels");
    int r = check_map(y, sec, true);
    if (r < 0)
        return r;
    size_t n = map_len(sec);
    p->channels = calloc(n ? n : 1, sizeof *p->channels);
    if (!p->channels)
        return yfail(y, sec, -ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        size_t m2 = path_push(y, map_key(y, sec, i));
        const yaml_node_t *v = map_val(y, sec, i);
        r = check_map(y, v, true);
        if (r < 0)
            return r;
        struct prof_channel *c = &p->channels[p->n_channels++];
        c->name = strdup(map_key(y, sec, i));
        if (!c->name)
            return yfail(y, v, -ENOMEM, "out of memory");
        const yaml_node_t *ords = map_get(y, v, "orderers");
        if (ords) {
            size_t m3 = path_push(y, "orderers");
            r = check_list(y, ords);
            if (r < 0)
                return r;
            size_t k = list_len(ords);
            c->orderers = calloc(k ? k : 1, sizeof *c->orderers);
            if (!c->orderers)
                return yfail(y, ords, -ENOMEM, "out of memory");
            for (size_t j = 0; j < k; j++) {
                const yaml_node_t *e = list_at(y, ords, j);
                const char *name = (const char *)e->data.scalar.value;
                ssize_t oi = find_orderer(p, name);
                if (oi < 0)
                    return yfail(y, e, LC_EINVALID,
                                 "orderer '%.100s' is not defined under orderers", name);
                c->orderers[c->n_orderers++] = (size_t)oi;
            }
            path_pop(y, m3);
        }
        const yaml_node_t *peers = map_get(y, v, "peers");
        if (peers) {
            size_t m3 = path_push(y, "peers");
            r = check_map(y, peers, true);
            if (r < 0)
                return r;
            size_t k = map_len(peers);
            c->peers = calloc(k ? k : 1, sizeof *c->peers);
            if (!c->peers)
                return yfail(y, peers, -ENOMEM, "out of memory");
            for (size_t j = 0; j < k; j++) {
                const char *name = map_key(y, peers, j);
                size_t m4 = path_push(y, name);
                ssize_t pi = find_peer(p, name);
                if (pi < 0)
                    return yfail(y, map_val(y, peers, j), LC_EINVALID,
                                 "peer '%.100s' is not defined under peers", name);
                c->peers[c->n_peers].peer = (size_t)pi;
                r = read_roles(y, map_val(y, peers, j), &c->peers[c->n_peers].roles);
                if (r < 0)
                    return r;
                c->n_peers++;
                path_pop(y, m4);
            }
            path_pop(y, m3);
        }
        path_pop(y, m2);
    }
    path_pop(y, mark);
    return 0;
}

/* ---- public --------------------------------------------------------------------------------- */

void wc_profile_free(struct wc_profile *p)
{
    if (!p)
        return;
    free(p->name);
    for (size_t i = 0; i < p->n_orgs; i++) {
        free(p->orgs[i].name);
        free(p->orgs[i].mspid);
    }
    free(p->orgs);
    for (size_t i = 0; i < p->n_peers; i++) {
        free(p->peers[i].name);
        free(p->peers[i].address);
    }
    free(p->peers);
    for (size_t i = 0; i < p->n_orderers; i++) {
        free(p->orderers[i].name);
        free(p->orderers[i].address);
    }
    free(p->orderers);
    for (size_t i = 0; i < p->n_channels; i++) {
        free(p->channels[i].name);
        free(p->channels[i].orderers);
        free(p->channels[i].peers);
    }
    free(p->channels);
    free(p);
}

int wc_profile_parse(const void *text_in, size_t len, const char *origin, struct lc_errbuf *err,
                     struct wc_profile **ret)
{
    struct yc y = {.origin = origin ? origin : "<profile>", .err = err};
    if (len > WC_PROFILE_MAX_BYTES)
        return lc_fail(err, LC_ETOOBIG, "%s: larger than %u bytes", y.origin, WC_PROFILE_MAX_BYTES);
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return lc_fail(err, -ENOMEM, "%s: out of memory", y.origin);
    yaml_parser_set_input_string(&parser, text_in, len);
    if (!yaml_parser_load(&parser, &y.doc)) {
        int r = lc_fail(err, LC_ESYNTAX, "%s:%zu:%zu: %s", y.origin, parser.problem_mark.line + 1,
                        parser.problem_mark.column + 1,
                        parser.problem ? parser.problem : "YAML does not parse");
        yaml_parser_delete(&parser);
        return r;
    }
    yaml_parser_delete(&parser);

    int r;
    struct wc_profile *p = calloc(1, sizeof *p);
    if (!p) {
        r = lc_fail(err, -ENOMEM, "%s: out of memory", y.origin);
        goto out;
    }
    yaml_node_t *root = yaml_document_get_root_node(&y.doc);
    if (!root) {
        r = lc_fail(err, LC_EINVALID, "%s: the profile is empty", y.origin);
        goto out;
    }
    r = check_map(&y, root, false);
    if (r < 0)
        goto out;
    const yaml_node_t *s = map_get(&y, root, "name");
    const char *name = "";
    if (s && !is_null(s)) {
        path_push(&y, "name");
        r = scalar(&y, s, &name);
        if (r < 0)
            goto out;
        path_pop(&y, 0);
    }
    p->name = strdup(name);
    if (!p->name) {
        r = lc_fail(err, -ENOMEM, "%s: out of memory", y.origin);
        goto out;
    }
    /* peers and orderers first: organizations and channels refer to them by name */
    static const yaml_node_t empty = {.type = YAML_MAPPING_NODE};
    s = map_get(&y, root, "peers");
    r = read_endpoints(&y, s ? s : &empty, "peers", &p->peers, &p->n_peers);
    if (r < 0)
        goto out;
    s = map_get(&y, root, "orderers");
    r = read_endpoints(&y, s ? s : &empty, "orderers", &p->orderers, &p->n_orderers);
    if (r < 0)
        goto out;
    s = map_get(&y, root, "organizations");
    r = read_orgs(&y, p, s ? s : &empty);
    if (r < 0)
        goto out;
    s = map_get(&y, root, "client");
    if (s) {
        r = read_client(&y, p, s);
        if (r < 0)
            goto out;
    }
    s = map_get(&y, root, "channels");
    p->has_channels = s != NULL;
    r = read_channels(&y, p, s ? s : &empty);
    if (r < 0)
        goto out;
    *ret = p;
    p = NULL;
out:
    wc_profile_free(p);
    yaml_document_delete(&y.doc);
    return r;
}

int wc_profile_load(const char *path, struct lc_errbuf *err, struct wc_profile **ret)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return lc_fail(err, -errno, "%s: %s", path, strerror(errno));
    int r;
    uint8_t *buf = NULL;
    struct stat st;
    if (fstat(fileno(f), &st) < 0) {
        r = lc_fail(err, -errno, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        r = lc_fail(err, -EINVAL, "%s: not a regular file", path);
        goto out;
    }
    if (st.st_size > (off_t)WC_PROFILE_MAX_BYTES) {
        r = lc_fail(err, LC_ETOOBIG, "%s: larger than %u bytes", path, WC_PROFILE_MAX_BYTES);
        goto out;
    }
    size_t len = (size_t)st.st_size;
    buf = malloc(len ? len : 1);
    if (!buf) {
        r = lc_fail(err, -ENOMEM, "%s: out of memory", path);
        goto out;
    }
    if (fread(buf, 1, len, f) != len) {
        r = lc_fail(err, -EIO, "%s: short read", path);
        goto out;
    }
    r = wc_profile_parse(buf, len, path, err, ret);
out:
    free(buf);
    fclose(f);
    return r;
}

const char *wc_profile_name(const struct wc_profile *p)
{
    return p->name;
}

const char *wc_profile_client_org(const struct wc_profile *p)
{
    return p->client_org;
}

const char *wc_profile_client_mspid(const struct wc_profile *p)
{
    return p->client_mspid;
}

size_t wc_profile_org_count(const struct wc_profile *p)
{
    return p->n_orgs;
}

const char *wc_profile_org_name(const struct wc_profile *p, size_t i)
{
    return i < p->n_orgs ? p->orgs[i].name : NULL;
}

const char *wc_profile_org_mspid(const struct wc_profile *p, size_t i)
{
    return i < p->n_orgs ? p->orgs[i].mspid : NULL;
}

size_t wc_profile_peer_count(const struct wc_profile *p)
{
    return p->n_peers;
}

bool wc_profile_peer(const struct wc_profile *p, size_t i, struct wc_endpoint *ret)
{
    if (i >= p->n_peers)
        return false;
    *ret = (struct wc_endpoint){p->peers[i].name, p->peers[i].address, p->peers[i].mspid};
    return true;
}

size_t wc_profile_orderer_count(const struct wc_profile *p)
{
    return p->n_orderers;
}

bool wc_profile_orderer(const struct wc_profile *p, size_t i, struct wc_endpoint *ret)
{
    if (i >= p->n_orderers)
        return false;
    *ret = (struct wc_endpoint){p->orderers[i].name, p->orderers[i].address, NULL};
    return true;
}

size_t wc_profile_channel_count(const struct wc_profile *p)
{
    return p->n_channels;
}

const char *wc_profile_channel_name(const struct wc_profile *p, size_t i)
{
    return i < p->n_channels ? p->channels[i].name : NULL;
}

static int find_channel(const struct wc_profile *p, const char *channel, struct lc_errbuf *err,
                        const struct prof_channel **ret)
{
    if (!p->has_channels) {
        *ret = NULL;
        return 0;
    }
    for (size_t i = 0; i < p->n_channels; i++) {
        if (strcmp(p->channels[i].name, channel) == 0) {
            *ret = &p->channels[i];
            return 0;
        }
    }
    return lc_fail(err, LC_ENOTFOUND, "channel '%.100s' is not in the connection profile", channel);
}

int wc_profile_channel_peers(const struct wc_profile *p, const char *channel, unsigned roles,
                             struct lc_errbuf *err, struct wc_endpoint **ret, size_t *ret_n)
{
    const struct prof_channel *c = NULL;
    int r = find_channel(p, channel, err, &c);
    if (r < 0)
        return r;
    size_t cap = c ? c->n_peers : p->n_peers;
    struct wc_endpoint *eps = calloc(cap ? cap : 1, sizeof *eps);
    if (!eps)
        return lc_fail(err, -ENOMEM, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < cap; i++) {
        size_t pi = c ? c->peers[i].peer : i;
        unsigned have = c ? c->peers[i].roles : ALL_ROLES;
        if ((have & roles) != roles)
            continue;
        wc_profile_peer(p, pi, &eps[n++]);
    }
    *ret = eps;
    *ret_n = n;
    return 0;
}

int wc_profile_channel_orderers(const struct wc_profile *p, const char *channel,
                                struct lc_errbuf *err, struct wc_endpoint **ret, size_t *ret_n)
{
    const struct prof_channel *c = NULL;
    int r = find_channel(p, channel, err, &c);
    if (r < 0)
        return r;
    bool listed = c && c->n_orderers > 0;
    size_t n = listed ? c->n_orderers : p->n_orderers;
    struct wc_endpoint *eps = calloc(n ? n : 1, sizeof *eps);
    if (!eps)
        return lc_fail(err, -ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        wc_profile_orderer(p, listed ? c->orderers[i] : i, &eps[i]);
    *ret = eps;
    *ret_n = n;
    return 0;
}
