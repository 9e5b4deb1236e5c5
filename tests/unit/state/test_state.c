/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for libcommon/state on real LMDB files: versions, ranges, TxID index, savepoint, limits. */
#define _XOPEN_SOURCE 700
#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"
#include "libcommon/chconf.h"
#include "libcommon/kv.h"
#include "libcommon/state.h"

static char tmpdir[128];
static struct lc_kv_env *env;
static struct lc_state *st;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void open_state(const struct lc_kv_options *opts)
{
    struct lc_errbuf err = {{0}};
    char dir[192];
    snprintf(dir, sizeof dir, "%s/env", tmpdir);
    ck_assert_msg(lc_kv_env_open(dir, opts, &env, &err) == 0, "env: %s", err.msg);
    ck_assert_msg(lc_state_open(env, &err, &st) == 0, "state: %s", err.msg);
}

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/weft-state-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    struct lc_kv_options o = {.flags = LC_KV_NOSYNC};
    open_state(&o);
}

static void teardown(void)
{
    lc_state_free(st);
    lc_kv_env_close(env);
    st = NULL;
    env = NULL;
    nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static struct lc_kv_txn *rtxn(void)
{
    struct lc_kv_txn *t = NULL;
    struct lc_errbuf err;
    ck_assert_int_eq(lc_kv_txn_begin_read(env, &t, &err), 0);
    return t;
}

#define W(ns, k, v)                                                                                \
    {                                                                                              \
        (ns), (k), strlen(k), (v), strlen(v), false                                                \
    }
#define D(ns, k)                                                                                   \
    {                                                                                              \
        (ns), (k), strlen(k), NULL, 0, true                                                        \
    }

static void commit(uint64_t block, const struct lc_state_tx *txs, size_t n)
{
    struct lc_errbuf err = {{0}};
    int r = lc_state_commit_block(st, block, txs, n, &err);
    ck_assert_msg(r == 0, "commit block %llu: %s", (unsigned long long)block, err.msg);
}

/* Asserts key's value and version. */
static void expect(const char *ns, const char *key, const char *val, uint64_t b, uint64_t t)
{
    struct lc_kv_txn *txn = rtxn();
    const uint8_t *v;
    size_t len;
    struct lc_state_version ver;
    struct lc_errbuf err = {{0}};
    int r = lc_state_get(st, txn, ns, key, strlen(key), &v, &len, &ver, &err);
    ck_assert_msg(r == 0, "get %s/%s: %s", ns, key, err.msg);
    ck_assert_uint_eq(len, strlen(val));
    ck_assert(memcmp(v, val, len) == 0);
    ck_assert_uint_eq(ver.block, b);
    ck_assert_uint_eq(ver.tx, t);
    lc_kv_txn_abort(txn);
}

static int get_rc(const char *ns, const void *key, size_t key_len)
{
    struct lc_kv_txn *txn = rtxn();
    const uint8_t *v;
    size_t len;
    struct lc_state_version ver;
    struct lc_errbuf err;
    int r = lc_state_get(st, txn, ns, key, key_len, &v, &len, &ver, &err);
    lc_kv_txn_abort(txn);
    return r;
}

static uint64_t height(void)
{
    struct lc_kv_txn *txn = rtxn();
    uint64_t h = 99;
    struct lc_errbuf err;
    ck_assert_int_eq(lc_state_height(st, txn, &h, &err), 0);
    lc_kv_txn_abort(txn);
    return h;
}

START_TEST(empty_state)
{
    ck_assert_uint_eq(height(), 0);
    ck_assert_int_eq(get_rc("cc", "a", 1), LC_ENOTFOUND);
    struct lc_kv_txn *txn = rtxn();
    struct lc_state_txinfo ti;
    struct lc_errbuf err;
    ck_assert_int_eq(lc_state_txid_get(st, txn, "abc", &ti, &err), LC_ENOTFOUND);
    ck_assert_int_eq(lc_state_txid_get(st, txn, "", &ti, &err), LC_EINVALID);
    lc_kv_txn_abort(txn);
}
END_TEST

START_TEST(versions_follow_block_and_tx)
{
    struct lc_state_write w0[] = {W("cc", "a", "1"), W("cc", "b", "2")};
    struct lc_state_write w1[] = {W("cc", "c", "bad")};
    struct lc_state_write w2[] = {W("cc", "a", "3"), W("other", "a", "x")};
    struct lc_state_tx txs[] = {
        {"tx0", 0, w0, 2},
        {"tx1", 11, w1, 1}, /* MVCC conflict: its writes are not applied */
        {"tx2", 0, w2, 2},
    };
    commit(0, txs, 3);
    ck_assert_uint_eq(height(), 1);
    expect("cc", "a", "3", 0, 2);
    expect("cc", "b", "2", 0, 0);
    expect("other", "a", "x", 0, 2);
    ck_assert_int_eq(get_rc("cc", "c", 1), LC_ENOTFOUND);

    struct lc_state_write w3[] = {W("cc", "b", "22")};
    struct lc_state_tx b1[] = {{"", 0, NULL, 0}, {"tx3", 0, w3, 1}};
    commit(1, b1, 2);
    expect("cc", "b", "22", 1, 1);
    expect("cc", "a", "3", 0, 2);
    ck_assert_uint_eq(height(), 2);
}
END_TEST

START_TEST(empty_value_and_binary_keys)
{
    const uint8_t key[] = {0x00, 'k', 0x00, 0xff};
    struct lc_state_write w[] = {{"cc", key, sizeof key, "", 0, false}};
    struct lc_state_tx txs[] = {{"t", 0, w, 1}};
    commit(0, txs, 1);
    struct lc_kv_txn *txn = rtxn();
    const uint8_t *v;
    size_t len = 99;
    struct lc_state_version ver;
    struct lc_errbuf err;
    ck_assert_int_eq(lc_state_get(st, txn, "cc", key, sizeof key, &v, &len, &ver, &err), 0);
    ck_assert_uint_eq(len, 0);
    lc_kv_txn_abort(txn);
}
END_TEST

START_TEST(deletes)
{
    struct lc_state_write w0[] = {W("cc", "a", "1"), W("cc", "b", "2")};
    struct lc_state_tx b0[] = {{"t0", 0, w0, 2}};
    commit(0, b0, 1);
    struct lc_state_write w1[] = {D("cc", "a"), D("cc", "never-there")};
    struct lc_state_tx b1[] = {{"t1", 0, w1, 2}};
    commit(1, b1, 1);
    ck_assert_int_eq(get_rc("cc", "a", 1), LC_ENOTFOUND);
    expect("cc", "b", "2", 0, 0);
    /* A delete in an invalid transaction is not applied either. */
    struct lc_state_write w2[] = {D("cc", "b")};
    struct lc_state_tx b2[] = {{"t2", 10, w2, 1}};
    commit(2, b2, 1);
    expect("cc", "b", "2", 0, 0);
}
END_TEST

START_TEST(txid_index_keeps_first)
{
    struct lc_state_tx b0[] = {{"dup", 0, NULL, 0}, {"bad", 11, NULL, 0}, {"dup", 9, NULL, 0}};
    commit(0, b0, 3);
    struct lc_state_tx b1[] = {{"dup", 9, NULL, 0}};
    commit(1, b1, 1);
    struct lc_kv_txn *txn = rtxn();
    struct lc_state_txinfo ti;
    struct lc_errbuf err;
    ck_assert_int_eq(lc_state_txid_get(st, txn, "dup", &ti, &err), 0);
    ck_assert_uint_eq(ti.block, 0);
    ck_assert_uint_eq(ti.tx, 0);
    ck_assert_uint_eq(ti.code, 0);
    ck_assert_int_eq(lc_state_txid_get(st, txn, "bad", &ti, &err), 0);
    ck_assert_uint_eq(ti.tx, 1);
    ck_assert_uint_eq(ti.code, 11);
    lc_kv_txn_abort(txn);
}
END_TEST

START_TEST(block_must_follow_height)
{
    struct lc_state_tx b[] = {{"t", 0, NULL, 0}};
    struct lc_errbuf err = {{0}};
    ck_assert_int_eq(lc_state_commit_block(st, 1, b, 1, &err), LC_EINVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "block 1 does not follow height 0"));
    commit(0, b, 1);
    ck_assert_int_eq(lc_state_commit_block(st, 0, b, 1, &err), LC_EINVALID);
    ck_assert_uint_eq(height(), 1);
}
END_TEST

