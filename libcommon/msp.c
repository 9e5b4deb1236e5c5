/* SPDX-License-Identifier: Apache-2.0 */
/* Fabric X.509 MSPs: setup from MSPConfig, identity validation and cache, principals, signers,
 * and MSPConfig from a local MSP directory. */
#include "libcommon/msp.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "msp/identities.pb-c.h"

#include "libcommon/log.h"

#define MOD "msp"

/* Deepest nesting of COMBINED principals we follow. */
#define MAX_COMBINED_DEPTH 8

enum { R_CLIENT, R_PEER, R_ADMIN, R_ORDERER, N_ROLES };

static const char *const role_names[N_ROLES] = {"client", "peer", "admin", "orderer"};
static const unsigned role_bits[N_ROLES] = {LC_ROLE_CLIENT, LC_ROLE_PEER, LC_ROLE_ADMIN,
                                            LC_ROLE_ORDERER};

/* An OU the MSP recognises, with the certifiers id (hash of the CA chain) it must come from. */
struct ou_ident {
    char *ou;
    bool has_certifiers;
    uint8_t certifiers[LC_SHA256_LEN];
};

struct cert_list {
    struct lc_cert **v;
    size_t n;
};

struct blob {
    uint8_t *p;
    size_t n;
};

struct lc_msp {
    atomic_uint refs;
    char *name;
    struct cert_list roots, inters; /* sanitised */
    struct cert_list internal;      /* roots/intermediates that issued an intermediate */
    struct cert_list admins;        /* sanitised */
    struct lc_crl **crls;
    size_t ncrls;
    struct lc_cert_store *chain_store; /* roots + intermediates, no CRLs: finds issuers */
    struct lc_cert_store *store;       /* the same plus CRLs: validates identities */
    struct ou_ident *ous;              /* OrganizationalUnitIdentifiers */
    size_t nous;
    bool node_ous;
    bool role_set[N_ROLES];
    struct ou_ident role[N_ROLES];
    struct blob *tls_roots, *tls_inters;
    size_t ntls_roots, ntls_inters;
};

struct lc_identity {
    atomic_uint refs;
    struct lc_msp *msp;
    struct lc_cert *cert; /* sanitised */
    uint8_t hash[LC_SHA256_LEN];
    uint8_t certifiers[LC_SHA256_LEN]; /* SHA-256 of the chain without the leaf */
    unsigned roles;
    uint8_t *ser;
    size_t ser_len;
    char *id; /* mspid + hex(hash) */
};

/* ---- small helpers ------------------------------------------------------------------------- */

static char *dup_str(const char *s)
{
    return strdup(s ? s : "");
}

