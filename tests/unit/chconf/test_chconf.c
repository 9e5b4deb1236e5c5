/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for chconf: config trees built by hand with real MSPs, every accessor and rejection. */
#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/common.pb-c.h"
#include "common/configtx.pb-c.h"
#include "common/configuration.pb-c.h"
#include "msp/identities.pb-c.h"
#include "msp/msp_config.pb-c.h"
#include "orderer/configuration.pb-c.h"
#include "peer/configuration.pb-c.h"
#include "peer/policy.pb-c.h"
#include "weft/config.pb-c.h"

#include "libcommon/chconf.h"
#include "libcommon/crypto.h"
#include "libcommon/msp.h"
#include "libcommon/policy.h"

#define DAY 86400
#define YEAR (365 * DAY)

/* ---- orgs with real certificates ----------------------------------------------------------- */

struct org {
    const char *mspid;
    struct lc_privkey *ca_key;
    struct lc_cert *ca;
    uint8_t *msp;
    size_t msp_len;
};

struct member {
    struct lc_privkey *key;
    uint8_t *ser;
    size_t ser_len;
};

static ProtobufCBinaryData pem_of(const struct lc_cert *c)
{
    char *pem;
    size_t len;
    ck_assert_int_eq(lc_cert_to_pem(c, &pem, &len), 0);
    return (ProtobufCBinaryData){.data = (uint8_t *)pem, .len = len};
}

/* A CA and the packed MSPConfig of an MSP with NodeOUs (client, peer, admin, orderer). */
static void org_init(struct org *o, const char *mspid)
{
    time_t now = time(NULL);
    struct lc_errbuf eb;
    o->mspid = mspid;
    ck_assert_int_eq(lc_privkey_generate(&o->ca_key), 0);
    struct lc_cert_template t = {.kind = LC_CERT_CA,
                                 .organization = mspid,
                                 .common_name = "ca",
                                 .not_before = now - YEAR,
                                 .not_after = now + 10 * YEAR};
    ck_assert_msg(lc_cert_issue(&t, lc_privkey_public(o->ca_key), NULL, o->ca_key, &eb, &o->ca) ==
                      0,
                  "%s", eb.msg);

    Msp__FabricMSPConfig fc = MSP__FABRIC_MSPCONFIG__INIT;
    Msp__FabricNodeOUs nous = MSP__FABRIC_NODE_OUS__INIT;
    Msp__FabricOUIdentifier client = MSP__FABRIC_OUIDENTIFIER__INIT,
                            peer = MSP__FABRIC_OUIDENTIFIER__INIT,
                            admin = MSP__FABRIC_OUIDENTIFIER__INIT,
                            orderer = MSP__FABRIC_OUIDENTIFIER__INIT;
    Msp__FabricCryptoConfig cc = MSP__FABRIC_CRYPTO_CONFIG__INIT;
    ProtobufCBinaryData root = pem_of(o->ca);
    fc.name = (char *)mspid;
    fc.n_root_certs = 1;
    fc.root_certs = &root;
    cc.signature_hash_family = "SHA2";
    cc.identity_identifier_hash_function = "SHA256";
    fc.crypto_config = &cc;
    nous.enable = true;
    client.organizational_unit_identifier = "client";
    peer.organizational_unit_identifier = "peer";
    admin.organizational_unit_identifier = "admin";
    orderer.organizational_unit_identifier = "orderer";
    nous.client_ou_identifier = &client;
    nous.peer_ou_identifier = &peer;
    nous.admin_ou_identifier = &admin;
    nous.orderer_ou_identifier = &orderer;
    fc.fabric_node_ous = &nous;
    size_t flen = msp__fabric_mspconfig__get_packed_size(&fc);
    uint8_t *fbuf = malloc(flen);
    ck_assert_ptr_nonnull(fbuf);
    msp__fabric_mspconfig__pack(&fc, fbuf);
    Msp__MSPConfig mc = MSP__MSPCONFIG__INIT;
    mc.config.data = fbuf;
    mc.config.len = flen;
    o->msp_len = msp__mspconfig__get_packed_size(&mc);
    o->msp = malloc(o->msp_len);
    ck_assert_ptr_nonnull(o->msp);
    msp__mspconfig__pack(&mc, o->msp);
    free(fbuf);
    free(root.data);
}

static void org_done(struct org *o)
{
    lc_cert_unref(o->ca);
    lc_privkey_free(o->ca_key);
    free(o->msp);
}

/* A signing identity of org with one role OU. */
static void member_init(struct member *m, const struct org *o, const char *ou, const char *cn)
{
    time_t now = time(NULL);
    struct lc_errbuf eb;
    struct lc_cert *cert = NULL;
    ck_assert_int_eq(lc_privkey_generate(&m->key), 0);
    const char *ous[1] = {ou};
    struct lc_cert_template t = {.kind = LC_CERT_SIGN,
                                 .organization = o->mspid,
                                 .ous = ous,
                                 .n_ous = 1,
                                 .common_name = cn,
                                 .not_before = now - DAY,
                                 .not_after = now + YEAR};
    ck_assert_msg(lc_cert_issue(&t, lc_privkey_public(m->key), o->ca, o->ca_key, &eb, &cert) == 0,
                  "%s", eb.msg);
    ProtobufCBinaryData pem = pem_of(cert);
    Msp__SerializedIdentity sid = MSP__SERIALIZED_IDENTITY__INIT;
    sid.mspid = (char *)o->mspid;
    sid.id_bytes = pem;
    m->ser_len = msp__serialized_identity__get_packed_size(&sid);
    m->ser = malloc(m->ser_len);
    ck_assert_ptr_nonnull(m->ser);
    msp__serialized_identity__pack(&sid, m->ser);
    free(pem.data);
    lc_cert_unref(cert);
}

static void member_done(struct member *m)
{
    lc_privkey_free(m->key);
    free(m->ser);
}

/* Signatures over one message by several members. */
#define MSG "the signed bytes"
struct sigs {
    uint8_t sig[8][LC_ECDSA_SIG_MAX];
    struct lc_signed_data sd[8];
    size_t n;
};

static void sign_by(struct sigs *s, const struct member *m)
{
    ck_assert_uint_lt(s->n, 8);
    size_t len;
    ck_assert_int_eq(lc_ecdsa_sign(m->key, MSG, strlen(MSG), s->sig[s->n], &len), 0);
    s->sd[s->n] = (struct lc_signed_data){.data = (const uint8_t *)MSG,
                                          .data_len = strlen(MSG),
                                          .identity = m->ser,
                                          .identity_len = m->ser_len,
                                          .signature = s->sig[s->n],
                                          .signature_len = len};
    s->n++;
}

/* ---- config tree builders (malloc'd, freed with common__config__free_unpacked) -------------- */

static Common__ConfigGroup *grp_new(void)
{
    Common__ConfigGroup *g = malloc(sizeof *g);
    ck_assert_ptr_nonnull(g);
    common__config_group__init(g);
    return g;
}

static uint8_t *pack_msg(const void *msg, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(msg);
    uint8_t *b = malloc(*len ? *len : 1);
    ck_assert_ptr_nonnull(b);
    protobuf_c_message_pack(msg, b);
    return b;
}

static void grp_add_group(Common__ConfigGroup *g, const char *key, Common__ConfigGroup *child)
{
    Common__ConfigGroup__GroupsEntry *e = malloc(sizeof *e);
    ck_assert_ptr_nonnull(e);
    common__config_group__groups_entry__init(e);
    e->key = strdup(key);
    e->value = child;
    g->groups = realloc(g->groups, (g->n_groups + 1) * sizeof *g->groups);
    g->groups[g->n_groups++] = e;
}

static Common__ConfigGroup *grp_child(Common__ConfigGroup *g, const char *key)
{
    for (size_t i = 0; i < g->n_groups; i++)
        if (strcmp(g->groups[i]->key, key) == 0)
            return g->groups[i]->value;
    ck_abort_msg("no group %s", key);
    return NULL;
}

/* Sets (adds or replaces) value key to the given bytes (taken over). */
static void grp_set_value_take(Common__ConfigGroup *g, const char *key, uint8_t *b, size_t len)
{
    for (size_t i = 0; i < g->n_values; i++) {
        if (strcmp(g->values[i]->key, key) == 0) {
            free(g->values[i]->value->value.data);
            g->values[i]->value->value.data = b;
            g->values[i]->value->value.len = len;
            return;
        }
    }
    Common__ConfigGroup__ValuesEntry *e = malloc(sizeof *e);
    Common__ConfigValue *v = malloc(sizeof *v);
    ck_assert_ptr_nonnull(e);
    ck_assert_ptr_nonnull(v);
    common__config_group__values_entry__init(e);
    common__config_value__init(v);
    v->value.data = b;
    v->value.len = len;
    e->key = strdup(key);
    e->value = v;
    g->values = realloc(g->values, (g->n_values + 1) * sizeof *g->values);
    g->values[g->n_values++] = e;
}

