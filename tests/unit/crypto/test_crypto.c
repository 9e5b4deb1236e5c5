/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for libcommon/crypto: hashing, keys, ECDSA low-S rules, certificates, chains, CRLs,
 * issuing, openssl CLI interop. */
#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The tests craft malformed signatures and certificates with OpenSSL directly; weft's own code
 * reaches OpenSSL only through libcommon/crypto. */
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "libcommon/crypto.h"

/* ---------- fixtures ---------- */

/* One P-256 key, as `openssl ecparam -genkey` writes it (with EC PARAMETERS first) and as
 * `openssl pkcs8 -topk8 -nocrypt` converts it. */
static const char sec1_pem[] = "-----BEGIN EC PARAMETERS-----\n"
                               "BggqhkjOPQMBBw==\n"
                               "-----END EC PARAMETERS-----\n"
                               "-----BEGIN EC PRIVATE KEY-----\n"
                               "MHcCAQEEIFbTg1WncWWdfwrI6entSLAX83vQhSrReepMvArse3G7oAoGCCqGSM49\n"
                               "AwEHoUQDQgAEH/GFZOFxL2ILYCb0IQDsg27jY94Cpl40ZBC+0rLYvOmSTmf33oHA\n"
                               "LIuXUxOTC8pjOaR0dplmDoTTAkIKxT3k6A==\n"
                               "-----END EC PRIVATE KEY-----\n";
static const char pkcs8_pem[] = "-----BEGIN PRIVATE KEY-----\n"
                                "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgVtODVadxZZ1/Csjp\n"
                                "6e1IsBfze9CFKtF56ky8Cux7cbuhRANCAAQf8YVk4XEvYgtgJvQhAOyDbuNj3gKm\n"
                                "XjRkEL7Ssti86ZJOZ/fegcAsi5dTE5MLymM5pHR2mWYOhNMCQgrFPeTo\n"
                                "-----END PRIVATE KEY-----\n";
static const char p384_pem[] = "-----BEGIN PRIVATE KEY-----\n"
                               "MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDBpVJQlvP9S84pbwRGc\n"
                               "G08iEo5BOA/aqg9vqz2fnW960MNVNlNcV3rGe3+TOS+sBX+hZANiAATSCSqjXIAg\n"
                               "pE7+VRLujjjcPooEvD2J5NpymgevBkiWJhHQESnVXTURqoIFWoBhRgp0/w0rkDEn\n"
                               "gwgHvhrnR+reV8JnsRDIJjMam+EfHsHqeY4C/CIjphstx7liyorIob4=\n"
                               "-----END PRIVATE KEY-----\n";
static const char rsa_body[] = "MIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEA06QPjXU4uOIxcSFw\n"
                               "1oLXSyqcKbuXIqwJ2S3WzScPorQK32cPTBUhIdjYGq6ohkzxoqOKAbJzoYSjWUKP\n"
                               "jdJ7hQIDAQABAkBy1CL0F1PNTDyTKxez642wZNAR/IwF7d3yDeLrsHPVTGi5BCpT\n"
                               "C8hCrjJ1//ncujL5HCT8LStsCOQtRu7KL0XBAiEA/o5UvY9siDmSAoAXtI6LqxDd\n"
                               "YdzBc1OXVGxjGYi8mzkCIQDU12huG9Ikt+g5hGXLt63Pc46PwdxXbJSJcQ/td0xG\n"
                               "rQIhAJX2oeOe6BCE4gjJD64WQCACanmpxOm9OCzLQcKcNIi5AiA0kQbvuttJykoG\n"
                               "epaRm8nHpKifBKggx2ZgE5Z1dbNW+QIhAIZmdVkSQ4o+iw5QQIkcNWOZJHULoftD\n"
                               "d4WCs4JQlvW3\n";
static const char ed25519_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIIZC8yFdkmGtBRm9bCNKNRwBs0Li4PoFDZiY/zcLewk3\n"
    "-----END PRIVATE KEY-----\n";
static const char p384_pub_pem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEyrxkbJn0Z/t+3DT50g5OO52xwkQnPaEu\n"
    "SpJO3Sown+C4kMBy3JxGqfmY3ynyXtArzU6XJnys6l2bE9MqwWfsSA/VZ9kV2qfr\n"
    "C1uf0QjVtutWt9oaI5+w0Jj1Lrf7dnOq\n"
    "-----END PUBLIC KEY-----\n";

static const time_t day = 86400;

static struct lc_privkey *gen_key(void)
{
    struct lc_privkey *k = NULL;
    ck_assert_int_eq(lc_privkey_generate(&k), 0);
    return k;
}

/* A CA (self-signed when issuer is NULL) valid over [nb, na]. */
static struct lc_cert *mk_ca(const char *cn, struct lc_cert *issuer, struct lc_privkey *ikey,
                             time_t nb, time_t na, struct lc_privkey **ret_key)
{
    struct lc_privkey *k = gen_key();
    struct lc_cert_template t = {.kind = LC_CERT_CA,
                                 .country = "US",
                                 .province = "California",
                                 .locality = "San Francisco",
                                 .organization = "org1.example.com",
                                 .common_name = cn,
                                 .not_before = nb,
                                 .not_after = na};
    struct lc_cert *c = NULL;
    struct lc_errbuf err = {{0}};
    int r = lc_cert_issue(&t, lc_privkey_public(k), issuer, issuer ? ikey : k, &err, &c);
    ck_assert_msg(r == 0, "issue CA: %s", err.msg);
    *ret_key = k;
    return c;
}

static struct lc_cert *mk_leaf(const char *cn, const char *ou, struct lc_cert *issuer,
                               struct lc_privkey *ikey, time_t nb, time_t na,
                               struct lc_privkey **ret_key)
{
    struct lc_privkey *k = gen_key();
    const char *ous[] = {ou};
    struct lc_cert_template t = {.kind = LC_CERT_SIGN,
                                 .country = "US",
                                 .province = "California",
                                 .locality = "San Francisco",
                                 .ous = ous,
                                 .n_ous = ou ? 1 : 0,
                                 .common_name = cn,
                                 .not_before = nb,
                                 .not_after = na};
    struct lc_cert *c = NULL;
    struct lc_errbuf err = {{0}};
    ck_assert_msg(lc_cert_issue(&t, lc_privkey_public(k), issuer, ikey, &err, &c) == 0,
                  "issue leaf: %s", err.msg);
    if (ret_key)
        *ret_key = k;
    else
        lc_privkey_free(k);
    return c;
}

static const BIGNUM *p256_n(void)
{
    static BIGNUM *n;
    if (!n) {
        EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
        n = BN_dup(EC_GROUP_get0_order(g));
        EC_GROUP_free(g);
    }
    return n;
}

static void sig_split(const uint8_t *sig, size_t len, BIGNUM **r, BIGNUM **s)
{
    const unsigned char *p = sig;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)len);
    ck_assert_ptr_nonnull(es);
    const BIGNUM *er, *esv;
    ECDSA_SIG_get0(es, &er, &esv);
    *r = BN_dup(er);
    *s = BN_dup(esv);
    ECDSA_SIG_free(es);
}

/* An INTEGER for a non-negative b, with `pad` extra leading zero bytes (0 = minimal DER). */
static size_t enc_int(uint8_t *out, const BIGNUM *b, int pad)
{
    uint8_t buf[80];
    int n = BN_bn2bin(b, buf);
    size_t i = 0;
    out[i++] = 0x02;
    size_t len = (size_t)n + (size_t)pad + ((n == 0 || (buf[0] & 0x80)) ? 1 : 0);
    out[i++] = (uint8_t)len;
    for (size_t z = 0; z < len - (size_t)n; z++)
        out[i++] = 0;
    memcpy(out + i, buf, (size_t)n);
    return i + (size_t)n;
}

static size_t enc_sig(uint8_t *out, const BIGNUM *r, const BIGNUM *s, int pad_r, int pad_s)
{
    uint8_t body[160];
    size_t n = enc_int(body, r, pad_r);
    n += enc_int(body + n, s, pad_s);
    out[0] = 0x30;
    out[1] = (uint8_t)n;
    memcpy(out + 2, body, n);
    return n + 2;
}

/* ---------- hashing and randomness ---------- */