static void cert_list_done(struct cert_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        lc_cert_unref(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static bool cert_list_has(const struct cert_list *l, const struct lc_cert *c)
{
    for (size_t i = 0; i < l->n; i++)
        if (lc_cert_equal(l->v[i], c))
            return true;
    return false;
}

/* Appends a new reference to c. */
static int cert_list_add(struct cert_list *l, struct lc_cert *c)
{
    struct lc_cert **v = realloc(l->v, (l->n + 1) * sizeof *v);
    if (!v)
        return -ENOMEM;
    l->v = v;
    l->v[l->n++] = lc_cert_ref(c);
    return 0;
}

static bool cert_has_ou(const struct lc_cert *c, const char *ou)
{
    size_t n = lc_cert_ou_count(c);
    for (size_t i = 0; i < n; i++)
        if (strcmp(lc_cert_ou(c, i), ou) == 0)
            return true;
    return false;
}

/* Checked time for "as of NotBefore + 1 s" verification. */
static time_t verify_time(const struct lc_cert *c)
{
    return lc_cert_not_before(c) + 1;
}

/* Whether c names itself as issuer (a root CA signs itself; its own key sanitises it). */
static bool cert_self_issued(const struct lc_cert *c)
{
    return strcmp(lc_cert_subject_str(c), lc_cert_issuer_str(c)) == 0;
}

/* Fabric's sanitizeCert: re-encode a high-S ECDSA signature as low S, using the issuer found by
 * building the chain in st (or the certificate itself for a self-issued CA). *ret is a new
 * reference. */
static int sanitize_cert(const struct lc_cert_store *st, struct lc_cert *c, struct lc_errbuf *err,
                         struct lc_cert **ret)
{
    if (lc_cert_is_ca(c) && cert_self_issued(c))
        return lc_cert_sanitize(c, c, err, ret);
    struct lc_cert_chain *ch = NULL;
    int r = lc_cert_store_verify(st, c, verify_time(c), err, &ch);
    if (r < 0)
        return r;
    if (lc_cert_chain_len(ch) < 2)
        *ret = lc_cert_ref(c); /* a trust anchor that is not self-issued: kept as it is */
    else
        r = lc_cert_sanitize(c, lc_cert_chain_at(ch, 1), err, ret);
    lc_cert_chain_free(ch);
    return r;
}

/* SHA-256 over the DER of chain[from..] (Fabric's certification chain identifier). */
static int chain_hash(const struct lc_cert_chain *ch, size_t from, uint8_t out[LC_SHA256_LEN])
{
    size_t n = lc_cert_chain_len(ch);
    struct lc_iov *v = calloc(n > from ? n - from : 1, sizeof *v);
    if (!v)
        return -ENOMEM;
    for (size_t i = from; i < n; i++)
        v[i - from].base = lc_cert_der(lc_cert_chain_at(ch, i), &v[i - from].len);
    lc_sha256_iov(v, n > from ? n - from : 0, out);
    free(v);
    return 0;
}

/* ---- MSP setup ----------------------------------------------------------------------------- */

static void ou_ident_done(struct ou_ident *o)
{
    free(o->ou);
    o->ou = NULL;
}

static void msp_free(struct lc_msp *msp)
{
    free(msp->name);
    cert_list_done(&msp->roots);
    cert_list_done(&msp->inters);
    cert_list_done(&msp->internal);
    cert_list_done(&msp->admins);
    for (size_t i = 0; i < msp->ncrls; i++)
        lc_crl_free(msp->crls[i]);
    free(msp->crls);
    lc_cert_store_free(msp->chain_store);
    lc_cert_store_free(msp->store);
    for (size_t i = 0; i < msp->nous; i++)
        ou_ident_done(&msp->ous[i]);
    free(msp->ous);
    for (int r = 0; r < N_ROLES; r++)
        ou_ident_done(&msp->role[r]);
    for (size_t i = 0; i < msp->ntls_roots; i++)
        free(msp->tls_roots[i].p);
    free(msp->tls_roots);
    for (size_t i = 0; i < msp->ntls_inters; i++)
        free(msp->tls_inters[i].p);
    free(msp->tls_inters);
    free(msp);
}

struct lc_msp *lc_msp_ref(struct lc_msp *msp)
{
    if (msp)
        atomic_fetch_add_explicit(&msp->refs, 1, memory_order_relaxed);
    return msp;
}

void lc_msp_unref(struct lc_msp *msp)
{
    if (msp && atomic_fetch_sub_explicit(&msp->refs, 1, memory_order_acq_rel) == 1)
        msp_free(msp);
}

const char *lc_msp_name(const struct lc_msp *msp)
{
    return msp->name;
}

bool lc_msp_node_ous_enabled(const struct lc_msp *msp)
{
    return msp->node_ous;
}

size_t lc_msp_tls_root_count(const struct lc_msp *msp)
{
    return msp->ntls_roots;
}

const uint8_t *lc_msp_tls_root(const struct lc_msp *msp, size_t i, size_t *ret_len)
{
    if (i >= msp->ntls_roots)
        return NULL;
    *ret_len = msp->tls_roots[i].n;
    return msp->tls_roots[i].p;
}

size_t lc_msp_tls_intermediate_count(const struct lc_msp *msp)
{
    return msp->ntls_inters;
}

const uint8_t *lc_msp_tls_intermediate(const struct lc_msp *msp, size_t i, size_t *ret_len)
{
    if (i >= msp->ntls_inters)
        return NULL;
    *ret_len = msp->tls_inters[i].n;
    return msp->tls_inters[i].p;
}

/* Parses each PEM of pems[0..n) into l (unsanitised); the field name goes into errors. */
static int parse_certs(const ProtobufCBinaryData *pems, size_t n, const char *field,
                       struct lc_errbuf *err, struct cert_list *l)
{
    for (size_t i = 0; i < n; i++) {
        struct lc_cert *c = NULL;
        int r = lc_cert_from_pem(pems[i].data, pems[i].len, err, &c);
        if (r < 0) {
            lc_errbuf_prefix(err, "%s[%zu]: ", field, i);
            return r;
        }
        r = cert_list_add(l, c);
        lc_cert_unref(c);
        if (r < 0)
            return r;
    }
    return 0;
}

static int copy_blobs(const ProtobufCBinaryData *in, size_t n, struct blob **ret, size_t *ret_n)
{
    if (n == 0)
        return 0;
    struct blob *b = calloc(n, sizeof *b);
    if (!b)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        b[i].p = malloc(in[i].len ? in[i].len : 1);
        if (!b[i].p) {
            for (size_t j = 0; j < i; j++)
                free(b[j].p);
            free(b);
            return -ENOMEM;
        }
        memcpy(b[i].p, in[i].data, in[i].len);
        b[i].n = in[i].len;
    }
    *ret = b;
    *ret_n = n;
    return 0;
}

static int check_crypto_config(const Msp__FabricCryptoConfig *cc, struct lc_errbuf *err)
{
    if (!cc)
        return 0;
    const char *fam = cc->signature_hash_family ? cc->signature_hash_family : "";
    const char *idh =
        cc->identity_identifier_hash_function ? cc->identity_identifier_hash_function : "";
    if (*fam && strcmp(fam, "SHA2") != 0)
        return lc_fail(err, LC_EINVALID,
                       "crypto_config.signature_hash_family \"%.40s\" is not supported (SHA2)",
                       fam);
    if (*idh && strcmp(idh, "SHA256") != 0)
        return lc_fail(err, LC_EINVALID,
                       "crypto_config.identity_identifier_hash_function \"%.40s\" is not "
                       "supported (SHA256)",
                       idh);
    return 0;
}

/* Sanitises the roots (self-issued ones with their own key) and the intermediates (with the
 * issuer found among the unsanitised roots and intermediates), as Fabric's setupCAs does. */
static int setup_cas(struct lc_msp *msp, const Msp__FabricMSPConfig *fc, struct lc_errbuf *err)
{
    struct cert_list raw_roots = {0}, raw_inters = {0};
    struct lc_cert_store *tmp = NULL;
    int r;
    if (fc->n_root_certs == 0) {
        r = lc_fail(err, LC_EINVALID, "root_certs: at least one CA certificate is required");
        goto out;
    }
    r = parse_certs(fc->root_certs, fc->n_root_certs, "root_certs", err, &raw_roots);
    if (r < 0)
        goto out;
    r = parse_certs(fc->intermediate_certs, fc->n_intermediate_certs, "intermediate_certs", err,
                    &raw_inters);
    if (r < 0)
        goto out;
    r = lc_cert_store_new(raw_roots.v, raw_roots.n, raw_inters.v, raw_inters.n, NULL, 0, err, &tmp);
    if (r < 0)
        goto out;
    for (size_t i = 0; i < raw_roots.n + raw_inters.n; i++) {
        bool root = i < raw_roots.n;
        struct lc_cert *c = root ? raw_roots.v[i] : raw_inters.v[i - raw_roots.n];
        struct lc_cert *s = NULL;
        if (root && !cert_self_issued(c))
            s = lc_cert_ref(c); /* a trust anchor that is not self-issued: no issuer to use */
        else if ((r = sanitize_cert(tmp, c, err, &s)) < 0) {
            lc_errbuf_prefix(err, "%s[%zu]: ", root ? "root_certs" : "intermediate_certs",
                             root ? i : i - raw_roots.n);
            goto out;
        }
        r = cert_list_add(root ? &msp->roots : &msp->inters, s);
        lc_cert_unref(s);
        if (r < 0)
            goto out;
    }
out:
    lc_cert_store_free(tmp);
    cert_list_done(&raw_roots);
    cert_list_done(&raw_inters);
    return r;
}

static int setup_crls(struct lc_msp *msp, const Msp__FabricMSPConfig *fc, struct lc_errbuf *err)
{
    if (fc->n_revocation_list == 0)
        return 0;
    msp->crls = calloc(fc->n_revocation_list, sizeof *msp->crls);
    if (!msp->crls)
        return -ENOMEM;
    for (size_t i = 0; i < fc->n_revocation_list; i++) {
        const ProtobufCBinaryData *b = &fc->revocation_list[i];
        /* Fabric's x509.ParseCRL takes PEM or DER. */
        int r = lc_crl_from_pem(b->data, b->len, err, &msp->crls[i]);
        if (r == LC_EDECODE && lc_crl_from_der(b->data, b->len, NULL, &msp->crls[i]) == 0)
            r = 0;
        if (r < 0) {
            lc_errbuf_prefix(err, "revocation_list[%zu]: ", i);
            return r;
        }
        msp->ncrls++;
    }
    return 0;
}

/* Fabric's finalizeSetupCAs: every CA is a CA with an SKI, every intermediate chains and is not
 * revoked, and the issuers of intermediates are marked as internal nodes of the tree. */
static int finalize_cas(struct lc_msp *msp, struct lc_errbuf *err)
{
    int r = lc_cert_store_new(msp->roots.v, msp->roots.n, msp->inters.v, msp->inters.n, NULL, 0,
                              err, &msp->chain_store);
    if (r < 0)
        return r;
    r = lc_cert_store_new(msp->roots.v, msp->roots.n, msp->inters.v, msp->inters.n,
                          (const struct lc_crl *const *)msp->crls, msp->ncrls, err, &msp->store);
    if (r < 0)
        return r;
    for (size_t i = 0; i < msp->roots.n + msp->inters.n; i++) {
        bool root = i < msp->roots.n;
        const char *field = root ? "root_certs" : "intermediate_certs";
        size_t idx = root ? i : i - msp->roots.n;
        struct lc_cert *c = root ? msp->roots.v[idx] : msp->inters.v[idx];
        size_t ski_len = 0;
        if (!lc_cert_is_ca(c))
            return lc_fail(err, LC_EINVALID, "%s[%zu]: not a CA certificate (serial %s)", field,
                           idx, lc_cert_serial_hex(c));
        if (!lc_cert_ski(c, &ski_len) || ski_len == 0)
            return lc_fail(err, LC_EINVALID,
                           "%s[%zu]: CA certificate has no SubjectKeyIdentifier (serial %s)", field,
                           idx, lc_cert_serial_hex(c));
        if (root)
            continue;
        struct lc_cert_chain *ch = NULL;
        r = lc_cert_store_verify(msp->store, c, verify_time(c), err, &ch);
        if (r < 0) {
            lc_errbuf_prefix(err, "%s[%zu]: ", field, idx);
            return r;
        }
        for (size_t k = 1; k < lc_cert_chain_len(ch) && r == 0; k++) {
            struct lc_cert *p = lc_cert_chain_at(ch, k);
            if (!cert_list_has(&msp->internal, p))
                r = cert_list_add(&msp->internal, p);
        }
        lc_cert_chain_free(ch);
        if (r < 0)
            return r;
    }
    return 0;
}

/* Checks the TLS CAs as Fabric's setupTLSCAs does (as of each cert's NotBefore + 1 s rather than
 * the wall clock, so setup gives the same verdict on every node forever) and keeps their PEM. */
static int setup_tls_cas(struct lc_msp *msp, const Msp__FabricMSPConfig *fc, struct lc_errbuf *err)
{
    struct cert_list roots = {0}, inters = {0};
    struct lc_cert_store *st = NULL;
    int r = parse_certs(fc->tls_root_certs, fc->n_tls_root_certs, "tls_root_certs", err, &roots);
    if (r < 0)
        goto out;
    r = parse_certs(fc->tls_intermediate_certs, fc->n_tls_intermediate_certs,
                    "tls_intermediate_certs", err, &inters);
    if (r < 0)
        goto out;
    for (size_t i = 0; i < roots.n + inters.n; i++) {
        bool root = i < roots.n;
        const char *field = root ? "tls_root_certs" : "tls_intermediate_certs";
        size_t idx = root ? i : i - roots.n;
        struct lc_cert *c = root ? roots.v[idx] : inters.v[idx];
        size_t ski_len = 0;
        if (!lc_cert_is_ca(c)) {
            r = lc_fail(err, LC_EINVALID, "%s[%zu]: not a CA certificate (serial %s)", field, idx,
                        lc_cert_serial_hex(c));
            goto out;
        }
        if (!lc_cert_ski(c, &ski_len) || ski_len == 0) {
            r = lc_fail(err, LC_EINVALID,
                        "%s[%zu]: CA certificate has no SubjectKeyIdentifier (serial %s)", field,
                        idx, lc_cert_serial_hex(c));
            goto out;
        }
        if (root)
            continue;
        if (!st) {
            if (roots.n == 0) {
                r = lc_fail(err, LC_EINVALID,
                            "tls_intermediate_certs given without tls_root_certs");
                goto out;
            }
            r = lc_cert_store_new(roots.v, roots.n, inters.v, inters.n,
                                  (const struct lc_crl *const *)msp->crls, msp->ncrls, err, &st);
            if (r < 0)
                goto out;
        }
        r = lc_cert_store_verify(st, c, verify_time(c), err, NULL);
        if (r < 0) {
            lc_errbuf_prefix(err, "%s[%zu]: ", field, idx);
            goto out;
        }
    }
    r = copy_blobs(fc->tls_root_certs, fc->n_tls_root_certs, &msp->tls_roots, &msp->ntls_roots);
    if (r == 0)
        r = copy_blobs(fc->tls_intermediate_certs, fc->n_tls_intermediate_certs, &msp->tls_inters,
                       &msp->ntls_inters);
out:
    lc_cert_store_free(st);
    cert_list_done(&roots);
    cert_list_done(&inters);
    return r;
}

/* Fabric's getCertifiersIdentifier: the PEM must be one of the MSP's roots or intermediates
 * (after sanitising); the id is SHA-256 over its chain (the cert itself first, up to the root).
 * An intermediate must not have CAs below it. */
static int certifiers_id(struct lc_msp *msp, const ProtobufCBinaryData *pem, struct lc_errbuf *err,
                         uint8_t out[LC_SHA256_LEN])
{
    struct lc_cert *raw = NULL, *c = NULL;
    struct lc_cert_chain *ch = NULL;
    int r = lc_cert_from_pem(pem->data, pem->len, err, &raw);
    if (r < 0)
        return r;
    r = sanitize_cert(msp->chain_store, raw, err, &c);
    if (r < 0)
        goto out;
    if (cert_list_has(&msp->roots, c)) {
        size_t len;
        const uint8_t *der = lc_cert_der(c, &len);
        lc_sha256(der, len, out);
        goto out;
    }
    if (!cert_list_has(&msp->inters, c)) {
        r = lc_fail(err, LC_EINVALID,
                    "certificate %s is not one of the MSP's root or intermediate certificates",
                    lc_cert_subject_str(c));
        goto out;
    }
    r = lc_cert_store_verify(msp->chain_store, c, verify_time(c), err, &ch);
    if (r < 0)
        goto out;
    if (cert_list_has(&msp->internal, c)) {
        r = lc_fail(err, LC_EINVALID,
                    "certificate %s has CAs below it; only a leaf CA may certify an OU",
                    lc_cert_subject_str(c));
        goto out;
    }
    r = chain_hash(ch, 0, out);
out:
    lc_cert_chain_free(ch);
    lc_cert_unref(c);
    lc_cert_unref(raw);
    return r;
}

static int setup_ou_ident(struct lc_msp *msp, const Msp__FabricOUIdentifier *in, bool need_cert,
                          struct lc_errbuf *err, struct ou_ident *out)
{
    out->ou = dup_str(in->organizational_unit_identifier);
    if (!out->ou)
        return -ENOMEM;
    if (in->certificate.len == 0) {
        if (need_cert)
            return lc_fail(err, LC_EINVALID, "certificate missing");
        return 0;
    }
    int r = certifiers_id(msp, &in->certificate, err, out->certifiers);
    if (r < 0)
        return r;
    out->has_certifiers = true;
    return 0;
}

static int setup_ous(struct lc_msp *msp, const Msp__FabricMSPConfig *fc, struct lc_errbuf *err)
{
    if (fc->n_organizational_unit_identifiers == 0)
        return 0;
    msp->ous = calloc(fc->n_organizational_unit_identifiers, sizeof *msp->ous);
    if (!msp->ous)
        return -ENOMEM;
    for (size_t i = 0; i < fc->n_organizational_unit_identifiers; i++) {
        const Msp__FabricOUIdentifier *o = fc->organizational_unit_identifiers[i];
        if (!o)
            return lc_fail(err, LC_EINVALID, "organizational_unit_identifiers[%zu]: empty", i);
        int r = setup_ou_ident(msp, o, true, err, &msp->ous[msp->nous]);
        msp->nous++; /* counted even on failure so that msp_free releases it */
        if (r < 0) {
            lc_errbuf_prefix(err, "organizational_unit_identifiers[%zu]: ", i);
            return r;
        }
    }
    return 0;
}

static int setup_node_ous(struct lc_msp *msp, const Msp__FabricMSPConfig *fc, struct lc_errbuf *err)
{
    const Msp__FabricNodeOUs *n = fc->fabric_node_ous;
    if (!n)
        return 0;
    const Msp__FabricOUIdentifier *ids[N_ROLES] = {n->client_ou_identifier, n->peer_ou_identifier,
                                                   n->admin_ou_identifier,
                                                   n->orderer_ou_identifier};
    int configured = 0;
    for (int k = 0; k < N_ROLES; k++) {
        if (!ids[k])
            continue;
        msp->role_set[k] = true;
        int r = setup_ou_ident(msp, ids[k], false, err, &msp->role[k]);
        if (r < 0) {
            lc_errbuf_prefix(err, "fabric_node_ous.%s_ou_identifier: ", role_names[k]);
            return r;
        }
        configured++;
    }
    /* Fabric: NodeOUs with no role identifier at all are not enforced. */
    msp->node_ous = n->enable && configured > 0;
    return 0;
}

static int check_identity_ous(const struct lc_msp *msp, const struct lc_cert *c,
                              const uint8_t certifiers[LC_SHA256_LEN], struct lc_errbuf *err);

/* Validates a certificate as received against the MSP: not a CA, chain with CRLs as of
 * NotBefore + 1 s, issuer a leaf of the CA tree, OU rules (checked on the sanitised form).
 * *ret_cert is the sanitised certificate (new reference); certifiers gets the chain hash without
 * the leaf. */
static int validate_cert(struct lc_msp *msp, struct lc_cert *raw, struct lc_errbuf *err,
                         struct lc_cert **ret_cert, uint8_t certifiers[LC_SHA256_LEN])
{
    struct lc_cert_chain *ch = NULL;
    struct lc_cert *c = NULL;
    int r;
    if (lc_cert_is_ca(raw))
        return lc_fail(err, LC_EBADCERT, "a CA certificate (%s) cannot be used as an identity",
                       lc_cert_subject_str(raw));
    r = lc_cert_store_verify(msp->store, raw, verify_time(raw), err, &ch);
    if (r < 0)
        goto out;
    if (lc_cert_chain_len(ch) < 2) {
        r = lc_fail(err, LC_EBADCERT, "expected a chain of length at least 2, got %zu",
                    lc_cert_chain_len(ch));
        goto out;
    }
    if (cert_list_has(&msp->internal, lc_cert_chain_at(ch, 1))) {
        r = lc_fail(err, LC_EBADCERT,
                    "issuer %s has CAs below it; identities must come from a leaf CA",
                    lc_cert_subject_str(lc_cert_chain_at(ch, 1)));
        goto out;
    }
    r = lc_cert_sanitize(raw, lc_cert_chain_at(ch, 1), err, &c);
    if (r < 0)
        goto out;
    r = chain_hash(ch, 1, certifiers);
    if (r < 0)
        goto out;
    r = check_identity_ous(msp, c, certifiers, err);
    if (r < 0)
        goto out;
    *ret_cert = c;
    c = NULL;
out:
    lc_cert_unref(c);
    lc_cert_chain_free(ch);
    return r;
}

/* Fabric's validateIdentityOUsV142 (NodeOUs on) or validateIdentityOUsV1 (off). */
static int check_identity_ous(const struct lc_msp *msp, const struct lc_cert *c,
                              const uint8_t certifiers[LC_SHA256_LEN], struct lc_errbuf *err)
{
    size_t nous = lc_cert_ou_count(c);
    if (!msp->node_ous) {
        if (msp->nous == 0)
            return 0;
        for (size_t i = 0; i < nous; i++)
            for (size_t k = 0; k < msp->nous; k++)
                if (strcmp(lc_cert_ou(c, i), msp->ous[k].ou) == 0 &&
                    memcmp(certifiers, msp->ous[k].certifiers, LC_SHA256_LEN) == 0)
                    return 0;
        if (nous == 0)
            return lc_fail(err, LC_EROLE, "the certificate has no OU and MSP %s requires one",
                           msp->name);
        return lc_fail(err, LC_EROLE, "none of the certificate's OUs is recognised by MSP %s",
                       msp->name);
    }
    int count = 0;
    for (size_t i = 0; i < nous && count <= 1; i++) {
        const char *ou = lc_cert_ou(c, i);
        /* Fabric keys role OUs by name in a map filled client, peer, admin, orderer: with two
         * roles sharing a name the later one wins, hence the backwards scan. */
        int k;
        for (k = N_ROLES - 1; k >= 0; k--)
            if (msp->role_set[k] && strcmp(ou, msp->role[k].ou) == 0)
                break;
        if (k < 0)
            continue;
        if (msp->role[k].has_certifiers &&
            memcmp(certifiers, msp->role[k].certifiers, LC_SHA256_LEN) != 0)
            return lc_fail(err, LC_EROLE,
                           "OU %.64s: certificate does not come from the CA configured for the "
                           "%s role in MSP %s",
                           ou, role_names[k], msp->name);
        count++;
    }
    if (count != 1)
        return lc_fail(err, LC_EROLE,
                       "the identity must carry exactly one of the client, peer, admin, "
                       "orderer OUs of MSP %s (found %d)",
                       msp->name, count);
    return 0;
}

static unsigned cert_roles(const struct lc_msp *msp, const struct lc_cert *c)
{
    unsigned roles = 0;
    if (msp->node_ous)
        for (int k = 0; k < N_ROLES; k++)
            if (msp->role_set[k] && cert_has_ou(c, msp->role[k].ou))
                roles |= role_bits[k];
    if (cert_list_has(&msp->admins, c))
        roles |= LC_ROLE_ADMIN;
    return roles;
}

/* Fabric's setupAdminsV142 and postSetupV142. */
static int setup_admins(struct lc_msp *msp, const Msp__FabricMSPConfig *fc, struct lc_errbuf *err)
{
    for (size_t i = 0; i < fc->n_admins; i++) {
        struct lc_cert *raw = NULL, *c = NULL;
        int r = lc_cert_from_pem(fc->admins[i].data, fc->admins[i].len, err, &raw);
        if (r == 0)
            r = sanitize_cert(msp->chain_store, raw, err, &c);
        if (r == 0 && !msp->node_ous) {
            /* Without NodeOUs an admin must be a valid member. */
            struct lc_cert *v = NULL;
            uint8_t cid[LC_SHA256_LEN];
            r = validate_cert(msp, raw, err, &v, cid);
            lc_cert_unref(v);
        }
        if (r == 0 && msp->node_ous &&
            !((msp->role_set[R_CLIENT] && cert_has_ou(c, msp->role[R_CLIENT].ou)) ||
              (msp->role_set[R_ADMIN] && cert_has_ou(c, msp->role[R_ADMIN].ou))))
            r = lc_fail(err, LC_EINVALID, "carries neither the client nor the admin OU");
        if (r == 0)
            r = cert_list_add(&msp->admins, c);
        lc_cert_unref(c);
        lc_cert_unref(raw);
        if (r < 0) {
            lc_errbuf_prefix(err, "admins[%zu]: ", i);
            return r;
        }
    }
    if (msp->admins.n == 0 && !(msp->node_ous && msp->role_set[R_ADMIN]))
        return lc_fail(err, LC_EINVALID,
                       "admins: administrators must be listed when NodeOUs define no admin OU");
    return 0;
}

int lc_msp_new(const Msp__MSPConfig *cfg, struct lc_errbuf *err, struct lc_msp **ret)
{
    Msp__FabricMSPConfig *fc = NULL;
    struct lc_msp *msp = NULL;
    int r;
    if (!cfg)
        return lc_fail(err, LC_EINVALID, "MSPConfig missing");
    if (cfg->type != 0)
        return lc_fail(err, LC_EINVALID, "MSPConfig.type %d is not FABRIC (0)", (int)cfg->type);
    fc = msp__fabric_mspconfig__unpack(NULL, cfg->config.len, cfg->config.data);
    if (!fc)
        return lc_fail(err, LC_EDECODE, "MSPConfig.config is not a FabricMSPConfig");
    if (!fc->name || !*fc->name) {
        r = lc_fail(err, LC_EINVALID, "FabricMSPConfig.name is empty");
        goto out;
    }
    msp = calloc(1, sizeof *msp);
    if (!msp || !(msp->name = strdup(fc->name))) {
        r = lc_fail(err, -ENOMEM, "out of memory");
        goto out;
    }
    atomic_init(&msp->refs, 1);
    if ((r = check_crypto_config(fc->crypto_config, err)) < 0 ||
        (r = setup_cas(msp, fc, err)) < 0 || (r = setup_crls(msp, fc, err)) < 0 ||
        (r = finalize_cas(msp, err)) < 0 || (r = setup_tls_cas(msp, fc, err)) < 0 ||
        (r = setup_ous(msp, fc, err)) < 0 || (r = setup_node_ous(msp, fc, err)) < 0 ||
        (r = setup_admins(msp, fc, err)) < 0) {
        if (r == -ENOMEM)
            lc_fail(err, r, "out of memory");
        lc_errbuf_prefix(err, "MSP %.64s: ", fc->name);
        goto out;
    }
    lc_log_debug(MOD,
                 "msp ready name=%s roots=%zu intermediates=%zu admins=%zu crls=%zu "
                 "node_ous=%d",
                 msp->name, msp->roots.n, msp->inters.n, msp->admins.n, msp->ncrls, msp->node_ous);
    *ret = msp;
    msp = NULL;
out:
    if (msp)
        msp_free(msp);
    msp__fabric_mspconfig__free_unpacked(fc, NULL);
    return r;
}

int lc_msp_new_from_bytes(const uint8_t *buf, size_t len, struct lc_errbuf *err,
                          struct lc_msp **ret)
{
    Msp__MSPConfig *cfg = msp__mspconfig__unpack(NULL, len, buf);
    if (!cfg)
        return lc_fail(err, LC_EDECODE, "bytes are not an MSPConfig");
    int r = lc_msp_new(cfg, err, ret);
    msp__mspconfig__free_unpacked(cfg, NULL);
    return r;
}

/* ---- identities ---------------------------------------------------------------------------- */

static void identity_free(struct lc_identity *id)
{
    lc_msp_unref(id->msp);
    lc_cert_unref(id->cert);
    free(id->ser);
    free(id->id);
    free(id);
}

struct lc_identity *lc_identity_ref(struct lc_identity *id)
{
    if (id)
        atomic_fetch_add_explicit(&id->refs, 1, memory_order_relaxed);
    return id;
}

void lc_identity_unref(struct lc_identity *id)
{
    if (id && atomic_fetch_sub_explicit(&id->refs, 1, memory_order_acq_rel) == 1)
        identity_free(id);
}

const char *lc_identity_mspid(const struct lc_identity *id)
{
    return id->msp->name;
}

const char *lc_identity_id(const struct lc_identity *id)
{
    return id->id;
}

const uint8_t *lc_identity_cert_hash(const struct lc_identity *id)
{
    return id->hash;
}

unsigned lc_identity_roles(const struct lc_identity *id)
{
    return id->roles;
}

const struct lc_cert *lc_identity_cert(const struct lc_identity *id)
{
    return id->cert;
}

struct lc_msp *lc_identity_msp(const struct lc_identity *id)
{
    return id->msp;
}

const uint8_t *lc_identity_serialized(const struct lc_identity *id, size_t *ret_len)
{
    *ret_len = id->ser_len;
    return id->ser;
}

int lc_identity_check_validity(const struct lc_identity *id, time_t now, struct lc_errbuf *err)
{
    int r = lc_cert_check_validity(id->cert, now, err);
    if (r < 0)
        lc_errbuf_prefix(err, "identity of MSP %.64s: ", id->msp->name);
    return r;
}

int lc_identity_verify(const struct lc_identity *id, const void *msg, size_t n, const uint8_t *sig,
                       size_t siglen, struct lc_errbuf *err)
{
    return lc_ecdsa_verify(lc_cert_pubkey(id->cert), msg, n, sig, siglen, err);
}

int lc_identity_verify_iov(const struct lc_identity *id, const struct lc_iov *v, size_t nv,
                           const uint8_t *sig, size_t siglen, struct lc_errbuf *err)
{
    return lc_ecdsa_verify_iov(lc_cert_pubkey(id->cert), v, nv, sig, siglen, err);
}

/* Validates id_bytes (the PEM) against msp and makes an identity carrying a copy of the
 * serialized bytes ser[0..ser_len). */
static int identity_build(struct lc_msp *msp, const uint8_t *ser, size_t ser_len,
                          const ProtobufCBinaryData *pem, struct lc_errbuf *err,
                          struct lc_identity **ret)
{
    struct lc_cert *raw = NULL;
    struct lc_identity *id = NULL;
    int r = lc_cert_from_pem(pem->data, pem->len, err, &raw);
    if (r < 0)
        goto fail;
    id = calloc(1, sizeof *id);
    if (!id) {
        r = -ENOMEM;
        goto fail;
    }
    atomic_init(&id->refs, 1);
    id->msp = lc_msp_ref(msp);
    r = validate_cert(msp, raw, err, &id->cert, id->certifiers);
    if (r < 0)
        goto fail;
    size_t der_len;
    const uint8_t *der = lc_cert_der(id->cert, &der_len);
    lc_sha256(der, der_len, id->hash);
    size_t nlen = strlen(msp->name);
    id->id = malloc(nlen + 2 * LC_SHA256_LEN + 1);
    id->ser = malloc(ser_len ? ser_len : 1);
    if (!id->id || !id->ser) {
        r = -ENOMEM;
        goto fail;
    }
    memcpy(id->id, msp->name, nlen);
    lc_hex_encode(id->hash, LC_SHA256_LEN, id->id + nlen);
    memcpy(id->ser, ser, ser_len);
    id->ser_len = ser_len;
    id->roles = cert_roles(msp, id->cert);
    lc_cert_unref(raw);
    *ret = id;
    return 0;
fail:
    if (r == -ENOMEM)
        lc_fail(err, r, "out of memory");
    lc_errbuf_prefix(err, "identity of MSP %.64s: ", msp->name);
    lc_cert_unref(raw);
    lc_identity_unref(id);
    return r;
}

int lc_msp_deserialize(struct lc_msp *msp, const uint8_t *buf, size_t len, struct lc_errbuf *err,
                       struct lc_identity **ret)
{
    if (len > LC_MSP_MAX_IDENTITY)
        return lc_fail(err, LC_ETOOBIG, "serialized identity of %zu bytes exceeds %d", len,
                       LC_MSP_MAX_IDENTITY);
    Msp__SerializedIdentity *sid = msp__serialized_identity__unpack(NULL, len, buf);
    if (!sid)
        return lc_fail(err, LC_EDECODE, "bytes are not a SerializedIdentity");
    int r;
    if (strcmp(sid->mspid ? sid->mspid : "", msp->name) != 0)
        r = lc_fail(err, LC_EUNKNOWNMSP, "identity of MSP \"%.64s\", expected %.64s",
                    sid->mspid ? sid->mspid : "", msp->name);
    else
        r = identity_build(msp, buf, len, &sid->id_bytes, err, ret);
    msp__serialized_identity__free_unpacked(sid, NULL);
    return r;
}

/* ---- manager and cache --------------------------------------------------------------------- */

struct cache_ent {
    uint8_t key[LC_SHA256_LEN]; /* SHA-256 of the serialized bytes */
    struct lc_identity *id;
    struct cache_ent *hnext;       /* bucket chain */
    struct cache_ent *prev, *next; /* LRU list, most recent first */
};

struct lc_msp_mgr {
    pthread_mutex_t mu;
    struct lc_msp **msps;
    size_t nmsps;
    size_t max, count, nbuckets;
    struct cache_ent **buckets;
    struct cache_ent *head, *tail;
    uint64_t hits, misses, evictions;
};

int lc_msp_mgr_new(size_t cache_max, struct lc_msp_mgr **ret)
{
    struct lc_msp_mgr *m = calloc(1, sizeof *m);
    if (!m)
        return -ENOMEM;
    m->max = cache_max;
    if (cache_max > 0) {
        size_t nb = 16;
        while (nb < cache_max && nb < ((size_t)1 << 24))
            nb <<= 1;
        m->buckets = calloc(nb, sizeof *m->buckets);
        if (!m->buckets) {
            free(m);
            return -ENOMEM;
        }
        m->nbuckets = nb;
    }
    int r = pthread_mutex_init(&m->mu, NULL);
    if (r != 0) {
        free(m->buckets);
        free(m);
        return -r;
    }
    *ret = m;
    return 0;
}

void lc_msp_mgr_free(struct lc_msp_mgr *mgr)
{
    if (!mgr)
        return;
    for (struct cache_ent *e = mgr->head, *next; e; e = next) {
        next = e->next;
        lc_identity_unref(e->id);
        free(e);
    }
    free(mgr->buckets);
    for (size_t i = 0; i < mgr->nmsps; i++)
        lc_msp_unref(mgr->msps[i]);
    free(mgr->msps);
    pthread_mutex_destroy(&mgr->mu);
    free(mgr);
}

static struct lc_msp *find_msp_locked(struct lc_msp_mgr *mgr, const char *name)
{
    for (size_t i = 0; i < mgr->nmsps; i++)
        if (strcmp(mgr->msps[i]->name, name) == 0)
            return mgr->msps[i];
    return NULL;
}

int lc_msp_mgr_add(struct lc_msp_mgr *mgr, struct lc_msp *msp, struct lc_errbuf *err)
{
    int r = 0;
    pthread_mutex_lock(&mgr->mu);
    if (find_msp_locked(mgr, msp->name)) {
        r = lc_fail(err, LC_EEXISTS, "MSP %.64s is already defined", msp->name);
        goto out;
    }
    struct lc_msp **v = realloc(mgr->msps, (mgr->nmsps + 1) * sizeof *v);
    if (!v) {
        r = lc_fail(err, -ENOMEM, "out of memory");
        goto out;
    }
    mgr->msps = v;
    mgr->msps[mgr->nmsps++] = lc_msp_ref(msp);
out:
    pthread_mutex_unlock(&mgr->mu);
    return r;
}

int lc_msp_mgr_add_config(struct lc_msp_mgr *mgr, const uint8_t *buf, size_t len,
                          struct lc_errbuf *err)
{
    struct lc_msp *msp = NULL;
    int r = lc_msp_new_from_bytes(buf, len, err, &msp);
    if (r < 0)
        return r;
    r = lc_msp_mgr_add(mgr, msp, err);
    lc_msp_unref(msp);
    return r;
}

struct lc_msp *lc_msp_mgr_get(struct lc_msp_mgr *mgr, const char *mspid)
{
    pthread_mutex_lock(&mgr->mu);
    struct lc_msp *m = find_msp_locked(mgr, mspid);
    pthread_mutex_unlock(&mgr->mu);
    return m;
}

size_t lc_msp_mgr_count(struct lc_msp_mgr *mgr)
{
    pthread_mutex_lock(&mgr->mu);
    size_t n = mgr->nmsps;
    pthread_mutex_unlock(&mgr->mu);
    return n;
}

struct lc_msp *lc_msp_mgr_at(struct lc_msp_mgr *mgr, size_t i)
{
    pthread_mutex_lock(&mgr->mu);
    struct lc_msp *m = i < mgr->nmsps ? mgr->msps[i] : NULL;
    pthread_mutex_unlock(&mgr->mu);
    return m;
}

void lc_msp_mgr_cache_stats(struct lc_msp_mgr *mgr, struct lc_msp_cache_stats *ret)
{
    pthread_mutex_lock(&mgr->mu);
    ret->hits = mgr->hits;
    ret->misses = mgr->misses;
    ret->evictions = mgr->evictions;
    ret->entries = mgr->count;
    ret->max = mgr->max;
    pthread_mutex_unlock(&mgr->mu);
}

static size_t bucket_of(const struct lc_msp_mgr *mgr, const uint8_t key[LC_SHA256_LEN])
{
    size_t h = 0;
    memcpy(&h, key, sizeof h);
    return h & (mgr->nbuckets - 1);
}

static void lru_unlink(struct lc_msp_mgr *mgr, struct cache_ent *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        mgr->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        mgr->tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push_front(struct lc_msp_mgr *mgr, struct cache_ent *e)
{
    e->prev = NULL;
    e->next = mgr->head;
    if (mgr->head)
        mgr->head->prev = e;
    mgr->head = e;
    if (!mgr->tail)
        mgr->tail = e;
}

/* Finds the entry for buf under key, moves it to the front and returns a new reference. */
static struct lc_identity *cache_get_locked(struct lc_msp_mgr *mgr,
                                            const uint8_t key[LC_SHA256_LEN], const uint8_t *buf,
                                            size_t len)
{
    for (struct cache_ent *e = mgr->buckets[bucket_of(mgr, key)]; e; e = e->hnext) {
        if (memcmp(e->key, key, LC_SHA256_LEN) != 0 || e->id->ser_len != len ||
            memcmp(e->id->ser, buf, len) != 0)
            continue;
        lru_unlink(mgr, e);
        lru_push_front(mgr, e);
        return lc_identity_ref(e->id);
    }
    return NULL;
}

/* Drops the least recently used entry; its identity lives on in whoever holds references. */
static void cache_evict_locked(struct lc_msp_mgr *mgr)
{
    struct cache_ent *e = mgr->tail;
    struct cache_ent **pp = &mgr->buckets[bucket_of(mgr, e->key)];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    lru_unlink(mgr, e);
    lc_identity_unref(e->id);
    free(e);
    mgr->count--;
    mgr->evictions++;
}

int lc_msp_mgr_deserialize(struct lc_msp_mgr *mgr, const uint8_t *buf, size_t len,
                           struct lc_errbuf *err, struct lc_identity **ret)
{
    uint8_t key[LC_SHA256_LEN];
    struct lc_identity *id = NULL;
    struct lc_msp *msp = NULL;
    Msp__SerializedIdentity *sid = NULL;
    int r;
    if (len > LC_MSP_MAX_IDENTITY)
        return lc_fail(err, LC_ETOOBIG, "serialized identity of %zu bytes exceeds %d", len,
                       LC_MSP_MAX_IDENTITY);
    if (mgr->max > 0) {
        lc_sha256(buf, len, key);
        pthread_mutex_lock(&mgr->mu);
        id = cache_get_locked(mgr, key, buf, len);
        if (id)
            mgr->hits++;
        else
            mgr->misses++;
        pthread_mutex_unlock(&mgr->mu);
        if (id) {
            *ret = id;
            return 0;
        }
    }
    sid = msp__serialized_identity__unpack(NULL, len, buf);
    if (!sid)
        return lc_fail(err, LC_EDECODE, "bytes are not a SerializedIdentity");
    const char *mspid = sid->mspid ? sid->mspid : "";
    pthread_mutex_lock(&mgr->mu);
    msp = lc_msp_ref(find_msp_locked(mgr, mspid));
    pthread_mutex_unlock(&mgr->mu);
    if (!msp) {
        r = lc_fail(err, LC_EUNKNOWNMSP, "MSP \"%.64s\" is not defined on this channel", mspid);
        goto out;
    }
    /* Validation runs unlocked: it is the expensive part and other threads keep going. */
    r = identity_build(msp, buf, len, &sid->id_bytes, err, &id);
    if (r < 0)
        goto out;
    if (mgr->max > 0) {
        struct cache_ent *e = calloc(1, sizeof *e);
        pthread_mutex_lock(&mgr->mu);
        struct lc_identity *other = cache_get_locked(mgr, key, buf, len);
        if (other) {
            /* Another thread validated the same bytes meanwhile: hand out the cached one. */
            lc_identity_unref(id);
            id = other;
        } else if (e) {
            memcpy(e->key, key, sizeof key);
            e->id = lc_identity_ref(id);
            size_t b = bucket_of(mgr, key);
            e->hnext = mgr->buckets[b];
            mgr->buckets[b] = e;
            lru_push_front(mgr, e);
            mgr->count++;
            e = NULL;
            if (mgr->count > mgr->max)
                cache_evict_locked(mgr);
        }
        pthread_mutex_unlock(&mgr->mu);
        free(e); /* unused, or NULL; failing to cache is not an error */
    }
    *ret = id;
out:
    lc_msp_unref(msp);
    msp__serialized_identity__free_unpacked(sid, NULL);
    return r;
}

/* ---- principals ---------------------------------------------------------------------------- */

static int principal_msp_check(const struct lc_identity *id, const char *want,
                               struct lc_errbuf *err)
{
    if (strcmp(want ? want : "", id->msp->name) != 0)
        return lc_fail(err, LC_EPOLICY, "identity is of MSP %.64s, principal names MSP \"%.64s\"",
                       id->msp->name, want ? want : "");
    return 0;
}

static int satisfies_role(const struct lc_identity *id, const ProtobufCBinaryData *body,
                          struct lc_errbuf *err)
{
    Common__MSPRole *role = common__msprole__unpack(NULL, body->len, body->data);
    if (!role)
        return lc_fail(err, LC_EDECODE, "ROLE principal is not an MSPRole");
    int r = principal_msp_check(id, role->msp_identifier, err);
    if (r < 0)
        goto out;
    const struct lc_msp *msp = id->msp;
    int k;
    switch (role->role) {
    case COMMON__MSPROLE__MSPROLE_TYPE__MEMBER:
        goto out; /* the identity was validated when it was made */
    case COMMON__MSPROLE__MSPROLE_TYPE__ADMIN:
        if (id->roles & LC_ROLE_ADMIN)
            goto out;
        r = lc_fail(err, LC_EPOLICY, "identity is not an admin of MSP %.64s", msp->name);
        goto out;
    case COMMON__MSPROLE__MSPROLE_TYPE__CLIENT:
        k = R_CLIENT;
        break;
    case COMMON__MSPROLE__MSPROLE_TYPE__PEER:
        k = R_PEER;
        break;
    case COMMON__MSPROLE__MSPROLE_TYPE__ORDERER:
        k = R_ORDERER;
        break;
    default:
        r = lc_fail(err, LC_EINVALID, "unknown MSPRole type %d", (int)role->role);
        goto out;
    }
    if (!msp->node_ous)
        r = lc_fail(err, LC_EPOLICY, "MSP %.64s does not enable NodeOUs, cannot tell a %s",
                    msp->name, role_names[k]);
    else if (!msp->role_set[k])
        r = lc_fail(err, LC_EPOLICY, "MSP %.64s defines no %s OU", msp->name, role_names[k]);
    else if (!cert_has_ou(id->cert, msp->role[k].ou))
        r = lc_fail(err, LC_EPOLICY, "identity is not a %s of MSP %.64s", role_names[k], msp->name);
out:
    common__msprole__free_unpacked(role, NULL);
    return r;
}

static int satisfies_identity(const struct lc_identity *id, const ProtobufCBinaryData *body,
                              struct lc_errbuf *err)
{
    /* Byte-equal to the identity's own serialized form: the same certificate. */
    if (body->len == id->ser_len && memcmp(body->data, id->ser, id->ser_len) == 0)
        return 0;
    Msp__SerializedIdentity *sid = msp__serialized_identity__unpack(NULL, body->len, body->data);
    if (!sid)
        return lc_fail(err, LC_EDECODE, "IDENTITY principal is not a SerializedIdentity");
    struct lc_cert *raw = NULL, *c = NULL;
    int r = principal_msp_check(id, sid->mspid, err);
    if (r < 0)
        goto out;
    if (lc_cert_from_pem(sid->id_bytes.data, sid->id_bytes.len, err, &raw) < 0 ||
        sanitize_cert(id->msp->chain_store, raw, err, &c) < 0) {
        lc_errbuf_prefix(err, "IDENTITY principal: ");
        r = LC_EPOLICY;
        goto out;
    }
    if (!lc_cert_equal(c, id->cert))
        r = lc_fail(err, LC_EPOLICY, "identity is not the one the principal names");
out:
    lc_cert_unref(c);
    lc_cert_unref(raw);
    msp__serialized_identity__free_unpacked(sid, NULL);
    return r;
}

static int satisfies_ou(const struct lc_identity *id, const ProtobufCBinaryData *body,
                        struct lc_errbuf *err)
{
    Common__OrganizationUnit *ou = common__organization_unit__unpack(NULL, body->len, body->data);
    if (!ou)
        return lc_fail(err, LC_EDECODE, "ORGANIZATION_UNIT principal is not an OrganizationUnit");
    int r = principal_msp_check(id, ou->msp_identifier, err);
    if (r < 0)
        goto out;
    const char *want = ou->organizational_unit_identifier ? ou->organizational_unit_identifier : "";
    bool same_ca = ou->certifiers_identifier.len == LC_SHA256_LEN &&
                   memcmp(ou->certifiers_identifier.data, id->certifiers, LC_SHA256_LEN) == 0;
    if (!same_ca || !cert_has_ou(id->cert, want))
        r = lc_fail(err, LC_EPOLICY, "identity does not have OU \"%.64s\" from the named CA", want);
out:
    common__organization_unit__free_unpacked(ou, NULL);
    return r;
}

static int satisfies(const struct lc_identity *id, const Common__MSPPrincipal *p, int depth,
                     struct lc_errbuf *err)
{
    switch (p->principal_classification) {
    case COMMON__MSPPRINCIPAL__CLASSIFICATION__ROLE:
        return satisfies_role(id, &p->principal, err);
    case COMMON__MSPPRINCIPAL__CLASSIFICATION__IDENTITY:
        return satisfies_identity(id, &p->principal, err);
    case COMMON__MSPPRINCIPAL__CLASSIFICATION__ORGANIZATION_UNIT:
        return satisfies_ou(id, &p->principal, err);
    case COMMON__MSPPRINCIPAL__CLASSIFICATION__ANONYMITY: {
        Common__MSPIdentityAnonymity *a =
            common__mspidentity_anonymity__unpack(NULL, p->principal.len, p->principal.data);
        if (!a)
            return lc_fail(err, LC_EDECODE, "ANONYMITY principal does not decode");
        int t = (int)a->anonymity_type;
        common__mspidentity_anonymity__free_unpacked(a, NULL);
        if (t == COMMON__MSPIDENTITY_ANONYMITY__MSPIDENTITY_ANONYMITY_TYPE__NOMINAL)
            return 0;
        if (t == COMMON__MSPIDENTITY_ANONYMITY__MSPIDENTITY_ANONYMITY_TYPE__ANONYMOUS)
            return lc_fail(err, LC_EPOLICY, "X.509 identities are not anonymous");
        return lc_fail(err, LC_EINVALID, "unknown anonymity type %d", t);
    }
    case COMMON__MSPPRINCIPAL__CLASSIFICATION__COMBINED: {
        if (depth >= MAX_COMBINED_DEPTH)
            return lc_fail(err, LC_EINVALID, "COMBINED principals nested deeper than %d",
                           MAX_COMBINED_DEPTH);
        Common__CombinedPrincipal *cp =
            common__combined_principal__unpack(NULL, p->principal.len, p->principal.data);
        if (!cp)
            return lc_fail(err, LC_EDECODE, "COMBINED principal does not decode");
        int r = 0;
        if (cp->n_principals == 0)
            r = lc_fail(err, LC_EINVALID, "COMBINED principal is empty");
        for (size_t i = 0; i < cp->n_principals && r == 0; i++)
            r = cp->principals[i] ? satisfies(id, cp->principals[i], depth + 1, err)
                                  : lc_fail(err, LC_EINVALID, "COMBINED principal %zu empty", i);
        common__combined_principal__free_unpacked(cp, NULL);
        return r;
    }
    default:
        return lc_fail(err, LC_EINVALID, "unknown principal classification %d",
                       (int)p->principal_classification);
    }
}

int lc_identity_satisfies_principal(const struct lc_identity *id, const Common__MSPPrincipal *p,
                                    struct lc_errbuf *err)
{
    if (!p)
        return lc_fail(err, LC_EINVALID, "principal missing");
    return satisfies(id, p, 0, err);
}

/* ---- policy callbacks ---------------------------------------------------------------------- */

static int ops_deserialize(void *ctx, const uint8_t *bytes, size_t len, void **ret_identity)
{
    struct lc_identity *id = NULL;
    struct lc_errbuf eb = {{0}};
    int r = lc_msp_mgr_deserialize(ctx, bytes, len, &eb, &id);
    if (r < 0) {
        lc_log_debug(MOD, "signer dropped cause=\"%s\"", eb.msg);
        return r;
    }
    *ret_identity = id;
    return 0;
}

static const char *ops_key(void *ctx, void *identity)
{
    return lc_identity_id(identity);
}

static int ops_verify(void *ctx, void *identity, const uint8_t *data, size_t data_len,
                      const uint8_t *sig, size_t sig_len)
{
    return lc_identity_verify(identity, data, data_len, sig, sig_len, NULL);
}

static int ops_satisfies(void *identity, const Common__MSPPrincipal *principal, void *ctx)
{
    return lc_identity_satisfies_principal(identity, principal, NULL);
}

static void ops_release(void *ctx, void *identity)
{
    lc_identity_unref(identity);
}

const struct lc_policy_identity_ops lc_msp_policy_ops = {
    .deserialize = ops_deserialize,
    .key = ops_key,
    .verify = ops_verify,
    .satisfies = ops_satisfies,
    .release = ops_release,
};

/* ---- files and folders --------------------------------------------------------------------- */

static char *path_join(const char *dir, const char *name)
{
    char *p = NULL;
    if (asprintf(&p, "%s/%s", dir, name) < 0)
        return NULL;
    return p;
}

/* Reads a whole regular file of at most max bytes; *ret is NUL-terminated (not counted). */
static int read_file(const char *path, size_t max, struct lc_errbuf *err, uint8_t **ret,
                     size_t *ret_len)
{
    int r;
    uint8_t *buf = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return lc_fail(err, -errno, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0) {
        r = lc_fail(err, -errno, "cannot stat %s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        r = lc_fail(err, -EINVAL, "%s is not a regular file", path);
        goto out;
    }
    if ((uintmax_t)st.st_size > max) {
        r = lc_fail(err, LC_ETOOBIG, "%s is larger than %zu bytes", path, max);
        goto out;
    }
    size_t cap = (size_t)st.st_size, n = 0;
    buf = malloc(cap + 1);
    if (!buf) {
        r = -ENOMEM;
        goto out;
    }
    while (n < cap) {
        ssize_t k = read(fd, buf + n, cap - n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            r = lc_fail(err, -errno, "cannot read %s: %s", path, strerror(errno));
            goto out;
        }
        if (k == 0)
            break; /* shrank meanwhile */
        n += (size_t)k;
    }
    buf[n] = '\0';
    *ret = buf;
    *ret_len = n;
    buf = NULL;
    r = 0;
out:
    free(buf);
    close(fd);
    return r;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* Lists the entries of dir (no "." or ".."), sorted by byte order as Go's ReadDir does.
 * -ENOENT when dir does not exist. */
static int list_dir(const char *dir, struct lc_errbuf *err, char ***ret, size_t *ret_n)
{
    DIR *d = opendir(dir);
    if (!d)
        return lc_fail(err, -errno, "cannot open folder %s: %s", dir, strerror(errno));
    char **names = NULL;
    size_t n = 0;
    int r = 0;
    struct dirent *e;
    errno = 0;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (n == LC_MSP_MAX_DIR_FILES) {
            r = lc_fail(err, LC_ETOOBIG, "folder %s has more than %d entries", dir,
                        LC_MSP_MAX_DIR_FILES);
            goto out;
        }
        char **v = realloc(names, (n + 1) * sizeof *v);
        if (!v || !(v[n] = strdup(e->d_name))) {
            if (v)
                names = v;
            r = -ENOMEM;
            goto out;
        }
        names = v;
        n++;
    }
    if (errno) {
        r = lc_fail(err, -errno, "cannot read folder %s: %s", dir, strerror(errno));
        goto out;
    }
    if (n > 1)
        qsort(names, n, sizeof *names, cmp_names);
    *ret = names;
    *ret_n = n;
    names = NULL;
    n = 0;
out:
    free_names(names, n);
    closedir(d);
    return r;
}

enum pem_kind { PEM_CERT, PEM_CRL };

/* A file counts when it holds a PEM armour line; Fabric skips files where pem.Decode finds no
 * block. The contents are then parsed for real, by crypto. */
static bool looks_like_pem(const uint8_t *p, size_t n)
{
    static const char armour[] = "-----BEGIN ";
    return memmem(p, n, armour, sizeof armour - 1) != NULL;
}

struct blob_list {
    ProtobufCBinaryData *v;
    size_t n;
};

static void blob_list_done(struct blob_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].data);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* Reads every regular PEM file of dir/sub (files in name order, bytes kept as they are) into
 * out. *ret_found says whether the folder exists; a missing folder is not an error here. */
static int read_pem_dir(const char *dir, const char *sub, enum pem_kind kind, struct lc_errbuf *err,
                        struct blob_list *out, bool *ret_found)
{
    char **names = NULL;
    size_t n = 0;
    int r;
    char *folder = path_join(dir, sub);
    if (!folder)
        return -ENOMEM;
    *ret_found = false;
    r = list_dir(folder, err, &names, &n);
    if (r == -ENOENT) {
        r = 0;
        goto out;
    }
    if (r < 0)
        goto out;
    *ret_found = true;
    for (size_t i = 0; i < n; i++) {
        char *path = path_join(folder, names[i]);
        uint8_t *buf = NULL;
        size_t len = 0;
        struct stat st;
        if (!path) {
            r = -ENOMEM;
            goto out;
        }
        if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
            lc_log_debug(MOD, "msp dir skip=%s reason=\"not a regular file\"", path);
            free(path);
            continue;
        }
        r = read_file(path, LC_PEM_MAX, err, &buf, &len);
        if (r == 0 && !looks_like_pem(buf, len)) {
            lc_log_debug(MOD, "msp dir skip=%s reason=\"no PEM\"", path);
            free(buf);
            free(path);
            continue;
        }
        if (r == 0) {
            if (kind == PEM_CERT) {
                struct lc_cert *c = NULL;
                r = lc_cert_from_pem(buf, len, err, &c);
                lc_cert_unref(c);
            } else {
                struct lc_crl *crl = NULL;
                r = lc_crl_from_pem(buf, len, err, &crl);
                lc_crl_free(crl);
            }
            if (r < 0)
                lc_errbuf_prefix(err, "%s: ", path);
        }
        ProtobufCBinaryData *v = r == 0 ? realloc(out->v, (out->n + 1) * sizeof *v) : NULL;
        if (r == 0 && !v)
            r = -ENOMEM;
        free(path);
        if (r < 0) {
            free(buf);
            goto out;
        }
        out->v = v;
        out->v[out->n].data = buf;
        out->v[out->n].len = len;
        out->n++;
    }
out:
    free_names(names, n);
    free(folder);
    return r;
}

/* ---- config.yaml --------------------------------------------------------------------------- */

static const char *const role_keys[N_ROLES] = {"ClientOUIdentifier", "PeerOUIdentifier",
                                               "AdminOUIdentifier", "OrdererOUIdentifier"};

struct ou_conf {
    char *cert; /* path relative to the MSP dir, or NULL */
    char *ou;   /* or NULL */
};

struct msp_yaml {
    bool enable;
    bool role_set[N_ROLES];
    struct ou_conf role[N_ROLES];
    struct ou_conf *ous;
    size_t nous;
};

static void msp_yaml_done(struct msp_yaml *y)
{
    for (int k = 0; k < N_ROLES; k++) {
        free(y->role[k].cert);
        free(y->role[k].ou);
    }
    for (size_t i = 0; i < y->nous; i++) {
        free(y->ous[i].cert);
        free(y->ous[i].ou);
    }
    free(y->ous);
}

struct yctx {
    yaml_document_t *doc;
    const char *file;
    struct lc_errbuf *err;
};

static unsigned long yline(const yaml_node_t *n)
{
    return (unsigned long)n->start_mark.line + 1;
}

static bool y_null(const yaml_node_t *n)
{
    if (!n)
        return true;
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *s = (const char *)n->data.scalar.value;
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

/* A scalar's text, as a new string; NUL bytes inside are refused. */
static int y_string(struct yctx *y, const yaml_node_t *n, const char *what, char **ret)
{
    if (n->type != YAML_SCALAR_NODE)
        return lc_fail(y->err, LC_EINVALID, "%s line %lu: %s must be a string", y->file, yline(n),
                       what);
    if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length)
        return lc_fail(y->err, LC_EINVALID, "%s line %lu: %s holds a NUL byte", y->file, yline(n),
                       what);
    char *s = strdup((const char *)n->data.scalar.value);
    if (!s)
        return -ENOMEM;
    free(*ret);
    *ret = s;
    return 0;
}

/* YAML 1.1 booleans, as Go's yaml.v2 reads them. */
static int y_bool(struct yctx *y, const yaml_node_t *n, const char *what, bool *ret)
{
    static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes", "YES",
                                      "on",   "On",   "ON",   "y",   "Y"};
    static const char *const no[] = {"false", "False", "FALSE", "no", "No", "NO",
                                     "off",   "Off",   "OFF",   "n",  "N"};
    if (n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
        const char *s = (const char *)n->data.scalar.value;
        for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
            if (!strcmp(s, yes[i])) {
                *ret = true;
                return 0;
            }
            if (!strcmp(s, no[i])) {
                *ret = false;
                return 0;
            }
        }
    }
    return lc_fail(y->err, LC_EINVALID, "%s line %lu: %s must be true or false", y->file, yline(n),
                   what);
}

