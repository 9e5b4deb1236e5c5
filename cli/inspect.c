/* SPDX-License-Identifier: Apache-2.0 */
/* `weft inspect`: decodes blocks, envelopes, proposals and responses, every nested layer, to JSON.
 */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "cli/cmds.h"
#include "common/common.pb-c.h"
#include "common/configtx.pb-c.h"
#include "common/configuration.pb-c.h"
#include "common/policies.pb-c.h"
#include "ledger/rwset/kvrwset/kv_rwset.pb-c.h"
#include "ledger/rwset/rwset.pb-c.h"
#include "libcommon/conf.h"
#include "libcommon/crypto.h"
#include "libcommon/policy.h"
#include "libcommon/wire.h"
#include "msp/identities.pb-c.h"
#include "msp/msp_config.pb-c.h"
#include "msp/msp_principal.pb-c.h"
#include "orderer/ab.pb-c.h"
#include "orderer/configuration.pb-c.h"
#include "orderer/kafka.pb-c.h"
#include "peer/chaincode.pb-c.h"
#include "peer/chaincode_event.pb-c.h"
#include "peer/configuration.pb-c.h"
#include "peer/proposal.pb-c.h"
#include "peer/proposal_response.pb-c.h"
#include "peer/transaction.pb-c.h"
#include "weft/config.pb-c.h"

/* Largest input file read, and the deepest message nesting printed (ConfigGroup and
 * SignaturePolicy are recursive; a real block nests about 20 levels, a 32-gate policy 64 more). */
#define INSPECT_MAX_INPUT (256u << 20)
#define INSPECT_MAX_DEPTH 128

/* Metadata.value is read by the block metadata slot it sits in; these name the non-slot uses. */
enum meta_ctx { META_NONE = -1, META_CONSENTER = -2 };

struct ins {
    struct lc_errbuf *err;
    int rc;         /* first error, 0 while all is well */
    bool auto_mode; /* guessing the type: reject shapes no real message has */
    int depth;
    int meta;        /* block metadata slot being printed, or enum meta_ctx */
    const char *key; /* key of the map entry being printed (ConfigGroup values) */
    char path[512];
    size_t plen;
};

static json_t *msg_json(struct ins *c, const ProtobufCMessage *m);

/* ---- errors and paths ---------------------------------------------------------------------- */

/* Appends fmt formatted with s, or "[i]" (an array index) when s is NULL. */
static size_t path_push(struct ins *c, const char *fmt, const char *s, size_t i)
{
    size_t mark = c->plen;
    if (c->plen < sizeof c->path - 1) {
        int n = s ? snprintf(c->path + c->plen, sizeof c->path - c->plen, fmt, s)
                  : snprintf(c->path + c->plen, sizeof c->path - c->plen, "[%zu]", i);
        if (n > 0)
            c->plen +=
                (size_t)n < sizeof c->path - c->plen ? (size_t)n : sizeof c->path - 1 - c->plen;
    }
    return mark;
}

static void path_pop(struct ins *c, size_t mark)
{
    c->plen = mark;
    c->path[mark] = '\0';
}

/* Records the first failure, prefixed with where it happened; returns NULL for chaining. */
static json_t *fail(struct ins *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static json_t *fail(struct ins *c, int code, const char *fmt, ...)
{
    if (c->rc)
        return NULL;
    c->rc = code;
    if (c->err) {
        char msg[sizeof c->err->msg];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        /* a deep path keeps its start and its end, so the message still names the layer */
        if (c->plen > 120)
            lc_fail(c->err, code, "%.50s...%s: %s", c->path, c->path + c->plen - 60, msg);
        else
            lc_fail(c->err, code, "%s: %s", c->path, msg);
    }
    return NULL;
}

static json_t *oom(struct ins *c)
{
    return fail(c, -ENOMEM, "out of memory");
}

/* Takes a new value into obj under key; a NULL value means a failure was already recorded (or
 * memory ran out). Returns 0 or -1. */
static int put(struct ins *c, json_t *obj, const char *key, json_t *val)
{
    if (!val) {
        if (!c->rc)
            oom(c);
        return -1;
    }
    if (json_object_set_new(obj, key, val) < 0) {
        fail(c, LC_EINVALID, "key '%.60s' is not valid UTF-8", key);
        return -1;
    }
    return 0;
}

static int append(struct ins *c, json_t *arr, json_t *val)
{
    if (!val) {
        if (!c->rc)
            oom(c);
        return -1;
    }
    if (json_array_append_new(arr, val) < 0) {
        oom(c);
        return -1;
    }
    return 0;
}

/* Unpacks with wire's uniform message, prefixed by the path; caller frees with
 * protobuf_c_message_free_unpacked. */
static ProtobufCMessage *unpack(struct ins *c, const ProtobufCMessageDescriptor *d,
                                const ProtobufCBinaryData *b)
{
    struct lc_errbuf e;
    ProtobufCMessage *m = NULL;
    int r = lc_wire_unpack(d, b->data, b->len, &m, &e);
    if (r < 0) {
        fail(c, r, "%s", e.msg);
        return NULL;
    }
    return m;
}

/* ---- leaf values ---------------------------------------------------------------------------- */

static json_t *j_hex(struct ins *c, const ProtobufCBinaryData *b)
{
    char *s = malloc(2 * b->len + 1);
    if (!s)
        return oom(c);
    lc_hex_encode(b->data, b->len, s);
    json_t *j = json_stringn_nocheck(s, 2 * b->len);
    free(s);
    return j ? j : oom(c);
}

static json_t *j_b64(struct ins *c, const uint8_t *p, size_t n)
{
    size_t cap = sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL);
    char *s = malloc(cap);
    if (!s)
        return oom(c);
    sodium_bin2base64(s, cap, p, n, sodium_base64_VARIANT_ORIGINAL);
    json_t *j = json_string_nocheck(s);
    free(s);
    return j ? j : oom(c);
}

