/* SPDX-License-Identifier: Apache-2.0 */
/* Hashing, randomness, P-256 keys, ECDSA, X.509 certificates, chains, CRLs and issuing over OpenSSL
 * 3 and libsodium. */

/* Two deprecated OpenSSL 3 APIs are used on purpose, here only:
 * - SHA256_Init/Update/Final: the allocation-free way to hash scattered buffers, so hashing
 *   cannot fail (EVP would need a heap context per call).
 * - EC_KEY + ECDSA_do_sign: signing builds a key from the guarded scalar per signature. Through
 *   EVP_PKEY_fromdata that import costs ~18 us (it rebuilds the P-256 group from its name each
 *   time), more than the 25 us signature; an EC_KEY on a cached group costs ~1 us. */
#define OPENSSL_SUPPRESS_DEPRECATED

#include "libcommon/crypto.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include "libcommon/log.h"

#define P256_SCALAR_LEN 32
#define SIG_BITS_MAX 256 /* an ECDSA signature in a certificate, any curve up to P-521 */

/* ---------- init and error translation ---------- */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc;
/* P-256 group order n and n/2, set once by do_init and read-only afterwards. */
static BIGNUM *p256_order, *p256_half;
/* The P-256 group, built once; only ever copied (EC_KEY_set_group duplicates it). */
static EC_GROUP *p256_group;

static void do_init(void)
{
    if (sodium_init() < 0) {
        init_rc = LC_ECRYPTO;
        return;
    }
    p256_group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    if (p256_group) {
        p256_order = BN_dup(EC_GROUP_get0_order(p256_group));
        p256_half = p256_order ? BN_dup(p256_order) : NULL;
        if (p256_half)
            BN_rshift1(p256_half, p256_half);
    }
    if (!p256_group || !p256_order || !p256_half)
        init_rc = LC_ECRYPTO;
    ERR_clear_error();
}

int lc_crypto_init(void)
{
    pthread_once(&init_once, do_init);
    return init_rc;
}

/* The one place OpenSSL's error queue becomes a weft code and message; clears the queue. */
static int ossl_fail(struct lc_errbuf *err, int code, const char *what)
{
    unsigned long e = ERR_peek_last_error();
    const char *reason = e ? ERR_reason_error_string(e) : NULL;
    char num[32];
    if (e && !reason) {
        snprintf(num, sizeof num, "error %lx", e);
        reason = num;
    }
    ERR_clear_error();
    if (reason)
        return lc_fail(err, code, "%s: %s", what, reason);
    return lc_fail(err, code, "%s", what);
}

/* ---------- hashing ---------- */

void lc_sha256(const void *p, size_t n, uint8_t out[LC_SHA256_LEN])
{
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, p, n);
    SHA256_Final(out, &c);
}

void lc_sha256_iov(const struct lc_iov *v, size_t n, uint8_t out[LC_SHA256_LEN])
{
    SHA256_CTX c;
    SHA256_Init(&c);
    for (size_t i = 0; i < n; i++)
        if (v[i].len)
            SHA256_Update(&c, v[i].base, v[i].len);
    SHA256_Final(out, &c);
}

void lc_hex_encode(const uint8_t *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

/* ---------- randomness ---------- */

int lc_random_bytes(void *buf, size_t n)
{
    int r = lc_crypto_init();
    if (r < 0)
        return r;
    randombytes_buf(buf, n);
    return 0;
}

int lc_nonce(uint8_t out[LC_NONCE_LEN])
{
    return lc_random_bytes(out, LC_NONCE_LEN);
}

/* ---------- keys ---------- */

struct lc_pubkey {
    EVP_PKEY *pkey; /* NULL when a certificate carries a key OpenSSL cannot load */
    bool p256;
    uint8_t point[LC_P256_POINT_LEN]; /* valid when p256 */
};

struct lc_privkey {
    uint8_t *scalar; /* sodium_malloc'd, 32 bytes big-endian, read-only once made */
    struct lc_pubkey pub;
};

static bool pkey_is_p256(EVP_PKEY *pkey, char *curve, size_t curve_len)
{
    curve[0] = '\0';
    if (!pkey || !EVP_PKEY_is_a(pkey, "EC"))
        return false;
    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, curve, curve_len, NULL) !=
        1) {
        ERR_clear_error();
        snprintf(curve, curve_len, "explicit parameters");
        return false;
    }
    return strcmp(curve, SN_X9_62_prime256v1) == 0;
}

/* Fills pub from pkey (taking over the caller's reference). Rejects a P-256 key whose encoded
 * point is not uncompressed, as Go's x509 does. */
static int pubkey_init(struct lc_pubkey *pub, EVP_PKEY *pkey, struct lc_errbuf *err)
{
    char curve[64];
    pub->pkey = pkey;
    pub->p256 = pkey_is_p256(pkey, curve, sizeof curve);
    if (!pub->p256)
        return 0;
    size_t len = 0;
    if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pub->point,
                                        sizeof pub->point, &len) != 1)
        return ossl_fail(err, LC_EBADKEY, "EC public key");
    if (len != LC_P256_POINT_LEN || pub->point[0] != 0x04)
        return lc_fail(err, LC_EBADKEY, "EC public key: point is not in uncompressed form");
    return 0;
}

static void pubkey_done(struct lc_pubkey *pub)
{
    EVP_PKEY_free(pub->pkey);
    pub->pkey = NULL;
}

/* A public-only EVP_PKEY for a P-256 point. */
static EVP_PKEY *p256_public_pkey(const uint8_t point[LC_P256_POINT_LEN])
{
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)SN_X9_62_prime256v1,
                                         0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)point,
                                          LC_P256_POINT_LEN),
        OSSL_PARAM_construct_end(),
    };
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
        pkey = NULL;
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

/* Builds a short-lived EC_KEY from the guarded scalar (with the public point too when with_pub,
 * which encoders want) on a copy of the cached group. The caller frees it with EC_KEY_free at
 * once; OpenSSL keeps the scalar in a BN_FLG_SECURE bignum that EC_KEY_free clears. */
static EC_KEY *materialise_ec(const struct lc_privkey *k, bool with_pub)
{
    EC_KEY *ek = EC_KEY_new();
    if (!ek || EC_KEY_set_group(ek, p256_group) != 1)
        goto fail;
    if (with_pub && EC_KEY_oct2key(ek, k->pub.point, LC_P256_POINT_LEN, NULL) != 1)
        goto fail;
    int ok = EC_KEY_oct2priv(ek, k->scalar, P256_SCALAR_LEN);
    if (ok != 1)
        goto fail;
    return ek;
fail:
    EC_KEY_free(ek);
    return NULL;
}

/* Same, wrapped as an EVP_PKEY for the X.509 and PEM encoders; caller frees at once. */
static EVP_PKEY *materialise(const struct lc_privkey *k, bool with_pub)
{
    EC_KEY *ek = materialise_ec(k, with_pub);
    EVP_PKEY *pkey = ek ? EVP_PKEY_new() : NULL;
    if (!pkey || EVP_PKEY_assign_EC_KEY(pkey, ek) != 1) {
        EVP_PKEY_free(pkey);
        EC_KEY_free(ek);
        return NULL;
    }
    return pkey;
}

/* Takes the scalar and point out of a P-256 EVP_PKEY into a new privkey (pkey stays the
 * caller's). */
static int privkey_from_pkey(EVP_PKEY *pkey, struct lc_errbuf *err, struct lc_privkey **ret)
{
    int r = lc_crypto_init();
    if (r < 0)
        return lc_fail(err, r, "libsodium init failed");
    struct lc_privkey *k = calloc(1, sizeof *k);
    BIGNUM *bn = BN_secure_new();
    if (!k || !bn) {
        r = lc_fail(err, LC_ECRYPTO, "out of memory");
        goto fail;
    }
    k->scalar = sodium_malloc(P256_SCALAR_LEN);
    if (!k->scalar) {
        r = lc_fail(err, LC_ECRYPTO, "sodium_malloc failed");
        goto fail;
    }
    if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &bn) != 1 ||
        BN_bn2binpad(bn, k->scalar, P256_SCALAR_LEN) != P256_SCALAR_LEN) {
        r = ossl_fail(err, LC_EBADKEY, "EC private key");
        goto fail;
    }
    size_t len = 0;
    if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, k->pub.point,
                                        sizeof k->pub.point, &len) != 1 ||
        len != LC_P256_POINT_LEN || k->pub.point[0] != 0x04) {
        r = ossl_fail(err, LC_EBADKEY, "EC public key of private key");
        goto fail;
    }
    k->pub.p256 = true;
    k->pub.pkey = p256_public_pkey(k->pub.point);
    if (!k->pub.pkey) {
        r = ossl_fail(err, LC_ECRYPTO, "public key");
        goto fail;
    }
    sodium_mprotect_readonly(k->scalar);
    BN_clear_free(bn);
    *ret = k;
    return 0;
fail:
    BN_clear_free(bn);
    lc_privkey_free(k);
    return r;
}