static void grp_set_value(Common__ConfigGroup *g, const char *key, const void *msg)
{
    size_t len;
    uint8_t *b = pack_msg(msg, &len);
    grp_set_value_take(g, key, b, len);
}

static void grp_set_value_bytes(Common__ConfigGroup *g, const char *key, const void *bytes,
                                size_t len)
{
    uint8_t *b = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(b);
    memcpy(b, bytes, len);
    grp_set_value_take(g, key, b, len);
}

static void grp_del_value(Common__ConfigGroup *g, const char *key)
{
    for (size_t i = 0; i < g->n_values; i++) {
        if (strcmp(g->values[i]->key, key) == 0) {
            protobuf_c_message_free_unpacked(&g->values[i]->base, NULL);
            g->values[i] = g->values[--g->n_values];
            return;
        }
    }
    ck_abort_msg("no value %s", key);
}

static void grp_del_group(Common__ConfigGroup *g, const char *key)
{
    for (size_t i = 0; i < g->n_groups; i++) {
        if (strcmp(g->groups[i]->key, key) == 0) {
            protobuf_c_message_free_unpacked(&g->groups[i]->base, NULL);
            g->groups[i] = g->groups[--g->n_groups];
            return;
        }
    }
    ck_abort_msg("no group %s", key);
}

static void grp_set_policy_bytes(Common__ConfigGroup *g, const char *key, int type,
                                 const void *bytes, size_t len)
{
    Common__Policy *p = malloc(sizeof *p);
    ck_assert_ptr_nonnull(p);
    common__policy__init(p);
    p->type = type;
    p->value.data = malloc(len ? len : 1);
    memcpy(p->value.data, bytes, len);
    p->value.len = len;
    for (size_t i = 0; i < g->n_policies; i++) {
        if (strcmp(g->policies[i]->key, key) == 0) {
            common__policy__free_unpacked(g->policies[i]->value->policy, NULL);
            g->policies[i]->value->policy = p;
            return;
        }
    }
    Common__ConfigGroup__PoliciesEntry *e = malloc(sizeof *e);
    Common__ConfigPolicy *cp = malloc(sizeof *cp);
    ck_assert_ptr_nonnull(e);
    ck_assert_ptr_nonnull(cp);
    common__config_group__policies_entry__init(e);
    common__config_policy__init(cp);
    cp->policy = p;
    cp->mod_policy = strdup("Admins");
    e->key = strdup(key);
    e->value = cp;
    g->policies = realloc(g->policies, (g->n_policies + 1) * sizeof *g->policies);
    g->policies[g->n_policies++] = e;
}

static void grp_set_sig(Common__ConfigGroup *g, const char *key, const char *text)
{
    uint8_t *b;
    size_t len;
    char *msg = NULL;
    ck_assert_msg(lc_policy_parse(text, &b, &len, &msg) == 0, "%s", msg);
    grp_set_policy_bytes(g, key, COMMON__POLICY__POLICY_TYPE__SIGNATURE, b, len);
    free(b);
}

static void grp_set_meta(Common__ConfigGroup *g, const char *key,
                         Common__ImplicitMetaPolicy__Rule rule, const char *sub)
{
    Common__ImplicitMetaPolicy imp = COMMON__IMPLICIT_META_POLICY__INIT;
    imp.rule = rule;
    imp.sub_policy = (char *)sub;
    size_t len;
    uint8_t *b = pack_msg(&imp, &len);
    grp_set_policy_bytes(g, key, COMMON__POLICY__POLICY_TYPE__IMPLICIT_META, b, len);
    free(b);
}

#define ANY COMMON__IMPLICIT_META_POLICY__RULE__ANY
#define ALL COMMON__IMPLICIT_META_POLICY__RULE__ALL
#define MAJORITY COMMON__IMPLICIT_META_POLICY__RULE__MAJORITY

static void set_capabilities(Common__ConfigGroup *g, const char *name)
{
    Common__Capability cap = COMMON__CAPABILITY__INIT;
    Common__Capabilities__CapabilitiesEntry e = COMMON__CAPABILITIES__CAPABILITIES_ENTRY__INIT;
    Common__Capabilities__CapabilitiesEntry *ep = &e;
    Common__Capabilities caps = COMMON__CAPABILITIES__INIT;
    e.key = (char *)name;
    e.value = &cap;
    caps.n_capabilities = 1;
    caps.capabilities = &ep;
    grp_set_value(g, "Capabilities", &caps);
}

static void set_addresses(Common__ConfigGroup *g, const char *key, const char *a, const char *b)
{
    char *addrs[2] = {(char *)a, (char *)b};
    Common__OrdererAddresses oa = COMMON__ORDERER_ADDRESSES__INIT;
    oa.n_addresses = b ? 2 : a ? 1 : 0;
    oa.addresses = addrs;
    grp_set_value(g, key, &oa);
}

static void set_batch_size(Common__ConfigGroup *g, uint32_t count, uint32_t abs, uint32_t pref)
{
    Orderer__BatchSize bs = ORDERER__BATCH_SIZE__INIT;
    bs.max_message_count = count;
    bs.absolute_max_bytes = abs;
    bs.preferred_max_bytes = pref;
    grp_set_value(g, "BatchSize", &bs);
}

static void set_batch_timeout(Common__ConfigGroup *g, const char *t)
{
    Orderer__BatchTimeout bt = ORDERER__BATCH_TIMEOUT__INIT;
    bt.timeout = (char *)t;
    grp_set_value(g, "BatchTimeout", &bt);
}

static void set_consensus(Common__ConfigGroup *g, const char *type, int state)
{
    Orderer__ConsensusType ct = ORDERER__CONSENSUS_TYPE__INIT;
    ct.type = (char *)type;
    ct.state = (Orderer__ConsensusType__State)state;
    static uint8_t md[] = {1, 2, 3};
    ct.metadata.data = md;
    ct.metadata.len = sizeof md;
    grp_set_value(g, "ConsensusType", &ct);
}

static void set_anchor(Common__ConfigGroup *g, const char *host, int port)
{
    Protos__AnchorPeer ap = PROTOS__ANCHOR_PEER__INIT;
    Protos__AnchorPeer *app = &ap;
    Protos__AnchorPeers aps = PROTOS__ANCHOR_PEERS__INIT;
    ap.host = (char *)host;
    ap.port = port;
    aps.n_anchor_peers = 1;
    aps.anchor_peers = &app;
    grp_set_value(g, "AnchorPeers", &aps);
}

/* Chaincode definitions: name, version, sequence, and a policy (NULL: none; text starting with
 * '/' or a letter and no '(': reference; otherwise signature policy text). */
struct ccdef {
    const char *name, *version;
    int64_t seq;
    const char *policy;
};

static void set_chaincodes(Common__ConfigGroup *app, const struct ccdef *defs, size_t n)
{
    Weft__ChaincodeDefinitions all = WEFT__CHAINCODE_DEFINITIONS__INIT;
    Weft__ChaincodeDefinition d[4], *dp[4];
    Protos__ApplicationPolicy ap[4];
    Common__SignaturePolicyEnvelope *envs[4] = {0};
    ck_assert_uint_le(n, 4);
    for (size_t i = 0; i < n; i++) {
        weft__chaincode_definition__init(&d[i]);
        protos__application_policy__init(&ap[i]);
        d[i].name = (char *)defs[i].name;
        d[i].version = (char *)defs[i].version;
        d[i].sequence = defs[i].seq;
        if (defs[i].policy && strchr(defs[i].policy, '(')) {
            ck_assert_int_eq(lc_policy_parse_envelope(defs[i].policy, &envs[i], NULL), 0);
            ap[i].type_case = PROTOS__APPLICATION_POLICY__TYPE_SIGNATURE_POLICY;
            ap[i].signature_policy = envs[i];
            d[i].endorsement_policy = &ap[i];
        } else if (defs[i].policy) {
            ap[i].type_case = PROTOS__APPLICATION_POLICY__TYPE_CHANNEL_CONFIG_POLICY_REFERENCE;
            ap[i].channel_config_policy_reference = (char *)defs[i].policy;
            d[i].endorsement_policy = &ap[i];
        }
        dp[i] = &d[i];
    }
    all.n_chaincodes = n;
    all.chaincodes = dp;
    grp_set_value(app, "WeftChaincodes", &all);
    for (size_t i = 0; i < n; i++)
        if (envs[i])
            common__signature_policy_envelope__free_unpacked(envs[i], NULL);
}

