/* SPDX-License-Identifier: Apache-2.0 */
/* Endorser selection: explicit, static, or the smallest set that satisfies the endorsement policy.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/internal.h"
#include "libcommon/chconf.h"
#include "libcommon/policy.h"
#include "msp/msp_principal.pb-c.h"

/* Candidate sets evaluated before giving up (C(64, k) grows fast; real channels have few orgs, and
 * sets are tried smallest first, so this is only reached by policies nothing can satisfy). */
#define MAX_EVALUATIONS 200000

static const char *const selection_names[] = {"explicit", "static", "policy"};

int wc_selection_parse(const char *word, enum wc_selection *ret)
{
    for (size_t i = 0; i < sizeof selection_names / sizeof selection_names[0]; i++) {
        if (word && strcmp(word, selection_names[i]) == 0) {
            *ret = (enum wc_selection)i;
            return 0;
        }
    }
    return LC_EINVALID;
}

const char *wc_selection_name(enum wc_selection s)
{
    return (unsigned)s < sizeof selection_names / sizeof selection_names[0] ? selection_names[s]
                                                                            : "unknown";
}

/*
 * The policy module's identity seam, with stand-ins for endorsers: the "serialized identity" of
 * candidate i is its index (4 bytes, host order), the identity is the candidate, its key makes
 * each candidate distinct (two peers of one org are two identities, as their certificates would
 * be), signatures always verify, and a principal is satisfied by ROLE member or peer of the
 * candidate's own MSP.
 */
struct fake {
    const char *mspid;
    char key[32];
};

struct fakes {
    struct fake *f;
    size_t n;
};

static int fake_deserialize(void *ctx, const uint8_t *bytes, size_t len, void **ret)
{
    struct fakes *fs = ctx;
    uint32_t i;
    if (len != sizeof i)
        return LC_EDECODE;
    memcpy(&i, bytes, sizeof i);
    if (i >= fs->n)
        return LC_EDECODE;
    *ret = &fs->f[i];
    return 0;
}

static const char *fake_key(void *ctx, void *id)
{
    (void)ctx;
    return ((struct fake *)id)->key;
}

static int fake_verify(void *ctx, void *id, const uint8_t *d, size_t dl, const uint8_t *s,
                       size_t sl)
{
    (void)ctx, (void)id, (void)d, (void)dl, (void)s, (void)sl;
    return 0;
}

static int fake_satisfies(void *id, const Common__MSPPrincipal *p, void *ctx)
{
    (void)ctx;
    const struct fake *f = id;
    if (p->principal_classification != COMMON__MSPPRINCIPAL__CLASSIFICATION__ROLE)
        return LC_EPOLICY;
    Common__MSPRole *role = common__msprole__unpack(NULL, p->principal.len, p->principal.data);
    if (!role)
        return LC_EDECODE;
    int r = LC_EPOLICY;
    if (role->msp_identifier && strcmp(role->msp_identifier, f->mspid) == 0 &&
        (role->role == COMMON__MSPROLE__MSPROLE_TYPE__MEMBER ||
         role->role == COMMON__MSPROLE__MSPROLE_TYPE__PEER))
        r = 0;
    common__msprole__free_unpacked(role, NULL);
    return r;
}

static const struct lc_policy_identity_ops fake_ops = {
    .deserialize = fake_deserialize,
    .key = fake_key,
    .verify = fake_verify,
    .satisfies = fake_satisfies,
};

/* Whether the candidates usable[pick[0..k)] satisfy the policy. */
static int try_set(const struct lc_chconf *cc, const char *chaincode, struct fakes *fs,
                   const size_t *usable, const size_t *pick, size_t k, struct lc_errbuf *why)
{
    uint32_t idx[WC_SELECT_MAX_CANDIDATES];
    struct lc_signed_data sd[WC_SELECT_MAX_CANDIDATES];
    for (size_t i = 0; i < k; i++) {
        idx[i] = (uint32_t)usable[pick[i]];
        sd[i] = (struct lc_signed_data){
            .data = (const uint8_t *)"",
            .identity = (const uint8_t *)&idx[i],
            .identity_len = sizeof idx[i],
            .signature = (const uint8_t *)"",
        };
    }
    struct lc_policy_idset *set = NULL;
    int r = lc_policy_idset_new(sd, k, &fake_ops, fs, &set);
    if (r < 0)
        return r;
    r = lc_chconf_chaincode_policy_eval_idset(cc, chaincode, set, why);
    lc_policy_idset_free(set);
    return r;
}