int lc_privkey_generate(struct lc_privkey **ret)
{
    EVP_PKEY *pkey = EVP_EC_gen(SN_X9_62_prime256v1);
    if (!pkey)
        return ossl_fail(NULL, LC_ECRYPTO, "generate");
    int r = privkey_from_pkey(pkey, NULL, ret);
    EVP_PKEY_free(pkey);
    return r;
}

static int no_password(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1;
}

int lc_privkey_from_pem(const void *pem, size_t n, struct lc_errbuf *err, struct lc_privkey **ret)
{
    if (n > LC_PEM_MAX)
        return lc_fail(err, LC_ETOOBIG, "private key PEM: %zu bytes, limit %d", n, LC_PEM_MAX);
    int r;
    char *name = NULL, *header = NULL;
    unsigned char *data = NULL;
    long len = 0;
    EVP_PKEY *pkey = NULL;
    BIO *bio = BIO_new_mem_buf(pem ? (const void *)pem : "", (int)n);
    if (!bio)
        return ossl_fail(err, LC_ECRYPTO, "BIO");
    for (;;) {
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_clear_free(data, (size_t)len);
        name = header = NULL;
        data = NULL;
        len = 0;
        if (PEM_read_bio(bio, &name, &header, &data, &len) != 1) {
            r = ossl_fail(err, LC_EDECODE, "bad PEM: no PRIVATE KEY or EC PRIVATE KEY block");
            goto out;
        }
        if (!strcmp(name, PEM_STRING_PKCS8INF) || !strcmp(name, PEM_STRING_ECPRIVATEKEY))
            break;
        if (!strcmp(name, PEM_STRING_PKCS8)) {
            r = lc_fail(err, LC_EBADKEY, "encrypted private keys are not supported");
            goto out;
        }
        if (strstr(name, "PRIVATE KEY")) {
            r = lc_fail(err, LC_EBADKEY, "private key of type \"%s\", want EC P-256", name);
            goto out;
        }
        /* other blocks ("EC PARAMETERS", certificates) are skipped */
    }
    const unsigned char *p = data;
    if (!strcmp(name, PEM_STRING_PKCS8INF)) {
        PKCS8_PRIV_KEY_INFO *p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, len);
        if (p8 && p == data + len)
            pkey = EVP_PKCS82PKEY(p8);
        PKCS8_PRIV_KEY_INFO_free(p8);
    } else {
        pkey = d2i_PrivateKey(EVP_PKEY_EC, NULL, &p, len);
        if (pkey && p != data + len) {
            EVP_PKEY_free(pkey);
            pkey = NULL;
        }
    }
    if (!pkey) {
        r = ossl_fail(err, LC_EDECODE, "bad key encoding");
        goto out;
    }
    char curve[64];
    if (!EVP_PKEY_is_a(pkey, "EC")) {
        r = lc_fail(err, LC_EBADKEY, "key type %s, want EC P-256", EVP_PKEY_get0_type_name(pkey));
        goto out;
    }
    if (!pkey_is_p256(pkey, curve, sizeof curve)) {
        r = lc_fail(err, LC_EBADKEY, "curve %s, want P-256 (prime256v1)", curve);
        goto out;
    }
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    int ok = ctx && EVP_PKEY_pairwise_check(ctx) == 1;
    EVP_PKEY_CTX_free(ctx);
    if (!ok) {
        r = ossl_fail(err, LC_EBADKEY, "public key does not match private key");
        goto out;
    }
    r = privkey_from_pkey(pkey, err, ret);
out:
    EVP_PKEY_free(pkey);
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_clear_free(data, (size_t)len);
    BIO_free(bio);
    ERR_clear_error();
    return r;
}

int lc_privkey_to_pem(const struct lc_privkey *k, char **ret_pem, size_t *ret_len)
{
    int r = LC_ECRYPTO;
    char *out = NULL;
    BIO *bio = BIO_new(BIO_s_secmem());
    EVP_PKEY *pkey = materialise(k, true);
    if (!bio || !pkey || PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) != 1) {
        r = ossl_fail(NULL, LC_ECRYPTO, "encode key");
        goto out;
    }
    char *mem = NULL;
    long len = BIO_get_mem_data(bio, &mem);
    if (len <= 0 || !(out = sodium_malloc((size_t)len + 1)))
        goto out;
    memcpy(out, mem, (size_t)len);
    out[len] = '\0';
    *ret_pem = out;
    *ret_len = (size_t)len;
    r = 0;
out:
    EVP_PKEY_free(pkey);
    BIO_free(bio); /* secure memory BIO: cleared on free */
    return r;
}

void lc_privkey_pem_free(char *pem)
{
    if (pem)
        sodium_free(pem);
}

void lc_privkey_free(struct lc_privkey *k)
{
    if (!k)
        return;
    if (k->scalar)
        sodium_free(k->scalar); /* lifts the protection, wipes, unmaps */
    pubkey_done(&k->pub);
    free(k);
}

const struct lc_pubkey *lc_privkey_public(const struct lc_privkey *k)
{
    return &k->pub;
}

int lc_pubkey_from_pem(const void *pem, size_t n, struct lc_errbuf *err, struct lc_pubkey **ret)
{
    if (n > LC_PEM_MAX)
        return lc_fail(err, LC_ETOOBIG, "public key PEM: %zu bytes, limit %d", n, LC_PEM_MAX);
    BIO *bio = BIO_new_mem_buf(pem ? (const void *)pem : "", (int)n);
    if (!bio)
        return ossl_fail(err, LC_ECRYPTO, "BIO");
    EVP_PKEY *pkey = PEM_read_bio_PUBKEY(bio, NULL, no_password, NULL);
    BIO_free(bio);
    if (!pkey)
        return ossl_fail(err, LC_EDECODE, "bad PEM: no PUBLIC KEY block");
    struct lc_pubkey *pub = calloc(1, sizeof *pub);
    if (!pub) {
        EVP_PKEY_free(pkey);
        return lc_fail(err, LC_ECRYPTO, "out of memory");
    }
    int r = pubkey_init(pub, pkey, err);
    if (r < 0) {
        lc_pubkey_free(pub);
        return r;
    }
    *ret = pub;
    return 0;
}

static int bio_to_string(BIO *bio, char **ret, size_t *ret_len)
{
    char *mem = NULL;
    long len = BIO_get_mem_data(bio, &mem);
    if (len <= 0)
        return LC_ECRYPTO;
    char *s = malloc((size_t)len + 1);
    if (!s)
        return LC_ECRYPTO;
    memcpy(s, mem, (size_t)len);
    s[len] = '\0';
    *ret = s;
    if (ret_len)
        *ret_len = (size_t)len;
    return 0;
}

int lc_pubkey_to_pem(const struct lc_pubkey *pub, char **ret_pem, size_t *ret_len)
{
    int r = LC_ECRYPTO;
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio && pub->pkey && PEM_write_bio_PUBKEY(bio, pub->pkey) == 1)
        r = bio_to_string(bio, ret_pem, ret_len);
    BIO_free(bio);
    ERR_clear_error();
    return r;
}

void lc_pubkey_free(struct lc_pubkey *pub)
{
    if (!pub)
        return;
    pubkey_done(pub);
    free(pub);
}

bool lc_pubkey_is_p256(const struct lc_pubkey *pub)
{
    return pub->p256;
}

bool lc_pubkey_equal(const struct lc_pubkey *a, const struct lc_pubkey *b)
{
    if (a->p256 && b->p256)
        return memcmp(a->point, b->point, LC_P256_POINT_LEN) == 0;
    if (!a->pkey || !b->pkey)
        return false;
    bool eq = EVP_PKEY_eq(a->pkey, b->pkey) == 1;
    ERR_clear_error();
    return eq;
}

int lc_pubkey_point(const struct lc_pubkey *pub, uint8_t out[LC_P256_POINT_LEN])
{
    if (!pub->p256)
        return LC_EBADKEY;
    memcpy(out, pub->point, LC_P256_POINT_LEN);
    return 0;
}

int lc_pubkey_ski(const struct lc_pubkey *pub, uint8_t out[LC_SHA256_LEN])
{
    if (!pub->p256)
        return LC_EBADKEY;
    lc_sha256(pub->point, LC_P256_POINT_LEN, out);
    return 0;
}

/* ---------- ECDSA ---------- */

/* Encodes (r, s) as DER into out (capacity cap); returns the length or 0. */
static size_t sig_encode(const BIGNUM *r, const BIGNUM *s, uint8_t *out, size_t cap)
{
    size_t len = 0;
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r2 = BN_dup(r), *s2 = BN_dup(s);
    if (!es || !r2 || !s2 || ECDSA_SIG_set0(es, r2, s2) != 1) {
        BN_free(r2);
        BN_free(s2);
        goto out;
    }
    int l = i2d_ECDSA_SIG(es, NULL);
    if (l > 0 && (size_t)l <= cap) {
        unsigned char *p = out;
        len = (size_t)i2d_ECDSA_SIG(es, &p);
    }
out:
    ECDSA_SIG_free(es);
    return len;
}