static Common__ConfigGroup *org_group(const struct org *o, bool orderer)
{
    Common__ConfigGroup *g = grp_new();
    grp_set_value_bytes(g, "MSP", o->msp, o->msp_len);
    char text[128];
    snprintf(text, sizeof text, "OR('%s.member')", o->mspid);
    grp_set_sig(g, "Readers", text);
    grp_set_sig(g, "Writers", text);
    snprintf(text, sizeof text, "OR('%s.admin')", o->mspid);
    grp_set_sig(g, "Admins", text);
    if (orderer) {
        set_addresses(g, "Endpoints", "orderer0.example.com:7050", NULL);
    } else {
        snprintf(text, sizeof text, "OR('%s.peer')", o->mspid);
        grp_set_sig(g, "Endorsement", text);
    }
    return g;
}

/* ---- the fixture: three orgs and configtxgen's tree ----------------------------------------- */

static struct org org1, org2, ord;
static struct member o1_peer, o1_peer2, o1_admin, o1_client, o2_peer, o2_admin, o2_client, ord_node;
static Common__Config *cfg;

static Common__ConfigGroup *root(void)
{
    return cfg->channel_group;
}

static Common__ConfigGroup *orderer_grp(void)
{
    return grp_child(root(), "Orderer");
}

static Common__ConfigGroup *app_grp(void)
{
    return grp_child(root(), "Application");
}

static void setup(void)
{
    org_init(&org1, "Org1MSP");
    org_init(&org2, "Org2MSP");
    org_init(&ord, "OrdererMSP");
    member_init(&o1_peer, &org1, "peer", "peer0.org1");
    member_init(&o1_peer2, &org1, "peer", "peer1.org1");
    member_init(&o1_admin, &org1, "admin", "Admin@org1");
    member_init(&o1_client, &org1, "client", "User1@org1");
    member_init(&o2_peer, &org2, "peer", "peer0.org2");
    member_init(&o2_admin, &org2, "admin", "Admin@org2");
    member_init(&o2_client, &org2, "client", "User1@org2");
    member_init(&ord_node, &ord, "orderer", "orderer0");

    cfg = malloc(sizeof *cfg);
    ck_assert_ptr_nonnull(cfg);
    common__config__init(cfg);
    cfg->channel_group = grp_new();
    Common__ConfigGroup *ch = cfg->channel_group;
    Common__HashingAlgorithm ha = COMMON__HASHING_ALGORITHM__INIT;
    ha.name = "SHA256";
    grp_set_value(ch, "HashingAlgorithm", &ha);
    Common__BlockDataHashingStructure bd = COMMON__BLOCK_DATA_HASHING_STRUCTURE__INIT;
    bd.width = UINT32_MAX;
    grp_set_value(ch, "BlockDataHashingStructure", &bd);
    set_addresses(ch, "OrdererAddresses", "orderer0.example.com:7050", "[::1]:7051");
    set_capabilities(ch, "V2_0");
    grp_set_meta(ch, "Readers", ANY, "Readers");
    grp_set_meta(ch, "Writers", ANY, "Writers");
    grp_set_meta(ch, "Admins", MAJORITY, "Admins");

    Common__ConfigGroup *o = grp_new();
    set_batch_size(o, 10, 99 * 1024 * 1024, 512 * 1024);
    set_batch_timeout(o, "2s");
    set_consensus(o, "solo", 0);
    set_capabilities(o, "V2_0");
    grp_set_meta(o, "Readers", ANY, "Readers");
    grp_set_meta(o, "Writers", ANY, "Writers");
    grp_set_meta(o, "Admins", MAJORITY, "Admins");
    grp_set_meta(o, "BlockValidation", ANY, "Writers");
    grp_add_group(o, "OrdererOrg", org_group(&ord, true));
    grp_add_group(ch, "Orderer", o);

    Common__ConfigGroup *a = grp_new();
    set_capabilities(a, "V2_0");
    grp_set_meta(a, "Readers", ANY, "Readers");
    grp_set_meta(a, "Writers", ANY, "Writers");
    grp_set_meta(a, "Admins", MAJORITY, "Admins");
    grp_set_meta(a, "Endorsement", MAJORITY, "Endorsement");
    grp_set_meta(a, "LifecycleEndorsement", MAJORITY, "Endorsement");
    Protos__APIResource res = PROTOS__APIRESOURCE__INIT;
    res.policy_ref = "/Channel/Application/Writers";
    Protos__ACLs__AclsEntry ae = PROTOS__ACLS__ACLS_ENTRY__INIT;
    Protos__ACLs__AclsEntry *aep = &ae;
    ae.key = "peer/Propose";
    ae.value = &res;
    Protos__ACLs acls = PROTOS__ACLS__INIT;
    acls.n_acls = 1;
    acls.acls = &aep;
    grp_set_value(a, "ACLs", &acls);
    const struct ccdef ccs[] = {
        {"basic", "1.0", 1, "/Channel/Application/Endorsement"},
        {"twopeers", "2.1-beta+x", 3, "AND('Org1MSP.peer', 'Org1MSP.peer')"},
        {"dflt", "v1", 1, NULL},
    };
    set_chaincodes(a, ccs, 3);
    Common__ConfigGroup *g1 = org_group(&org1, false);
    set_anchor(g1, "peer0.org1.example.com", 7051);
    grp_add_group(a, "Org1", g1);
    grp_add_group(a, "Org2", org_group(&org2, false));
    grp_add_group(ch, "Application", a);
}

static void teardown(void)
{
    common__config__free_unpacked(cfg, NULL);
    cfg = NULL;
    struct member *ms[] = {&o1_peer, &o1_peer2, &o1_admin,  &o1_client,
                           &o2_peer, &o2_admin, &o2_client, &ord_node};
    for (size_t i = 0; i < sizeof ms / sizeof *ms; i++)
        member_done(ms[i]);
    org_done(&org1);
    org_done(&org2);
    org_done(&ord);
}

/* ---- blocks --------------------------------------------------------------------------------- */

static uint8_t *block_bytes(int type, const char *channel, size_t n_data, size_t *ret_len)
{
    Common__ConfigEnvelope ce = COMMON__CONFIG_ENVELOPE__INIT;
    ce.config = cfg;
    Common__ChannelHeader chdr = COMMON__CHANNEL_HEADER__INIT;
    chdr.type = type;
    chdr.version = 1;
    chdr.channel_id = (char *)channel;
    Common__Header hdr = COMMON__HEADER__INIT;
    hdr.channel_header.data = pack_msg(&chdr, &hdr.channel_header.len);
    Common__Payload pl = COMMON__PAYLOAD__INIT;
    pl.header = &hdr;
    pl.data.data = pack_msg(&ce, &pl.data.len);
    Common__Envelope env = COMMON__ENVELOPE__INIT;
    env.payload.data = pack_msg(&pl, &env.payload.len);
    ProtobufCBinaryData data[2];
    size_t elen;
    uint8_t *eb = pack_msg(&env, &elen);
    for (size_t i = 0; i < n_data; i++)
        data[i] = (ProtobufCBinaryData){.data = eb, .len = elen};
    Common__BlockData bd = COMMON__BLOCK_DATA__INIT;
    bd.n_data = n_data;
    bd.data = data;
    Common__BlockHeader bh = COMMON__BLOCK_HEADER__INIT;
    Common__Block b = COMMON__BLOCK__INIT;
    b.header = &bh;
    b.data = &bd;
    uint8_t *out = pack_msg(&b, ret_len);
    free(eb);
    free(env.payload.data);
    free(pl.data.data);
    free(hdr.channel_header.data);
    return out;
}

static int load_block(struct lc_errbuf *err, struct lc_chconf **ret)
{
    size_t len;
    uint8_t *b = block_bytes(COMMON__HEADER_TYPE__CONFIG, "mychannel", 1, &len);
    int r = lc_chconf_from_block_bytes(b, len, 16, err, ret);
    free(b);
    return r;
}

static struct lc_chconf *load_ok(void)
{
    struct lc_chconf *c = NULL;
    struct lc_errbuf err = {{0}};
    int r = load_block(&err, &c);
    ck_assert_msg(r == 0, "load: %d %s", r, err.msg);
    return c;
}

/* Loading must fail with code and a message starting with prefix. */
static void assert_rejects(int code, const char *prefix)
{
    struct lc_chconf *c = (struct lc_chconf *)0x1;
    struct lc_errbuf err = {{0}};
    int r = load_block(&err, &c);
    ck_assert_msg(r == code, "want %d (%s), got %d: %s", code, prefix, r, err.msg);
    ck_assert_ptr_eq(c, (struct lc_chconf *)0x1);
    ck_assert_msg(strncmp(err.msg, prefix, strlen(prefix)) == 0, "want '%s...', got '%s'", prefix,
                  err.msg);
}

/* ---- accessors ------------------------------------------------------------------------------ */

