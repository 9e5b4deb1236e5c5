/* SPDX-License-Identifier: Apache-2.0 */
/* `weft cryptogen`: writes MSP trees (CAs, keys, signing and TLS certificates) in Fabric
 * cryptogen's layout. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cmds.h"
#include "libcommon/crypto.h"
#include "libcommon/err.h"

#define MAX_ORGS 100
#define MAX_NODES 1000
#define MAX_DOMAIN 200

/* Subject attributes Fabric's cryptogen puts on every certificate by default. */
#define SUBJ_C "US"
#define SUBJ_ST "California"
#define SUBJ_L "San Francisco"

struct opts {
    const char *output;
    const char *domain;
    long peer_orgs, peers, users, orderers;
};

/* A CA of an organisation: its certificate, key and name ("ca.org1.example.com"). */
struct ca {
    struct lc_cert *cert;
    struct lc_privkey *key;
    char name[256];
};

struct run {
    const struct opts *o;
    time_t not_before, not_after;
    struct lc_errbuf err;
};

static void ca_done(struct ca *ca)
{
    lc_cert_unref(ca->cert);
    lc_privkey_free(ca->key);
    ca->cert = NULL;
    ca->key = NULL;
}

/* Formats a path into buf (PATH_MAX); fails with the cause in r->err when it does not fit. */
static int pathf(struct run *r, char *buf, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int pathf(struct run *r, char *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, PATH_MAX, fmt, ap);
    va_end(ap);
    if (n < 0 || n >= PATH_MAX)
        return lc_fail(&r->err, -ENAMETOOLONG, "path too long under %s", r->o->output);
    return 0;
}

static int mkdir_p(struct run *r, const char *path)
{
    char buf[PATH_MAX];
    size_t len = strlen(path);
    if (len >= sizeof buf)
        return lc_fail(&r->err, -ENAMETOOLONG, "%s: path too long", path);
    memcpy(buf, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
            return lc_fail(&r->err, -errno, "mkdir %s: %s", buf, strerror(errno));
        buf[i] = c;
    }
    return 0;
}

/* Creates path (which must not exist) with exactly `mode`, whatever the umask. */
static int write_file(struct run *r, const char *path, const void *data, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        return lc_fail(&r->err, -errno, "create %s: %s", path, strerror(errno));
    int rc = 0;
    if (fchmod(fd, mode) < 0)
        rc = -errno;
    const char *p = data;
    while (rc == 0 && len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            break;
        }
        p += n;
        len -= (size_t)n;
    }
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    if (rc < 0)
        return lc_fail(&r->err, rc, "write %s: %s", path, strerror(-rc));
    return 0;
}

static int write_cert(struct run *r, const char *path, const struct lc_cert *c)
{
    char *pem = NULL;
    size_t len = 0;
    if (lc_cert_to_pem(c, &pem, &len) < 0)
        return lc_fail(&r->err, LC_ECRYPTO, "encode certificate for %s", path);
    int rc = write_file(r, path, pem, len, 0644);
    free(pem);
    return rc;
}

static int write_key(struct run *r, const char *path, const struct lc_privkey *k)
{
    char *pem = NULL;
    size_t len = 0;
    if (lc_privkey_to_pem(k, &pem, &len) < 0)
        return lc_fail(&r->err, LC_ECRYPTO, "encode key for %s", path);
    int rc = write_file(r, path, pem, len, 0600);
    lc_privkey_pem_free(pem);
    return rc;
}

/* Makes a self-signed CA named cn for organisation org and writes <dir>/<cn>-cert.pem and
 * <dir>/priv_sk. */