/* Text that a person can read: valid UTF-8 without control characters other than tab and
 * newlines. Anything else is shown as {"base64": "..."} so the two never look alike. */
static json_t *j_text(struct ins *c, const uint8_t *p, size_t n)
{
    bool printable = true;
    for (size_t i = 0; i < n && printable; i++)
        if ((p[i] < 0x20 && p[i] != '\t' && p[i] != '\n' && p[i] != '\r') || p[i] == 0x7f)
            printable = false;
    if (printable) {
        json_t *j = json_stringn((const char *)p, n); /* NULL when not UTF-8 */
        if (j)
            return j;
    }
    json_t *o = json_object();
    if (!o)
        return oom(c);
    if (put(c, o, "base64", j_b64(c, p, n)) < 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *j_u64(struct ins *c, uint64_t v)
{
    char s[24];
    snprintf(s, sizeof s, "%" PRIu64, v);
    json_t *j = json_string(s);
    return j ? j : oom(c);
}

static json_t *j_i64(struct ins *c, int64_t v)
{
    char s[24];
    snprintf(s, sizeof s, "%" PRId64, v);
    json_t *j = json_string(s);
    return j ? j : oom(c);
}

static const char *enum_name(const ProtobufCEnumDescriptor *d, int v)
{
    const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(d, v);
    return ev ? ev->name : NULL;
}

static json_t *j_enum(struct ins *c, const ProtobufCEnumDescriptor *d, int v)
{
    const char *name = enum_name(d, v);
    json_t *j = name ? json_string(name) : json_integer(v);
    return j ? j : oom(c);
}

/* ---- context-dependent decoders (bytes fields that hold other messages) ---------------------- */

static json_t *as_msg(struct ins *c, const ProtobufCMessageDescriptor *d,
                      const ProtobufCBinaryData *b)
{
    ProtobufCMessage *m = unpack(c, d, b);
    if (!m)
        return NULL;
    json_t *j = msg_json(c, m);
    protobuf_c_message_free_unpacked(m, NULL);
    return j;
}

/* The header type of a Header's raw channel_header, or -1 (decode errors show elsewhere). */
static int header_type(const ProtobufCBinaryData *chdr)
{
    Common__ChannelHeader *ch = NULL;
    if (lc_wire_unpack(&common__channel_header__descriptor, chdr->data, chdr->len,
                       (ProtobufCMessage **)&ch, NULL) < 0)
        return -1;
    int t = ch->type;
    common__channel_header__free_unpacked(ch, NULL);
    return t;
}

static json_t *h_hex(struct ins *c, const ProtobufCMessage *parent, const ProtobufCBinaryData *b)
{
    (void)parent;
    return j_hex(c, b);
}

static json_t *h_text(struct ins *c, const ProtobufCMessage *parent, const ProtobufCBinaryData *b)
{
    (void)parent;
    return j_text(c, b->data, b->len);
}

/* A serialized identity (creator, endorser); an empty one (the genesis creator) is null. */
static json_t *h_identity(struct ins *c, const ProtobufCMessage *parent,
                          const ProtobufCBinaryData *b)
{
    (void)parent;
    if (b->len == 0)
        return json_null();
    return as_msg(c, &msp__serialized_identity__descriptor, b);
}

/* An empty optional sub-message (no events, no results) is null rather than a default object. */
static json_t *h_event(struct ins *c, const ProtobufCMessage *parent, const ProtobufCBinaryData *b)
{
    (void)parent;
    return b->len ? as_msg(c, &protos__chaincode_event__descriptor, b) : json_null();
}

static json_t *h_results(struct ins *c, const ProtobufCMessage *parent,
                         const ProtobufCBinaryData *b)
{
    (void)parent;
    return b->len ? as_msg(c, &rwset__tx_read_write_set__descriptor, b) : json_null();
}

/* Payload.data by the header type. */
static json_t *h_payload_data(struct ins *c, const ProtobufCMessage *parent,
                              const ProtobufCBinaryData *b)
{
    const Common__Payload *p = (const Common__Payload *)parent;
    int t = p->header ? header_type(&p->header->channel_header) : -1;
    switch (t) {
    case COMMON__HEADER_TYPE__CONFIG:
        return as_msg(c, &common__config_envelope__descriptor, b);
    case COMMON__HEADER_TYPE__CONFIG_UPDATE:
        return as_msg(c, &common__config_update_envelope__descriptor, b);
    case COMMON__HEADER_TYPE__ENDORSER_TRANSACTION:
        return as_msg(c, &protos__transaction__descriptor, b);
    case COMMON__HEADER_TYPE__DELIVER_SEEK_INFO:
        return as_msg(c, &orderer__seek_info__descriptor, b);
    default:
        if (c->auto_mode && t < 0)
            return fail(c, LC_EINVALID, "payload without a channel header");
        return j_b64(c, b->data, b->len);
    }
}

static json_t *h_chdr_extension(struct ins *c, const ProtobufCMessage *parent,
                                const ProtobufCBinaryData *b)
{
    const Common__ChannelHeader *ch = (const Common__ChannelHeader *)parent;
    if (ch->type == COMMON__HEADER_TYPE__ENDORSER_TRANSACTION)
        return as_msg(c, &protos__chaincode_header_extension__descriptor, b);
    return j_b64(c, b->data, b->len);
}

static json_t *h_proposal_payload(struct ins *c, const ProtobufCMessage *parent,
                                  const ProtobufCBinaryData *b)
{
    const Protos__Proposal *p = (const Protos__Proposal *)parent;
    Common__Header *h = NULL;
    int t = -1;
    if (lc_wire_unpack(&common__header__descriptor, p->header.data, p->header.len,
                       (ProtobufCMessage **)&h, NULL) == 0) {
        t = header_type(&h->channel_header);
        common__header__free_unpacked(h, NULL);
    }
    if (t == COMMON__HEADER_TYPE__ENDORSER_TRANSACTION)
        return as_msg(c, &protos__chaincode_proposal_payload__descriptor, b);
    return j_b64(c, b->data, b->len);
}

/* ConfigValue.value by the key it is stored under. */
static const struct {
    const char *key;
    const ProtobufCMessageDescriptor *desc;
} config_values[] = {
    {"HashingAlgorithm", &common__hashing_algorithm__descriptor},
    {"BlockDataHashingStructure", &common__block_data_hashing_structure__descriptor},
    {"OrdererAddresses", &common__orderer_addresses__descriptor},
    {"Endpoints", &common__orderer_addresses__descriptor},
    {"Consortium", &common__consortium__descriptor},
    {"Capabilities", &common__capabilities__descriptor},
    {"BatchSize", &orderer__batch_size__descriptor},
    {"BatchTimeout", &orderer__batch_timeout__descriptor},
    {"ChannelRestrictions", &orderer__channel_restrictions__descriptor},
    {"KafkaBrokers", &orderer__kafka_brokers__descriptor},
    {"ConsensusType", &orderer__consensus_type__descriptor},
    {"MSP", &msp__mspconfig__descriptor},
    {"AnchorPeers", &protos__anchor_peers__descriptor},
    {"ACLs", &protos__acls__descriptor},
    {"WeftChaincodes", &weft__chaincode_definitions__descriptor},
};

static json_t *h_config_value(struct ins *c, const ProtobufCMessage *parent,
                              const ProtobufCBinaryData *b)
{
    (void)parent;
    for (size_t i = 0; c->key && i < sizeof config_values / sizeof config_values[0]; i++)
        if (strcmp(c->key, config_values[i].key) == 0)
            return as_msg(c, config_values[i].desc, b);
    return j_b64(c, b->data, b->len); /* a value weft does not know: raw */
}

static json_t *h_policy_value(struct ins *c, const ProtobufCMessage *parent,
                              const ProtobufCBinaryData *b)
{
    const Common__Policy *p = (const Common__Policy *)parent;
    switch (p->type) {
    case COMMON__POLICY__POLICY_TYPE__SIGNATURE:
        return as_msg(c, &common__signature_policy_envelope__descriptor, b);
    case COMMON__POLICY__POLICY_TYPE__IMPLICIT_META:
        return as_msg(c, &common__implicit_meta_policy__descriptor, b);
    default:
        return j_b64(c, b->data, b->len);
    }
}

static json_t *h_principal(struct ins *c, const ProtobufCMessage *parent,
                           const ProtobufCBinaryData *b)
{
    const Common__MSPPrincipal *p = (const Common__MSPPrincipal *)parent;
    switch (p->principal_classification) {
    case COMMON__MSPPRINCIPAL__CLASSIFICATION__ROLE:
        return as_msg(c, &common__msprole__descriptor, b);
    case COMMON__MSPPRINCIPAL__CLASSIFICATION__ORGANIZATION_UNIT:
        return as_msg(c, &common__organization_unit__descriptor, b);
    case COMMON__MSPPRINCIPAL__CLASSIFICATION__IDENTITY:
        return as_msg(c, &msp__serialized_identity__descriptor, b);
    case COMMON__MSPPRINCIPAL__CLASSIFICATION__ANONYMITY:
        return as_msg(c, &common__mspidentity_anonymity__descriptor, b);
    case COMMON__MSPPRINCIPAL__CLASSIFICATION__COMBINED:
        return as_msg(c, &common__combined_principal__descriptor, b);
    default:
        return j_b64(c, b->data, b->len);
    }
}

static json_t *h_msp_config(struct ins *c, const ProtobufCMessage *parent,
                            const ProtobufCBinaryData *b)
{
    const Msp__MSPConfig *m = (const Msp__MSPConfig *)parent;
    if (m->type == 0) /* FABRIC */
        return as_msg(c, &msp__fabric_mspconfig__descriptor, b);
    return j_b64(c, b->data, b->len);
}

/* Metadata.value by the block metadata slot (wire facts section 5). */
static json_t *h_metadata_value(struct ins *c, const ProtobufCMessage *parent,
                                const ProtobufCBinaryData *b)
{
    (void)parent;
    switch (c->meta) {
    case COMMON__BLOCK_METADATA_INDEX__SIGNATURES:
        return as_msg(c, &common__orderer_block_metadata__descriptor, b);
    case COMMON__BLOCK_METADATA_INDEX__LAST_CONFIG:
        return as_msg(c, &common__last_config__descriptor, b);
    case COMMON__BLOCK_METADATA_INDEX__COMMIT_HASH:
        return j_hex(c, b);
    case COMMON__BLOCK_METADATA_INDEX__ORDERER:
    case META_CONSENTER: {
        /* Kafka's offsets when they decode as such (solo leaves this empty). */
        Orderer__KafkaMetadata *km = NULL;
        if (b->len && lc_wire_unpack(&orderer__kafka_metadata__descriptor, b->data, b->len,
                                     (ProtobufCMessage **)&km, NULL) == 0) {
            json_t *o = json_object();
            if (!o || put(c, o, "kafka_metadata", msg_json(c, &km->base)) < 0) {
                json_decref(o);
                o = o ? NULL : oom(c);
            }
            orderer__kafka_metadata__free_unpacked(km, NULL);
            return o;
        }
        return j_b64(c, b->data, b->len);
    }
    default:
        return j_b64(c, b->data, b->len);
    }
}

static json_t *h_consenter_metadata(struct ins *c, const ProtobufCMessage *parent,
                                    const ProtobufCBinaryData *b)
{
    (void)parent;
    if (b->len == 0)
        return json_null();
    int saved = c->meta;
    c->meta = META_CONSENTER;
    json_t *j = as_msg(c, &common__metadata__descriptor, b);
    c->meta = saved;
    return j;
}

/* One BlockMetadata entry: null when empty, else the decoded slot with its name. */
static json_t *metadata_entry(struct ins *c, size_t i, const ProtobufCBinaryData *b)
{
    if (b->len == 0)
        return json_null();
    json_t *o = json_object();
    if (!o)
        return oom(c);
    const char *name = enum_name(&common__block_metadata_index__descriptor, (int)i);
    if (name && put(c, o, "name", json_string(name)) < 0)
        goto fail;
    if (i == COMMON__BLOCK_METADATA_INDEX__TRANSACTIONS_FILTER) {
        json_t *codes = json_array();
        if (put(c, o, "codes", codes) < 0)
            goto fail;
        for (size_t k = 0; k < b->len; k++)
            if (append(c, codes, j_enum(c, &protos__tx_validation_code__descriptor, b->data[k])) <
                0)
                goto fail;
        return o;
    }
    if (i > COMMON__BLOCK_METADATA_INDEX__COMMIT_HASH) {
        if (put(c, o, "base64", j_b64(c, b->data, b->len)) < 0)
            goto fail;
        return o;
    }
    int saved = c->meta;
    c->meta = (int)i;
    json_t *m = as_msg(c, &common__metadata__descriptor, b);
    c->meta = saved;
    if (!m)
        goto fail;
    json_object_update_new(o, m); /* name first, then the Metadata fields */
    return o;
fail:
    json_decref(o);
    return NULL;
}

/* ---- hooks: which bytes fields hold what ---------------------------------------------------- */

typedef json_t *(*bytes_fn)(struct ins *c, const ProtobufCMessage *parent,
                            const ProtobufCBinaryData *b);

static const struct bytes_hook {
    const ProtobufCMessageDescriptor *msg;
    const char *field;
    bytes_fn fn;                          /* or: */
    const ProtobufCMessageDescriptor *as; /* decode as this message */
} bytes_hooks[] = {
    {&common__block_header__descriptor, "previous_hash", h_hex, NULL},
    {&common__block_header__descriptor, "data_hash", h_hex, NULL},
    {&common__block_data__descriptor, "data", NULL, &common__envelope__descriptor},
    {&common__envelope__descriptor, "payload", NULL, &common__payload__descriptor},
    {&common__envelope__descriptor, "signature", h_hex, NULL},
    {&common__header__descriptor, "channel_header", NULL, &common__channel_header__descriptor},
    {&common__header__descriptor, "signature_header", NULL, &common__signature_header__descriptor},
    {&common__channel_header__descriptor, "extension", h_chdr_extension, NULL},
    {&common__channel_header__descriptor, "tls_cert_hash", h_hex, NULL},
    {&common__signature_header__descriptor, "creator", h_identity, NULL},
    {&common__signature_header__descriptor, "nonce", h_hex, NULL},
    {&common__payload__descriptor, "data", h_payload_data, NULL},
    {&common__metadata__descriptor, "value", h_metadata_value, NULL},
    {&common__metadata_signature__descriptor, "signature_header", NULL,
     &common__signature_header__descriptor},
    {&common__metadata_signature__descriptor, "signature", h_hex, NULL},
    {&common__orderer_block_metadata__descriptor, "consenter_metadata", h_consenter_metadata, NULL},
    {&common__config_value__descriptor, "value", h_config_value, NULL},
    {&common__policy__descriptor, "value", h_policy_value, NULL},
    {&common__config_update_envelope__descriptor, "config_update", NULL,
     &common__config_update__descriptor},
    {&common__config_signature__descriptor, "signature_header", NULL,
     &common__signature_header__descriptor},
    {&common__config_signature__descriptor, "signature", h_hex, NULL},
    {&common__mspprincipal__descriptor, "principal", h_principal, NULL},
    {&common__organization_unit__descriptor, "certifiers_identifier", h_hex, NULL},
    {&msp__serialized_identity__descriptor, "id_bytes", h_text, NULL},
    {&msp__mspconfig__descriptor, "config", h_msp_config, NULL},
    {&msp__fabric_mspconfig__descriptor, "root_certs", h_text, NULL},
    {&msp__fabric_mspconfig__descriptor, "intermediate_certs", h_text, NULL},
    {&msp__fabric_mspconfig__descriptor, "admins", h_text, NULL},
    {&msp__fabric_mspconfig__descriptor, "revocation_list", h_text, NULL},
    {&msp__fabric_mspconfig__descriptor, "tls_root_certs", h_text, NULL},
    {&msp__fabric_mspconfig__descriptor, "tls_intermediate_certs", h_text, NULL},
    {&msp__fabric_ouidentifier__descriptor, "certificate", h_text, NULL},
    {&msp__signing_identity_info__descriptor, "public_signer", h_text, NULL},
    {&protos__signed_proposal__descriptor, "proposal_bytes", NULL, &protos__proposal__descriptor},
    {&protos__signed_proposal__descriptor, "signature", h_hex, NULL},
    {&protos__proposal__descriptor, "header", NULL, &common__header__descriptor},
    {&protos__proposal__descriptor, "payload", h_proposal_payload, NULL},
    {&protos__chaincode_proposal_payload__descriptor, "input", NULL,
     &protos__chaincode_invocation_spec__descriptor},
    {&protos__chaincode_input__descriptor, "args", h_text, NULL},
    {&protos__transaction_action__descriptor, "header", NULL,
     &common__signature_header__descriptor},
    {&protos__transaction_action__descriptor, "payload", NULL,
     &protos__chaincode_action_payload__descriptor},
    {&protos__chaincode_action_payload__descriptor, "chaincode_proposal_payload", NULL,
     &protos__chaincode_proposal_payload__descriptor},
    {&protos__chaincode_endorsed_action__descriptor, "proposal_response_payload", NULL,
     &protos__proposal_response_payload__descriptor},
    {&protos__endorsement__descriptor, "endorser", h_identity, NULL},
    {&protos__endorsement__descriptor, "signature", h_hex, NULL},
    {&protos__proposal_response__descriptor, "payload", NULL,
     &protos__proposal_response_payload__descriptor},
    {&protos__proposal_response_payload__descriptor, "proposal_hash", h_hex, NULL},
    {&protos__proposal_response_payload__descriptor, "extension", NULL,
     &protos__chaincode_action__descriptor},
    {&protos__chaincode_action__descriptor, "results", h_results, NULL},
    {&protos__chaincode_action__descriptor, "events", h_event, NULL},
    {&protos__response__descriptor, "payload", h_text, NULL},
    {&protos__chaincode_event__descriptor, "payload", h_text, NULL},
    {&rwset__ns_read_write_set__descriptor, "rwset", NULL, &kvrwset__kvrwset__descriptor},
    {&rwset__collection_hashed_read_write_set__descriptor, "pvt_rwset_hash", h_hex, NULL},
    {&kvrwset__kvwrite__descriptor, "value", h_text, NULL},
    {&kvrwset__kvmetadata_entry__descriptor, "value", h_text, NULL},
    {&kvrwset__query_reads_merkle_summary__descriptor, "max_level_hashes", h_hex, NULL},
};

static const struct bytes_hook *find_hook(const ProtobufCMessageDescriptor *d, const char *field)
{
    for (size_t i = 0; i < sizeof bytes_hooks / sizeof bytes_hooks[0]; i++)
        if (bytes_hooks[i].msg == d && strcmp(bytes_hooks[i].field, field) == 0)
            return &bytes_hooks[i];
    return NULL;
}

/* ---- whole-message overrides and additions ------------------------------------------------- */

/* RFC 3339 in UTC ("2024-05-01T12:00:00Z", nanoseconds only when set); out-of-range values stay
 * numeric. */
static json_t *timestamp_json(struct ins *c, const Google__Protobuf__Timestamp *ts)
{
    struct tm tm;
    time_t t = (time_t)ts->seconds;
    /* 0001-01-01 .. 9999-12-31, the range RFC 3339 and protobuf's JSON mapping allow */
    bool ok = ts->seconds >= -62135596800LL && ts->seconds <= 253402300799LL && ts->nanos >= 0 &&
              ts->nanos < 1000000000 && (int64_t)t == ts->seconds && gmtime_r(&t, &tm);
    if (!ok) {
        json_t *o = json_object();
        if (!o || put(c, o, "seconds", j_i64(c, ts->seconds)) < 0 ||
            put(c, o, "nanos", json_integer(ts->nanos)) < 0) {
            json_decref(o);
            return o ? NULL : oom(c);
        }
        return o;
    }
    char s[64];
    size_t n = strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (ts->nanos)
        snprintf(s + n, sizeof s - n, ".%09dZ", (int)ts->nanos);
    else
        snprintf(s + n, sizeof s - n, "Z");
    json_t *j = json_string(s);
    return j ? j : oom(c);
}

static int add_type_name(struct ins *c, json_t *o, const ProtobufCEnumDescriptor *d, int v)
{
    const char *name = enum_name(d, v);
    return name ? put(c, o, "type_name", json_string(name)) : 0;
}

/* Adds what a reader wants next to the raw fields; in auto mode also rejects shapes that no real
 * message of the guessed type has. Returns 0 or -1 (failure recorded). */
static int post(struct ins *c, const ProtobufCMessage *m, json_t *o)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    if (d == &common__channel_header__descriptor)
        return add_type_name(c, o, &common__header_type__descriptor,
                             ((const Common__ChannelHeader *)m)->type);
    if (d == &common__policy__descriptor)
        return add_type_name(c, o, &common__policy__policy_type__descriptor,
                             ((const Common__Policy *)m)->type);
    if (d == &msp__mspconfig__descriptor) {
        int t = ((const Msp__MSPConfig *)m)->type;
        return put(c, o, "type_name", json_string(t == 0 ? "FABRIC" : t == 1 ? "IDEMIX" : "?"));
    }
    if (d == &common__signature_policy_envelope__descriptor) {
        char *text = NULL;
        struct lc_errbuf e;
        if (lc_policy_print((const Common__SignaturePolicyEnvelope *)m, &text, &e) == 0) {
            int r = put(c, o, "dsl", json_string(text));
            free(text);
            return r;
        }
        return put(c, o, "dsl_error", json_string(e.msg));
    }
    if (d == &msp__serialized_identity__descriptor) {
        const Msp__SerializedIdentity *id = (const Msp__SerializedIdentity *)m;
        struct lc_cert *cert = NULL;
        struct lc_errbuf e;
        if (id->id_bytes.len == 0)
            return 0;
        if (lc_cert_from_pem(id->id_bytes.data, id->id_bytes.len, &e, &cert) < 0)
            return put(c, o, "cert_error", json_string(e.msg));
        int r = put(c, o, "subject", json_string(lc_cert_subject_str(cert)));
        if (r == 0)
            r = put(c, o, "issuer", json_string(lc_cert_issuer_str(cert)));
        lc_cert_unref(cert);
        return r;
    }
    if (!c->auto_mode)
        return 0;
    if (d == &common__payload__descriptor && !((const Common__Payload *)m)->header)
        return fail(c, LC_EINVALID, "payload without a header"), -1;
    if (d == &common__header__descriptor && ((const Common__Header *)m)->channel_header.len == 0)
        return fail(c, LC_EINVALID, "header without a channel header"), -1;
    if (d == &protos__transaction__descriptor && ((const Protos__Transaction *)m)->n_actions == 0)
        return fail(c, LC_EINVALID, "transaction without actions"), -1;
    if (d == &protos__chaincode_action_payload__descriptor &&
        !((const Protos__ChaincodeActionPayload *)m)->action)
        return fail(c, LC_EINVALID, "action payload without an endorsed action"), -1;
    if (d == &protos__proposal__descriptor && ((const Protos__Proposal *)m)->header.len == 0)
        return fail(c, LC_EINVALID, "proposal without a header"), -1;
    if (d == &protos__chaincode_invocation_spec__descriptor &&
        !((const Protos__ChaincodeInvocationSpec *)m)->chaincode_spec)
        return fail(c, LC_EINVALID, "invocation without a chaincode spec"), -1;
    return 0;
}

/* ---- the generic walker -------------------------------------------------------------------- */

static bool is_map_entry(const ProtobufCFieldDescriptor *f)
{
    if (f->type != PROTOBUF_C_TYPE_MESSAGE)
        return false;
    const ProtobufCMessageDescriptor *d = f->descriptor;
    size_t nl = strlen(d->name);
    return d->n_fields == 2 && nl > 5 && strcmp(d->name + nl - 5, "Entry") == 0 &&
           strcmp(d->fields[0].name, "key") == 0 && strcmp(d->fields[1].name, "value") == 0 &&
           d->fields[0].type == PROTOBUF_C_TYPE_STRING;
}

/* One value of field f stored at p (an element of a repeated field, or the field itself). */
static json_t *value_json(struct ins *c, const ProtobufCMessage *parent,
                          const ProtobufCFieldDescriptor *f, const void *p)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return json_integer(*(const int32_t *)p);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return json_integer(*(const uint32_t *)p);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return j_i64(c, *(const int64_t *)p);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return j_u64(c, *(const uint64_t *)p);
    case PROTOBUF_C_TYPE_FLOAT:
        return json_real(*(const float *)p);
    case PROTOBUF_C_TYPE_DOUBLE:
        return json_real(*(const double *)p);
    case PROTOBUF_C_TYPE_BOOL:
        return json_boolean(*(const protobuf_c_boolean *)p);
    case PROTOBUF_C_TYPE_ENUM:
        return j_enum(c, f->descriptor, *(const int *)p);
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)p;
        return s ? j_text(c, (const uint8_t *)s, strlen(s)) : json_null();
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *b = p;
        const struct bytes_hook *h = find_hook(parent->descriptor, f->name);
        if (!h)
            return j_b64(c, b->data, b->len);
        return h->fn ? h->fn(c, parent, b) : as_msg(c, h->as, b);
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *m = *(const ProtobufCMessage *const *)p;
        return m ? msg_json(c, m) : json_null();
    }
    }
    return fail(c, LC_EINVALID, "field %s has an unknown type", f->name);
}

