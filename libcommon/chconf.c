/* SPDX-License-Identifier: Apache-2.0 */
/* Channel configuration from a config block: tree walk, value checks, policies. */
#include "libcommon/chconf.h"
#include "libcommon/wire.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/configuration.pb-c.h"
#include "orderer/configuration.pb-c.h"
#include "peer/configuration.pb-c.h"
#include "peer/policy.pb-c.h"

#include "libcommon/log.h"
#include "libcommon/msp.h"

#define NONE SIZE_MAX
#define MAX_NAME 249
#define DEFAULT_ENDORSEMENT "/Channel/Application/Endorsement"

struct strs {
    char **v;
    size_t n;
};

struct group {
    char *path;
    size_t *children;
    size_t n_children;
};

struct policy {
    char *path;
    int type; /* COMMON__POLICY__POLICY_TYPE__SIGNATURE or __IMPLICIT_META */
    Common__SignaturePolicyEnvelope *sig;
    Common__ImplicitMetaPolicy *imp;
    size_t group;
    size_t *subs; /* implicit meta: per child group, the sub-policy's index or NONE */
    size_t n_subs;
};

struct anchor {
    char *host;
    int port;
};

struct org {
    char *name;
    char *mspid;
    struct anchor *anchors;
    size_t n_anchors;
    struct strs endpoints;
};

struct msp_seen {
    char *mspid;
    uint8_t *cfg;
    size_t len;
};

struct lc_chconf {
    char *channel_id;
    uint64_t sequence;
    struct group *groups;
    size_t n_groups;
    struct policy *policies;
    size_t n_policies;
    struct lc_msp_mgr *msps;
    struct msp_seen *seen;
    size_t n_seen;
    struct strs orderer_addresses;
    struct strs caps[3];
    uint32_t max_messages, absolute_max, preferred_max;
    uint64_t timeout_ns;
    char *consensus_type;
    int consensus_state;
    uint8_t *consensus_md;
    size_t consensus_md_len;
    struct strs kafka_brokers;
    uint64_t max_channels;
    struct org *orderer_orgs;
    size_t n_orderer_orgs;
    bool has_app;
    struct org *app_orgs;
    size_t n_app_orgs;
    Protos__ACLs *acls;
    Weft__ChaincodeDefinitions *ccs;
};

/* ================================ small helpers ================================ */

static bool is_alnum(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

static bool is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

/* Fabric's config element names: [A-Za-z0-9.-]+, at most 249 bytes, not "." or "..". */
static bool valid_config_name(const char *s)
{
    size_t n = strnlen(s, MAX_NAME + 1);
    if (n == 0 || n > MAX_NAME || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_alnum(s[i]) && s[i] != '.' && s[i] != '-')
            return false;
    return true;
}

/* Fabric's channel ids: [a-z][a-z0-9.-]*, at most 249 bytes. */
static bool valid_channel_id(const char *s)
{
    size_t n = strnlen(s, MAX_NAME + 1);
    if (n == 0 || n > MAX_NAME || !(s[0] >= 'a' && s[0] <= 'z'))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!(s[i] >= 'a' && s[i] <= 'z') && !is_digit(s[i]) && s[i] != '.' && s[i] != '-')
            return false;
    return true;
}

/* "host:port" with a non-empty host and a port 1..65535 (the last ':' splits, so "[::1]:7050"
 * works). */
static bool valid_hostport(const char *s)
{
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s || colon[1] == '\0')
        return false;
    long port = 0;
    for (const char *p = colon + 1; *p; p++) {
        if (!is_digit(*p) || p - colon > 5)
            return false;
        port = port * 10 + (*p - '0');
    }
    return port >= 1 && port <= 65535;
}

static char *join(const char *a, const char *b)
{
    char *s = NULL;
    if (asprintf(&s, "%s/%s", a, b) < 0)
        return NULL;
    return s;
}

static void strs_free(struct strs *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

static int strs_copy(struct strs *dst, char *const *src, size_t n)
{
    if (n == 0)
        return 0;
    dst->v = calloc(n, sizeof *dst->v);
    if (!dst->v)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        dst->v[i] = strdup(src[i]);
        if (!dst->v[i])
            return -ENOMEM;
        dst->n++;
    }
    return 0;
}

/* Appends one element to a heap array, growing it; *n is updated by the caller. */
static int grow(void **arr, size_t n, size_t elem)
{
    /* Grow on powers of two so appending stays amortised O(1). */
    if (n & (n - 1))
        return 0;
    size_t cap = n ? n * 2 : 1;
    void *p = realloc(*arr, cap * elem);
    if (!p)
        return -ENOMEM;
    *arr = p;
    return 0;
}

/* Decodes a config value's bytes as desc; NULL (err says which path) when they do not decode.
 * The caller frees the message with protobuf_c_message_free_unpacked(m, NULL). */
static void *unpack_value(const char *path, const Common__ConfigValue *v,
                          const ProtobufCMessageDescriptor *desc, struct lc_errbuf *err)
{
    static const uint8_t empty[1];
    size_t len = v ? v->value.len : 0;
    const uint8_t *data = v && v->value.data ? v->value.data : empty;
    ProtobufCMessage *m = lc_wire_scan(desc, data, len, NULL) < 0
                              ? NULL
                              : protobuf_c_message_unpack(desc, NULL, len, data);
    if (!m)
        lc_fail(err, LC_EDECODE, "%s: does not decode as %s", path, desc->name);
    return m;
}

/* Finds value key in g; *ret_found tells whether the key is there (its value may be NULL). */
static const Common__ConfigValue *find_value(const Common__ConfigGroup *g, const char *key,
                                             bool *ret_found)
{
    *ret_found = false;
    for (size_t i = 0; i < g->n_values; i++) {
        if (strcmp(g->values[i]->key, key) == 0) {
            *ret_found = true;
            return g->values[i]->value;
        }
    }
    return NULL;
}

/* Rejects values of g whose key is not in allowed[]. */
static int check_value_keys(const char *path, const Common__ConfigGroup *g,
                            const char *const *allowed, size_t n_allowed, struct lc_errbuf *err)
{
    for (size_t i = 0; i < g->n_values; i++) {
        bool ok = false;
        for (size_t j = 0; !ok && j < n_allowed; j++)
            ok = strcmp(g->values[i]->key, allowed[j]) == 0;
        if (!ok)
            return lc_fail(err, LC_EINVALID, "%s: unknown value '%s'", path, g->values[i]->key);
    }
    return 0;
}

/* ================================ policies ================================ */

static int add_policy(struct lc_chconf *c, const char *path, size_t group,
                      const Common__ConfigPolicy *cp, struct lc_errbuf *err)
{
    struct lc_errbuf why;
    int r;
    if (!cp || !cp->policy)
        return lc_fail(err, LC_EINVALID, "%s: no policy", path);
    const Common__Policy *pol = cp->policy;
    r = grow((void **)&c->policies, c->n_policies, sizeof *c->policies);
    if (r < 0)
        return r;
    struct policy *p = &c->policies[c->n_policies];
    memset(p, 0, sizeof *p);
    p->group = group;
    p->type = pol->type;
    p->path = strdup(path);
    if (!p->path)
        return -ENOMEM;
    c->n_policies++; /* from here on lc_chconf_free releases it */
    static const uint8_t empty[1];
    const uint8_t *data = pol->value.data ? pol->value.data : empty;
    switch (pol->type) {
    case COMMON__POLICY__POLICY_TYPE__SIGNATURE:
        if (lc_wire_scan(&common__signature_policy_envelope__descriptor, data, pol->value.len,
                         NULL) == 0)
            p->sig = common__signature_policy_envelope__unpack(NULL, pol->value.len, data);
        if (!p->sig)
            return lc_fail(err, LC_EDECODE, "%s: SignaturePolicyEnvelope does not decode", path);
        r = lc_policy_check(p->sig, &why);
        if (r < 0)
            return lc_fail(err, r, "%s: %s", path, why.msg);
        return 0;
    case COMMON__POLICY__POLICY_TYPE__IMPLICIT_META:
        r = lc_policy_implicit_decode(data, pol->value.len, &p->imp, &why);
        if (r < 0)
            return lc_fail(err, r, "%s: %s", path, why.msg);
        return 0;
    default:
        return lc_fail(err, LC_EINVALID, "%s: unknown policy type %d", path, (int)pol->type);
    }
}

