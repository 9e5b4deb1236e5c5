/* SPDX-License-Identifier: Apache-2.0 */
/* The gateway: profile, signer, endorsers, orderers and channel config behind one handle. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/internal.h"
#include "libcommon/chconf.h"
#include "libcommon/crypto.h"
#include "libcommon/msp.h"

struct wc_gateway {
    char *channel;
    struct lc_signer *signer;
    enum wc_selection selection;
    struct wc_node **endorsers;
    size_t n_endorsers;
    struct wc_node **orderers;
    size_t n_orderers;
    enum wc_order order;
    int timeout_ms;
    char *genesis;
    struct lc_chconf *chconf;
};

void wc_gateway_free(struct wc_gateway *gw)
{
    if (!gw)
        return;
    free(gw->channel);
    lc_signer_free(gw->signer);
    for (size_t i = 0; i < gw->n_endorsers; i++)
        wc_node_free(gw->endorsers[i]);
    free(gw->endorsers);
    for (size_t i = 0; i < gw->n_orderers; i++)
        wc_node_free(gw->orderers[i]);
    free(gw->orderers);
    free(gw->genesis);
    lc_chconf_free(gw->chconf);
    free(gw);
}

/* The profile's peer or orderer at address, to name a bare address; NULL when none. */
static bool profile_lookup(const struct wc_profile *p, bool peers, const char *address,
                           struct wc_endpoint *ret)
{
    if (!p)
        return false;
    size_t n = peers ? wc_profile_peer_count(p) : wc_profile_orderer_count(p);
    for (size_t i = 0; i < n; i++) {
        struct wc_endpoint ep;
        if (peers ? wc_profile_peer(p, i, &ep) : wc_profile_orderer(p, i, &ep)) {
            if (strcmp(ep.address, address) == 0) {
                *ret = ep;
                return true;
            }
        }
    }
    return false;
}

/* Nodes for bare addresses, named and given MSP ids by the profile where it knows them. */
static int nodes_from_addresses(const char *const *addrs, size_t n, const struct wc_profile *p,
                                bool peers, const char *what, struct lc_errbuf *err,
                                struct wc_node ***ret, size_t *ret_n)
{
    struct wc_node **nodes = calloc(n ? n : 1, sizeof *nodes);
    if (!nodes)
        return lc_fail(err, -ENOMEM, "out of memory");
    int r = 0;
    size_t k = 0;
    for (; k < n; k++) {
        struct wc_endpoint ep = {addrs[k], addrs[k], NULL};
        profile_lookup(p, peers, addrs[k], &ep);
        r = wc_node_new(&ep, 0, err, &nodes[k]);
        if (r < 0) {
            lc_errbuf_prefix(err, "%s: ", what);
            break;
        }
    }
    if (r < 0) {
        for (size_t i = 0; i < k; i++)
            wc_node_free(nodes[i]);
        free(nodes);
        return r;
    }
    *ret = nodes;
    *ret_n = n;
    return 0;
}

static int nodes_from_endpoints(const struct wc_endpoint *eps, size_t n, struct lc_errbuf *err,
                                struct wc_node ***ret, size_t *ret_n)
{
    struct wc_node **nodes = calloc(n ? n : 1, sizeof *nodes);
    if (!nodes)
        return lc_fail(err, -ENOMEM, "out of memory");
    for (size_t k = 0; k < n; k++) {
        int r = wc_node_new(&eps[k], 0, err, &nodes[k]);
        if (r < 0) {
            for (size_t i = 0; i < k; i++)
                wc_node_free(nodes[i]);
            free(nodes);
            return r;
        }
    }
    *ret = nodes;
    *ret_n = n;
    return 0;
}

int wc_gateway_open(const struct wc_gateway_opts *opts, struct lc_errbuf *err,
                    struct wc_gateway **ret)
{
    if (!wc_internal_channel_ok(opts->channel))
        return lc_fail(err, LC_EINVALID,
                       "channel '%.100s' is not a channel ID ([a-z][a-z0-9.-]*, at most %d bytes)",
                       opts->channel ? opts->channel : "", WC_CHANNEL_MAX);
    if (!opts->msp_dir || !*opts->msp_dir)
        return lc_fail(err, LC_EINVALID, "no MSP directory for the user's identity");
    if (opts->selection != WC_SELECT_EXPLICIT && opts->n_targets > 0)
        return lc_fail(err, LC_EINVALID, "targets are only for explicit selection, not %s",
                       wc_selection_name(opts->selection));
    if (opts->selection != WC_SELECT_EXPLICIT && !opts->profile)
        return lc_fail(err, LC_EINVALID, "%s selection needs a connection profile",
                       wc_selection_name(opts->selection));