START_TEST(failed_block_leaves_nothing)
{
    struct lc_state_write w[] = {W("cc", "a", "1"), {"", "x", 1, "v", 1, false}};
    struct lc_state_tx b[] = {{"t", 0, w, 2}};
    struct lc_errbuf err = {{0}};
    ck_assert_int_eq(lc_state_commit_block(st, 0, b, 1, &err), LC_EINVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "block 0 tx 0 write 1"));
    ck_assert_int_eq(get_rc("cc", "a", 1), LC_ENOTFOUND);
    ck_assert_uint_eq(height(), 0);
}
END_TEST

START_TEST(long_keys_rejected)
{
    size_t max = lc_kv_max_key_size(env);
    char *key = malloc(max + 1);
    ck_assert_ptr_nonnull(key);
    memset(key, 'k', max + 1);
    struct lc_errbuf err = {{0}};
    /* "cc" + 0x00 + key: the longest key that fits is max - 3. */
    ck_assert_int_eq(lc_state_check_key(st, "cc", key, max - 3, &err), 0);
    ck_assert_int_eq(lc_state_check_key(st, "cc", key, max - 2, &err), LC_ETOOBIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "namespace cc"));
    ck_assert_int_eq(get_rc("cc", key, max - 2), LC_ETOOBIG);
    struct lc_state_write w[] = {{"cc", key, max - 2, "v", 1, false}};
    struct lc_state_tx b[] = {{"t", 0, w, 1}};
    ck_assert_int_eq(lc_state_commit_block(st, 0, b, 1, &err), LC_ETOOBIG);
    struct lc_state_write ok[] = {{"cc", key, max - 3, "v", 1, false}};
    struct lc_state_tx b2[] = {{"t", 0, ok, 1}};
    commit(0, b2, 1);
    ck_assert_int_eq(get_rc("cc", key, max - 3), 0);
    struct lc_kv_txn *txn = rtxn();
    struct lc_state_iter *it = NULL;
    ck_assert_int_eq(lc_state_iter_new(st, txn, "cc", key, max - 2, NULL, 0, &err, &it),
                     LC_ETOOBIG);
    ck_assert_int_eq(lc_state_iter_new(st, txn, "cc", "", 0, key, max - 2, &err, &it), LC_ETOOBIG);
    lc_kv_txn_abort(txn);
    free(key);
}
END_TEST