START_TEST(sha256_known_vectors)
{
    uint8_t d[LC_SHA256_LEN];
    char hex[2 * LC_SHA256_LEN + 1];
    lc_sha256("", 0, d);
    lc_hex_encode(d, sizeof d, hex);
    ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    lc_sha256("abc", 3, d);
    lc_hex_encode(d, sizeof d, hex);
    ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    lc_sha256(m, strlen(m), d);
    lc_hex_encode(d, sizeof d, hex);
    ck_assert_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    struct lc_iov v[] = {{m, 5}, {NULL, 0}, {m + 5, 20}, {m + 25, strlen(m) - 25}};
    uint8_t d2[LC_SHA256_LEN];
    lc_sha256_iov(v, 4, d2);
    ck_assert_mem_eq(d, d2, sizeof d);
}
END_TEST

START_TEST(hex_encode_is_lowercase_and_terminated)
{
    const uint8_t in[] = {0x00, 0xab, 0xff, 0x10};
    char out[9];
    memset(out, 'x', sizeof out);
    lc_hex_encode(in, sizeof in, out);
    ck_assert_str_eq(out, "00abff10");
    lc_hex_encode(in, 0, out);
    ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(nonces_are_random)
{
    uint8_t a[LC_NONCE_LEN], b[LC_NONCE_LEN], zero[LC_NONCE_LEN] = {0};
    ck_assert_int_eq(lc_crypto_init(), 0);
    ck_assert_int_eq(lc_nonce(a), 0);
    ck_assert_int_eq(lc_nonce(b), 0);
    ck_assert(memcmp(a, b, sizeof a) != 0);
    ck_assert(memcmp(a, zero, sizeof a) != 0);
    ck_assert_int_eq(lc_random_bytes(a, 0), 0);
}
END_TEST

/* ---------- signatures ---------- */

START_TEST(sign_verify_round_trip)
{
    struct lc_privkey *k = gen_key();
    uint8_t sig[LC_ECDSA_SIG_MAX];
    size_t len = 0;
    const char msg[] = "hello fabric";
    ck_assert_int_eq(lc_ecdsa_sign(k, msg, sizeof msg - 1, sig, &len), 0);
    ck_assert(len >= 8 && len <= LC_ECDSA_SIG_MAX);
    struct lc_errbuf err;
    ck_assert_int_eq(lc_ecdsa_verify(lc_privkey_public(k), msg, sizeof msg - 1, sig, len, &err), 0);
    struct lc_iov v[] = {{"hello ", 6}, {"fabric", 6}};
    ck_assert_int_eq(lc_ecdsa_verify_iov(lc_privkey_public(k), v, 2, sig, len, &err), 0);
    ck_assert_int_eq(lc_ecdsa_sign_iov(k, v, 2, sig, &len), 0);
    ck_assert_int_eq(lc_ecdsa_verify(lc_privkey_public(k), msg, sizeof msg - 1, sig, len, &err), 0);
    uint8_t d[LC_SHA256_LEN];
    lc_sha256(msg, sizeof msg - 1, d);
    ck_assert_int_eq(lc_ecdsa_sign_digest(k, d, sig, &len), 0);
    ck_assert_int_eq(lc_ecdsa_verify_digest(lc_privkey_public(k), d, sig, len, &err), 0);
    ck_assert_int_eq(lc_ecdsa_verify(lc_privkey_public(k), msg, sizeof msg - 1, sig, len, NULL), 0);
    lc_privkey_free(k);
}
END_TEST

START_TEST(signatures_are_always_low_s)
{
    struct lc_privkey *k = gen_key();
    BIGNUM *half = BN_dup(p256_n());
    BN_rshift1(half, half);
    int n = 0;
    for (int i = 0; i < 300; i++) {
        uint8_t sig[LC_ECDSA_SIG_MAX];
        size_t len = 0;
        ck_assert_int_eq(lc_ecdsa_sign(k, &i, sizeof i, sig, &len), 0);
        BIGNUM *r, *s;
        sig_split(sig, len, &r, &s);
        ck_assert_int_le(BN_cmp(s, half), 0);
        n++;
        BN_free(r);
        BN_free(s);
    }
    ck_assert_int_eq(n, 300);
    BN_free(half);
    lc_privkey_free(k);
}
END_TEST

START_TEST(high_s_variant_is_rejected)
{
    struct lc_privkey *k = gen_key();
    uint8_t sig[LC_ECDSA_SIG_MAX], bad[LC_ECDSA_SIG_MAX + 4];
    size_t len = 0;
    ck_assert_int_eq(lc_ecdsa_sign(k, "m", 1, sig, &len), 0);
    BIGNUM *r, *s, *hs = BN_new();
    sig_split(sig, len, &r, &s);
    BN_sub(hs, p256_n(), s); /* the other valid signature for the same (r): high S */
    size_t blen = enc_sig(bad, r, hs, 0, 0);
    struct lc_errbuf err;
    ck_assert_int_eq(lc_ecdsa_verify(lc_privkey_public(k), "m", 1, bad, blen, &err), LC_EHIGHS);
    ck_assert_ptr_nonnull(strstr(err.msg, "high S"));
    BN_free(r);
    BN_free(s);
    BN_free(hs);
    lc_privkey_free(k);
}
END_TEST

START_TEST(malformed_signatures_are_rejected)
{
    struct lc_privkey *k = gen_key();
    const struct lc_pubkey *pub = lc_privkey_public(k);
    uint8_t sig[LC_ECDSA_SIG_MAX], bad[LC_ECDSA_SIG_MAX + 8];
    size_t len = 0, blen;
    ck_assert_int_eq(lc_ecdsa_sign(k, "m", 1, sig, &len), 0);
    BIGNUM *r, *s;
    sig_split(sig, len, &r, &s);
    struct lc_errbuf err;

    /* our own re-encoding is accepted: the helpers build what they claim */
    blen = enc_sig(bad, r, s, 0, 0);
    ck_assert_int_eq(lc_ecdsa_verify(pub, "m", 1, bad, blen, &err), 0);

    /* non-minimal INTEGERs */
    blen = enc_sig(bad, r, s, 1, 0);
    ck_assert_int_eq(lc_ecdsa_verify(pub, "m", 1, bad, blen, &err), LC_EDECODE);
    blen = enc_sig(bad, r, s, 0, 1);
    ck_assert_int_eq(lc_ecdsa_verify(pub, "m", 1, bad, blen, &err), LC_EDECODE);

    /* trailing garbage */
    memcpy(bad, sig, len);
    bad[len] = 0;
    ck_assert_int_eq(lc_ecdsa_verify(pub, "m", 1, bad, len + 1, &err), LC_EDECODE);
    ck_assert_ptr_nonnull(strstr(err.msg, "after"));

    /* non-minimal length of the SEQUENCE (long form for a short length) */
    bad[0] = 0x30;
    bad[1] = 0x81;
    bad[2] = (uint8_t)(len - 2);
    memcpy(bad + 3, sig + 2, len - 2);
    ck_assert_int_eq(lc_ecdsa_verify(pub, "m", 1, bad, len + 1, &err), LC_EDECODE);

    /* zero r, zero s, r = n, negative s */
    BIGNUM *zero = BN_new(), *neg = BN_dup(s);
    BN_zero(zero);
    blen = enc_sig(bad, zero, s, 0, 0);
    ck_assert_int_eq(lc_ecdsa_verify(pub, "m", 1, bad, blen, &err), LC_EDECODE);
    ck_assert_ptr_nonnull(strstr(err.msg, "r not in"));
    blen = enc_sig(bad, r, zero, 0, 0);
    ck_assert_int_eq(lc_ecdsa_verify(pub, "m", 1, bad, blen, &err), LC_EDECODE);
    ck_assert_ptr_nonnull(strstr(err.msg, "s not in"));
    blen = enc_sig(bad, p256_n(), s, 0, 0);
    ck_assert_int_eq(lc_ecdsa_verify(pub, "m", 1, bad, blen, &err), LC_EDECODE);
    const uint8_t negative_s[] = {0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x80};
    ck_assert_int_eq(lc_ecdsa_verify(pub, "m", 1, negative_s, sizeof negative_s, &err), LC_EDECODE);

    /* not a SEQUENCE at all, empty, too long */
    ck_assert_int_eq(lc_ecdsa_verify(pub, "m", 1, (const uint8_t *)"\x04\x02\x01\x01", 4, &err),
                     LC_EDECODE);
    ck_assert_int_eq(lc_ecdsa_verify(pub, "m", 1, sig, 0, &err), LC_EDECODE);
    uint8_t big[LC_ECDSA_SIG_MAX + 1] = {0};
    ck_assert_int_eq(lc_ecdsa_verify(pub, "m", 1, big, sizeof big, &err), LC_EDECODE);
    /* truncated */
    ck_assert_int_eq(lc_ecdsa_verify(pub, "m", 1, sig, len - 1, &err), LC_EDECODE);
    BN_free(zero);
    BN_free(neg);
    BN_free(r);
    BN_free(s);
    lc_privkey_free(k);
}
END_TEST

START_TEST(wrong_key_or_message_is_bad_signature)
{
    struct lc_privkey *k = gen_key(), *other = gen_key();
    uint8_t sig[LC_ECDSA_SIG_MAX];
    size_t len = 0;
    ck_assert_int_eq(lc_ecdsa_sign(k, "message", 7, sig, &len), 0);
    struct lc_errbuf err;
    ck_assert_int_eq(lc_ecdsa_verify(lc_privkey_public(other), "message", 7, sig, len, &err),
                     LC_EBADSIG);
    ck_assert_int_eq(lc_ecdsa_verify(lc_privkey_public(k), "messagE", 7, sig, len, &err),
                     LC_EBADSIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "does not verify"));
    lc_privkey_free(k);
    lc_privkey_free(other);
}
END_TEST