static int make_ca(struct run *r, const char *dir, const char *cn, const char *org, struct ca *ca)
{
    char path[PATH_MAX];
    int rc = snprintf(ca->name, sizeof ca->name, "%s", cn) >= (int)sizeof ca->name
                 ? lc_fail(&r->err, LC_EINVALID, "CA name too long: %s", cn)
                 : 0;
    if (rc < 0)
        return rc;
    if ((rc = lc_privkey_generate(&ca->key)) < 0)
        return lc_fail(&r->err, rc, "generate key for %s", cn);
    struct lc_cert_template t = {.kind = LC_CERT_CA,
                                 .country = SUBJ_C,
                                 .province = SUBJ_ST,
                                 .locality = SUBJ_L,
                                 .organization = org,
                                 .common_name = cn,
                                 .not_before = r->not_before,
                                 .not_after = r->not_after};
    if ((rc = lc_cert_issue(&t, lc_privkey_public(ca->key), NULL, ca->key, &r->err, &ca->cert)) < 0)
        return rc;
    if ((rc = mkdir_p(r, dir)) < 0 || (rc = pathf(r, path, "%s/%s-cert.pem", dir, cn)) < 0 ||
        (rc = write_cert(r, path, ca->cert)) < 0 || (rc = pathf(r, path, "%s/priv_sk", dir)) < 0 ||
        (rc = write_key(r, path, ca->key)) < 0)
        return rc;
    return 0;
}

/* config.yaml with NodeOUs enabled, as Fabric's cryptogen writes it. */
static int write_config_yaml(struct run *r, const char *msp, const struct ca *ca)
{
    static const char *const ids[][2] = {{"ClientOUIdentifier", "client"},
                                         {"PeerOUIdentifier", "peer"},
                                         {"AdminOUIdentifier", "admin"},
                                         {"OrdererOUIdentifier", "orderer"}};
    char text[2048], path[PATH_MAX];
    size_t n = (size_t)snprintf(text, sizeof text, "NodeOUs:\n  Enable: true\n");
    for (size_t i = 0; i < 4 && n < sizeof text; i++)
        n += (size_t)snprintf(text + n, sizeof text - n,
                              "  %s:\n    Certificate: cacerts/%s-cert.pem\n"
                              "    OrganizationalUnitIdentifier: %s\n",
                              ids[i][0], ca->name, ids[i][1]);
    if (n >= sizeof text)
        return lc_fail(&r->err, LC_ETOOBIG, "config.yaml for %s too long", msp);
    int rc = pathf(r, path, "%s/config.yaml", msp);
    return rc < 0 ? rc : write_file(r, path, text, n, 0644);
}

/* The public part of an MSP: admincerts/ (empty, NodeOUs decide admins), cacerts/,
 * tlscacerts/, config.yaml. */
static int write_verifying_msp(struct run *r, const char *msp, const struct ca *ca,
                               const struct ca *tlsca)
{
    char path[PATH_MAX];
    int rc;
    if ((rc = pathf(r, path, "%s/admincerts", msp)) < 0 || (rc = mkdir_p(r, path)) < 0 ||
        (rc = pathf(r, path, "%s/cacerts", msp)) < 0 || (rc = mkdir_p(r, path)) < 0 ||
        (rc = pathf(r, path, "%s/cacerts/%s-cert.pem", msp, ca->name)) < 0 ||
        (rc = write_cert(r, path, ca->cert)) < 0 ||
        (rc = pathf(r, path, "%s/tlscacerts", msp)) < 0 || (rc = mkdir_p(r, path)) < 0 ||
        (rc = pathf(r, path, "%s/tlscacerts/%s-cert.pem", msp, tlsca->name)) < 0 ||
        (rc = write_cert(r, path, tlsca->cert)) < 0)
        return rc;
    return write_config_yaml(r, msp, ca);
}

/* Issues a key and certificate signed by ca and writes them as <dir>/<cert_name> and
 * <dir>/<key_name>. */