static size_t elem_size(const ProtobufCFieldDescriptor *f)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_FLOAT:
        return 4;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_ENUM:
        return sizeof(int);
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(void *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    }
    return 0;
}

static json_t *repeated_json(struct ins *c, const ProtobufCMessage *m,
                             const ProtobufCFieldDescriptor *f)
{
    size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
    const char *arr = *(const char *const *)((const char *)m + f->offset);
    bool map = is_map_entry(f);
    json_t *out = map ? json_object() : json_array();
    if (!out)
        return oom(c);
    for (size_t i = 0; i < n; i++) {
        if (map) {
            const ProtobufCMessage *e = ((const ProtobufCMessage *const *)arr)[i];
            const char *key = *(char *const *)((const char *)e + e->descriptor->fields[0].offset);
            const ProtobufCFieldDescriptor *vf = &e->descriptor->fields[1];
            size_t mark = path_push(c, "[\"%.60s\"]", key ? key : "", 0);
            const char *saved = c->key;
            c->key = key;
            json_t *v = value_json(c, e, vf, (const char *)e + vf->offset);
            c->key = saved;
            int r = put(c, out, key ? key : "", v);
            path_pop(c, mark);
            if (r < 0)
                goto fail;
            continue;
        }
        size_t mark = path_push(c, NULL, NULL, i);
        json_t *v;
        if (m->descriptor == &common__block_metadata__descriptor)
            v = metadata_entry(c, i, &((const ProtobufCBinaryData *)arr)[i]);
        else
            v = value_json(c, m, f, arr + i * elem_size(f));
        int r = append(c, out, v);
        path_pop(c, mark);
        if (r < 0)
            goto fail;
    }
    return out;
fail:
    json_decref(out);
    return NULL;
}

