/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for `weft cryptogen`: the MSP tree it writes, chains, OUs, key/cert pairs, TLS SANs, flag
 * rejections. */
#include <check.h>
#include <dirent.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cmds.h"
#include "libcommon/crypto.h"

static char tmp[64];

static void setup(void)
{
    snprintf(tmp, sizeof tmp, "/tmp/weft-cryptogen-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmp));
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st, (void)flag, (void)f;
    return remove(p);
}

static void teardown(void)
{
    nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *pathf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *pathf(const char *fmt, ...)
{
    static char bufs[4][PATH_MAX];
    static int next;
    char *b = bufs[next++ % 4];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b, PATH_MAX, fmt, ap);
    va_end(ap);
    ck_assert(n > 0 && n < PATH_MAX);
    return b;
}

static char *slurp(const char *path, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "missing %s", path);
    char *buf = malloc(65536);
    size_t n = fread(buf, 1, 65535, f);
    fclose(f);
    buf[n] = '\0';
    *ret_len = n;
    return buf;
}

static struct lc_cert *load_cert(const char *path)
{
    size_t n;
    char *pem = slurp(path, &n);
    struct lc_cert *c = NULL;
    struct lc_errbuf err;
    ck_assert_msg(lc_cert_from_pem(pem, n, &err, &c) == 0, "%s: %s", path, err.msg);
    free(pem);
    return c;
}

