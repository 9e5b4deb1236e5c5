/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for the MSP module: setup, identity validation and cache, principals, signers, MSP dirs. */
#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "msp/identities.pb-c.h"
#include "msp/msp_config.pb-c.h"
#include "msp/msp_principal.pb-c.h"

#include "libcommon/crypto.h"
#include "libcommon/msp.h"

#define DAY 86400
#define YEAR (365 * DAY)

static time_t T0; /* "now" for the certificate windows, fixed at start */

/* ---- certificate helpers ------------------------------------------------------------------- */

struct ca {
    struct lc_privkey *key;
    struct lc_cert *cert;
};

struct leaf {
    struct lc_privkey *key;
    struct lc_cert *cert;
    char *pem;
    size_t pem_len;
    uint8_t *ser;
    size_t ser_len;
};

static void ca_make(struct ca *ca, const char *cn, const struct ca *parent)
{
    struct lc_errbuf eb;
    ck_assert_int_eq(lc_privkey_generate(&ca->key), 0);
    struct lc_cert_template t = {.kind = LC_CERT_CA,
                                 .organization = "org1.example.com",
                                 .common_name = cn,
                                 .not_before = T0 - YEAR,
                                 .not_after = T0 + 10 * YEAR};
    int r = lc_cert_issue(&t, lc_privkey_public(ca->key), parent ? parent->cert : NULL,
                          parent ? parent->key : ca->key, &eb, &ca->cert);
    ck_assert_msg(r == 0, "issue CA: %s", eb.msg);
}

static void ca_done(struct ca *ca)
{
    lc_cert_unref(ca->cert);
    lc_privkey_free(ca->key);
}

static uint8_t *serialize(const char *mspid, const void *pem, size_t pem_len, size_t *ret_len)
{
    Msp__SerializedIdentity sid = MSP__SERIALIZED_IDENTITY__INIT;
    sid.mspid = (char *)mspid;
    sid.id_bytes.data = (uint8_t *)pem;
    sid.id_bytes.len = pem_len;
    *ret_len = msp__serialized_identity__get_packed_size(&sid);
    uint8_t *b = malloc(*ret_len);
    ck_assert_ptr_nonnull(b);
    msp__serialized_identity__pack(&sid, b);
    return b;
}

/* Issues a certificate of the given kind from ca with up to two subject OUs. */
static void leaf_make_kind(struct leaf *l, enum lc_cert_kind kind, const struct ca *ca,
                           const char *mspid, const char *cn, const char *ou1, const char *ou2,
                           time_t nb, time_t na)
{
    struct lc_errbuf eb;
    const char *ous[2];
    size_t n = 0;
    if (ou1)
        ous[n++] = ou1;
    if (ou2)
        ous[n++] = ou2;
    memset(l, 0, sizeof *l);
    ck_assert_int_eq(lc_privkey_generate(&l->key), 0);
    struct lc_cert_template t = {.kind = kind,
                                 .organization = "org1.example.com",
                                 .ous = ous,
                                 .n_ous = n,
                                 .common_name = cn,
                                 .not_before = nb,
                                 .not_after = na};
    int r = lc_cert_issue(&t, lc_privkey_public(l->key), ca->cert, ca->key, &eb, &l->cert);
    ck_assert_msg(r == 0, "issue leaf: %s", eb.msg);
    ck_assert_int_eq(lc_cert_to_pem(l->cert, &l->pem, &l->pem_len), 0);
    l->ser = serialize(mspid, l->pem, l->pem_len, &l->ser_len);
}

static void leaf_make(struct leaf *l, const struct ca *ca, const char *mspid, const char *cn,
                      const char *ou1, const char *ou2)
{
    leaf_make_kind(l, LC_CERT_SIGN, ca, mspid, cn, ou1, ou2, T0 - DAY, T0 + YEAR);
}

static void leaf_done(struct leaf *l)
{
    lc_privkey_free(l->key);
    lc_cert_unref(l->cert);
    free(l->pem);
    free(l->ser);
    memset(l, 0, sizeof *l);
}

/* ---- MSPConfig builder --------------------------------------------------------------------- */

struct cfg {
    int type;
    const char *name;
    struct lc_cert *roots[4], *inters[4], *admins[4];
    size_t nroots, ninters, nadmins;
    struct lc_crl *crls[2];
    size_t ncrls;
    bool node_ous;
    struct lc_cert *client_ca; /* Certificate of the client OU, or NULL */
    struct lc_cert *ou_ca;     /* one OrganizationalUnitIdentifiers entry "sales" from it */
    const char *hash_fn;
};

static ProtobufCBinaryData pem_blob(const struct lc_cert *c)
{
    char *pem;
    size_t len;
    ck_assert_int_eq(lc_cert_to_pem(c, &pem, &len), 0);
    return (ProtobufCBinaryData){.data = (uint8_t *)pem, .len = len};
}

static void blobs_free(ProtobufCBinaryData *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(b[i].data);
}

static uint8_t *cfg_pack(const struct cfg *c, size_t *ret_len)
{
    Msp__FabricMSPConfig fc = MSP__FABRIC_MSPCONFIG__INIT;
    Msp__FabricNodeOUs nous = MSP__FABRIC_NODE_OUS__INIT;
    Msp__FabricOUIdentifier client = MSP__FABRIC_OUIDENTIFIER__INIT,
                            peer = MSP__FABRIC_OUIDENTIFIER__INIT,
                            admin = MSP__FABRIC_OUIDENTIFIER__INIT,
                            orderer = MSP__FABRIC_OUIDENTIFIER__INIT,
                            sales = MSP__FABRIC_OUIDENTIFIER__INIT;
    Msp__FabricOUIdentifier *ous[1] = {&sales};
    Msp__FabricCryptoConfig cc = MSP__FABRIC_CRYPTO_CONFIG__INIT;
    ProtobufCBinaryData roots[4], inters[4], admins[4], crls[2];
    for (size_t i = 0; i < c->nroots; i++)
        roots[i] = pem_blob(c->roots[i]);
    for (size_t i = 0; i < c->ninters; i++)
        inters[i] = pem_blob(c->inters[i]);
    for (size_t i = 0; i < c->nadmins; i++)
        admins[i] = pem_blob(c->admins[i]);
    for (size_t i = 0; i < c->ncrls; i++) {
        char *pem;
        size_t len;
        ck_assert_int_eq(lc_crl_to_pem(c->crls[i], &pem, &len), 0);
        crls[i] = (ProtobufCBinaryData){.data = (uint8_t *)pem, .len = len};
    }
    fc.name = (char *)(c->name ? c->name : "");
    fc.n_root_certs = c->nroots;
    fc.root_certs = roots;
    fc.n_intermediate_certs = c->ninters;
    fc.intermediate_certs = inters;
    fc.n_admins = c->nadmins;
    fc.admins = admins;
    fc.n_revocation_list = c->ncrls;
    fc.revocation_list = crls;
    cc.signature_hash_family = "SHA2";
    cc.identity_identifier_hash_function = (char *)(c->hash_fn ? c->hash_fn : "SHA256");
    fc.crypto_config = &cc;
    if (c->node_ous) {
        nous.enable = true;
        client.organizational_unit_identifier = "client";
        peer.organizational_unit_identifier = "peer";
        admin.organizational_unit_identifier = "admin";
        orderer.organizational_unit_identifier = "orderer";
        if (c->client_ca)
            client.certificate = pem_blob(c->client_ca);
        nous.client_ou_identifier = &client;
        nous.peer_ou_identifier = &peer;
        nous.admin_ou_identifier = &admin;
        nous.orderer_ou_identifier = &orderer;
        fc.fabric_node_ous = &nous;
    }
    if (c->ou_ca) {
        sales.organizational_unit_identifier = "sales";
        sales.certificate = pem_blob(c->ou_ca);
        fc.n_organizational_unit_identifiers = 1;
        fc.organizational_unit_identifiers = ous;
    }
    size_t flen = msp__fabric_mspconfig__get_packed_size(&fc);
    uint8_t *fbuf = malloc(flen + 1);
    ck_assert_ptr_nonnull(fbuf);
    msp__fabric_mspconfig__pack(&fc, fbuf);
    Msp__MSPConfig mc = MSP__MSPCONFIG__INIT;
    mc.type = c->type;
    mc.config.data = fbuf;
    mc.config.len = flen;
    *ret_len = msp__mspconfig__get_packed_size(&mc);
    uint8_t *out = malloc(*ret_len + 1);
    ck_assert_ptr_nonnull(out);
    msp__mspconfig__pack(&mc, out);
    free(fbuf);
    free(client.certificate.data);
    free(sales.certificate.data);
    blobs_free(roots, c->nroots);
    blobs_free(inters, c->ninters);
    blobs_free(admins, c->nadmins);
    blobs_free(crls, c->ncrls);
    return out;
}

static int msp_from_cfg(const struct cfg *c, struct lc_errbuf *eb, struct lc_msp **ret)
{
    size_t len;
    uint8_t *b = cfg_pack(c, &len);
    int r = lc_msp_new_from_bytes(b, len, eb, ret);
    free(b);
    return r;
}

/* ---- the common world: Org1MSP with NodeOUs, Org2MSP without ------------------------------- */

static struct ca root1, root2;
static struct leaf client, peer, admin, orderer, listed_admin;
static struct lc_msp_mgr *mgr;