START_TEST(genesis_block_accessors)
{
    cfg->sequence = 7;
    struct lc_chconf *c = load_ok();
    ck_assert_str_eq(lc_chconf_channel_id(c), "mychannel");
    ck_assert_uint_eq(lc_chconf_sequence(c), 7);

    ck_assert_uint_eq(lc_chconf_orderer_address_count(c), 2);
    ck_assert_str_eq(lc_chconf_orderer_address(c, 0), "orderer0.example.com:7050");
    ck_assert_str_eq(lc_chconf_orderer_address(c, 1), "[::1]:7051");
    ck_assert_ptr_null(lc_chconf_orderer_address(c, 2));
    ck_assert(lc_chconf_has_capability(c, LC_CHCONF_CHANNEL, "V2_0"));
    ck_assert(!lc_chconf_has_capability(c, LC_CHCONF_CHANNEL, "V1_4_3"));
    ck_assert(lc_chconf_has_capability(c, LC_CHCONF_ORDERER, "V2_0"));
    ck_assert_uint_eq(lc_chconf_capability_count(c, LC_CHCONF_APPLICATION), 1);
    ck_assert_str_eq(lc_chconf_capability(c, LC_CHCONF_APPLICATION, 0), "V2_0");

    ck_assert_uint_eq(lc_chconf_batch_max_message_count(c), 10);
    ck_assert_uint_eq(lc_chconf_batch_absolute_max_bytes(c), 99 * 1024 * 1024);
    ck_assert_uint_eq(lc_chconf_batch_preferred_max_bytes(c), 512 * 1024);
    ck_assert_uint_eq(lc_chconf_batch_timeout_ns(c), 2000000000ull);
    ck_assert_str_eq(lc_chconf_consensus_type(c), "solo");
    ck_assert_int_eq(lc_chconf_consensus_state(c), 0);
    size_t mdlen;
    const uint8_t *md = lc_chconf_consensus_metadata(c, &mdlen);
    ck_assert_uint_eq(mdlen, 3);
    ck_assert_int_eq(md[2], 3);
    ck_assert_uint_eq(lc_chconf_kafka_broker_count(c), 0);
    ck_assert_uint_eq(lc_chconf_max_channels(c), 0);

    ck_assert_uint_eq(lc_chconf_orderer_org_count(c), 1);
    ck_assert_str_eq(lc_chconf_orderer_org_name(c, 0), "OrdererOrg");
    ck_assert_str_eq(lc_chconf_orderer_org_mspid(c, 0), "OrdererMSP");
    ck_assert_uint_eq(lc_chconf_orderer_org_endpoint_count(c, 0), 1);
    ck_assert_str_eq(lc_chconf_orderer_org_endpoint(c, 0, 0), "orderer0.example.com:7050");
    ck_assert_ptr_null(lc_chconf_orderer_org_endpoint(c, 0, 1));

    ck_assert(lc_chconf_has_application(c));
    ck_assert_uint_eq(lc_chconf_app_org_count(c), 2);
    ck_assert_str_eq(lc_chconf_app_org_name(c, 0), "Org1");
    ck_assert_str_eq(lc_chconf_app_org_mspid(c, 1), "Org2MSP");
    ck_assert_ptr_null(lc_chconf_app_org_name(c, 2));
    ck_assert_uint_eq(lc_chconf_anchor_peer_count(c, 0), 1);
    ck_assert_uint_eq(lc_chconf_anchor_peer_count(c, 1), 0);
    int port = 0;
    ck_assert_str_eq(lc_chconf_anchor_peer(c, 0, 0, &port), "peer0.org1.example.com");
    ck_assert_int_eq(port, 7051);
    ck_assert_ptr_null(lc_chconf_anchor_peer(c, 0, 1, &port));
    ck_assert_str_eq(lc_chconf_acl(c, "peer/Propose"), "/Channel/Application/Writers");
    ck_assert_ptr_null(lc_chconf_acl(c, "event/Block"));

    struct lc_msp_mgr *mgr = lc_chconf_msp_mgr(c);
    ck_assert_uint_eq(lc_msp_mgr_count(mgr), 3);
    ck_assert_ptr_nonnull(lc_msp_mgr_get(mgr, "Org1MSP"));
    ck_assert_ptr_nonnull(lc_msp_mgr_get(mgr, "OrdererMSP"));
    lc_chconf_free(c);
    lc_chconf_free(NULL);
}
END_TEST

START_TEST(policy_tree_paths)
{
    struct lc_chconf *c = load_ok();
    const char *want[] = {"/Channel/Readers",
                          "/Channel/Writers",
                          "/Channel/Admins",
                          "/Channel/Orderer/BlockValidation",
                          "/Channel/Orderer/OrdererOrg/Admins",
                          "/Channel/Application/Endorsement",
                          "/Channel/Application/LifecycleEndorsement",
                          "/Channel/Application/Org1/Endorsement",
                          "/Channel/Application/Org2/Writers"};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        ck_assert_msg(lc_chconf_policy_exists(c, want[i]), "%s", want[i]);
    /* 3 root + 4 orderer + 3 orderer org + 5 application + 2 x 4 org */
    ck_assert_uint_eq(lc_chconf_policy_count(c), 23);
    ck_assert_str_eq(lc_chconf_policy_path(c, 0), "/Channel/Readers");
    ck_assert_ptr_null(lc_chconf_policy_path(c, 23));
    ck_assert(lc_chconf_policy_exists(c, "Application/Writers"));
    ck_assert(!lc_chconf_policy_exists(c, "/Channel/Application/Nope"));
    ck_assert(!lc_chconf_policy_exists(c, "/Application/Writers"));
    lc_chconf_free(c);
}
END_TEST

START_TEST(chaincode_definitions)
{
    struct lc_chconf *c = load_ok();
    ck_assert_uint_eq(lc_chconf_chaincode_count(c), 3);
    const Weft__ChaincodeDefinition *d = lc_chconf_chaincode(c, "twopeers");
    ck_assert_ptr_nonnull(d);
    ck_assert_str_eq(d->version, "2.1-beta+x");
    ck_assert_int_eq(d->sequence, 3);
    ck_assert_int_eq(d->endorsement_policy->type_case,
                     PROTOS__APPLICATION_POLICY__TYPE_SIGNATURE_POLICY);
    /* No policy given: Fabric's default reference. */
    d = lc_chconf_chaincode(c, "dflt");
    ck_assert_int_eq(d->endorsement_policy->type_case,
                     PROTOS__APPLICATION_POLICY__TYPE_CHANNEL_CONFIG_POLICY_REFERENCE);
    ck_assert_str_eq(d->endorsement_policy->channel_config_policy_reference,
                     "/Channel/Application/Endorsement");
    ck_assert_str_eq(lc_chconf_chaincode_at(c, 0)->name, "basic");
    ck_assert_ptr_null(lc_chconf_chaincode_at(c, 3));
    ck_assert_ptr_null(lc_chconf_chaincode(c, "nope"));
    lc_chconf_free(c);
}
END_TEST

START_TEST(decoded_block_and_config_entry_points)
{
    size_t len;
    uint8_t *b = block_bytes(COMMON__HEADER_TYPE__CONFIG, "ch.1-x", 1, &len);
    Common__Block *blk = common__block__unpack(NULL, len, b);
    ck_assert_ptr_nonnull(blk);
    struct lc_chconf *c = NULL;
    ck_assert_int_eq(lc_chconf_from_block(blk, 0, NULL, &c), 0);
    ck_assert_str_eq(lc_chconf_channel_id(c), "ch.1-x");
    lc_chconf_free(c);
    common__block__free_unpacked(blk, NULL);
    free(b);
    ck_assert_int_eq(lc_chconf_from_config("other", cfg, 0, NULL, &c), 0);
    ck_assert_str_eq(lc_chconf_channel_id(c), "other");
    lc_chconf_free(c);
}
END_TEST

START_TEST(kafka_orderer_values)
{
    set_consensus(orderer_grp(), "kafka", 1);
    char *brokers[] = {"kafka0:9092", "kafka1:9092"};
    Orderer__KafkaBrokers kb = ORDERER__KAFKA_BROKERS__INIT;
    kb.n_brokers = 2;
    kb.brokers = brokers;
    grp_set_value(orderer_grp(), "KafkaBrokers", &kb);
    Orderer__ChannelRestrictions cr = ORDERER__CHANNEL_RESTRICTIONS__INIT;
    cr.max_count = 5;
    grp_set_value(orderer_grp(), "ChannelRestrictions", &cr);
    set_batch_timeout(orderer_grp(), "1m30s");
    struct lc_chconf *c = load_ok();
    ck_assert_str_eq(lc_chconf_consensus_type(c), "kafka");
    ck_assert_int_eq(lc_chconf_consensus_state(c), 1);
    ck_assert_uint_eq(lc_chconf_kafka_broker_count(c), 2);
    ck_assert_str_eq(lc_chconf_kafka_broker(c, 1), "kafka1:9092");
    ck_assert_ptr_null(lc_chconf_kafka_broker(c, 2));
    ck_assert_uint_eq(lc_chconf_max_channels(c), 5);
    ck_assert_uint_eq(lc_chconf_batch_timeout_ns(c), 90000000000ull);
    lc_chconf_free(c);
}
END_TEST

