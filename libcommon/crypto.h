/* SPDX-License-Identifier: Apache-2.0 */
/* Hashing, randomness, P-256 keys, ECDSA, X.509 certificates, chains, CRLs and issuing: weft's only
 * door to OpenSSL. */
#ifndef LC_CRYPTO_H
#define LC_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "libcommon/err.h"

/*
 * Error space. Every OpenSSL failure is translated here and nowhere else:
 *   LC_EDECODE   malformed PEM/DER (certificate, key, CRL, signature encoding)
 *   LC_ETOOBIG   input over the size limits below
 *   LC_EBADKEY   a key that is not EC P-256 (or not a key at all), with the reason
 *   LC_EBADSIG   a well-formed signature that does not verify
 *   LC_EHIGHS    an ECDSA signature with s > n/2 (Fabric rejects these, wire facts §7)
 *   LC_EBADCERT  a certificate that does not chain, with OpenSSL's reason text
 *   LC_EEXPIRED  outside the validity window at the given time
 *   LC_EREVOKED  listed on a CRL of its issuer
 *   LC_ECRYPTO   OpenSSL or libsodium failed internally (out of memory, RNG failure)
 * Messages go into the caller's struct lc_errbuf when one is given (it may be NULL).
 *
 * Threads: every function is safe to call from any thread. Objects are immutable after
 * creation (certs, pubkeys, CRLs, stores) or internally locked (privkey), so one object may be
 * used by many threads at once; only _free/_unref must not race with other uses.
 */

/* Initialises libsodium and OpenSSL; idempotent and thread-safe. Every function below calls it
 * itself, so calling it is optional; a daemon calls it at start to fail early. Returns 0 or
 * LC_ECRYPTO. */
int lc_crypto_init(void);

/* ---------- Hashing ---------- */

#define LC_SHA256_LEN 32

/* SHA-256 of p[0..n). Cannot fail (no allocation). */
void lc_sha256(const void *p, size_t n, uint8_t out[LC_SHA256_LEN]);

/* A piece of a message hashed or signed as one: the pieces are concatenated in order. */
struct lc_iov {
    const void *base;
    size_t len;
};

/* SHA-256 over the concatenation of v[0..n). Cannot fail. */
void lc_sha256_iov(const struct lc_iov *v, size_t n, uint8_t out[LC_SHA256_LEN]);

/* Writes 2n lowercase hex digits and a NUL into out (2n+1 bytes). */
void lc_hex_encode(const uint8_t *in, size_t n, char *out);

/* ---------- Randomness (libsodium randombytes) ---------- */

/* Fills buf with n cryptographically secure random bytes. Returns 0, or LC_ECRYPTO if
 * libsodium could not be initialised. */
int lc_random_bytes(void *buf, size_t n);

/* Fabric's nonce length (24 bytes, as protoutil and the SDKs use). */
#define LC_NONCE_LEN 24
/* A fresh random nonce. Returns 0 or LC_ECRYPTO. */
int lc_nonce(uint8_t out[LC_NONCE_LEN]);

/* ---------- Keys ---------- */

/* An EC public key, normally P-256. A pubkey taken from a certificate or a private key is
 * borrowed (lives as long as its owner); one made by lc_pubkey_from_pem is owned and freed with
 * lc_pubkey_free. A pubkey may hold a non-P-256 key (a certificate may carry one): verifying with
 * it fails with LC_EBADKEY. Immutable, usable from many threads. */
struct lc_pubkey;

/* A P-256 private key. The 32-byte secret scalar lives in libsodium guarded memory
 * (sodium_malloc: guard pages, canary, mlock'd where allowed), read-only once the key is made
 * (sodium_mprotect_readonly), and wiped by sodium_free when the key is freed.
 * OpenSSL never holds the scalar between calls: each signature builds a short-lived EC_KEY from
 * the guarded scalar on a copy of a cached P-256 group, signs with it, and frees it at once
 * (OpenSSL keeps private scalars in BN_FLG_SECURE bignums, cleared on free).
 * The scalar is not toggled to PROT_NONE between signatures: the endorser bench showed that two
 * mprotect calls per signature halve the signing rate as soon as a second thread of the process
 * runs (each call shoots down the other core's TLB), which is the common case in every daemon.
 * Key import costs ~0.9 us per signature (bench/bench_crypto). Importing through
 * EVP_PKEY_fromdata instead cost ~18 us per signature (it rebuilds the curve group each time),
 * hence the low-level EC_KEY path inside crypto.c. */