/* Iterates a mapping: calls fn(key, value) for each pair, rejecting non-scalar and repeated
 * keys. */
typedef int (*y_pair_fn)(struct yctx *y, const char *key, const yaml_node_t *val, void *arg);

static int y_map(struct yctx *y, const yaml_node_t *n, const char *what, y_pair_fn fn, void *arg)
{
    if (n->type != YAML_MAPPING_NODE)
        return lc_fail(y->err, LC_EINVALID, "%s line %lu: %s must be a mapping", y->file, yline(n),
                       what);
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = yaml_document_get_node(y->doc, p->key);
        const yaml_node_t *v = yaml_document_get_node(y->doc, p->value);
        if (!k || k->type != YAML_SCALAR_NODE)
            return lc_fail(y->err, LC_EINVALID, "%s line %lu: %s has a key that is not a string",
                           y->file, yline(n), what);
        const char *key = (const char *)k->data.scalar.value;
        for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++) {
            const yaml_node_t *k2 = yaml_document_get_node(y->doc, q->key);
            if (k2 && k2->type == YAML_SCALAR_NODE &&
                !strcmp((const char *)k2->data.scalar.value, key))
                return lc_fail(y->err, LC_EINVALID, "%s line %lu: %s.%.40s given twice", y->file,
                               yline(k), what, key);
        }
        int r = fn(y, key, v, arg);
        if (r < 0)
            return r;
    }
    return 0;
}