/* Every field of m in field-number order, by name; oneofs show only the member that is set. */
static json_t *msg_json(struct ins *c, const ProtobufCMessage *m)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    if (c->depth >= INSPECT_MAX_DEPTH)
        return fail(c, LC_EINVALID, "%s: nested deeper than %d messages", d->name,
                    INSPECT_MAX_DEPTH);
    if (d == &google__protobuf__timestamp__descriptor)
        return timestamp_json(c, (const Google__Protobuf__Timestamp *)m);
    c->depth++;
    json_t *o = json_object();
    if (!o) {
        c->depth--;
        return oom(c);
    }
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const char *base = (const char *)m;
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            if (*(const uint32_t *)(base + f->quantifier_offset) != f->id)
                continue;
        } else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_MESSAGE &&
                   f->type != PROTOBUF_C_TYPE_STRING) {
            if (!*(const protobuf_c_boolean *)(base + f->quantifier_offset))
                continue;
        }
        size_t mark = path_push(c, ".%s", f->name, 0);
        json_t *v = f->label == PROTOBUF_C_LABEL_REPEATED ? repeated_json(c, m, f)
                                                          : value_json(c, m, f, base + f->offset);
        int r = put(c, o, f->name, v);
        path_pop(c, mark);
        if (r < 0)
            goto fail;
    }
    if (post(c, m, o) < 0)
        goto fail;
    c->depth--;
    return o;
