/* SPDX-License-Identifier: Apache-2.0 */
/* Shared helpers of the weft tool tests: temp dirs, files, running the weft binary, test MSPs. */
#include "helpers.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "libcommon/crypto.h"
#include "libcommon/wire.h"

extern char **environ;

char *th_tmpdir(void)
{
    char *dir = strdup("/tmp/weft-cli-test-XXXXXX");
    ck_assert_ptr_nonnull(dir);
    ck_assert_ptr_nonnull(mkdtemp(dir));
    return dir;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void th_rmtree(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *th_path(const char *dir, const char *name)
{
    static char bufs[8][4096];
    static unsigned next;
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof bufs[0], "%s/%s", dir, name);
    return b;
}

void th_write(const char *path, const void *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "open %s: %s", path, strerror(errno));
    ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

void th_write_str(const char *path, const char *text)
{
    th_write(path, text, strlen(text));
}

uint8_t *th_read(const char *path, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap + 1);
    ck_assert_ptr_nonnull(buf);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
            ck_assert_ptr_nonnull(buf);
        }
    }
    fclose(f);
    buf[len] = '\0';
    if (ret_len)
        *ret_len = len;
    return buf;
}

int th_weft(const char *cwd, char **ret_out, char **ret_err, const char *const args[])
{
    const char *root = getenv("WEFT_BUILD_ROOT");
    ck_assert_msg(root != NULL, "WEFT_BUILD_ROOT is not set (run through meson test)");
    char exe[4096];
    snprintf(exe, sizeof exe, "%s/cli/weft", root);
    char *io = th_tmpdir();
    char out_path[4200], err_path[4200];
    snprintf(out_path, sizeof out_path, "%s/out", io);
    snprintf(err_path, sizeof err_path, "%s/err", io);

    size_t n = 0;
    while (args[n])
        n++;
    char **argv = calloc(n + 2, sizeof *argv);
    ck_assert_ptr_nonnull(argv);
    argv[0] = exe;
    for (size_t i = 0; i < n; i++)
        argv[i + 1] = (char *)args[i];

    posix_spawn_file_actions_t fa;
    ck_assert_int_eq(posix_spawn_file_actions_init(&fa), 0);
    ck_assert_int_eq(
        posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600), 0);
    ck_assert_int_eq(
        posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600), 0);
    if (cwd)
        ck_assert_int_eq(posix_spawn_file_actions_addchdir_np(&fa, cwd), 0);
    pid_t pid;
    int r = posix_spawn(&pid, exe, &fa, NULL, argv, environ);
    ck_assert_msg(r == 0, "spawn %s: %s", exe, strerror(r));
    posix_spawn_file_actions_destroy(&fa);
    free(argv);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        ck_assert_int_eq(errno, EINTR);
    char *out = (char *)th_read(out_path, NULL), *err = (char *)th_read(err_path, NULL);
    ck_assert_ptr_nonnull(out);
    ck_assert_ptr_nonnull(err);
    th_rmtree(io);
    free(io);
    ck_assert_msg(WIFEXITED(status), "weft died with signal %d; stderr: %s",
                  WIFSIGNALED(status) ? WTERMSIG(status) : 0, err);
    if (ret_out)
        *ret_out = out;
    else
        free(out);
    if (ret_err)
        *ret_err = err;
    else
        free(err);
    return WEXITSTATUS(status);
}

ProtobufCBinaryData th_pack(const ProtobufCMessage *msg)
{
    ProtobufCBinaryData b;
    struct lc_errbuf err;
    ck_assert_int_eq(lc_wire_pack(msg, 64u << 20, &b.data, &b.len, &err), 0);
    return b;
}

static struct lc_cert *issue(enum lc_cert_kind kind, const char *cn, const char *ou,
                             struct lc_privkey *key, const struct lc_cert *issuer,
                             const struct lc_privkey *issuer_key)
{
    time_t now = time(NULL);
    struct lc_cert_template t = {
        .kind = kind,
        .country = "US",
        .organization = "test",
        .ous = ou ? &ou : NULL,
        .n_ous = ou ? 1 : 0,
        .common_name = cn,
        .not_before = now - 3600,
        .not_after = now + 10 * 365 * 24 * 3600,
    };
    struct lc_cert *c = NULL;
    struct lc_errbuf err;
    ck_assert_msg(lc_cert_issue(&t, lc_privkey_public(key), issuer, issuer_key ? issuer_key : key,
                                &err, &c) == 0,
                  "issue: %s", err.msg);
    return c;
}

char *th_cert_pem(const char *cn, const char *ou)
{
    struct lc_privkey *k = NULL;
    ck_assert_int_eq(lc_privkey_generate(&k), 0);
    struct lc_cert *c = issue(LC_CERT_SIGN, cn, ou, k, NULL, NULL);
    char *pem;
    size_t len;
    ck_assert_int_eq(lc_cert_to_pem(c, &pem, &len), 0);
    lc_cert_unref(c);
    lc_privkey_free(k);
    return pem;
}

void th_make_msp(const char *dir, const char *mspid)
{
    struct lc_privkey *k = NULL;
    ck_assert_int_eq(lc_privkey_generate(&k), 0);
    char cn[200];
    snprintf(cn, sizeof cn, "ca.%s", mspid);
    struct lc_cert *ca = issue(LC_CERT_CA, cn, NULL, k, NULL, NULL);
    char *pem;
    size_t len;
    ck_assert_int_eq(lc_cert_to_pem(ca, &pem, &len), 0);
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    ck_assert_int_eq(mkdir(th_path(dir, "cacerts"), 0755), 0);
    ck_assert_int_eq(mkdir(th_path(dir, "tlscacerts"), 0755), 0);
    th_write(th_path(dir, "cacerts/ca.pem"), pem, len);
    th_write(th_path(dir, "tlscacerts/ca.pem"), pem, len);
    th_write_str(th_path(dir, "config.yaml"), "NodeOUs:\n"
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
                                              "    OrganizationalUnitIdentifier: orderer\n");
    free(pem);
    lc_cert_unref(ca);
    lc_privkey_free(k);
}

json_t *th_json_at(json_t *root, const char *const keys[])
{
    json_t *j = root;
    for (size_t i = 0; j && keys[i]; i++) {
        if (json_is_array(j)) {
            char *end;
            unsigned long idx = strtoul(keys[i], &end, 10);
            j = *end ? NULL : json_array_get(j, idx);
        } else {
            j = json_object_get(j, keys[i]);
        }
    }
    return j;
}

const char *th_str(json_t *j)
{
    const char *s = json_string_value(j);
    return s ? s : "";
}