static struct lc_privkey *load_key(const char *path)
{
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_msg((st.st_mode & 0777) == 0600, "%s has mode %o", path, st.st_mode & 0777);
    size_t n;
    char *pem = slurp(path, &n);
    ck_assert_ptr_nonnull(strstr(pem, "-----BEGIN PRIVATE KEY-----"));
    struct lc_privkey *k = NULL;
    struct lc_errbuf err;
    ck_assert_msg(lc_privkey_from_pem(pem, n, &err, &k) == 0, "%s: %s", path, err.msg);
    free(pem);
    return k;
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool dir_is_empty(const char *path)
{
    DIR *d = opendir(path);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n == 0;
}

static int cryptogen(const char *a1, ...)
{
    char *argv[32] = {(char *)"cryptogen"};
    int argc = 1;
    va_list ap;
    va_start(ap, a1);
    for (const char *a = a1; a && argc < 31; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;
    return weft_cmd_cryptogen(argc, argv);
}

/* A key pair works: a signature by the key verifies with the certificate. */
static void check_pair(const struct lc_cert *c, const struct lc_privkey *k)
{
    ck_assert(lc_cert_matches_key(c, k));
    uint8_t sig[LC_ECDSA_SIG_MAX];
    size_t len;
    ck_assert_int_eq(lc_ecdsa_sign(k, "probe", 5, sig, &len), 0);
    struct lc_errbuf err;
    ck_assert_msg(lc_ecdsa_verify(lc_cert_pubkey(c), "probe", 5, sig, len, &err) == 0, "%s",
                  err.msg);
}

static void check_chain(struct lc_cert *leaf, struct lc_cert *ca, struct lc_cert *wrong)
{
    struct lc_errbuf err;
    ck_assert_msg(lc_cert_verify_chain(leaf, &ca, 1, NULL, 0, NULL, 0, lc_cert_not_before(leaf) + 1,
                                       &err, NULL) == 0,
                  "%s", err.msg);
    ck_assert_int_eq(lc_cert_verify_chain(leaf, &ca, 1, NULL, 0, NULL, 0, time(NULL), &err, NULL),
                     0);
    ck_assert_int_eq(lc_cert_check_validity(leaf, time(NULL), &err), 0);
    ck_assert_int_eq(
        lc_cert_verify_chain(leaf, &wrong, 1, NULL, 0, NULL, 0, time(NULL), &err, NULL),
        LC_EBADCERT);
    size_t al, sl;
    const uint8_t *aki = lc_cert_aki(leaf, &al), *ski = lc_cert_ski(ca, &sl);
    ck_assert_uint_eq(al, sl);
    ck_assert_mem_eq(aki, ski, al);
}

static void check_same_cert(const char *path, const struct lc_cert *want)
{
    struct lc_cert *c = load_cert(path);
    ck_assert_msg(lc_cert_equal(c, want), "%s differs", path);
    lc_cert_unref(c);
}

static void check_config_yaml(const char *msp, const char *ca_name_in)
{
    char ca_name[256];
    snprintf(ca_name, sizeof ca_name, "%s", ca_name_in);
    char want[2048];
    snprintf(want, sizeof want,
             "NodeOUs:\n"
             "  Enable: true\n"
             "  ClientOUIdentifier:\n"
             "    Certificate: cacerts/%s-cert.pem\n"
             "    OrganizationalUnitIdentifier: client\n"
             "  PeerOUIdentifier:\n"
             "    Certificate: cacerts/%s-cert.pem\n"
             "    OrganizationalUnitIdentifier: peer\n"
             "  AdminOUIdentifier:\n"
             "    Certificate: cacerts/%s-cert.pem\n"
             "    OrganizationalUnitIdentifier: admin\n"
             "  OrdererOUIdentifier:\n"
             "    Certificate: cacerts/%s-cert.pem\n"
             "    OrganizationalUnitIdentifier: orderer\n",
             ca_name, ca_name, ca_name, ca_name);
    size_t n;
    char *got = slurp(pathf("%s/config.yaml", msp), &n);
    ck_assert_str_eq(got, want);
    free(got);
}

struct org {
    const char *base, *name;
    struct lc_cert *ca, *tlsca;
};

static void check_verifying_msp(const char *msp_in, const struct org *o)
{
    char msp[PATH_MAX]; /* pathf's buffers rotate: keep our own copy */
    snprintf(msp, sizeof msp, "%s", msp_in);
    check_same_cert(pathf("%s/cacerts/ca.%s-cert.pem", msp, o->name), o->ca);
    check_same_cert(pathf("%s/tlscacerts/tlsca.%s-cert.pem", msp, o->name), o->tlsca);
    ck_assert(is_dir(pathf("%s/admincerts", msp)));
    ck_assert(dir_is_empty(pathf("%s/admincerts", msp)));
    check_config_yaml(msp, pathf("ca.%s", o->name));
}

static void check_identity(const struct org *o, const char *dir_in, const char *cn, const char *ou,
                           bool node)
{
    char dir[PATH_MAX], msp[PATH_MAX + 8];
    snprintf(dir, sizeof dir, "%s", dir_in);
    snprintf(msp, sizeof msp, "%s/msp", dir);
    check_verifying_msp(msp, o);
    struct lc_cert *sc = load_cert(pathf("%s/signcerts/%s-cert.pem", msp, cn));
    struct lc_privkey *sk = load_key(pathf("%s/keystore/priv_sk", msp));
    check_pair(sc, sk);
    check_chain(sc, o->ca, o->tlsca);
    ck_assert_str_eq(lc_cert_subject_cn(sc), cn);
    ck_assert_uint_eq(lc_cert_ou_count(sc), 1);
    ck_assert_str_eq(lc_cert_ou(sc, 0), ou);
    ck_assert(!lc_cert_is_ca(sc));
    ck_assert_uint_eq(lc_cert_key_usage(sc), LC_KU_DIGITAL_SIGNATURE);
    ck_assert_str_eq(lc_cert_subject_str(sc),
                     pathf("C=US, ST=California, L=San Francisco, OU=%s, CN=%s", ou, cn));

    check_same_cert(pathf("%s/tls/ca.crt", dir), o->tlsca);
    const char *role = node ? "server" : "client";
    struct lc_cert *tc = load_cert(pathf("%s/tls/%s.crt", dir, role));
    struct lc_privkey *tk = load_key(pathf("%s/tls/%s.key", dir, role));
    check_pair(tc, tk);
    check_chain(tc, o->tlsca, o->ca);
    ck_assert_str_eq(lc_cert_subject_cn(tc), cn);
    ck_assert_uint_eq(lc_cert_ext_key_usage(tc), LC_EKU_SERVER_AUTH | LC_EKU_CLIENT_AUTH);
    ck_assert(!lc_cert_matches_key(tc, sk));
    if (node) {
        char shortname[128];
        size_t sl = strcspn(cn, ".");
        memcpy(shortname, cn, sl);
        shortname[sl] = '\0';
        ck_assert_uint_eq(lc_cert_dns_count(tc), 3);
        ck_assert_str_eq(lc_cert_dns(tc, 0), cn);
        ck_assert_str_eq(lc_cert_dns(tc, 1), shortname);
        ck_assert_str_eq(lc_cert_dns(tc, 2), "localhost");
        ck_assert_uint_eq(lc_cert_ip_count(tc), 1);
        ck_assert_str_eq(lc_cert_ip(tc, 0), "127.0.0.1");
    } else {
        ck_assert_uint_eq(lc_cert_dns_count(tc), 1);
        ck_assert_str_eq(lc_cert_dns(tc, 0), cn);
    }
    lc_cert_unref(tc);
    lc_privkey_free(tk);
    lc_cert_unref(sc);
    lc_privkey_free(sk);
}

static void open_org(struct org *o, const char *base_in, const char *name)
{
    static char bases[2][PATH_MAX];
    static int nb;
    char *base = bases[nb++ % 2];
    snprintf(base, PATH_MAX, "%s", base_in);
    o->base = base;
    o->name = name;
    o->ca = load_cert(pathf("%s/ca/ca.%s-cert.pem", base, name));
    o->tlsca = load_cert(pathf("%s/tlsca/tlsca.%s-cert.pem", base, name));
    struct lc_privkey *k = load_key(pathf("%s/ca/priv_sk", base));
    check_pair(o->ca, k);
    lc_privkey_free(k);
    k = load_key(pathf("%s/tlsca/priv_sk", base));
    check_pair(o->tlsca, k);
    lc_privkey_free(k);
    ck_assert(lc_cert_is_ca(o->ca));
    ck_assert(lc_cert_is_ca(o->tlsca));
    ck_assert_str_eq(lc_cert_subject_cn(o->ca), pathf("ca.%s", name));
    ck_assert_str_eq(lc_cert_subject_str(o->ca),
                     pathf("C=US, ST=California, L=San Francisco, O=%s, CN=ca.%s", name, name));
    /* Fabric's SKI: SHA-256 of the public point */
    uint8_t ski[LC_SHA256_LEN];
    size_t sl;
    ck_assert_int_eq(lc_pubkey_ski(lc_cert_pubkey(o->ca), ski), 0);
    ck_assert_uint_eq(sl = 0, 0);
    const uint8_t *got = lc_cert_ski(o->ca, &sl);
    ck_assert_uint_eq(sl, LC_SHA256_LEN);
    ck_assert_mem_eq(got, ski, sl);
    /* the CA verifies as its own root, ten years ahead of now */
    struct lc_errbuf err;
    ck_assert_int_eq(
        lc_cert_verify_chain(o->ca, &o->ca, 1, NULL, 0, NULL, 0, time(NULL), &err, NULL), 0);
    ck_assert(lc_cert_not_after(o->ca) - lc_cert_not_before(o->ca) >= (time_t)3650 * 86400);
    ck_assert(lc_cert_not_before(o->ca) <= time(NULL) - 5 * 60);
    check_verifying_msp(pathf("%s/msp", base), o);
}

static void close_org(struct org *o)
{
    lc_cert_unref(o->ca);
    lc_cert_unref(o->tlsca);
}

START_TEST(default_network_tree)
{
    char out[256];
    snprintf(out, sizeof out, "%s/crypto-config", tmp);
    ck_assert_int_eq(cryptogen("--output", out, NULL), 0);
    for (int i = 1; i <= 2; i++) {
        char name[64], base[PATH_MAX];
        snprintf(name, sizeof name, "org%d.example.com", i);
        snprintf(base, sizeof base, "%s/peerOrganizations/%s", out, name);
        struct org o;
        open_org(&o, base, name);
        for (int p = 0; p < 2; p++) {
            const char *cn = pathf("peer%d.%s", p, name);
            char cnbuf[128];
            snprintf(cnbuf, sizeof cnbuf, "%s", cn);
            check_identity(&o, pathf("%s/peers/%s", base, cnbuf), cnbuf, "peer", true);
        }
        ck_assert(!is_dir(pathf("%s/peers/peer2.%s", base, name)));
        char cn[128];
        snprintf(cn, sizeof cn, "Admin@%s", name);
        check_identity(&o, pathf("%s/users/%s", base, cn), cn, "admin", false);
        snprintf(cn, sizeof cn, "User1@%s", name);
        check_identity(&o, pathf("%s/users/%s", base, cn), cn, "client", false);
        ck_assert(!is_dir(pathf("%s/users/User2@%s", base, name)));
        close_org(&o);
    }
    ck_assert(!is_dir(pathf("%s/peerOrganizations/org3.example.com", out)));
    struct org oo;
    char base[PATH_MAX];
    snprintf(base, sizeof base, "%s/ordererOrganizations/example.com", out);
    open_org(&oo, base, "example.com");
    check_identity(&oo, pathf("%s/orderers/orderer0.example.com", base), "orderer0.example.com",
                   "orderer", true);
    ck_assert(!is_dir(pathf("%s/orderers/orderer1.example.com", base)));
    check_identity(&oo, pathf("%s/users/Admin@example.com", base), "Admin@example.com", "admin",
                   false);
    ck_assert(!is_dir(pathf("%s/users/User1@example.com", base)));
    close_org(&oo);
}
END_TEST

START_TEST(counts_and_domain_follow_flags)
{
    char out[256];
    snprintf(out, sizeof out, "%s/net", tmp);
    ck_assert_int_eq(cryptogen("--output", out, "--peer-orgs", "1", "--peers-per-org", "3",
                               "--users", "2", "--orderers", "2", "--domain", "test.net", NULL),
                     0);
    const char *base = pathf("%s/peerOrganizations/org1.test.net", out);
    char b[PATH_MAX];
    snprintf(b, sizeof b, "%s", base);
    struct org o;
    open_org(&o, b, "org1.test.net");
    check_identity(&o, pathf("%s/peers/peer2.org1.test.net", b), "peer2.org1.test.net", "peer",
                   true);
    check_identity(&o, pathf("%s/users/User2@org1.test.net", b), "User2@org1.test.net", "client",
                   false);
    close_org(&o);
    ck_assert(!is_dir(pathf("%s/peerOrganizations/org2.test.net", out)));
    snprintf(b, sizeof b, "%s/ordererOrganizations/test.net", out);
    open_org(&o, b, "test.net");
    check_identity(&o, pathf("%s/orderers/orderer1.test.net", b), "orderer1.test.net", "orderer",
                   true);
    close_org(&o);
    /* a second run into the same place is refused and leaves the tree alone */
    struct lc_cert *before = load_cert(pathf("%s/ca/ca.test.net-cert.pem", b));
    ck_assert_int_eq(cryptogen("--output", out, "--peer-orgs", "1", "--domain", "test.net", NULL),
                     1);
    struct lc_cert *after = load_cert(pathf("%s/ca/ca.test.net-cert.pem", b));
    ck_assert(lc_cert_equal(before, after));
    lc_cert_unref(before);
    lc_cert_unref(after);
}
END_TEST

START_TEST(bad_flags_are_rejected)
{
    char out[256];
    snprintf(out, sizeof out, "%s/x", tmp);
    ck_assert_int_eq(cryptogen("--help", NULL), 0);
    ck_assert_int_eq(cryptogen("--output", out, "--peer-orgs", "0", NULL), 2);
    ck_assert_int_eq(cryptogen("--output", out, "--peer-orgs", "two", NULL), 2);
    ck_assert_int_eq(cryptogen("--output", out, "--peers-per-org", "-1", NULL), 2);
    ck_assert_int_eq(cryptogen("--output", out, "--users", "5x", NULL), 2);
    ck_assert_int_eq(cryptogen("--output", out, "--orderers", "100000", NULL), 2);
    ck_assert_int_eq(cryptogen("--output", out, "--domain", "bad domain", NULL), 2);
    ck_assert_int_eq(cryptogen("--output", out, "--domain", "a..b", NULL), 2);
    ck_assert_int_eq(cryptogen("--output", out, "--frobnicate", NULL), 2);
    ck_assert_int_eq(cryptogen("--output", out, "stray", NULL), 2);
    ck_assert_int_eq(cryptogen("--output", "", NULL), 2);
    ck_assert(!is_dir(out));
    /* an output path that cannot be created */
    ck_assert_int_eq(cryptogen("--output", "/proc/weft-no-such/dir", "--peer-orgs", "1", NULL), 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cryptogen");
    TCase *tc = tcase_create("tree");
    /* unchecked: the parent removes the directory even when a test fails in its child */
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, default_network_tree);
    tcase_add_test(tc, counts_and_domain_follow_flags);
    tcase_add_test(tc, bad_flags_are_rejected);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