struct sign_job {
    struct lc_privkey *k;
    int ok;
};

static void *sign_many(void *arg)
{
    struct sign_job *j = arg;
    for (int i = 0; i < 200; i++) {
        uint8_t sig[LC_ECDSA_SIG_MAX];
        size_t len;
        if (lc_ecdsa_sign(j->k, &i, sizeof i, sig, &len) == 0 &&
            lc_ecdsa_verify(lc_privkey_public(j->k), &i, sizeof i, sig, len, NULL) == 0)
            j->ok++;
    }
    return NULL;
}

START_TEST(one_key_signs_from_many_threads)
{
    /* the guarded scalar is opened and closed by a reader count; two threads overlap often */
    struct lc_privkey *k = gen_key();
    struct sign_job jobs[3] = {{k, 0}, {k, 0}, {k, 0}};
    pthread_t th[3];
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, sign_many, &jobs[i]), 0);
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(jobs[i].ok, 200);
    lc_privkey_free(k);
}
END_TEST

/* ---------- keys ---------- */

START_TEST(pkcs8_and_sec1_pem_load_the_same_key)
{
    struct lc_privkey *a = NULL, *b = NULL, *c = NULL;
    struct lc_errbuf err;
    ck_assert_msg(lc_privkey_from_pem(sec1_pem, strlen(sec1_pem), &err, &a) == 0, "%s", err.msg);
    ck_assert_msg(lc_privkey_from_pem(pkcs8_pem, strlen(pkcs8_pem), &err, &b) == 0, "%s", err.msg);
    ck_assert(lc_pubkey_equal(lc_privkey_public(a), lc_privkey_public(b)));
    /* a signature by one verifies with the other */
    uint8_t sig[LC_ECDSA_SIG_MAX];
    size_t len;
    ck_assert_int_eq(lc_ecdsa_sign(a, "x", 1, sig, &len), 0);
    ck_assert_int_eq(lc_ecdsa_verify(lc_privkey_public(b), "x", 1, sig, len, &err), 0);
    /* our PKCS#8 output loads back to the same key */
    char *pem = NULL;
    size_t plen = 0;
    ck_assert_int_eq(lc_privkey_to_pem(a, &pem, &plen), 0);
    ck_assert_uint_eq(strlen(pem), plen);
    ck_assert_ptr_nonnull(strstr(pem, "-----BEGIN PRIVATE KEY-----"));
    ck_assert_int_eq(lc_privkey_from_pem(pem, plen, &err, &c), 0);
    ck_assert(lc_pubkey_equal(lc_privkey_public(a), lc_privkey_public(c)));
    /* the known public point of the fixture */
    uint8_t pt[LC_P256_POINT_LEN];
    ck_assert_int_eq(lc_pubkey_point(lc_privkey_public(a), pt), 0);
    ck_assert_uint_eq(pt[0], 0x04);
    ck_assert_uint_eq(pt[1], 0x1f);
    ck_assert_uint_eq(pt[2], 0xf1);
    lc_privkey_pem_free(pem);
    lc_privkey_free(a);
    lc_privkey_free(b);
    lc_privkey_free(c);
}
END_TEST

START_TEST(other_curves_and_key_types_are_rejected)
{
    struct lc_privkey *k = NULL;
    struct lc_errbuf err;
    ck_assert_int_eq(lc_privkey_from_pem(p384_pem, strlen(p384_pem), &err, &k), LC_EBADKEY);
    ck_assert_ptr_nonnull(strstr(err.msg, "secp384r1"));
    char rsa[1024];
    snprintf(rsa, sizeof rsa, "-----BEGIN PRIVATE KEY-----\n%s-----END PRIVATE KEY-----\n",
             rsa_body);
    ck_assert_int_eq(lc_privkey_from_pem(rsa, strlen(rsa), &err, &k), LC_EBADKEY);
    ck_assert_ptr_nonnull(strstr(err.msg, "RSA"));
    snprintf(rsa, sizeof rsa, "-----BEGIN RSA PRIVATE KEY-----\n%s-----END RSA PRIVATE KEY-----\n",
             rsa_body);
    ck_assert_int_eq(lc_privkey_from_pem(rsa, strlen(rsa), &err, &k), LC_EBADKEY);
    ck_assert_ptr_nonnull(strstr(err.msg, "RSA PRIVATE KEY"));
    ck_assert_int_eq(lc_privkey_from_pem(ed25519_pem, strlen(ed25519_pem), &err, &k), LC_EBADKEY);
    ck_assert_ptr_nonnull(strstr(err.msg, "ED25519"));
    snprintf(rsa, sizeof rsa,
             "-----BEGIN ENCRYPTED PRIVATE KEY-----\n%s-----END ENCRYPTED PRIVATE KEY-----\n",
             rsa_body);
    ck_assert_int_eq(lc_privkey_from_pem(rsa, strlen(rsa), &err, &k), LC_EBADKEY);
    ck_assert_ptr_nonnull(strstr(err.msg, "encrypted"));
    ck_assert_ptr_null(k);
}
END_TEST

START_TEST(bad_key_pem_is_rejected)
{
    struct lc_privkey *k = NULL;
    struct lc_errbuf err;
    const char junk[] = "this is not PEM at all";
    ck_assert_int_eq(lc_privkey_from_pem(junk, sizeof junk - 1, &err, &k), LC_EDECODE);
    ck_assert_ptr_nonnull(strstr(err.msg, "bad PEM"));
    const char bad_der[] = "-----BEGIN PRIVATE KEY-----\nAAECAwQF\n-----END PRIVATE KEY-----\n";
    ck_assert_int_eq(lc_privkey_from_pem(bad_der, sizeof bad_der - 1, &err, &k), LC_EDECODE);
    ck_assert_ptr_nonnull(strstr(err.msg, "bad key encoding"));
    ck_assert_int_eq(lc_privkey_from_pem(junk, LC_PEM_MAX + 1, &err, &k), LC_ETOOBIG);
    ck_assert_ptr_null(k);
}
END_TEST

START_TEST(mismatched_public_half_is_rejected)
{
    /* a PKCS#8 key whose embedded public point belongs to another key */
    struct lc_privkey *a = gen_key(), *b = gen_key(), *k = NULL;
    char *pa = NULL;
    size_t la;
    ck_assert_int_eq(lc_privkey_to_pem(a, &pa, &la), 0);
    BIO *bio = BIO_new_mem_buf(pa, (int)la);
    EVP_PKEY *ka = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    ck_assert_ptr_nonnull(ka);
    BIGNUM *priv = NULL;
    ck_assert_int_eq(EVP_PKEY_get_bn_param(ka, "priv", &priv), 1);
    uint8_t ptb[LC_P256_POINT_LEN];
    lc_pubkey_point(lc_privkey_public(b), ptb);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM_BLD_push_utf8_string(bld, "group", "prime256v1", 0);
    OSSL_PARAM_BLD_push_BN(bld, "priv", priv);
    OSSL_PARAM_BLD_push_octet_string(bld, "pub", ptb, sizeof ptb);
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *mixed = NULL;
    ck_assert_int_eq(EVP_PKEY_fromdata_init(ctx), 1);
    ck_assert_int_eq(EVP_PKEY_fromdata(ctx, &mixed, EVP_PKEY_KEYPAIR, params), 1);
    bio = BIO_new(BIO_s_mem());
    ck_assert_int_eq(PEM_write_bio_PrivateKey(bio, mixed, NULL, NULL, 0, NULL, NULL), 1);
    char *mem;
    long ml = BIO_get_mem_data(bio, &mem);
    struct lc_errbuf err;
    ck_assert_int_eq(lc_privkey_from_pem(mem, (size_t)ml, &err, &k), LC_EBADKEY);
    ck_assert_ptr_nonnull(strstr(err.msg, "does not match"));
    BIO_free(bio);
    EVP_PKEY_free(mixed);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_clear_free(priv);
    EVP_PKEY_free(ka);
    lc_privkey_pem_free(pa);
    lc_privkey_free(a);
    lc_privkey_free(b);
}
END_TEST

