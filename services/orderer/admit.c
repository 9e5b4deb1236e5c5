/* SPDX-License-Identifier: Apache-2.0 */
/* Admission checks shared by Broadcast and Deliver: envelope headers, the creator, policies. */
#include "admit.h"

#include <errno.h>
#include <string.h>

#include "libcommon/policy.h"
#include "libcommon/wire.h"

int orderer_env_parse(const uint8_t *payload, size_t len, struct orderer_env *e,
                      struct lc_errbuf *err)
{
    memset(e, 0, sizeof *e);
    if (len == 0)
        return lc_fail(err, LC_EINVALID, "envelope has no payload");
    int r = lc_wire_unpack(&common__payload__descriptor, payload, len,
                           (ProtobufCMessage **)&e->payload, err);
    if (r < 0)
        return r;
    if (!e->payload->header) {
        r = lc_fail(err, LC_EINVALID, "payload has no header");
        goto fail;
    }
    r = LC_WIRE_UNPACK(&common__channel_header__descriptor, e->payload->header->channel_header,
                       &e->chdr, err);
    if (r < 0)
        goto fail;
    r = LC_WIRE_UNPACK(&common__signature_header__descriptor, e->payload->header->signature_header,
                       &e->shdr, err);
    if (r < 0)
        goto fail;
    return 0;
fail:
    orderer_env_done(e);
    return r;
}

void orderer_env_done(struct orderer_env *e)
{
    if (e->shdr)
        common__signature_header__free_unpacked(e->shdr, NULL);
    if (e->chdr)
        common__channel_header__free_unpacked(e->chdr, NULL);
    if (e->payload)
        common__payload__free_unpacked(e->payload, NULL);
    memset(e, 0, sizeof *e);
}

/* ---- the signer ---------------------------------------------------------------------------- */

/* Policy callbacks over one identity whose signature was verified already: the policy module
 * then evaluates principals without verifying a second time. */
static int one_deserialize(void *ctx, const uint8_t *bytes, size_t len, void **ret_identity)
{
    *ret_identity = lc_identity_ref(ctx);
    return 0;
}

static const char *one_key(void *ctx, void *identity)
{
    return lc_identity_id(identity);
}

static int one_verify(void *ctx, void *identity, const uint8_t *data, size_t data_len,
                      const uint8_t *sig, size_t sig_len)
{
    return 0;
}

static int one_satisfies(void *identity, const Common__MSPPrincipal *principal, void *ctx)
{
    return lc_identity_satisfies_principal(identity, principal, NULL);
}

static void one_release(void *ctx, void *identity)
{
    lc_identity_unref(identity);
}

static const struct lc_policy_identity_ops one_ops = {
    .deserialize = one_deserialize,
    .key = one_key,
    .verify = one_verify,
    .satisfies = one_satisfies,
    .release = one_release,
};

int orderer_check_signer(const struct lc_chconf *c, const char *policy_path, const uint8_t *creator,
                         size_t creator_len, const uint8_t *data, size_t data_len,
                         const uint8_t *sig, size_t sig_len, time_t now,
                         struct lc_identity **ret_id, struct lc_errbuf *err)
{
    struct lc_identity *id = NULL;
    struct lc_policy_idset *set = NULL;
    int r;
    if (creator_len == 0)
        return lc_fail(err, LC_EINVALID, "creator is empty");
    r = lc_msp_mgr_deserialize(lc_chconf_msp_mgr(c), creator, creator_len, err, &id);
    if (r < 0) {
        lc_errbuf_prefix(err, "creator is not a valid identity: ");
        return r;
    }
    r = lc_identity_check_validity(id, now, err);
    if (r < 0) {
        lc_errbuf_prefix(err, "creator certificate: ");
        goto out;
    }
    r = lc_identity_verify(id, data, data_len, sig, sig_len, err);
    if (r < 0) {
        lc_errbuf_prefix(err, "signature by %s does not verify: ", lc_identity_mspid(id));
        goto out;
    }
    struct lc_signed_data sd = {data, data_len, creator, creator_len, sig, sig_len};
    r = lc_policy_idset_new(&sd, 1, &one_ops, id, &set);
    if (r < 0) {
        lc_fail(err, r, "out of memory");
        goto out;
    }
    r = lc_chconf_policy_eval_idset(c, policy_path, set, err);
    if (r < 0)
        goto out;
    if (ret_id) {
        *ret_id = id;
        id = NULL;
    }
out:
    lc_policy_idset_free(set);
    lc_identity_unref(id);
    return r;
}

/* ---- Broadcast's normal-message checks ----------------------------------------------------- */

Common__Status orderer_admit_normal(const struct lc_chconf *c, const struct orderer_env *e,
                                    const uint8_t *payload, size_t payload_len, const uint8_t *sig,
                                    size_t sig_len, time_t now, struct lc_errbuf *err)
{
    if (lc_chconf_consensus_state(c) != 0) {
        lc_fail(err, LC_EUNAVAIL,
                "channel %s is in maintenance mode: normal transactions are "
                "rejected",
                lc_chconf_channel_id(c));
        return COMMON__STATUS__SERVICE_UNAVAILABLE;
    }
    uint64_t max = lc_chconf_batch_absolute_max_bytes(c);
    if ((uint64_t)payload_len + sig_len > max) {
        lc_fail(err, LC_ETOOBIG,
                "message payload and signature are %zu bytes, over "
                "AbsoluteMaxBytes %llu",
                payload_len + sig_len, (unsigned long long)max);
        return COMMON__STATUS__BAD_REQUEST;
    }
    int r = orderer_check_signer(c, "/Channel/Writers", e->shdr->creator.data, e->shdr->creator.len,
                                 payload, payload_len, sig, sig_len, now, NULL, err);
    switch (r) {
    case 0:
        return COMMON__STATUS__SUCCESS;
    case LC_EEXPIRED:
        /* Fabric's expiration rule: "broadcast client identity expired" is a BAD_REQUEST. */
        return COMMON__STATUS__BAD_REQUEST;
    case -ENOMEM:
        return COMMON__STATUS__INTERNAL_SERVER_ERROR;
    default:
        return COMMON__STATUS__FORBIDDEN;
    }
}