/* Rewrites sig[0..*len) (DER ECDSA over a curve of the given order) with s replaced by order - s
 * when s > order/2. Sets *changed. Returns 0 or a negative code. */
static int sig_to_low_s(uint8_t *sig, size_t *len, size_t cap, const BIGNUM *order, bool *changed)
{
    int r = LC_ECRYPTO;
    const unsigned char *p = sig;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)*len);
    BIGNUM *half = BN_dup(order), *ns = BN_new();
    *changed = false;
    if (!es) {
        r = LC_EDECODE;
        goto out;
    }
    if (!half || !ns || !BN_rshift1(half, half))
        goto out;
    const BIGNUM *er, *esv;
    ECDSA_SIG_get0(es, &er, &esv);
    if (BN_cmp(esv, half) > 0) {
        if (!BN_sub(ns, order, esv))
            goto out;
        size_t l = sig_encode(er, ns, sig, cap);
        if (!l)
            goto out;
        *len = l;
        *changed = true;
    }
    r = 0;
out:
    ECDSA_SIG_free(es);
    BN_free(half);
    BN_free(ns);
    ERR_clear_error();
    return r;
}

int lc_ecdsa_sign_digest(const struct lc_privkey *k, const uint8_t digest[LC_SHA256_LEN],
                         uint8_t sig[LC_ECDSA_SIG_MAX], size_t *ret_len)
{
    int r = lc_crypto_init();
    if (r < 0)
        return r;
    r = LC_ECRYPTO;
    ECDSA_SIG *es = NULL;
    BIGNUM *ns = NULL;
    EC_KEY *ek = materialise_ec(k, false);
    if (!ek || !(es = ECDSA_do_sign(digest, LC_SHA256_LEN, ek)))
        goto out;
    const BIGNUM *er, *esv;
    ECDSA_SIG_get0(es, &er, &esv);
    if (BN_cmp(esv, p256_half) > 0) {
        /* low S: s' = n - s, the other valid signature for the same r */
        if (!(ns = BN_new()) || !BN_sub(ns, p256_order, esv))
            goto out;
        esv = ns;
    }
    size_t len = sig_encode(er, esv, sig, LC_ECDSA_SIG_MAX);
    if (!len)
        goto out;
    *ret_len = len;
    r = 0;
out:
    BN_free(ns);
    ECDSA_SIG_free(es);
    EC_KEY_free(ek);
    ERR_clear_error();
    return r;
}

int lc_ecdsa_sign(const struct lc_privkey *k, const void *msg, size_t n,
                  uint8_t sig[LC_ECDSA_SIG_MAX], size_t *ret_len)
{
    uint8_t d[LC_SHA256_LEN];
    lc_sha256(msg, n, d);
    return lc_ecdsa_sign_digest(k, d, sig, ret_len);
}

int lc_ecdsa_sign_iov(const struct lc_privkey *k, const struct lc_iov *v, size_t nv,
                      uint8_t sig[LC_ECDSA_SIG_MAX], size_t *ret_len)
{
    uint8_t d[LC_SHA256_LEN];
    lc_sha256_iov(v, nv, d);
    return lc_ecdsa_sign_digest(k, d, sig, ret_len);
}

/* Strict DER check of an ECDSA signature for P-256: SEQUENCE{INTEGER r, INTEGER s}, minimal,
 * nothing after it, r and s in (0, n), s <= n/2. */
static int sig_check(const uint8_t *sig, size_t siglen, struct lc_errbuf *err)
{
    if (siglen == 0 || siglen > LC_ECDSA_SIG_MAX)
        return lc_fail(err, LC_EDECODE, "signature: length %zu, want 8..%d", siglen,
                       LC_ECDSA_SIG_MAX);
    int r = 0;
    const unsigned char *p = sig;
    unsigned char *der = NULL;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)siglen);
    if (!es) {
        r = ossl_fail(err, LC_EDECODE, "signature: not DER SEQUENCE{INTEGER r, INTEGER s}");
        goto out;
    }
    if (p != sig + siglen) {
        r = lc_fail(err, LC_EDECODE, "signature: %zu bytes after the DER SEQUENCE",
                    (size_t)(sig + siglen - p));
        goto out;
    }
    int dl = i2d_ECDSA_SIG(es, &der);
    if (dl < 0 || (size_t)dl != siglen || memcmp(der, sig, siglen) != 0) {
        r = lc_fail(err, LC_EDECODE, "signature: not minimal DER");
        goto out;
    }
    const BIGNUM *er, *esv;
    ECDSA_SIG_get0(es, &er, &esv);
    if (BN_is_negative(er) || BN_is_zero(er) || BN_cmp(er, p256_order) >= 0) {
        r = lc_fail(err, LC_EDECODE, "signature: r not in (0, n)");
        goto out;
    }
    if (BN_is_negative(esv) || BN_is_zero(esv) || BN_cmp(esv, p256_order) >= 0) {
        r = lc_fail(err, LC_EDECODE, "signature: s not in (0, n)");
        goto out;
    }
    if (BN_cmp(esv, p256_half) > 0)
        r = lc_fail(err, LC_EHIGHS, "signature: high S (s > n/2)");
out:
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
    ERR_clear_error();
    return r;
}

int lc_ecdsa_verify_digest(const struct lc_pubkey *pub, const uint8_t digest[LC_SHA256_LEN],
                           const uint8_t *sig, size_t siglen, struct lc_errbuf *err)
{
    int r = lc_crypto_init();
    if (r < 0)
        return lc_fail(err, r, "crypto init failed");
    if (!pub->p256 || !pub->pkey)
        return lc_fail(err, LC_EBADKEY, "verify: public key is not EC P-256");
    r = sig_check(sig, siglen, err);
    if (r < 0)
        return r;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pub->pkey, NULL);
    if (!ctx || EVP_PKEY_verify_init(ctx) != 1) {
        r = ossl_fail(err, LC_ECRYPTO, "verify");
        goto out;
    }
    int v = EVP_PKEY_verify(ctx, sig, siglen, digest, LC_SHA256_LEN);
    if (v == 1)
        r = 0;
    else if (v == 0)
        r = lc_fail(err, LC_EBADSIG, "signature does not verify");
    else
        r = ossl_fail(err, LC_ECRYPTO, "verify");
out:
    EVP_PKEY_CTX_free(ctx);
    ERR_clear_error();
    return r;
}

int lc_ecdsa_verify(const struct lc_pubkey *pub, const void *msg, size_t n, const uint8_t *sig,
                    size_t siglen, struct lc_errbuf *err)
{
    uint8_t d[LC_SHA256_LEN];
    lc_sha256(msg, n, d);
    return lc_ecdsa_verify_digest(pub, d, sig, siglen, err);
}

int lc_ecdsa_verify_iov(const struct lc_pubkey *pub, const struct lc_iov *v, size_t nv,
                        const uint8_t *sig, size_t siglen, struct lc_errbuf *err)
{
    uint8_t d[LC_SHA256_LEN];
    lc_sha256_iov(v, nv, d);
    return lc_ecdsa_verify_digest(pub, d, sig, siglen, err);
}

/* ---------- certificates ---------- */

struct strlist {
    char **v;
    size_t n;
};

struct lc_cert {
    atomic_uint refs;
    X509 *x;
    uint8_t *der;
    size_t der_len;
    struct lc_pubkey pub;
    struct strlist ous, dns, ips;
    char *cn, *subject, *issuer, *serial;
    time_t not_before, not_after;
    bool ca;
    uint8_t *ski, *aki;
    size_t ski_len, aki_len;
    unsigned ku, eku;
};

static void strlist_free(struct strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static int strlist_add(struct strlist *l, const char *s, size_t len)
{
    char **v = realloc(l->v, (l->n + 1) * sizeof *v);
    if (!v)
        return -ENOMEM;
    l->v = v;
    if (!(v[l->n] = strndup(s, len)))
        return -ENOMEM;
    l->n++;
    return 0;
}

static uint8_t *memdup(const void *p, size_t n)
{
    uint8_t *d = malloc(n ? n : 1);
    if (d && n)
        memcpy(d, p, n);
    return d;
}

static char *name_str(const X509_NAME *nm)
{
    char *s = NULL;
    BIO *bio = BIO_new(BIO_s_mem());
    unsigned long flags =
        (ASN1_STRFLGS_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) | XN_FLAG_SEP_CPLUS_SPC | XN_FLAG_FN_SN;
    if (bio && X509_NAME_print_ex(bio, nm, 0, flags) >= 0) {
        if (bio_to_string(bio, &s, NULL) < 0)
            s = strdup(""); /* an empty name prints nothing */
    }
    BIO_free(bio);
    return s;
}

static int asn1_time_to_time(const ASN1_TIME *t, time_t *ret)
{
    struct tm tm;
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
        return LC_EDECODE;
    *ret = timegm(&tm);
    return 0;
}

static int name_utf8(const X509_NAME_ENTRY *e, struct strlist *l)
{
    unsigned char *u = NULL;
    int len = ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(e));
    if (len < 0)
        return LC_EDECODE;
    int r = strlist_add(l, (const char *)u, (size_t)len);
    OPENSSL_free(u);
    return r < 0 ? LC_ECRYPTO : 0;
}