static size_t find_policy(const struct lc_chconf *c, const char *path)
{
    static const char root[] = "/Channel/";
    for (size_t i = 0; i < c->n_policies; i++) {
        const char *p = c->policies[i].path;
        if (path[0] == '/') {
            if (strcmp(p, path) == 0)
                return i;
        } else if (strncmp(p, root, sizeof root - 1) == 0 &&
                   strcmp(p + sizeof root - 1, path) == 0) {
            return i;
        }
    }
    return NONE;
}

/* Points every implicit-meta policy at the same-named policy of each child group. */
static int resolve_implicit(struct lc_chconf *c)
{
    for (size_t i = 0; i < c->n_policies; i++) {
        struct policy *p = &c->policies[i];
        if (p->type != COMMON__POLICY__POLICY_TYPE__IMPLICIT_META)
            continue;
        const struct group *g = &c->groups[p->group];
        if (g->n_children == 0)
            continue;
        p->subs = calloc(g->n_children, sizeof *p->subs);
        if (!p->subs)
            return -ENOMEM;
        p->n_subs = g->n_children;
        for (size_t k = 0; k < g->n_children; k++) {
            char *sub = join(c->groups[g->children[k]].path, p->imp->sub_policy);
            if (!sub)
                return -ENOMEM;
            p->subs[k] = find_policy(c, sub);
            free(sub);
        }
    }
    return 0;
}

/* ================================ groups ================================ */

/* Records group g at path (child of parent, or NONE for the root) with its policies, after
 * checking the names and uniqueness of its groups, values and policies. */
static int add_group(struct lc_chconf *c, const char *path, const Common__ConfigGroup *g,
                     size_t parent, size_t *ret_index, struct lc_errbuf *err)
{
    int r;
    for (size_t i = 0; i < g->n_groups; i++) {
        if (!valid_config_name(g->groups[i]->key))
            return lc_fail(err, LC_EINVALID, "%s: invalid group name '%.64s'", path,
                           g->groups[i]->key);
        for (size_t j = 0; j < i; j++)
            if (strcmp(g->groups[i]->key, g->groups[j]->key) == 0)
                return lc_fail(err, LC_EINVALID, "%s: group '%s' appears twice", path,
                               g->groups[i]->key);
    }
    for (size_t i = 0; i < g->n_values; i++) {
        if (!valid_config_name(g->values[i]->key))
            return lc_fail(err, LC_EINVALID, "%s: invalid value name '%.64s'", path,
                           g->values[i]->key);
        for (size_t j = 0; j < i; j++)
            if (strcmp(g->values[i]->key, g->values[j]->key) == 0)
                return lc_fail(err, LC_EINVALID, "%s: value '%s' appears twice", path,
                               g->values[i]->key);
    }
    for (size_t i = 0; i < g->n_policies; i++) {
        if (!valid_config_name(g->policies[i]->key))
            return lc_fail(err, LC_EINVALID, "%s: invalid policy name '%.64s'", path,
                           g->policies[i]->key);
        for (size_t j = 0; j < i; j++)
            if (strcmp(g->policies[i]->key, g->policies[j]->key) == 0)
                return lc_fail(err, LC_EINVALID, "%s: policy '%s' appears twice", path,
                               g->policies[i]->key);
    }

    r = grow((void **)&c->groups, c->n_groups, sizeof *c->groups);
    if (r < 0)
        return r;
    size_t gi = c->n_groups;
    struct group *gr = &c->groups[gi];
    memset(gr, 0, sizeof *gr);
    gr->path = strdup(path);
    if (!gr->path)
        return -ENOMEM;
    c->n_groups++;
    if (parent != NONE) {
        struct group *pg = &c->groups[parent];
        r = grow((void **)&pg->children, pg->n_children, sizeof *pg->children);
        if (r < 0)
            return r;
        pg->children[pg->n_children++] = gi;
    }
    for (size_t i = 0; i < g->n_policies; i++) {
        char *pp = join(path, g->policies[i]->key);
        if (!pp)
            return -ENOMEM;
        r = add_policy(c, pp, gi, g->policies[i]->value, err);
        free(pp);
        if (r < 0)
            return r;
    }
    *ret_index = gi;
    return 0;
}

static const Common__ConfigGroup empty_group = COMMON__CONFIG_GROUP__INIT;

static const Common__ConfigGroup *group_or_empty(const Common__ConfigGroup *g)
{
    return g ? g : &empty_group;
}

/* ================================ values ================================ */

static const char *const channel_caps[] = {"V1_1", "V1_3", "V1_4_2", "V1_4_3", "V2_0"};
static const char *const orderer_caps[] = {"V1_1", "V1_4_2", "V2_0"};
static const char *const app_caps[] = {"V1_1", "V1_2", "V1_3", "V1_4_2", "V2_0"};

static int load_capabilities(struct lc_chconf *c, enum lc_chconf_scope scope, const char *gpath,
                             const Common__ConfigGroup *g, struct lc_errbuf *err)
{
    bool found;
    const Common__ConfigValue *v = find_value(g, "Capabilities", &found);
    if (!found)
        return 0;
    char *path = join(gpath, "Capabilities");
    if (!path)
        return -ENOMEM;
    Common__Capabilities *caps = unpack_value(path, v, &common__capabilities__descriptor, err);
    int r = 0;
    if (!caps) {
        r = LC_EDECODE;
        goto out;
    }
    const char *const *known = scope == LC_CHCONF_CHANNEL   ? channel_caps
                               : scope == LC_CHCONF_ORDERER ? orderer_caps
                                                            : app_caps;
    size_t n_known = scope == LC_CHCONF_CHANNEL   ? sizeof channel_caps / sizeof *channel_caps
                     : scope == LC_CHCONF_ORDERER ? sizeof orderer_caps / sizeof *orderer_caps
                                                  : sizeof app_caps / sizeof *app_caps;
    struct strs *out = &c->caps[scope];
    out->v = calloc(caps->n_capabilities ? caps->n_capabilities : 1, sizeof *out->v);
    if (!out->v) {
        r = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < caps->n_capabilities; i++) {
        const char *name = caps->capabilities[i]->key;
        bool ok = false;
        for (size_t k = 0; !ok && k < n_known; k++)
            ok = strcmp(name, known[k]) == 0;
        if (!ok) {
            r = lc_fail(err, LC_EINVALID, "%s: capability '%.64s' is not supported", path, name);
            goto out;
        }
        for (size_t k = 0; k < out->n; k++) {
            if (strcmp(out->v[k], name) == 0) {
                r = lc_fail(err, LC_EINVALID, "%s: capability '%s' appears twice", path, name);
                goto out;
            }
        }
        out->v[out->n] = strdup(name);
        if (!out->v[out->n]) {
            r = -ENOMEM;
            goto out;
        }
        out->n++;
    }
out:
    if (caps)
        protobuf_c_message_free_unpacked(&caps->base, NULL);
    free(path);
    return r;
}