START_TEST(non_p256_public_key_cannot_verify)
{
    struct lc_pubkey *pub = NULL;
    struct lc_errbuf err;
    ck_assert_int_eq(lc_pubkey_from_pem(p384_pub_pem, strlen(p384_pub_pem), &err, &pub), 0);
    ck_assert(!lc_pubkey_is_p256(pub));
    uint8_t sig[8] = {0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01};
    ck_assert_int_eq(lc_ecdsa_verify(pub, "m", 1, sig, sizeof sig, &err), LC_EBADKEY);
    ck_assert_ptr_nonnull(strstr(err.msg, "P-256"));
    uint8_t ski[LC_SHA256_LEN];
    ck_assert_int_eq(lc_pubkey_ski(pub, ski), LC_EBADKEY);
    lc_pubkey_free(pub);
    ck_assert_int_eq(lc_pubkey_from_pem("nope", 4, &err, &pub), LC_EDECODE);
}
END_TEST

START_TEST(public_key_pem_round_trip)
{
    struct lc_privkey *k = gen_key();
    char *pem = NULL;
    size_t len;
    ck_assert_int_eq(lc_pubkey_to_pem(lc_privkey_public(k), &pem, &len), 0);
    struct lc_pubkey *pub = NULL;
    ck_assert_int_eq(lc_pubkey_from_pem(pem, len, NULL, &pub), 0);
    ck_assert(lc_pubkey_is_p256(pub));
    ck_assert(lc_pubkey_equal(pub, lc_privkey_public(k)));
    uint8_t sig[LC_ECDSA_SIG_MAX];
    size_t sl;
    ck_assert_int_eq(lc_ecdsa_sign(k, "a", 1, sig, &sl), 0);
    ck_assert_int_eq(lc_ecdsa_verify(pub, "a", 1, sig, sl, NULL), 0);
    free(pem);
    lc_pubkey_free(pub);
    lc_privkey_free(k);
}
END_TEST

START_TEST(destructors_accept_null)
{
    lc_privkey_free(NULL);
    lc_privkey_pem_free(NULL);
    lc_pubkey_free(NULL);
    lc_cert_unref(NULL);
    ck_assert_ptr_null(lc_cert_ref(NULL));
    lc_crl_free(NULL);
    lc_cert_chain_free(NULL);
    lc_cert_store_free(NULL);
}
END_TEST

/* ---------- certificates ---------- */

START_TEST(issued_cert_parses_with_its_fields)
{
    time_t now = time(NULL);
    struct lc_privkey *cak, *lk;
    struct lc_cert *ca =
        mk_ca("ca.org1.example.com", NULL, NULL, now - day, now + 3650 * day, &cak);
    const char *ous[] = {"peer", "department1"};
    const char *dns[] = {"peer0.org1.example.com", "peer0", "localhost"};
    const char *ips[] = {"127.0.0.1", "::1"};
    struct lc_cert_template t = {.kind = LC_CERT_TLS,
                                 .country = "US",
                                 .province = "California",
                                 .locality = "San Francisco",
                                 .ous = ous,
                                 .n_ous = 2,
                                 .common_name = "peer0.org1.example.com",
                                 .dns_names = dns,
                                 .n_dns = 3,
                                 .ips = ips,
                                 .n_ips = 2,
                                 .not_before = now - 60,
                                 .not_after = now + day};
    lk = gen_key();
    struct lc_cert *c = NULL;
    struct lc_errbuf err;
    ck_assert_msg(lc_cert_issue(&t, lc_privkey_public(lk), ca, cak, &err, &c) == 0, "%s", err.msg);

    ck_assert_uint_eq(lc_cert_ou_count(c), 2);
    ck_assert_str_eq(lc_cert_ou(c, 0), "peer");
    ck_assert_str_eq(lc_cert_ou(c, 1), "department1");
    ck_assert_ptr_null(lc_cert_ou(c, 2));
    ck_assert_str_eq(lc_cert_subject_cn(c), "peer0.org1.example.com");
    ck_assert_str_eq(lc_cert_subject_str(c), "C=US, ST=California, L=San Francisco, OU=peer, "
                                             "OU=department1, CN=peer0.org1.example.com");
    ck_assert_str_eq(lc_cert_issuer_str(c), lc_cert_subject_str(ca));
    ck_assert_int_eq(lc_cert_not_before(c), now - 60);
    ck_assert_int_eq(lc_cert_not_after(c), now + day);
    ck_assert(!lc_cert_is_ca(c));
    ck_assert(lc_cert_is_ca(ca));
    ck_assert_uint_eq(lc_cert_dns_count(c), 3);
    ck_assert_str_eq(lc_cert_dns(c, 1), "peer0");
    ck_assert_uint_eq(lc_cert_ip_count(c), 2);
    ck_assert_str_eq(lc_cert_ip(c, 0), "127.0.0.1");
    ck_assert_str_eq(lc_cert_ip(c, 1), "::1");
    ck_assert_uint_eq(lc_cert_key_usage(c), LC_KU_DIGITAL_SIGNATURE | LC_KU_KEY_ENCIPHERMENT);
    ck_assert_uint_eq(lc_cert_ext_key_usage(c), LC_EKU_SERVER_AUTH | LC_EKU_CLIENT_AUTH);
    ck_assert_uint_eq(lc_cert_key_usage(ca), LC_KU_DIGITAL_SIGNATURE | LC_KU_KEY_ENCIPHERMENT |
                                                 LC_KU_KEY_CERT_SIGN | LC_KU_CRL_SIGN);
    ck_assert_int_eq(strlen(lc_cert_serial_hex(c)) > 10, 1);

    size_t skl, akl, caskl;
    const uint8_t *ski = lc_cert_ski(c, &skl), *aki = lc_cert_aki(c, &akl);
    const uint8_t *caski = lc_cert_ski(ca, &caskl);
    uint8_t want[LC_SHA256_LEN];
    lc_pubkey_ski(lc_privkey_public(lk), want);
    ck_assert_uint_eq(skl, LC_SHA256_LEN);
    ck_assert_mem_eq(ski, want, LC_SHA256_LEN);
    ck_assert_uint_eq(akl, caskl);
    ck_assert_mem_eq(aki, caski, akl);
    ck_assert(lc_cert_matches_key(c, lk));
    ck_assert(!lc_cert_matches_key(c, cak));
    ck_assert(lc_pubkey_equal(lc_cert_pubkey(c), lc_privkey_public(lk)));

    /* PEM round trip gives an equal certificate; a copy from DER too */
    char *pem = NULL;
    size_t plen;
    ck_assert_int_eq(lc_cert_to_pem(c, &pem, &plen), 0);
    ck_assert_ptr_nonnull(strstr(pem, "-----BEGIN CERTIFICATE-----"));
    struct lc_cert *c2 = NULL, *c3 = NULL;
    ck_assert_int_eq(lc_cert_from_pem(pem, plen, &err, &c2), 0);
    ck_assert(lc_cert_equal(c, c2));
    size_t dl;
    const uint8_t *der = lc_cert_der(c, &dl);
    ck_assert_int_eq(lc_cert_from_der(der, dl, &err, &c3), 0);
    ck_assert(lc_cert_equal(c3, c2));
    ck_assert(!lc_cert_equal(c, ca));
    /* references */
    ck_assert_ptr_eq(lc_cert_ref(c3), c3);
    lc_cert_unref(c3);
    lc_cert_unref(c3);
    lc_cert_unref(c2);
    free(pem);
    lc_cert_unref(c);
    lc_cert_unref(ca);
    lc_privkey_free(lk);
    lc_privkey_free(cak);
}
END_TEST