struct ou_arg {
    struct ou_conf *oc;
    const char *what;
};

static int ou_pair(struct yctx *y, const char *key, const yaml_node_t *v, void *arg)
{
    struct ou_arg *a = arg;
    char what[96];
    snprintf(what, sizeof what, "%s.%.40s", a->what, key);
    if (!strcmp(key, "Certificate"))
        return y_null(v) ? 0 : y_string(y, v, what, &a->oc->cert);
    if (!strcmp(key, "OrganizationalUnitIdentifier"))
        return y_null(v) ? 0 : y_string(y, v, what, &a->oc->ou);
    return lc_fail(y->err, LC_EINVALID, "%s line %lu: unknown key %s", y->file, yline(v), what);
}

static int node_ous_pair(struct yctx *y, const char *key, const yaml_node_t *v, void *arg)
{
    struct msp_yaml *m = arg;
    if (!strcmp(key, "Enable"))
        return y_null(v) ? 0 : y_bool(y, v, "NodeOUs.Enable", &m->enable);
    for (int k = 0; k < N_ROLES; k++) {
        if (strcmp(key, role_keys[k]) != 0)
            continue;
        if (y_null(v))
            return 0;
        char what[64];
        snprintf(what, sizeof what, "NodeOUs.%s", role_keys[k]);
        m->role_set[k] = true;
        struct ou_arg a = {&m->role[k], what};
        return y_map(y, v, what, ou_pair, &a);
    }
    return lc_fail(y->err, LC_EINVALID,
                   "%s line %lu: unknown key NodeOUs.%.40s (expected Enable, ClientOUIdentifier, "
                   "PeerOUIdentifier, AdminOUIdentifier or OrdererOUIdentifier)",
                   y->file, yline(v), key);
}