/* A list of "host:port" strings from an OrdererAddresses value. */
static int load_addresses(const char *path, const Common__ConfigValue *v, struct strs *out,
                          bool need_one, struct lc_errbuf *err)
{
    Common__OrdererAddresses *a =
        unpack_value(path, v, &common__orderer_addresses__descriptor, err);
    int r = 0;
    if (!a)
        return LC_EDECODE;
    if (need_one && a->n_addresses == 0)
        r = lc_fail(err, LC_EINVALID, "%s: no addresses", path);
    for (size_t i = 0; r == 0 && i < a->n_addresses; i++)
        if (!valid_hostport(a->addresses[i]))
            r = lc_fail(err, LC_EINVALID, "%s: address '%.64s' is not host:port", path,
                        a->addresses[i]);
    if (r == 0)
        r = strs_copy(out, a->addresses, a->n_addresses);
    protobuf_c_message_free_unpacked(&a->base, NULL);
    return r;
}

/* Adds the MSP described by an org's MSP value. The same MSP id may appear in several orgs (an
 * org running peers and orderers) only with identical bytes, as Fabric allows. */
static int add_msp(struct lc_chconf *c, const char *gpath, const Common__ConfigGroup *g,
                   char **ret_mspid, struct lc_errbuf *err)
{
    bool found;
    const Common__ConfigValue *v = find_value(g, "MSP", &found);
    if (!found)
        return lc_fail(err, LC_EINVALID, "%s/MSP: missing", gpath);
    static const uint8_t empty[1];
    const uint8_t *data = v && v->value.data ? v->value.data : empty;
    size_t len = v ? v->value.len : 0;
    struct lc_errbuf why;
    struct lc_msp *msp = NULL;
    int r = lc_msp_new_from_bytes(data, len, &why, &msp);
    if (r < 0)
        return r == -ENOMEM ? r : lc_fail(err, r, "%s/MSP: %s", gpath, why.msg);
    const char *name = lc_msp_name(msp);
    for (size_t i = 0; i < c->n_seen; i++) {
        if (strcmp(c->seen[i].mspid, name) != 0)
            continue;
        if (c->seen[i].len != len || memcmp(c->seen[i].cfg, data, len) != 0)
            r = lc_fail(err, LC_EINVALID, "%s/MSP: MSP '%s' is already defined differently", gpath,
                        name);
        goto out;
    }
    r = grow((void **)&c->seen, c->n_seen, sizeof *c->seen);
    if (r < 0)
        goto out;
    struct msp_seen *s = &c->seen[c->n_seen];
    s->mspid = strdup(name);
    s->cfg = malloc(len ? len : 1);
    s->len = len;
    if (!s->mspid || !s->cfg) {
        free(s->mspid);
        free(s->cfg);
        r = -ENOMEM;
        goto out;
    }
    memcpy(s->cfg, data, len);
    c->n_seen++;
    r = lc_msp_mgr_add(c->msps, msp, &why);
    if (r < 0 && r != -ENOMEM)
        r = lc_fail(err, r, "%s/MSP: %s", gpath, why.msg);
out:
    if (r == 0) {
        *ret_mspid = strdup(name);
        if (!*ret_mspid)
            r = -ENOMEM;
    }
    lc_msp_unref(msp);
    return r;
}

static int load_anchor_peers(const char *gpath, const Common__ConfigGroup *g, struct org *o,
                             struct lc_errbuf *err)
{
    bool found;
    const Common__ConfigValue *v = find_value(g, "AnchorPeers", &found);
    if (!found)
        return 0;
    char *path = join(gpath, "AnchorPeers");
    if (!path)
        return -ENOMEM;
    Protos__AnchorPeers *ap = unpack_value(path, v, &protos__anchor_peers__descriptor, err);
    int r = 0;
    if (!ap) {
        r = LC_EDECODE;
        goto out;
    }
    o->anchors = calloc(ap->n_anchor_peers ? ap->n_anchor_peers : 1, sizeof *o->anchors);
    if (!o->anchors) {
        r = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < ap->n_anchor_peers; i++) {
        const Protos__AnchorPeer *p = ap->anchor_peers[i];
        if (p->host[0] == '\0') {
            r = lc_fail(err, LC_EINVALID, "%s: anchor peer %zu has no host", path, i);
            goto out;
        }
        if (p->port < 1 || p->port > 65535) {
            r = lc_fail(err, LC_EINVALID, "%s: anchor peer %s has port %d", path, p->host,
                        (int)p->port);
            goto out;
        }
        o->anchors[i].host = strdup(p->host);
        if (!o->anchors[i].host) {
            r = -ENOMEM;
            goto out;
        }
        o->anchors[i].port = p->port;
        o->n_anchors++;
    }
out:
    if (ap)
        protobuf_c_message_free_unpacked(&ap->base, NULL);
    free(path);
    return r;
}

/* One org group under Orderer or Application. */
static int load_org(struct lc_chconf *c, const char *ppath, size_t parent,
                    const Common__ConfigGroup__GroupsEntry *e, bool orderer, struct org *o,
                    struct lc_errbuf *err)
{
    static const char *const orderer_org_values[] = {"MSP", "Endpoints"};
    static const char *const app_org_values[] = {"MSP", "AnchorPeers"};
    const Common__ConfigGroup *g = group_or_empty(e->value);
    char *path = join(ppath, e->key);
    size_t gi;
    if (!path)
        return -ENOMEM;
    o->name = strdup(e->key);
    int r = o->name ? 0 : -ENOMEM;
    if (r == 0)
        r = add_group(c, path, g, parent, &gi, err);
    if (r == 0 && g->n_groups > 0)
        r = lc_fail(err, LC_EINVALID, "%s: an org group has no sub-groups, found '%s'", path,
                    g->groups[0]->key);
    if (r == 0)
        r = orderer ? check_value_keys(path, g, orderer_org_values, 2, err)
                    : check_value_keys(path, g, app_org_values, 2, err);
    if (r == 0)
        r = add_msp(c, path, g, &o->mspid, err);
    if (r == 0 && orderer) {
        bool found;
        const Common__ConfigValue *v = find_value(g, "Endpoints", &found);
        if (found) {
            char *vp = join(path, "Endpoints");
            r = vp ? load_addresses(vp, v, &o->endpoints, false, err) : -ENOMEM;
            free(vp);
        }
    }
    if (r == 0 && !orderer)
        r = load_anchor_peers(path, g, o, err);
    free(path);
    return r;
}

static int load_batch_size(struct lc_chconf *c, const Common__ConfigGroup *g, struct lc_errbuf *err)
{
    static const char path[] = "/Channel/Orderer/BatchSize";
    bool found;
    const Common__ConfigValue *v = find_value(g, "BatchSize", &found);
    if (!found)
        return lc_fail(err, LC_EINVALID, "%s: missing", path);
    Orderer__BatchSize *bs = unpack_value(path, v, &orderer__batch_size__descriptor, err);
    int r = 0;
    if (!bs)
        return LC_EDECODE;
    if (bs->max_message_count == 0)
        r = lc_fail(err, LC_EINVALID, "%s: max_message_count is 0", path);
    else if (bs->absolute_max_bytes == 0)
        r = lc_fail(err, LC_EINVALID, "%s: absolute_max_bytes is 0", path);
    else if (bs->preferred_max_bytes == 0)
        r = lc_fail(err, LC_EINVALID, "%s: preferred_max_bytes is 0", path);
    else if (bs->preferred_max_bytes > bs->absolute_max_bytes)
        r = lc_fail(err, LC_EINVALID,
                    "%s: preferred_max_bytes %u is greater than absolute_max_bytes %u", path,
                    bs->preferred_max_bytes, bs->absolute_max_bytes);
    c->max_messages = bs->max_message_count;
    c->absolute_max = bs->absolute_max_bytes;
    c->preferred_max = bs->preferred_max_bytes;
    protobuf_c_message_free_unpacked(&bs->base, NULL);
    return r;
}

