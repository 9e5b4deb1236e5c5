/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for `weft genesis`: the config tree and block it writes, determinism, and profile errors.
 */
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

#include "common/common.pb-c.h"
#include "common/configtx.pb-c.h"
#include "common/configuration.pb-c.h"
#include "common/policies.pb-c.h"
#include "libcommon/chconf.h"
#include "libcommon/crypto.h"
#include "libcommon/msp.h"
#include "libcommon/policy.h"
#include "libcommon/wire.h"
#include "orderer/configuration.pb-c.h"
#include "peer/configuration.pb-c.h"
#include "weft/config.pb-c.h"

/* A test network: three MSP directories and a profile naming them. */
struct net {
    char *dir;
};

static void net_init(struct net *n)
{
    n->dir = th_tmpdir();
    th_make_msp(th_path(n->dir, "orderer-msp"), "OrdererMSP");
    th_make_msp(th_path(n->dir, "org1-msp"), "Org1MSP");
    th_make_msp(th_path(n->dir, "org2-msp"), "Org2MSP");
}

static void net_done(struct net *n)
{
    th_rmtree(n->dir);
    free(n->dir);
}

static const char solo_profile[] =
    "# a solo channel with two application orgs\n"
    "Orderer:\n"
    "  OrdererType: solo\n"
    "  Addresses: [orderer0.example.com:7050, orderer1.example.com:7050]\n"
    "  BatchTimeout: 90s\n"
    "  BatchSize:\n"
    "    MaxMessageCount: 25\n"
    "    AbsoluteMaxBytes: 10 MB\n"
    "    PreferredMaxBytes: 512 KB\n"
    "  Organizations:\n"
    "    - Name: OrdererOrg\n"
    "      ID: OrdererMSP\n"
    "      MSPDir: orderer-msp\n"
    "      OrdererEndpoints: [orderer0.example.com:7050]\n"
    "Application:\n"
    "  Organizations:\n"
    "    - Name: Org1\n"
    "      ID: Org1MSP\n"
    "      MSPDir: org1-msp\n"
    "      AnchorPeers:\n"
    "        - Host: peer0.org1.example.com\n"
    "          Port: 7051\n"
    "    - Name: Org2\n"
    "      ID: Org2MSP\n"
    "      MSPDir: org2-msp\n"
    "      Policies:\n"
    "        Writers: {Type: Signature, Rule: \"OR('Org2MSP.client')\"}\n"
    "Chaincodes:\n"
    "  - Name: basic\n"
    "    Version: \"1.0\"\n"
    "    Sequence: 3\n"
    "    EndorsementPolicy: \"AND('Org1MSP.peer', 'Org2MSP.peer')\"\n"
    "  - Name: marbles\n"
    "    Version: v2\n";

/* Runs genesis in the net dir with the given profile text; returns the exit status. */
static int genesis(struct net *n, const char *profile, const char *out_name, char **ret_err,
                   const char *const extra[])
{
    th_write_str(th_path(n->dir, "profile.yaml"), profile);
    const char *args[16] = {"genesis",   "--profile", "profile.yaml", "--channel",
                            "mychannel", "--output",  out_name};
    size_t k = 7;
    for (size_t i = 0; extra && extra[i]; i++)
        args[k++] = extra[i];
    args[k] = NULL;
    return th_weft(n->dir, NULL, ret_err, args);
}

static const char *const fixed[] = {"--timestamp", "1700000000", "--nonce-hex", "000102", NULL};

/* ---- finding things in a ConfigGroup ---- */

static Common__ConfigGroup *group(Common__ConfigGroup *g, const char *key)
{
    for (size_t i = 0; i < g->n_groups; i++)
        if (strcmp(g->groups[i]->key, key) == 0)
            return g->groups[i]->value;
    ck_abort_msg("no group %s", key);
    return NULL;
}

static Common__ConfigValue *value(Common__ConfigGroup *g, const char *key)
{
    for (size_t i = 0; i < g->n_values; i++)
        if (strcmp(g->values[i]->key, key) == 0)
            return g->values[i]->value;
    ck_abort_msg("no value %s", key);
    return NULL;
}

static bool has_value(Common__ConfigGroup *g, const char *key)
{
    for (size_t i = 0; i < g->n_values; i++)
        if (strcmp(g->values[i]->key, key) == 0)
            return true;
    return false;
}

static Common__Policy *policy(Common__ConfigGroup *g, const char *key)
{
    for (size_t i = 0; i < g->n_policies; i++)
        if (strcmp(g->policies[i]->key, key) == 0) {
            ck_assert_str_eq(g->policies[i]->value->mod_policy, "Admins");
            return g->policies[i]->value->policy;
        }
    ck_abort_msg("no policy %s", key);
    return NULL;
}

static void keys_are(char **keys, size_t n, const char *want)
{
    char got[512] = "";
    size_t l = 0;
    for (size_t i = 0; i < n; i++)
        l += (size_t)snprintf(got + l, sizeof got - l, "%s%s", i ? "," : "", keys[i]);
    ck_assert_str_eq(got, want);
}

static void group_keys(Common__ConfigGroup *g, const char *groups, const char *values,
                       const char *policies)
{
    char *k[32];
    ck_assert_uint_le(g->n_groups, 32);
    for (size_t i = 0; i < g->n_groups; i++)
        k[i] = g->groups[i]->key;
    keys_are(k, g->n_groups, groups);
    ck_assert_uint_le(g->n_values, 32);
    for (size_t i = 0; i < g->n_values; i++)
        k[i] = g->values[i]->key;
    keys_are(k, g->n_values, values);
    ck_assert_uint_le(g->n_policies, 32);
    for (size_t i = 0; i < g->n_policies; i++)
        k[i] = g->policies[i]->key;
    keys_are(k, g->n_policies, policies);
    ck_assert_str_eq(g->mod_policy, "Admins");
    ck_assert_uint_eq(g->version, 0);
}