struct lc_privkey;

/* Upper bound of a DER ECDSA P-256 signature: SEQUENCE{INTEGER r, INTEGER s}, 33 bytes each. */
#define LC_ECDSA_SIG_MAX 72

/* Size limits applied to outside input before any parsing. */
#define LC_PEM_MAX (256 * 1024) /* a PEM text given to any _from_pem function */
#define LC_DER_MAX (64 * 1024)  /* a DER certificate, key or CRL */

/* Generates a fresh P-256 key from OpenSSL's DRBG. Returns 0 or LC_ECRYPTO. Caller frees with
 * lc_privkey_free. */
int lc_privkey_generate(struct lc_privkey **ret);

/* Loads the first PEM block of pem[0..n) that is a "PRIVATE KEY" (unencrypted PKCS#8) or an "EC
 * PRIVATE KEY" (SEC1). Rejects: over LC_PEM_MAX (LC_ETOOBIG); no such block or undecodable
 * contents (LC_EDECODE "bad PEM"/"bad key encoding"); a key that is not EC (RSA, Ed25519, ...) or
 * on another curve than P-256 (LC_EBADKEY naming the type or curve found). Encrypted keys are not
 * supported (LC_EBADKEY). Caller frees with lc_privkey_free. */
int lc_privkey_from_pem(const void *pem, size_t n, struct lc_errbuf *err, struct lc_privkey **ret);

/* Encodes k as unencrypted PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----", what Fabric's cryptogen
 * writes to priv_sk). *ret_pem is NUL-terminated, *ret_len excludes the NUL; it lives in
 * libsodium guarded memory and the caller frees it with lc_privkey_pem_free (which wipes it).
 * Returns 0 or LC_ECRYPTO. */
int lc_privkey_to_pem(const struct lc_privkey *k, char **ret_pem, size_t *ret_len);

/* Wipes and frees a PEM text from lc_privkey_to_pem; accepts NULL. */
void lc_privkey_pem_free(char *pem);

/* Wipes the scalar and frees the key; accepts NULL. */
void lc_privkey_free(struct lc_privkey *k);

/* The public half of k, borrowed: valid until lc_privkey_free(k). Never NULL. */
const struct lc_pubkey *lc_privkey_public(const struct lc_privkey *k);

/* Loads a "PUBLIC KEY" (SubjectPublicKeyInfo) PEM block. Any EC or other key type is accepted
 * here (verification checks the curve); undecodable input gives LC_EDECODE. Caller frees with
 * lc_pubkey_free. */
int lc_pubkey_from_pem(const void *pem, size_t n, struct lc_errbuf *err, struct lc_pubkey **ret);

/* Encodes pub as "PUBLIC KEY" PEM; *ret_pem NUL-terminated, caller free()s. Returns 0 or
 * LC_ECRYPTO. */
int lc_pubkey_to_pem(const struct lc_pubkey *pub, char **ret_pem, size_t *ret_len);

/* Frees a pubkey made by lc_pubkey_from_pem; accepts NULL. Never call it on a borrowed one. */
void lc_pubkey_free(struct lc_pubkey *pub);

/* True when pub is an EC key on P-256. */
bool lc_pubkey_is_p256(const struct lc_pubkey *pub);

/* True when a and b are the same key (same type and same public value). */
bool lc_pubkey_equal(const struct lc_pubkey *a, const struct lc_pubkey *b);

/* The uncompressed point 04||X||Y of a P-256 key. Returns 0, or LC_EBADKEY if pub is not P-256. */
#define LC_P256_POINT_LEN 65
int lc_pubkey_point(const struct lc_pubkey *pub, uint8_t out[LC_P256_POINT_LEN]);

/* Fabric's subject key identifier for a key: SHA-256 of the uncompressed point (what Fabric's
 * cryptogen puts in SubjectKeyIdentifier). Returns 0 or LC_EBADKEY if pub is not P-256. */