fail:
    c->depth--;
    json_decref(o);
    return NULL;
}

/* ---- entry points -------------------------------------------------------------------------- */

static const struct {
    const char *name; /* for --type and messages */
    const char *root; /* first path segment */
    const ProtobufCMessageDescriptor *desc;
} types[] = {
    [WEFT_INSPECT_AUTO] = {"auto", "input", NULL},
    [WEFT_INSPECT_BLOCK] = {"block", "block", &common__block__descriptor},
    [WEFT_INSPECT_ENVELOPE] = {"envelope", "envelope", &common__envelope__descriptor},
    [WEFT_INSPECT_PROPOSAL] = {"proposal", "proposal", &protos__proposal__descriptor},
    [WEFT_INSPECT_SIGNED_PROPOSAL] = {"signed-proposal", "signed_proposal",
                                      &protos__signed_proposal__descriptor},
    [WEFT_INSPECT_PROPOSAL_RESPONSE] = {"proposal-response", "proposal_response",
                                        &protos__proposal_response__descriptor},
    [WEFT_INSPECT_CONFIG_ENVELOPE] = {"config-envelope", "config_envelope",
                                      &common__config_envelope__descriptor},
};

/* Shape checks on the outermost message when guessing (nested ones are in post()). */
static int root_plausible(struct ins *c, enum weft_inspect_type t, const ProtobufCMessage *m)
{
    switch (t) {
    case WEFT_INSPECT_BLOCK: {
        const Common__Block *b = (const Common__Block *)m;
        if (!b->header || !b->data || !b->metadata)
            return fail(c, LC_EINVALID, "no header, data or metadata"), -1;
        return 0;
    }
    case WEFT_INSPECT_ENVELOPE:
        if (((const Common__Envelope *)m)->payload.len == 0)
            return fail(c, LC_EINVALID, "empty payload"), -1;
        return 0;
    case WEFT_INSPECT_SIGNED_PROPOSAL:
        if (((const Protos__SignedProposal *)m)->proposal_bytes.len == 0 ||
            ((const Protos__SignedProposal *)m)->signature.len == 0)
            return fail(c, LC_EINVALID, "empty proposal_bytes or signature"), -1;
        return 0;
    case WEFT_INSPECT_PROPOSAL_RESPONSE:
        if (!((const Protos__ProposalResponse *)m)->response)
            return fail(c, LC_EINVALID, "no response"), -1;
        return 0;
    default:
        return 0;
    }
}