static int issue_pair(struct run *r, const struct ca *ca, const struct lc_cert_template *t,
                      const char *cert_path, const char *key_path)
{
    struct lc_privkey *k = NULL;
    struct lc_cert *c = NULL;
    int rc = lc_privkey_generate(&k);
    if (rc < 0) {
        lc_fail(&r->err, rc, "generate key for %s", t->common_name);
        goto out;
    }
    if ((rc = lc_cert_issue(t, lc_privkey_public(k), ca->cert, ca->key, &r->err, &c)) < 0 ||
        (rc = write_cert(r, cert_path, c)) < 0 || (rc = write_key(r, key_path, k)) < 0)
        goto out;
out:
    lc_cert_unref(c);
    lc_privkey_free(k);
    return rc;
}

/* A node or user: <dir>/msp (signing identity with OU `ou`) and <dir>/tls (server or client
 * TLS pair from tlsca). Node TLS certs carry SANs cn, short name, localhost, 127.0.0.1. */
static int write_identity(struct run *r, const char *dir, const char *cn, const char *ou, bool node,
                          const struct ca *ca, const struct ca *tlsca)
{
    char msp[PATH_MAX], path[PATH_MAX], key[PATH_MAX];
    int rc;
    if ((rc = pathf(r, msp, "%s/msp", dir)) < 0 ||
        (rc = write_verifying_msp(r, msp, ca, tlsca)) < 0)
        return rc;
    const char *ous[] = {ou};
    struct lc_cert_template t = {.kind = LC_CERT_SIGN,
                                 .country = SUBJ_C,
                                 .province = SUBJ_ST,
                                 .locality = SUBJ_L,
                                 .ous = ous,
                                 .n_ous = 1,
                                 .common_name = cn,
                                 .not_before = r->not_before,
                                 .not_after = r->not_after};
    if ((rc = pathf(r, path, "%s/signcerts", msp)) < 0 || (rc = mkdir_p(r, path)) < 0 ||
        (rc = pathf(r, path, "%s/keystore", msp)) < 0 || (rc = mkdir_p(r, path)) < 0 ||
        (rc = pathf(r, path, "%s/signcerts/%s-cert.pem", msp, cn)) < 0 ||
        (rc = pathf(r, key, "%s/keystore/priv_sk", msp)) < 0 ||
        (rc = issue_pair(r, ca, &t, path, key)) < 0)
        return rc;

    char shortname[256];
    size_t sl = strcspn(cn, ".");
    if (sl >= sizeof shortname)
        return lc_fail(&r->err, LC_EINVALID, "host name too long: %s", cn);
    memcpy(shortname, cn, sl);
    shortname[sl] = '\0';
    const char *dns_node[] = {cn, shortname, "localhost"};
    const char *dns_user[] = {cn};
    const char *ips[] = {"127.0.0.1"};
    struct lc_cert_template tt = {.kind = LC_CERT_TLS,
                                  .country = SUBJ_C,
                                  .province = SUBJ_ST,
                                  .locality = SUBJ_L,
                                  .common_name = cn,
                                  .dns_names = node ? dns_node : dns_user,
                                  .n_dns = node ? 3 : 1,
                                  .ips = ips,
                                  .n_ips = node ? 1 : 0,
                                  .not_before = r->not_before,
                                  .not_after = r->not_after};
    const char *role = node ? "server" : "client";
    if ((rc = pathf(r, path, "%s/tls", dir)) < 0 || (rc = mkdir_p(r, path)) < 0 ||
        (rc = pathf(r, path, "%s/tls/ca.crt", dir)) < 0 ||
        (rc = write_cert(r, path, tlsca->cert)) < 0 ||
        (rc = pathf(r, path, "%s/tls/%s.crt", dir, role)) < 0 ||
        (rc = pathf(r, key, "%s/tls/%s.key", dir, role)) < 0 ||
        (rc = issue_pair(r, tlsca, &tt, path, key)) < 0)
        return rc;
    return 0;
}

/* One organisation under <output>/<kind_dir>/<org>: CAs, org MSP, nodes (peerN or ordererN,
 * from 0) and users (Admin, then User1..UserN). */