static int top_pair(struct yctx *y, const char *key, const yaml_node_t *v, void *arg)
{
    struct msp_yaml *m = arg;
    if (!strcmp(key, "NodeOUs"))
        return y_null(v) ? 0 : y_map(y, v, "NodeOUs", node_ous_pair, m);
    if (strcmp(key, "OrganizationalUnitIdentifiers") != 0)
        return lc_fail(y->err, LC_EINVALID,
                       "%s line %lu: unknown key %.40s (expected NodeOUs or "
                       "OrganizationalUnitIdentifiers)",
                       y->file, yline(v), key);
    if (y_null(v))
        return 0;
    if (v->type != YAML_SEQUENCE_NODE)
        return lc_fail(y->err, LC_EINVALID,
                       "%s line %lu: OrganizationalUnitIdentifiers must be a list", y->file,
                       yline(v));
    size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (n > LC_MSP_MAX_DIR_FILES)
        return lc_fail(y->err, LC_ETOOBIG, "%s: more than %d OrganizationalUnitIdentifiers",
                       y->file, LC_MSP_MAX_DIR_FILES);
    if (n == 0)
        return 0;
    /* y_map refuses a repeated key, so m->ous is still empty here. */
    struct ou_conf *ous = calloc(n, sizeof *ous);
    if (!ous)
        return -ENOMEM;
    m->ous = ous;
    m->nous = n;
    for (size_t i = 0; i < n; i++) {
        const yaml_node_t *item = yaml_document_get_node(y->doc, v->data.sequence.items.start[i]);
        char what[64];
        snprintf(what, sizeof what, "OrganizationalUnitIdentifiers[%zu]", i);
        struct ou_arg a = {&ous[i], what};
        int r = item ? y_map(y, item, what, ou_pair, &a) : -EINVAL;
        if (r < 0)
            return r;
    }
    return 0;
}