int lc_pubkey_ski(const struct lc_pubkey *pub, uint8_t out[LC_SHA256_LEN]);

/* ---------- ECDSA P-256 with SHA-256 ---------- */

/* Signs SHA-256(msg[0..n)) with k: ECDSA P-256, DER SEQUENCE{r, s} with minimal INTEGERs, s
 * normalised to low S (s <= n/2, else replaced by n - s) as Fabric requires. Writes the signature
 * into sig and its length into *ret_len. Returns 0 or LC_ECRYPTO. */
int lc_ecdsa_sign(const struct lc_privkey *k, const void *msg, size_t n,
                  uint8_t sig[LC_ECDSA_SIG_MAX], size_t *ret_len);

/* Same over the concatenation of v[0..nv) (e.g. a header and a payload without copying). */
int lc_ecdsa_sign_iov(const struct lc_privkey *k, const struct lc_iov *v, size_t nv,
                      uint8_t sig[LC_ECDSA_SIG_MAX], size_t *ret_len);

/* Same on a digest the caller computed (32 bytes). */
int lc_ecdsa_sign_digest(const struct lc_privkey *k, const uint8_t digest[LC_SHA256_LEN],
                         uint8_t sig[LC_ECDSA_SIG_MAX], size_t *ret_len);

/* Verifies a signature over SHA-256(msg[0..n)) with pub. Checks in this order, each with its own
 * code and message in err:
 *   pub not an EC P-256 key                                     -> LC_EBADKEY
 *   siglen 0 or > LC_ECDSA_SIG_MAX, not DER SEQUENCE{INTEGER r, INTEGER s}, non-minimal
 *   INTEGER or length encodings, or bytes after the SEQUENCE        -> LC_EDECODE
 *   r or s not in (0, n) (zero, negative, or >= the group order)    -> LC_EDECODE
 *   s > n/2 (high S)                                             -> LC_EHIGHS
 *   a well-formed signature that does not verify                 -> LC_EBADSIG
 * Returns 0 when the signature is good. (Note: Fabric's Go code ignores bytes after the DER
 * SEQUENCE; weft rejects them.) */
int lc_ecdsa_verify(const struct lc_pubkey *pub, const void *msg, size_t n, const uint8_t *sig,
                    size_t siglen, struct lc_errbuf *err);

/* Same over the concatenation of v[0..nv). */
int lc_ecdsa_verify_iov(const struct lc_pubkey *pub, const struct lc_iov *v, size_t nv,
                        const uint8_t *sig, size_t siglen, struct lc_errbuf *err);

/* Same on a 32-byte digest the caller computed. */
int lc_ecdsa_verify_digest(const struct lc_pubkey *pub, const uint8_t digest[LC_SHA256_LEN],
                           const uint8_t *sig, size_t siglen, struct lc_errbuf *err);

/* ---------- Certificates ---------- */

/* A parsed X.509 certificate: immutable, reference-counted (atomic), usable from many threads.
 * Everything the accessors return is computed at parse time and lives as long as the cert. */
struct lc_cert;

/* Parses the FIRST PEM block of pem[0..n) as an X.509 certificate, as Fabric does (it takes the
 * first block whatever its label and parses it as x509; text before the block is skipped).
 * Rejects: over LC_PEM_MAX (LC_ETOOBIG); no PEM block (LC_EDECODE "bad PEM"); contents that are
 * not one DER certificate with nothing after it, malformed or duplicate extensions, or a P-256
 * key in compressed form, which Go's x509 cannot parse either (LC_EDECODE). The certificate is NOT
 * sanitised (see lc_cert_sanitize). Caller releases with lc_cert_unref. */
int lc_cert_from_pem(const void *pem, size_t n, struct lc_errbuf *err, struct lc_cert **ret);

/* Same from DER bytes; rejects over LC_DER_MAX (LC_ETOOBIG) and trailing bytes (LC_EDECODE). */
int lc_cert_from_der(const void *der, size_t n, struct lc_errbuf *err, struct lc_cert **ret);

/* Takes one more reference; returns c. Accepts NULL (returns NULL). */
struct lc_cert *lc_cert_ref(struct lc_cert *c);