static int load_batch_timeout(struct lc_chconf *c, const Common__ConfigGroup *g,
                              struct lc_errbuf *err)
{
    static const char path[] = "/Channel/Orderer/BatchTimeout";
    bool found;
    const Common__ConfigValue *v = find_value(g, "BatchTimeout", &found);
    if (!found)
        return lc_fail(err, LC_EINVALID, "%s: missing", path);
    Orderer__BatchTimeout *bt = unpack_value(path, v, &orderer__batch_timeout__descriptor, err);
    int r = 0;
    if (!bt)
        return LC_EDECODE;
    struct lc_errbuf why;
    int64_t ns = 0;
    r = lc_chconf_parse_duration(bt->timeout, &ns, &why);
    if (r < 0)
        r = lc_fail(err, LC_EINVALID, "%s: %s", path, why.msg);
    else if (ns <= 0)
        r = lc_fail(err, LC_EINVALID, "%s: timeout '%s' is not positive", path, bt->timeout);
    else
        c->timeout_ns = (uint64_t)ns;
    protobuf_c_message_free_unpacked(&bt->base, NULL);
    return r;
}

static int load_consensus(struct lc_chconf *c, const Common__ConfigGroup *g, struct lc_errbuf *err)
{
    static const char path[] = "/Channel/Orderer/ConsensusType";
    bool found;
    const Common__ConfigValue *v = find_value(g, "ConsensusType", &found);
    if (!found)
        return lc_fail(err, LC_EINVALID, "%s: missing", path);
    Orderer__ConsensusType *ct = unpack_value(path, v, &orderer__consensus_type__descriptor, err);
    int r = 0;
    if (!ct)
        return LC_EDECODE;
    if (strcmp(ct->type, "solo") != 0 && strcmp(ct->type, "kafka") != 0) {
        r = lc_fail(err, LC_EINVALID, "%s: type '%.64s' is not supported (solo, kafka)", path,
                    ct->type);
        goto out;
    }
    if (ct->state != ORDERER__CONSENSUS_TYPE__STATE__STATE_NORMAL &&
        ct->state != ORDERER__CONSENSUS_TYPE__STATE__STATE_MAINTENANCE) {
        r = lc_fail(err, LC_EINVALID, "%s: state %d unknown", path, (int)ct->state);
        goto out;
    }
    c->consensus_type = strdup(ct->type);
    c->consensus_md = malloc(ct->metadata.len ? ct->metadata.len : 1);
    if (!c->consensus_type || !c->consensus_md) {
        r = -ENOMEM;
        goto out;
    }
    if (ct->metadata.len)
        memcpy(c->consensus_md, ct->metadata.data, ct->metadata.len);
    c->consensus_md_len = ct->metadata.len;
    c->consensus_state = (int)ct->state;
out:
    protobuf_c_message_free_unpacked(&ct->base, NULL);
    return r;
}

static int load_kafka_brokers(struct lc_chconf *c, const Common__ConfigGroup *g,
                              struct lc_errbuf *err)
{
    static const char path[] = "/Channel/Orderer/KafkaBrokers";
    bool found;
    bool kafka = strcmp(c->consensus_type, "kafka") == 0;
    const Common__ConfigValue *v = find_value(g, "KafkaBrokers", &found);
    if (!found)
        return kafka ? lc_fail(err, LC_EINVALID, "%s: missing (consensus type is kafka)", path) : 0;
    Orderer__KafkaBrokers *kb = unpack_value(path, v, &orderer__kafka_brokers__descriptor, err);
    int r = 0;
    if (!kb)
        return LC_EDECODE;
    if (kafka && kb->n_brokers == 0)
        r = lc_fail(err, LC_EINVALID, "%s: no brokers", path);
    for (size_t i = 0; r == 0 && i < kb->n_brokers; i++)
        if (!valid_hostport(kb->brokers[i]))
            r = lc_fail(err, LC_EINVALID, "%s: broker '%.64s' is not host:port", path,
                        kb->brokers[i]);
    if (r == 0)
        r = strs_copy(&c->kafka_brokers, kb->brokers, kb->n_brokers);
    protobuf_c_message_free_unpacked(&kb->base, NULL);
    return r;
}

static int load_orderer(struct lc_chconf *c, size_t root, const Common__ConfigGroup *g,
                        struct lc_errbuf *err)
{
    static const char path[] = "/Channel/Orderer";
    static const char *const values[] = {"BatchSize",    "BatchTimeout", "ChannelRestrictions",
                                         "Capabilities", "KafkaBrokers", "ConsensusType"};
    size_t gi;
    int r = add_group(c, path, g, root, &gi, err);
    if (r == 0)
        r = check_value_keys(path, g, values, sizeof values / sizeof *values, err);
    if (r == 0)
        r = load_batch_size(c, g, err);
    if (r == 0)
        r = load_batch_timeout(c, g, err);
    if (r == 0)
        r = load_consensus(c, g, err);
    if (r == 0)
        r = load_kafka_brokers(c, g, err);
    if (r == 0)
        r = load_capabilities(c, LC_CHCONF_ORDERER, path, g, err);
    if (r < 0)
        return r;
    bool found;
    const Common__ConfigValue *v = find_value(g, "ChannelRestrictions", &found);
    if (found) {
        Orderer__ChannelRestrictions *cr =
            unpack_value("/Channel/Orderer/ChannelRestrictions", v,
                         &orderer__channel_restrictions__descriptor, err);
        if (!cr)
            return LC_EDECODE;
        c->max_channels = cr->max_count;
        protobuf_c_message_free_unpacked(&cr->base, NULL);
    }
    if (g->n_groups) {
        c->orderer_orgs = calloc(g->n_groups, sizeof *c->orderer_orgs);
        if (!c->orderer_orgs)
            return -ENOMEM;
    }
    for (size_t i = 0; i < g->n_groups; i++) {
        c->n_orderer_orgs++;
        r = load_org(c, path, gi, g->groups[i], true, &c->orderer_orgs[i], err);
        if (r < 0)
            return r;
    }
    return 0;
}

/* Fabric's chaincode name and version rules. */
static bool valid_cc_name(const char *s)
{
    /* [a-zA-Z0-9]+([-_][a-zA-Z0-9]+)* */
    if (!is_alnum(s[0]))
        return false;
    for (size_t i = 1; s[i]; i++) {
        if (s[i] == '-' || s[i] == '_') {
            if (!is_alnum(s[i + 1]))
                return false;
        } else if (!is_alnum(s[i])) {
            return false;
        }
    }
    return strlen(s) <= MAX_NAME;
}

static bool valid_cc_version(const char *s)
{
    if (s[0] == '\0' || strlen(s) > MAX_NAME)
        return false;
    for (; *s; s++)
        if (!is_alnum(*s) && !strchr("_.+-", *s))
            return false;
    return true;
}

