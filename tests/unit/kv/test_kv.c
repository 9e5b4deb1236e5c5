/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for libcommon/kv on real LMDB files: CRUD, snapshots, ranges, map growth, threads. */
#define _XOPEN_SOURCE 700
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libcommon/kv.h"

static char basedir[64]; /* one per run, made and removed by the parent process */
static char tmpdir[128]; /* one per test, inside basedir */
static char envdir[192];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void run_setup(void)
{
    snprintf(basedir, sizeof basedir, "/tmp/weft-kv-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(basedir));
}

/* Runs in the parent even when tests failed, so nothing is left behind. */
static void run_teardown(void)
{
    nftw(basedir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "%s/t-XXXXXX", basedir);
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    snprintf(envdir, sizeof envdir, "%s/env", tmpdir);
}

static struct lc_kv_env *open_env(const struct lc_kv_options *opts)
{
    struct lc_kv_env *env = NULL;
    struct lc_errbuf err = {{0}};
    int r = lc_kv_env_open(envdir, opts, &env, &err);
    ck_assert_msg(r == 0, "open: %s", err.msg);
    return env;
}

static struct lc_kv_db *open_db(struct lc_kv_env *env, const char *name)
{
    struct lc_kv_db *db = NULL;
    struct lc_errbuf err = {{0}};
    int r = lc_kv_db_open(env, name, LC_KV_DB_CREATE, &db, &err);
    ck_assert_msg(r == 0, "db open: %s", err.msg);
    return db;
}

static void put_str(struct lc_kv_txn *txn, struct lc_kv_db *db, const char *k, const char *v)
{
    struct lc_errbuf err = {{0}};
    int r = lc_kv_put(txn, db, k, strlen(k), v, strlen(v), 0, &err);
    ck_assert_msg(r == 0, "put %s: %s", k, err.msg);
}

/* Asserts that k holds v (or is absent when v is NULL). */
static void expect(struct lc_kv_txn *txn, struct lc_kv_db *db, const char *k, const char *v)
{
    const void *got;
    size_t n;
    int r = lc_kv_get(txn, db, k, strlen(k), &got, &n, NULL);
    if (!v) {
        ck_assert_int_eq(r, LC_ENOTFOUND);
        return;
    }
    ck_assert_int_eq(r, 0);
    ck_assert_uint_eq(n, strlen(v));
    ck_assert(memcmp(got, v, n) == 0);
}

START_TEST(put_get_del)
{
    struct lc_kv_env *env = open_env(NULL);
    struct lc_kv_db *db = open_db(env, "state");
    struct lc_kv_txn *txn;
    struct lc_errbuf err = {{0}};
    ck_assert_int_eq(lc_kv_txn_begin_write(env, &txn, &err), 0);
    ck_assert(lc_kv_txn_is_write(txn));
    put_str(txn, db, "a", "1");
    put_str(txn, db, "b", "2");
    ck_assert_int_eq(lc_kv_put(txn, db, "e", 1, NULL, 0, 0, &err), 0);
    expect(txn, db, "a", "1"); /* a write txn sees its own writes */
    ck_assert_int_eq(lc_kv_txn_commit(txn, &err), 0);

    ck_assert_int_eq(lc_kv_txn_begin_read(env, &txn, &err), 0);
    ck_assert(!lc_kv_txn_is_write(txn));
    expect(txn, db, "a", "1");
    expect(txn, db, "b", "2");
    expect(txn, db, "e", "");
    expect(txn, db, "c", NULL);
    void *copy;
    size_t n;
    ck_assert_int_eq(lc_kv_get_copy(txn, db, "b", 1, &copy, &n, &err), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert(memcmp(copy, "2", 1) == 0);
    free(copy);
    ck_assert_int_eq(lc_kv_get_copy(txn, db, "c", 1, &copy, &n, &err), LC_ENOTFOUND);
    ck_assert_int_eq(lc_kv_put(txn, db, "x", 1, "y", 1, 0, &err), LC_EINVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "read transaction"));
    ck_assert_int_eq(lc_kv_del(txn, db, "a", 1, &err), LC_EINVALID);
    lc_kv_txn_abort(txn);

    ck_assert_int_eq(lc_kv_txn_begin_write(env, &txn, &err), 0);
    ck_assert_int_eq(lc_kv_del(txn, db, "a", 1, &err), 0);
    ck_assert_int_eq(lc_kv_del(txn, db, "zz", 2, &err), LC_ENOTFOUND);
    ck_assert_int_eq(lc_kv_put(txn, db, "b", 1, "3", 1, LC_KV_NOOVERWRITE, &err), LC_EEXISTS);
    /* Neither "not found" nor "exists" spoils the transaction. */
    ck_assert_int_eq(lc_kv_txn_commit(txn, &err), 0);

    ck_assert_int_eq(lc_kv_txn_begin_read(env, &txn, &err), 0);
    expect(txn, db, "a", NULL);
    expect(txn, db, "b", "2");
    lc_kv_txn_abort(txn);
    lc_kv_env_close(env);
}
END_TEST

START_TEST(bad_keys_are_rejected)
{
    struct lc_kv_env *env = open_env(NULL);
    struct lc_kv_db *db = open_db(env, "state");
    struct lc_kv_txn *txn;
    struct lc_errbuf err = {{0}};
    size_t max = lc_kv_max_key_size(env);
    ck_assert_uint_ge(max, 64);
    char *big = calloc(1, max + 1);
    ck_assert_ptr_nonnull(big);
    memset(big, 'k', max + 1);
    ck_assert_int_eq(lc_kv_txn_begin_write(env, &txn, &err), 0);
    ck_assert_int_eq(lc_kv_put(txn, db, "", 0, "v", 1, 0, &err), LC_EINVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "empty"));
    ck_assert_int_eq(lc_kv_put(txn, db, big, max + 1, "v", 1, 0, &err), LC_ETOOBIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "limit"));
    ck_assert_int_eq(lc_kv_put(txn, db, big, max, "v", 1, 0, &err), 0);
    ck_assert_int_eq(lc_kv_put(txn, db, "k", 1, NULL, 3, 0, &err), LC_EINVALID);
    ck_assert_int_eq(lc_kv_put(txn, db, "k", 1, "v", 1, 0x80, &err), LC_EINVALID);
    const void *v;
    size_t n;
    ck_assert_int_eq(lc_kv_get(txn, db, NULL, 0, &v, &n, &err), LC_EINVALID);
    ck_assert_int_eq(lc_kv_get(txn, db, big, max + 1, &v, &n, &err), LC_ETOOBIG);
    ck_assert_int_eq(lc_kv_del(txn, db, "", 0, &err), LC_EINVALID);
    /* Rejected arguments do not spoil the transaction either. */
    ck_assert_int_eq(lc_kv_txn_commit(txn, &err), 0);
    free(big);
    lc_kv_env_close(env);
}
END_TEST