static int cert_fill(struct lc_cert *c, struct lc_errbuf *err)
{
    X509 *x = c->x;
    if (X509_get_extension_flags(x) & EXFLAG_INVALID)
        return lc_fail(err, LC_EDECODE, "certificate: malformed or duplicate extensions");
    EVP_PKEY *pk = X509_get_pubkey(x);
    ERR_clear_error();
    int r = pubkey_init(&c->pub, pk, NULL);
    if (r < 0)
        return lc_fail(err, LC_EDECODE, "certificate: EC public key point is not uncompressed");
    const X509_NAME *subj = X509_get_subject_name(x);
    struct strlist cns = {0};
    for (int i = 0; i < X509_NAME_entry_count(subj); i++) {
        const X509_NAME_ENTRY *e = X509_NAME_get_entry(subj, i);
        int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
        if (nid == NID_organizationalUnitName)
            r = name_utf8(e, &c->ous);
        else if (nid == NID_commonName)
            r = name_utf8(e, &cns);
        if (r < 0) {
            strlist_free(&cns);
            return lc_fail(err, LC_EDECODE, "certificate: subject attribute not a string");
        }
    }
    c->cn = strdup(cns.n ? cns.v[cns.n - 1] : "");
    strlist_free(&cns);
    c->subject = name_str(subj);
    c->issuer = name_str(X509_get_issuer_name(x));
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    char *hex = bn ? BN_bn2hex(bn) : NULL;
    if (hex) {
        const char *h = hex + (hex[0] == '-');
        while (h[0] == '0' && h[1])
            h++;
        size_t hl = strlen(h);
        c->serial = malloc(hl + 1 + (hex[0] == '-'));
        if (c->serial) {
            char *o = c->serial;
            if (hex[0] == '-')
                *o++ = '-';
            for (size_t i = 0; i <= hl; i++)
                o[i] = (char)(h[i] >= 'A' && h[i] <= 'F' ? h[i] - 'A' + 'a' : h[i]);
        }
    }
    OPENSSL_free(hex);
    BN_free(bn);
    if (!c->cn || !c->subject || !c->issuer || !c->serial)
        return lc_fail(err, LC_ECRYPTO, "certificate: out of memory");
    if (asn1_time_to_time(X509_get0_notBefore(x), &c->not_before) < 0 ||
        asn1_time_to_time(X509_get0_notAfter(x), &c->not_after) < 0)
        return lc_fail(err, LC_EDECODE, "certificate: bad validity time");
    c->ca = (X509_get_extension_flags(x) & EXFLAG_CA) != 0;
    const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(x);
    if (ski) {
        c->ski_len = (size_t)ASN1_STRING_length(ski);
        c->ski = memdup(ASN1_STRING_get0_data(ski), c->ski_len);
    }
    const ASN1_OCTET_STRING *aki = X509_get0_authority_key_id(x);
    if (aki) {
        c->aki_len = (size_t)ASN1_STRING_length(aki);
        c->aki = memdup(ASN1_STRING_get0_data(aki), c->aki_len);
    }
    if ((ski && !c->ski) || (aki && !c->aki))
        return lc_fail(err, LC_ECRYPTO, "certificate: out of memory");
    uint32_t ku = X509_get_key_usage(x);
    c->ku = ku == UINT32_MAX ? 0 : (ku & 0xffu);
    uint32_t eku = X509_get_extended_key_usage(x);
    c->eku = eku == UINT32_MAX ? 0 : (eku & (XKU_SSL_SERVER | XKU_SSL_CLIENT));
    GENERAL_NAMES *sans = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans) && r == 0; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
        if (g->type == GEN_DNS) {
            r = strlist_add(&c->dns, (const char *)ASN1_STRING_get0_data(g->d.dNSName),
                            (size_t)ASN1_STRING_length(g->d.dNSName));
        } else if (g->type == GEN_IPADD) {
            char buf[INET6_ADDRSTRLEN];
            int l = ASN1_STRING_length(g->d.iPAddress);
            const unsigned char *a = ASN1_STRING_get0_data(g->d.iPAddress);
            if ((l == 4 && inet_ntop(AF_INET, a, buf, sizeof buf)) ||
                (l == 16 && inet_ntop(AF_INET6, a, buf, sizeof buf)))
                r = strlist_add(&c->ips, buf, strlen(buf));
        }
    }
    GENERAL_NAMES_free(sans);
    ERR_clear_error();
    if (r < 0)
        return lc_fail(err, LC_ECRYPTO, "certificate: out of memory");
    return 0;
}

static void cert_free(struct lc_cert *c)
{
    X509_free(c->x);
    free(c->der);
    pubkey_done(&c->pub);
    strlist_free(&c->ous);
    strlist_free(&c->dns);
    strlist_free(&c->ips);
    free(c->cn);
    free(c->subject);
    free(c->issuer);
    free(c->serial);
    free(c->ski);
    free(c->aki);
    free(c);
}

int lc_cert_from_der(const void *der, size_t n, struct lc_errbuf *err, struct lc_cert **ret)
{
    if (n > LC_DER_MAX)
        return lc_fail(err, LC_ETOOBIG, "certificate: %zu bytes, limit %d", n, LC_DER_MAX);
    if (n == 0)
        return lc_fail(err, LC_EDECODE, "certificate: empty");
    int r = lc_crypto_init();
    if (r < 0)
        return lc_fail(err, r, "crypto init failed");
    struct lc_cert *c = calloc(1, sizeof *c);
    if (!c)
        return lc_fail(err, LC_ECRYPTO, "out of memory");
    atomic_init(&c->refs, 1);
    const unsigned char *p = der;
    c->x = d2i_X509(NULL, &p, (long)n);
    if (!c->x) {
        r = ossl_fail(err, LC_EDECODE, "certificate: bad DER");
        goto fail;
    }
    if (p != (const unsigned char *)der + n) {
        r = lc_fail(err, LC_EDECODE, "certificate: %zu bytes after the DER",
                    (size_t)((const unsigned char *)der + n - p));
        goto fail;
    }
    c->der_len = n;
    if (!(c->der = memdup(der, n))) {
        r = lc_fail(err, LC_ECRYPTO, "out of memory");
        goto fail;
    }
    r = cert_fill(c, err);
    if (r < 0)
        goto fail;
    *ret = c;
    return 0;
fail:
    cert_free(c);
    ERR_clear_error();
    return r;
}

/* Reads the first PEM block of pem[0..n) whatever its label. want (if not NULL) must match. */
static int pem_first_block(const void *pem, size_t n, const char *what, const char *want,
                           struct lc_errbuf *err, unsigned char **ret_data, long *ret_len)
{
    if (n > LC_PEM_MAX)
        return lc_fail(err, LC_ETOOBIG, "%s PEM: %zu bytes, limit %d", what, n, LC_PEM_MAX);
    char *name = NULL, *header = NULL;
    unsigned char *data = NULL;
    long len = 0;
    int r = 0;
    BIO *bio = BIO_new_mem_buf(pem ? (const void *)pem : "", (int)n);
    if (!bio)
        return ossl_fail(err, LC_ECRYPTO, "BIO");
    if (PEM_read_bio(bio, &name, &header, &data, &len) != 1) {
        r = lc_fail(err, LC_EDECODE, "%s: bad PEM", what);
        goto out;
    }
    if (want && strcmp(name, want) != 0) {
        r = lc_fail(err, LC_EDECODE, "%s: bad PEM: block is \"%s\", want \"%s\"", what, name, want);
        goto out;
    }
    *ret_data = data;
    *ret_len = len;
    data = NULL;
out:
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
    BIO_free(bio);
    ERR_clear_error();
    return r;
}

int lc_cert_from_pem(const void *pem, size_t n, struct lc_errbuf *err, struct lc_cert **ret)
{
    unsigned char *data = NULL;
    long len = 0;
    int r = pem_first_block(pem, n, "certificate", NULL, err, &data, &len);
    if (r < 0)
        return r;
    r = lc_cert_from_der(data, (size_t)len, err, ret);
    OPENSSL_free(data);
    return r;
}

struct lc_cert *lc_cert_ref(struct lc_cert *c)
{
    if (c)
        atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
    return c;
}

void lc_cert_unref(struct lc_cert *c)
{
    if (c && atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1)
        cert_free(c);
}

const uint8_t *lc_cert_der(const struct lc_cert *c, size_t *ret_len)
{
    *ret_len = c->der_len;
    return c->der;
}

int lc_cert_to_pem(const struct lc_cert *c, char **ret_pem, size_t *ret_len)
{
    int r = LC_ECRYPTO;
    BIO *bio = BIO_new(BIO_s_mem());
    /* PEM of the stored DER exactly: re-encoding c->x could change the bytes (OpenSSL clears
     * unused BIT STRING bits that Go's parser would have rejected), and identities are compared
     * and hashed byte for byte. */
    if (bio && PEM_write_bio(bio, "CERTIFICATE", "", c->der, (long)c->der_len) > 0)
        r = bio_to_string(bio, ret_pem, ret_len);
    BIO_free(bio);
    ERR_clear_error();
    return r;
}