static int write_org(struct run *r, const char *kind_dir, const char *org, bool orderer_org,
                     long nodes, long users)
{
    char base[PATH_MAX], dir[PATH_MAX], cn[512];
    struct ca ca = {0}, tlsca = {0};
    int rc;
    if ((rc = pathf(r, base, "%s/%s/%s", r->o->output, kind_dir, org)) < 0)
        goto out;
    snprintf(cn, sizeof cn, "ca.%s", org);
    if ((rc = pathf(r, dir, "%s/ca", base)) < 0 || (rc = make_ca(r, dir, cn, org, &ca)) < 0)
        goto out;
    snprintf(cn, sizeof cn, "tlsca.%s", org);
    if ((rc = pathf(r, dir, "%s/tlsca", base)) < 0 || (rc = make_ca(r, dir, cn, org, &tlsca)) < 0)
        goto out;
    if ((rc = pathf(r, dir, "%s/msp", base)) < 0 ||
        (rc = write_verifying_msp(r, dir, &ca, &tlsca)) < 0)
        goto out;
    for (long i = 0; i < nodes; i++) {
        snprintf(cn, sizeof cn, "%s%ld.%s", orderer_org ? "orderer" : "peer", i, org);
        if ((rc = pathf(r, dir, "%s/%s/%s", base, orderer_org ? "orderers" : "peers", cn)) < 0 ||
            (rc = write_identity(r, dir, cn, orderer_org ? "orderer" : "peer", true, &ca, &tlsca)) <
                0)
            goto out;
    }
    for (long i = 0; i <= users; i++) {
        if (i == 0)
            snprintf(cn, sizeof cn, "Admin@%s", org);
        else
            snprintf(cn, sizeof cn, "User%ld@%s", i, org);
        if ((rc = pathf(r, dir, "%s/users/%s", base, cn)) < 0 ||
            (rc = write_identity(r, dir, cn, i == 0 ? "admin" : "client", false, &ca, &tlsca)) < 0)
            goto out;
    }
    rc = 0;
out:
    ca_done(&ca);
    ca_done(&tlsca);
    return rc;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: weft cryptogen [flags]\n\n"
            "Writes keys and certificates for a network in Fabric cryptogen's layout:\n"
            "  DIR/peerOrganizations/orgN.DOMAIN/{ca,tlsca,msp,peers,users}  (MSP id OrgNMSP)\n"
            "  DIR/ordererOrganizations/DOMAIN/{ca,tlsca,msp,orderers,users} (MSP id OrdererMSP)\n"
            "ECDSA P-256, NodeOUs enabled (config.yaml), keys as PKCS#8 priv_sk (mode 0600).\n\n"
            "flags:\n"
            "  --output DIR         where to write (default crypto-config); org directories\n"
            "                       must not exist yet\n"
            "  --peer-orgs N        peer organisations (default 2)\n"
            "  --peers-per-org N    peers in each (default 2)\n"
            "  --users N            users besides Admin in each peer org (default 1)\n"
            "  --orderers N         orderer nodes (default 1)\n"
            "  --domain NAME        domain (default example.com)\n"
            "  --help               this text\n");
}

static int parse_count(const char *flag, const char *v, long min, long max, long *ret)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < min || n > max) {
        fprintf(stderr, "weft cryptogen: --%s: \"%s\" is not a number in %ld..%ld\n", flag, v, min,
                max);
        return -1;
    }
    *ret = n;
    return 0;
}