START_TEST(bad_namespaces)
{
    struct lc_errbuf err = {{0}};
    ck_assert_int_eq(lc_state_check_key(st, "", "k", 1, &err), LC_EINVALID);
    ck_assert_int_eq(lc_state_check_key(st, NULL, "k", 1, &err), LC_EINVALID);
    ck_assert_int_eq(get_rc("", "k", 1), LC_EINVALID);
}
END_TEST

/* Collects the keys of a range into "k1,k2,..." */
static void range(const char *ns, const char *s, const char *e, char *out, size_t cap)
{
    struct lc_kv_txn *txn = rtxn();
    struct lc_state_iter *it = NULL;
    struct lc_errbuf err = {{0}};
    int r = lc_state_iter_new(st, txn, ns, s, strlen(s), e, strlen(e), &err, &it);
    ck_assert_msg(r == 0, "iter: %s", err.msg);
    out[0] = '\0';
    const uint8_t *k, *v;
    size_t kl, vl;
    struct lc_state_version ver;
    while ((r = lc_state_iter_next(it, &k, &kl, &v, &vl, &ver, &err)) == 1) {
        size_t n = strlen(out);
        snprintf(out + n, cap - n, "%s%.*s", n ? "," : "", (int)kl, (const char *)k);
    }
    ck_assert_int_eq(r, 0);
    lc_state_iter_free(it);
    lc_kv_txn_abort(txn);
}

START_TEST(ranges_stay_in_namespace)
{
    struct lc_state_write w[] = {W("cc", "a", "1"), W("cc", "b", "2"), W("cc", "c", "3"),
                                 W("cc2", "a", "x"), W("c", "z", "y")};
    struct lc_state_tx b[] = {{"t", 0, w, 5}};
    commit(0, b, 1);
    char out[256];
    range("cc", "", "", out, sizeof out);
    ck_assert_str_eq(out, "a,b,c");
    range("cc", "b", "", out, sizeof out);
    ck_assert_str_eq(out, "b,c");
    range("cc", "a", "c", out, sizeof out);
    ck_assert_str_eq(out, "a,b");
    range("cc", "", "b", out, sizeof out);
    ck_assert_str_eq(out, "a");
    range("cc", "d", "", out, sizeof out);
    ck_assert_str_eq(out, "");
    range("cc2", "", "", out, sizeof out);
    ck_assert_str_eq(out, "a");
    range("c", "", "", out, sizeof out);
    ck_assert_str_eq(out, "z");
}
END_TEST