/* Drops a reference; the last one frees. Accepts NULL. */
void lc_cert_unref(struct lc_cert *c);

/* The certificate's DER encoding (its "Raw"), borrowed. */
const uint8_t *lc_cert_der(const struct lc_cert *c, size_t *ret_len);

/* PEM text ("-----BEGIN CERTIFICATE-----", 64-column base64, trailing newline), NUL-terminated;
 * caller free()s. Returns 0 or LC_ECRYPTO. */
int lc_cert_to_pem(const struct lc_cert *c, char **ret_pem, size_t *ret_len);

/* The subject public key, borrowed (may be a non-P-256 key; verify then says LC_EBADKEY). */
const struct lc_pubkey *lc_cert_pubkey(const struct lc_cert *c);

/* Subject OrganizationalUnit values in certificate order, UTF-8, borrowed. */
size_t lc_cert_ou_count(const struct lc_cert *c);
const char *lc_cert_ou(const struct lc_cert *c, size_t i); /* NULL if i is out of range */

/* Subject CommonName (the last CN if several), UTF-8, borrowed; "" when there is none. */
const char *lc_cert_subject_cn(const struct lc_cert *c);

/* Subject and issuer as one line ("C=US, ST=California, ..., CN=peer0.org1.example.com"), for
 * logs and messages; borrowed. */
const char *lc_cert_subject_str(const struct lc_cert *c);
const char *lc_cert_issuer_str(const struct lc_cert *c);

/* Serial number as lowercase hex without leading zeros ("0" for zero), borrowed. */
const char *lc_cert_serial_hex(const struct lc_cert *c);

/* Validity window, UTC seconds. */
time_t lc_cert_not_before(const struct lc_cert *c);
time_t lc_cert_not_after(const struct lc_cert *c);

/* BasicConstraints cA = TRUE (Go's IsCA). */
bool lc_cert_is_ca(const struct lc_cert *c);

/* SubjectKeyIdentifier / AuthorityKeyIdentifier.keyIdentifier bytes, borrowed; NULL (and
 * *ret_len = 0) when the extension is absent. */
const uint8_t *lc_cert_ski(const struct lc_cert *c, size_t *ret_len);
const uint8_t *lc_cert_aki(const struct lc_cert *c, size_t *ret_len);

/* SubjectAltName entries: DNS names, and IP addresses as text ("127.0.0.1", "::1"); borrowed. */
size_t lc_cert_dns_count(const struct lc_cert *c);
const char *lc_cert_dns(const struct lc_cert *c, size_t i);
size_t lc_cert_ip_count(const struct lc_cert *c);
const char *lc_cert_ip(const struct lc_cert *c, size_t i);

/* Key usage bits present (LC_KU_*; 0 when the extension is absent) and extended key usages. */
#define LC_KU_DIGITAL_SIGNATURE 0x80u
#define LC_KU_KEY_ENCIPHERMENT 0x20u
#define LC_KU_KEY_CERT_SIGN 0x04u
#define LC_KU_CRL_SIGN 0x02u
unsigned lc_cert_key_usage(const struct lc_cert *c);
#define LC_EKU_SERVER_AUTH 0x1u
#define LC_EKU_CLIENT_AUTH 0x2u
unsigned lc_cert_ext_key_usage(const struct lc_cert *c);

/* True when a and b have the same DER bytes. */
bool lc_cert_equal(const struct lc_cert *a, const struct lc_cert *b);

/* True when the certificate's subject key is the public half of k. */
bool lc_cert_matches_key(const struct lc_cert *c, const struct lc_privkey *k);

/* Checks the validity window against a wall-clock time `now` (inclusive at both ends, like Go).
 * Rejects with LC_EEXPIRED: "expired at <time>" when now > NotAfter, "not yet valid until
 * <time>" when now < NotBefore. Use at admission only; block validation must not read the clock. */
int lc_cert_check_validity(const struct lc_cert *c, time_t now, struct lc_errbuf *err);