START_TEST(cert_parse_rejections)
{
    time_t now = time(NULL);
    struct lc_privkey *cak;
    struct lc_cert *ca = mk_ca("ca", NULL, NULL, now - day, now + day, &cak);
    struct lc_cert *c = NULL;
    struct lc_errbuf err;
    ck_assert_int_eq(lc_cert_from_pem("garbage", 7, &err, &c), LC_EDECODE);
    ck_assert_ptr_nonnull(strstr(err.msg, "bad PEM"));
    const char notcert[] = "-----BEGIN CERTIFICATE-----\nAAECAwQF\n-----END CERTIFICATE-----\n";
    ck_assert_int_eq(lc_cert_from_pem(notcert, sizeof notcert - 1, &err, &c), LC_EDECODE);
    /* the first block is what counts, as in Fabric: a key block first is not skipped */
    char both[4096];
    char *pem;
    size_t plen;
    ck_assert_int_eq(lc_cert_to_pem(ca, &pem, &plen), 0);
    snprintf(both, sizeof both, "%s%s", pkcs8_pem, pem);
    ck_assert_int_eq(lc_cert_from_pem(both, strlen(both), &err, &c), LC_EDECODE);
    /* text before the first block is skipped */
    snprintf(both, sizeof both, "subject=whatever\n%s", pem);
    ck_assert_int_eq(lc_cert_from_pem(both, strlen(both), &err, &c), 0);
    lc_cert_unref(c);
    c = NULL;
    free(pem);
    size_t dl;
    const uint8_t *der = lc_cert_der(ca, &dl);
    uint8_t buf[4096];
    memcpy(buf, der, dl);
    buf[dl] = 0;
    ck_assert_int_eq(lc_cert_from_der(buf, dl + 1, &err, &c), LC_EDECODE);
    ck_assert_ptr_nonnull(strstr(err.msg, "after"));
    ck_assert_int_eq(lc_cert_from_der(buf, dl - 1, &err, &c), LC_EDECODE);
    ck_assert_int_eq(lc_cert_from_der(buf, 0, &err, &c), LC_EDECODE);
    ck_assert_int_eq(lc_cert_from_der(buf, LC_DER_MAX + 1, &err, &c), LC_ETOOBIG);
    ck_assert_int_eq(lc_cert_from_pem(buf, LC_PEM_MAX + 1, &err, &c), LC_ETOOBIG);
    ck_assert_ptr_null(c);
    lc_cert_unref(ca);
    lc_privkey_free(cak);
}
END_TEST

START_TEST(issue_rejections)
{
    time_t now = time(NULL);
    struct lc_privkey *cak, *k = gen_key();
    struct lc_cert *ca = mk_ca("ca", NULL, NULL, now - day, now + day, &cak);
    struct lc_cert *c = NULL;
    struct lc_errbuf err;
    const char *ips[] = {"300.1.1.1"};
    struct lc_cert_template t = {.kind = LC_CERT_TLS,
                                 .common_name = "x",
                                 .ips = ips,
                                 .n_ips = 1,
                                 .not_before = now,
                                 .not_after = now + 10};
    ck_assert_int_eq(lc_cert_issue(&t, lc_privkey_public(k), ca, cak, &err, &c), LC_EINVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "300.1.1.1"));
    t.n_ips = 0;
    t.not_after = now - 10;
    ck_assert_int_eq(lc_cert_issue(&t, lc_privkey_public(k), ca, cak, &err, &c), LC_EINVALID);
    t.not_after = now + 10;
    /* self-signed with someone else's key, issuer cert with the wrong key */
    ck_assert_int_eq(lc_cert_issue(&t, lc_privkey_public(k), NULL, cak, &err, &c), LC_EINVALID);
    ck_assert_int_eq(lc_cert_issue(&t, lc_privkey_public(k), ca, k, &err, &c), LC_EINVALID);
    struct lc_pubkey *p384 = NULL;
    ck_assert_int_eq(lc_pubkey_from_pem(p384_pub_pem, strlen(p384_pub_pem), &err, &p384), 0);
    ck_assert_int_eq(lc_cert_issue(&t, p384, ca, cak, &err, &c), LC_EBADKEY);
    ck_assert_ptr_null(c);
    lc_pubkey_free(p384);
    lc_cert_unref(ca);
    lc_privkey_free(cak);
    lc_privkey_free(k);
}
END_TEST

START_TEST(validity_window_at_wall_clock)
{
    time_t now = time(NULL);
    struct lc_privkey *cak;
    struct lc_cert *ca = mk_ca("ca", NULL, NULL, now - 30 * day, now + 30 * day, &cak);
    struct lc_cert *expired = mk_leaf("old", "client", ca, cak, now - 10 * day, now - day, NULL);
    struct lc_cert *future = mk_leaf("new", "client", ca, cak, now + day, now + 10 * day, NULL);
    struct lc_cert *good = mk_leaf("ok", "client", ca, cak, now - day, now + day, NULL);
    struct lc_errbuf err;
    ck_assert_int_eq(lc_cert_check_validity(expired, now, &err), LC_EEXPIRED);
    ck_assert_ptr_nonnull(strstr(err.msg, "expired at"));
    ck_assert_int_eq(lc_cert_check_validity(future, now, &err), LC_EEXPIRED);
    ck_assert_ptr_nonnull(strstr(err.msg, "not yet valid"));
    ck_assert_int_eq(lc_cert_check_validity(good, now, &err), 0);
    /* both ends inclusive */
    ck_assert_int_eq(lc_cert_check_validity(good, lc_cert_not_after(good), &err), 0);
    ck_assert_int_eq(lc_cert_check_validity(good, lc_cert_not_before(good), &err), 0);
    ck_assert_int_eq(lc_cert_check_validity(good, lc_cert_not_after(good) + 1, &err), LC_EEXPIRED);
    lc_cert_unref(expired);
    lc_cert_unref(future);
    lc_cert_unref(good);
    lc_cert_unref(ca);
    lc_privkey_free(cak);
}
END_TEST

/* ---------- chains ---------- */

START_TEST(chain_to_root_verifies)
{
    time_t now = time(NULL);
    struct lc_privkey *cak;
    struct lc_cert *ca = mk_ca("ca", NULL, NULL, now - day, now + 365 * day, &cak);
    struct lc_cert *leaf = mk_leaf("user", "client", ca, cak, now - 60, now + day, NULL);
    struct lc_errbuf err;
    struct lc_cert_chain *ch = NULL;
    int r = lc_cert_verify_chain(leaf, &ca, 1, NULL, 0, NULL, 0, lc_cert_not_before(leaf) + 1, &err,
                                 &ch);
    ck_assert_msg(r == 0, "%s", err.msg);
    ck_assert_uint_eq(lc_cert_chain_len(ch), 2);
    ck_assert_ptr_eq(lc_cert_chain_at(ch, 0), leaf);
    ck_assert_ptr_eq(lc_cert_chain_at(ch, 1), ca);
    ck_assert_ptr_null(lc_cert_chain_at(ch, 2));
    lc_cert_chain_free(ch);
    /* without asking for the chain */
    ck_assert_int_eq(lc_cert_verify_chain(leaf, &ca, 1, NULL, 0, NULL, 0, now, &err, NULL), 0);
    /* no roots */
    ck_assert_int_eq(lc_cert_verify_chain(leaf, NULL, 0, NULL, 0, NULL, 0, now, &err, NULL),
                     LC_EINVALID);
    lc_cert_unref(leaf);
    lc_cert_unref(ca);
    lc_privkey_free(cak);
}
END_TEST

START_TEST(chain_to_wrong_root_fails)
{
    time_t now = time(NULL);
    struct lc_privkey *cak, *otherk;
    struct lc_cert *ca = mk_ca("ca", NULL, NULL, now - day, now + day, &cak);
    /* same subject name, different key: only the signature tells them apart */
    struct lc_cert *other = mk_ca("ca", NULL, NULL, now - day, now + day, &otherk);
    struct lc_cert *leaf = mk_leaf("user", "client", ca, cak, now - 60, now + day, NULL);
    struct lc_errbuf err;
    ck_assert_int_eq(lc_cert_verify_chain(leaf, &other, 1, NULL, 0, NULL, 0, now, &err, NULL),
                     LC_EBADCERT);
    ck_assert_ptr_nonnull(strstr(err.msg, "user"));
    struct lc_privkey *thirdk;
    struct lc_cert *third = mk_ca("third", NULL, NULL, now - day, now + day, &thirdk);
    ck_assert_int_eq(lc_cert_verify_chain(leaf, &third, 1, NULL, 0, NULL, 0, now, &err, NULL),
                     LC_EBADCERT);
    ck_assert_ptr_nonnull(strstr(err.msg, "issuer"));
    lc_cert_unref(third);
    lc_privkey_free(thirdk);
    lc_cert_unref(leaf);
    lc_cert_unref(ca);
    lc_cert_unref(other);
    lc_privkey_free(cak);
    lc_privkey_free(otherk);
}
END_TEST