START_TEST(iterator_reports_versions)
{
    struct lc_state_write w0[] = {W("cc", "a", "1")};
    struct lc_state_write w1[] = {W("cc", "b", "2")};
    struct lc_state_tx b[] = {{"t0", 0, w0, 1}, {"t1", 0, w1, 1}};
    commit(0, b, 2);
    struct lc_kv_txn *txn = rtxn();
    struct lc_state_iter *it = NULL;
    struct lc_errbuf err;
    ck_assert_int_eq(lc_state_iter_new(st, txn, "cc", "", 0, NULL, 0, &err, &it), 0);
    const uint8_t *k, *v;
    size_t kl, vl;
    struct lc_state_version ver;
    ck_assert_int_eq(lc_state_iter_next(it, &k, &kl, &v, &vl, &ver, &err), 1);
    ck_assert_uint_eq(ver.tx, 0);
    ck_assert_int_eq(lc_state_iter_next(it, &k, &kl, &v, &vl, &ver, &err), 1);
    ck_assert_uint_eq(ver.tx, 1);
    ck_assert_uint_eq(vl, 1);
    ck_assert_int_eq(v[0], '2');
    ck_assert_int_eq(lc_state_iter_next(it, &k, &kl, &v, &vl, &ver, &err), 0);
    lc_state_iter_free(it);
    lc_kv_txn_abort(txn);
}
END_TEST

START_TEST(snapshot_isolated_from_commits)
{
    struct lc_state_write w0[] = {W("cc", "a", "1")};
    struct lc_state_tx b0[] = {{"t0", 0, w0, 1}};
    commit(0, b0, 1);
    struct lc_kv_txn *txn = rtxn();
    struct lc_state_write w1[] = {W("cc", "a", "2")};
    struct lc_state_tx b1[] = {{"t1", 0, w1, 1}};
    commit(1, b1, 1);
    const uint8_t *v;
    size_t len;
    struct lc_state_version ver;
    struct lc_errbuf err;
    ck_assert_int_eq(lc_state_get(st, txn, "cc", "a", 1, &v, &len, &ver, &err), 0);
    ck_assert_int_eq(v[0], '1');
    ck_assert_uint_eq(ver.block, 0);
    lc_kv_txn_abort(txn);
    expect("cc", "a", "2", 1, 0);
}
END_TEST

START_TEST(corrupt_entry_detected)
{
    struct lc_errbuf err = {{0}};
    struct lc_kv_db *db = NULL;
    ck_assert_int_eq(lc_kv_db_open(env, "state", 0, &db, &err), 0);
    struct lc_kv_txn *w = NULL;
    ck_assert_int_eq(lc_kv_txn_begin_write(env, &w, &err), 0);
    uint8_t ck[16];
    size_t ck_len;
    ck_assert_int_eq(lc_kv_key_compose(ck, sizeof ck, "cc", 2, "a", 1, &ck_len, &err), 0);
    ck_assert_int_eq(lc_kv_put(w, db, ck, ck_len, "short", 5, 0, &err), 0);
    ck_assert_int_eq(lc_kv_txn_commit(w, &err), 0);
    ck_assert_int_eq(get_rc("cc", "a", 1), LC_ECORRUPT);
}
END_TEST

START_TEST(map_grows_on_commit)
{
    lc_state_free(st);
    lc_kv_env_close(env);
    nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    ck_assert_int_eq(mkdir(tmpdir, 0700), 0);
    struct lc_kv_options o = {
        .map_size = 64 * 1024, .max_map_size = 64 << 20, .flags = LC_KV_NOSYNC};
    open_state(&o);
    static uint8_t big[256 * 1024];
    memset(big, 'v', sizeof big);
    struct lc_state_write w[] = {{"cc", "big", 3, big, sizeof big, false}};
    struct lc_state_tx b[] = {{"t", 0, w, 1}};
    commit(0, b, 1);
    ck_assert_int_eq(get_rc("cc", "big", 3), 0);
}
END_TEST

START_TEST(lifecycle_key_format)
{
    char buf[64];
    size_t len;
    struct lc_errbuf err;
    ck_assert_int_eq(lc_state_lifecycle_key("asset", buf, sizeof buf, &len, &err), 0);
    ck_assert_str_eq(buf, "namespaces/fields/asset/Sequence");
    ck_assert_uint_eq(len, strlen(buf));
    ck_assert_int_eq(lc_state_lifecycle_key("", buf, sizeof buf, &len, &err), LC_EINVALID);
    ck_assert_int_eq(lc_state_lifecycle_key("averyveryverylongname", buf, 20, &len, &err),
                     LC_ETOOBIG);
}
END_TEST