static int load_chaincodes(struct lc_chconf *c, const Common__ConfigGroup *g, struct lc_errbuf *err)
{
    static const char path[] = "/Channel/Application/WeftChaincodes";
    bool found;
    const Common__ConfigValue *v = find_value(g, "WeftChaincodes", &found);
    if (!found)
        return 0;
    c->ccs = unpack_value(path, v, &weft__chaincode_definitions__descriptor, err);
    int r = 0;
    if (!c->ccs)
        return LC_EDECODE;
    struct lc_errbuf why;
    for (size_t i = 0; i < c->ccs->n_chaincodes; i++) {
        Weft__ChaincodeDefinition *d = c->ccs->chaincodes[i];
        if (!valid_cc_name(d->name))
            return lc_fail(err, LC_EINVALID, "%s: chaincode %zu: invalid name '%.64s'", path, i,
                           d->name);
        for (size_t j = 0; j < i; j++)
            if (strcmp(c->ccs->chaincodes[j]->name, d->name) == 0)
                return lc_fail(err, LC_EINVALID, "%s: chaincode '%s' defined twice", path, d->name);
        if (!valid_cc_version(d->version))
            return lc_fail(err, LC_EINVALID, "%s: chaincode '%s': invalid version '%.64s'", path,
                           d->name, d->version);
        if (d->sequence < 1)
            return lc_fail(err, LC_EINVALID, "%s: chaincode '%s': sequence %lld, expected >= 1",
                           path, d->name, (long long)d->sequence);
        Protos__ApplicationPolicy *ap = d->endorsement_policy;
        if (!ap || ap->type_case == PROTOS__APPLICATION_POLICY__TYPE__NOT_SET) {
            /* Fabric's default: the channel's Application Endorsement policy. Allocated with
             * malloc so free_unpacked releases it with the rest. */
            char *ref = strdup(DEFAULT_ENDORSEMENT);
            if (!ref)
                return -ENOMEM;
            if (!ap) {
                ap = malloc(sizeof *ap);
                if (!ap) {
                    free(ref);
                    return -ENOMEM;
                }
                protos__application_policy__init(ap);
                d->endorsement_policy = ap;
            }
            ap->type_case = PROTOS__APPLICATION_POLICY__TYPE_CHANNEL_CONFIG_POLICY_REFERENCE;
            ap->channel_config_policy_reference = ref;
        } else if (ap->type_case == PROTOS__APPLICATION_POLICY__TYPE_SIGNATURE_POLICY) {
            r = lc_policy_check(ap->signature_policy, &why);
            if (r < 0)
                return lc_fail(err, r, "%s: chaincode '%s': endorsement policy: %s", path, d->name,
                               why.msg);
        } else if (ap->type_case !=
                   PROTOS__APPLICATION_POLICY__TYPE_CHANNEL_CONFIG_POLICY_REFERENCE) {
            return lc_fail(err, LC_EINVALID, "%s: chaincode '%s': endorsement policy type %d", path,
                           d->name, (int)ap->type_case);
        }
    }
    return 0;
}

/* Policy references can only be checked once every policy is known. */
static int check_chaincode_refs(const struct lc_chconf *c, struct lc_errbuf *err)
{
    for (size_t i = 0; c->ccs && i < c->ccs->n_chaincodes; i++) {
        const Weft__ChaincodeDefinition *d = c->ccs->chaincodes[i];
        const Protos__ApplicationPolicy *ap = d->endorsement_policy;
        if (ap->type_case != PROTOS__APPLICATION_POLICY__TYPE_CHANNEL_CONFIG_POLICY_REFERENCE)
            continue;
        if (find_policy(c, ap->channel_config_policy_reference) == NONE)
            return lc_fail(err, LC_EINVALID,
                           "/Channel/Application/WeftChaincodes: chaincode '%s': endorsement "
                           "policy reference '%.128s' not found",
                           d->name, ap->channel_config_policy_reference);
    }
    return 0;
}

static int load_acls(struct lc_chconf *c, const Common__ConfigGroup *g, struct lc_errbuf *err)
{
    static const char path[] = "/Channel/Application/ACLs";
    bool found;
    const Common__ConfigValue *v = find_value(g, "ACLs", &found);
    if (!found)
        return 0;
    c->acls = unpack_value(path, v, &protos__acls__descriptor, err);
    if (!c->acls)
        return LC_EDECODE;
    for (size_t i = 0; i < c->acls->n_acls; i++) {
        const Protos__ACLs__AclsEntry *e = c->acls->acls[i];
        if (e->key[0] == '\0')
            return lc_fail(err, LC_EINVALID, "%s: empty resource name", path);
        for (size_t j = 0; j < i; j++)
            if (strcmp(c->acls->acls[j]->key, e->key) == 0)
                return lc_fail(err, LC_EINVALID, "%s: resource '%s' appears twice", path, e->key);
        if (!e->value || e->value->policy_ref[0] == '\0')
            return lc_fail(err, LC_EINVALID, "%s: resource '%s' has no policy", path, e->key);
    }
    return 0;
}

static int load_application(struct lc_chconf *c, size_t root, const Common__ConfigGroup *g,
                            struct lc_errbuf *err)
{
    static const char path[] = "/Channel/Application";
    static const char *const values[] = {"Capabilities", "ACLs", "WeftChaincodes"};
    size_t gi;
    c->has_app = true;
    int r = add_group(c, path, g, root, &gi, err);
    if (r == 0)
        r = check_value_keys(path, g, values, sizeof values / sizeof *values, err);
    if (r == 0)
        r = load_capabilities(c, LC_CHCONF_APPLICATION, path, g, err);
    if (r == 0)
        r = load_acls(c, g, err);
    if (r == 0)
        r = load_chaincodes(c, g, err);
    if (r < 0)
        return r;
    if (g->n_groups) {
        c->app_orgs = calloc(g->n_groups, sizeof *c->app_orgs);
        if (!c->app_orgs)
            return -ENOMEM;
    }
    for (size_t i = 0; i < g->n_groups; i++) {
        c->n_app_orgs++;
        r = load_org(c, path, gi, g->groups[i], false, &c->app_orgs[i], err);
        if (r < 0)
            return r;
    }
    return 0;
}

static int load_root_values(struct lc_chconf *c, const Common__ConfigGroup *g,
                            struct lc_errbuf *err)
{
    static const char *const values[] = {"HashingAlgorithm", "BlockDataHashingStructure",
                                         "OrdererAddresses", "Consortium", "Capabilities"};
    int r = check_value_keys("/Channel", g, values, sizeof values / sizeof *values, err);
    if (r < 0)
        return r;
    bool found;
    const Common__ConfigValue *v = find_value(g, "HashingAlgorithm", &found);
    if (!found)
        return lc_fail(err, LC_EINVALID, "/Channel/HashingAlgorithm: missing");
    Common__HashingAlgorithm *ha =
        unpack_value("/Channel/HashingAlgorithm", v, &common__hashing_algorithm__descriptor, err);
    if (!ha)
        return LC_EDECODE;
    if (strcmp(ha->name, "SHA256") != 0)
        r = lc_fail(err, LC_EINVALID, "/Channel/HashingAlgorithm: '%.64s' is not SHA256", ha->name);
    protobuf_c_message_free_unpacked(&ha->base, NULL);
    if (r < 0)
        return r;

    v = find_value(g, "BlockDataHashingStructure", &found);
    if (!found)
        return lc_fail(err, LC_EINVALID, "/Channel/BlockDataHashingStructure: missing");
    Common__BlockDataHashingStructure *bd =
        unpack_value("/Channel/BlockDataHashingStructure", v,
                     &common__block_data_hashing_structure__descriptor, err);
    if (!bd)
        return LC_EDECODE;
    if (bd->width != UINT32_MAX)
        r = lc_fail(err, LC_EINVALID,
                    "/Channel/BlockDataHashingStructure: width %u, expected 4294967295", bd->width);
    protobuf_c_message_free_unpacked(&bd->base, NULL);
    if (r < 0)
        return r;

    v = find_value(g, "OrdererAddresses", &found);
    if (found) {
        r = load_addresses("/Channel/OrdererAddresses", v, &c->orderer_addresses, false, err);
        if (r < 0)
            return r;
    }
    return load_capabilities(c, LC_CHCONF_CHANNEL, "/Channel", g, err);
}

/* ================================ loading ================================ */