/* Adds what inspect computes for a block (not on the wire): the header hash, which the next block
 * must carry as previous_hash, and whether data_hash matches the data. */
static int block_computed(struct ins *c, const Common__Block *b, json_t *o)
{
    json_t *comp = json_object();
    if (put(c, o, "computed", comp) < 0)
        return -1;
    if (b->header) {
        uint8_t md[LC_WIRE_HASH_LEN];
        ProtobufCBinaryData bin = {.len = sizeof md, .data = md};
        if (lc_wire_header_hash(b->header, md) < 0)
            return oom(c), -1;
        if (put(c, comp, "header_hash", j_hex(c, &bin)) < 0)
            return -1;
    }
    if (b->header && b->data) {
        int r = lc_wire_block_check_data_hash(b, NULL);
        if (r != 0 && r != LC_EMISMATCH)
            return oom(c), -1;
        if (put(c, comp, "data_hash_ok", json_boolean(r == 0)) < 0)
            return -1;
    }
    return 0;
}

static json_t *decode_as(const uint8_t *buf, size_t len, enum weft_inspect_type t, bool auto_mode,
                         struct lc_errbuf *err, int *ret_rc)
{
    struct ins c = {.err = err, .auto_mode = auto_mode, .meta = META_NONE};
    path_push(&c, "%s", types[t].root, 0);
    ProtobufCBinaryData b = {.len = len, .data = (uint8_t *)buf};
    json_t *j = NULL;
    ProtobufCMessage *m = unpack(&c, types[t].desc, &b);
    if (m && (!auto_mode || root_plausible(&c, t, m) == 0)) {
        j = msg_json(&c, m);
        if (j && t == WEFT_INSPECT_BLOCK && block_computed(&c, (const Common__Block *)m, j) < 0) {
            json_decref(j);
            j = NULL;
        }
    }
    protobuf_c_message_free_unpacked(m, NULL);
    *ret_rc = j ? 0 : c.rc ? c.rc : -ENOMEM;
    return j;
}