/* Parses config.yaml text into *m (which the caller zeroes and frees with msp_yaml_done). */
static int parse_msp_yaml(const uint8_t *text, size_t len, const char *file, struct lc_errbuf *err,
                          struct msp_yaml *m)
{
    yaml_parser_t p;
    yaml_document_t doc;
    int r = 0;
    if (!yaml_parser_initialize(&p))
        return -ENOMEM;
    yaml_parser_set_input_string(&p, text, len);
    if (!yaml_parser_load(&p, &doc)) {
        r = lc_fail(err, LC_ESYNTAX, "%s line %lu: %s", file,
                    (unsigned long)p.problem_mark.line + 1,
                    p.problem ? p.problem : "YAML does not parse");
        yaml_parser_delete(&p);
        return r;
    }
    struct yctx y = {&doc, file, err};
    const yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root && !y_null(root))
        r = y_map(&y, root, "config.yaml", top_pair, m);
    yaml_document_delete(&doc);
    yaml_parser_delete(&p);
    return r;
}

/* ---- MSPConfig from a directory ------------------------------------------------------------ */

/* Loads the Certificate file named in config.yaml (relative to dir) into out. */
static int load_ou_cert(const char *dir, const char *rel, const char *what, struct lc_errbuf *err,
                        ProtobufCBinaryData *out)
{
    char *path = path_join(dir, rel);
    if (!path)
        return -ENOMEM;
    uint8_t *buf = NULL;
    size_t len = 0;
    int r = read_file(path, LC_PEM_MAX, err, &buf, &len);
    free(path);
    if (r < 0) {
        lc_errbuf_prefix(err, "config.yaml %s.Certificate: ", what);
        return r;
    }
    out->data = buf;
    out->len = len;
    return 0;
}