static bool domain_ok(const char *d)
{
    size_t n = strlen(d);
    if (n == 0 || n > MAX_DOMAIN || d[0] == '.' || d[0] == '-' || d[n - 1] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = d[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.'))
            return false;
        if (c == '.' && d[i + 1] == '.')
            return false;
    }
    return true;
}

/* Refuses to mix with an earlier run: no organisation directory may exist yet. */
static int check_fresh(struct run *r)
{
    char path[PATH_MAX];
    struct stat st;
    for (long i = 0; i <= r->o->peer_orgs; i++) {
        int rc = i == 0 ? pathf(r, path, "%s/ordererOrganizations/%s", r->o->output, r->o->domain)
                        : pathf(r, path, "%s/peerOrganizations/org%ld.%s", r->o->output, i,
                                r->o->domain);
        if (rc < 0)
            return rc;
        if (stat(path, &st) == 0)
            return lc_fail(&r->err, LC_EEXISTS,
                           "%s already exists; remove it or pick another "
                           "--output",
                           path);
    }
    return 0;
}

int weft_cmd_cryptogen(int argc, char **argv)
{
    struct opts o = {.output = "crypto-config",
                     .domain = "example.com",
                     .peer_orgs = 2,
                     .peers = 2,
                     .users = 1,
                     .orderers = 1};
    enum { OPT_OUTPUT = 1, OPT_PEER_ORGS, OPT_PEERS, OPT_USERS, OPT_ORDERERS, OPT_DOMAIN };
    static const struct option longopts[] = {
        {"output", required_argument, NULL, OPT_OUTPUT},
        {"peer-orgs", required_argument, NULL, OPT_PEER_ORGS},
        {"peers-per-org", required_argument, NULL, OPT_PEERS},
        {"users", required_argument, NULL, OPT_USERS},
        {"orderers", required_argument, NULL, OPT_ORDERERS},
        {"domain", required_argument, NULL, OPT_DOMAIN},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    optind = 0; /* GNU: full re-initialisation, so the function can run more than once */
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_OUTPUT:
            o.output = optarg;
            break;
        case OPT_PEER_ORGS:
            if (parse_count("peer-orgs", optarg, 1, MAX_ORGS, &o.peer_orgs) < 0)
                return 2;
            break;
        case OPT_PEERS:
            if (parse_count("peers-per-org", optarg, 1, MAX_NODES, &o.peers) < 0)
                return 2;
            break;
        case OPT_USERS:
            if (parse_count("users", optarg, 0, MAX_NODES, &o.users) < 0)
                return 2;
            break;
        case OPT_ORDERERS:
            if (parse_count("orderers", optarg, 1, MAX_NODES, &o.orderers) < 0)
                return 2;
            break;
        case OPT_DOMAIN:
            o.domain = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "weft cryptogen: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!domain_ok(o.domain)) {
        fprintf(stderr, "weft cryptogen: --domain: \"%s\" is not a DNS name\n", o.domain);
        return 2;
    }
    if (!*o.output) {
        fprintf(stderr, "weft cryptogen: --output is empty\n");
        return 2;
    }

    struct run r = {.o = &o};
    /* Fabric's window: from 5 minutes before now (rounded to the minute) for 10 years. */
    time_t now = time(NULL);
    r.not_before = now - now % 60 - 5 * 60;
    r.not_after = r.not_before + (time_t)10 * 365 * 24 * 3600;
    int rc = lc_crypto_init();
    if (rc < 0) {
        fprintf(stderr, "weft cryptogen: crypto library did not initialise\n");
        return 1;
    }
    if ((rc = check_fresh(&r)) < 0)
        goto fail;
    char org[MAX_DOMAIN + 32];
    for (long i = 1; i <= o.peer_orgs; i++) {
        snprintf(org, sizeof org, "org%ld.%s", i, o.domain);
        if ((rc = write_org(&r, "peerOrganizations", org, false, o.peers, o.users)) < 0)
            goto fail;
        printf("wrote %s/peerOrganizations/%s (MSP id Org%ldMSP)\n", o.output, org, i);
    }
    if ((rc = write_org(&r, "ordererOrganizations", o.domain, true, o.orderers, 0)) < 0)
        goto fail;
    printf("wrote %s/ordererOrganizations/%s (MSP id OrdererMSP)\n", o.output, o.domain);
    return 0;
fail:
    fprintf(stderr, "weft cryptogen: %s\n", r.err.msg);
    return 1;
}