static int load(struct lc_chconf *c, const char *channel_id, const Common__Config *config,
                size_t cache_max, struct lc_errbuf *err)
{
    if (!channel_id || !valid_channel_id(channel_id))
        return lc_fail(err, LC_EINVALID, "channel id '%.64s' is not valid ([a-z][a-z0-9.-]*)",
                       channel_id ? channel_id : "");
    c->channel_id = strdup(channel_id);
    if (!c->channel_id)
        return -ENOMEM;
    if (!config)
        return lc_fail(err, LC_EINVALID, "config: missing");
    c->sequence = config->sequence;
    if (!config->channel_group)
        return lc_fail(err, LC_EINVALID, "/Channel: missing");
    int r = lc_msp_mgr_new(cache_max, &c->msps);
    if (r < 0)
        return r;
    const Common__ConfigGroup *root = config->channel_group;
    size_t ri;
    r = add_group(c, "/Channel", root, NONE, &ri, err);
    if (r == 0)
        r = load_root_values(c, root, err);
    if (r < 0)
        return r;
    const Common__ConfigGroup__GroupsEntry *orderer = NULL;
    for (size_t i = 0; i < root->n_groups; i++) {
        const Common__ConfigGroup__GroupsEntry *e = root->groups[i];
        if (strcmp(e->key, "Orderer") == 0) {
            orderer = e;
        } else if (strcmp(e->key, "Application") != 0) {
            return lc_fail(err, LC_EINVALID, "/Channel/%s: group not allowed here", e->key);
        }
    }
    if (!orderer)
        return lc_fail(err, LC_EINVALID, "/Channel/Orderer: missing");
    /* In wire order, so that policy paths keep the order of the config. */
    for (size_t i = 0; r == 0 && i < root->n_groups; i++) {
        const Common__ConfigGroup__GroupsEntry *e = root->groups[i];
        r = e == orderer ? load_orderer(c, ri, group_or_empty(e->value), err)
                         : load_application(c, ri, group_or_empty(e->value), err);
    }
    if (r == 0)
        r = resolve_implicit(c);
    if (r == 0)
        r = check_chaincode_refs(c, err);
    return r;
}

int lc_chconf_from_config(const char *channel_id, const Common__Config *config,
                          size_t identity_cache_max, struct lc_errbuf *err, struct lc_chconf **ret)
{
    struct lc_chconf *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    int r = load(c, channel_id, config, identity_cache_max, err);
    if (r < 0) {
        if (r == -ENOMEM)
            lc_fail(err, r, "channel config: out of memory");
        lc_chconf_free(c);
        return r;
    }
    lc_log_debug("chconf",
                 "loaded channel=%s sequence=%llu policies=%zu app_orgs=%zu "
                 "orderer_orgs=%zu chaincodes=%zu",
                 c->channel_id, (unsigned long long)c->sequence, c->n_policies, c->n_app_orgs,
                 c->n_orderer_orgs, lc_chconf_chaincode_count(c));
    *ret = c;
    return 0;
}

int lc_chconf_from_block(const Common__Block *block, size_t identity_cache_max,
                         struct lc_errbuf *err, struct lc_chconf **ret)
{
    Common__Envelope *env = NULL;
    Common__Payload *pl = NULL;
    Common__ChannelHeader *ch = NULL;
    Common__ConfigEnvelope *ce = NULL;
    int r;
    if (!block || !block->data || block->data->n_data == 0)
        return lc_fail(err, LC_EINVALID, "block: no data");
    if (block->data->n_data != 1)
        return lc_fail(err, LC_EINVALID, "block: a config block holds one envelope, found %zu",
                       block->data->n_data);
    const ProtobufCBinaryData *d = &block->data->data[0];
    env = common__envelope__unpack(NULL, d->len, d->data);
    if (!env) {
        r = lc_fail(err, LC_EDECODE, "block: data[0] is not an Envelope");
        goto out;
    }
    pl = common__payload__unpack(NULL, env->payload.len, env->payload.data);
    if (!pl) {
        r = lc_fail(err, LC_EDECODE, "block: envelope payload does not decode");
        goto out;
    }
    if (!pl->header) {
        r = lc_fail(err, LC_EINVALID, "block: payload has no header");
        goto out;
    }
    ch = common__channel_header__unpack(NULL, pl->header->channel_header.len,
                                        pl->header->channel_header.data);
    if (!ch) {
        r = lc_fail(err, LC_EDECODE, "block: channel header does not decode");
        goto out;
    }
    if (ch->type != COMMON__HEADER_TYPE__CONFIG) {
        r = lc_fail(err, LC_EINVALID, "block: not a config block (channel header type %d)",
                    (int)ch->type);
        goto out;
    }
    if (lc_wire_scan(&common__config_envelope__descriptor, pl->data.data, pl->data.len, err) < 0) {
        r = LC_EDECODE;
        goto out;
    }
    ce = common__config_envelope__unpack(NULL, pl->data.len, pl->data.data);
    if (!ce) {
        r = lc_fail(err, LC_EDECODE, "block: ConfigEnvelope does not decode");
        goto out;
    }
    if (!ce->config) {
        r = lc_fail(err, LC_EINVALID, "block: ConfigEnvelope has no config");
        goto out;
    }
    r = lc_chconf_from_config(ch->channel_id, ce->config, identity_cache_max, err, ret);
out:
    if (ce)
        common__config_envelope__free_unpacked(ce, NULL);
    if (ch)
        common__channel_header__free_unpacked(ch, NULL);
    if (pl)
        common__payload__free_unpacked(pl, NULL);
    if (env)
        common__envelope__free_unpacked(env, NULL);
    return r;
}

int lc_chconf_from_block_bytes(const uint8_t *buf, size_t len, size_t identity_cache_max,
                               struct lc_errbuf *err, struct lc_chconf **ret)
{
    Common__Block *b = common__block__unpack(NULL, len, buf);
    if (!b)
        return lc_fail(err, LC_EDECODE, "block: does not decode");
    int r = lc_chconf_from_block(b, identity_cache_max, err, ret);
    common__block__free_unpacked(b, NULL);
    return r;
}

static void org_free(struct org *o)
{
    free(o->name);
    free(o->mspid);
    for (size_t i = 0; i < o->n_anchors; i++)
        free(o->anchors[i].host);
    free(o->anchors);
    strs_free(&o->endpoints);
}

void lc_chconf_free(struct lc_chconf *c)
{
    if (!c)
        return;
    free(c->channel_id);
    for (size_t i = 0; i < c->n_groups; i++) {
        free(c->groups[i].path);
        free(c->groups[i].children);
    }
    free(c->groups);
    for (size_t i = 0; i < c->n_policies; i++) {
        struct policy *p = &c->policies[i];
        free(p->path);
        if (p->sig)
            common__signature_policy_envelope__free_unpacked(p->sig, NULL);
        if (p->imp)
            common__implicit_meta_policy__free_unpacked(p->imp, NULL);
        free(p->subs);
    }
    free(c->policies);
    lc_msp_mgr_free(c->msps);
    for (size_t i = 0; i < c->n_seen; i++) {
        free(c->seen[i].mspid);
        free(c->seen[i].cfg);
    }
    free(c->seen);
    strs_free(&c->orderer_addresses);
    for (size_t i = 0; i < 3; i++)
        strs_free(&c->caps[i]);
    free(c->consensus_type);
    free(c->consensus_md);
    strs_free(&c->kafka_brokers);
    for (size_t i = 0; i < c->n_orderer_orgs; i++)
        org_free(&c->orderer_orgs[i]);
    free(c->orderer_orgs);
    for (size_t i = 0; i < c->n_app_orgs; i++)
        org_free(&c->app_orgs[i]);
    free(c->app_orgs);
    if (c->acls)
        protos__acls__free_unpacked(c->acls, NULL);
    if (c->ccs)
        weft__chaincode_definitions__free_unpacked(c->ccs, NULL);
    free(c);
}