    int r;
    struct wc_profile *prof = NULL;
    struct wc_endpoint *eps = NULL;
    size_t n_eps = 0;
    struct wc_gateway *gw = calloc(1, sizeof *gw);
    if (!gw)
        return lc_fail(err, -ENOMEM, "out of memory");
    gw->selection = opts->selection;
    gw->order = opts->orderer_order;
    gw->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : WC_DEFAULT_TIMEOUT_MS;
    gw->channel = strdup(opts->channel);
    gw->genesis = opts->genesis ? strdup(opts->genesis) : NULL;
    if (!gw->channel || (opts->genesis && !gw->genesis)) {
        r = lc_fail(err, -ENOMEM, "out of memory");
        goto fail;
    }
    if (opts->profile) {
        r = wc_profile_load(opts->profile, err, &prof);
        if (r < 0)
            goto fail;
    }
    const char *mspid = opts->mspid ? opts->mspid : prof ? wc_profile_client_mspid(prof) : NULL;
    if (!mspid || !*mspid) {
        r = lc_fail(err, LC_EINVALID,
                    "no MSP id for the user: give one, or client.organization in the profile");
        goto fail;
    }
    r = lc_signer_load(opts->msp_dir, mspid, err, &gw->signer);
    if (r < 0) {
        lc_errbuf_prefix(err, "identity: ");
        goto fail;
    }

    if (opts->selection == WC_SELECT_EXPLICIT) {
        r = nodes_from_addresses(opts->targets, opts->n_targets, prof, true, "target", err,
                                 &gw->endorsers, &gw->n_endorsers);
    } else {
        unsigned roles = opts->roles ? opts->roles : WC_ROLE_ENDORSING;
        r = wc_profile_channel_peers(prof, opts->channel, roles, err, &eps, &n_eps);
        if (r == 0 && n_eps == 0)
            r = lc_fail(err, LC_ENOTFOUND,
                        "the profile has no peer for channel %s with the %s role", opts->channel,
                        roles & WC_ROLE_CHAINCODE_QUERY ? "chaincodeQuery" : "endorsingPeer");
        if (r == 0)
            r = nodes_from_endpoints(eps, n_eps, err, &gw->endorsers, &gw->n_endorsers);
        free(eps);
        eps = NULL;
    }
    if (r < 0)
        goto fail;

    if (opts->n_orderers > 0) {
        r = nodes_from_addresses(opts->orderers, opts->n_orderers, prof, false, "orderer", err,
                                 &gw->orderers, &gw->n_orderers);
    } else if (prof) {
        r = wc_profile_channel_orderers(prof, opts->channel, err, &eps, &n_eps);
        if (r == 0)
            r = nodes_from_endpoints(eps, n_eps, err, &gw->orderers, &gw->n_orderers);
        free(eps);
    }
    if (r < 0)
        goto fail;
    wc_profile_free(prof);
    *ret = gw;
    return 0;
fail:
    wc_profile_free(prof);
    wc_gateway_free(gw);
    return r;
}

const struct lc_signer *wc_gateway_signer(const struct wc_gateway *gw)
{
    return gw->signer;
}

size_t wc_gateway_endorser_count(const struct wc_gateway *gw)
{
    return gw->n_endorsers;
}

struct wc_node *wc_gateway_endorser(const struct wc_gateway *gw, size_t i)
{
    return i < gw->n_endorsers ? gw->endorsers[i] : NULL;
}

size_t wc_gateway_orderer_count(const struct wc_gateway *gw)
{
    return gw->n_orderers;
}

struct wc_node *wc_gateway_orderer(const struct wc_gateway *gw, size_t i)
{
    return i < gw->n_orderers ? gw->orderers[i] : NULL;
}

int wc_gateway_chconf(struct wc_gateway *gw, struct lc_errbuf *err, const struct lc_chconf **ret)
{
    if (!gw->chconf) {
        struct lc_chconf *c = NULL;
        int r = gw->genesis ? wc_chconf_load(gw->genesis, err, &c)
                            : wc_chconf_fetch(gw->orderers, gw->n_orderers, gw->channel, gw->signer,
                                              gw->timeout_ms, err, &c);
        if (r < 0)
            return r;
        if (strcmp(lc_chconf_channel_id(c), gw->channel) != 0) {
            r = lc_fail(err, LC_EMISMATCH, "%s: the block is for channel %s, not %s",
                        gw->genesis ? gw->genesis : "block 0", lc_chconf_channel_id(c),
                        gw->channel);
            lc_chconf_free(c);
            return r;
        }
        gw->chconf = c;
    }
    *ret = gw->chconf;
    return 0;
}