START_TEST(no_application_group)
{
    grp_del_group(root(), "Application");
    struct lc_chconf *c = load_ok();
    ck_assert(!lc_chconf_has_application(c));
    ck_assert_uint_eq(lc_chconf_app_org_count(c), 0);
    ck_assert_uint_eq(lc_chconf_chaincode_count(c), 0);
    ck_assert_uint_eq(lc_msp_mgr_count(lc_chconf_msp_mgr(c)), 1);
    lc_chconf_free(c);
}
END_TEST

START_TEST(same_msp_in_two_orgs_with_same_bytes)
{
    grp_add_group(orderer_grp(), "Org1Orderers", org_group(&org1, true));
    struct lc_chconf *c = load_ok();
    ck_assert_uint_eq(lc_msp_mgr_count(lc_chconf_msp_mgr(c)), 3);
    ck_assert_str_eq(lc_chconf_orderer_org_mspid(c, 1), "Org1MSP");
    lc_chconf_free(c);
}
END_TEST

/* ---- block-level rejections ----------------------------------------------------------------- */

START_TEST(rejects_non_config_block)
{
    size_t len;
    struct lc_chconf *c = NULL;
    struct lc_errbuf err;
    uint8_t *b = block_bytes(COMMON__HEADER_TYPE__ENDORSER_TRANSACTION, "mychannel", 1, &len);
    ck_assert_int_eq(lc_chconf_from_block_bytes(b, len, 0, &err, &c), LC_EINVALID);
    ck_assert_str_eq(err.msg, "block: not a config block (channel header type 3)");
    free(b);
    b = block_bytes(COMMON__HEADER_TYPE__CONFIG, "mychannel", 2, &len);
    ck_assert_int_eq(lc_chconf_from_block_bytes(b, len, 0, &err, &c), LC_EINVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "found 2"));
    free(b);
    b = block_bytes(COMMON__HEADER_TYPE__CONFIG, "mychannel", 0, &len);
    ck_assert_int_eq(lc_chconf_from_block_bytes(b, len, 0, &err, &c), LC_EINVALID);
    ck_assert_str_eq(err.msg, "block: no data");
    free(b);
    const uint8_t junk[] = {0x0a, 0x10, 0x01};
    ck_assert_int_eq(lc_chconf_from_block_bytes(junk, sizeof junk, 0, &err, &c), LC_EDECODE);
    ck_assert_str_eq(err.msg, "block: does not decode");
    ck_assert_ptr_null(c);
    ck_assert_int_eq(lc_chconf_from_block(NULL, 0, &err, &c), LC_EINVALID);
}
END_TEST

START_TEST(rejects_undecodable_layers)
{
    /* A block whose data[0] is not an Envelope. */
    uint8_t bad[] = {0xff, 0xff};
    ProtobufCBinaryData d = {.data = bad, .len = sizeof bad};
    Common__BlockData bd = COMMON__BLOCK_DATA__INIT;
    bd.n_data = 1;
    bd.data = &d;
    Common__Block b = COMMON__BLOCK__INIT;
    b.data = &bd;
    struct lc_chconf *c = NULL;
    struct lc_errbuf err;
    ck_assert_int_eq(lc_chconf_from_block(&b, 0, &err, &c), LC_EDECODE);
    ck_assert_str_eq(err.msg, "block: data[0] is not an Envelope");
    /* An Envelope whose payload has no header. */
    Common__Payload pl = COMMON__PAYLOAD__INIT;
    Common__Envelope env = COMMON__ENVELOPE__INIT;
    env.payload.data = pack_msg(&pl, &env.payload.len);
    d.data = pack_msg(&env, &d.len);
    ck_assert_int_eq(lc_chconf_from_block(&b, 0, &err, &c), LC_EINVALID);
    ck_assert_str_eq(err.msg, "block: payload has no header");
    free(d.data);
    free(env.payload.data);
    ck_assert_ptr_null(c);
}
END_TEST

START_TEST(rejects_bad_channel_id)
{
    struct lc_chconf *c = NULL;
    struct lc_errbuf err;
    ck_assert_int_eq(lc_chconf_from_config("MyChannel", cfg, 0, &err, &c), LC_EINVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "channel id 'MyChannel'"));
    ck_assert_int_eq(lc_chconf_from_config("", cfg, 0, &err, &c), LC_EINVALID);
    ck_assert_int_eq(lc_chconf_from_config("a/b", cfg, 0, &err, &c), LC_EINVALID);
    common__config_group__free_unpacked(cfg->channel_group, NULL);
    cfg->channel_group = NULL;
    ck_assert_int_eq(lc_chconf_from_config("ok", cfg, 0, &err, &c), LC_EINVALID);
    ck_assert_str_eq(err.msg, "/Channel: missing");
    ck_assert_ptr_null(c);
}
END_TEST

/* ---- tree rejections ------------------------------------------------------------------------ */

START_TEST(rejects_missing_orderer_group)
{
    grp_del_group(root(), "Orderer");
    assert_rejects(LC_EINVALID, "/Channel/Orderer: missing");
}
END_TEST

START_TEST(rejects_unknown_groups)
{
    grp_add_group(root(), "Consortiums", grp_new());
    assert_rejects(LC_EINVALID, "/Channel/Consortiums: group not allowed here");
}
END_TEST

START_TEST(rejects_org_sub_groups)
{
    grp_add_group(grp_child(app_grp(), "Org2"), "Inner", grp_new());
    assert_rejects(LC_EINVALID, "/Channel/Application/Org2: an org group has no sub-groups");
}
END_TEST

START_TEST(rejects_bad_names_and_duplicates)
{
    grp_add_group(app_grp(), "Org_3", grp_new());
    assert_rejects(LC_EINVALID, "/Channel/Application: invalid group name 'Org_3'");
    grp_del_group(app_grp(), "Org_3");
    grp_add_group(app_grp(), "Org1", grp_new());
    assert_rejects(LC_EINVALID, "/Channel/Application: group 'Org1' appears twice");
}
END_TEST

START_TEST(rejects_duplicate_policy_and_value_keys)
{
    /* Append a second "Readers" entry by hand (grp_set_* would replace). */
    Common__ConfigGroup *o = orderer_grp();
    grp_set_meta(o, "Readers2", ANY, "Readers");
    free(o->policies[o->n_policies - 1]->key);
    o->policies[o->n_policies - 1]->key = strdup("Readers");
    assert_rejects(LC_EINVALID, "/Channel/Orderer: policy 'Readers' appears twice");
    free(o->policies[o->n_policies - 1]->key);
    o->policies[o->n_policies - 1]->key = strdup("Readers2");
    set_batch_timeout(o, "1s");
    grp_set_value_bytes(o, "BatchTimeout2", "", 0);
    free(o->values[o->n_values - 1]->key);
    o->values[o->n_values - 1]->key = strdup("BatchTimeout");
    assert_rejects(LC_EINVALID, "/Channel/Orderer: value 'BatchTimeout' appears twice");
}
END_TEST

START_TEST(rejects_unknown_values)
{
    grp_set_value_bytes(app_grp(), "Colour", "x", 1);
    assert_rejects(LC_EINVALID, "/Channel/Application: unknown value 'Colour'");
    grp_del_value(app_grp(), "Colour");
    grp_set_value_bytes(grp_child(app_grp(), "Org1"), "Endpoints", "", 0);
    assert_rejects(LC_EINVALID, "/Channel/Application/Org1: unknown value 'Endpoints'");
}
END_TEST

START_TEST(rejects_root_values)
{
    Common__HashingAlgorithm ha = COMMON__HASHING_ALGORITHM__INIT;
    ha.name = "SHA3_256";
    grp_set_value(root(), "HashingAlgorithm", &ha);
    assert_rejects(LC_EINVALID, "/Channel/HashingAlgorithm: 'SHA3_256' is not SHA256");
    grp_del_value(root(), "HashingAlgorithm");
    assert_rejects(LC_EINVALID, "/Channel/HashingAlgorithm: missing");
    ha.name = "SHA256";
    grp_set_value(root(), "HashingAlgorithm", &ha);
    Common__BlockDataHashingStructure bd = COMMON__BLOCK_DATA_HASHING_STRUCTURE__INIT;
    bd.width = 4;
    grp_set_value(root(), "BlockDataHashingStructure", &bd);
    assert_rejects(LC_EINVALID, "/Channel/BlockDataHashingStructure: width 4");
    bd.width = UINT32_MAX;
    grp_set_value(root(), "BlockDataHashingStructure", &bd);
    set_addresses(root(), "OrdererAddresses", "no-port", NULL);
    assert_rejects(LC_EINVALID, "/Channel/OrdererAddresses: address 'no-port' is not host:port");
    set_addresses(root(), "OrdererAddresses", "host:70000", NULL);
    assert_rejects(LC_EINVALID, "/Channel/OrdererAddresses: address 'host:70000'");
    set_addresses(root(), "OrdererAddresses", "host:7050", NULL);
    grp_set_value_bytes(root(), "OrdererAddresses", "\x0a\x05", 2);
    assert_rejects(LC_EDECODE, "/Channel/OrdererAddresses: does not decode");
}
END_TEST