int weft_inspect_decode(const uint8_t *buf, size_t len, enum weft_inspect_type type,
                        json_t **ret_json, enum weft_inspect_type *ret_type, struct lc_errbuf *err)
{
    int rc;
    if (type < WEFT_INSPECT_AUTO || type > WEFT_INSPECT_CONFIG_ENVELOPE)
        return lc_fail(err, LC_EINVALID, "unknown inspect type %d", (int)type);
    if (len == 0) /* decodes as an all-default message of any type: never what was meant */
        return lc_fail(err, LC_EDECODE, "empty input");
    if (type != WEFT_INSPECT_AUTO) {
        json_t *j = decode_as(buf, len, type, false, err, &rc);
        if (!j)
            return rc;
        *ret_json = j;
        if (ret_type)
            *ret_type = type;
        return 0;
    }
    /* The guess order: a block is the most constrained shape; an envelope and a signed proposal
     * have the same outer wire shape, and an envelope is checked first because its inner layers
     * (Payload.data as a Transaction with endorsed actions) are the stricter test. */
    static const enum weft_inspect_type order[] = {WEFT_INSPECT_BLOCK, WEFT_INSPECT_ENVELOPE,
                                                   WEFT_INSPECT_SIGNED_PROPOSAL,
                                                   WEFT_INSPECT_PROPOSAL_RESPONSE};
    struct lc_errbuf why[4];
    int first_rc = LC_EDECODE;
    for (size_t i = 0; i < 4; i++) {
        json_t *j = decode_as(buf, len, order[i], true, &why[i], &rc);
        if (j) {
            *ret_json = j;
            if (ret_type)
                *ret_type = order[i];
            return 0;
        }
        if (rc == -ENOMEM)
            return lc_fail(err, rc, "out of memory");
        if (i == 0)
            first_rc = rc;
    }
    return lc_fail(err, first_rc,
                   "not a block, envelope, signed proposal or proposal response "
                   "(try --type): %.70s; %.70s; %.70s; %.70s",
                   why[0].msg, why[1].msg, why[2].msg, why[3].msg);
}