int wc_gateway_endorse(struct wc_gateway *gw, const char *chaincode,
                       const ProtobufCBinaryData *args, size_t n_args,
                       const struct wc_transient *transient, size_t n_transient,
                       struct lc_errbuf *err, struct wc_proposal **ret_prop,
                       struct wc_responses **ret_rs)
{
    const struct lc_chconf *cc;
    int r = wc_gateway_chconf(gw, err, &cc);
    if (r < 0)
        return r;
    const struct wc_invocation inv = {
        .channel = gw->channel,
        .chaincode = chaincode,
        .args = args,
        .n_args = n_args,
        .transient = transient,
        .n_transient = n_transient,
    };
    struct wc_proposal *prop = NULL;
    struct wc_responses *rs = NULL;
    r = wc_proposal_new(gw->signer, &inv, err, &prop);
    if (r < 0)
        return r;
    r = wc_endorse_select(prop, gw->selection, gw->endorsers, gw->n_endorsers, cc, gw->timeout_ms,
                          err, &rs);
    if (r < 0)
        goto fail;
    r = wc_responses_validate(rs, prop, cc, time(NULL), err);
    if (r < 0)
        goto fail;
    *ret_prop = prop;
    *ret_rs = rs;
    return 0;
fail:
    wc_responses_free(rs);
    wc_proposal_free(prop);
    return r;
}

int wc_gateway_submit(struct wc_gateway *gw, const struct wc_proposal *prop,
                      const struct wc_responses *rs, struct lc_errbuf *err,
                      struct wc_broadcast_result *ret)
{
    if (gw->n_orderers == 0)
        return lc_fail(err, LC_EINVALID, "no orderers to broadcast to");
    uint8_t *env = NULL;
    size_t len;
    int r = wc_tx_assemble(prop, rs, gw->signer, err, &env, &len);
    if (r < 0)
        return r;
    r = wc_broadcast(gw->orderers, gw->n_orderers, env, len, gw->order, gw->timeout_ms, err, ret);
    free(env);
    return r;
}

int wc_gateway_deliver(struct wc_gateway *gw, const struct wc_seek *seek, struct lc_errbuf *err,
                       struct wc_deliver **ret, size_t *ret_orderer)
{
    if (gw->n_orderers == 0)
        return lc_fail(err, LC_EINVALID, "no orderers to read blocks from");
    size_t start = 0;
    if (gw->order == WC_ORDER_RANDOM && gw->n_orderers > 1) {
        uint32_t rnd;
        int r = lc_random_bytes(&rnd, sizeof rnd);
        if (r < 0)
            return lc_fail(err, r, "no randomness");
        start = rnd % gw->n_orderers;
    }
    char causes[sizeof err->msg] = "";
    size_t clen = 0;
    int r = 0;
    for (size_t k = 0; k < gw->n_orderers; k++) {
        size_t i = (start + k) % gw->n_orderers;
        struct wc_deliver *d = NULL;
        struct lc_errbuf why = {{0}};
        r = wc_deliver_open(gw->orderers[i], gw->channel, gw->signer, seek, &why, &d);
        if (r == 0) {
            /* the first answer tells whether this orderer serves us; keep it for the caller */
            Common__Block *block = NULL;
            r = wc_deliver_next(d, gw->timeout_ms, &why, &block);
            if (r != LC_EUNAVAIL) {
                if (r != LC_ETIMEOUT)
                    wc_internal_deliver_push_back(d, r, block, &why);
                *ret = d;
                if (ret_orderer)
                    *ret_orderer = i;
                return 0;
            }
            wc_deliver_free(d);
        }
        if (clen < sizeof causes - 1) {
            int w = snprintf(causes + clen, sizeof causes - clen, "%s%s: %s", clen ? "; " : "",
                             wc_node_name(gw->orderers[i]), why.msg);
            clen = w < 0 ? clen : clen + (size_t)w;
            if (clen >= sizeof causes)
                clen = sizeof causes - 1;
        }
    }
    return lc_fail(err, r < 0 ? r : LC_EUNAVAIL, "no orderer serves blocks: %s", causes);
}