static void fabric_ou_free(Msp__FabricOUIdentifier *o)
{
    if (!o)
        return;
    free(o->certificate.data);
    free(o);
}

int lc_msp_config_from_dir(const char *dir, const char *mspid, struct lc_errbuf *err,
                           uint8_t **ret_buf, size_t *ret_len)
{
    struct blob_list ca = {0}, inter = {0}, admin = {0}, crl = {0}, tlsca = {0}, tlsinter = {0};
    struct msp_yaml y = {0};
    Msp__FabricOUIdentifier **ous = NULL;
    Msp__FabricOUIdentifier *roles[N_ROLES] = {0};
    Msp__FabricNodeOUs nodeous = MSP__FABRIC_NODE_OUS__INIT;
    Msp__FabricCryptoConfig cc = MSP__FABRIC_CRYPTO_CONFIG__INIT;
    Msp__FabricMSPConfig fc = MSP__FABRIC_MSPCONFIG__INIT;
    Msp__MSPConfig mc = MSP__MSPCONFIG__INIT;
    uint8_t *fbuf = NULL, *mbuf = NULL, *ytext = NULL;
    char *ypath = NULL;
    size_t nous = 0, ylen = 0;
    bool found;
    int r;

    if (!mspid || !*mspid)
        return lc_fail(err, LC_EINVALID, "MSP id is empty");
    if ((r = read_pem_dir(dir, "cacerts", PEM_CERT, err, &ca, &found)) < 0)
        goto out;
    if (ca.n == 0) {
        r = lc_fail(err, LC_EINVALID, "%s/cacerts: no CA certificate found", dir);
        goto out;
    }
    if ((r = read_pem_dir(dir, "admincerts", PEM_CERT, err, &admin, &found)) < 0 ||
        (r = read_pem_dir(dir, "intermediatecerts", PEM_CERT, err, &inter, &found)) < 0 ||
        (r = read_pem_dir(dir, "tlscacerts", PEM_CERT, err, &tlsca, &found)) < 0)
        goto out;
    if (tlsca.n > 0 &&
        (r = read_pem_dir(dir, "tlsintermediatecerts", PEM_CERT, err, &tlsinter, &found)) < 0)
        goto out;
    if ((r = read_pem_dir(dir, "crls", PEM_CRL, err, &crl, &found)) < 0)
        goto out;

    if (!(ypath = path_join(dir, "config.yaml"))) {
        r = -ENOMEM;
        goto out;
    }
    r = read_file(ypath, LC_MSP_MAX_CONFIG_YAML, err, &ytext, &ylen);
    if (r == -ENOENT) {
        r = 0;
    } else if (r < 0) {
        goto out;
    } else if ((r = parse_msp_yaml(ytext, ylen, ypath, err, &y)) < 0) {
        goto out;
    }

    if (y.nous > 0) {
        ous = calloc(y.nous, sizeof *ous);
        if (!ous) {
            r = -ENOMEM;
            goto out;
        }
    }
    for (; nous < y.nous; nous++) {
        char what[64];
        snprintf(what, sizeof what, "OrganizationalUnitIdentifiers[%zu]", nous);
        if (!y.ous[nous].cert) {
            r = lc_fail(err, LC_EINVALID, "%s: %s.Certificate is missing", ypath, what);
            goto out;
        }
        Msp__FabricOUIdentifier *o = malloc(sizeof *o);
        if (!o) {
            r = -ENOMEM;
            goto out;
        }
        msp__fabric_ouidentifier__init(o);
        o->organizational_unit_identifier = y.ous[nous].ou ? y.ous[nous].ou : "";
        ous[nous] = o;
        if ((r = load_ou_cert(dir, y.ous[nous].cert, what, err, &o->certificate)) < 0) {
            nous++;
            goto out;
        }
    }
    if (y.enable) {
        Msp__FabricOUIdentifier **slots[N_ROLES] = {
            &nodeous.client_ou_identifier, &nodeous.peer_ou_identifier,
            &nodeous.admin_ou_identifier, &nodeous.orderer_ou_identifier};
        nodeous.enable = true;
        for (int k = 0; k < N_ROLES; k++) {
            /* Fabric keeps a role identifier only when it names an OU. */
            if (!y.role_set[k] || !y.role[k].ou || !*y.role[k].ou)
                continue;
            roles[k] = malloc(sizeof *roles[k]);
            if (!roles[k]) {
                r = -ENOMEM;
                goto out;
            }
            msp__fabric_ouidentifier__init(roles[k]);
            roles[k]->organizational_unit_identifier = y.role[k].ou;
            *slots[k] = roles[k];
            char what[64];
            snprintf(what, sizeof what, "NodeOUs.%s", role_keys[k]);
            if (y.role[k].cert && *y.role[k].cert &&
                (r = load_ou_cert(dir, y.role[k].cert, what, err, &roles[k]->certificate)) < 0)
                goto out;
        }
        fc.fabric_node_ous = &nodeous;
    }

    cc.signature_hash_family = "SHA2";
    cc.identity_identifier_hash_function = "SHA256";
    fc.name = (char *)mspid;
    fc.n_root_certs = ca.n;
    fc.root_certs = ca.v;
    fc.n_intermediate_certs = inter.n;
    fc.intermediate_certs = inter.v;
    fc.n_admins = admin.n;
    fc.admins = admin.v;
    fc.n_revocation_list = crl.n;
    fc.revocation_list = crl.v;
    fc.n_organizational_unit_identifiers = nous;
    fc.organizational_unit_identifiers = ous;
    fc.crypto_config = &cc;
    fc.n_tls_root_certs = tlsca.n;
    fc.tls_root_certs = tlsca.v;
    fc.n_tls_intermediate_certs = tlsinter.n;
    fc.tls_intermediate_certs = tlsinter.v;

    size_t flen = msp__fabric_mspconfig__get_packed_size(&fc);
    fbuf = malloc(flen ? flen : 1);
    if (!fbuf) {
        r = -ENOMEM;
        goto out;
    }
    msp__fabric_mspconfig__pack(&fc, fbuf);
    mc.type = 0;
    mc.config.data = fbuf;
    mc.config.len = flen;
    size_t mlen = msp__mspconfig__get_packed_size(&mc);
    mbuf = malloc(mlen ? mlen : 1);
    if (!mbuf) {
        r = -ENOMEM;
        goto out;
    }
    msp__mspconfig__pack(&mc, mbuf);

    /* Reject here what a channel would reject, with the same message. */
    struct lc_msp *check = NULL;
    r = lc_msp_new_from_bytes(mbuf, mlen, err, &check);
    lc_msp_unref(check);
    if (r < 0) {
        lc_errbuf_prefix(err, "%s: ", dir);
        goto out;
    }
    *ret_buf = mbuf;
    *ret_len = mlen;
    mbuf = NULL;
out:
    if (r == -ENOMEM)
        lc_fail(err, r, "out of memory");
    free(mbuf);
    free(fbuf);
    for (int k = 0; k < N_ROLES; k++)
        fabric_ou_free(roles[k]);
    for (size_t i = 0; i < nous; i++)
        fabric_ou_free(ous[i]);
    free(ous);
    msp_yaml_done(&y);
    free(ytext);
    free(ypath);
    blob_list_done(&ca);
    blob_list_done(&inter);
    blob_list_done(&admin);
    blob_list_done(&crl);
    blob_list_done(&tlsca);
    blob_list_done(&tlsinter);
    return r;
}