/* ================================ evaluation ================================ */

struct ev {
    const struct lc_chconf *c;
    const struct lc_signed_data *sd;
    size_t n_sd;
    struct lc_policy_idset *set; /* made on first need unless the caller gave one */
};

struct ev_child {
    struct ev *e;
    const struct policy *p;
};

static int ev_policy(struct ev *e, size_t pi, struct lc_errbuf *err);

static int ev_child(void *ctx, size_t i)
{
    struct ev_child *ch = ctx;
    if (ch->p->subs[i] == NONE)
        return LC_ENOTFOUND; /* Fabric: a missing sub-policy rejects */
    struct lc_errbuf ignored;
    return ev_policy(ch->e, ch->p->subs[i], &ignored);
}

static int ev_policy(struct ev *e, size_t pi, struct lc_errbuf *err)
{
    const struct policy *p = &e->c->policies[pi];
    if (p->type == COMMON__POLICY__POLICY_TYPE__SIGNATURE) {
        if (!e->set) {
            int r = lc_policy_idset_new(e->sd, e->n_sd, &lc_msp_policy_ops, e->c->msps, &e->set);
            if (r < 0)
                return r;
        }
        return lc_policy_idset_eval(e->set, p->sig, err);
    }
    struct ev_child ch = {.e = e, .p = p};
    return lc_policy_implicit_eval(p->imp, p->n_subs, ev_child, &ch, err);
}

static int eval_at(const struct lc_chconf *c, const char *path, struct ev *e, struct lc_errbuf *err)
{
    size_t pi = find_policy(c, path);
    if (pi == NONE)
        return lc_fail(err, LC_ENOTFOUND, "policy %.200s: not found", path);
    struct lc_errbuf why = {{0}};
    int r = ev_policy(e, pi, &why);
    if (r == -ENOMEM)
        return lc_fail(err, r, "policy %s: out of memory", c->policies[pi].path);
    if (r < 0)
        return lc_fail(err, r, "policy %s: %s", c->policies[pi].path, why.msg);
    return 0;
}

int lc_chconf_policy_eval(const struct lc_chconf *c, const char *path,
                          const struct lc_signed_data *sd, size_t n_sd, struct lc_errbuf *err)
{
    struct ev e = {.c = c, .sd = sd, .n_sd = n_sd};
    int r = eval_at(c, path, &e, err);
    lc_policy_idset_free(e.set);
    return r;
}

int lc_chconf_policy_eval_idset(const struct lc_chconf *c, const char *path,
                                const struct lc_policy_idset *set, struct lc_errbuf *err)
{
    /* The set is only read. Without one, an empty set is made and freed here. */
    struct ev e = {.c = c, .set = (struct lc_policy_idset *)set};
    int r = eval_at(c, path, &e, err);
    if (!set)
        lc_policy_idset_free(e.set);
    return r;
}

bool lc_chconf_policy_exists(const struct lc_chconf *c, const char *path)
{
    return find_policy(c, path) != NONE;
}

size_t lc_chconf_policy_count(const struct lc_chconf *c)
{
    return c->n_policies;
}

const char *lc_chconf_policy_path(const struct lc_chconf *c, size_t i)
{
    return i < c->n_policies ? c->policies[i].path : NULL;
}

/* ================================ chaincodes ================================ */

size_t lc_chconf_chaincode_count(const struct lc_chconf *c)
{
    return c->ccs ? c->ccs->n_chaincodes : 0;
}

const Weft__ChaincodeDefinition *lc_chconf_chaincode_at(const struct lc_chconf *c, size_t i)
{
    return i < lc_chconf_chaincode_count(c) ? c->ccs->chaincodes[i] : NULL;
}

const Weft__ChaincodeDefinition *lc_chconf_chaincode(const struct lc_chconf *c, const char *name)
{
    for (size_t i = 0; i < lc_chconf_chaincode_count(c); i++)
        if (strcmp(c->ccs->chaincodes[i]->name, name) == 0)
            return c->ccs->chaincodes[i];
    return NULL;
}

static int cc_eval(const struct lc_chconf *c, const char *name, struct ev *e, struct lc_errbuf *err)
{
    const Weft__ChaincodeDefinition *d = lc_chconf_chaincode(c, name);
    if (!d)
        return lc_fail(err, LC_ENOTFOUND, "chaincode %.128s: not defined on channel %s", name,
                       c->channel_id);
    const Protos__ApplicationPolicy *ap = d->endorsement_policy;
    struct lc_errbuf why = {{0}};
    int r;
    if (ap->type_case == PROTOS__APPLICATION_POLICY__TYPE_SIGNATURE_POLICY) {
        if (!e->set) {
            r = lc_policy_idset_new(e->sd, e->n_sd, &lc_msp_policy_ops, c->msps, &e->set);
            if (r < 0)
                return lc_fail(err, r, "chaincode %s: out of memory", name);
        }
        r = lc_policy_idset_eval(e->set, ap->signature_policy, &why);
    } else {
        r = eval_at(c, ap->channel_config_policy_reference, e, &why);
    }
    if (r < 0)
        return lc_fail(err, r, "chaincode %s: endorsement policy: %s", name, why.msg);
    return 0;
}

int lc_chconf_chaincode_policy_eval(const struct lc_chconf *c, const char *name,
                                    const struct lc_signed_data *sd, size_t n_sd,
                                    struct lc_errbuf *err)
{
    struct ev e = {.c = c, .sd = sd, .n_sd = n_sd};
    int r = cc_eval(c, name, &e, err);
    lc_policy_idset_free(e.set);
    return r;
}

int lc_chconf_chaincode_policy_eval_idset(const struct lc_chconf *c, const char *name,
                                          const struct lc_policy_idset *set, struct lc_errbuf *err)
{
    struct ev e = {.c = c, .set = (struct lc_policy_idset *)set};
    int r = cc_eval(c, name, &e, err);
    if (!set)
        lc_policy_idset_free(e.set);
    return r;
}

/* ================================ accessors ================================ */

const char *lc_chconf_channel_id(const struct lc_chconf *c)
{
    return c->channel_id;
}

uint64_t lc_chconf_sequence(const struct lc_chconf *c)
{
    return c->sequence;
}

struct lc_msp_mgr *lc_chconf_msp_mgr(const struct lc_chconf *c)
{
    return c->msps;
}

size_t lc_chconf_orderer_address_count(const struct lc_chconf *c)
{
    return c->orderer_addresses.n;
}

const char *lc_chconf_orderer_address(const struct lc_chconf *c, size_t i)
{
    return i < c->orderer_addresses.n ? c->orderer_addresses.v[i] : NULL;
}

static const struct strs *caps_of(const struct lc_chconf *c, enum lc_chconf_scope scope)
{
    return (unsigned)scope < 3 ? &c->caps[scope] : NULL;
}

bool lc_chconf_has_capability(const struct lc_chconf *c, enum lc_chconf_scope scope,
                              const char *name)
{
    const struct strs *s = caps_of(c, scope);
    for (size_t i = 0; s && i < s->n; i++)
        if (strcmp(s->v[i], name) == 0)
            return true;
    return false;
}

size_t lc_chconf_capability_count(const struct lc_chconf *c, enum lc_chconf_scope scope)
{
    const struct strs *s = caps_of(c, scope);
    return s ? s->n : 0;
}

const char *lc_chconf_capability(const struct lc_chconf *c, enum lc_chconf_scope scope, size_t i)
{
    const struct strs *s = caps_of(c, scope);
    return s && i < s->n ? s->v[i] : NULL;
}

uint32_t lc_chconf_batch_max_message_count(const struct lc_chconf *c)
{
    return c->max_messages;
}

uint32_t lc_chconf_batch_absolute_max_bytes(const struct lc_chconf *c)
{
    return c->absolute_max;
}