/* ---- the command --------------------------------------------------------------------------- */

static const char *const type_choices[] = {"auto",
                                           "block",
                                           "envelope",
                                           "proposal",
                                           "signed-proposal",
                                           "proposal-response",
                                           "config-envelope",
                                           NULL};

static const struct lc_conf_setting inspect_settings[] = {
    {.name = "type",
     .type = LC_CONF_ENUM,
     .def = "auto",
     .choices = type_choices,
     .help = "What FILE holds. auto tries block, envelope, signed-proposal, then "
             "proposal-response, and takes the first whose every layer decodes with the shape a "
             "real message of that type has."},
    {.name = "json",
     .type = LC_CONF_BOOL,
     .def = "false",
     .help = "Print compact JSON on one line instead of indented JSON."},
};

static const struct lc_conf_def inspect_def = {
    .service = "inspect",
    .program = "weft inspect",
    .summary = "Decodes a protobuf file (every nested layer) to JSON on stdout. Field names are "
               "the proto names; 64-bit numbers are strings; hashes, signatures and nonces are "
               "hex; certificates and printable bytes are text, other bytes base64 (as "
               "{\"base64\": ...} where text could appear); timestamps are RFC 3339 UTC; a block "
               "also gets computed.header_hash and computed.data_hash_ok. FILE '-' reads stdin.",
    .args_usage = "FILE",
    .settings = inspect_settings,
    .n_settings = sizeof inspect_settings / sizeof inspect_settings[0],
};

/* Reads all of path ("-" = stdin) up to INSPECT_MAX_INPUT bytes; caller frees *ret_buf. */
static int read_input(const char *path, uint8_t **ret_buf, size_t *ret_len, struct lc_errbuf *err)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return lc_fail(err, -errno, "%s: %s", path, strerror(errno));
    size_t cap = 64 * 1024, len = 0;
    uint8_t *buf = malloc(cap);
    int r = 0;
    if (!buf) {
        r = lc_fail(err, -ENOMEM, "%s: out of memory", path);
        goto out;
    }
    for (;;) {
        if (len == cap) {
            if (cap >= INSPECT_MAX_INPUT) {
                r = lc_fail(err, LC_ETOOBIG, "%s: larger than %u bytes", path, INSPECT_MAX_INPUT);
                goto out;
            }
            cap = cap * 2 > INSPECT_MAX_INPUT ? INSPECT_MAX_INPUT : cap * 2;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) {
                r = lc_fail(err, -ENOMEM, "%s: out of memory", path);
                goto out;
            }
            buf = nb;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            if (ferror(f))
                r = lc_fail(err, -EIO, "%s: read error", path);
            break;
        }
    }
out:
    if (f != stdin)
        fclose(f);
    if (r < 0) {
        free(buf);
        return r;
    }
    *ret_buf = buf;
    *ret_len = len;
    return 0;
}

int weft_cmd_inspect(int argc, char **argv)
{
    struct lc_conf *conf = NULL;
    struct lc_errbuf err;
    uint8_t *buf = NULL;
    size_t len = 0;
    json_t *j = NULL;
    int status = 1;
    if (lc_conf_new(&inspect_def, &conf, &err) < 0) {
        fprintf(stderr, "weft inspect: %s\n", err.msg);
        return 1;
    }
    if (lc_conf_parse(conf, argc, argv, NULL, &err) < 0) {
        fprintf(stderr, "weft inspect: %s\n", err.msg);
        status = 2;
        goto out;
    }
    if (lc_conf_help_requested(conf) != LC_CONF_HELP_NONE) {
        status = lc_conf_write_help(conf, lc_conf_help_requested(conf), stdout) < 0;
        goto out;
    }
    if (lc_conf_nargs(conf) != 1) {
        fprintf(stderr, "weft inspect: expected one FILE, got %zu arguments\n",
                lc_conf_nargs(conf));
        status = 2;
        goto out;
    }
    const char *path = lc_conf_arg(conf, 0);
    if (read_input(path, &buf, &len, &err) < 0) {
        fprintf(stderr, "weft inspect: %s\n", err.msg);
        goto out;
    }
    enum weft_inspect_type type = (enum weft_inspect_type)lc_conf_enum_index(conf, "type");
    if (weft_inspect_decode(buf, len, type, &j, NULL, &err) < 0) {
        fprintf(stderr, "weft inspect: %s: %s\n", path, err.msg);
        goto out;
    }
    size_t flags = lc_conf_bool(conf, "json") ? JSON_COMPACT : JSON_INDENT(2);
    if (json_dumpf(j, stdout, flags) < 0 || fputc('\n', stdout) == EOF || fflush(stdout) != 0) {
        fprintf(stderr, "weft inspect: writing stdout failed\n");
        goto out;
    }
    status = 0;
out:
    json_decref(j);
    free(buf);
    lc_conf_free(conf);
    return status;
}