static void world_setup(void)
{
    struct lc_errbuf eb;
    T0 = time(NULL);
    ca_make(&root1, "ca.org1.example.com", NULL);
    ca_make(&root2, "ca.org2.example.com", NULL);
    leaf_make(&client, &root1, "Org1MSP", "User1@org1", "client", NULL);
    leaf_make(&peer, &root1, "Org1MSP", "peer0.org1", "peer", NULL);
    leaf_make(&admin, &root1, "Org1MSP", "Admin@org1", "admin", NULL);
    leaf_make(&orderer, &root1, "Org1MSP", "orderer.org1", "orderer", NULL);
    leaf_make(&listed_admin, &root1, "Org1MSP", "Listed@org1", "client", NULL);

    struct cfg c1 = {.name = "Org1MSP", .nroots = 1, .node_ous = true, .nadmins = 1};
    c1.roots[0] = root1.cert;
    c1.admins[0] = listed_admin.cert;
    struct cfg c2 = {.name = "Org2MSP", .nroots = 1, .nadmins = 0, .node_ous = true};
    c2.roots[0] = root2.cert;
    ck_assert_int_eq(lc_msp_mgr_new(64, &mgr), 0);
    size_t len;
    uint8_t *b = cfg_pack(&c1, &len);
    int r = lc_msp_mgr_add_config(mgr, b, len, &eb);
    ck_assert_msg(r == 0, "Org1MSP: %s", eb.msg);
    free(b);
    b = cfg_pack(&c2, &len);
    r = lc_msp_mgr_add_config(mgr, b, len, &eb);
    ck_assert_msg(r == 0, "Org2MSP: %s", eb.msg);
    free(b);
}

static void world_teardown(void)
{
    lc_msp_mgr_free(mgr);
    mgr = NULL;
    leaf_done(&client);
    leaf_done(&peer);
    leaf_done(&admin);
    leaf_done(&orderer);
    leaf_done(&listed_admin);
    ca_done(&root1);
    ca_done(&root2);
}

static struct lc_identity *must_deserialize(const struct leaf *l)
{
    struct lc_errbuf eb;
    struct lc_identity *id = NULL;
    int r = lc_msp_mgr_deserialize(mgr, l->ser, l->ser_len, &eb, &id);
    ck_assert_msg(r == 0, "deserialize: %s", eb.msg);
    return id;
}

/* ---- identities ---------------------------------------------------------------------------- */

START_TEST(identities_are_classified_by_role)
{
    struct {
        const struct leaf *l;
        unsigned roles;
    } cases[] = {{&client, LC_ROLE_CLIENT},
                 {&peer, LC_ROLE_PEER},
                 {&admin, LC_ROLE_ADMIN},
                 {&orderer, LC_ROLE_ORDERER},
                 {&listed_admin, LC_ROLE_CLIENT | LC_ROLE_ADMIN}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct lc_identity *id = must_deserialize(cases[i].l);
        ck_assert_uint_eq(lc_identity_roles(id), cases[i].roles);
        ck_assert_str_eq(lc_identity_mspid(id), "Org1MSP");
        /* id = mspid + hex(SHA-256(DER)) */
        size_t der_len;
        const uint8_t *der = lc_cert_der(cases[i].l->cert, &der_len);
        uint8_t h[LC_SHA256_LEN];
        char hex[2 * LC_SHA256_LEN + 1], want[128];
        lc_sha256(der, der_len, h);
        lc_hex_encode(h, sizeof h, hex);
        snprintf(want, sizeof want, "Org1MSP%s", hex);
        ck_assert_str_eq(lc_identity_id(id), want);
        ck_assert_mem_eq(lc_identity_cert_hash(id), h, sizeof h);
        size_t sl;
        const uint8_t *s = lc_identity_serialized(id, &sl);
        ck_assert_uint_eq(sl, cases[i].l->ser_len);
        ck_assert_mem_eq(s, cases[i].l->ser, sl);
        ck_assert(lc_cert_equal(lc_identity_cert(id), cases[i].l->cert));
        ck_assert_ptr_eq(lc_identity_msp(id), lc_msp_mgr_get(mgr, "Org1MSP"));
        lc_identity_unref(id);
    }
}
END_TEST

START_TEST(unknown_msp_is_rejected)
{
    struct lc_errbuf eb;
    struct lc_identity *id = NULL;
    size_t len;
    uint8_t *b = serialize("Org9MSP", client.pem, client.pem_len, &len);
    ck_assert_int_eq(lc_msp_mgr_deserialize(mgr, b, len, &eb, &id), LC_EUNKNOWNMSP);
    ck_assert_ptr_nonnull(strstr(eb.msg, "Org9MSP"));
    ck_assert_ptr_null(id);
    free(b);
}
END_TEST

START_TEST(bad_bytes_are_rejected)
{
    struct lc_errbuf eb;
    struct lc_identity *id = NULL;
    size_t len;
    /* Not a PEM at all. */
    uint8_t *b = serialize("Org1MSP", "hello", 5, &len);
    ck_assert_int_eq(lc_msp_mgr_deserialize(mgr, b, len, &eb, &id), LC_EDECODE);
    free(b);
    /* A PEM block whose contents are not a certificate. */
    static const char junk[] = "-----BEGIN CERTIFICATE-----\nAAECAwQF\n-----END CERTIFICATE-----\n";
    b = serialize("Org1MSP", junk, sizeof junk - 1, &len);
    ck_assert_int_eq(lc_msp_mgr_deserialize(mgr, b, len, &eb, &id), LC_EDECODE);
    free(b);
    /* Not a SerializedIdentity. */
    static const uint8_t garbage[] = {0x0a, 0x50, 0x01};
    ck_assert_int_eq(lc_msp_mgr_deserialize(mgr, garbage, sizeof garbage, &eb, &id), LC_EDECODE);
    /* Too big. */
    uint8_t *big = calloc(1, LC_MSP_MAX_IDENTITY + 1);
    ck_assert_int_eq(lc_msp_mgr_deserialize(mgr, big, LC_MSP_MAX_IDENTITY + 1, &eb, &id),
                     LC_ETOOBIG);
    free(big);
    ck_assert_ptr_null(id);
}
END_TEST

START_TEST(cert_from_another_ca_is_rejected)
{
    struct leaf l;
    struct lc_errbuf eb;
    struct lc_identity *id = NULL;
    leaf_make(&l, &root2, "Org1MSP", "stranger", "client", NULL);
    ck_assert_int_eq(lc_msp_mgr_deserialize(mgr, l.ser, l.ser_len, &eb, &id), LC_EBADCERT);
    ck_assert_ptr_nonnull(strstr(eb.msg, "Org1MSP"));
    leaf_done(&l);
}
END_TEST

START_TEST(ca_cert_as_identity_is_rejected)
{
    struct leaf l;
    struct lc_errbuf eb;
    struct lc_identity *id = NULL;
    leaf_make_kind(&l, LC_CERT_CA, &root1, "Org1MSP", "subca", "client", NULL, T0 - DAY, T0 + YEAR);
    ck_assert_int_eq(lc_msp_mgr_deserialize(mgr, l.ser, l.ser_len, &eb, &id), LC_EBADCERT);
    ck_assert_ptr_nonnull(strstr(eb.msg, "CA"));
    leaf_done(&l);
    /* The root itself, too. */
    char *pem;
    size_t pl, sl;
    ck_assert_int_eq(lc_cert_to_pem(root1.cert, &pem, &pl), 0);
    uint8_t *b = serialize("Org1MSP", pem, pl, &sl);
    ck_assert_int_eq(lc_msp_mgr_deserialize(mgr, b, sl, &eb, &id), LC_EBADCERT);
    free(b);
    free(pem);
}
END_TEST

START_TEST(revoked_cert_is_rejected)
{
    struct lc_errbuf eb;
    struct lc_crl *crl = NULL;
    struct lc_msp *msp = NULL;
    struct lc_identity *id = NULL;
    ck_assert_int_eq(
        lc_crl_issue(root1.cert, root1.key, &peer.cert, 1, T0 - DAY, T0 + YEAR, &eb, &crl), 0);
    struct cfg c = {.name = "Org1MSP", .nroots = 1, .node_ous = true, .ncrls = 1};
    c.roots[0] = root1.cert;
    c.crls[0] = crl;
    ck_assert_int_eq(msp_from_cfg(&c, &eb, &msp), 0);
    ck_assert_int_eq(lc_msp_deserialize(msp, peer.ser, peer.ser_len, &eb, &id), LC_EREVOKED);
    ck_assert_ptr_null(id);
    ck_assert_int_eq(lc_msp_deserialize(msp, client.ser, client.ser_len, &eb, &id), 0);
    lc_identity_unref(id);
    lc_msp_unref(msp);
    lc_crl_free(crl);
}
END_TEST

START_TEST(node_ou_rules_are_enforced)
{
    struct leaf none, two, other;
    struct lc_errbuf eb;
    struct lc_identity *id = NULL;
    leaf_make(&none, &root1, "Org1MSP", "nobody", "sales", NULL);
    leaf_make(&two, &root1, "Org1MSP", "both", "client", "peer");
    leaf_make(&other, &root1, "Org1MSP", "other", NULL, NULL);
    ck_assert_int_eq(lc_msp_mgr_deserialize(mgr, none.ser, none.ser_len, &eb, &id), LC_EROLE);
    ck_assert_int_eq(lc_msp_mgr_deserialize(mgr, two.ser, two.ser_len, &eb, &id), LC_EROLE);
    ck_assert_ptr_nonnull(strstr(eb.msg, "exactly one"));
    ck_assert_int_eq(lc_msp_mgr_deserialize(mgr, other.ser, other.ser_len, &eb, &id), LC_EROLE);
    ck_assert_ptr_null(id);
    leaf_done(&none);
    leaf_done(&two);
    leaf_done(&other);
}
END_TEST