START_TEST(read_snapshot_is_isolated)
{
    struct lc_kv_env *env = open_env(NULL);
    struct lc_kv_db *db = open_db(env, "state");
    struct lc_kv_txn *w, *r1, *r2;
    struct lc_errbuf err = {{0}};
    ck_assert_int_eq(lc_kv_txn_begin_write(env, &w, &err), 0);
    put_str(w, db, "k", "v1");
    ck_assert_int_eq(lc_kv_txn_commit(w, &err), 0);

    ck_assert_int_eq(lc_kv_txn_begin_read(env, &r1, &err), 0);
    ck_assert_int_eq(lc_kv_txn_begin_write(env, &w, &err), 0);
    put_str(w, db, "k", "v2");
    put_str(w, db, "new", "x");
    expect(r1, db, "k", "v1"); /* uncommitted writes are invisible */
    ck_assert_int_eq(lc_kv_txn_commit(w, &err), 0);
    expect(r1, db, "k", "v1"); /* and so are commits after the snapshot */
    expect(r1, db, "new", NULL);

    ck_assert_int_eq(lc_kv_txn_begin_read(env, &r2, &err), 0);
    expect(r2, db, "k", "v2");
    expect(r2, db, "new", "x");
    lc_kv_txn_abort(r2);

    ck_assert_int_eq(lc_kv_txn_refresh(r1, &err), 0);
    expect(r1, db, "k", "v2");
    ck_assert_int_eq(lc_kv_txn_commit(r1, &err), 0); /* ending a read txn via commit is fine */

    ck_assert_int_eq(lc_kv_txn_begin_write(env, &w, &err), 0);
    ck_assert_int_eq(lc_kv_txn_refresh(w, &err), LC_EINVALID);
    lc_kv_txn_abort(w);
    lc_kv_env_close(env);
}
END_TEST

START_TEST(abort_discards)
{
    struct lc_kv_env *env = open_env(NULL);
    struct lc_kv_db *db = open_db(env, "state");
    struct lc_kv_txn *txn;
    struct lc_errbuf err = {{0}};
    ck_assert_int_eq(lc_kv_txn_begin_write(env, &txn, &err), 0);
    put_str(txn, db, "keep", "1");
    ck_assert_int_eq(lc_kv_txn_commit(txn, &err), 0);
    ck_assert_int_eq(lc_kv_txn_begin_write(env, &txn, &err), 0);
    put_str(txn, db, "gone", "1");
    ck_assert_int_eq(lc_kv_del(txn, db, "keep", 4, &err), 0);
    lc_kv_txn_abort(txn);
    lc_kv_txn_abort(NULL);
    ck_assert_int_eq(lc_kv_txn_begin_read(env, &txn, &err), 0);
    expect(txn, db, "keep", "1");
    expect(txn, db, "gone", NULL);
    lc_kv_txn_abort(txn);
    lc_kv_env_close(env);
}
END_TEST