/* Loads the genesis of a fresh harness network (chaincodes example02 and asset at sequence 3). */
static struct lc_chconf *genesis_chconf(const char *ccs)
{
    struct wh_net net;
    struct wh_net_opts o = {.orgs = 1, .peers_per_org = 1, .chaincodes_yaml = ccs};
    ck_assert_int_eq(wh_net_make(&net, &o), 0);
    FILE *f = fopen(net.genesis, "rb");
    ck_assert_ptr_nonnull(f);
    static uint8_t buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    struct lc_chconf *cc = NULL;
    struct lc_errbuf err = {{0}};
    ck_assert_msg(lc_chconf_from_block_bytes(buf, n, 16, &err, &cc) == 0, "chconf: %s", err.msg);
    return cc;
}

static int apply_config(uint64_t block, const char *txid, const struct lc_chconf *cc)
{
    struct lc_kv_txn *w = NULL;
    struct lc_errbuf err = {{0}};
    ck_assert_int_eq(lc_kv_txn_begin_write(env, &w, &err), 0);
    int r = lc_state_apply_config(st, w, block, txid, cc, &err);
    if (r < 0) {
        lc_kv_txn_abort(w);
        return r;
    }
    ck_assert_int_eq(lc_kv_txn_commit(w, &err), 0);
    return 0;
}

START_TEST(config_block_writes_lifecycle)
{
    struct lc_chconf *cc = genesis_chconf("  - Name: example02\n    Version: \"1.0\"\n"
                                          "  - Name: asset\n    Version: \"2.1\"\n"
                                          "    Sequence: 300\n");
    ck_assert_int_eq(apply_config(0, "genesis-txid", cc), 0);
    ck_assert_uint_eq(height(), 1);
    struct lc_kv_txn *txn = rtxn();
    const uint8_t *v;
    size_t len;
    struct lc_state_version ver = {9, 9};
    struct lc_errbuf err;
    const char *k = "namespaces/fields/example02/Sequence";
    ck_assert_int_eq(lc_state_get(st, txn, "_lifecycle", k, strlen(k), &v, &len, &ver, &err), 0);
    ck_assert_uint_eq(ver.block, 0);
    ck_assert_uint_eq(ver.tx, 0);
    ck_assert_uint_eq(len, 2);
    ck_assert_int_eq(v[0], 0x08);
    ck_assert_int_eq(v[1], 0x01);
    k = "namespaces/fields/asset/Sequence";
    ck_assert_int_eq(lc_state_get(st, txn, "_lifecycle", k, strlen(k), &v, &len, &ver, &err), 0);
    ck_assert_uint_eq(len, 3); /* 300 = 0xac 0x02 */
    ck_assert_int_eq(v[1], 0xac);
    ck_assert_int_eq(v[2], 0x02);
    struct lc_state_txinfo ti;
    ck_assert_int_eq(lc_state_txid_get(st, txn, "genesis-txid", &ti, &err), 0);
    ck_assert_uint_eq(ti.block, 0);
    lc_kv_txn_abort(txn);

    /* A later config block with the same definitions leaves their versions alone. */
    ck_assert_int_eq(apply_config(1, "", cc), 0);
    ck_assert_uint_eq(height(), 2);
    txn = rtxn();
    ck_assert_int_eq(lc_state_get(st, txn, "_lifecycle", k, strlen(k), &v, &len, &ver, &err), 0);
    ck_assert_uint_eq(ver.block, 0);
    lc_kv_txn_abort(txn);
    ck_assert_int_eq(apply_config(5, "", cc), LC_EINVALID);
    lc_chconf_free(cc);
    wh_cleanup();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("state");
    TCase *tc = tcase_create("state");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, empty_state);
    tcase_add_test(tc, versions_follow_block_and_tx);
    tcase_add_test(tc, empty_value_and_binary_keys);
    tcase_add_test(tc, deletes);
    tcase_add_test(tc, txid_index_keeps_first);
    tcase_add_test(tc, block_must_follow_height);
    tcase_add_test(tc, failed_block_leaves_nothing);
    tcase_add_test(tc, long_keys_rejected);
    tcase_add_test(tc, bad_namespaces);
    tcase_add_test(tc, ranges_stay_in_namespace);
    tcase_add_test(tc, iterator_reports_versions);
    tcase_add_test(tc, snapshot_isolated_from_commits);
    tcase_add_test(tc, corrupt_entry_detected);
    tcase_add_test(tc, map_grows_on_commit);
    tcase_add_test(tc, lifecycle_key_format);
    tcase_add_test(tc, config_block_writes_lifecycle);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