START_TEST(node_ou_certifiers_are_compared_when_configured)
{
    /* Two roots; the client OU must come from root1. */
    struct lc_errbuf eb;
    struct lc_msp *msp = NULL;
    struct lc_identity *id = NULL;
    struct leaf c2, p2;
    struct cfg c = {.name = "Org1MSP", .nroots = 2, .node_ous = true, .client_ca = root1.cert};
    c.roots[0] = root1.cert;
    c.roots[1] = root2.cert;
    int r = msp_from_cfg(&c, &eb, &msp);
    ck_assert_msg(r == 0, "%s", eb.msg);
    leaf_make(&c2, &root2, "Org1MSP", "client-from-root2", "client", NULL);
    leaf_make(&p2, &root2, "Org1MSP", "peer-from-root2", "peer", NULL);
    ck_assert_int_eq(lc_msp_deserialize(msp, client.ser, client.ser_len, &eb, &id), 0);
    lc_identity_unref(id);
    ck_assert_int_eq(lc_msp_deserialize(msp, c2.ser, c2.ser_len, &eb, &id), LC_EROLE);
    ck_assert_ptr_nonnull(strstr(eb.msg, "client"));
    /* No Certificate for the peer OU: any CA of the MSP will do. */
    ck_assert_int_eq(lc_msp_deserialize(msp, p2.ser, p2.ser_len, &eb, &id), 0);
    lc_identity_unref(id);
    leaf_done(&c2);
    leaf_done(&p2);
    lc_msp_unref(msp);
}
END_TEST

START_TEST(ou_identifiers_apply_without_node_ous)
{
    struct lc_errbuf eb;
    struct lc_msp *msp = NULL;
    struct lc_identity *id = NULL;
    struct leaf sales, eng;
    leaf_make(&sales, &root1, "Org1MSP", "s", "sales", NULL);
    leaf_make(&eng, &root1, "Org1MSP", "e", "eng", NULL);
    struct cfg c = {.name = "Org1MSP", .nroots = 1, .nadmins = 1, .ou_ca = root1.cert};
    c.roots[0] = root1.cert;
    c.admins[0] = sales.cert;
    int r = msp_from_cfg(&c, &eb, &msp);
    ck_assert_msg(r == 0, "%s", eb.msg);
    ck_assert(!lc_msp_node_ous_enabled(msp));
    ck_assert_int_eq(lc_msp_deserialize(msp, sales.ser, sales.ser_len, &eb, &id), 0);
    ck_assert_uint_eq(lc_identity_roles(id), LC_ROLE_ADMIN);
    lc_identity_unref(id);
    ck_assert_int_eq(lc_msp_deserialize(msp, eng.ser, eng.ser_len, &eb, &id), LC_EROLE);
    leaf_done(&sales);
    leaf_done(&eng);
    lc_msp_unref(msp);
}
END_TEST

START_TEST(expired_cert_validates_but_fails_admission)
{
    struct leaf old, future;
    struct lc_errbuf eb;
    leaf_make_kind(&old, LC_CERT_SIGN, &root1, "Org1MSP", "old", "client", NULL, T0 - 30 * DAY,
                   T0 - DAY);
    leaf_make_kind(&future, LC_CERT_SIGN, &root1, "Org1MSP", "future", "client", NULL,
                   T0 + 10 * DAY, T0 + 30 * DAY);
    struct lc_identity *a = must_deserialize(&old), *b = must_deserialize(&future);
    ck_assert_int_eq(lc_identity_check_validity(a, T0, &eb), LC_EEXPIRED);
    ck_assert_ptr_nonnull(strstr(eb.msg, "Org1MSP"));
    ck_assert_int_eq(lc_identity_check_validity(a, T0 - 10 * DAY, &eb), 0);
    ck_assert_int_eq(lc_identity_check_validity(b, T0, &eb), LC_EEXPIRED);
    ck_assert_int_eq(lc_identity_check_validity(b, T0 + 20 * DAY, &eb), 0);
    struct lc_identity *c = must_deserialize(&client);
    ck_assert_int_eq(lc_identity_check_validity(c, T0, &eb), 0);
    lc_identity_unref(a);
    lc_identity_unref(b);
    lc_identity_unref(c);
    leaf_done(&old);
    leaf_done(&future);
}
END_TEST

/* ---- signatures ---------------------------------------------------------------------------- */

/* P-256 group order, big-endian. */
static const uint8_t P256_N[32] = {0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17,
                                   0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};

/* Reads one DER TLV at p (short or 1-2 byte long lengths); returns header + content size. */
static size_t der_tlv(const uint8_t *p, size_t n, uint8_t tag, size_t *ret_hdr, size_t *ret_len)
{
    ck_assert(n >= 2 && p[0] == tag);
    size_t hdr = 2, len = p[1];
    if (p[1] == 0x81) {
        len = p[2];
        hdr = 3;
    } else if (p[1] == 0x82) {
        len = ((size_t)p[2] << 8) | p[3];
        hdr = 4;
    } else {
        ck_assert(p[1] < 0x80);
    }
    ck_assert(hdr + len <= n);
    *ret_hdr = hdr;
    *ret_len = len;
    return hdr + len;
}

static size_t der_put_hdr(uint8_t *out, uint8_t tag, size_t len)
{
    out[0] = tag;
    if (len < 0x80) {
        out[1] = (uint8_t)len;
        return 2;
    }
    if (len < 0x100) {
        out[1] = 0x81;
        out[2] = (uint8_t)len;
        return 3;
    }
    out[1] = 0x82;
    out[2] = (uint8_t)(len >> 8);
    out[3] = (uint8_t)len;
    return 4;
}

/* Rewrites an ECDSA DER signature SEQUENCE{r, s} as SEQUENCE{r, n - s}. */
static size_t flip_s(const uint8_t *sig, size_t len, uint8_t *out)
{
    size_t hdr, clen, rh, rl, sh, sl;
    der_tlv(sig, len, 0x30, &hdr, &clen);
    const uint8_t *r = sig + hdr;
    size_t rtot = der_tlv(r, clen, 0x02, &rh, &rl);
    const uint8_t *s = r + rtot;
    der_tlv(s, clen - rtot, 0x02, &sh, &sl);
    uint8_t s32[32] = {0}, ns[33];
    const uint8_t *sv = s + sh;
    while (sl > 32) {
        sv++;
        sl--;
    }
    memcpy(s32 + 32 - sl, sv, sl);
    int borrow = 0;
    for (int i = 31; i >= 0; i--) {
        int d = P256_N[i] - s32[i] - borrow;
        borrow = d < 0;
        ns[i + 1] = (uint8_t)(d + (borrow ? 256 : 0));
    }
    ns[0] = 0;
    size_t start = 1;
    while (start < 32 && ns[start] == 0 && !(ns[start + 1] & 0x80))
        start++;
    if (ns[start] & 0x80)
        start--; /* keep a zero byte so the INTEGER stays positive */
    size_t nsl = 33 - start;
    uint8_t body[80];
    memcpy(body, r, rtot);
    size_t off = rtot + der_put_hdr(body + rtot, 0x02, nsl);
    memcpy(body + off, ns + start, nsl);
    off += nsl;
    size_t o = der_put_hdr(out, 0x30, off);
    memcpy(out + o, body, off);
    return o + off;
}

START_TEST(signatures_verify_and_high_s_is_rejected)
{
    struct lc_errbuf eb;
    struct lc_identity *id = must_deserialize(&client);
    static const char msg[] = "a proposal";
    uint8_t sig[LC_ECDSA_SIG_MAX], high[LC_ECDSA_SIG_MAX + 8];
    size_t sl;
    ck_assert_int_eq(lc_ecdsa_sign(client.key, msg, sizeof msg - 1, sig, &sl), 0);
    ck_assert_int_eq(lc_identity_verify(id, msg, sizeof msg - 1, sig, sl, &eb), 0);
    ck_assert_int_eq(lc_identity_verify(id, "other", 5, sig, sl, &eb), LC_EBADSIG);
    size_t hl = flip_s(sig, sl, high);
    ck_assert_int_eq(lc_identity_verify(id, msg, sizeof msg - 1, high, hl, &eb), LC_EHIGHS);
    /* A signature by someone else's key. */
    ck_assert_int_eq(lc_ecdsa_sign(peer.key, msg, sizeof msg - 1, sig, &sl), 0);
    ck_assert_int_eq(lc_identity_verify(id, msg, sizeof msg - 1, sig, sl, &eb), LC_EBADSIG);
    /* iov form */
    ck_assert_int_eq(lc_ecdsa_sign(client.key, msg, sizeof msg - 1, sig, &sl), 0);
    struct lc_iov v[2] = {{msg, 2}, {msg + 2, sizeof msg - 3}};
    ck_assert_int_eq(lc_identity_verify_iov(id, v, 2, sig, sl, &eb), 0);
    lc_identity_unref(id);
}
END_TEST

/* Makes a copy of c whose signature has a high S (same tbs), as DER. */
static struct lc_cert *high_s_copy(const struct lc_cert *c)
{
    size_t len, hdr, clen, h, l;
    const uint8_t *der = lc_cert_der(c, &len);
    der_tlv(der, len, 0x30, &hdr, &clen);
    const uint8_t *p = der + hdr;
    size_t tbs = der_tlv(p, clen, 0x30, &h, &l);
    size_t alg = der_tlv(p + tbs, clen - tbs, 0x30, &h, &l);
    const uint8_t *bs = p + tbs + alg;
    der_tlv(bs, clen - tbs - alg, 0x03, &h, &l);
    ck_assert_uint_eq(bs[h], 0); /* no unused bits */
    uint8_t sig[LC_ECDSA_SIG_MAX + 8];
    size_t sl = flip_s(bs + h + 1, l - 1, sig);
    uint8_t *body = malloc(tbs + alg + sl + 16), *out = malloc(tbs + alg + sl + 32);
    memcpy(body, p, tbs + alg);
    size_t off = tbs + alg;
    off += der_put_hdr(body + off, 0x03, sl + 1);
    body[off++] = 0;
    memcpy(body + off, sig, sl);
    off += sl;
    size_t o = der_put_hdr(out, 0x30, off);
    memcpy(out + o, body, off);
    struct lc_cert *hc = NULL;
    struct lc_errbuf eb;
    ck_assert_msg(lc_cert_from_der(out, o + off, &eb, &hc) == 0, "%s", eb.msg);
    free(body);
    free(out);
    return hc;
}