/* Collects the keys of [start, end) as "k1,k2,..." (keys printed as text, 0x00 as '|'). */
static void range_str(struct lc_kv_txn *txn, struct lc_kv_db *db, const void *start,
                      size_t start_len, const void *end, size_t end_len, char *out, size_t cap)
{
    struct lc_kv_iter *it;
    struct lc_errbuf err = {{0}};
    int r = lc_kv_iter_new(txn, db, start, start_len, end, end_len, &it, &err);
    ck_assert_msg(r == 0, "iter: %s", err.msg);
    size_t o = 0;
    out[0] = '\0';
    const void *k, *v;
    size_t kl, vl;
    while ((r = lc_kv_iter_next(it, &k, &kl, &v, &vl, &err)) == 1) {
        ck_assert_uint_lt(o + kl + 2, cap);
        if (o)
            out[o++] = ',';
        for (size_t i = 0; i < kl; i++)
            out[o++] = ((const char *)k)[i] ? ((const char *)k)[i] : '|';
        out[o] = '\0';
    }
    ck_assert_int_eq(r, 0);
    ck_assert_int_eq(lc_kv_iter_next(it, &k, &kl, &v, &vl, &err), 0); /* stays at the end */
    lc_kv_iter_free(it);
}

START_TEST(range_iteration_order_and_bounds)
{
    struct lc_kv_env *env = open_env(NULL);
    struct lc_kv_db *db = open_db(env, "state");
    struct lc_kv_txn *txn;
    struct lc_errbuf err = {{0}};
    static const char *keys[] = {"d", "b", "a", "c", "b0", "ba", "e", "aa"};
    ck_assert_int_eq(lc_kv_txn_begin_write(env, &txn, &err), 0);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        put_str(txn, db, keys[i], "v");
    ck_assert_int_eq(lc_kv_txn_commit(txn, &err), 0);

    char out[256];
    ck_assert_int_eq(lc_kv_txn_begin_read(env, &txn, &err), 0);
    range_str(txn, db, NULL, 0, NULL, 0, out, sizeof out);
    ck_assert_str_eq(out, "a,aa,b,b0,ba,c,d,e");
    range_str(txn, db, "b", 1, "d", 1, out, sizeof out);
    ck_assert_str_eq(out, "b,b0,ba,c"); /* start included, end excluded */
    range_str(txn, db, "ab", 2, "b1", 2, out, sizeof out);
    ck_assert_str_eq(out, "b,b0"); /* bounds need not be keys */
    range_str(txn, db, "c", 1, NULL, 0, out, sizeof out);
    ck_assert_str_eq(out, "c,d,e");
    range_str(txn, db, NULL, 0, "aa", 2, out, sizeof out);
    ck_assert_str_eq(out, "a");
    /* Empty ranges: equal bounds, reversed bounds, a gap between keys, past the last key, an
     * empty end. */
    range_str(txn, db, "b", 1, "b", 1, out, sizeof out);
    ck_assert_str_eq(out, "");
    range_str(txn, db, "d", 1, "b", 1, out, sizeof out);
    ck_assert_str_eq(out, "");
    range_str(txn, db, "bb", 2, "c", 1, out, sizeof out);
    ck_assert_str_eq(out, "");
    range_str(txn, db, "f", 1, NULL, 0, out, sizeof out);
    ck_assert_str_eq(out, "");
    range_str(txn, db, NULL, 0, "", 0, out, sizeof out);
    ck_assert_str_eq(out, "");

    /* An iterator outliving its transaction reports it instead of touching freed state. */
    struct lc_kv_iter *it, *it2;
    ck_assert_int_eq(lc_kv_iter_new(txn, db, NULL, 0, NULL, 0, &it, &err), 0);
    ck_assert_int_eq(lc_kv_iter_new(txn, db, "c", 1, NULL, 0, &it2, &err), 0);
    const void *k, *v;
    size_t kl, vl;
    ck_assert_int_eq(lc_kv_iter_next(it, &k, &kl, &v, &vl, &err), 1);
    lc_kv_iter_free(it2); /* freeing one of several live iterators unlinks it */
    lc_kv_txn_abort(txn);
    ck_assert_int_eq(lc_kv_iter_next(it, &k, &kl, &v, &vl, &err), LC_ECLOSED);
    lc_kv_iter_free(it);
    lc_kv_iter_free(NULL);
    lc_kv_env_close(env);
}
END_TEST

START_TEST(write_txn_iterators_end_with_commit)
{
    struct lc_kv_env *env = open_env(NULL);
    struct lc_kv_db *db = open_db(env, "state");
    struct lc_kv_txn *txn;
    struct lc_errbuf err = {{0}};
    ck_assert_int_eq(lc_kv_txn_begin_write(env, &txn, &err), 0);
    put_str(txn, db, "a", "1");
    put_str(txn, db, "b", "2");
    struct lc_kv_iter *it;
    ck_assert_int_eq(lc_kv_iter_new(txn, db, NULL, 0, NULL, 0, &it, &err), 0);
    const void *k, *v;
    size_t kl, vl;
    ck_assert_int_eq(lc_kv_iter_next(it, &k, &kl, &v, &vl, &err), 1);
    ck_assert_int_eq(lc_kv_txn_commit(txn, &err), 0);
    ck_assert_int_eq(lc_kv_iter_next(it, &k, &kl, &v, &vl, &err), LC_ECLOSED);
    lc_kv_iter_free(it);
    lc_kv_env_close(env);
}
END_TEST