const struct lc_pubkey *lc_cert_pubkey(const struct lc_cert *c)
{
    return &c->pub;
}

size_t lc_cert_ou_count(const struct lc_cert *c)
{
    return c->ous.n;
}

const char *lc_cert_ou(const struct lc_cert *c, size_t i)
{
    return i < c->ous.n ? c->ous.v[i] : NULL;
}

const char *lc_cert_subject_cn(const struct lc_cert *c)
{
    return c->cn;
}

const char *lc_cert_subject_str(const struct lc_cert *c)
{
    return c->subject;
}

const char *lc_cert_issuer_str(const struct lc_cert *c)
{
    return c->issuer;
}

const char *lc_cert_serial_hex(const struct lc_cert *c)
{
    return c->serial;
}

time_t lc_cert_not_before(const struct lc_cert *c)
{
    return c->not_before;
}

time_t lc_cert_not_after(const struct lc_cert *c)
{
    return c->not_after;
}

bool lc_cert_is_ca(const struct lc_cert *c)
{
    return c->ca;
}

const uint8_t *lc_cert_ski(const struct lc_cert *c, size_t *ret_len)
{
    *ret_len = c->ski_len;
    return c->ski;
}

const uint8_t *lc_cert_aki(const struct lc_cert *c, size_t *ret_len)
{
    *ret_len = c->aki_len;
    return c->aki;
}

size_t lc_cert_dns_count(const struct lc_cert *c)
{
    return c->dns.n;
}

const char *lc_cert_dns(const struct lc_cert *c, size_t i)
{
    return i < c->dns.n ? c->dns.v[i] : NULL;
}

size_t lc_cert_ip_count(const struct lc_cert *c)
{
    return c->ips.n;
}

const char *lc_cert_ip(const struct lc_cert *c, size_t i)
{
    return i < c->ips.n ? c->ips.v[i] : NULL;
}

unsigned lc_cert_key_usage(const struct lc_cert *c)
{
    return c->ku;
}

unsigned lc_cert_ext_key_usage(const struct lc_cert *c)
{
    unsigned out = 0;
    if (c->eku & XKU_SSL_SERVER)
        out |= LC_EKU_SERVER_AUTH;
    if (c->eku & XKU_SSL_CLIENT)
        out |= LC_EKU_CLIENT_AUTH;
    return out;
}

bool lc_cert_equal(const struct lc_cert *a, const struct lc_cert *b)
{
    return a->der_len == b->der_len && memcmp(a->der, b->der, a->der_len) == 0;
}

bool lc_cert_matches_key(const struct lc_cert *c, const struct lc_privkey *k)
{
    return lc_pubkey_equal(&c->pub, &k->pub);
}

static void fmt_time(time_t t, char *buf, size_t len)
{
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(buf, len, "%lld", (long long)t);
}

int lc_cert_check_validity(const struct lc_cert *c, time_t now, struct lc_errbuf *err)
{
    char when[40];
    if (now > c->not_after) {
        fmt_time(c->not_after, when, sizeof when);
        return lc_fail(err, LC_EEXPIRED, "certificate %s expired at %s", c->cn, when);
    }
    if (now < c->not_before) {
        fmt_time(c->not_before, when, sizeof when);
        return lc_fail(err, LC_EEXPIRED, "certificate %s not yet valid until %s", c->cn, when);
    }
    return 0;
}

/* ---------- signed-object re-encoding (certificates and CRLs share the outer shape) ---------- */

struct span {
    const uint8_t *p;
    size_t len;
};

/* Splits SEQUENCE{tbs, algorithm, BIT STRING signature} into the raw elements. Requires
 * definite lengths and nothing after the SEQUENCE. */
static int split_signed(const uint8_t *der, size_t len, struct span el[3])
{
    const unsigned char *p = der, *end;
    long l;
    int tag, cls;
    if (ASN1_get_object(&p, &l, &tag, &cls, (long)len) != V_ASN1_CONSTRUCTED ||
        tag != V_ASN1_SEQUENCE || cls != V_ASN1_UNIVERSAL)
        goto fail;
    end = p + l;
    if (end != der + len)
        goto fail;
    for (int i = 0; i < 3; i++) {
        const unsigned char *start = p;
        int rc = ASN1_get_object(&p, &l, &tag, &cls, end - p);
        if (rc & 0x80 || rc == (V_ASN1_CONSTRUCTED | 1))
            goto fail;
        p += l;
        el[i].p = start;
        el[i].len = (size_t)(p - start);
        if (i == 2 && (tag != V_ASN1_BIT_STRING || rc != 0))
            goto fail;
    }
    if (p != end)
        goto fail;
    return 0;
fail:
    ERR_clear_error();
    return LC_EDECODE;
}

/* Encodes a DER header (tag, length) into out; returns its size. */
static size_t der_header(uint8_t *out, int tag, bool constructed, size_t len)
{
    unsigned char *p = out;
    ASN1_put_object(&p, constructed, (int)len, tag, V_ASN1_UNIVERSAL);
    return (size_t)(p - out);
}

/* The order of the curve of an EC key, or NULL; caller frees. */
static BIGNUM *curve_order(EVP_PKEY *pkey)
{
    char curve[64];
    if (!pkey || !EVP_PKEY_is_a(pkey, "EC") ||
        EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof curve,
                                       NULL) != 1) {
        ERR_clear_error();
        return NULL;
    }
    int nid = OBJ_txt2nid(curve);
    EC_GROUP *g = nid != NID_undef ? EC_GROUP_new_by_curve_name(nid) : NULL;
    BIGNUM *n = g ? BN_dup(EC_GROUP_get0_order(g)) : NULL;
    EC_GROUP_free(g);
    ERR_clear_error();
    return n;
}

/* Given a signed object whose signature is ECDSA over a curve of the given order, returns in
 * *ret (malloc'd) the same object with a low-S signature, or sets *ret = NULL when it already
 * is low-S. Rejects a signature that is not DER SEQUENCE{r, s} with r, s > 0. */
static int signed_to_low_s(const uint8_t *der, size_t len, const BIGNUM *order, uint8_t **ret,
                           size_t *ret_len)
{
    struct span el[3];
    *ret = NULL;
    if (split_signed(der, len, el) < 0)
        return LC_EDECODE;
    const unsigned char *p = el[2].p;
    ASN1_BIT_STRING *bits = d2i_ASN1_BIT_STRING(NULL, &p, (long)el[2].len);
    int r = LC_EDECODE;
    uint8_t sig[SIG_BITS_MAX];
    size_t siglen = 0;
    if (!bits)
        goto out;
    siglen = (size_t)ASN1_STRING_length(bits);
    if (siglen == 0 || siglen > sizeof sig)
        goto out;
    memcpy(sig, ASN1_STRING_get0_data(bits), siglen);
    const unsigned char *sp = sig;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &sp, (long)siglen);
    if (!es)
        goto out;
    const BIGNUM *er, *esv;
    ECDSA_SIG_get0(es, &er, &esv);
    bool positive =
        !BN_is_zero(er) && !BN_is_negative(er) && !BN_is_zero(esv) && !BN_is_negative(esv);
    ECDSA_SIG_free(es);
    if (!positive)
        goto out;
    /* Fabric re-marshals (r, low s) and replaces the signature when the bytes differ. */
    size_t newlen = siglen;
    bool changed;
    uint8_t orig[SIG_BITS_MAX];
    memcpy(orig, sig, siglen);
    r = sig_to_low_s(sig, &newlen, sizeof sig, order, &changed);
    if (r < 0)
        goto out;
    if (!changed) {
        /* re-encode anyway to drop trailing bytes or non-minimal forms, as Go's re-marshal does */
        const unsigned char *q = orig;
        ECDSA_SIG *e2 = d2i_ECDSA_SIG(NULL, &q, (long)siglen);
        const BIGNUM *r2, *s2;
        ECDSA_SIG_get0(e2, &r2, &s2);
        newlen = sig_encode(r2, s2, sig, sizeof sig);
        ECDSA_SIG_free(e2);
        if (!newlen) {
            r = LC_ECRYPTO;
            goto out;
        }
        if (newlen == siglen && memcmp(sig, orig, siglen) == 0) {
            r = 0;
            goto out;
        }
    }
    /* BIT STRING: header, 0 unused bits, signature */
    uint8_t bhdr[8], shdr[8];
    size_t bh = der_header(bhdr, V_ASN1_BIT_STRING, false, newlen + 1);
    size_t content = el[0].len + el[1].len + bh + 1 + newlen;
    size_t sh = der_header(shdr, V_ASN1_SEQUENCE, true, content);
    uint8_t *out = malloc(sh + content);
    if (!out) {
        r = LC_ECRYPTO;
        goto out;
    }
    uint8_t *o = out;
    memcpy(o, shdr, sh), o += sh;
    memcpy(o, el[0].p, el[0].len), o += el[0].len;
    memcpy(o, el[1].p, el[1].len), o += el[1].len;
    memcpy(o, bhdr, bh), o += bh;
    *o++ = 0;
    memcpy(o, sig, newlen);
    *ret = out;
    *ret_len = sh + content;
    r = 0;