int wc_select_policy(const struct lc_chconf *chconf, const char *chaincode,
                     const struct wc_endpoint *cands, size_t n, const bool *skip,
                     struct lc_errbuf *err, size_t *ret_idx, size_t *ret_n)
{
    if (!chconf)
        return lc_fail(err, LC_EINVALID, "policy selection needs the channel configuration");
    if (n > WC_SELECT_MAX_CANDIDATES)
        return lc_fail(err, LC_ETOOBIG, "policy selection: %zu endorsers, at most %d", n,
                       WC_SELECT_MAX_CANDIDATES);
    if (!lc_chconf_chaincode(chconf, chaincode))
        return lc_fail(err, LC_ENOTFOUND, "chaincode %.128s: not defined on channel %s", chaincode,
                       lc_chconf_channel_id(chconf));
    struct fake f[WC_SELECT_MAX_CANDIDATES];
    struct fakes fs = {.f = f, .n = n};
    size_t usable[WC_SELECT_MAX_CANDIDATES], n_usable = 0;
    char tried[200] = "";
    size_t tlen = 0;
    for (size_t i = 0; i < n; i++) {
        f[i].mspid = cands[i].mspid;
        snprintf(f[i].key, sizeof f[i].key, "endorser#%zu", i);
        if (!cands[i].mspid || (skip && skip[i]))
            continue;
        usable[n_usable++] = i;
        if (tlen < sizeof tried - 1) {
            int w = snprintf(tried + tlen, sizeof tried - tlen, "%s%s (%s)", tlen ? ", " : "",
                             cands[i].name ? cands[i].name : "?", cands[i].mspid);
            tlen = w < 0 ? tlen : tlen + (size_t)w;
            if (tlen >= sizeof tried)
                tlen = sizeof tried - 1;
        }
    }
    if (n_usable == 0)
        return lc_fail(err, LC_EPOLICY,
                       "chaincode %.128s: no endorser with a known MSP id is left to ask",
                       chaincode);

    /* combinations of k usable candidates, k = 1, 2, ..., in lexicographic order */
    size_t pick[WC_SELECT_MAX_CANDIDATES];
    size_t evaluations = 0;
    struct lc_errbuf why = {{0}};
    for (size_t k = 1; k <= n_usable; k++) {
        for (size_t i = 0; i < k; i++)
            pick[i] = i;
        for (;;) {
            if (++evaluations > MAX_EVALUATIONS)
                return lc_fail(err, LC_ETOOBIG, "chaincode %.128s: gave up after %d candidate sets",
                               chaincode, MAX_EVALUATIONS);
            int r = try_set(chconf, chaincode, &fs, usable, pick, k, &why);
            if (r == 0) {
                for (size_t i = 0; i < k; i++)
                    ret_idx[i] = usable[pick[i]];
                *ret_n = k;
                return 0;
            }
            if (r == -ENOMEM)
                return lc_fail(err, r, "policy selection: out of memory");
            if (r != LC_EPOLICY)
                return lc_fail(err, r, "%s", why.msg);
            /* next combination: bump the rightmost index that can move */
            size_t j = k;
            while (j > 0 && pick[j - 1] == n_usable - k + j - 1)
                j--;
            if (j == 0)
                break;
            pick[j - 1]++;
            for (size_t m = j; m < k; m++)
                pick[m] = pick[m - 1] + 1;
        }
    }
    return lc_fail(err, LC_EPOLICY, "%s; endorsers available: %s", why.msg, tried);
}