static void put_composite(struct lc_kv_txn *txn, struct lc_kv_db *db, const char *ns,
                          const void *key, size_t key_len)
{
    unsigned char buf[128];
    size_t n;
    struct lc_errbuf err = {{0}};
    ck_assert_int_eq(lc_kv_key_compose(buf, sizeof buf, ns, strlen(ns), key, key_len, &n, &err), 0);
    ck_assert_int_eq(lc_kv_put(txn, db, buf, n, "v", 1, 0, &err), 0);
}

START_TEST(composite_keys_sort_per_namespace)
{
    struct lc_kv_env *env = open_env(NULL);
    struct lc_kv_db *db = open_db(env, "state");
    struct lc_kv_txn *txn;
    struct lc_errbuf err = {{0}};
    ck_assert_int_eq(lc_kv_txn_begin_write(env, &txn, &err), 0);
    put_composite(txn, db, "cc2", "a", 1);
    put_composite(txn, db, "cc", "b", 1);
    put_composite(txn, db, "cc", "", 0);
    put_composite(txn, db, "c", "z", 1);
    put_composite(txn, db, "cc", "\0obj\0a\0", 7); /* Fabric composite key */
    put_composite(txn, db, "cc", "a", 1);
    put_composite(txn, db, "cc", "d", 1);
    put_composite(txn, db, "cd", "a", 1);
    ck_assert_int_eq(lc_kv_txn_commit(txn, &err), 0);

    unsigned char s[64], e[64];
    size_t sl, el;
    char out[256];
    ck_assert_int_eq(lc_kv_txn_begin_read(env, &txn, &err), 0);
    ck_assert_int_eq(lc_kv_key_compose(s, sizeof s, "cc", 2, NULL, 0, &sl, &err), 0);
    ck_assert_int_eq(lc_kv_key_ns_end(e, sizeof e, "cc", 2, &el, &err), 0);
    range_str(txn, db, s, sl, e, el, out, sizeof out);
    ck_assert_str_eq(out, "cc|,cc||obj|a|,cc|a,cc|b,cc|d");
    /* A range inside one namespace: [cc\0a, cc\0c). */
    ck_assert_int_eq(lc_kv_key_compose(s, sizeof s, "cc", 2, "a", 1, &sl, &err), 0);
    ck_assert_int_eq(lc_kv_key_compose(e, sizeof e, "cc", 2, "c", 1, &el, &err), 0);
    range_str(txn, db, s, sl, e, el, out, sizeof out);
    ck_assert_str_eq(out, "cc|a,cc|b");
    /* From a key to the end of its namespace stops before "cc2" and "cd". */
    ck_assert_int_eq(lc_kv_key_compose(s, sizeof s, "cc", 2, "c", 1, &sl, &err), 0);
    ck_assert_int_eq(lc_kv_key_ns_end(e, sizeof e, "cc", 2, &el, &err), 0);
    range_str(txn, db, s, sl, e, el, out, sizeof out);
    ck_assert_str_eq(out, "cc|d");
    lc_kv_txn_abort(txn);

    const char *ns;
    const void *key;
    size_t nl, kl;
    ck_assert_int_eq(lc_kv_key_compose(s, sizeof s, "cc", 2, "\0x", 2, &sl, &err), 0);
    ck_assert_int_eq(lc_kv_key_split(s, sl, &ns, &nl, &key, &kl, &err), 0);
    ck_assert_uint_eq(nl, 2);
    ck_assert(memcmp(ns, "cc", 2) == 0);
    ck_assert_uint_eq(kl, 2);
    ck_assert(memcmp(key, "\0x", 2) == 0);
    lc_kv_env_close(env);
}
END_TEST

START_TEST(composite_key_rejections)
{
    unsigned char buf[8];
    size_t n = 99;
    struct lc_errbuf err = {{0}};
    ck_assert_int_eq(lc_kv_key_compose(buf, sizeof buf, "", 0, "k", 1, &n, &err), LC_EINVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "empty namespace"));
    ck_assert_int_eq(lc_kv_key_compose(buf, sizeof buf, "a\0b", 3, "k", 1, &n, &err), LC_EINVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "0x00"));
    ck_assert_int_eq(lc_kv_key_compose(buf, sizeof buf, "ns", 2, "123456", 6, &n, &err),
                     LC_ETOOBIG);
    ck_assert_int_eq(lc_kv_key_compose(buf, sizeof buf, "ns", 2, "1234", 4, &n, &err), 0);
    ck_assert_uint_eq(n, 7);
    ck_assert_int_eq(lc_kv_key_compose(buf, sizeof buf, "ns", 2, NULL, 1, &n, &err), LC_EINVALID);
    ck_assert_int_eq(lc_kv_key_ns_end(buf, 2, "ns", 2, &n, &err), LC_ETOOBIG);
    ck_assert_int_eq(lc_kv_key_ns_end(buf, sizeof buf, "n\0", 2, &n, &err), LC_EINVALID);
    const char *ns;
    const void *key;
    size_t nl, kl;
    ck_assert_int_eq(lc_kv_key_split("abc", 3, &ns, &nl, &key, &kl, &err), LC_EINVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "separator"));
    ck_assert_int_eq(lc_kv_key_split("\0abc", 4, &ns, &nl, &key, &kl, &err), LC_EINVALID);
    ck_assert_int_eq(lc_kv_key_split("", 0, &ns, &nl, &key, &kl, &err), LC_EINVALID);
}
END_TEST