START_TEST(high_s_certificate_is_sanitised_to_the_same_identity)
{
    struct lc_errbuf eb;
    /* Our issuer signs low-S; whichever form the cert has, make the other one. */
    struct lc_cert *other = high_s_copy(client.cert);
    struct lc_cert *hc = lc_cert_sig_is_high_s(other, root1.cert) ? other : client.cert;
    ck_assert(lc_cert_sig_is_high_s(hc, root1.cert));
    ck_assert(!lc_cert_equal(other, client.cert));
    char *pem;
    size_t pl, sl;
    ck_assert_int_eq(lc_cert_to_pem(other, &pem, &pl), 0);
    uint8_t *ser = serialize("Org1MSP", pem, pl, &sl);
    struct lc_identity *a = must_deserialize(&client), *b = NULL;
    ck_assert_int_eq(lc_msp_mgr_deserialize(mgr, ser, sl, &eb, &b), 0);
    ck_assert_str_eq(lc_identity_id(a), lc_identity_id(b));
    ck_assert(lc_cert_equal(lc_identity_cert(a), lc_identity_cert(b)));
    ck_assert(!lc_cert_sig_is_high_s(lc_identity_cert(b), root1.cert));
    /* An IDENTITY principal naming the other encoding matches. */
    Common__MSPPrincipal p = COMMON__MSPPRINCIPAL__INIT;
    p.principal_classification = COMMON__MSPPRINCIPAL__CLASSIFICATION__IDENTITY;
    p.principal.data = ser;
    p.principal.len = sl;
    ck_assert_int_eq(lc_identity_satisfies_principal(a, &p, &eb), 0);
    lc_identity_unref(a);
    lc_identity_unref(b);
    free(ser);
    free(pem);
    lc_cert_unref(other);
}
END_TEST

/* ---- principals ---------------------------------------------------------------------------- */

static int check_role(const struct lc_identity *id, const char *mspid, int role,
                      struct lc_errbuf *eb)
{
    Common__MSPRole mr = COMMON__MSPROLE__INIT;
    mr.msp_identifier = (char *)mspid;
    mr.role = role;
    uint8_t buf[128];
    size_t n = common__msprole__pack(&mr, buf);
    Common__MSPPrincipal p = COMMON__MSPPRINCIPAL__INIT;
    p.principal_classification = COMMON__MSPPRINCIPAL__CLASSIFICATION__ROLE;
    p.principal.data = buf;
    p.principal.len = n;
    return lc_identity_satisfies_principal(id, &p, eb);
}

enum { MEMBER = 0, ADMIN = 1, CLIENT = 2, PEER = 3, ORDERER = 4 };

START_TEST(role_principals)
{
    struct lc_errbuf eb;
    struct lc_identity *c = must_deserialize(&client), *p = must_deserialize(&peer),
                       *a = must_deserialize(&admin), *o = must_deserialize(&orderer),
                       *la = must_deserialize(&listed_admin);
    struct lc_identity *all[] = {c, p, a, o, la};
    for (size_t i = 0; i < 5; i++) {
        ck_assert_int_eq(check_role(all[i], "Org1MSP", MEMBER, &eb), 0);
        ck_assert_int_eq(check_role(all[i], "Org2MSP", MEMBER, &eb), LC_EPOLICY);
    }
    ck_assert_ptr_nonnull(strstr(eb.msg, "Org2MSP"));
    ck_assert_int_eq(check_role(c, "Org1MSP", CLIENT, &eb), 0);
    ck_assert_int_eq(check_role(c, "Org1MSP", PEER, &eb), LC_EPOLICY);
    ck_assert_int_eq(check_role(c, "Org1MSP", ADMIN, &eb), LC_EPOLICY);
    ck_assert_int_eq(check_role(c, "Org1MSP", ORDERER, &eb), LC_EPOLICY);
    ck_assert_int_eq(check_role(p, "Org1MSP", PEER, &eb), 0);
    ck_assert_int_eq(check_role(p, "Org1MSP", CLIENT, &eb), LC_EPOLICY);
    ck_assert_int_eq(check_role(o, "Org1MSP", ORDERER, &eb), 0);
    ck_assert_int_eq(check_role(o, "Org1MSP", PEER, &eb), LC_EPOLICY);
    ck_assert_int_eq(check_role(a, "Org1MSP", ADMIN, &eb), 0);   /* via the admin OU */
    ck_assert_int_eq(check_role(la, "Org1MSP", ADMIN, &eb), 0);  /* via `admins` */
    ck_assert_int_eq(check_role(la, "Org1MSP", CLIENT, &eb), 0); /* and still a client */
    ck_assert_int_eq(check_role(a, "Org1MSP", CLIENT, &eb), LC_EPOLICY);
    ck_assert_int_eq(check_role(c, "Org1MSP", 7, &eb), LC_EINVALID);
    ck_assert_int_eq(check_role(a, "Org2MSP", ADMIN, &eb), LC_EPOLICY);
    for (size_t i = 0; i < 5; i++)
        lc_identity_unref(all[i]);
}
END_TEST

START_TEST(role_principals_without_node_ous)
{
    struct lc_errbuf eb;
    struct lc_msp *msp = NULL;
    struct lc_identity *c = NULL, *la = NULL;
    struct cfg cf = {.name = "Org1MSP", .nroots = 1, .nadmins = 1};
    cf.roots[0] = root1.cert;
    cf.admins[0] = listed_admin.cert;
    ck_assert_int_eq(msp_from_cfg(&cf, &eb, &msp), 0);
    ck_assert_int_eq(lc_msp_deserialize(msp, client.ser, client.ser_len, &eb, &c), 0);
    ck_assert_int_eq(lc_msp_deserialize(msp, listed_admin.ser, listed_admin.ser_len, &eb, &la), 0);
    ck_assert_uint_eq(lc_identity_roles(c), 0);
    ck_assert_uint_eq(lc_identity_roles(la), LC_ROLE_ADMIN);
    ck_assert_int_eq(check_role(c, "Org1MSP", MEMBER, &eb), 0);
    ck_assert_int_eq(check_role(c, "Org1MSP", CLIENT, &eb), LC_EPOLICY);
    ck_assert_ptr_nonnull(strstr(eb.msg, "NodeOUs"));
    ck_assert_int_eq(check_role(c, "Org1MSP", ADMIN, &eb), LC_EPOLICY);
    ck_assert_int_eq(check_role(la, "Org1MSP", ADMIN, &eb), 0);
    lc_identity_unref(c);
    lc_identity_unref(la);
    lc_msp_unref(msp);
}
END_TEST

static int check_identity_principal(const struct lc_identity *id, const uint8_t *ser, size_t n,
                                    struct lc_errbuf *eb)
{
    Common__MSPPrincipal p = COMMON__MSPPRINCIPAL__INIT;
    p.principal_classification = COMMON__MSPPRINCIPAL__CLASSIFICATION__IDENTITY;
    p.principal.data = (uint8_t *)ser;
    p.principal.len = n;
    return lc_identity_satisfies_principal(id, &p, eb);
}

START_TEST(identity_principals)
{
    struct lc_errbuf eb;
    struct lc_identity *c = must_deserialize(&client);
    ck_assert_int_eq(check_identity_principal(c, client.ser, client.ser_len, &eb), 0);
    ck_assert_int_eq(check_identity_principal(c, peer.ser, peer.ser_len, &eb), LC_EPOLICY);
    /* Same certificate, PEM with text before it: other bytes, same identity. */
    size_t n = client.pem_len + 16, sl;
    char *pem = malloc(n);
    memcpy(pem, "Subject: user1\n\n", 16);
    memcpy(pem + 16, client.pem, client.pem_len);
    uint8_t *ser = serialize("Org1MSP", pem, n, &sl);
    ck_assert_int_eq(check_identity_principal(c, ser, sl, &eb), 0);
    free(ser);
    /* Same certificate under another MSP id. */
    ser = serialize("Org2MSP", client.pem, client.pem_len, &sl);
    ck_assert_int_eq(check_identity_principal(c, ser, sl, &eb), LC_EPOLICY);
    free(ser);
    free(pem);
    static const uint8_t garbage[] = {0x0a, 0x50};
    ck_assert_int_eq(check_identity_principal(c, garbage, sizeof garbage, &eb), LC_EDECODE);
    lc_identity_unref(c);
}
END_TEST

static int check_ou(const struct lc_identity *id, const char *mspid, const char *ou,
                    const uint8_t *cid, size_t cid_len, struct lc_errbuf *eb)
{
    Common__OrganizationUnit o = COMMON__ORGANIZATION_UNIT__INIT;
    o.msp_identifier = (char *)mspid;
    o.organizational_unit_identifier = (char *)ou;
    o.certifiers_identifier.data = (uint8_t *)cid;
    o.certifiers_identifier.len = cid_len;
    uint8_t buf[256];
    size_t n = common__organization_unit__pack(&o, buf);
    Common__MSPPrincipal p = COMMON__MSPPRINCIPAL__INIT;
    p.principal_classification = COMMON__MSPPRINCIPAL__CLASSIFICATION__ORGANIZATION_UNIT;
    p.principal.data = buf;
    p.principal.len = n;
    return lc_identity_satisfies_principal(id, &p, eb);
}