out:
    ASN1_BIT_STRING_free(bits);
    ERR_clear_error();
    return r;
}

static bool cert_is_ecdsa_signed(const struct lc_cert *c)
{
    int pknid = NID_undef;
    return OBJ_find_sigid_algs(X509_get_signature_nid(c->x), NULL, &pknid) == 1 &&
           pknid == NID_X9_62_id_ecPublicKey;
}

int lc_cert_sanitize(struct lc_cert *c, const struct lc_cert *issuer, struct lc_errbuf *err,
                     struct lc_cert **ret)
{
    if (!cert_is_ecdsa_signed(c)) {
        *ret = lc_cert_ref(c);
        return 0;
    }
    BIGNUM *order = curve_order(issuer->pub.pkey);
    if (!order)
        return lc_fail(err, LC_EBADKEY, "sanitize %s: issuer key is not an EC key", c->cn);
    uint8_t *der = NULL;
    size_t len = 0;
    int r = signed_to_low_s(c->der, c->der_len, order, &der, &len);
    BN_free(order);
    if (r < 0)
        return lc_fail(err, r, "sanitize %s: signature is not DER SEQUENCE{r, s} with r, s > 0",
                       c->cn);
    if (!der) {
        *ret = lc_cert_ref(c);
        return 0;
    }
    r = lc_cert_from_der(der, len, err, ret);
    free(der);
    return r;
}

bool lc_cert_sig_is_high_s(const struct lc_cert *c, const struct lc_cert *issuer)
{
    if (!cert_is_ecdsa_signed(c))
        return false;
    BIGNUM *order = curve_order(issuer->pub.pkey);
    if (!order)
        return false;
    bool high = false;
    const ASN1_BIT_STRING *bits = NULL;
    X509_get0_signature(&bits, NULL, c->x);
    uint8_t sig[SIG_BITS_MAX];
    size_t siglen = bits ? (size_t)ASN1_STRING_length(bits) : 0;
    if (siglen && siglen <= sizeof sig) {
        memcpy(sig, ASN1_STRING_get0_data(bits), siglen);
        size_t nl = siglen;
        if (sig_to_low_s(sig, &nl, sizeof sig, order, &high) < 0)
            high = false;
    }
    BN_free(order);
    return high;
}

/* ---------- CRLs ---------- */

struct lc_crl {
    X509_CRL *crl;
    uint8_t *der;
    size_t der_len;
    uint8_t *aki;
    size_t aki_len;
};

void lc_crl_free(struct lc_crl *crl)
{
    if (!crl)
        return;
    X509_CRL_free(crl->crl);
    free(crl->der);
    free(crl->aki);
    free(crl);
}

int lc_crl_from_der(const void *der, size_t n, struct lc_errbuf *err, struct lc_crl **ret)
{
    if (n > LC_DER_MAX)
        return lc_fail(err, LC_ETOOBIG, "CRL: %zu bytes, limit %d", n, LC_DER_MAX);
    int r = lc_crypto_init();
    if (r < 0)
        return lc_fail(err, r, "crypto init failed");
    struct lc_crl *c = calloc(1, sizeof *c);
    if (!c)
        return lc_fail(err, LC_ECRYPTO, "out of memory");
    const unsigned char *p = der;
    c->crl = n ? d2i_X509_CRL(NULL, &p, (long)n) : NULL;
    if (!c->crl) {
        r = ossl_fail(err, LC_EDECODE, "CRL: bad DER");
        goto fail;
    }
    if (p != (const unsigned char *)der + n) {
        r = lc_fail(err, LC_EDECODE, "CRL: bytes after the DER");
        goto fail;
    }
    c->der_len = n;
    if (!(c->der = memdup(der, n))) {
        r = lc_fail(err, LC_ECRYPTO, "out of memory");
        goto fail;
    }
    AUTHORITY_KEYID *akid = X509_CRL_get_ext_d2i(c->crl, NID_authority_key_identifier, NULL, NULL);
    if (akid && akid->keyid) {
        c->aki_len = (size_t)ASN1_STRING_length(akid->keyid);
        c->aki = memdup(ASN1_STRING_get0_data(akid->keyid), c->aki_len);
    }
    AUTHORITY_KEYID_free(akid);
    /* a first lookup sorts the revoked list, so later lookups from many threads never write */
    ASN1_INTEGER *zero = ASN1_INTEGER_new();
    X509_REVOKED *rev;
    if (zero)
        X509_CRL_get0_by_serial(c->crl, &rev, zero);
    ASN1_INTEGER_free(zero);
    ERR_clear_error();
    *ret = c;
    return 0;
fail:
    lc_crl_free(c);
    ERR_clear_error();
    return r;
}

int lc_crl_from_pem(const void *pem, size_t n, struct lc_errbuf *err, struct lc_crl **ret)
{
    unsigned char *data = NULL;
    long len = 0;
    int r = pem_first_block(pem, n, "CRL", PEM_STRING_X509_CRL, err, &data, &len);
    if (r < 0)
        return r;
    r = lc_crl_from_der(data, (size_t)len, err, ret);
    OPENSSL_free(data);
    return r;
}

const uint8_t *lc_crl_der(const struct lc_crl *crl, size_t *ret_len)
{
    *ret_len = crl->der_len;
    return crl->der;
}

int lc_crl_to_pem(const struct lc_crl *crl, char **ret_pem, size_t *ret_len)
{
    int r = LC_ECRYPTO;
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio && PEM_write_bio_X509_CRL(bio, crl->crl) == 1)
        r = bio_to_string(bio, ret_pem, ret_len);
    BIO_free(bio);
    ERR_clear_error();
    return r;
}

/* ---------- chains ---------- */

struct lc_cert_chain {
    size_t n;
    struct lc_cert *v[];
};

size_t lc_cert_chain_len(const struct lc_cert_chain *ch)
{
    return ch->n;
}

struct lc_cert *lc_cert_chain_at(const struct lc_cert_chain *ch, size_t i)
{
    return i < ch->n ? ch->v[i] : NULL;
}

void lc_cert_chain_free(struct lc_cert_chain *ch)
{
    if (!ch)
        return;
    for (size_t i = 0; i < ch->n; i++)
        lc_cert_unref(ch->v[i]);
    free(ch);
}

struct store_crl {
    X509_CRL *crl;
    uint8_t *aki;
    size_t aki_len;
};

struct lc_cert_store {
    X509_STORE *xs;
    STACK_OF(X509) * inter;
    struct lc_cert **certs; /* roots then intermediates, one reference each */
    size_t ncerts;
    struct store_crl *crls;
    size_t ncrls;
};

void lc_cert_store_free(struct lc_cert_store *st)
{
    if (!st)
        return;
    X509_STORE_free(st->xs);
    sk_X509_pop_free(st->inter, X509_free);
    for (size_t i = 0; i < st->ncerts; i++)
        lc_cert_unref(st->certs[i]);
    free(st->certs);
    for (size_t i = 0; i < st->ncrls; i++) {
        X509_CRL_free(st->crls[i].crl);
        free(st->crls[i].aki);
    }
    free(st->crls);
    free(st);
}

int lc_cert_store_new(struct lc_cert *const *roots, size_t nroots, struct lc_cert *const *inter,
                      size_t ninter, const struct lc_crl *const *crls, size_t ncrls,
                      struct lc_errbuf *err, struct lc_cert_store **ret)
{
    if (nroots == 0)
        return lc_fail(err, LC_EINVALID, "certificate store: no root certificates");
    int r = lc_crypto_init();
    if (r < 0)
        return lc_fail(err, r, "crypto init failed");
    struct lc_cert_store *st = calloc(1, sizeof *st);
    if (!st)
        return lc_fail(err, LC_ECRYPTO, "out of memory");
    r = LC_ECRYPTO;
    st->xs = X509_STORE_new();
    st->inter = sk_X509_new_null();
    st->certs = calloc(nroots + ninter, sizeof *st->certs);
    st->crls = calloc(ncrls ? ncrls : 1, sizeof *st->crls);
    if (!st->xs || !st->inter || !st->certs || !st->crls)
        goto fail;
    /* Go's x509 treats every root as a trust anchor, self-signed or not. */
    X509_STORE_set_flags(st->xs, X509_V_FLAG_PARTIAL_CHAIN);
    for (size_t i = 0; i < nroots; i++) {
        if (X509_STORE_add_cert(st->xs, roots[i]->x) != 1) {
            unsigned long e = ERR_peek_last_error();
            if (ERR_GET_REASON(e) != X509_R_CERT_ALREADY_IN_HASH_TABLE)
                goto fail;
            ERR_clear_error();
        }
        st->certs[st->ncerts++] = lc_cert_ref(roots[i]);
    }
    for (size_t i = 0; i < ninter; i++) {
        if (!sk_X509_push(st->inter, inter[i]->x))
            goto fail;
        X509_up_ref(inter[i]->x);
        st->certs[st->ncerts++] = lc_cert_ref(inter[i]);
    }
    for (size_t i = 0; i < ncrls; i++) {
        if (!crls[i]->aki) {
            r = lc_fail(err, LC_EINVALID, "CRL %zu: no authority key identifier", i);
            goto fail_msg;
        }
        st->crls[i].aki = memdup(crls[i]->aki, crls[i]->aki_len);
        if (!st->crls[i].aki)
            goto fail;
        st->crls[i].aki_len = crls[i]->aki_len;
        X509_CRL_up_ref(crls[i]->crl);
        st->crls[i].crl = crls[i]->crl;
        st->ncrls++;
    }
    *ret = st;
    return 0;
fail:
    r = ossl_fail(err, LC_ECRYPTO, "certificate store");
fail_msg:
    lc_cert_store_free(st);
    ERR_clear_error();
    return r;
}