START_TEST(u64_keys_and_last)
{
    struct lc_kv_env *env = open_env(NULL);
    struct lc_kv_db *db = open_db(env, "blocks");
    struct lc_kv_txn *txn;
    struct lc_errbuf err = {{0}};
    uint8_t k[8];
    const void *key, *val;
    size_t kl, vl;
    ck_assert_int_eq(lc_kv_txn_begin_write(env, &txn, &err), 0);
    ck_assert_int_eq(lc_kv_last(txn, db, &key, &kl, &val, &vl, &err), LC_ENOTFOUND);
    static const uint64_t nums[] = {256, 1, 0x1234567890ull, 255, 0};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        lc_kv_key_u64(nums[i], k);
        ck_assert_uint_eq(lc_kv_key_u64_get(k), nums[i]);
        ck_assert_int_eq(lc_kv_put(txn, db, k, 8, &i, sizeof i, 0, &err), 0);
    }
    ck_assert_int_eq(lc_kv_last(txn, db, &key, &kl, &val, &vl, &err), 0);
    ck_assert_uint_eq(kl, 8);
    ck_assert_uint_eq(lc_kv_key_u64_get(key), 0x1234567890ull);
    struct lc_kv_iter *it;
    ck_assert_int_eq(lc_kv_iter_new(txn, db, NULL, 0, NULL, 0, &it, &err), 0);
    uint64_t prev = 0;
    int count = 0;
    while (lc_kv_iter_next(it, &key, &kl, &val, &vl, &err) == 1) {
        uint64_t n = lc_kv_key_u64_get(key);
        ck_assert(count == 0 || n > prev);
        prev = n;
        count++;
    }
    ck_assert_int_eq(count, 5);
    lc_kv_iter_free(it);
    ck_assert_int_eq(lc_kv_txn_commit(txn, &err), 0);
    lc_kv_env_close(env);
}
END_TEST

/* Writes n values of size bytes under "big<i>" keys; returns the first failure. */
static int fill(struct lc_kv_txn *txn, struct lc_kv_db *db, int n, size_t size,
                struct lc_errbuf *err)
{
    char *val = malloc(size);
    ck_assert_ptr_nonnull(val);
    memset(val, 'x', size);
    int r = 0;
    for (int i = 0; i < n && r == 0; i++) {
        char key[32];
        int kl = snprintf(key, sizeof key, "big%04d", i);
        r = lc_kv_put(txn, db, key, (size_t)kl, val, size, 0, err);
    }
    free(val);
    return r;
}

START_TEST(map_full_leaves_store_intact_and_grow_lets_retry_succeed)
{
    struct lc_kv_options opts = {.map_size = 1u << 20};
    struct lc_kv_env *env = open_env(&opts);
    struct lc_kv_db *db = open_db(env, "state");
    struct lc_kv_txn *txn;
    struct lc_errbuf err = {{0}};
    ck_assert_int_eq(lc_kv_txn_begin_write(env, &txn, &err), 0);
    put_str(txn, db, "before", "1");
    ck_assert_int_eq(lc_kv_txn_commit(txn, &err), 0);

    /* 2 MiB into a 1 MiB map. */
    ck_assert_int_eq(lc_kv_txn_begin_write(env, &txn, &err), 0);
    put_str(txn, db, "before", "2");
    int r = fill(txn, db, 32, 64 << 10, &err);
    ck_assert_int_eq(r, LC_EMAPFULL);
    ck_assert_ptr_nonnull(strstr(err.msg, "put in state"));
    /* The failure poisons the transaction: later work and the commit report it. */
    ck_assert_int_eq(lc_kv_put(txn, db, "k", 1, "v", 1, 0, &err), LC_EMAPFULL);
    ck_assert_int_eq(lc_kv_txn_commit(txn, &err), LC_EMAPFULL);
    ck_assert_ptr_nonnull(strstr(err.msg, "failed earlier"));

    ck_assert_int_eq(lc_kv_txn_begin_read(env, &txn, &err), 0);
    expect(txn, db, "before", "1");
    expect(txn, db, "big0000", NULL);
    lc_kv_txn_abort(txn);

    /* No growth limit configured: doubling is refused, an explicit size is not. */
    ck_assert_int_eq(lc_kv_env_grow(env, 0, &err), LC_EMAPFULL);
    ck_assert_int_eq(lc_kv_env_grow(env, 1u << 19, &err), LC_EINVALID);
    ck_assert_int_eq(lc_kv_env_grow(env, 8u << 20, &err), 0);
    struct lc_kv_stats st;
    ck_assert_int_eq(lc_kv_env_stats(env, &st, &err), 0);
    ck_assert_uint_eq(st.map_size, 8u << 20);

    ck_assert_int_eq(lc_kv_txn_begin_write(env, &txn, &err), 0);
    put_str(txn, db, "before", "2");
    ck_assert_int_eq(fill(txn, db, 32, 64 << 10, &err), 0);
    ck_assert_int_eq(lc_kv_txn_commit(txn, &err), 0);
    ck_assert_int_eq(lc_kv_txn_begin_read(env, &txn, &err), 0);
    expect(txn, db, "before", "2");
    const void *v;
    size_t n;
    ck_assert_int_eq(lc_kv_get(txn, db, "big0031", 7, &v, &n, &err), 0);
    ck_assert_uint_eq(n, 64 << 10);
    lc_kv_txn_abort(txn);
    ck_assert_int_eq(lc_kv_env_stats(env, &st, &err), 0);
    ck_assert_uint_gt(st.used_pages * st.page_size, 2u << 20);
    ck_assert_uint_le(st.used_pages * st.page_size, st.map_size);
    lc_kv_env_close(env);
}
END_TEST