START_TEST(rejects_unknown_capabilities)
{
    set_capabilities(orderer_grp(), "V3_0");
    assert_rejects(LC_EINVALID,
                   "/Channel/Orderer/Capabilities: capability 'V3_0' is not supported");
    set_capabilities(orderer_grp(), "V1_4_2");
    set_capabilities(app_grp(), "V1_4_3"); /* a channel capability, not an application one */
    assert_rejects(LC_EINVALID, "/Channel/Application/Capabilities: capability 'V1_4_3'");
}
END_TEST

/* ---- orderer value rejections ---------------------------------------------------------------- */

START_TEST(rejects_bad_batch_size)
{
    set_batch_size(orderer_grp(), 0, 100, 10);
    assert_rejects(LC_EINVALID, "/Channel/Orderer/BatchSize: max_message_count is 0");
    set_batch_size(orderer_grp(), 10, 0, 10);
    assert_rejects(LC_EINVALID, "/Channel/Orderer/BatchSize: absolute_max_bytes is 0");
    set_batch_size(orderer_grp(), 10, 100, 0);
    assert_rejects(LC_EINVALID, "/Channel/Orderer/BatchSize: preferred_max_bytes is 0");
    set_batch_size(orderer_grp(), 10, 100, 101);
    assert_rejects(LC_EINVALID, "/Channel/Orderer/BatchSize: preferred_max_bytes 101 is greater "
                                "than absolute_max_bytes 100");
    grp_del_value(orderer_grp(), "BatchSize");
    assert_rejects(LC_EINVALID, "/Channel/Orderer/BatchSize: missing");
}
END_TEST

START_TEST(rejects_bad_batch_timeout)
{
    const char *bad[] = {"2x", "", "5", "s", "1..2s", "0s", "0", "-1s", "9999999999h"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        set_batch_timeout(orderer_grp(), bad[i]);
        assert_rejects(LC_EINVALID, "/Channel/Orderer/BatchTimeout: ");
    }
    set_batch_timeout(orderer_grp(), "0s");
    assert_rejects(LC_EINVALID, "/Channel/Orderer/BatchTimeout: timeout '0s' is not positive");
    set_batch_timeout(orderer_grp(), "2d");
    assert_rejects(LC_EINVALID, "/Channel/Orderer/BatchTimeout: unknown unit 'd' in duration '2d'");
    grp_del_value(orderer_grp(), "BatchTimeout");
    assert_rejects(LC_EINVALID, "/Channel/Orderer/BatchTimeout: missing");
}
END_TEST

START_TEST(rejects_bad_consensus_type)
{
    set_consensus(orderer_grp(), "etcdraft", 0);
    assert_rejects(LC_EINVALID, "/Channel/Orderer/ConsensusType: type 'etcdraft' is not supported");
    set_consensus(orderer_grp(), "solo", 2);
    assert_rejects(LC_EINVALID, "/Channel/Orderer/ConsensusType: state 2 unknown");
    grp_del_value(orderer_grp(), "ConsensusType");
    assert_rejects(LC_EINVALID, "/Channel/Orderer/ConsensusType: missing");
}
END_TEST

START_TEST(rejects_bad_kafka_brokers)
{
    set_consensus(orderer_grp(), "kafka", 0);
    assert_rejects(LC_EINVALID, "/Channel/Orderer/KafkaBrokers: missing (consensus type is kafka)");
    Orderer__KafkaBrokers kb = ORDERER__KAFKA_BROKERS__INIT;
    grp_set_value(orderer_grp(), "KafkaBrokers", &kb);
    assert_rejects(LC_EINVALID, "/Channel/Orderer/KafkaBrokers: no brokers");
    char *brokers[] = {"kafka0"};
    kb.n_brokers = 1;
    kb.brokers = brokers;
    grp_set_value(orderer_grp(), "KafkaBrokers", &kb);
    assert_rejects(LC_EINVALID, "/Channel/Orderer/KafkaBrokers: broker 'kafka0' is not host:port");
}
END_TEST

/* ---- org rejections ---------------------------------------------------------------------------
 */

START_TEST(rejects_broken_msp_value)
{
    Common__ConfigGroup *g = grp_child(app_grp(), "Org2");
    grp_set_value_bytes(g, "MSP", "\x0a\x03\x01", 3);
    assert_rejects(LC_EDECODE, "/Channel/Application/Org2/MSP: ");
    /* MSPConfig of type 1 (not FABRIC). */
    Msp__MSPConfig mc = MSP__MSPCONFIG__INIT;
    mc.type = 1;
    grp_set_value(g, "MSP", &mc);
    assert_rejects(LC_EINVALID, "/Channel/Application/Org2/MSP: ");
    grp_del_value(g, "MSP");
    assert_rejects(LC_EINVALID, "/Channel/Application/Org2/MSP: missing");
}
END_TEST

START_TEST(rejects_same_msp_id_with_other_bytes)
{
    /* A second Org1MSP with another CA. */
    struct org other;
    org_init(&other, "Org1MSP");
    grp_add_group(orderer_grp(), "Impostor", org_group(&other, true));
    /* The Orderer group comes first in the tree, so the impostor is seen first. */
    assert_rejects(LC_EINVALID, "/Channel/Application/Org1/MSP: MSP 'Org1MSP' is already "
                                "defined differently");
    org_done(&other);
}
END_TEST

START_TEST(rejects_bad_anchor_peers)
{
    Common__ConfigGroup *g = grp_child(app_grp(), "Org1");
    set_anchor(g, "peer0", 0);
    assert_rejects(LC_EINVALID,
                   "/Channel/Application/Org1/AnchorPeers: anchor peer peer0 has port 0");
    set_anchor(g, "", 7051);
    assert_rejects(LC_EINVALID, "/Channel/Application/Org1/AnchorPeers: anchor peer 0 has no host");
}
END_TEST

START_TEST(rejects_bad_acls)
{
    Protos__ACLs__AclsEntry ae = PROTOS__ACLS__ACLS_ENTRY__INIT;
    Protos__ACLs__AclsEntry *aep = &ae;
    ae.key = "peer/Propose";
    Protos__ACLs acls = PROTOS__ACLS__INIT;
    acls.n_acls = 1;
    acls.acls = &aep;
    grp_set_value(app_grp(), "ACLs", &acls);
    assert_rejects(LC_EINVALID, "/Channel/Application/ACLs: resource 'peer/Propose' has no policy");
}
END_TEST

/* ---- policy rejections ------------------------------------------------------------------------
 */

START_TEST(rejects_unknown_policy_type)
{
    Common__ConfigGroup *g = grp_child(app_grp(), "Org1");
    grp_set_policy_bytes(g, "Writers", COMMON__POLICY__POLICY_TYPE__MSP, "", 0);
    assert_rejects(LC_EINVALID, "/Channel/Application/Org1/Writers: unknown policy type 2");
    grp_set_policy_bytes(g, "Writers", 0, "", 0);
    assert_rejects(LC_EINVALID, "/Channel/Application/Org1/Writers: unknown policy type 0");
}
END_TEST

START_TEST(rejects_broken_policies)
{
    Common__ConfigGroup *g = grp_child(app_grp(), "Org1");
    grp_set_policy_bytes(g, "Writers", COMMON__POLICY__POLICY_TYPE__SIGNATURE, "\x12\x09", 2);
    assert_rejects(LC_EDECODE,
                   "/Channel/Application/Org1/Writers: SignaturePolicyEnvelope does not decode");
    /* signed_by 1 with one identity */
    const uint8_t oob[] = {0x12, 0x08, 0x12, 0x06, 0x08, 0x01, 0x12, 0x02, 0x08,
                           0x01, 0x1a, 0x05, 0x12, 0x03, 0x0a, 0x01, 0x41};
    grp_set_policy_bytes(g, "Writers", COMMON__POLICY__POLICY_TYPE__SIGNATURE, oob, sizeof oob);
    assert_rejects(LC_EINVALID, "/Channel/Application/Org1/Writers: signature policy: signed_by 1 "
                                "out of range");
    grp_set_sig(g, "Writers", "OR('Org1MSP.member')");
    grp_set_policy_bytes(g, "Readers", COMMON__POLICY__POLICY_TYPE__IMPLICIT_META, "\x10\x05", 2);
    assert_rejects(LC_EINVALID, "/Channel/Application/Org1/Readers: implicit meta policy: rule 5");
    /* A ConfigPolicy without a Policy. */
    common__policy__free_unpacked(g->policies[0]->value->policy, NULL);
    g->policies[0]->value->policy = NULL;
    char want[128];
    snprintf(want, sizeof want, "/Channel/Application/Org1/%s: no policy", g->policies[0]->key);
    assert_rejects(LC_EINVALID, want);
}
END_TEST