/* Finds the lc_cert for an X509 of the verified chain: by pointer among the store's and the
 * leaf, else by content (a new cert). */
static struct lc_cert *chain_cert(const struct lc_cert_store *st, struct lc_cert *leaf, X509 *x)
{
    if (x == leaf->x)
        return lc_cert_ref(leaf);
    for (size_t i = 0; i < st->ncerts; i++)
        if (st->certs[i]->x == x)
            return lc_cert_ref(st->certs[i]);
    for (size_t i = 0; i < st->ncerts; i++)
        if (X509_cmp(st->certs[i]->x, x) == 0)
            return lc_cert_ref(st->certs[i]);
    unsigned char *der = NULL;
    int len = i2d_X509(x, &der);
    struct lc_cert *c = NULL;
    if (len > 0 && lc_cert_from_der(der, (size_t)len, NULL, &c) < 0)
        c = NULL;
    OPENSSL_free(der);
    return c;
}

/* Fabric's revocation rule for cert c issued by iss: a CRL whose AKI is iss's SKI, listing c's
 * serial, and signed by iss. */
static int check_revoked(const struct lc_cert_store *st, const struct lc_cert *c,
                         const struct lc_cert *iss, struct lc_errbuf *err)
{
    if (!iss->ski)
        return 0;
    for (size_t i = 0; i < st->ncrls; i++) {
        const struct store_crl *sc = &st->crls[i];
        if (sc->aki_len != iss->ski_len || memcmp(sc->aki, iss->ski, sc->aki_len) != 0)
            continue;
        X509_REVOKED *rev = NULL;
        if (X509_CRL_get0_by_serial(sc->crl, &rev, X509_get0_serialNumber(c->x)) != 1)
            continue;
        if (!iss->pub.pkey || X509_CRL_verify(sc->crl, iss->pub.pkey) != 1) {
            ERR_clear_error();
            lc_log_debug("crypto", "crl skipped reason=\"bad signature\" issuer=\"%s\"", iss->cn);
            continue;
        }
        return lc_fail(err, LC_EREVOKED, "certificate %s (serial %s) revoked by CRL of %s", c->cn,
                       c->serial, iss->cn);
    }
    ERR_clear_error();
    return 0;
}

int lc_cert_store_verify(const struct lc_cert_store *st, struct lc_cert *leaf, time_t at,
                         struct lc_errbuf *err, struct lc_cert_chain **ret_chain)
{
    int r;
    struct lc_cert_chain *ch = NULL;
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    if (!ctx || X509_STORE_CTX_init(ctx, st->xs, leaf->x, st->inter) != 1) {
        r = ossl_fail(err, LC_ECRYPTO, "verify chain");
        goto out;
    }
    X509_STORE_CTX_set_time(ctx, 0, at);
    if (X509_verify_cert(ctx) != 1) {
        int e = X509_STORE_CTX_get_error(ctx);
        int depth = X509_STORE_CTX_get_error_depth(ctx);
        r = lc_fail(err, LC_EBADCERT, "certificate %s: %s (depth %d)", leaf->cn,
                    X509_verify_cert_error_string(e), depth);
        goto out;
    }
    STACK_OF(X509) *xc = X509_STORE_CTX_get0_chain(ctx);
    size_t n = (size_t)sk_X509_num(xc);
    ch = calloc(1, sizeof *ch + n * sizeof ch->v[0]);
    if (!ch) {
        r = lc_fail(err, LC_ECRYPTO, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (!(ch->v[i] = chain_cert(st, leaf, sk_X509_value(xc, (int)i)))) {
            r = lc_fail(err, LC_ECRYPTO, "chain: out of memory");
            goto out;
        }
        ch->n++;
    }
    for (size_t i = 0; i + 1 < n; i++) {
        r = check_revoked(st, ch->v[i], ch->v[i + 1], err);
        if (r < 0)
            goto out;
    }
    if (ret_chain) {
        *ret_chain = ch;
        ch = NULL;
    }
    r = 0;
out:
    lc_cert_chain_free(ch);
    X509_STORE_CTX_free(ctx);
    ERR_clear_error();
    return r;
}

int lc_cert_verify_chain(struct lc_cert *leaf, struct lc_cert *const *roots, size_t nroots,
                         struct lc_cert *const *inter, size_t ninter,
                         const struct lc_crl *const *crls, size_t ncrls, time_t at,
                         struct lc_errbuf *err, struct lc_cert_chain **ret_chain)
{
    struct lc_cert_store *st;
    int r = lc_cert_store_new(roots, nroots, inter, ninter, crls, ncrls, err, &st);
    if (r < 0)
        return r;
    r = lc_cert_store_verify(st, leaf, at, err, ret_chain);
    lc_cert_store_free(st);
    return r;
}

/* ---------- issuing ---------- */

static int add_name(X509_NAME *nm, int nid, const char *v)
{
    if (!v || !*v)
        return 0;
    return X509_NAME_add_entry_by_NID(nm, nid, MBSTRING_UTF8, (const unsigned char *)v, -1, -1,
                                      0) == 1
               ? 0
               : -1;
}

static int add_ext_conf(X509 *x, X509V3_CTX *v3, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, v3, nid, value);
    int ok = ext && X509_add_ext(x, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok ? 0 : -1;
}

static int set_time(ASN1_TIME *t, time_t v)
{
    return ASN1_TIME_set(t, v) ? 0 : -1;
}

/* Serializes a freshly signed object with its signature turned low-S. */
static int finish_low_s(unsigned char *der, int len, uint8_t **ret, size_t *ret_len)
{
    uint8_t *low = NULL;
    size_t low_len = 0;
    int r = signed_to_low_s(der, (size_t)len, p256_order, &low, &low_len);
    if (r < 0)
        return r;
    if (!low) {
        low = memdup(der, (size_t)len);
        low_len = (size_t)len;
        if (!low)
            return LC_ECRYPTO;
    }
    *ret = low;
    *ret_len = low_len;
    return 0;
}

int lc_cert_issue(const struct lc_cert_template *t, const struct lc_pubkey *subject_key,
                  const struct lc_cert *issuer, const struct lc_privkey *issuer_key,
                  struct lc_errbuf *err, struct lc_cert **ret)
{
    int r = lc_crypto_init();
    if (r < 0)
        return lc_fail(err, r, "crypto init failed");
    if (!subject_key->p256 || !subject_key->pkey)
        return lc_fail(err, LC_EBADKEY, "issue: subject key is not EC P-256");
    if (!issuer && !lc_pubkey_equal(subject_key, &issuer_key->pub))
        return lc_fail(err, LC_EINVALID, "issue: self-signed but subject key is not issuer's");
    if (issuer && !lc_pubkey_equal(&issuer->pub, &issuer_key->pub))
        return lc_fail(err, LC_EINVALID, "issue: issuer key does not match issuer certificate");
    if (t->not_after < t->not_before)
        return lc_fail(err, LC_EINVALID, "issue: not_after before not_before");

    X509 *x = X509_new();
    X509_NAME *nm = X509_NAME_new();
    EVP_PKEY *signer = NULL;
    BIGNUM *serial = NULL;
    ASN1_OCTET_STRING *ski = NULL;
    AUTHORITY_KEYID *akid = NULL;
    GENERAL_NAMES *sans = NULL;
    unsigned char *der = NULL;
    uint8_t *low = NULL;
    size_t low_len = 0;
    r = LC_ECRYPTO;
    if (!x || !nm)
        goto ossl;