/* Fabric's sanitizeCert (wire facts §7): when c is signed with ECDSA and its signature has a
 * high S, returns in *ret a new certificate whose signature is re-encoded with s' = n - s (n the
 * order of the issuer's curve, taken from issuer's key; pass c itself for a self-signed root);
 * this changes the DER, hence the identity id. When the signature is already low-S, or c is not
 * ECDSA-signed, *ret is a new reference to c. The re-encoding keeps tbsCertificate's bytes as
 * they are and re-encodes the outer SEQUENCE, the AlgorithmIdentifier and the signature BIT
 * STRING. Rejects: issuer key not EC (LC_EBADKEY), signature not DER SEQUENCE{r, s} with r, s > 0
 * (LC_EDECODE). The parsers never sanitise; msp calls this after building the chain, as Fabric
 * does. Caller unrefs *ret. */
int lc_cert_sanitize(struct lc_cert *c, const struct lc_cert *issuer, struct lc_errbuf *err,
                     struct lc_cert **ret);

/* True when c's signature has a high S (ECDSA-signed, issuer key on curve of issuer). Mostly for
 * tests and logs. */
bool lc_cert_sig_is_high_s(const struct lc_cert *c, const struct lc_cert *issuer);

/* ---------- CRLs ---------- */

/* A parsed X.509 CRL: immutable, owned by whoever made it. */
struct lc_crl;

/* Parses the first "X509 CRL" PEM block (LC_EDECODE when there is none or it does not decode;
 * LC_ETOOBIG over LC_PEM_MAX). Caller frees with lc_crl_free. */
int lc_crl_from_pem(const void *pem, size_t n, struct lc_errbuf *err, struct lc_crl **ret);
/* Same from DER (LC_ETOOBIG over LC_DER_MAX, trailing bytes LC_EDECODE). */
int lc_crl_from_der(const void *der, size_t n, struct lc_errbuf *err, struct lc_crl **ret);
void lc_crl_free(struct lc_crl *crl);
/* DER bytes, borrowed. */
const uint8_t *lc_crl_der(const struct lc_crl *crl, size_t *ret_len);
/* "X509 CRL" PEM, NUL-terminated, caller free()s. Returns 0 or LC_ECRYPTO. */
int lc_crl_to_pem(const struct lc_crl *crl, char **ret_pem, size_t *ret_len);

/* ---------- Chain verification ---------- */

/* A verified chain, leaf first, root last. Holds a reference on each certificate. */
struct lc_cert_chain;
size_t lc_cert_chain_len(const struct lc_cert_chain *ch);
/* The i-th certificate (0 = leaf), borrowed from the chain; NULL out of range. */
struct lc_cert *lc_cert_chain_at(const struct lc_cert_chain *ch, size_t i);
void lc_cert_chain_free(struct lc_cert_chain *ch); /* accepts NULL */

/* A reusable set of trust roots, intermediates and CRLs (what an MSP holds). Built once, then
 * used by many threads at once. */
struct lc_cert_store;

/* Builds a store. Roots are trust anchors as in Go's x509 (they need not be self-signed: OpenSSL's
 * partial-chain mode). Intermediates are untrusted helpers. CRLs are matched to issuers by their
 * AuthorityKeyIdentifier (Fabric's rule); a CRL without one is refused here (LC_EINVALID), since
 * Fabric fails every validation while such a CRL is configured. The store takes its own
 * references; the caller keeps its own. Returns 0, LC_EINVALID when nroots is 0 or a CRL has no
 * AKI, or LC_ECRYPTO. Caller frees with lc_cert_store_free. */
int lc_cert_store_new(struct lc_cert *const *roots, size_t nroots, struct lc_cert *const *inter,
                      size_t ninter, const struct lc_crl *const *crls, size_t ncrls,
                      struct lc_errbuf *err, struct lc_cert_store **ret);
void lc_cert_store_free(struct lc_cert_store *st); /* accepts NULL */