static void bytes_are(const ProtobufCBinaryData *b, const void *want, size_t len)
{
    ck_assert_uint_eq(b->len, len);
    ck_assert_mem_eq(b->data, want, len);
}

static void implicit_is(Common__Policy *p, const char *want_bytes, size_t len)
{
    ck_assert_int_eq(p->type, COMMON__POLICY__POLICY_TYPE__IMPLICIT_META);
    bytes_are(&p->value, want_bytes, len);
}

static void signature_is(Common__Policy *p, const char *dsl)
{
    ck_assert_int_eq(p->type, COMMON__POLICY__POLICY_TYPE__SIGNATURE);
    char *text = NULL;
    struct lc_errbuf err;
    ck_assert_msg(lc_policy_print_bytes(p->value.data, p->value.len, &text, &err) == 0, "%s",
                  err.msg);
    ck_assert_str_eq(text, dsl);
    free(text);
}

/* The decoded layers of a genesis block. */
struct gblock {
    uint8_t *raw;
    size_t len;
    Common__Block *block;
    Common__Envelope *env;
    Common__Payload *payload;
    Common__ChannelHeader *ch;
    Common__SignatureHeader *sh;
    Common__ConfigEnvelope *ce;
};

static void gblock_load(struct gblock *g, const char *path)
{
    memset(g, 0, sizeof *g);
    g->raw = th_read(path, &g->len);
    ck_assert_ptr_nonnull(g->raw);
    struct lc_errbuf err;
    ck_assert_int_eq(lc_wire_unpack(&common__block__descriptor, g->raw, g->len,
                                    (ProtobufCMessage **)&g->block, &err),
                     0);
    ck_assert_uint_eq(g->block->data->n_data, 1);
    ck_assert_int_eq(
        LC_WIRE_UNPACK(&common__envelope__descriptor, g->block->data->data[0], &g->env, &err), 0);
    ck_assert_int_eq(
        LC_WIRE_UNPACK(&common__payload__descriptor, g->env->payload, &g->payload, &err), 0);
    ck_assert_int_eq(LC_WIRE_UNPACK(&common__channel_header__descriptor,
                                    g->payload->header->channel_header, &g->ch, &err),
                     0);
    ck_assert_int_eq(LC_WIRE_UNPACK(&common__signature_header__descriptor,
                                    g->payload->header->signature_header, &g->sh, &err),
                     0);
    ck_assert_int_eq(
        LC_WIRE_UNPACK(&common__config_envelope__descriptor, g->payload->data, &g->ce, &err), 0);
}

static void gblock_free(struct gblock *g)
{
    common__config_envelope__free_unpacked(g->ce, NULL);
    common__signature_header__free_unpacked(g->sh, NULL);
    common__channel_header__free_unpacked(g->ch, NULL);
    common__payload__free_unpacked(g->payload, NULL);
    common__envelope__free_unpacked(g->env, NULL);
    lc_wire_block_free(g->block);
    free(g->raw);
}