struct fill_job {
    struct lc_kv_db *db;
    int n;
    size_t size;
    int calls;
};

static int fill_fn(struct lc_kv_txn *txn, void *arg, struct lc_errbuf *err)
{
    struct fill_job *job = arg;
    job->calls++;
    return fill(txn, job->db, job->n, job->size, err);
}

START_TEST(update_grows_the_map_up_to_its_limit)
{
    struct lc_kv_options opts = {.map_size = 1u << 20, .max_map_size = 4u << 20};
    struct lc_kv_env *env = open_env(&opts);
    struct fill_job job = {.db = open_db(env, "state"), .n = 32, .size = 64 << 10};
    struct lc_errbuf err = {{0}};
    ck_assert_int_eq(lc_kv_update(env, fill_fn, &job, &err), 0);
    ck_assert_int_ge(job.calls, 2); /* at least one retry after growing */
    struct lc_kv_stats st;
    ck_assert_int_eq(lc_kv_env_stats(env, &st, &err), 0);
    ck_assert_uint_gt(st.map_size, 1u << 20);
    ck_assert_uint_le(st.map_size, 4u << 20);
    ck_assert_uint_eq(st.max_map_size, 4u << 20);

    /* 8 MiB more cannot fit under a 4 MiB limit. */
    job.n = 128;
    ck_assert_int_eq(lc_kv_update(env, fill_fn, &job, &err), LC_EMAPFULL);
    ck_assert_ptr_nonnull(strstr(err.msg, "limit"));
    ck_assert_int_eq(lc_kv_env_stats(env, &st, &err), 0);
    ck_assert_uint_eq(st.map_size, 4u << 20);
    lc_kv_env_close(env);
}
END_TEST

static int fail_fn(struct lc_kv_txn *txn, void *arg, struct lc_errbuf *err)
{
    struct lc_kv_db *db = arg;
    int r = lc_kv_put(txn, db, "x", 1, "y", 1, 0, err);
    if (r == 0)
        r = lc_fail(err, LC_EMISMATCH, "test failure");
    return r;
}

START_TEST(update_failure_aborts)
{
    struct lc_kv_env *env = open_env(NULL);
    struct lc_kv_db *db = open_db(env, "state");
    struct lc_errbuf err = {{0}};
    ck_assert_int_eq(lc_kv_update(env, fail_fn, db, &err), LC_EMISMATCH);
    ck_assert_str_eq(err.msg, "test failure");
    struct lc_kv_txn *txn;
    ck_assert_int_eq(lc_kv_txn_begin_read(env, &txn, &err), 0);
    expect(txn, db, "x", NULL);
    lc_kv_txn_abort(txn);
    lc_kv_env_close(env);
}
END_TEST

START_TEST(reopen_keeps_data)
{
    struct lc_kv_env *env = open_env(NULL);
    struct lc_kv_db *db = open_db(env, "state");
    struct lc_kv_db *db2 = open_db(env, "blocks");
    ck_assert_ptr_eq(open_db(env, "state"), db); /* same name, same handle */
    struct lc_kv_txn *txn;
    struct lc_errbuf err = {{0}};
    ck_assert_int_eq(lc_kv_txn_begin_write(env, &txn, &err), 0);
    put_str(txn, db, "k", "state-v");
    put_str(txn, db2, "k", "blocks-v");
    ck_assert_int_eq(lc_kv_txn_commit(txn, &err), 0);
    lc_kv_env_close(env);
    lc_kv_env_close(NULL);

    env = open_env(NULL);
    struct lc_kv_db *rdb;
    ck_assert_int_eq(lc_kv_db_open(env, "blocks", 0, &rdb, &err), 0);
    ck_assert_int_eq(lc_kv_db_open(env, "nosuch", 0, &db, &err), LC_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "nosuch"));
    db = open_db(env, "state");
    ck_assert_int_eq(lc_kv_txn_begin_read(env, &txn, &err), 0);
    expect(txn, db, "k", "state-v");
    expect(txn, rdb, "k", "blocks-v");
    lc_kv_txn_abort(txn);
    lc_kv_env_close(env);

    /* Read-only: data visible, writes refused, no database created. */
    struct lc_kv_options ro = {.flags = LC_KV_RDONLY};
    env = open_env(&ro);
    ck_assert_int_eq(lc_kv_db_open(env, "state", LC_KV_DB_CREATE, &db, &err), 0);
    ck_assert_int_eq(lc_kv_db_open(env, "other", LC_KV_DB_CREATE, &rdb, &err), LC_ENOTFOUND);
    ck_assert_int_eq(lc_kv_txn_begin_write(env, &txn, &err), LC_EINVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "read-only"));
    ck_assert_int_eq(lc_kv_txn_begin_read(env, &txn, &err), 0);
    expect(txn, db, "k", "state-v");
    lc_kv_txn_abort(txn);
    lc_kv_env_close(env);
}
END_TEST