START_TEST(chain_through_intermediate)
{
    time_t now = time(NULL);
    struct lc_privkey *rk, *ik;
    struct lc_cert *root = mk_ca("root", NULL, NULL, now - day, now + 365 * day, &rk);
    struct lc_cert *inter = mk_ca("inter", root, rk, now - day, now + 365 * day, &ik);
    struct lc_cert *leaf = mk_leaf("peer0", "peer", inter, ik, now - 60, now + day, NULL);
    struct lc_errbuf err;
    struct lc_cert_chain *ch = NULL;
    struct lc_cert_store *st = NULL;
    ck_assert_int_eq(lc_cert_store_new(&root, 1, &inter, 1, NULL, 0, &err, &st), 0);
    ck_assert_msg(lc_cert_store_verify(st, leaf, now, &err, &ch) == 0, "%s", err.msg);
    ck_assert_uint_eq(lc_cert_chain_len(ch), 3);
    ck_assert_ptr_eq(lc_cert_chain_at(ch, 1), inter);
    ck_assert_ptr_eq(lc_cert_chain_at(ch, 2), root);
    lc_cert_chain_free(ch);
    /* the intermediate itself verifies */
    ck_assert_int_eq(lc_cert_store_verify(st, inter, now, &err, NULL), 0);
    lc_cert_store_free(st);
    /* without the intermediate the leaf does not chain */
    ck_assert_int_eq(lc_cert_verify_chain(leaf, &root, 1, NULL, 0, NULL, 0, now, &err, NULL),
                     LC_EBADCERT);
    /* a leaf cannot act as an issuer: a cert signed by a non-CA fails */
    struct lc_privkey *lk;
    struct lc_cert *leaf2 = mk_leaf("signer", "client", root, rk, now - 60, now + day, &lk);
    struct lc_cert *bad = mk_leaf("victim", "client", leaf2, lk, now - 60, now + day, NULL);
    ck_assert_int_eq(lc_cert_verify_chain(bad, &root, 1, &leaf2, 1, NULL, 0, now, &err, NULL),
                     LC_EBADCERT);
    lc_cert_unref(bad);
    lc_cert_unref(leaf2);
    lc_privkey_free(lk);
    lc_cert_unref(leaf);
    lc_cert_unref(inter);
    lc_cert_unref(root);
    lc_privkey_free(rk);
    lc_privkey_free(ik);
}
END_TEST

START_TEST(revoked_by_crl)
{
    time_t now = time(NULL);
    struct lc_privkey *rk, *ik, *ok;
    struct lc_cert *root = mk_ca("root", NULL, NULL, now - day, now + 365 * day, &rk);
    struct lc_cert *inter = mk_ca("inter", root, rk, now - day, now + 365 * day, &ik);
    struct lc_cert *other = mk_ca("other", NULL, NULL, now - day, now + 365 * day, &ok);
    struct lc_cert *l1 = mk_leaf("l1", "client", root, rk, now - 60, now + day, NULL);
    struct lc_cert *l2 = mk_leaf("l2", "client", inter, ik, now - 60, now + day, NULL);
    struct lc_cert *l3 = mk_leaf("l3", "client", root, rk, now - 60, now + day, NULL);
    struct lc_errbuf err;

    struct lc_crl *rcrl = NULL, *icrl = NULL, *ocrl = NULL, *icrl_inter = NULL;
    struct lc_cert *rv1[] = {l1};
    ck_assert_int_eq(lc_crl_issue(root, rk, rv1, 1, now, now + day, &err, &rcrl), 0);
    struct lc_cert *rv2[] = {l2};
    ck_assert_int_eq(lc_crl_issue(inter, ik, rv2, 1, now, now + day, &err, &icrl), 0);
    /* a CRL by another CA listing l3 has no effect */
    struct lc_cert *rv3[] = {l3};
    ck_assert_int_eq(lc_crl_issue(other, ok, rv3, 1, now, now + day, &err, &ocrl), 0);
    /* the root revokes the intermediate */
    struct lc_cert *rv4[] = {inter};
    ck_assert_int_eq(lc_crl_issue(root, rk, rv4, 1, now, now + day, &err, &icrl_inter), 0);

    const struct lc_crl *crls[] = {rcrl, icrl, ocrl};
    struct lc_cert_store *st = NULL;
    ck_assert_int_eq(lc_cert_store_new(&root, 1, &inter, 1, crls, 3, &err, &st), 0);
    ck_assert_int_eq(lc_cert_store_verify(st, l1, now, &err, NULL), LC_EREVOKED);
    ck_assert_ptr_nonnull(strstr(err.msg, "l1"));
    ck_assert_int_eq(lc_cert_store_verify(st, l2, now, &err, NULL), LC_EREVOKED);
    ck_assert_int_eq(lc_cert_store_verify(st, l3, now, &err, NULL), 0);
    lc_cert_store_free(st);

    const struct lc_crl *crls2[] = {icrl_inter};
    ck_assert_int_eq(lc_cert_verify_chain(l2, &root, 1, &inter, 1, crls2, 1, now, &err, NULL),
                     LC_EREVOKED);
    ck_assert_ptr_nonnull(strstr(err.msg, "inter"));
    /* CRLs are read regardless of their dates (no clock in validation) */
    struct lc_crl *stale = NULL;
    ck_assert_int_eq(lc_crl_issue(root, rk, rv1, 1, now - 10 * day, now - 9 * day, &err, &stale),
                     0);
    const struct lc_crl *crls3[] = {stale};
    ck_assert_int_eq(lc_cert_verify_chain(l1, &root, 1, NULL, 0, crls3, 1, now, &err, NULL),
                     LC_EREVOKED);

    /* PEM round trip of a CRL keeps it working */
    char *pem = NULL;
    size_t plen;
    ck_assert_int_eq(lc_crl_to_pem(rcrl, &pem, &plen), 0);
    ck_assert_ptr_nonnull(strstr(pem, "-----BEGIN X509 CRL-----"));
    struct lc_crl *back = NULL;
    ck_assert_int_eq(lc_crl_from_pem(pem, plen, &err, &back), 0);
    size_t d1, d2;
    const uint8_t *a = lc_crl_der(rcrl, &d1), *b = lc_crl_der(back, &d2);
    ck_assert_uint_eq(d1, d2);
    ck_assert_mem_eq(a, b, d1);
    const struct lc_crl *crls4[] = {back};
    ck_assert_int_eq(lc_cert_verify_chain(l1, &root, 1, NULL, 0, crls4, 1, now, &err, NULL),
                     LC_EREVOKED);
    free(pem);
    ck_assert_int_eq(lc_crl_from_pem("junk", 4, &err, &back), LC_EDECODE);
    ck_assert_int_eq(lc_crl_from_der("junk", 4, &err, &back), LC_EDECODE);

    lc_crl_free(lc_crl_der(back, &d2) ? back : NULL);
    lc_crl_free(stale);
    lc_crl_free(rcrl);
    lc_crl_free(icrl);
    lc_crl_free(ocrl);
    lc_crl_free(icrl_inter);
    lc_cert_unref(l1);
    lc_cert_unref(l2);
    lc_cert_unref(l3);
    lc_cert_unref(other);
    lc_cert_unref(inter);
    lc_cert_unref(root);
    lc_privkey_free(rk);
    lc_privkey_free(ik);
    lc_privkey_free(ok);
}
END_TEST

/* Loads one of our keys into OpenSSL directly, for crafting test objects. */
static EVP_PKEY *to_evp(const struct lc_privkey *k)
{
    char *pem;
    size_t len;
    ck_assert_int_eq(lc_privkey_to_pem(k, &pem, &len), 0);
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *p = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    lc_privkey_pem_free(pem);
    ck_assert_ptr_nonnull(p);
    return p;
}