START_TEST(rejects_bad_chaincode_definitions)
{
    struct ccdef d[2] = {{"basic", "1.0", 1, "/Channel/Application/Nope"}};
    set_chaincodes(app_grp(), d, 1);
    assert_rejects(LC_EINVALID, "/Channel/Application/WeftChaincodes: chaincode 'basic': "
                                "endorsement policy reference '/Channel/Application/Nope' not "
                                "found");
    d[0] = (struct ccdef){"bad name", "1.0", 1, NULL};
    set_chaincodes(app_grp(), d, 1);
    assert_rejects(LC_EINVALID,
                   "/Channel/Application/WeftChaincodes: chaincode 0: invalid name 'bad name'");
    d[0] = (struct ccdef){"a-", "1.0", 1, NULL};
    set_chaincodes(app_grp(), d, 1);
    assert_rejects(LC_EINVALID, "/Channel/Application/WeftChaincodes: chaincode 0: invalid name");
    d[0] = (struct ccdef){"cc", "", 1, NULL};
    set_chaincodes(app_grp(), d, 1);
    assert_rejects(LC_EINVALID,
                   "/Channel/Application/WeftChaincodes: chaincode 'cc': invalid version ''");
    d[0] = (struct ccdef){"cc", "1", 0, NULL};
    set_chaincodes(app_grp(), d, 1);
    assert_rejects(LC_EINVALID, "/Channel/Application/WeftChaincodes: chaincode 'cc': sequence 0");
    d[0] = (struct ccdef){"cc", "1", 1, NULL};
    d[1] = (struct ccdef){"cc", "2", 1, NULL};
    set_chaincodes(app_grp(), d, 2);
    assert_rejects(LC_EINVALID,
                   "/Channel/Application/WeftChaincodes: chaincode 'cc' defined twice");
    grp_set_value_bytes(app_grp(), "WeftChaincodes", "\x0a\x08", 2);
    assert_rejects(LC_EDECODE, "/Channel/Application/WeftChaincodes: does not decode");
}
END_TEST

/* ---- evaluation ------------------------------------------------------------------------------ */

static int eval(struct lc_chconf *c, const char *path, struct sigs *s, struct lc_errbuf *err)
{
    return lc_chconf_policy_eval(c, path, s->sd, s->n, err);
}

START_TEST(eval_signature_policies)
{
    struct lc_chconf *c = load_ok();
    struct lc_errbuf err;
    struct sigs s = {0};
    sign_by(&s, &o1_client);
    ck_assert_int_eq(eval(c, "/Channel/Application/Org1/Writers", &s, &err), 0);
    ck_assert_int_eq(eval(c, "/Channel/Application/Org2/Writers", &s, &err), LC_EPOLICY);
    ck_assert_str_eq(err.msg, "policy /Channel/Application/Org2/Writers: signature policy not "
                              "satisfied by 1 identities");
    ck_assert_int_eq(eval(c, "/Channel/Application/Org1/Admins", &s, &err), LC_EPOLICY);
    ck_assert_int_eq(eval(c, "/Channel/Application/Org1/Endorsement", &s, &err), LC_EPOLICY);
    struct sigs p = {0};
    sign_by(&p, &o1_peer);
    ck_assert_int_eq(eval(c, "/Channel/Application/Org1/Endorsement", &p, &err), 0);
    lc_chconf_free(c);
}
END_TEST

START_TEST(eval_implicit_meta_any)
{
    struct lc_chconf *c = load_ok();
    struct lc_errbuf err;
    struct sigs s = {0};
    ck_assert_int_eq(eval(c, "/Channel/Application/Writers", &s, &err), LC_EPOLICY);
    ck_assert_str_eq(err.msg, "policy /Channel/Application/Writers: implicit meta policy ANY "
                              "Writers: 0 of 2 sub-policies satisfied, 1 needed");
    sign_by(&s, &o2_client);
    ck_assert_int_eq(eval(c, "/Channel/Application/Writers", &s, &err), 0);
    /* Two levels: /Channel/Writers → Application/Writers → Org2/Writers. */
    ck_assert_int_eq(eval(c, "/Channel/Writers", &s, &err), 0);
    ck_assert_int_eq(eval(c, "Writers", &s, &err), 0);
    ck_assert_int_eq(eval(c, "/Channel/Orderer/BlockValidation", &s, &err), LC_EPOLICY);
    struct sigs o = {0};
    sign_by(&o, &ord_node);
    ck_assert_int_eq(eval(c, "/Channel/Orderer/BlockValidation", &o, &err), 0);
    lc_chconf_free(c);
}
END_TEST

START_TEST(eval_implicit_meta_majority_and_all)
{
    grp_set_meta(app_grp(), "AllReaders", ALL, "Readers");
    struct lc_chconf *c = load_ok();
    struct lc_errbuf err;
    struct sigs s = {0};
    sign_by(&s, &o1_admin);
    /* MAJORITY of 2 orgs needs both. */
    ck_assert_int_eq(eval(c, "/Channel/Application/Admins", &s, &err), LC_EPOLICY);
    ck_assert_str_eq(err.msg, "policy /Channel/Application/Admins: implicit meta policy MAJORITY "
                              "Admins: 1 of 2 sub-policies satisfied, 2 needed");
    ck_assert_int_eq(eval(c, "/Channel/Application/AllReaders", &s, &err), LC_EPOLICY);
    sign_by(&s, &o2_admin);
    ck_assert_int_eq(eval(c, "/Channel/Application/Admins", &s, &err), 0);
    ck_assert_int_eq(eval(c, "/Channel/Application/AllReaders", &s, &err), 0);
    /* /Channel/Admins: MAJORITY over Orderer and Application, so the orderer admin too. */
    ck_assert_int_eq(eval(c, "/Channel/Admins", &s, &err), LC_EPOLICY);
    lc_chconf_free(c);
}
END_TEST

START_TEST(eval_implicit_meta_missing_sub_policy_counts_as_failure)
{
    grp_set_meta(app_grp(), "AnyCustom", ANY, "Custom");
    grp_set_meta(app_grp(), "AllCustom", ALL, "Custom");
    grp_set_sig(grp_child(app_grp(), "Org1"), "Custom", "OR('Org1MSP.member')");
    /* An implicit meta policy in a group without children always passes. */
    grp_set_meta(grp_child(app_grp(), "Org2"), "Leaf", ALL, "Nothing");
    struct lc_chconf *c = load_ok();
    struct lc_errbuf err;
    struct sigs s = {0};
    sign_by(&s, &o1_client);
    sign_by(&s, &o2_client);
    ck_assert_int_eq(eval(c, "/Channel/Application/AnyCustom", &s, &err), 0);
    ck_assert_int_eq(eval(c, "/Channel/Application/AllCustom", &s, &err), LC_EPOLICY);
    ck_assert_ptr_nonnull(strstr(err.msg, "1 of 2 sub-policies satisfied, 2 needed"));
    struct sigs none = {0};
    ck_assert_int_eq(eval(c, "/Channel/Application/Org2/Leaf", &none, &err), 0);
    lc_chconf_free(c);
}
END_TEST

START_TEST(eval_policy_not_found)
{
    struct lc_chconf *c = load_ok();
    struct lc_errbuf err;
    struct sigs s = {0};
    ck_assert_int_eq(eval(c, "/Channel/Application/Nope", &s, &err), LC_ENOTFOUND);
    ck_assert_str_eq(err.msg, "policy /Channel/Application/Nope: not found");
    ck_assert_int_eq(eval(c, "Nope", &s, &err), LC_ENOTFOUND);
    lc_chconf_free(c);
}
END_TEST

START_TEST(eval_drops_bad_signatures_and_unknown_identities)
{
    struct lc_chconf *c = load_ok();
    struct lc_errbuf err;
    struct sigs s = {0};
    sign_by(&s, &o1_client);
    s.sig[0][s.sd[0].signature_len - 1] ^= 1; /* no longer verifies */
    ck_assert_int_eq(eval(c, "/Channel/Application/Writers", &s, &err), LC_EPOLICY);
    /* An identity of an MSP that is not on the channel. */
    struct org stranger;
    org_init(&stranger, "StrangerMSP");
    struct member m;
    member_init(&m, &stranger, "client", "who");
    struct sigs t = {0};
    sign_by(&t, &m);
    ck_assert_int_eq(eval(c, "/Channel/Writers", &t, &err), LC_EPOLICY);
    /* Good signature after the bad one still counts. */
    sign_by(&s, &o1_client);
    ck_assert_int_eq(eval(c, "/Channel/Application/Writers", &s, &err), 0);
    member_done(&m);
    org_done(&stranger);
    lc_chconf_free(c);
}
END_TEST