START_TEST(db_open_rejections)
{
    struct lc_kv_options opts = {.max_dbs = 2};
    struct lc_kv_env *env = open_env(&opts);
    struct lc_kv_db *db;
    struct lc_errbuf err = {{0}};
    ck_assert_int_eq(lc_kv_db_open(env, "", LC_KV_DB_CREATE, &db, &err), LC_EINVALID);
    ck_assert_int_eq(lc_kv_db_open(env, NULL, LC_KV_DB_CREATE, &db, &err), LC_EINVALID);
    ck_assert_int_eq(lc_kv_db_open(env, "a", 0x40, &db, &err), LC_EINVALID);
    open_db(env, "a");
    open_db(env, "b");
    ck_assert_int_eq(lc_kv_db_open(env, "c", LC_KV_DB_CREATE, &db, &err), LC_ETOOBIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "slots"));
    lc_kv_env_close(env);
}
END_TEST

struct reader_arg {
    struct lc_kv_env *env;
    struct lc_kv_db *db;
    int final;
    int snapshots;
};

/* Reads until it sees the final counter; every snapshot must be self-consistent: counter n
 * means keys k0..k(n-1) exist and kn does not. */
static void *reader(void *p)
{
    struct reader_arg *a = p;
    int seen = 0;
    while (seen < a->final) {
        struct lc_kv_txn *txn;
        if (lc_kv_txn_begin_read(a->env, &txn, NULL) != 0)
            return "begin";
        const void *v;
        size_t n;
        int r = lc_kv_get(txn, a->db, "n", 1, &v, &n, NULL);
        int cur = 0;
        if (r == 0 && n == sizeof cur)
            memcpy(&cur, v, sizeof cur);
        else if (r != LC_ENOTFOUND) {
            lc_kv_txn_abort(txn);
            return "counter";
        }
        char key[16];
        for (int i = 0; i <= cur; i++) {
            int kl = snprintf(key, sizeof key, "k%d", i);
            r = lc_kv_get(txn, a->db, key, (size_t)kl, &v, &n, NULL);
            if ((i < cur && r != 0) || (i == cur && r != LC_ENOTFOUND)) {
                lc_kv_txn_abort(txn);
                return "inconsistent snapshot";
            }
        }
        lc_kv_txn_abort(txn);
        if (cur < seen)
            return "went back in time";
        seen = cur;
        a->snapshots++;
    }
    return NULL;
}

struct step_arg {
    struct lc_kv_db *db;
    int i;
};

static int write_step(struct lc_kv_txn *txn, void *p, struct lc_errbuf *err)
{
    struct step_arg *s = p;
    char key[16], val[2048];
    memset(val, 'v', sizeof val);
    int kl = snprintf(key, sizeof key, "k%d", s->i);
    int r = lc_kv_put(txn, s->db, key, (size_t)kl, val, sizeof val, 0, err);
    int n = s->i + 1;
    if (r == 0)
        r = lc_kv_put(txn, s->db, "n", 1, &n, sizeof n, 0, err);
    return r;
}

START_TEST(concurrent_readers_during_writes_and_growth)
{
    /* A small map with a growth limit: the writer's lc_kv_update grows it while readers run. */
    struct lc_kv_options opts = {
        .map_size = 256u << 10, .max_map_size = 64u << 20, .flags = LC_KV_NOSYNC};
    struct lc_kv_env *env = open_env(&opts);
    struct lc_kv_db *db = open_db(env, "state");
    enum { NREADERS = 3, NWRITES = 300 };
    struct reader_arg ra[NREADERS];
    pthread_t th[NREADERS];
    for (int i = 0; i < NREADERS; i++) {
        ra[i] = (struct reader_arg){.env = env, .db = db, .final = NWRITES};
        ck_assert_int_eq(pthread_create(&th[i], NULL, reader, &ra[i]), 0);
    }
    struct lc_errbuf err = {{0}};
    for (int i = 0; i < NWRITES; i++) {
        struct step_arg s = {.db = db, .i = i};
        int r = lc_kv_update(env, write_step, &s, &err);
        ck_assert_msg(r == 0, "write %d: %s", i, err.msg);
    }
    for (int i = 0; i < NREADERS; i++) {
        void *res;
        ck_assert_int_eq(pthread_join(th[i], &res), 0);
        ck_assert_msg(res == NULL, "reader %d: %s", i, (const char *)res);
        ck_assert_int_ge(ra[i].snapshots, 1);
    }
    struct lc_kv_stats st;
    ck_assert_int_eq(lc_kv_env_stats(env, &st, &err), 0);
    ck_assert_uint_gt(st.map_size, 256u << 10);
    lc_kv_env_close(env);
}
END_TEST