START_TEST(crl_signed_by_wrong_key_is_skipped_and_crl_without_aki_refused)
{
    time_t now = time(NULL);
    struct lc_privkey *rk, *ok;
    struct lc_cert *root = mk_ca("root", NULL, NULL, now - day, now + day, &rk);
    struct lc_cert *other = mk_ca("other", NULL, NULL, now - day, now + day, &ok);
    struct lc_cert *l1 = mk_leaf("l1", "client", root, rk, now - 60, now + day, NULL);
    /* a CRL claiming root's AKI but signed by another key */
    struct lc_errbuf err;
    struct lc_crl *crl = NULL;
    struct lc_cert *rv[] = {l1};
    ck_assert_int_eq(lc_crl_issue(root, rk, rv, 1, now, now + day, &err, &crl), 0);
    size_t dl;
    const uint8_t *der = lc_crl_der(crl, &dl);
    const unsigned char *p = der;
    X509_CRL *x = d2i_X509_CRL(NULL, &p, (long)dl);
    EVP_PKEY *wrong = to_evp(ok);
    ck_assert_int_gt(X509_CRL_sign(x, wrong, EVP_sha256()), 0);
    unsigned char *d2 = NULL;
    int l2 = i2d_X509_CRL(x, &d2);
    struct lc_crl *forged = NULL;
    ck_assert_int_eq(lc_crl_from_der(d2, (size_t)l2, &err, &forged), 0);
    const struct lc_crl *crls[] = {forged};
    ck_assert_int_eq(lc_cert_verify_chain(l1, &root, 1, NULL, 0, crls, 1, now, &err, NULL), 0);

    /* a CRL without an authority key identifier cannot be matched: refused up front */
    X509_CRL *bare = X509_CRL_new();
    X509_CRL_set_version(bare, 1);
    X509_CRL_set_issuer_name(bare, X509_CRL_get_issuer(x));
    ASN1_TIME *t = ASN1_TIME_set(NULL, now);
    X509_CRL_set1_lastUpdate(bare, t);
    EVP_PKEY *right = to_evp(rk);
    ck_assert_int_gt(X509_CRL_sign(bare, right, EVP_sha256()), 0);
    unsigned char *d3 = NULL;
    int l3 = i2d_X509_CRL(bare, &d3);
    struct lc_crl *noaki = NULL;
    ck_assert_int_eq(lc_crl_from_der(d3, (size_t)l3, &err, &noaki), 0);
    const struct lc_crl *crls2[] = {noaki};
    ck_assert_int_eq(lc_cert_verify_chain(l1, &root, 1, NULL, 0, crls2, 1, now, &err, NULL),
                     LC_EINVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "authority key identifier"));

    OPENSSL_free(d3);
    OPENSSL_free(d2);
    ASN1_TIME_free(t);
    X509_CRL_free(bare);
    X509_CRL_free(x);
    EVP_PKEY_free(wrong);
    EVP_PKEY_free(right);
    lc_crl_free(noaki);
    lc_crl_free(forged);
    lc_crl_free(crl);
    lc_cert_unref(l1);
    lc_cert_unref(root);
    lc_cert_unref(other);
    lc_privkey_free(rk);
    lc_privkey_free(ok);
}
END_TEST

START_TEST(expired_cert_verifies_at_its_not_before)
{
    time_t now = time(NULL);
    struct lc_privkey *cak;
    struct lc_cert *ca = mk_ca("ca", NULL, NULL, now - 400 * day, now + 400 * day, &cak);
    struct lc_cert *old = mk_leaf("old", "client", ca, cak, now - 100 * day, now - 10 * day, NULL);
    struct lc_errbuf err;
    ck_assert_msg(lc_cert_verify_chain(old, &ca, 1, NULL, 0, NULL, 0, lc_cert_not_before(old) + 1,
                                       &err, NULL) == 0,
                  "%s", err.msg);
    ck_assert_int_eq(lc_cert_verify_chain(old, &ca, 1, NULL, 0, NULL, 0, now, &err, NULL),
                     LC_EBADCERT);
    ck_assert_ptr_nonnull(strstr(err.msg, "expired"));
    /* a cert issued before its CA's window fails at its own NotBefore */
    struct lc_cert *early = mk_leaf("early", "client", ca, cak, now - 500 * day, now + day, NULL);
    ck_assert_int_eq(lc_cert_verify_chain(early, &ca, 1, NULL, 0, NULL, 0,
                                          lc_cert_not_before(early) + 1, &err, NULL),
                     LC_EBADCERT);
    lc_cert_unref(early);
    lc_cert_unref(old);
    lc_cert_unref(ca);
    lc_privkey_free(cak);
}
END_TEST

/* ---------- sanitize ---------- */

/* Re-signs c with OpenSSL (which does not normalise S) until its signature is high-S. */
static struct lc_cert *high_s_copy(struct lc_cert *c, struct lc_cert *issuer,
                                   const struct lc_privkey *ik)
{
    EVP_PKEY *pk = to_evp(ik);
    size_t dl;
    const uint8_t *der = lc_cert_der(c, &dl);
    struct lc_cert *out = NULL;
    for (int i = 0; i < 200 && !out; i++) {
        const unsigned char *p = der;
        X509 *x = d2i_X509(NULL, &p, (long)dl);
        ck_assert_int_gt(X509_sign(x, pk, EVP_sha256()), 0);
        unsigned char *d2 = NULL;
        int l2 = i2d_X509(x, &d2);
        struct lc_cert *cand = NULL;
        ck_assert_int_eq(lc_cert_from_der(d2, (size_t)l2, NULL, &cand), 0);
        if (lc_cert_sig_is_high_s(cand, issuer))
            out = cand;
        else
            lc_cert_unref(cand);
        OPENSSL_free(d2);
        X509_free(x);
    }
    EVP_PKEY_free(pk);
    ck_assert_ptr_nonnull(out);
    return out;
}

START_TEST(sanitize_reencodes_high_s_certs)
{
    time_t now = time(NULL);
    struct lc_privkey *cak;
    struct lc_cert *ca = mk_ca("ca", NULL, NULL, now - day, now + day, &cak);
    struct lc_cert *leaf = mk_leaf("user", "client", ca, cak, now - 60, now + day, NULL);
    struct lc_errbuf err;
    /* issued certs are low-S already: sanitize returns the same object */
    ck_assert(!lc_cert_sig_is_high_s(leaf, ca));
    struct lc_cert *s = NULL;
    ck_assert_int_eq(lc_cert_sanitize(leaf, ca, &err, &s), 0);
    ck_assert_ptr_eq(s, leaf);
    lc_cert_unref(s);

    struct lc_cert *high = high_s_copy(leaf, ca, cak);
    ck_assert(!lc_cert_equal(high, leaf));
    /* OpenSSL (like Go) accepts a high-S certificate signature in a chain */
    ck_assert_int_eq(lc_cert_verify_chain(high, &ca, 1, NULL, 0, NULL, 0, now, &err, NULL), 0);
    ck_assert_int_eq(lc_cert_sanitize(high, ca, &err, &s), 0);
    ck_assert_ptr_ne(s, high);
    ck_assert(!lc_cert_equal(s, high));
    ck_assert(!lc_cert_sig_is_high_s(s, ca));
    ck_assert_str_eq(lc_cert_serial_hex(s), lc_cert_serial_hex(high));
    ck_assert_str_eq(lc_cert_subject_str(s), lc_cert_subject_str(high));
    ck_assert_int_eq(lc_cert_verify_chain(s, &ca, 1, NULL, 0, NULL, 0, now, &err, NULL), 0);
    /* sanitising again changes nothing */
    struct lc_cert *s2 = NULL;
    ck_assert_int_eq(lc_cert_sanitize(s, ca, &err, &s2), 0);
    ck_assert_ptr_eq(s2, s);
    lc_cert_unref(s2);
    lc_cert_unref(s);

    /* a self-signed root sanitises against itself */
    struct lc_cert *hroot = high_s_copy(ca, ca, cak);
    ck_assert_int_eq(lc_cert_sanitize(hroot, hroot, &err, &s), 0);
    ck_assert(!lc_cert_sig_is_high_s(s, s));
    ck_assert(!lc_cert_equal(s, hroot));
    lc_cert_unref(s);
    lc_cert_unref(hroot);
    lc_cert_unref(high);
    lc_cert_unref(leaf);
    lc_cert_unref(ca);
    lc_privkey_free(cak);
}
END_TEST

START_TEST(sanitize_needs_an_ec_issuer)
{
    /* a self-signed RSA certificate as the "issuer" */
    EVP_PKEY *rsa = EVP_RSA_gen(1024);
    ck_assert_ptr_nonnull(rsa);
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)"rsa", -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, rsa);
    ck_assert_int_gt(X509_sign(x, rsa, EVP_sha256()), 0);
    unsigned char *der = NULL;
    int len = i2d_X509(x, &der);
    struct lc_cert *rc = NULL, *s = NULL;
    struct lc_errbuf err;
    ck_assert_int_eq(lc_cert_from_der(der, (size_t)len, &err, &rc), 0);
    ck_assert(!lc_pubkey_is_p256(lc_cert_pubkey(rc)));
    /* RSA-signed: nothing to sanitise */
    ck_assert_int_eq(lc_cert_sanitize(rc, rc, &err, &s), 0);
    ck_assert_ptr_eq(s, rc);
    lc_cert_unref(s);
    /* an ECDSA-signed cert with an RSA "issuer" */
    time_t now = time(NULL);
    struct lc_privkey *cak;
    struct lc_cert *ca = mk_ca("ca", NULL, NULL, now - day, now + day, &cak);
    ck_assert_int_eq(lc_cert_sanitize(ca, rc, &err, &s), LC_EBADKEY);
    /* verifying with an RSA certificate's key */
    uint8_t sig[8] = {0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01};
    ck_assert_int_eq(lc_ecdsa_verify(lc_cert_pubkey(rc), "m", 1, sig, 8, &err), LC_EBADKEY);
    lc_cert_unref(ca);
    lc_privkey_free(cak);
    lc_cert_unref(rc);
    OPENSSL_free(der);
    X509_free(x);
    EVP_PKEY_free(rsa);
}
END_TEST