    uint8_t rnd[16];
    randombytes_buf(rnd, sizeof rnd);
    rnd[0] &= 0x7f; /* positive */
    rnd[0] |= 0x01; /* and never zero */
    serial = BN_bin2bn(rnd, sizeof rnd, NULL);
    if (!serial || X509_set_version(x, 2) != 1 ||
        !BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)))
        goto ossl;

    if (add_name(nm, NID_countryName, t->country) < 0 ||
        add_name(nm, NID_stateOrProvinceName, t->province) < 0 ||
        add_name(nm, NID_localityName, t->locality) < 0 ||
        add_name(nm, NID_organizationName, t->organization) < 0) {
        r = ossl_fail(err, LC_EINVALID, "issue: subject C/ST/L/O");
        goto out;
    }
    for (size_t i = 0; i < t->n_ous; i++)
        if (add_name(nm, NID_organizationalUnitName, t->ous[i]) < 0) {
            r = ossl_fail(err, LC_EINVALID, "issue: subject OU");
            goto out;
        }
    if (add_name(nm, NID_commonName, t->common_name) < 0) {
        r = ossl_fail(err, LC_EINVALID, "issue: subject CN");
        goto out;
    }
    if (X509_set_subject_name(x, nm) != 1 ||
        X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer->x) : nm) != 1 ||
        set_time(X509_getm_notBefore(x), t->not_before) < 0 ||
        set_time(X509_getm_notAfter(x), t->not_after) < 0 ||
        X509_set_pubkey(x, subject_key->pkey) != 1)
        goto ossl;

    X509V3_CTX v3;
    X509V3_set_ctx(&v3, issuer ? issuer->x : x, x, NULL, NULL, 0);
    const char *bc, *ku, *eku = NULL;
    switch (t->kind) {
    case LC_CERT_CA:
        bc = "critical,CA:TRUE";
        ku = "critical,digitalSignature,keyEncipherment,keyCertSign,cRLSign";
        eku = "clientAuth,serverAuth";
        break;
    case LC_CERT_TLS:
        bc = "critical,CA:FALSE";
        ku = "critical,digitalSignature,keyEncipherment";
        eku = "serverAuth,clientAuth";
        break;
    case LC_CERT_SIGN:
    default:
        bc = "critical,CA:FALSE";
        ku = "critical,digitalSignature";
        break;
    }
    if (add_ext_conf(x, &v3, NID_key_usage, ku) < 0 ||
        (eku && add_ext_conf(x, &v3, NID_ext_key_usage, eku) < 0) ||
        add_ext_conf(x, &v3, NID_basic_constraints, bc) < 0)
        goto ossl;

    uint8_t skid[LC_SHA256_LEN];
    lc_pubkey_ski(subject_key, skid);
    ski = ASN1_OCTET_STRING_new();
    if (!ski || ASN1_OCTET_STRING_set(ski, skid, sizeof skid) != 1 ||
        X509_add1_ext_i2d(x, NID_subject_key_identifier, ski, 0, X509V3_ADD_DEFAULT) != 1)
        goto ossl;
    const uint8_t *aki_bytes = skid;
    size_t aki_len = sizeof skid;
    if (issuer) {
        aki_bytes = issuer->ski;
        aki_len = issuer->ski_len;
    }
    if (aki_bytes) {
        akid = AUTHORITY_KEYID_new();
        if (!akid || !(akid->keyid = ASN1_OCTET_STRING_new()) ||
            ASN1_OCTET_STRING_set(akid->keyid, aki_bytes, (int)aki_len) != 1 ||
            X509_add1_ext_i2d(x, NID_authority_key_identifier, akid, 0, X509V3_ADD_DEFAULT) != 1)
            goto ossl;
    }

    if (t->n_dns || t->n_ips) {
        sans = GENERAL_NAMES_new();
        if (!sans)
            goto ossl;
        for (size_t i = 0; i < t->n_dns; i++) {
            GENERAL_NAME *g = GENERAL_NAME_new();
            ASN1_IA5STRING *s = ASN1_IA5STRING_new();
            if (!g || !s || ASN1_STRING_set(s, t->dns_names[i], -1) != 1) {
                GENERAL_NAME_free(g);
                ASN1_IA5STRING_free(s);
                goto ossl;
            }
            GENERAL_NAME_set0_value(g, GEN_DNS, s);
            if (!sk_GENERAL_NAME_push(sans, g)) {
                GENERAL_NAME_free(g);
                goto ossl;
            }
        }
        for (size_t i = 0; i < t->n_ips; i++) {
            ASN1_OCTET_STRING *ip = a2i_IPADDRESS(t->ips[i]);
            if (!ip) {
                r = lc_fail(err, LC_EINVALID, "issue: bad IP address \"%s\"", t->ips[i]);
                ERR_clear_error();
                goto out;
            }
            GENERAL_NAME *g = GENERAL_NAME_new();
            if (!g) {
                ASN1_OCTET_STRING_free(ip);
                goto ossl;
            }
            GENERAL_NAME_set0_value(g, GEN_IPADD, ip);
            if (!sk_GENERAL_NAME_push(sans, g)) {
                GENERAL_NAME_free(g);
                goto ossl;
            }
        }
        if (X509_add1_ext_i2d(x, NID_subject_alt_name, sans, 0, X509V3_ADD_DEFAULT) != 1)
            goto ossl;
    }

    signer = materialise(issuer_key, false);
    if (!signer || X509_sign(x, signer, EVP_sha256()) <= 0)
        goto ossl;
    int len = i2d_X509(x, &der);
    if (len <= 0)
        goto ossl;
    r = finish_low_s(der, len, &low, &low_len);
    if (r < 0) {
        r = lc_fail(err, r, "issue: re-encoding signature");
        goto out;
    }
    r = lc_cert_from_der(low, low_len, err, ret);
    goto out;
ossl:
    r = ossl_fail(err, LC_ECRYPTO, "issue certificate");
out:
    free(low);
    OPENSSL_free(der);
    GENERAL_NAMES_free(sans);
    AUTHORITY_KEYID_free(akid);
    ASN1_OCTET_STRING_free(ski);
    BN_free(serial);
    EVP_PKEY_free(signer);
    X509_NAME_free(nm);
    X509_free(x);
    ERR_clear_error();
    return r;
}

int lc_crl_issue(const struct lc_cert *issuer, const struct lc_privkey *issuer_key,
                 struct lc_cert *const *revoked, size_t n, time_t this_update, time_t next_update,
                 struct lc_errbuf *err, struct lc_crl **ret)
{
    int r = lc_crypto_init();
    if (r < 0)
        return lc_fail(err, r, "crypto init failed");
    if (!issuer->ski)
        return lc_fail(err, LC_EINVALID, "CRL: issuer %s has no subject key identifier",
                       issuer->cn);
    if (!lc_pubkey_equal(&issuer->pub, &issuer_key->pub))
        return lc_fail(err, LC_EINVALID, "CRL: issuer key does not match issuer certificate");
    X509_CRL *crl = X509_CRL_new();
    ASN1_TIME *tu = ASN1_TIME_new(), *nu = ASN1_TIME_new();
    AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();
    ASN1_INTEGER *num = ASN1_INTEGER_new();
    EVP_PKEY *signer = NULL;
    unsigned char *der = NULL;
    uint8_t *low = NULL;
    size_t low_len = 0;
    r = LC_ECRYPTO;
    if (!crl || !tu || !nu || !akid || !num || !ASN1_TIME_set(tu, this_update) ||
        !ASN1_TIME_set(nu, next_update) || X509_CRL_set_version(crl, 1) != 1 ||
        X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer->x)) != 1 ||
        X509_CRL_set1_lastUpdate(crl, tu) != 1 || X509_CRL_set1_nextUpdate(crl, nu) != 1)
        goto ossl;
    for (size_t i = 0; i < n; i++) {
        X509_REVOKED *rv = X509_REVOKED_new();
        if (!rv || X509_REVOKED_set_serialNumber(rv, X509_get_serialNumber(revoked[i]->x)) != 1 ||
            X509_REVOKED_set_revocationDate(rv, tu) != 1 || X509_CRL_add0_revoked(crl, rv) != 1) {
            X509_REVOKED_free(rv);
            goto ossl;
        }
    }
    if (!(akid->keyid = ASN1_OCTET_STRING_new()) ||
        ASN1_OCTET_STRING_set(akid->keyid, issuer->ski, (int)issuer->ski_len) != 1 ||
        X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, akid, 0, 0) != 1 ||
        ASN1_INTEGER_set(num, 1) != 1 || X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) != 1)
        goto ossl;
    X509_CRL_sort(crl);
    signer = materialise(issuer_key, false);
    if (!signer || X509_CRL_sign(crl, signer, EVP_sha256()) <= 0)
        goto ossl;
    int len = i2d_X509_CRL(crl, &der);
    if (len <= 0)
        goto ossl;
    r = finish_low_s(der, len, &low, &low_len);
    if (r < 0) {
        r = lc_fail(err, r, "CRL: re-encoding signature");
        goto out;
    }
    r = lc_crl_from_der(low, low_len, err, ret);
    goto out;
ossl:
    r = ossl_fail(err, LC_ECRYPTO, "issue CRL");
out:
    free(low);
    OPENSSL_free(der);
    EVP_PKEY_free(signer);
    ASN1_INTEGER_free(num);
    AUTHORITY_KEYID_free(akid);
    ASN1_TIME_free(tu);
    ASN1_TIME_free(nu);
    X509_CRL_free(crl);
    ERR_clear_error();
    return r;
}