struct handoff {
    struct lc_kv_txn *txn;
    struct lc_kv_db *db;
    int result;
};

static void *use_foreign_txn(void *p)
{
    struct handoff *h = p;
    const void *v;
    size_t n;
    h->result = lc_kv_get(h->txn, h->db, "k", 1, &v, &n, NULL);
    if (h->result == 0 && (n != 2 || memcmp(v, "v1", 2) != 0))
        h->result = -1;
    return NULL;
}

START_TEST(read_txn_moves_between_threads)
{
    struct lc_kv_env *env = open_env(NULL);
    struct lc_kv_db *db = open_db(env, "state");
    struct lc_kv_txn *w, *r1, *r2;
    struct lc_errbuf err = {{0}};
    ck_assert_int_eq(lc_kv_txn_begin_write(env, &w, &err), 0);
    put_str(w, db, "k", "v1");
    ck_assert_int_eq(lc_kv_txn_commit(w, &err), 0);
    /* Two read txns in one thread, one of them used by another thread (MDB_NOTLS). */
    ck_assert_int_eq(lc_kv_txn_begin_read(env, &r1, &err), 0);
    ck_assert_int_eq(lc_kv_txn_begin_read(env, &r2, &err), 0);
    struct handoff h = {.txn = r1, .db = db, .result = 1};
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, use_foreign_txn, &h), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_int_eq(h.result, 0);
    expect(r2, db, "k", "v1");
    lc_kv_txn_abort(r2);
    lc_kv_txn_abort(r1);
    lc_kv_env_close(env);
}
END_TEST

START_TEST(bad_directory_is_a_clear_error)
{
    struct lc_kv_env *env = NULL;
    struct lc_errbuf err = {{0}};
    char path[192];

    snprintf(path, sizeof path, "%s/file", tmpdir);
    int fd = open(path, O_CREAT | O_WRONLY, 0600);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(lc_kv_env_open(path, NULL, &env, &err), -ENOTDIR);
    ck_assert_ptr_nonnull(strstr(err.msg, path));
    ck_assert_ptr_nonnull(strstr(err.msg, "not a directory"));

    snprintf(path, sizeof path, "%s/missing/env", tmpdir);
    ck_assert_int_eq(lc_kv_env_open(path, NULL, &env, &err), -ENOENT);
    ck_assert_ptr_nonnull(strstr(err.msg, path));

    struct lc_kv_options ro = {.flags = LC_KV_RDONLY};
    snprintf(path, sizeof path, "%s/absent", tmpdir);
    ck_assert_int_eq(lc_kv_env_open(path, &ro, &env, &err), -ENOENT);

    ck_assert_int_eq(lc_kv_env_open("", NULL, &env, &err), LC_EINVALID);
    struct lc_kv_options bad = {.flags = 0x100};
    ck_assert_int_eq(lc_kv_env_open(envdir, &bad, &env, &err), LC_EINVALID);
    bad = (struct lc_kv_options){.map_size = 4u << 20, .max_map_size = 1u << 20};
    ck_assert_int_eq(lc_kv_env_open(envdir, &bad, &env, &err), LC_EINVALID);
    ck_assert_ptr_null(env);

    /* A data.mdb that is not LMDB. */
    snprintf(path, sizeof path, "%s/garbage", tmpdir);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    char file[256];
    snprintf(file, sizeof file, "%s/data.mdb", path);
    fd = open(file, O_CREAT | O_WRONLY, 0600);
    ck_assert_int_ge(fd, 0);
    char junk[16384];
    memset(junk, 0x5a, sizeof junk);
    ck_assert_int_eq(write(fd, junk, sizeof junk), (ssize_t)sizeof junk);
    close(fd);
    ck_assert_int_eq(lc_kv_env_open(path, NULL, &env, &err), LC_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(err.msg, path));
    ck_assert_ptr_null(env);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("kv");
    TCase *tc = tcase_create("kv");
    tcase_add_unchecked_fixture(tc, run_setup, run_teardown);
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, put_get_del);
    tcase_add_test(tc, bad_keys_are_rejected);
    tcase_add_test(tc, read_snapshot_is_isolated);
    tcase_add_test(tc, abort_discards);
    tcase_add_test(tc, range_iteration_order_and_bounds);
    tcase_add_test(tc, write_txn_iterators_end_with_commit);
    tcase_add_test(tc, composite_keys_sort_per_namespace);
    tcase_add_test(tc, composite_key_rejections);
    tcase_add_test(tc, u64_keys_and_last);
    tcase_add_test(tc, map_full_leaves_store_intact_and_grow_lets_retry_succeed);
    tcase_add_test(tc, update_grows_the_map_up_to_its_limit);
    tcase_add_test(tc, update_failure_aborts);
    tcase_add_test(tc, reopen_keeps_data);
    tcase_add_test(tc, db_open_rejections);
    tcase_add_test(tc, concurrent_readers_during_writes_and_growth);
    tcase_add_test(tc, read_txn_moves_between_threads);
    tcase_add_test(tc, bad_directory_is_a_clear_error);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