START_TEST(ou_principals)
{
    struct lc_errbuf eb;
    struct lc_identity *c = must_deserialize(&client);
    size_t dl;
    const uint8_t *der = lc_cert_der(root1.cert, &dl);
    uint8_t cid[LC_SHA256_LEN], wrong[LC_SHA256_LEN];
    lc_sha256(der, dl, cid);
    der = lc_cert_der(root2.cert, &dl);
    lc_sha256(der, dl, wrong);
    ck_assert_int_eq(check_ou(c, "Org1MSP", "client", cid, sizeof cid, &eb), 0);
    ck_assert_int_eq(check_ou(c, "Org1MSP", "peer", cid, sizeof cid, &eb), LC_EPOLICY);
    ck_assert_int_eq(check_ou(c, "Org1MSP", "client", wrong, sizeof wrong, &eb), LC_EPOLICY);
    ck_assert_int_eq(check_ou(c, "Org1MSP", "client", NULL, 0, &eb), LC_EPOLICY);
    ck_assert_int_eq(check_ou(c, "Org2MSP", "client", cid, sizeof cid, &eb), LC_EPOLICY);
    lc_identity_unref(c);
}
END_TEST

START_TEST(other_principal_kinds)
{
    struct lc_errbuf eb;
    struct lc_identity *c = must_deserialize(&client);
    Common__MSPPrincipal p = COMMON__MSPPRINCIPAL__INIT;
    uint8_t buf[512];
    /* ANONYMITY */
    Common__MSPIdentityAnonymity an = COMMON__MSPIDENTITY_ANONYMITY__INIT;
    p.principal_classification = COMMON__MSPPRINCIPAL__CLASSIFICATION__ANONYMITY;
    p.principal.data = buf;
    p.principal.len = common__mspidentity_anonymity__pack(&an, buf);
    ck_assert_int_eq(lc_identity_satisfies_principal(c, &p, &eb), 0);
    an.anonymity_type = COMMON__MSPIDENTITY_ANONYMITY__MSPIDENTITY_ANONYMITY_TYPE__ANONYMOUS;
    p.principal.len = common__mspidentity_anonymity__pack(&an, buf);
    ck_assert_int_eq(lc_identity_satisfies_principal(c, &p, &eb), LC_EPOLICY);
    /* COMBINED: member AND client passes; member AND peer does not; empty is invalid. */
    Common__MSPRole r1 = COMMON__MSPROLE__INIT, r2 = COMMON__MSPROLE__INIT;
    uint8_t b1[64], b2[64];
    r1.msp_identifier = r2.msp_identifier = "Org1MSP";
    r1.role = COMMON__MSPROLE__MSPROLE_TYPE__MEMBER;
    r2.role = COMMON__MSPROLE__MSPROLE_TYPE__CLIENT;
    Common__MSPPrincipal p1 = COMMON__MSPPRINCIPAL__INIT, p2 = COMMON__MSPPRINCIPAL__INIT;
    p1.principal.data = b1;
    p1.principal.len = common__msprole__pack(&r1, b1);
    p2.principal.data = b2;
    p2.principal.len = common__msprole__pack(&r2, b2);
    Common__MSPPrincipal *both[2] = {&p1, &p2};
    Common__CombinedPrincipal cp = COMMON__COMBINED_PRINCIPAL__INIT;
    cp.n_principals = 2;
    cp.principals = both;
    p.principal_classification = COMMON__MSPPRINCIPAL__CLASSIFICATION__COMBINED;
    p.principal.len = common__combined_principal__pack(&cp, buf);
    ck_assert_int_eq(lc_identity_satisfies_principal(c, &p, &eb), 0);
    r2.role = COMMON__MSPROLE__MSPROLE_TYPE__PEER;
    p2.principal.len = common__msprole__pack(&r2, b2);
    p.principal.len = common__combined_principal__pack(&cp, buf);
    ck_assert_int_eq(lc_identity_satisfies_principal(c, &p, &eb), LC_EPOLICY);
    cp.n_principals = 0;
    p.principal.len = common__combined_principal__pack(&cp, buf);
    ck_assert_int_eq(lc_identity_satisfies_principal(c, &p, &eb), LC_EINVALID);
    /* Unknown classification, and a ROLE body that does not decode. */
    p.principal_classification = 9;
    ck_assert_int_eq(lc_identity_satisfies_principal(c, &p, &eb), LC_EINVALID);
    ck_assert_ptr_nonnull(strstr(eb.msg, "classification"));
    static uint8_t garbage[] = {0x0a, 0x50};
    p.principal_classification = COMMON__MSPPRINCIPAL__CLASSIFICATION__ROLE;
    p.principal.data = garbage;
    p.principal.len = sizeof garbage;
    ck_assert_int_eq(lc_identity_satisfies_principal(c, &p, &eb), LC_EDECODE);
    lc_identity_unref(c);
}
END_TEST

/* ---- intermediates ------------------------------------------------------------------------- */

START_TEST(intermediate_chain_and_leaf_ca_rule)
{
    struct lc_errbuf eb;
    struct ca inter;
    struct lc_msp *msp = NULL;
    struct lc_identity *id = NULL;
    struct leaf under_inter, under_root, adm;
    ca_make(&inter, "ica.org1.example.com", &root1);
    leaf_make(&under_inter, &inter, "Org1MSP", "u1", "client", NULL);
    leaf_make(&under_root, &root1, "Org1MSP", "u2", "client", NULL);
    leaf_make(&adm, &inter, "Org1MSP", "adm", "admin", NULL);
    struct cfg c = {.name = "Org1MSP", .nroots = 1, .ninters = 1, .node_ous = true};
    c.roots[0] = root1.cert;
    c.inters[0] = inter.cert;
    int r = msp_from_cfg(&c, &eb, &msp);
    ck_assert_msg(r == 0, "%s", eb.msg);
    ck_assert_int_eq(lc_msp_deserialize(msp, under_inter.ser, under_inter.ser_len, &eb, &id), 0);
    /* ORGANIZATION_UNIT certifiers id = SHA-256(intermediate DER || root DER). */
    size_t l1, l2;
    const uint8_t *d1 = lc_cert_der(inter.cert, &l1), *d2 = lc_cert_der(root1.cert, &l2);
    struct lc_iov v[2] = {{d1, l1}, {d2, l2}};
    uint8_t cid[LC_SHA256_LEN];
    lc_sha256_iov(v, 2, cid);
    ck_assert_int_eq(check_ou(id, "Org1MSP", "client", cid, sizeof cid, &eb), 0);
    lc_identity_unref(id);
    id = NULL;
    /* The root issued the intermediate: it is an inner node and cannot issue identities. */
    ck_assert_int_eq(lc_msp_deserialize(msp, under_root.ser, under_root.ser_len, &eb, &id),
                     LC_EBADCERT);
    ck_assert_int_eq(lc_msp_deserialize(msp, client.ser, client.ser_len, &eb, &id), LC_EBADCERT);
    ck_assert_int_eq(lc_msp_deserialize(msp, adm.ser, adm.ser_len, &eb, &id), 0);
    ck_assert_uint_eq(lc_identity_roles(id), LC_ROLE_ADMIN);
    lc_identity_unref(id);
    lc_msp_unref(msp);
    leaf_done(&under_inter);
    leaf_done(&under_root);
    leaf_done(&adm);
    ca_done(&inter);
}
END_TEST

/* ---- MSP setup rejections ------------------------------------------------------------------ */

