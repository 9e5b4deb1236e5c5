/* SPDX-License-Identifier: Apache-2.0 */
/* Signing, verifying and hashing rates of libcommon/crypto next to raw OpenSSL measured in the same
 * run; prints, asserts nothing. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The bounds are OpenSSL used directly, so the bench includes it; weft code does not. */
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "libcommon/crypto.h"

#define RUN_SECONDS 1.5 /* per variant, split into rounds */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

enum op {
    OP_LC_SIGN,
    OP_EVP_SIGN,        /* long-lived EVP_PKEY, a fresh EVP_PKEY_CTX per signature */
    OP_EVP_IMPORT_SIGN, /* EVP_PKEY imported from a plain scalar per signature, no mprotect */
    OP_LC_VERIFY,
    OP_EVP_VERIFY,
};

struct ctx {
    struct lc_privkey *k;
    EVP_PKEY *pkey;
    uint8_t scalar[32]; /* native order, for OP_EVP_IMPORT_SIGN */
    uint8_t point[LC_P256_POINT_LEN];
    uint8_t sig[LC_ECDSA_SIG_MAX];
    size_t siglen;
    uint8_t msg[256];
};

struct worker {
    struct ctx *c;
    enum op op;
    double seconds;
    long ops;
    int failures;
};

static int one(struct ctx *c, enum op op, long i)
{
    uint8_t d[LC_SHA256_LEN], sig[LC_ECDSA_SIG_MAX];
    size_t len = sizeof sig;
    memcpy(c->msg, &i, sizeof i);
    switch (op) {
    case OP_LC_SIGN:
        return lc_ecdsa_sign(c->k, c->msg, sizeof c->msg, sig, &len);
    case OP_EVP_SIGN:
    case OP_EVP_IMPORT_SIGN: {
        lc_sha256(c->msg, sizeof c->msg, d);
        EVP_PKEY *pk = c->pkey;
        if (op == OP_EVP_IMPORT_SIGN) {
            pk = NULL;
            OSSL_PARAM params[] = {
                OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0),
                OSSL_PARAM_construct_BN(OSSL_PKEY_PARAM_PRIV_KEY, c->scalar, 32),
                OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, c->point,
                                                  sizeof c->point),
                OSSL_PARAM_construct_end(),
            };
            EVP_PKEY_CTX *ic = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
            if (!ic || EVP_PKEY_fromdata_init(ic) != 1 ||
                EVP_PKEY_fromdata(ic, &pk, EVP_PKEY_KEYPAIR, params) != 1)
                pk = NULL;
            EVP_PKEY_CTX_free(ic);
            if (!pk)
                return -1;
        }
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
        int ok =
            ctx && EVP_PKEY_sign_init(ctx) == 1 && EVP_PKEY_sign(ctx, sig, &len, d, sizeof d) == 1;
        EVP_PKEY_CTX_free(ctx);
        if (pk != c->pkey)
            EVP_PKEY_free(pk);
        return ok ? 0 : -1;
    }
    case OP_LC_VERIFY:
        memset(c->msg, 0, sizeof i);
        return lc_ecdsa_verify(lc_privkey_public(c->k), c->msg, sizeof c->msg, c->sig, c->siglen,
                               NULL);
    case OP_EVP_VERIFY: {
        memset(c->msg, 0, sizeof i);
        lc_sha256(c->msg, sizeof c->msg, d);
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, c->pkey, NULL);
        int ok = ctx && EVP_PKEY_verify_init(ctx) == 1 &&
                 EVP_PKEY_verify(ctx, c->sig, c->siglen, d, sizeof d) == 1;
        EVP_PKEY_CTX_free(ctx);
        return ok ? 0 : -1;
    }
    }
    return -1;
}

static void *work(void *arg)
{
    struct worker *w = arg;
    /* per thread copy of the message buffer; keys are shared */
    struct ctx c = *w->c;
    double t0 = now_s(), t = t0;
    long n = 0;
    while (t - t0 < w->seconds) {
        for (int j = 0; j < 32; j++, n++)
            if (one(&c, w->op, n) != 0)
                w->failures++;
        t = now_s();
    }
    w->ops = n;
    w->seconds = t - t0;
    return NULL;
}

/* Ops per second over `seconds` with nthreads threads on the same keys. */
static double rate_once(struct ctx *c, enum op op, int nthreads, double seconds)
{
    struct worker w[4];
    pthread_t th[4];
    for (int i = 0; i < nthreads; i++) {
        w[i] = (struct worker){.c = c, .op = op, .seconds = seconds};
        pthread_create(&th[i], NULL, work, &w[i]);
    }
    double total = 0;
    for (int i = 0; i < nthreads; i++) {
        pthread_join(th[i], NULL);
        total += (double)w[i].ops / w[i].seconds;
        if (w[i].failures)
            printf("  (%d failures in op %d)\n", w[i].failures, (int)op);
    }
    return total;
}

/* The machine is shared, so the variants are measured in interleaved rounds and each keeps its
 * best round: a load swing then hits all of them alike instead of one. */