/* Verifies leaf up to one of the store's roots as of time `at` (every certificate in the chain
 * must be valid at `at`; msp passes the leaf's NotBefore + 1 s, as Fabric does, so that expiry
 * plays no part). Signature, name chaining, CA basic constraints, path length and critical
 * extensions are checked by OpenSSL; no purpose / EKU is required (Go's ExtKeyUsageAny).
 * Rejects:
 *   no chain to a root, a bad signature, a non-CA issuer, ...  -> LC_EBADCERT with OpenSSL's
 *                                                                 reason ("unable to get local
 *                                                                 issuer certificate", ...)
 *   a certificate of the chain (leaf or intermediate) listed
 *   by a CRL whose AKI is its issuer's SKI and whose signature
 *   verifies with the issuer's key                               -> LC_EREVOKED
 *   a CRL matching an issuer but whose signature is bad is skipped (as Fabric does); CRL dates
 *   are not read (no clock in validation).
 * Revocation is checked only when the chain itself verifies. On success and if ret_chain is not
 * NULL, *ret_chain is the chain (caller frees with lc_cert_chain_free). */
int lc_cert_store_verify(const struct lc_cert_store *st, struct lc_cert *leaf, time_t at,
                         struct lc_errbuf *err, struct lc_cert_chain **ret_chain);

/* One-shot form: builds a store from the arrays, verifies, frees it. Same rules and codes. */
int lc_cert_verify_chain(struct lc_cert *leaf, struct lc_cert *const *roots, size_t nroots,
                         struct lc_cert *const *inter, size_t ninter,
                         const struct lc_crl *const *crls, size_t ncrls, time_t at,
                         struct lc_errbuf *err, struct lc_cert_chain **ret_chain);

/* ---------- Issuing (cryptogen and tests) ---------- */

enum lc_cert_kind {
    LC_CERT_CA,   /* CA:TRUE (critical), KU digitalSignature|keyEncipherment|keyCertSign|cRLSign
                   * (critical), EKU clientAuth+serverAuth, as Fabric's cryptogen CA */
    LC_CERT_SIGN, /* CA:FALSE (critical), KU digitalSignature (critical): an MSP signing cert */
    LC_CERT_TLS,  /* CA:FALSE (critical), KU digitalSignature|keyEncipherment (critical), EKU
                   * serverAuth+clientAuth: a TLS server/client cert */
};

/* What a new certificate says. Strings are UTF-8; NULL or "" leaves an attribute out. */
struct lc_cert_template {
    enum lc_cert_kind kind;
    const char *country, *province, *locality, *organization;
    const char *const *ous; /* subject OUs, in order */
    size_t n_ous;
    const char *common_name;
    const char *const *dns_names; /* SubjectAltName DNS entries */
    size_t n_dns;
    const char *const *ips; /* SubjectAltName IP entries, as text (IPv4 or IPv6) */
    size_t n_ips;
    time_t not_before, not_after; /* any window, so tests can make expired / future certs */
};

/* Issues a certificate for subject_key, signed by issuer_key with ECDSA-SHA256 (low S). With
 * issuer == NULL it is self-signed: the issuer name is the subject and subject_key must be the
 * public half of issuer_key (LC_EINVALID otherwise). Serial: 128 random bits. SubjectKeyIdentifier
 * = lc_pubkey_ski(subject_key); AuthorityKeyIdentifier = the issuer's SKI (its own for a
 * self-signed cert). Rejects: not_after < not_before, a bad IP text, a CN or attribute OpenSSL
 * refuses (LC_EINVALID naming the field); a non-P-256 subject key (LC_EBADKEY). Caller unrefs
 * *ret. */
int lc_cert_issue(const struct lc_cert_template *t, const struct lc_pubkey *subject_key,
                  const struct lc_cert *issuer, const struct lc_privkey *issuer_key,
                  struct lc_errbuf *err, struct lc_cert **ret);

/* Issues a v2 CRL signed by issuer_key (ECDSA-SHA256, low S) listing the serial numbers of
 * revoked[0..n) (revocation time = this_update), with AuthorityKeyIdentifier = issuer's SKI
 * (Fabric matches CRLs by it) and CRL number 1. issuer must have an SKI (LC_EINVALID otherwise).
 * Caller frees *ret with lc_crl_free. */
int lc_crl_issue(const struct lc_cert *issuer, const struct lc_privkey *issuer_key,
                 struct lc_cert *const *revoked, size_t n, time_t this_update, time_t next_update,
                 struct lc_errbuf *err, struct lc_crl **ret);

#endif