/* ---------- openssl CLI interop ---------- */

static bool have_openssl(void)
{
    return system("command -v openssl >/dev/null 2>&1") == 0;
}

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(p, 1, n, f), n);
    fclose(f);
}

static size_t read_file(const char *path, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

/* The interop test's directory, made and removed by the parent process (an unchecked fixture),
 * so that a failing test in its child still leaves nothing behind. */
static char tmpdir[64];

static void tmp_setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/weft-crypto-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st, (void)flag, (void)f;
    return remove(p);
}

static void tmp_teardown(void)
{
    nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int run(const char *fmt, const char *dir)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, fmt, dir, dir, dir, dir, dir);
    return system(cmd);
}

START_TEST(openssl_cli_interop)
{
    if (!have_openssl()) {
        fprintf(stderr, "openssl binary missing: interop test skipped\n");
        return;
    }
    const char *dir = tmpdir;
    char path[512];
    struct lc_privkey *k = gen_key();
    char *pem;
    size_t len;

    ck_assert_int_eq(lc_privkey_to_pem(k, &pem, &len), 0);
    snprintf(path, sizeof path, "%s/key.pem", dir);
    write_file(path, pem, len);
    lc_privkey_pem_free(pem);
    ck_assert_int_eq(lc_pubkey_to_pem(lc_privkey_public(k), &pem, &len), 0);
    snprintf(path, sizeof path, "%s/pub.pem", dir);
    write_file(path, pem, len);
    free(pem);
    const char msg[] = "interop message";
    snprintf(path, sizeof path, "%s/msg", dir);
    write_file(path, msg, sizeof msg - 1);

    /* openssl verifies our signature */
    uint8_t sig[LC_ECDSA_SIG_MAX + 16];
    size_t sl;
    ck_assert_int_eq(lc_ecdsa_sign(k, msg, sizeof msg - 1, sig, &sl), 0);
    snprintf(path, sizeof path, "%s/sig", dir);
    write_file(path, sig, sl);
    ck_assert_int_eq(run("openssl dgst -sha256 -verify %s/pub.pem -signature %s/sig %s/msg "
                         ">/dev/null 2>&1",
                         dir),
                     0);
    /* and rejects a corrupted one (so the check above can fail) */
    sig[sl - 1] ^= 1;
    write_file(path, sig, sl);
    ck_assert_int_ne(run("openssl dgst -sha256 -verify %s/pub.pem -signature %s/sig %s/msg "
                         ">/dev/null 2>&1",
                         dir),
                     0);

    /* we verify openssl's signatures: good when low-S, LC_EHIGHS otherwise, and its low-S twin
     * verifies */
    BIGNUM *half = BN_dup(p256_n());
    BN_rshift1(half, half);
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(
            run("openssl dgst -sha256 -sign %s/key.pem -out %s/osig %s/msg >/dev/null 2>&1", dir),
            0);
        snprintf(path, sizeof path, "%s/osig", dir);
        sl = read_file(path, sig, sizeof sig);
        BIGNUM *r, *s;
        sig_split(sig, sl, &r, &s);
        struct lc_errbuf err;
        int v = lc_ecdsa_verify(lc_privkey_public(k), msg, sizeof msg - 1, sig, sl, &err);
        if (BN_cmp(s, half) > 0) {
            ck_assert_int_eq(v, LC_EHIGHS);
            BN_sub(s, p256_n(), s);
            sl = enc_sig(sig, r, s, 0, 0);
            v = lc_ecdsa_verify(lc_privkey_public(k), msg, sizeof msg - 1, sig, sl, &err);
        }
        ck_assert_msg(v == 0, "%s", err.msg);
        BN_free(r);
        BN_free(s);
    }
    BN_free(half);

    /* openssl parses our certificates and verifies our chain and CRL */
    time_t now = time(NULL);
    struct lc_privkey *cak;
    struct lc_cert *ca = mk_ca("ca.org1.example.com", NULL, NULL, now - day, now + day, &cak);
    struct lc_cert *leaf = mk_leaf("peer0", "peer", ca, cak, now - 60, now + day, NULL);
    ck_assert_int_eq(lc_cert_to_pem(ca, &pem, &len), 0);
    snprintf(path, sizeof path, "%s/ca.pem", dir);
    write_file(path, pem, len);
    free(pem);
    ck_assert_int_eq(lc_cert_to_pem(leaf, &pem, &len), 0);
    snprintf(path, sizeof path, "%s/leaf.pem", dir);
    write_file(path, pem, len);
    free(pem);
    ck_assert_int_eq(run("openssl verify -CAfile %s/ca.pem %s/leaf.pem >/dev/null 2>&1", dir), 0);
    ck_assert_int_ne(run("openssl verify -CAfile %s/leaf.pem %s/ca.pem >/dev/null 2>&1", dir), 0);
    struct lc_crl *crl = NULL;
    struct lc_cert *rv[] = {leaf};
    ck_assert_int_eq(lc_crl_issue(ca, cak, rv, 1, now, now + day, NULL, &crl), 0);
    ck_assert_int_eq(lc_crl_to_pem(crl, &pem, &len), 0);
    snprintf(path, sizeof path, "%s/crl.pem", dir);
    write_file(path, pem, len);
    free(pem);
    ck_assert_int_eq(
        run("openssl crl -in %s/crl.pem -CAfile %s/ca.pem -noout >/dev/null 2>&1", dir), 0);
    ck_assert_int_ne(run("openssl verify -crl_check -CAfile %s/ca.pem -CRLfile %s/crl.pem "
                         "%s/leaf.pem >/dev/null 2>&1",
                         dir),
                     0);
    lc_crl_free(crl);
    lc_cert_unref(leaf);
    lc_cert_unref(ca);
    lc_privkey_free(cak);
    lc_privkey_free(k);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("crypto");
    TCase *tc = tcase_create("core");
    tcase_add_unchecked_fixture(tc, tmp_setup, tmp_teardown);
    tcase_add_test(tc, sha256_known_vectors);
    tcase_add_test(tc, hex_encode_is_lowercase_and_terminated);
    tcase_add_test(tc, nonces_are_random);
    tcase_add_test(tc, sign_verify_round_trip);
    tcase_add_test(tc, signatures_are_always_low_s);
    tcase_add_test(tc, high_s_variant_is_rejected);
    tcase_add_test(tc, malformed_signatures_are_rejected);
    tcase_add_test(tc, wrong_key_or_message_is_bad_signature);
    tcase_add_test(tc, one_key_signs_from_many_threads);
    tcase_add_test(tc, pkcs8_and_sec1_pem_load_the_same_key);
    tcase_add_test(tc, other_curves_and_key_types_are_rejected);
    tcase_add_test(tc, bad_key_pem_is_rejected);
    tcase_add_test(tc, mismatched_public_half_is_rejected);
    tcase_add_test(tc, non_p256_public_key_cannot_verify);
    tcase_add_test(tc, public_key_pem_round_trip);
    tcase_add_test(tc, destructors_accept_null);
    tcase_add_test(tc, issued_cert_parses_with_its_fields);
    tcase_add_test(tc, cert_parse_rejections);
    tcase_add_test(tc, issue_rejections);
    tcase_add_test(tc, validity_window_at_wall_clock);
    tcase_add_test(tc, chain_to_root_verifies);
    tcase_add_test(tc, chain_to_wrong_root_fails);
    tcase_add_test(tc, chain_through_intermediate);
    tcase_add_test(tc, revoked_by_crl);
    tcase_add_test(tc, crl_signed_by_wrong_key_is_skipped_and_crl_without_aki_refused);
    tcase_add_test(tc, expired_cert_verifies_at_its_not_before);
    tcase_add_test(tc, sanitize_reencodes_high_s_certs);
    tcase_add_test(tc, sanitize_needs_an_ec_issuer);
    tcase_add_test(tc, openssl_cli_interop);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