START_TEST(msp_config_rejections)
{
    struct lc_errbuf eb;
    struct lc_msp *msp = NULL;
    struct cfg ok = {.name = "Org1MSP", .nroots = 1, .node_ous = true};
    ok.roots[0] = root1.cert;

    struct cfg c = ok;
    c.type = 1;
    ck_assert_int_eq(msp_from_cfg(&c, &eb, &msp), LC_EINVALID);
    ck_assert_ptr_nonnull(strstr(eb.msg, "type"));
    c = ok;
    c.name = "";
    ck_assert_int_eq(msp_from_cfg(&c, &eb, &msp), LC_EINVALID);
    ck_assert_ptr_nonnull(strstr(eb.msg, "name"));
    c = ok;
    c.nroots = 0;
    ck_assert_int_eq(msp_from_cfg(&c, &eb, &msp), LC_EINVALID);
    ck_assert_ptr_nonnull(strstr(eb.msg, "Org1MSP"));
    ck_assert_ptr_nonnull(strstr(eb.msg, "root_certs"));
    c = ok;
    c.roots[0] = client.cert; /* not a CA */
    ck_assert_int_eq(msp_from_cfg(&c, &eb, &msp), LC_EINVALID);
    ck_assert_ptr_nonnull(strstr(eb.msg, "root_certs[0]"));
    c = ok;
    c.hash_fn = "SHA3_256";
    ck_assert_int_eq(msp_from_cfg(&c, &eb, &msp), LC_EINVALID);
    ck_assert_ptr_nonnull(strstr(eb.msg, "identity_identifier_hash_function"));
    c = ok;
    c.node_ous = false; /* no admins and no admin OU */
    ck_assert_int_eq(msp_from_cfg(&c, &eb, &msp), LC_EINVALID);
    ck_assert_ptr_nonnull(strstr(eb.msg, "admins"));
    c = ok;
    c.nadmins = 1;
    c.admins[0] = peer.cert; /* with NodeOUs an admin must be a client or an admin */
    ck_assert_int_eq(msp_from_cfg(&c, &eb, &msp), LC_EINVALID);
    ck_assert_ptr_nonnull(strstr(eb.msg, "admins[0]"));
    c = ok;
    c.client_ca = root2.cert; /* not one of this MSP's CAs */
    ck_assert_int_eq(msp_from_cfg(&c, &eb, &msp), LC_EINVALID);
    ck_assert_ptr_nonnull(strstr(eb.msg, "client_ou_identifier"));
    c = ok;
    c.ninters = 1;
    c.inters[0] = root2.cert; /* an "intermediate" that does not chain to root1 */
    ck_assert_int_eq(msp_from_cfg(&c, &eb, &msp), LC_EBADCERT);
    ck_assert_ptr_nonnull(strstr(eb.msg, "intermediate_certs[0]"));

    /* Bad PEM in root_certs, bytes that are no MSPConfig. */
    Msp__FabricMSPConfig fc = MSP__FABRIC_MSPCONFIG__INIT;
    ProtobufCBinaryData bad = {.data = (uint8_t *)"not a pem", .len = 9};
    fc.name = "Org1MSP";
    fc.n_root_certs = 1;
    fc.root_certs = &bad;
    uint8_t fbuf[256];
    Msp__MSPConfig mc = MSP__MSPCONFIG__INIT;
    mc.config.data = fbuf;
    mc.config.len = msp__fabric_mspconfig__pack(&fc, fbuf);
    ck_assert_int_eq(lc_msp_new(&mc, &eb, &msp), LC_EDECODE);
    ck_assert_ptr_nonnull(strstr(eb.msg, "Org1MSP"));
    ck_assert_ptr_nonnull(strstr(eb.msg, "root_certs[0]"));
    static const uint8_t garbage[] = {0x12, 0x50};
    ck_assert_int_eq(lc_msp_new_from_bytes(garbage, sizeof garbage, &eb, &msp), LC_EDECODE);
    ck_assert_ptr_null(msp);
}
END_TEST

START_TEST(manager_rejects_duplicate_msp)
{
    struct lc_errbuf eb;
    struct cfg c = {.name = "Org1MSP", .nroots = 1, .node_ous = true};
    c.roots[0] = root1.cert;
    size_t len;
    uint8_t *b = cfg_pack(&c, &len);
    ck_assert_int_eq(lc_msp_mgr_add_config(mgr, b, len, &eb), LC_EEXISTS);
    free(b);
    ck_assert_uint_eq(lc_msp_mgr_count(mgr), 2);
    ck_assert_str_eq(lc_msp_name(lc_msp_mgr_at(mgr, 1)), "Org2MSP");
    ck_assert_ptr_null(lc_msp_mgr_at(mgr, 2));
    ck_assert_ptr_null(lc_msp_mgr_get(mgr, "nope"));
}
END_TEST

/* ---- cache --------------------------------------------------------------------------------- */

START_TEST(cache_hits_and_evicts)
{
    struct lc_errbuf eb;
    struct lc_msp_mgr *m = NULL;
    struct lc_msp_cache_stats st;
    ck_assert_int_eq(lc_msp_mgr_new(2, &m), 0);
    ck_assert_int_eq(lc_msp_mgr_add(m, lc_msp_mgr_get(mgr, "Org1MSP"), &eb), 0);
    struct lc_identity *a = NULL, *b = NULL, *c = NULL, *a2 = NULL;
    ck_assert_int_eq(lc_msp_mgr_deserialize(m, client.ser, client.ser_len, &eb, &a), 0);
    ck_assert_int_eq(lc_msp_mgr_deserialize(m, client.ser, client.ser_len, &eb, &a2), 0);
    ck_assert_ptr_eq(a, a2);
    lc_msp_mgr_cache_stats(m, &st);
    ck_assert_uint_eq(st.hits, 1);
    ck_assert_uint_eq(st.misses, 1);
    ck_assert_uint_eq(st.entries, 1);
    ck_assert_uint_eq(st.max, 2);
    lc_identity_unref(a2);
    ck_assert_int_eq(lc_msp_mgr_deserialize(m, peer.ser, peer.ser_len, &eb, &b), 0);
    ck_assert_int_eq(lc_msp_mgr_deserialize(m, admin.ser, admin.ser_len, &eb, &c), 0);
    lc_msp_mgr_cache_stats(m, &st);
    ck_assert_uint_eq(st.entries, 2);
    ck_assert_uint_eq(st.evictions, 1);
    /* client was least recently used, so it went; the reference we hold still works. */
    ck_assert_str_eq(lc_identity_mspid(a), "Org1MSP");
    ck_assert_int_eq(lc_msp_mgr_deserialize(m, client.ser, client.ser_len, &eb, &a2), 0);
    ck_assert_ptr_ne(a, a2);
    ck_assert_str_eq(lc_identity_id(a), lc_identity_id(a2));
    lc_msp_mgr_cache_stats(m, &st);
    ck_assert_uint_eq(st.misses, 4);
    ck_assert_uint_eq(st.hits, 1);
    ck_assert_uint_eq(st.evictions, 2);
    /* Failures are not cached. */
    struct leaf bad;
    struct lc_identity *x = NULL;
    leaf_make(&bad, &root2, "Org1MSP", "x", "client", NULL);
    ck_assert_int_eq(lc_msp_mgr_deserialize(m, bad.ser, bad.ser_len, &eb, &x), LC_EBADCERT);
    ck_assert_int_eq(lc_msp_mgr_deserialize(m, bad.ser, bad.ser_len, &eb, &x), LC_EBADCERT);
    lc_msp_mgr_cache_stats(m, &st);
    ck_assert_uint_eq(st.misses, 6);
    ck_assert_uint_eq(st.entries, 2);
    leaf_done(&bad);
    lc_msp_mgr_free(m);
    /* Identities outlive their manager. */
    ck_assert_uint_eq(lc_identity_roles(b), LC_ROLE_PEER);
    lc_identity_unref(a);
    lc_identity_unref(a2);
    lc_identity_unref(b);
    lc_identity_unref(c);
}
END_TEST

START_TEST(cache_can_be_disabled)
{
    struct lc_errbuf eb;
    struct lc_msp_mgr *m = NULL;
    struct lc_msp_cache_stats st;
    ck_assert_int_eq(lc_msp_mgr_new(0, &m), 0);
    ck_assert_int_eq(lc_msp_mgr_add(m, lc_msp_mgr_get(mgr, "Org1MSP"), &eb), 0);
    struct lc_identity *a = NULL, *b = NULL;
    ck_assert_int_eq(lc_msp_mgr_deserialize(m, client.ser, client.ser_len, &eb, &a), 0);
    ck_assert_int_eq(lc_msp_mgr_deserialize(m, client.ser, client.ser_len, &eb, &b), 0);
    ck_assert_ptr_ne(a, b);
    lc_msp_mgr_cache_stats(m, &st);
    ck_assert_uint_eq(st.hits + st.misses + st.entries, 0);
    lc_identity_unref(a);
    lc_identity_unref(b);
    lc_msp_mgr_free(m);
}
END_TEST

struct thread_arg {
    struct lc_msp_mgr *m;
    const struct leaf *leaves[6];
    int failures;
};

static void *worker(void *p)
{
    struct thread_arg *a = p;
    for (int i = 0; i < 60; i++) {
        struct lc_errbuf eb;
        struct lc_identity *id = NULL;
        const struct leaf *l = a->leaves[i % 6];
        if (lc_msp_mgr_deserialize(a->m, l->ser, l->ser_len, &eb, &id) != 0 ||
            strcmp(lc_identity_mspid(id), "Org1MSP") != 0)
            a->failures++;
        lc_identity_unref(id);
    }
    return NULL;
}

START_TEST(concurrent_deserialize_is_safe)
{
    struct lc_errbuf eb;
    struct lc_msp_mgr *m = NULL;
    struct leaf extra;
    leaf_make(&extra, &root1, "Org1MSP", "extra", "peer", NULL);
    ck_assert_int_eq(lc_msp_mgr_new(4, &m), 0); /* smaller than the working set: evictions */
    ck_assert_int_eq(lc_msp_mgr_add(m, lc_msp_mgr_get(mgr, "Org1MSP"), &eb), 0);
    struct thread_arg args[4];
    pthread_t th[4];
    for (int t = 0; t < 4; t++) {
        args[t] =
            (struct thread_arg){m, {&client, &peer, &admin, &orderer, &listed_admin, &extra}, 0};
        ck_assert_int_eq(pthread_create(&th[t], NULL, worker, &args[t]), 0);
    }
    for (int t = 0; t < 4; t++) {
        pthread_join(th[t], NULL);
        ck_assert_int_eq(args[t].failures, 0);
    }
    struct lc_msp_cache_stats st;
    lc_msp_mgr_cache_stats(m, &st);
    ck_assert_uint_eq(st.hits + st.misses, 240);
    ck_assert_uint_le(st.entries, 4);
    lc_msp_mgr_free(m);
    leaf_done(&extra);
}
END_TEST

START_TEST(policy_ops_adapter)
{
    struct lc_errbuf eb;
    void *id = NULL;
    ck_assert_int_eq(lc_msp_policy_ops.deserialize(mgr, client.ser, client.ser_len, &id), 0);
    ck_assert_ptr_nonnull(lc_msp_policy_ops.key(mgr, id));
    static const char msg[] = "data";
    uint8_t sig[LC_ECDSA_SIG_MAX];
    size_t sl;
    ck_assert_int_eq(lc_ecdsa_sign(client.key, msg, 4, sig, &sl), 0);
    ck_assert_int_eq(lc_msp_policy_ops.verify(mgr, id, (const uint8_t *)msg, 4, sig, sl), 0);
    ck_assert_int_ne(lc_msp_policy_ops.verify(mgr, id, (const uint8_t *)"date", 4, sig, sl), 0);
    ck_assert_int_eq(check_role(id, "Org1MSP", CLIENT, &eb), 0);
    lc_msp_policy_ops.release(mgr, id);
    ck_assert_int_ne(lc_msp_policy_ops.deserialize(mgr, (const uint8_t *)"\x0a\x50", 2, &id), 0);
}
END_TEST