#define ROUNDS 5
static void rates(struct ctx *c, const enum op *ops, size_t nops, int nthreads, double *out)
{
    for (size_t i = 0; i < nops; i++)
        out[i] = 0;
    for (int r = 0; r < ROUNDS; r++)
        for (size_t i = 0; i < nops; i++) {
            double v = rate_once(c, ops[i], nthreads, RUN_SECONDS / ROUNDS);
            if (v > out[i])
                out[i] = v;
        }
}

/* Runs `openssl speed -seconds 2 ecdsap256` and picks sign/s and verify/s from its table. */
static bool openssl_speed(double *sign, double *verify)
{
    if (system("command -v openssl >/dev/null 2>&1") != 0)
        return false;
    FILE *p = popen("openssl speed -seconds 2 ecdsap256 2>/dev/null", "r");
    if (!p)
        return false;
    char line[512];
    bool found = false;
    while (fgets(line, sizeof line, p)) {
        /* " 256 bits ecdsa (nistp256)   0.0000s   0.0001s  39600.0  13000.0" */
        char *q = strstr(line, "(nistp256)");
        if (!q)
            continue;
        double ts, tv;
        if (sscanf(q + strlen("(nistp256)"), " %lfs %lfs %lf %lf", &ts, &tv, sign, verify) == 4)
            found = true;
    }
    pclose(p);
    return found;
}

static void sha_rate(size_t block)
{
    static uint8_t buf[1 << 20];
    uint8_t d[LC_SHA256_LEN];
    size_t total = 0;
    double t0 = now_s(), t = t0;
    while (t - t0 < RUN_SECONDS) {
        for (int j = 0; j < 64; j++) {
            lc_sha256(buf, block, d);
            buf[0] ^= d[0];
            total += block;
        }
        t = now_s();
    }
    printf("sha256 %7zu B blocks:           %8.1f MB/s\n", block, (double)total / (t - t0) / 1e6);
}

int main(void)
{
    if (lc_crypto_init() != 0) {
        fprintf(stderr, "crypto init failed\n");
        return 1;
    }
    struct ctx c = {0};
    char *pem = NULL;
    size_t len;
    if (lc_privkey_generate(&c.k) != 0 || lc_privkey_to_pem(c.k, &pem, &len) != 0)
        return 1;
    /* the same key as a long-lived OpenSSL EVP_PKEY (the bound) */
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    c.pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    lc_privkey_pem_free(pem);
    BIGNUM *bn = NULL;
    if (!c.pkey || EVP_PKEY_get_bn_param(c.pkey, OSSL_PKEY_PARAM_PRIV_KEY, &bn) != 1 ||
        BN_bn2nativepad(bn, c.scalar, 32) != 32)
        return 1;
    BN_clear_free(bn);
    lc_pubkey_point(lc_privkey_public(c.k), c.point);
    if (lc_ecdsa_sign(c.k, c.msg, sizeof c.msg, c.sig, &c.siglen) != 0)
        return 1;

    /* warm up: memory and OpenSSL's method caches */
    rate_once(&c, OP_LC_SIGN, 1, 0.3);

    printf("ECDSA P-256 over a 256-byte message (SHA-256 included); best of %d interleaved "
           "rounds of %.1f s\n",
           ROUNDS, RUN_SECONDS / ROUNDS);
    static const enum op ops[] = {OP_LC_SIGN, OP_EVP_SIGN, OP_EVP_IMPORT_SIGN, OP_LC_VERIFY,
                                  OP_EVP_VERIFY};
    for (int th = 1; th <= 2; th++) {
        double v[5];
        rates(&c, ops, 5, th, v);
        double ls = v[0], es = v[1], is = v[2], lv = v[3], ev = v[4];
        printf("%d thread%s:\n", th, th > 1 ? "s" : " ");
        printf("  sign   lc_ecdsa_sign                %8.0f /s   %.2f x EVP\n", ls, ls / es);
        printf("  sign   EVP, long-lived key          %8.0f /s\n", es);
        printf("  sign   EVP_PKEY_fromdata per op     %8.0f /s   %.2f x EVP\n", is, is / es);
        printf("  verify lc_ecdsa_verify              %8.0f /s   %.2f x EVP\n", lv, lv / ev);
        printf("  verify EVP                          %8.0f /s\n", ev);
        if (th == 1) {
            printf("  per op: lc sign %.1f us, EVP sign %.1f us, difference %.1f us\n", 1e6 / ls,
                   1e6 / es, 1e6 / ls - 1e6 / es);
            double ss, sv;
            if (openssl_speed(&ss, &sv)) {
                printf("  openssl speed ecdsap256: sign %.0f /s, verify %.0f /s (no hashing)\n", ss,
                       sv);
                printf("  lc / openssl speed:      sign %.2f, verify %.2f\n", ls / ss, lv / sv);
            } else {
                printf("  openssl speed: not available\n");
            }
        }
    }
    sha_rate(64);
    sha_rate(1024);
    sha_rate(1 << 20);
    EVP_PKEY_free(c.pkey);
    lc_privkey_free(c.k);
    return 0;
}