uint32_t lc_chconf_batch_preferred_max_bytes(const struct lc_chconf *c)
{
    return c->preferred_max;
}

uint64_t lc_chconf_batch_timeout_ns(const struct lc_chconf *c)
{
    return c->timeout_ns;
}

const char *lc_chconf_consensus_type(const struct lc_chconf *c)
{
    return c->consensus_type;
}

int lc_chconf_consensus_state(const struct lc_chconf *c)
{
    return c->consensus_state;
}

const uint8_t *lc_chconf_consensus_metadata(const struct lc_chconf *c, size_t *ret_len)
{
    *ret_len = c->consensus_md_len;
    return c->consensus_md;
}

size_t lc_chconf_kafka_broker_count(const struct lc_chconf *c)
{
    return c->kafka_brokers.n;
}

const char *lc_chconf_kafka_broker(const struct lc_chconf *c, size_t i)
{
    return i < c->kafka_brokers.n ? c->kafka_brokers.v[i] : NULL;
}

uint64_t lc_chconf_max_channels(const struct lc_chconf *c)
{
    return c->max_channels;
}

size_t lc_chconf_orderer_org_count(const struct lc_chconf *c)
{
    return c->n_orderer_orgs;
}

const char *lc_chconf_orderer_org_name(const struct lc_chconf *c, size_t i)
{
    return i < c->n_orderer_orgs ? c->orderer_orgs[i].name : NULL;
}

const char *lc_chconf_orderer_org_mspid(const struct lc_chconf *c, size_t i)
{
    return i < c->n_orderer_orgs ? c->orderer_orgs[i].mspid : NULL;
}

size_t lc_chconf_orderer_org_endpoint_count(const struct lc_chconf *c, size_t i)
{
    return i < c->n_orderer_orgs ? c->orderer_orgs[i].endpoints.n : 0;
}

const char *lc_chconf_orderer_org_endpoint(const struct lc_chconf *c, size_t i, size_t j)
{
    if (i >= c->n_orderer_orgs || j >= c->orderer_orgs[i].endpoints.n)
        return NULL;
    return c->orderer_orgs[i].endpoints.v[j];
}

bool lc_chconf_has_application(const struct lc_chconf *c)
{
    return c->has_app;
}

size_t lc_chconf_app_org_count(const struct lc_chconf *c)
{
    return c->n_app_orgs;
}

const char *lc_chconf_app_org_name(const struct lc_chconf *c, size_t i)
{
    return i < c->n_app_orgs ? c->app_orgs[i].name : NULL;
}

const char *lc_chconf_app_org_mspid(const struct lc_chconf *c, size_t i)
{
    return i < c->n_app_orgs ? c->app_orgs[i].mspid : NULL;
}

size_t lc_chconf_anchor_peer_count(const struct lc_chconf *c, size_t org)
{
    return org < c->n_app_orgs ? c->app_orgs[org].n_anchors : 0;
}

const char *lc_chconf_anchor_peer(const struct lc_chconf *c, size_t org, size_t j, int *ret_port)
{
    if (org >= c->n_app_orgs || j >= c->app_orgs[org].n_anchors)
        return NULL;
    *ret_port = c->app_orgs[org].anchors[j].port;
    return c->app_orgs[org].anchors[j].host;
}

const char *lc_chconf_acl(const struct lc_chconf *c, const char *resource)
{
    for (size_t i = 0; c->acls && i < c->acls->n_acls; i++)
        if (strcmp(c->acls->acls[i]->key, resource) == 0)
            return c->acls->acls[i]->value->policy_ref;
    return NULL;
}

/* ================================ Go durations ================================ */

static const struct {
    const char *name;
    uint64_t ns;
} units[] = {
    {"ns", 1ull},           {"us", 1000ull},      {"\xc2\xb5s", 1000ull}, /* U+00B5 micro sign */
    {"\xce\xbcs", 1000ull},                                               /* U+03BC Greek mu */
    {"ms", 1000000ull},     {"s", 1000000000ull}, {"m", 60000000000ull},  {"h", 3600000000000ull},
};

int lc_chconf_parse_duration(const char *text, int64_t *ret_ns, struct lc_errbuf *err)
{
    const uint64_t limit = 1ull << 63;
    size_t len = strnlen(text, LC_CHCONF_MAX_DURATION_TEXT + 1);
    if (len > LC_CHCONF_MAX_DURATION_TEXT)
        return lc_fail(err, LC_ESYNTAX, "duration longer than %d bytes",
                       LC_CHCONF_MAX_DURATION_TEXT);
    const char *s = text, *end = text + len;
    bool neg = false;
    if (s < end && (*s == '-' || *s == '+')) {
        neg = *s == '-';
        s++;
    }
    if (end - s == 1 && *s == '0') {
        *ret_ns = 0;
        return 0;
    }
    if (s == end)
        return lc_fail(err, LC_ESYNTAX, "invalid duration '%s'", text);
    uint64_t d = 0;
    while (s < end) {
        uint64_t v = 0, f = 0;
        double scale = 1;
        if (!(*s == '.' || is_digit(*s)))
            return lc_fail(err, LC_ESYNTAX, "invalid duration '%s'", text);
        const char *p0 = s;
        for (; s < end && is_digit(*s); s++) {
            if (v > limit / 10)
                return lc_fail(err, LC_ESYNTAX, "invalid duration '%s': overflow", text);
            v = v * 10 + (uint64_t)(*s - '0');
            if (v > limit)
                return lc_fail(err, LC_ESYNTAX, "invalid duration '%s': overflow", text);
        }
        bool pre = s != p0, post = false;
        if (s < end && *s == '.') {
            s++;
            const char *f0 = s;
            bool overflow = false;
            for (; s < end && is_digit(*s); s++) {
                if (overflow)
                    continue;
                if (f > (limit - 1) / 10) {
                    overflow = true;
                    continue;
                }
                uint64_t y = f * 10 + (uint64_t)(*s - '0');
                if (y > limit) {
                    overflow = true;
                    continue;
                }
                f = y;
                scale *= 10;
            }
            post = s != f0;
        }
        if (!pre && !post)
            return lc_fail(err, LC_ESYNTAX, "invalid duration '%s'", text);
        const char *u0 = s;
        while (s < end && *s != '.' && !is_digit(*s))
            s++;
        if (s == u0)
            return lc_fail(err, LC_ESYNTAX, "missing unit in duration '%s'", text);
        uint64_t unit = 0;
        for (size_t i = 0; i < sizeof units / sizeof *units; i++)
            if (strlen(units[i].name) == (size_t)(s - u0) &&
                memcmp(units[i].name, u0, (size_t)(s - u0)) == 0)
                unit = units[i].ns;
        if (!unit)
            return lc_fail(err, LC_ESYNTAX, "unknown unit '%.*s' in duration '%s'", (int)(s - u0),
                           u0, text);
        if (v > limit / unit)
            return lc_fail(err, LC_ESYNTAX, "invalid duration '%s': overflow", text);
        v *= unit;
        if (f > 0) {
            /* As Go does: the fraction goes through float64. */
            v += (uint64_t)((double)f * ((double)unit / scale));
            if (v > limit)
                return lc_fail(err, LC_ESYNTAX, "invalid duration '%s': overflow", text);
        }
        d += v;
        if (d > limit)
            return lc_fail(err, LC_ESYNTAX, "invalid duration '%s': overflow", text);
    }
    if (neg) {
        *ret_ns = d == limit ? INT64_MIN : -(int64_t)d;
        return 0;
    }
    if (d > limit - 1)
        return lc_fail(err, LC_ESYNTAX, "invalid duration '%s': overflow", text);
    *ret_ns = (int64_t)d;
    return 0;
}