/* ---- MSP directories ----------------------------------------------------------------------- */

static char tmpdir[64];

static void write_file(const char *rel, const void *data, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
    /* make parent folders */
    for (char *s = path + strlen(tmpdir) + 1; (s = strchr(s, '/')); s++) {
        *s = '\0';
        ck_assert(mkdir(path, 0700) == 0 || errno == EEXIST);
        *s = '/';
    }
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void write_cert(const char *rel, const struct lc_cert *c)
{
    char *pem;
    size_t len;
    ck_assert_int_eq(lc_cert_to_pem(c, &pem, &len), 0);
    write_file(rel, pem, len);
    free(pem);
}

static void write_key(const char *rel, const struct lc_privkey *k)
{
    char *pem;
    size_t len;
    ck_assert_int_eq(lc_privkey_to_pem(k, &pem, &len), 0);
    write_file(rel, pem, len);
    lc_privkey_pem_free(pem);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(p);
}

static void dir_setup(void)
{
    world_setup();
    snprintf(tmpdir, sizeof tmpdir, "/tmp/weft-msp-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void dir_teardown(void)
{
    nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    world_teardown();
}

static const char node_ous_yaml[] = "NodeOUs:\n"
                                    "  Enable: true\n"
                                    "  ClientOUIdentifier:\n"
                                    "    Certificate: cacerts/ca.pem\n"
                                    "    OrganizationalUnitIdentifier: client\n"
                                    "  PeerOUIdentifier:\n"
                                    "    Certificate: cacerts/ca.pem\n"
                                    "    OrganizationalUnitIdentifier: peer\n"
                                    "  AdminOUIdentifier:\n"
                                    "    Certificate: cacerts/ca.pem\n"
                                    "    OrganizationalUnitIdentifier: admin\n"
                                    "  OrdererOUIdentifier:\n"
                                    "    Certificate: cacerts/ca.pem\n"
                                    "    OrganizationalUnitIdentifier: orderer\n";

START_TEST(msp_config_from_dir_round_trips)
{
    struct lc_errbuf eb;
    struct ca tls;
    struct lc_crl *crl = NULL;
    ca_make(&tls, "tlsca.org1.example.com", NULL);
    ck_assert_int_eq(
        lc_crl_issue(root1.cert, root1.key, &peer.cert, 1, T0 - DAY, T0 + YEAR, &eb, &crl), 0);
    char *crl_pem;
    size_t crl_len;
    ck_assert_int_eq(lc_crl_to_pem(crl, &crl_pem, &crl_len), 0);
    write_cert("cacerts/ca.pem", root1.cert);
    write_file("cacerts/README", "not a cert\n", 11); /* no PEM: skipped */
    write_cert("admincerts/b.pem", listed_admin.cert);
    write_cert("admincerts/a.pem", admin.cert);
    write_cert("tlscacerts/tlsca.pem", tls.cert);
    write_file("crls/crl.pem", crl_pem, crl_len);
    write_file("config.yaml", node_ous_yaml, sizeof node_ous_yaml - 1);

    uint8_t *buf = NULL;
    size_t len = 0;
    int r = lc_msp_config_from_dir(tmpdir, "Org1MSP", &eb, &buf, &len);
    ck_assert_msg(r == 0, "%s", eb.msg);
    Msp__MSPConfig *mc = msp__mspconfig__unpack(NULL, len, buf);
    ck_assert_ptr_nonnull(mc);
    ck_assert_int_eq(mc->type, 0);
    Msp__FabricMSPConfig *fc = msp__fabric_mspconfig__unpack(NULL, mc->config.len, mc->config.data);
    ck_assert_ptr_nonnull(fc);
    ck_assert_str_eq(fc->name, "Org1MSP");
    ck_assert_uint_eq(fc->n_root_certs, 1);
    ck_assert_uint_eq(fc->n_intermediate_certs, 0);
    ck_assert_uint_eq(fc->n_admins, 2);
    ck_assert_uint_eq(fc->n_revocation_list, 1);
    ck_assert_uint_eq(fc->revocation_list[0].len, crl_len);
    ck_assert_mem_eq(fc->revocation_list[0].data, crl_pem, crl_len);
    ck_assert_uint_eq(fc->n_tls_root_certs, 1);
    ck_assert_ptr_null(fc->signing_identity);
    ck_assert_str_eq(fc->crypto_config->signature_hash_family, "SHA2");
    ck_assert_str_eq(fc->crypto_config->identity_identifier_hash_function, "SHA256");
    /* admins in file-name order: a.pem (admin) then b.pem (listed_admin) */
    struct lc_cert *c0 = NULL;
    ck_assert_int_eq(lc_cert_from_pem(fc->admins[0].data, fc->admins[0].len, &eb, &c0), 0);
    ck_assert(lc_cert_equal(c0, admin.cert));
    lc_cert_unref(c0);
    ck_assert_ptr_nonnull(fc->fabric_node_ous);
    ck_assert(fc->fabric_node_ous->enable);
    ck_assert_str_eq(fc->fabric_node_ous->client_ou_identifier->organizational_unit_identifier,
                     "client");
    ck_assert_str_eq(fc->fabric_node_ous->orderer_ou_identifier->organizational_unit_identifier,
                     "orderer");
    ck_assert_uint_gt(fc->fabric_node_ous->peer_ou_identifier->certificate.len, 0);
    ck_assert_mem_eq(fc->fabric_node_ous->peer_ou_identifier->certificate.data,
                     fc->root_certs[0].data, fc->root_certs[0].len);
    msp__fabric_mspconfig__free_unpacked(fc, NULL);
    msp__mspconfig__free_unpacked(mc, NULL);

    /* The config works: the revoked peer is out, the client is in. */
    struct lc_msp *msp = NULL;
    struct lc_identity *id = NULL;
    ck_assert_int_eq(lc_msp_new_from_bytes(buf, len, &eb, &msp), 0);
    ck_assert(lc_msp_node_ous_enabled(msp));
    ck_assert_uint_eq(lc_msp_tls_root_count(msp), 1);
    ck_assert_int_eq(lc_msp_deserialize(msp, peer.ser, peer.ser_len, &eb, &id), LC_EREVOKED);
    ck_assert_int_eq(lc_msp_deserialize(msp, client.ser, client.ser_len, &eb, &id), 0);
    lc_identity_unref(id);
    lc_msp_unref(msp);
    free(buf);
    free(crl_pem);
    lc_crl_free(crl);
    ca_done(&tls);
}
END_TEST

START_TEST(msp_dir_without_config_yaml)
{
    struct lc_errbuf eb;
    uint8_t *buf = NULL;
    size_t len = 0;
    write_cert("cacerts/ca.pem", root1.cert);
    /* No admincerts and no NodeOUs: the MSP would be rejected. */
    ck_assert_int_eq(lc_msp_config_from_dir(tmpdir, "Org1MSP", &eb, &buf, &len), LC_EINVALID);
    ck_assert_ptr_nonnull(strstr(eb.msg, "admins"));
    write_cert("admincerts/admin.pem", listed_admin.cert);
    int r = lc_msp_config_from_dir(tmpdir, "Org1MSP", &eb, &buf, &len);
    ck_assert_msg(r == 0, "%s", eb.msg);
    Msp__MSPConfig *mc = msp__mspconfig__unpack(NULL, len, buf);
    Msp__FabricMSPConfig *fc = msp__fabric_mspconfig__unpack(NULL, mc->config.len, mc->config.data);
    ck_assert_ptr_null(fc->fabric_node_ous);
    ck_assert_uint_eq(fc->n_admins, 1);
    msp__fabric_mspconfig__free_unpacked(fc, NULL);
    msp__mspconfig__free_unpacked(mc, NULL);
    free(buf);
}
END_TEST

START_TEST(msp_dir_errors)
{
    struct lc_errbuf eb;
    uint8_t *buf = NULL;
    size_t len = 0;
    /* No cacerts at all. */
    ck_assert_int_eq(lc_msp_config_from_dir(tmpdir, "Org1MSP", &eb, &buf, &len), LC_EINVALID);
    ck_assert_ptr_nonnull(strstr(eb.msg, "cacerts"));
    write_cert("cacerts/ca.pem", root1.cert);
    ck_assert_int_eq(lc_msp_config_from_dir(tmpdir, "", &eb, &buf, &len), LC_EINVALID);

    /* YAML that does not parse. */
    static const char bad_yaml[] = "NodeOUs:\n  Enable: true\n   ClientOUIdentifier: [\n";
    write_file("config.yaml", bad_yaml, sizeof bad_yaml - 1);
    ck_assert_int_eq(lc_msp_config_from_dir(tmpdir, "Org1MSP", &eb, &buf, &len), LC_ESYNTAX);
    ck_assert_ptr_nonnull(strstr(eb.msg, "config.yaml line"));

    /* An unknown role identifier. */
    static const char unknown_role[] = "NodeOUs:\n  Enable: true\n  MinerOUIdentifier:\n"
                                       "    OrganizationalUnitIdentifier: miner\n";
    write_file("config.yaml", unknown_role, sizeof unknown_role - 1);
    ck_assert_int_eq(lc_msp_config_from_dir(tmpdir, "Org1MSP", &eb, &buf, &len), LC_EINVALID);
    ck_assert_ptr_nonnull(strstr(eb.msg, "MinerOUIdentifier"));

    /* An unknown key inside an identifier, and a bad Enable. */
    static const char unknown_key[] = "NodeOUs:\n  Enable: true\n  ClientOUIdentifier:\n"
                                      "    OU: client\n";
    write_file("config.yaml", unknown_key, sizeof unknown_key - 1);
    ck_assert_int_eq(lc_msp_config_from_dir(tmpdir, "Org1MSP", &eb, &buf, &len), LC_EINVALID);
    ck_assert_ptr_nonnull(strstr(eb.msg, "ClientOUIdentifier.OU"));
    static const char bad_bool[] = "NodeOUs:\n  Enable: maybe\n";
    write_file("config.yaml", bad_bool, sizeof bad_bool - 1);
    ck_assert_int_eq(lc_msp_config_from_dir(tmpdir, "Org1MSP", &eb, &buf, &len), LC_EINVALID);
    ck_assert_ptr_nonnull(strstr(eb.msg, "Enable"));

    /* A Certificate file that is not there. */
    static const char missing[] = "NodeOUs:\n  Enable: true\n  ClientOUIdentifier:\n"
                                  "    Certificate: cacerts/nope.pem\n"
                                  "    OrganizationalUnitIdentifier: client\n";
    write_file("config.yaml", missing, sizeof missing - 1);
    ck_assert_int_eq(lc_msp_config_from_dir(tmpdir, "Org1MSP", &eb, &buf, &len), -ENOENT);
    ck_assert_ptr_nonnull(strstr(eb.msg, "cacerts/nope.pem"));
    ck_assert_ptr_nonnull(strstr(eb.msg, "ClientOUIdentifier"));

    /* OrganizationalUnitIdentifiers entry without a Certificate. */
    static const char no_cert[] = "OrganizationalUnitIdentifiers:\n"
                                  "  - OrganizationalUnitIdentifier: sales\n";
    write_file("config.yaml", no_cert, sizeof no_cert - 1);
    ck_assert_int_eq(lc_msp_config_from_dir(tmpdir, "Org1MSP", &eb, &buf, &len), LC_EINVALID);
    ck_assert_ptr_nonnull(strstr(eb.msg, "OrganizationalUnitIdentifiers[0].Certificate"));

    /* A PEM file in cacerts that is not a certificate. */
    write_file("config.yaml", node_ous_yaml, sizeof node_ous_yaml - 1);
    static const char junk[] = "-----BEGIN CERTIFICATE-----\nAAEC\n-----END CERTIFICATE-----\n";
    write_file("cacerts/zz.pem", junk, sizeof junk - 1);
    ck_assert_int_eq(lc_msp_config_from_dir(tmpdir, "Org1MSP", &eb, &buf, &len), LC_EDECODE);
    ck_assert_ptr_nonnull(strstr(eb.msg, "zz.pem"));
    ck_assert_ptr_null(buf);
}
END_TEST

START_TEST(signer_loads_and_signs)
{
    struct lc_errbuf eb;
    struct lc_signer *s = NULL;
    write_cert("signcerts/cert.pem", client.cert);
    write_key("keystore/priv_sk", client.key);
    int r = lc_signer_load(tmpdir, "Org1MSP", &eb, &s);
    ck_assert_msg(r == 0, "%s", eb.msg);
    ck_assert_str_eq(lc_signer_mspid(s), "Org1MSP");
    ck_assert(lc_cert_equal(lc_signer_cert(s), client.cert));
    size_t sl;
    const uint8_t *ser = lc_signer_serialized(s, &sl);
    ck_assert_uint_eq(sl, client.ser_len); /* cert PEM exactly as in the file */
    ck_assert_mem_eq(ser, client.ser, sl);
    struct lc_identity *id = NULL;
    ck_assert_int_eq(lc_msp_mgr_deserialize(mgr, ser, sl, &eb, &id), 0);
    static const char msg[] = "proposal bytes";
    uint8_t sig[LC_ECDSA_SIG_MAX];
    size_t siglen;
    for (int i = 0; i < 8; i++) {
        ck_assert_int_eq(lc_signer_sign(s, msg, sizeof msg - 1, sig, &siglen), 0);
        ck_assert_int_eq(lc_identity_verify(id, msg, sizeof msg - 1, sig, siglen, &eb), 0);
    }
    struct lc_iov v[2] = {{msg, 3}, {msg + 3, sizeof msg - 4}};
    ck_assert_int_eq(lc_signer_sign_iov(s, v, 2, sig, &siglen), 0);
    ck_assert_int_eq(lc_identity_verify(id, msg, sizeof msg - 1, sig, siglen, &eb), 0);
    lc_identity_unref(id);
    lc_signer_free(s);
}
END_TEST

START_TEST(signer_finds_ski_named_key)
{
    struct lc_errbuf eb;
    struct lc_signer *s = NULL;
    write_cert("signcerts/Admin@org1-cert.pem", admin.cert);
    write_key("keystore/0aaa_sk", peer.key); /* someone else's key: skipped */
    write_key("keystore/ffff_sk", admin.key);
    write_file("keystore/notes.txt", "x", 1);
    int r = lc_signer_load(tmpdir, "Org1MSP", &eb, &s);
    ck_assert_msg(r == 0, "%s", eb.msg);
    ck_assert(lc_cert_equal(lc_signer_cert(s), admin.cert));
    lc_signer_free(s);
}
END_TEST

START_TEST(signer_rejections)
{
    struct lc_errbuf eb;
    struct lc_signer *s = NULL;
    ck_assert_int_eq(lc_signer_load(tmpdir, "Org1MSP", &eb, &s), -ENOENT);
    ck_assert_ptr_nonnull(strstr(eb.msg, "signcerts"));
    write_cert("signcerts/cert.pem", client.cert);
    ck_assert_int_eq(lc_signer_load(tmpdir, "Org1MSP", &eb, &s), -ENOENT);
    ck_assert_ptr_nonnull(strstr(eb.msg, "keystore"));
    write_key("keystore/priv_sk", peer.key);
    ck_assert_int_eq(lc_signer_load(tmpdir, "Org1MSP", &eb, &s), LC_EBADKEY);
    ck_assert_ptr_nonnull(strstr(eb.msg, "priv_sk"));
    write_file("keystore/priv_sk", "garbage", 7);
    ck_assert_int_ne(lc_signer_load(tmpdir, "Org1MSP", &eb, &s), 0);
    ck_assert_int_eq(lc_signer_load(tmpdir, "", &eb, &s), LC_EINVALID);
    ck_assert_ptr_null(s);
    /* From memory, mismatched key. */
    char *kpem;
    size_t kl;
    ck_assert_int_eq(lc_privkey_to_pem(peer.key, &kpem, &kl), 0);
    ck_assert_int_eq(lc_signer_new("Org1MSP", client.pem, client.pem_len, kpem, kl, &eb, &s),
                     LC_EBADKEY);
    lc_privkey_pem_free(kpem);
    ck_assert_int_eq(lc_privkey_to_pem(client.key, &kpem, &kl), 0);
    ck_assert_int_eq(lc_signer_new("Org1MSP", client.pem, client.pem_len, kpem, kl, &eb, &s), 0);
    lc_privkey_pem_free(kpem);
    lc_signer_free(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("msp");
    TCase *tc = tcase_create("identities");
    tcase_add_checked_fixture(tc, world_setup, world_teardown);
    tcase_add_test(tc, identities_are_classified_by_role);
    tcase_add_test(tc, unknown_msp_is_rejected);
    tcase_add_test(tc, bad_bytes_are_rejected);
    tcase_add_test(tc, cert_from_another_ca_is_rejected);
    tcase_add_test(tc, ca_cert_as_identity_is_rejected);
    tcase_add_test(tc, revoked_cert_is_rejected);
    tcase_add_test(tc, node_ou_rules_are_enforced);
    tcase_add_test(tc, node_ou_certifiers_are_compared_when_configured);
    tcase_add_test(tc, ou_identifiers_apply_without_node_ous);
    tcase_add_test(tc, expired_cert_validates_but_fails_admission);
    tcase_add_test(tc, signatures_verify_and_high_s_is_rejected);
    tcase_add_test(tc, high_s_certificate_is_sanitised_to_the_same_identity);
    tcase_add_test(tc, role_principals);
    tcase_add_test(tc, role_principals_without_node_ous);
    tcase_add_test(tc, identity_principals);
    tcase_add_test(tc, ou_principals);
    tcase_add_test(tc, other_principal_kinds);
    tcase_add_test(tc, intermediate_chain_and_leaf_ca_rule);
    tcase_add_test(tc, msp_config_rejections);
    tcase_add_test(tc, manager_rejects_duplicate_msp);
    tcase_add_test(tc, cache_hits_and_evicts);
    tcase_add_test(tc, cache_can_be_disabled);
    tcase_add_test(tc, concurrent_deserialize_is_safe);
    tcase_add_test(tc, policy_ops_adapter);
    suite_add_tcase(s, tc);
    TCase *td = tcase_create("dirs");
    tcase_add_checked_fixture(td, dir_setup, dir_teardown);
    tcase_add_test(td, msp_config_from_dir_round_trips);
    tcase_add_test(td, msp_dir_without_config_yaml);
    tcase_add_test(td, msp_dir_errors);
    tcase_add_test(td, signer_loads_and_signs);
    tcase_add_test(td, signer_finds_ski_named_key);
    tcase_add_test(td, signer_rejections);
    suite_add_tcase(s, td);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