/* Block, envelope and headers exactly as configtxgen's genesis.Factory writes them. */
static void check_block_frame(struct gblock *g, const char *channel)
{
    Common__Block *b = g->block;
    ck_assert_uint_eq(b->header->number, 0);
    ck_assert_uint_eq(b->header->previous_hash.len, 0);
    struct lc_errbuf err;
    ck_assert_msg(lc_wire_block_check_data_hash(b, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(b->metadata->n_metadata, 5);
    bytes_are(&b->metadata->metadata[0], "\x0a\x02\x0a\x00", 4);
    for (size_t i = 1; i < 5; i++)
        ck_assert_uint_eq(b->metadata->metadata[i].len, 0);
    ck_assert_uint_eq(g->env->signature.len, 0);
    ck_assert_int_eq(g->ch->type, COMMON__HEADER_TYPE__CONFIG);
    ck_assert_int_eq(g->ch->version, 1);
    ck_assert_uint_eq(g->ch->epoch, 0);
    ck_assert_str_eq(g->ch->channel_id, channel);
    ck_assert_uint_eq(g->ch->extension.len, 0);
    ck_assert_uint_eq(g->sh->creator.len, 0);
    /* genesis tx_id = hex(SHA-256(nonce)), the creator being empty */
    char txid[65];
    ck_assert_int_eq(lc_wire_txid(g->sh->nonce.data, g->sh->nonce.len, NULL, 0, txid), 0);
    ck_assert_str_eq(g->ch->tx_id, txid);
    ck_assert_ptr_nonnull(g->ce->config);
    ck_assert_ptr_null(g->ce->last_update);
    ck_assert_uint_eq(g->ce->config->sequence, 0);
}

static void check_msp(Common__ConfigGroup *org, const char *dir, const char *mspid)
{
    Common__ConfigValue *v = value(org, "MSP");
    ck_assert_str_eq(v->mod_policy, "Admins");
    struct lc_errbuf err;
    struct lc_msp *msp = NULL;
    ck_assert_msg(lc_msp_new_from_bytes(v->value.data, v->value.len, &err, &msp) == 0, "%s",
                  err.msg);
    ck_assert_str_eq(lc_msp_name(msp), mspid);
    lc_msp_unref(msp);
    /* exactly what the msp module makes of the directory */
    uint8_t *want;
    size_t want_len;
    ck_assert_int_eq(lc_msp_config_from_dir(dir, mspid, &err, &want, &want_len), 0);
    bytes_are(&v->value, want, want_len);
    free(want);
}

START_TEST(genesis_writes_configtxgen_tree)
{
    struct net n;
    net_init(&n);
    char *err = NULL;
    ck_assert_msg(genesis(&n, solo_profile, "g.block", &err, fixed) == 0, "genesis: %s", err);
    free(err);
    struct gblock g;
    gblock_load(&g, th_path(n.dir, "g.block"));
    check_block_frame(&g, "mychannel");
    ck_assert_int_eq(g.ch->timestamp->seconds, 1700000000);
    ck_assert_int_eq(g.ch->timestamp->nanos, 0);
    bytes_are(&g.sh->nonce, "\x00\x01\x02", 3);
    /* hashlib.sha256(bytes([0, 1, 2])).hexdigest() */
    ck_assert_str_eq(g.ch->tx_id,
                     "ae4b3280e56e2faf83f414a6e3dabe9d5fbe18976544c05fed121accb85b53fc");

    Common__ConfigGroup *ch = g.ce->config->channel_group;
    group_keys(ch, "Application,Orderer",
               "BlockDataHashingStructure,Capabilities,HashingAlgorithm,OrdererAddresses",
               "Admins,Readers,Writers");
    bytes_are(&value(ch, "HashingAlgorithm")->value, "\x0a\x06SHA256", 8);
    bytes_are(&value(ch, "BlockDataHashingStructure")->value, "\x08\xff\xff\xff\xff\x0f", 6);
    bytes_are(&value(ch, "Capabilities")->value, "\x0a\x08\x0a\x04V2_0\x12\x00", 10);
    Common__ConfigValue *oa = value(ch, "OrdererAddresses");
    ck_assert_str_eq(oa->mod_policy, "/Channel/Orderer/Admins");
    Common__OrdererAddresses *addrs = NULL;
    ck_assert_int_eq(
        LC_WIRE_UNPACK(&common__orderer_addresses__descriptor, oa->value, &addrs, NULL), 0);
    ck_assert_uint_eq(addrs->n_addresses, 2);
    ck_assert_str_eq(addrs->addresses[1], "orderer1.example.com:7050");
    common__orderer_addresses__free_unpacked(addrs, NULL);
    for (size_t i = 0; i < ch->n_values; i++)
        if (strcmp(ch->values[i]->key, "OrdererAddresses") != 0)
            ck_assert_str_eq(ch->values[i]->value->mod_policy, "Admins");
    implicit_is(policy(ch, "Readers"), "\x0a\x07Readers", 9);
    implicit_is(policy(ch, "Writers"), "\x0a\x07Writers", 9);
    implicit_is(policy(ch, "Admins"),
                "\x0a\x06"
                "Admins\x10\x02",
                10);

    Common__ConfigGroup *ord = group(ch, "Orderer");
    group_keys(ord, "OrdererOrg", "BatchSize,BatchTimeout,Capabilities,ConsensusType",
               "Admins,BlockValidation,Readers,Writers");
    Orderer__BatchSize *bs = NULL;
    ck_assert_int_eq(
        LC_WIRE_UNPACK(&orderer__batch_size__descriptor, value(ord, "BatchSize")->value, &bs, NULL),
        0);
    ck_assert_uint_eq(bs->max_message_count, 25);
    ck_assert_uint_eq(bs->absolute_max_bytes, 10u << 20);
    ck_assert_uint_eq(bs->preferred_max_bytes, 512u << 10);
    orderer__batch_size__free_unpacked(bs, NULL);
    /* "90s" is stored the way Go's Duration.String() writes it */
    bytes_are(&value(ord, "BatchTimeout")->value,
              "\x0a\x05"
              "1m30s",
              7);
    bytes_are(&value(ord, "ConsensusType")->value, "\x0a\x04solo", 6);
    bytes_are(&value(ord, "Capabilities")->value, "\x0a\x08\x0a\x04V2_0\x12\x00", 10);
    implicit_is(policy(ord, "BlockValidation"), "\x0a\x07Writers", 9);
    Common__ConfigGroup *oorg = group(ord, "OrdererOrg");
    group_keys(oorg, "", "Endpoints,MSP", "Admins,Readers,Writers");
    check_msp(oorg, th_path(n.dir, "orderer-msp"), "OrdererMSP");
    signature_is(policy(oorg, "Readers"), "OR('OrdererMSP.member')");
    signature_is(policy(oorg, "Writers"), "OR('OrdererMSP.member')");
    signature_is(policy(oorg, "Admins"), "OR('OrdererMSP.admin')");
    bytes_are(&value(oorg, "Endpoints")->value, "\x0a\x19orderer0.example.com:7050", 27);

    Common__ConfigGroup *app = group(ch, "Application");
    group_keys(app, "Org1,Org2", "Capabilities,WeftChaincodes",
               "Admins,Endorsement,LifecycleEndorsement,Readers,Writers");
    implicit_is(policy(app, "Endorsement"),
                "\x0a\x0b"
                "Endorsement\x10\x02",
                15);
    implicit_is(policy(app, "LifecycleEndorsement"),
                "\x0a\x0b"
                "Endorsement\x10\x02",
                15);
    implicit_is(policy(app, "Admins"),
                "\x0a\x06"
                "Admins\x10\x02",
                10);
    Common__ConfigGroup *org1 = group(app, "Org1"), *org2 = group(app, "Org2");
    group_keys(org1, "", "AnchorPeers,MSP", "Admins,Endorsement,Readers,Writers");
    group_keys(org2, "", "MSP", "Admins,Endorsement,Readers,Writers");
    check_msp(org1, th_path(n.dir, "org1-msp"), "Org1MSP");
    check_msp(org2, th_path(n.dir, "org2-msp"), "Org2MSP");
    signature_is(policy(org1, "Readers"), "OR('Org1MSP.admin', 'Org1MSP.peer', 'Org1MSP.client')");
    signature_is(policy(org1, "Writers"), "OR('Org1MSP.admin', 'Org1MSP.peer', 'Org1MSP.client')");
    signature_is(policy(org1, "Admins"), "OR('Org1MSP.admin')");
    signature_is(policy(org1, "Endorsement"), "OR('Org1MSP.peer')");
    signature_is(policy(org2, "Writers"), "OR('Org2MSP.client')"); /* from the profile */
    Protos__AnchorPeers *ap = NULL;
    ck_assert_int_eq(LC_WIRE_UNPACK(&protos__anchor_peers__descriptor,
                                    value(org1, "AnchorPeers")->value, &ap, NULL),
                     0);
    ck_assert_uint_eq(ap->n_anchor_peers, 1);
    ck_assert_str_eq(ap->anchor_peers[0]->host, "peer0.org1.example.com");
    ck_assert_int_eq(ap->anchor_peers[0]->port, 7051);
    protos__anchor_peers__free_unpacked(ap, NULL);

    Common__ConfigValue *wc = value(app, "WeftChaincodes");
    ck_assert_str_eq(wc->mod_policy, "Admins");
    Weft__ChaincodeDefinitions *defs = NULL;
    ck_assert_int_eq(
        LC_WIRE_UNPACK(&weft__chaincode_definitions__descriptor, wc->value, &defs, NULL), 0);
    ck_assert_uint_eq(defs->n_chaincodes, 2);
    Weft__ChaincodeDefinition *d0 = defs->chaincodes[0], *d1 = defs->chaincodes[1];
    ck_assert_str_eq(d0->name, "basic");
    ck_assert_str_eq(d0->version, "1.0");
    ck_assert_int_eq(d0->sequence, 3);
    ck_assert_int_eq(d0->endorsement_policy->type_case,
                     PROTOS__APPLICATION_POLICY__TYPE_SIGNATURE_POLICY);
    char *text = NULL;
    ck_assert_int_eq(lc_policy_print(d0->endorsement_policy->signature_policy, &text, NULL), 0);
    ck_assert_str_eq(text, "AND('Org1MSP.peer', 'Org2MSP.peer')");
    free(text);
    ck_assert_str_eq(d1->name, "marbles");
    ck_assert_int_eq(d1->sequence, 1);
    ck_assert_int_eq(d1->endorsement_policy->type_case,
                     PROTOS__APPLICATION_POLICY__TYPE_CHANNEL_CONFIG_POLICY_REFERENCE);
    ck_assert_str_eq(d1->endorsement_policy->channel_config_policy_reference,
                     "/Channel/Application/Endorsement");
    weft__chaincode_definitions__free_unpacked(defs, NULL);
    gblock_free(&g);
    net_done(&n);
}
END_TEST

START_TEST(genesis_is_deterministic_given_time_and_nonce)
{
    struct net n;
    net_init(&n);
    ck_assert_int_eq(genesis(&n, solo_profile, "a.block", NULL, fixed), 0);
    ck_assert_int_eq(genesis(&n, solo_profile, "b.block", NULL, fixed), 0);
    size_t la, lb;
    uint8_t *a = th_read(th_path(n.dir, "a.block"), &la),
            *b = th_read(th_path(n.dir, "b.block"), &lb);
    ck_assert_uint_eq(la, lb);
    ck_assert_mem_eq(a, b, la);
    free(b);
    /* without --nonce-hex: a fresh 24-byte nonce, so another tx_id */
    ck_assert_int_eq(
        genesis(&n, solo_profile, "c.block", NULL, (const char *[]){"--timestamp", "5", NULL}), 0);
    struct gblock g;
    gblock_load(&g, th_path(n.dir, "c.block"));
    check_block_frame(&g, "mychannel");
    ck_assert_uint_eq(g.sh->nonce.len, 24);
    ck_assert_int_eq(g.ch->timestamp->seconds, 5);
    gblock_free(&g);
    free(a);
    net_done(&n);
}
END_TEST

START_TEST(genesis_kafka_and_json_profile)
{
    struct net n;
    net_init(&n);
    /* JSON is YAML: the same schema written as JSON */
    static const char profile[] =
        "{\"Orderer\": {\"OrdererType\": \"kafka\", \"MaxChannels\": 7,"
        " \"BatchTimeout\": \"1500ms\","
        " \"Kafka\": {\"Brokers\": [\"kafka0:9092\", \"kafka1:9092\"]},"
        " \"Organizations\": [{\"Name\": \"OrdererOrg\", \"ID\": \"OrdererMSP\","
        " \"MSPDir\": \"orderer-msp\"}]},"
        " \"Application\": {\"Organizations\": [{\"Name\": \"Org1\", \"ID\": \"Org1MSP\","
        " \"MSPDir\": \"org1-msp\"}], \"Capabilities\": {\"V2_0\": true, \"V1_4_2\": false}},"
        " \"Capabilities\": {\"V2_0\": true}}";
    char *err = NULL;
    ck_assert_msg(genesis(&n, profile, "k.block", &err, fixed) == 0, "%s", err);
    free(err);
    struct gblock g;
    gblock_load(&g, th_path(n.dir, "k.block"));
    check_block_frame(&g, "mychannel");
    Common__ConfigGroup *ch = g.ce->config->channel_group;
    /* no addresses given: no OrdererAddresses */
    ck_assert(!has_value(ch, "OrdererAddresses"));
    Common__ConfigGroup *ord = group(ch, "Orderer");
    group_keys(ord, "OrdererOrg",
               "BatchSize,BatchTimeout,Capabilities,ChannelRestrictions,ConsensusType,KafkaBrokers",
               "Admins,BlockValidation,Readers,Writers");
    bytes_are(&value(ord, "ConsensusType")->value, "\x0a\x05kafka", 7);
    bytes_are(&value(ord, "ChannelRestrictions")->value, "\x08\x07", 2);
    bytes_are(&value(ord, "BatchTimeout")->value,
              "\x0a\x04"
              "1.5s",
              6);
    bytes_are(&value(ord, "KafkaBrokers")->value, "\x0a\x0bkafka0:9092\x0a\x0bkafka1:9092", 26);
    /* the defaults of an omitted BatchSize: 10 messages, 99 MB, 512 KB */
    Orderer__BatchSize *bs = NULL;
    ck_assert_int_eq(
        LC_WIRE_UNPACK(&orderer__batch_size__descriptor, value(ord, "BatchSize")->value, &bs, NULL),
        0);
    ck_assert_uint_eq(bs->max_message_count, 10);
    ck_assert_uint_eq(bs->absolute_max_bytes, 99u << 20);
    ck_assert_uint_eq(bs->preferred_max_bytes, 512u << 10);
    orderer__batch_size__free_unpacked(bs, NULL);
    Common__ConfigGroup *app = group(ch, "Application");
    /* no chaincodes: no WeftChaincodes value; V1_4_2: false is left out */
    group_keys(app, "Org1", "Capabilities",
               "Admins,Endorsement,LifecycleEndorsement,Readers,Writers");
    bytes_are(&value(app, "Capabilities")->value, "\x0a\x08\x0a\x04V2_0\x12\x00", 10);
    gblock_free(&g);
    net_done(&n);
}
END_TEST

/* One profile error: the profile, and what the message must say. */
struct bad_profile {
    const char *profile;
    const char *want;
};

#define ORDERER_OK                                                                                 \
    "Orderer:\n"                                                                                   \
    "  Organizations:\n"                                                                           \
    "    - {Name: OrdererOrg, ID: OrdererMSP, MSPDir: orderer-msp}\n"
#define APP_OK                                                                                     \
    "Application:\n"                                                                               \
    "  Organizations:\n"                                                                           \
    "    - {Name: Org1, ID: Org1MSP, MSPDir: org1-msp}\n"

static const struct bad_profile bad_profiles[] = {
    {ORDERER_OK APP_OK "Foo: 1\n", "profile.yaml:7:1: unknown key 'Foo'"},
    {"Orderer: [1, 2]\n" APP_OK, "profile.yaml:1:10: Orderer: expected a mapping, found a list"},
    {ORDERER_OK "Application:\n  Organizations: {Name: x}\n",
     "Application.Organizations: expected a list of organizations, found a mapping"},
    {ORDERER_OK "Application:\n  Organizations:\n    - {Name: Org1, ID: Org1MSP}\n",
     "Application.Organizations[0]: missing key 'MSPDir'"},
    {ORDERER_OK "Application:\n  Organizations:\n    - {Name: Org1, ID: Org1MSP, MSPDir: nope}\n",
     "Application.Organizations[0].MSPDir: MSP directory"},
    {ORDERER_OK APP_OK, NULL}, /* the base case works (checked below) */
    {"Orderer:\n  BatchSize: {AbsoluteMaxBytes: 10 XB}\n"
     "  Organizations:\n    - {Name: OrdererOrg, ID: OrdererMSP, MSPDir: orderer-msp}\n" APP_OK,
     "profile.yaml:2:33: Orderer.BatchSize.AbsoluteMaxBytes: bad size unit in '10 XB'"},
    {"Orderer:\n  BatchSize: {PreferredMaxBytes: 9999999999}\n"
     "  Organizations:\n    - {Name: OrdererOrg, ID: OrdererMSP, MSPDir: orderer-msp}\n" APP_OK,
     "Orderer.BatchSize.PreferredMaxBytes: size '9999999999' is over 4 GiB"},
    {"Orderer:\n  BatchSize: {AbsoluteMaxBytes: 1 MB, PreferredMaxBytes: 2 MB}\n"
     "  Organizations:\n    - {Name: OrdererOrg, ID: OrdererMSP, MSPDir: orderer-msp}\n" APP_OK,
     "PreferredMaxBytes (2097152) is over AbsoluteMaxBytes (1048576)"},
    {"Orderer:\n  BatchSize: {MaxMessageCount: ten}\n"
     "  Organizations:\n    - {Name: OrdererOrg, ID: OrdererMSP, MSPDir: orderer-msp}\n" APP_OK,
     "Orderer.BatchSize.MaxMessageCount: 'ten' is not a whole number"},
    {"Orderer:\n  BatchTimeout: 2 parsecs\n"
     "  Organizations:\n    - {Name: OrdererOrg, ID: OrdererMSP, MSPDir: orderer-msp}\n" APP_OK,
     "Orderer.BatchTimeout: bad duration '2 parsecs'"},
    {"Orderer:\n  BatchTimeout: 0s\n"
     "  Organizations:\n    - {Name: OrdererOrg, ID: OrdererMSP, MSPDir: orderer-msp}\n" APP_OK,
     "Orderer.BatchTimeout: duration must be positive"},
    {"Orderer:\n  OrdererType: etcdraft\n"
     "  Organizations:\n    - {Name: OrdererOrg, ID: OrdererMSP, MSPDir: orderer-msp}\n" APP_OK,
     "Orderer.OrdererType: 'etcdraft' is not solo or kafka"},
    {"Orderer:\n  OrdererType: kafka\n"
     "  Organizations:\n    - {Name: OrdererOrg, ID: OrdererMSP, MSPDir: orderer-msp}\n" APP_OK,
     "OrdererType kafka needs Kafka.Brokers"},
    {"Orderer:\n  Addresses: [orderer0]\n"
     "  Organizations:\n    - {Name: OrdererOrg, ID: OrdererMSP, MSPDir: orderer-msp}\n" APP_OK,
     "Orderer.Addresses[0]: 'orderer0' is not host:port"},
    {ORDERER_OK APP_OK "Chaincodes:\n  - Name: cc\n    Version: '1'\n"
                       "    EndorsementPolicy: \"AND('Org1MSP.peer',\"\n",
     "Chaincodes[0].EndorsementPolicy: bad policy \"AND('Org1MSP.peer',\": column"},
    {ORDERER_OK APP_OK "Chaincodes:\n  - Name: cc\n    Version: '1'\n"
                       "    EndorsementPolicy: \"OR('Org1MSP.peer')\"\n"
                       "    EndorsementPolicyRef: /Channel/Application/Endorsement\n",
     "give EndorsementPolicy or EndorsementPolicyRef, not both"},
    {ORDERER_OK APP_OK "Chaincodes:\n  - {Name: 'my cc', Version: '1'}\n",
     "Chaincodes[0].Name: 'my cc' is not a chaincode name"},
    {ORDERER_OK APP_OK "Chaincodes:\n  - {Name: cc, Version: '1'}\n  - {Name: cc, Version: '2'}\n",
     "Chaincodes[1].Name: chaincode 'cc' defined twice"},
    {ORDERER_OK APP_OK "Chaincodes:\n  - {Name: cc, Version: '1', Sequence: 0}\n",
     "Chaincodes[0].Sequence: 0 is out of range"},
    {ORDERER_OK "Application:\n  Organizations:\n"
                "    - Name: Org1\n      ID: Org1MSP\n      MSPDir: org1-msp\n"
                "      Policies:\n        Admins: {Type: Signature, Rule: \"OR(\"}\n",
     "Application.Organizations[0].Policies.Admins.Rule: policy Admins: bad policy \"OR(\""},
    {ORDERER_OK "Application:\n  Organizations:\n"
                "    - Name: Org1\n      ID: Org1MSP\n      MSPDir: org1-msp\n"
                "      Policies:\n        Admins: {Type: Magic, Rule: x}\n",
     "Application.Organizations[0].Policies.Admins.Type: 'Magic' is not Signature or "
     "ImplicitMeta"},
    {ORDERER_OK APP_OK "Policies:\n  Readers: {Type: ImplicitMeta, Rule: SOME Readers}\n",
     "Policies.Readers.Rule: bad ImplicitMeta rule 'SOME Readers'"},
    {ORDERER_OK "Application:\n  Organizations:\n"
                "    - {Name: Org1, ID: Org1MSP, MSPDir: org1-msp}\n"
                "    - {Name: Org1, ID: Org2MSP, MSPDir: org2-msp}\n",
     "Application.Organizations[1]: organization name 'Org1' used twice"},
    {ORDERER_OK "Application:\n  Organizations:\n"
                "    - {Name: Org1, ID: 'Org 1', MSPDir: org1-msp}\n",
     "Application.Organizations[0].ID: 'Org 1' is not an MSP id"},
    {ORDERER_OK "Application:\n  Organizations:\n"
                "    - Name: Org1\n      ID: Org1MSP\n      MSPDir: org1-msp\n"
                "      AnchorPeers: [{Host: p0, Port: 70000}]\n",
     "Application.Organizations[0].AnchorPeers[0].Port: 70000 is out of range"},
    {ORDERER_OK APP_OK "Capabilities: {V2_0: maybe}\n",
     "Capabilities.V2_0: 'maybe' is not true or false"},
    {ORDERER_OK "Orderer: {}\n" APP_OK, "key 'Orderer' given twice"},
    {ORDERER_OK "Application: [\n", "YAML"},
    {APP_OK, "profile.yaml:1:1: missing key 'Orderer'"},
    {ORDERER_OK "Application:\n  Organizations:\n"
                "    - {Name: Org1, ID: Org1MSP, MSPDir: orderer-msp/config.yaml}\n",
     "is not a directory"},
    {ORDERER_OK "Application:\n  Organizations:\n"
                "    - {Name: Org1, ID: Org1MSP, MSPDir: empty-msp}\n",
     "Application.Organizations[0]: MSPDir: "},
};

START_TEST(genesis_profile_errors_name_key_and_problem)
{
    struct net n;
    net_init(&n);
    ck_assert_int_eq(mkdir(th_path(n.dir, "empty-msp"), 0755), 0);
    const struct bad_profile *bp = &bad_profiles[_i];
    char *err = NULL;
    int r = genesis(&n, bp->profile, "x.block", &err, fixed);
    if (!bp->want) {
        ck_assert_msg(r == 0, "genesis: %s", err);
    } else {
        ck_assert_msg(r == 1, "exit %d for profile:\n%s\nstderr: %s", r, bp->profile, err);
        ck_assert_msg(strstr(err, bp->want) != NULL, "stderr '%s' lacks '%s'", err, bp->want);
        ck_assert_ptr_null(th_read(th_path(n.dir, "x.block"), NULL)); /* nothing written */
    }
    free(err);
    net_done(&n);
}
END_TEST

START_TEST(genesis_flag_errors)
{
    struct net n;
    net_init(&n);
    char *err;
    ck_assert_int_eq(genesis(&n, solo_profile, "x.block", &err,
                             (const char *[]){"--channel", "MyChannel", NULL}),
                     2);
    ck_assert_ptr_nonnull(strstr(err, "--channel: 'MyChannel' is not a channel ID"));
    free(err);
    ck_assert_int_eq(
        genesis(&n, solo_profile, "x.block", &err, (const char *[]){"--nonce-hex", "0g", NULL}), 2);
    ck_assert_ptr_nonnull(strstr(err, "--nonce-hex"));
    free(err);
    ck_assert_int_eq(th_weft(n.dir, NULL, &err,
                             (const char *[]){"genesis", "--channel", "c", "--output", "o", NULL}),
                     2);
    ck_assert_ptr_nonnull(strstr(err, "--profile: required"));
    free(err);
    ck_assert_int_eq(th_weft(n.dir, NULL, &err,
                             (const char *[]){"genesis", "--profile", "none.yaml", "--channel", "c",
                                              "--output", "o", NULL}),
                     1);
    ck_assert_ptr_nonnull(strstr(err, "none.yaml: No such file"));
    free(err);
    ck_assert_int_eq(genesis(&n, solo_profile, "no-such-dir/x.block", &err, fixed), 1);
    ck_assert_ptr_nonnull(strstr(err, "no-such-dir/x.block"));
    free(err);
    net_done(&n);
}
END_TEST

static const char rt_profile[] =
    "Orderer:\n"
    "  OrdererType: solo\n"
    "  Addresses: [orderer0.example.com:7050]\n"
    "  BatchSize: {MaxMessageCount: 50, AbsoluteMaxBytes: 2 MB, PreferredMaxBytes: 256 KB}\n"
    "  BatchTimeout: 250ms\n"
    "  Organizations:\n"
    "    - Name: OrdererOrg\n"
    "      ID: OrdererMSP\n"
    "      MSPDir: crypto/ordererOrganizations/example.com/msp\n"
    "Application:\n"
    "  Organizations:\n"
    "    - Name: Org1MSP\n"
    "      ID: Org1MSP\n"
    "      MSPDir: crypto/peerOrganizations/org1.example.com/msp\n"
    "      AnchorPeers: [{Host: peer0.org1.example.com, Port: 7051}]\n"
    "    - Name: Org2MSP\n"
    "      ID: Org2MSP\n"
    "      MSPDir: crypto/peerOrganizations/org2.example.com/msp\n"
    "Chaincodes:\n"
    "  - Name: basic\n"
    "    Version: '1.0'\n"
    "    Sequence: 1\n"
    "    EndorsementPolicy: \"AND('Org1MSP.peer', 'Org2MSP.peer')\"\n";

/* Signs data as a peer of cryptogen's tree, for a policy check. */
static struct lc_signer *peer_signer(const char *dir, int org)
{
    char msp[512], mspid[32];
    snprintf(msp, sizeof msp,
             "%s/crypto/peerOrganizations/org%d.example.com/peers/peer0.org%d.example.com/msp", dir,
             org, org);
    snprintf(mspid, sizeof mspid, "Org%dMSP", org);
    struct lc_signer *s = NULL;
    struct lc_errbuf err;
    ck_assert_msg(lc_signer_load(msp, mspid, &err, &s) == 0, "signer: %s", err.msg);
    return s;
}

/* The foundation's "done when": cryptogen -> genesis -> inspect, hashes recomputed, and the block
 * loads as a channel config whose policies work with cryptogen's identities. */
START_TEST(cryptogen_genesis_inspect_round_trip)
{
    char *dir = th_tmpdir(), *err = NULL, *out = NULL;
    ck_assert_msg(th_weft(dir, NULL, &err,
                          (const char *[]){"cryptogen", "--output", "crypto", "--peer-orgs", "2",
                                           "--peers-per-org", "1", "--users", "1", "--orderers",
                                           "1", NULL}) == 0,
                  "cryptogen: %s", err);
    free(err);
    th_write_str(th_path(dir, "profile.yaml"), rt_profile);
    ck_assert_msg(th_weft(dir, NULL, &err,
                          (const char *[]){"genesis", "--profile", "profile.yaml", "--channel",
                                           "mychannel", "--output", "genesis.block", "--timestamp",
                                           "1700000000", NULL}) == 0,
                  "genesis: %s", err);
    free(err);

    /* the hashes, recomputed */
    struct gblock g;
    gblock_load(&g, th_path(dir, "genesis.block"));
    check_block_frame(&g, "mychannel");
    uint8_t dh[LC_WIRE_HASH_LEN], hh[LC_WIRE_HASH_LEN];
    ck_assert_int_eq(lc_wire_data_hash(g.block->data->data, g.block->data->n_data, dh), 0);
    bytes_are(&g.block->header->data_hash, dh, sizeof dh);
    ck_assert_int_eq(lc_wire_header_hash(g.block->header, hh), 0);
    char dh_hex[65], hh_hex[65];
    lc_hex_encode(dh, sizeof dh, dh_hex);
    lc_hex_encode(hh, sizeof hh, hh_hex);

    /* inspect shows the orgs, the batch size and the chaincode definitions */
    ck_assert_msg(
        th_weft(dir, &out, &err, (const char *[]){"inspect", "--json", "genesis.block", NULL}) == 0,
        "inspect: %s", err);
    free(err);
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    ck_assert_msg(j != NULL, "inspect output is not JSON: %s", je.text);
    free(out);
    ck_assert_str_eq(th_str(TH_AT(j, "computed", "header_hash")), hh_hex);
    ck_assert(json_is_true(TH_AT(j, "computed", "data_hash_ok")));
    ck_assert_str_eq(th_str(TH_AT(j, "header", "data_hash")), dh_hex);
    json_t *cg = TH_AT(j, "data", "data", "0", "payload", "data", "config", "channel_group");
    ck_assert_str_eq(
        th_str(TH_AT(j, "data", "data", "0", "payload", "header", "channel_header", "type_name")),
        "CONFIG");
    json_t *apps = TH_AT(cg, "groups", "Application", "groups");
    ck_assert_str_eq(th_str(TH_AT(apps, "Org1MSP", "values", "MSP", "value", "config", "name")),
                     "Org1MSP");
    ck_assert_str_eq(th_str(TH_AT(apps, "Org2MSP", "values", "MSP", "value", "config", "name")),
                     "Org2MSP");
    ck_assert_ptr_nonnull(strstr(
        th_str(TH_AT(apps, "Org1MSP", "values", "MSP", "value", "config", "root_certs", "0")),
        "-----BEGIN CERTIFICATE-----"));
    ck_assert_str_eq(
        th_str(TH_AT(apps, "Org1MSP", "policies", "Endorsement", "policy", "value", "dsl")),
        "OR('Org1MSP.peer')");
    json_t *ord = TH_AT(cg, "groups", "Orderer");
    ck_assert_str_eq(
        th_str(TH_AT(ord, "groups", "OrdererOrg", "values", "MSP", "value", "config", "name")),
        "OrdererMSP");
    json_t *bs = TH_AT(ord, "values", "BatchSize", "value");
    ck_assert_int_eq(json_integer_value(TH_AT(bs, "max_message_count")), 50);
    ck_assert_int_eq(json_integer_value(TH_AT(bs, "absolute_max_bytes")), 2 << 20);
    ck_assert_int_eq(json_integer_value(TH_AT(bs, "preferred_max_bytes")), 256 << 10);
    ck_assert_str_eq(th_str(TH_AT(ord, "values", "BatchTimeout", "value", "timeout")), "250ms");
    ck_assert_str_eq(
        th_str(TH_AT(ord, "policies", "BlockValidation", "policy", "value", "sub_policy")),
        "Writers");
    json_t *cc =
        TH_AT(cg, "groups", "Application", "values", "WeftChaincodes", "value", "chaincodes", "0");
    ck_assert_str_eq(th_str(TH_AT(cc, "name")), "basic");
    ck_assert_str_eq(th_str(TH_AT(cc, "version")), "1.0");
    ck_assert_str_eq(th_str(TH_AT(cc, "sequence")), "1");
    ck_assert_str_eq(th_str(TH_AT(cc, "endorsement_policy", "signature_policy", "dsl")),
                     "AND('Org1MSP.peer', 'Org2MSP.peer')");
    json_decref(j);

    /* the channel config module loads it, and the policies work with cryptogen's peers */
    struct lc_chconf *conf = NULL;
    struct lc_errbuf e;
    ck_assert_msg(lc_chconf_from_block_bytes(g.raw, g.len, 16, &e, &conf) == 0, "chconf: %s",
                  e.msg);
    ck_assert_str_eq(lc_chconf_channel_id(conf), "mychannel");
    ck_assert_uint_eq(lc_chconf_app_org_count(conf), 2);
    ck_assert_uint_eq(lc_chconf_orderer_org_count(conf), 1);
    ck_assert_uint_eq(lc_chconf_batch_max_message_count(conf), 50);
    ck_assert_uint_eq(lc_chconf_batch_timeout_ns(conf), 250000000ull);
    ck_assert_str_eq(lc_chconf_consensus_type(conf), "solo");
    ck_assert_str_eq(lc_chconf_orderer_address(conf, 0), "orderer0.example.com:7050");
    ck_assert_ptr_nonnull(lc_chconf_chaincode(conf, "basic"));
    struct lc_signer *s1 = peer_signer(dir, 1), *s2 = peer_signer(dir, 2);
    static const char data[] = "endorsed bytes";
    uint8_t sig1[LC_ECDSA_SIG_MAX], sig2[LC_ECDSA_SIG_MAX];
    size_t l1, l2, id1_len, id2_len;
    ck_assert_int_eq(lc_signer_sign(s1, data, sizeof data, sig1, &l1), 0);
    ck_assert_int_eq(lc_signer_sign(s2, data, sizeof data, sig2, &l2), 0);
    const uint8_t *id1 = lc_signer_serialized(s1, &id1_len),
                  *id2 = lc_signer_serialized(s2, &id2_len);
    struct lc_signed_data sd[2] = {
        {(const uint8_t *)data, sizeof data, id1, id1_len, sig1, l1},
        {(const uint8_t *)data, sizeof data, id2, id2_len, sig2, l2},
    };
    ck_assert_msg(lc_chconf_chaincode_policy_eval(conf, "basic", sd, 2, &e) == 0, "%s", e.msg);
    ck_assert_int_eq(lc_chconf_chaincode_policy_eval(conf, "basic", sd, 1, &e), LC_EPOLICY);
    ck_assert_msg(lc_chconf_policy_eval(conf, "/Channel/Application/Writers", sd, 1, &e) == 0, "%s",
                  e.msg);
    lc_signer_free(s1);
    lc_signer_free(s2);
    lc_chconf_free(conf);
    gblock_free(&g);
    th_rmtree(dir);
    free(dir);
}
END_TEST

Suite *genesis_suite(void)
{
    Suite *s = suite_create("genesis");
    TCase *tc = tcase_create("genesis");
    tcase_add_test(tc, genesis_writes_configtxgen_tree);
    tcase_add_test(tc, genesis_is_deterministic_given_time_and_nonce);
    tcase_add_test(tc, genesis_kafka_and_json_profile);
    tcase_add_loop_test(tc, genesis_profile_errors_name_key_and_problem, 0,
                        (int)(sizeof bad_profiles / sizeof bad_profiles[0]));
    tcase_add_test(tc, genesis_flag_errors);
    tcase_add_test(tc, cryptogen_genesis_inspect_round_trip);
    suite_add_tcase(s, tc);
    return s;
}