START_TEST(eval_chaincode_policies)
{
    struct lc_chconf *c = load_ok();
    struct lc_errbuf err;
    struct sigs s = {0};
    sign_by(&s, &o1_peer);
    /* basic: MAJORITY Endorsement of two orgs → one peer of each. */
    ck_assert_int_eq(lc_chconf_chaincode_policy_eval(c, "basic", s.sd, s.n, &err), LC_EPOLICY);
    ck_assert_str_eq(err.msg, "chaincode basic: endorsement policy: policy "
                              "/Channel/Application/Endorsement: implicit meta policy MAJORITY "
                              "Endorsement: 1 of 2 sub-policies satisfied, 2 needed");
    ck_assert_int_eq(lc_chconf_chaincode_policy_eval(c, "dflt", s.sd, s.n, &err), LC_EPOLICY);
    sign_by(&s, &o2_peer);
    ck_assert_int_eq(lc_chconf_chaincode_policy_eval(c, "basic", s.sd, s.n, &err), 0);
    ck_assert_int_eq(lc_chconf_chaincode_policy_eval(c, "dflt", s.sd, s.n, &err), 0);
    /* twopeers: AND('Org1MSP.peer', 'Org1MSP.peer') needs two distinct Org1 peers; the same
     * peer signing twice counts once. */
    ck_assert_int_eq(lc_chconf_chaincode_policy_eval(c, "twopeers", s.sd, s.n, &err), LC_EPOLICY);
    ck_assert_str_eq(err.msg, "chaincode twopeers: endorsement policy: signature policy not "
                              "satisfied by 2 identities");
    sign_by(&s, &o1_peer);
    ck_assert_int_eq(lc_chconf_chaincode_policy_eval(c, "twopeers", s.sd, s.n, &err), LC_EPOLICY);
    sign_by(&s, &o1_peer2);
    ck_assert_int_eq(lc_chconf_chaincode_policy_eval(c, "twopeers", s.sd, s.n, &err), 0);
    ck_assert_int_eq(lc_chconf_chaincode_policy_eval(c, "nope", s.sd, s.n, &err), LC_ENOTFOUND);
    ck_assert_str_eq(err.msg, "chaincode nope: not defined on channel mychannel");
    lc_chconf_free(c);
}
END_TEST

START_TEST(eval_with_prepared_identity_set)
{
    struct lc_chconf *c = load_ok();
    struct lc_errbuf err;
    struct sigs s = {0};
    sign_by(&s, &o1_peer);
    sign_by(&s, &o1_peer); /* a repeat: dropped */
    sign_by(&s, &o2_peer);
    struct lc_policy_idset *set = NULL;
    ck_assert_int_eq(lc_policy_idset_new(s.sd, s.n, &lc_msp_policy_ops, lc_chconf_msp_mgr(c), &set),
                     0);
    ck_assert_uint_eq(lc_policy_idset_count(set), 2);
    ck_assert_int_eq(lc_chconf_policy_eval_idset(c, "/Channel/Application/Endorsement", set, &err),
                     0);
    ck_assert_int_eq(lc_chconf_policy_eval_idset(c, "/Channel/Application/Admins", set, &err),
                     LC_EPOLICY);
    ck_assert_int_eq(lc_chconf_chaincode_policy_eval_idset(c, "basic", set, &err), 0);
    ck_assert_int_eq(lc_chconf_chaincode_policy_eval_idset(c, "twopeers", set, &err), LC_EPOLICY);
    lc_policy_idset_free(set);
    /* No set: nobody signed. */
    ck_assert_int_eq(lc_chconf_policy_eval_idset(c, "/Channel/Writers", NULL, &err), LC_EPOLICY);
    ck_assert_int_eq(lc_chconf_chaincode_policy_eval_idset(c, "twopeers", NULL, &err), LC_EPOLICY);
    lc_chconf_free(c);
}
END_TEST

/* ---- durations --------------------------------------------------------------------------------
 */

START_TEST(go_durations)
{
    static const struct {
        const char *text;
        int64_t ns;
    } ok[] = {
        {"2s", 2000000000LL},
        {"500ms", 500000000LL},
        {"1m30s", 90000000000LL},
        {"1.5h", 5400000000000LL},
        {"1h2m3s4ms5us6ns", 3723004005006LL},
        {"0", 0},
        {"+0", 0},
        {"-1s", -1000000000LL},
        {"+3s", 3000000000LL},
        {".5s", 500000000LL},
        {"1.s", 1000000000LL},
        {"7\xc2\xb5s", 7000LL},
        {"7\xce\xbcs", 7000LL},
        {"2562047h47m16.854775807s", INT64_MAX},
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        int64_t ns = -42;
        struct lc_errbuf err = {{0}};
        ck_assert_msg(lc_chconf_parse_duration(ok[i].text, &ns, &err) == 0, "%s: %s", ok[i].text,
                      err.msg);
        ck_assert_msg(ns == ok[i].ns, "%s: %lld", ok[i].text, (long long)ns);
    }
    static const char *const bad[] = {"",
                                      "5",
                                      "5d",
                                      "s",
                                      ".s",
                                      "1..2s",
                                      "2s3",
                                      "--1s",
                                      "+",
                                      "1 s",
                                      "2562047h47m16.854775808s",
                                      "3000000h"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int64_t ns = -42;
        struct lc_errbuf err = {{0}};
        ck_assert_msg(lc_chconf_parse_duration(bad[i], &ns, &err) == LC_ESYNTAX, "%s", bad[i]);
        ck_assert_int_eq(ns, -42);
        ck_assert_ptr_nonnull(strstr(err.msg, "duration"));
    }
    char longs[LC_CHCONF_MAX_DURATION_TEXT + 2];
    memset(longs, '1', sizeof longs - 2);
    longs[sizeof longs - 2] = 's';
    longs[sizeof longs - 1] = '\0';
    int64_t ns;
    ck_assert_int_eq(lc_chconf_parse_duration(longs, &ns, NULL), LC_ESYNTAX);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("chconf");
    TCase *tc = tcase_create("load");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, genesis_block_accessors);
    tcase_add_test(tc, policy_tree_paths);
    tcase_add_test(tc, chaincode_definitions);
    tcase_add_test(tc, decoded_block_and_config_entry_points);
    tcase_add_test(tc, kafka_orderer_values);
    tcase_add_test(tc, no_application_group);
    tcase_add_test(tc, same_msp_in_two_orgs_with_same_bytes);
    tcase_add_test(tc, rejects_non_config_block);
    tcase_add_test(tc, rejects_undecodable_layers);
    tcase_add_test(tc, rejects_bad_channel_id);
    tcase_add_test(tc, rejects_missing_orderer_group);
    tcase_add_test(tc, rejects_unknown_groups);
    tcase_add_test(tc, rejects_org_sub_groups);
    tcase_add_test(tc, rejects_bad_names_and_duplicates);
    tcase_add_test(tc, rejects_duplicate_policy_and_value_keys);
    tcase_add_test(tc, rejects_unknown_values);
    tcase_add_test(tc, rejects_root_values);
    tcase_add_test(tc, rejects_unknown_capabilities);
    tcase_add_test(tc, rejects_bad_batch_size);
    tcase_add_test(tc, rejects_bad_batch_timeout);
    tcase_add_test(tc, rejects_bad_consensus_type);
    tcase_add_test(tc, rejects_bad_kafka_brokers);
    tcase_add_test(tc, rejects_broken_msp_value);
    tcase_add_test(tc, rejects_same_msp_id_with_other_bytes);
    tcase_add_test(tc, rejects_bad_anchor_peers);
    tcase_add_test(tc, rejects_bad_acls);
    tcase_add_test(tc, rejects_unknown_policy_type);
    tcase_add_test(tc, rejects_broken_policies);
    tcase_add_test(tc, rejects_bad_chaincode_definitions);
    suite_add_tcase(s, tc);

    tc = tcase_create("eval");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, eval_signature_policies);
    tcase_add_test(tc, eval_implicit_meta_any);
    tcase_add_test(tc, eval_implicit_meta_majority_and_all);
    tcase_add_test(tc, eval_implicit_meta_missing_sub_policy_counts_as_failure);
    tcase_add_test(tc, eval_policy_not_found);
    tcase_add_test(tc, eval_drops_bad_signatures_and_unknown_identities);
    tcase_add_test(tc, eval_chaincode_policies);
    tcase_add_test(tc, eval_with_prepared_identity_set);
    suite_add_tcase(s, tc);

    tc = tcase_create("duration");
    tcase_add_test(tc, go_durations);
    suite_add_tcase(s, tc);

    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