/* ---- signer -------------------------------------------------------------------------------- */

struct lc_signer {
    char *mspid;
    struct lc_cert *cert;
    struct lc_privkey *key;
    uint8_t *ser;
    size_t ser_len;
};

void lc_signer_free(struct lc_signer *s)
{
    if (!s)
        return;
    lc_privkey_free(s->key);
    lc_cert_unref(s->cert);
    free(s->ser);
    free(s->mspid);
    free(s);
}

/* Makes a signer from a parsed cert and key (both taken over) and the cert's PEM text. */
static int signer_make(const char *mspid, struct lc_cert *cert, struct lc_privkey *key,
                       const void *cert_pem, size_t cert_len, struct lc_errbuf *err,
                       struct lc_signer **ret)
{
    Msp__SerializedIdentity sid = MSP__SERIALIZED_IDENTITY__INIT;
    struct lc_signer *s = calloc(1, sizeof *s);
    if (!s) {
        lc_cert_unref(cert);
        lc_privkey_free(key);
        return lc_fail(err, -ENOMEM, "out of memory");
    }
    s->cert = cert;
    s->key = key;
    sid.mspid = (char *)mspid;
    sid.id_bytes.data = (uint8_t *)cert_pem;
    sid.id_bytes.len = cert_len;
    s->ser_len = msp__serialized_identity__get_packed_size(&sid);
    s->ser = malloc(s->ser_len);
    s->mspid = strdup(mspid);
    if (!s->ser || !s->mspid) {
        lc_signer_free(s);
        return lc_fail(err, -ENOMEM, "out of memory");
    }
    msp__serialized_identity__pack(&sid, s->ser);
    *ret = s;
    return 0;
}

int lc_signer_new(const char *mspid, const void *cert_pem, size_t cert_len, const void *key_pem,
                  size_t key_len, struct lc_errbuf *err, struct lc_signer **ret)
{
    struct lc_cert *cert = NULL;
    struct lc_privkey *key = NULL;
    int r;
    if (!mspid || !*mspid)
        return lc_fail(err, LC_EINVALID, "signer: MSP id is empty");
    if ((r = lc_cert_from_pem(cert_pem, cert_len, err, &cert)) < 0) {
        lc_errbuf_prefix(err, "signer certificate: ");
        return r;
    }
    if ((r = lc_privkey_from_pem(key_pem, key_len, err, &key)) < 0) {
        lc_errbuf_prefix(err, "signer key: ");
        lc_cert_unref(cert);
        return r;
    }
    if (!lc_cert_matches_key(cert, key)) {
        lc_cert_unref(cert);
        lc_privkey_free(key);
        return lc_fail(err, LC_EBADKEY, "signer key does not match the certificate");
    }
    return signer_make(mspid, cert, key, cert_pem, cert_len, err, ret);
}

/* The first file of signcerts/ (by name) that holds PEM, as Fabric takes signcert[0]. */
static int load_signcert(const char *msp_dir, struct lc_errbuf *err, uint8_t **ret_pem,
                         size_t *ret_len, char **ret_path)
{
    char *folder = path_join(msp_dir, "signcerts");
    char **names = NULL;
    size_t n = 0;
    int r;
    if (!folder)
        return -ENOMEM;
    r = list_dir(folder, err, &names, &n);
    for (size_t i = 0; r == 0 && i < n; i++) {
        char *path = path_join(folder, names[i]);
        uint8_t *buf = NULL;
        size_t len = 0;
        struct stat st;
        if (!path) {
            r = -ENOMEM;
            break;
        }
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
            read_file(path, LC_PEM_MAX, NULL, &buf, &len) == 0 && looks_like_pem(buf, len)) {
            *ret_pem = buf;
            *ret_len = len;
            *ret_path = path;
            goto out;
        }
        free(buf);
        free(path);
    }
    if (r == 0)
        r = lc_fail(err, -ENOENT, "%s: no PEM certificate found", folder);
out:
    free_names(names, n);
    free(folder);
    return r;
}

int lc_signer_load(const char *msp_dir, const char *mspid, struct lc_errbuf *err,
                   struct lc_signer **ret)
{
    uint8_t *cert_pem = NULL, *key_pem = NULL;
    size_t cert_len = 0, key_len = 0;
    char *cert_path = NULL, *ks = NULL, *path = NULL;
    char **names = NULL;
    size_t n = 0;
    struct lc_cert *cert = NULL;
    struct lc_privkey *key = NULL;
    int r;

    if (!mspid || !*mspid)
        return lc_fail(err, LC_EINVALID, "signer: MSP id is empty");
    if ((r = load_signcert(msp_dir, err, &cert_pem, &cert_len, &cert_path)) < 0)
        goto out;
    if ((r = lc_cert_from_pem(cert_pem, cert_len, err, &cert)) < 0) {
        lc_errbuf_prefix(err, "%s: ", cert_path);
        goto out;
    }
    if (!(ks = path_join(msp_dir, "keystore"))) {
        r = -ENOMEM;
        goto out;
    }
    if ((r = list_dir(ks, err, &names, &n)) < 0)
        goto out;
    /* priv_sk first (cryptogen 2.x), then <ski>_sk files (Fabric CA, older cryptogen). */
    for (size_t pass = 0; pass < 2 && !key; pass++) {
        for (size_t i = 0; i < n && !key; i++) {
            size_t nl = strlen(names[i]);
            bool priv = strcmp(names[i], "priv_sk") == 0;
            bool sk = nl > 3 && strcmp(names[i] + nl - 3, "_sk") == 0;
            if (pass == 0 ? !priv : (priv || !sk))
                continue;
            free(path);
            if (!(path = path_join(ks, names[i]))) {
                r = -ENOMEM;
                goto out;
            }
            struct lc_errbuf kerr = {{0}};
            struct lc_privkey *k = NULL;
            r = read_file(path, LC_PEM_MAX, &kerr, &key_pem, &key_len);
            if (r == 0)
                r = lc_privkey_from_pem(key_pem, key_len, &kerr, &k);
            if (key_pem)
                explicit_bzero(key_pem, key_len);
            free(key_pem);
            key_pem = NULL;
            if (r == -ENOMEM)
                goto out;
            if (r < 0) {
                /* priv_sk must be good; a stray *_sk file that is not our key is skipped. */
                if (pass == 0) {
                    lc_fail(err, r, "%s: %.200s", path, kerr.msg);
                    goto out;
                }
                lc_log_debug(MOD, "keystore skip=%s cause=\"%s\"", path, kerr.msg);
                continue;
            }
            if (!lc_cert_matches_key(cert, k)) {
                lc_privkey_free(k);
                if (pass == 0) {
                    r = lc_fail(err, LC_EBADKEY, "%s does not match the certificate %s", path,
                                cert_path);
                    goto out;
                }
                continue;
            }
            key = k;
        }
    }
    if (!key) {
        r = lc_fail(err, LC_EBADKEY, "%s: no private key (priv_sk or *_sk) matches %s", ks,
                    cert_path);
        goto out;
    }
    r = signer_make(mspid, cert, key, cert_pem, cert_len, err, ret);
    cert = NULL;
    key = NULL;
out:
    lc_privkey_free(key);
    lc_cert_unref(cert);
    free_names(names, n);
    free(path);
    free(ks);
    free(cert_path);
    free(cert_pem);
    return r;
}

const char *lc_signer_mspid(const struct lc_signer *s)
{
    return s->mspid;
}

const struct lc_cert *lc_signer_cert(const struct lc_signer *s)
{
    return s->cert;
}

const uint8_t *lc_signer_serialized(const struct lc_signer *s, size_t *ret_len)
{
    *ret_len = s->ser_len;
    return s->ser;
}

int lc_signer_sign(const struct lc_signer *s, const void *msg, size_t n,
                   uint8_t sig[LC_ECDSA_SIG_MAX], size_t *ret_len)
{
    return lc_ecdsa_sign(s->key, msg, n, sig, ret_len);
}

int lc_signer_sign_iov(const struct lc_signer *s, const struct lc_iov *v, size_t nv,
                       uint8_t sig[LC_ECDSA_SIG_MAX], size_t *ret_len)
{
    return lc_ecdsa_sign_iov(s->key, v, nv, sig, ret_len);
}
