/* SPDX-License-Identifier: Apache-2.0 */
/* LMDB behind weft's error codes: environments, snapshots, the single writer, map growth. */
#include "libcommon/kv.h"

#include <assert.h>
#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "libcommon/log.h"

#define KV_DEFAULT_MAP_SIZE ((size_t)1 << 30)
#define KV_DEFAULT_MAX_DBS 16u

struct lc_kv_db {
    MDB_dbi dbi;
    char *name;
};

struct lc_kv_env {
    MDB_env *mdb;
    /* Held shared by every open transaction and exclusively by a map resize, which must not
     * run while any transaction of this process is open (LMDB remaps the file). */
    pthread_rwlock_t gate;
    pthread_mutex_t dbs_lock;
    size_t max_map_size;
    size_t max_key;
    unsigned flags;
    unsigned max_dbs;
    unsigned ndbs;
    struct lc_kv_db *dbs; /* max_dbs slots, never moved: handles point into it */
    char *dir;
};

struct lc_kv_txn {
    struct lc_kv_env *env;
    MDB_txn *mdb;
    bool write;
    int poisoned; /* code of the failure that made LMDB refuse further work in this txn */
    struct lc_kv_iter *iters;
};

struct lc_kv_iter {
    struct lc_kv_txn *txn; /* NULL once the transaction ended or refreshed */
    MDB_cursor *cur;
    struct lc_kv_iter *prev, *next;
    bool started, done, has_end;
    size_t start_len, end_len;
    unsigned char *start, *end;
};

/* The one place LMDB codes become weft codes. */
static int kv_code(int rc)
{
    switch (rc) {
    case MDB_NOTFOUND:
        return LC_ENOTFOUND;
    case MDB_KEYEXIST:
        return LC_EEXISTS;
    case MDB_MAP_FULL:
        return LC_EMAPFULL;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
    case MDB_PANIC:
    case MDB_VERSION_MISMATCH:
        return LC_ECORRUPT;
    case MDB_DBS_FULL:
    case MDB_READERS_FULL:
    case MDB_TXN_FULL:
    case MDB_CURSOR_FULL:
    case MDB_PAGE_FULL:
    case MDB_BAD_VALSIZE:
        return LC_ETOOBIG;
    case MDB_MAP_RESIZED:
        return LC_EUNAVAIL;
    case MDB_INCOMPATIBLE:
    case MDB_BAD_RSLOT:
    case MDB_BAD_TXN:
    case MDB_BAD_DBI:
    case MDB_TLS_FULL:
        return LC_EINVALID;
    default:
        return rc > 0 ? -rc : -EIO;
    }
}

/* Formats "<context>: <LMDB's text>" into err and returns the translated code. */
__attribute__((format(printf, 3, 4))) static int kv_fail(struct lc_errbuf *err, int rc,
                                                         const char *fmt, ...)
{
    int code = kv_code(rc);
    if (err) {
        char ctx[sizeof err->msg];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ctx, sizeof ctx, fmt, ap);
        va_end(ap);
        lc_fail(err, code, "%s: %s", ctx, mdb_strerror(rc));
    }
    lc_log_debug("kv", "lmdb failure rc=%d code=%s", rc, lc_strerror(code));
    return code;
}

static int gate_read_lock(struct lc_kv_env *env)
{
    int r = pthread_rwlock_rdlock(&env->gate);
    return r ? -r : 0;
}

static void gate_unlock(struct lc_kv_env *env)
{
    int r = pthread_rwlock_unlock(&env->gate);
    assert(r == 0);
    (void)r;
}

/* Creates dir (one level) when it is missing; rejects a path that is not a directory. */
static int ensure_dir(const char *dir, bool create, struct lc_errbuf *err)
{
    struct stat st;
    if (stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            return lc_fail(err, -ENOTDIR, "kv dir %s: not a directory", dir);
        return 0;
    }
    int e = errno;
    if (e != ENOENT || !create)
        return lc_fail(err, -e, "kv dir %s: %s", dir, strerror(e));
    if (mkdir(dir, 0750) != 0) {
        e = errno;
        return lc_fail(err, -e, "kv dir %s: cannot create: %s", dir, strerror(e));
    }
    return 0;
}

int lc_kv_env_open(const char *dir, const struct lc_kv_options *opts, struct lc_kv_env **ret_env,
                   struct lc_errbuf *err)
{
    static const struct lc_kv_options defaults = {0};
    if (!opts)
        opts = &defaults;
    if (!dir || !*dir)
        return lc_fail(err, LC_EINVALID, "kv dir: empty path");
    if (opts->flags & ~(unsigned)(LC_KV_NOSYNC | LC_KV_NOMETASYNC | LC_KV_RDONLY))
        return lc_fail(err, LC_EINVALID, "kv options: unknown flags 0x%x", opts->flags);
    size_t map_size = opts->map_size ? opts->map_size : KV_DEFAULT_MAP_SIZE;
    if (opts->max_map_size && opts->max_map_size < map_size)
        return lc_fail(err, LC_EINVALID, "kv options: max_map_size %zu below map_size %zu",
                       opts->max_map_size, map_size);

    bool rdonly = opts->flags & LC_KV_RDONLY;
    int r = ensure_dir(dir, !rdonly, err);
    if (r < 0)
        return r;

    struct lc_kv_env *env = calloc(1, sizeof *env);
    if (!env)
        return lc_fail(err, -ENOMEM, "kv env: out of memory");
    bool gate_ok = false, lock_ok = false;
    env->flags = opts->flags;
    env->max_map_size = opts->max_map_size;
    env->max_dbs = opts->max_dbs ? opts->max_dbs : KV_DEFAULT_MAX_DBS;
    env->dir = strdup(dir);
    env->dbs = calloc(env->max_dbs, sizeof *env->dbs);
    if (!env->dir || !env->dbs) {
        r = lc_fail(err, -ENOMEM, "kv env: out of memory");
        goto fail;
    }

    pthread_rwlockattr_t ga;
    if (pthread_rwlockattr_init(&ga) != 0) {
        r = lc_fail(err, -ENOMEM, "kv env: rwlock attributes");
        goto fail;
    }
    /* A pending resize must not starve behind a steady stream of readers. */
    pthread_rwlockattr_setkind_np(&ga, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    r = pthread_rwlock_init(&env->gate, &ga);
    pthread_rwlockattr_destroy(&ga);
    if (r != 0) {
        r = lc_fail(err, -r, "kv env: rwlock: %s", strerror(r));
        goto fail;
    }
    gate_ok = true;
    r = pthread_mutex_init(&env->dbs_lock, NULL);
    if (r != 0) {
        r = lc_fail(err, -r, "kv env: mutex: %s", strerror(r));
        goto fail;
    }
    lock_ok = true;

    int rc = mdb_env_create(&env->mdb);
    if (rc) {
        r = kv_fail(err, rc, "kv dir %s: create env", dir);
        goto fail;
    }
    rc = mdb_env_set_mapsize(env->mdb, map_size);
    if (!rc)
        rc = mdb_env_set_maxdbs(env->mdb, env->max_dbs);
    if (!rc && opts->max_readers)
        rc = mdb_env_set_maxreaders(env->mdb, opts->max_readers);
    if (rc) {
        r = kv_fail(err, rc, "kv dir %s: set limits", dir);
        goto fail;
    }
    /* MDB_NOTLS: read transactions are not tied to a thread. Never MDB_WRITEMAP (see kv.h). */
    unsigned mflags = MDB_NOTLS;
    if (opts->flags & LC_KV_NOSYNC)
        mflags |= MDB_NOSYNC;
    if (opts->flags & LC_KV_NOMETASYNC)
        mflags |= MDB_NOMETASYNC;
    if (rdonly)
        mflags |= MDB_RDONLY;
    rc = mdb_env_open(env->mdb, dir, mflags, 0600);
    if (rc) {
        r = kv_fail(err, rc, "kv dir %s: open", dir);
        goto fail;
    }
    int dead = 0;
    rc = mdb_reader_check(env->mdb, &dead);
    if (rc) {
        r = kv_fail(err, rc, "kv dir %s: reader check", dir);
        goto fail;
    }
    if (dead)
        lc_log_debug("kv", "cleared stale readers dir=%s count=%d", dir, dead);
    env->max_key = (size_t)mdb_env_get_maxkeysize(env->mdb);
    lc_log_debug("kv", "env open dir=%s map_size=%zu flags=0x%x", dir, map_size, opts->flags);
    *ret_env = env;
    return 0;

fail:
    if (env->mdb)
        mdb_env_close(env->mdb);
    if (lock_ok)
        pthread_mutex_destroy(&env->dbs_lock);
    if (gate_ok)
        pthread_rwlock_destroy(&env->gate);
    free(env->dbs);
    free(env->dir);
    free(env);
    return r;
}

void lc_kv_env_close(struct lc_kv_env *env)
{
    if (!env)
        return;
    for (unsigned i = 0; i < env->ndbs; i++) {
        mdb_dbi_close(env->mdb, env->dbs[i].dbi);
        free(env->dbs[i].name);
    }
    mdb_env_close(env->mdb);
    pthread_mutex_destroy(&env->dbs_lock);
    pthread_rwlock_destroy(&env->gate);
    lc_log_debug("kv", "env closed dir=%s", env->dir);
    free(env->dbs);
    free(env->dir);
    free(env);
}

/* Resizes the map. With new_size 0 it doubles (capped at max_map_size), but only if the map is
 * still seen_size big (when seen_size is not 0): a concurrent grower may have done it already. */
static int kv_grow(struct lc_kv_env *env, size_t new_size, size_t seen_size, struct lc_errbuf *err)
{
    int r = pthread_rwlock_wrlock(&env->gate);
    if (r)
        return lc_fail(err, -r, "kv grow: lock: %s", strerror(r));
    MDB_envinfo info;
    int rc = mdb_env_info(env->mdb, &info);
    if (rc) {
        r = kv_fail(err, rc, "kv dir %s: env info", env->dir);
        goto out;
    }
    size_t cur = info.me_mapsize, target = new_size;
    if (new_size == 0) {
        if (seen_size && cur != seen_size) {
            r = 0; /* grown by someone else meanwhile */
            goto out;
        }
        if (env->max_map_size == 0 || cur >= env->max_map_size) {
            r = lc_fail(err, LC_EMAPFULL, "kv dir %s: map full at %zu bytes (limit %zu)", env->dir,
                        cur, env->max_map_size);
            goto out;
        }
        target = cur > env->max_map_size / 2 ? env->max_map_size : cur * 2;
    } else if (new_size < cur) {
        r = lc_fail(err, LC_EINVALID, "kv grow: new size %zu below current map size %zu", new_size,
                    cur);
        goto out;
    }
    rc = mdb_env_set_mapsize(env->mdb, target);
    if (rc) {
        r = kv_fail(err, rc, "kv dir %s: set map size %zu", env->dir, target);
        goto out;
    }
    lc_log_debug("kv", "map grown dir=%s from=%zu to=%zu", env->dir, cur, target);
    r = 0;
out:
    gate_unlock(env);
    return r;
}

int lc_kv_env_grow(struct lc_kv_env *env, size_t new_size, struct lc_errbuf *err)
{
    return kv_grow(env, new_size, 0, err);
}

int lc_kv_env_stats(struct lc_kv_env *env, struct lc_kv_stats *ret_stats, struct lc_errbuf *err)
{
    int r = gate_read_lock(env);
    if (r)
        return lc_fail(err, r, "kv stats: lock");
    MDB_envinfo info;
    MDB_stat st;
    int rc = mdb_env_info(env->mdb, &info);
    if (!rc)
        rc = mdb_env_stat(env->mdb, &st);
    gate_unlock(env);
    if (rc)
        return kv_fail(err, rc, "kv dir %s: stats", env->dir);
    *ret_stats = (struct lc_kv_stats){
        .map_size = info.me_mapsize,
        .max_map_size = env->max_map_size,
        .page_size = st.ms_psize,
        .used_pages = info.me_last_pgno + 1,
        .readers = info.me_numreaders,
        .max_readers = info.me_maxreaders,
    };
    return 0;
}

size_t lc_kv_max_key_size(const struct lc_kv_env *env)
{
    return env->max_key;
}

static int txn_begin(struct lc_kv_env *env, bool write, MDB_txn **ret, struct lc_errbuf *err)
{
    int r = gate_read_lock(env);
    if (r)
        return lc_fail(err, r, "kv txn: lock");
    int rc = mdb_txn_begin(env->mdb, NULL, write ? 0 : MDB_RDONLY, ret);
    if (rc) {
        gate_unlock(env);
        return kv_fail(err, rc, "kv dir %s: begin %s txn", env->dir, write ? "write" : "read");
    }
    return 0;
}

int lc_kv_db_open(struct lc_kv_env *env, const char *name, unsigned flags, struct lc_kv_db **ret_db,
                  struct lc_errbuf *err)
{
    if (!name || !*name)
        return lc_fail(err, LC_EINVALID, "kv db: empty name");
    if (flags & ~(unsigned)LC_KV_DB_CREATE)
        return lc_fail(err, LC_EINVALID, "kv db %s: unknown flags 0x%x", name, flags);
    int r = pthread_mutex_lock(&env->dbs_lock);
    if (r)
        return lc_fail(err, -r, "kv db %s: lock", name);
    for (unsigned i = 0; i < env->ndbs; i++) {
        if (strcmp(env->dbs[i].name, name) == 0) {
            *ret_db = &env->dbs[i];
            r = 0;
            goto out;
        }
    }
    if (env->ndbs == env->max_dbs) {
        r = lc_fail(err, LC_ETOOBIG, "kv db %s: all %u database slots in use", name, env->max_dbs);
        goto out;
    }
    char *copy = strdup(name);
    if (!copy) {
        r = lc_fail(err, -ENOMEM, "kv db %s: out of memory", name);
        goto out;
    }
    bool rdonly = env->flags & LC_KV_RDONLY;
    MDB_txn *t;
    r = txn_begin(env, !rdonly, &t, err);
    if (r < 0) {
        free(copy);
        goto out;
    }
    MDB_dbi dbi;
    unsigned mflags = (flags & LC_KV_DB_CREATE) && !rdonly ? MDB_CREATE : 0;
    int rc = mdb_dbi_open(t, name, mflags, &dbi);
    if (rc) {
        mdb_txn_abort(t);
        gate_unlock(env);
        free(copy);
        r = kv_fail(err, rc, "kv dir %s: database %s", env->dir, name);
        goto out;
    }
    /* The handle becomes visible to other transactions only once this one commits, even a
     * read-only one. */
    rc = mdb_txn_commit(t);
    gate_unlock(env);
    if (rc) {
        free(copy);
        r = kv_fail(err, rc, "kv dir %s: database %s: commit", env->dir, name);
        goto out;
    }
    env->dbs[env->ndbs] = (struct lc_kv_db){.dbi = dbi, .name = copy};
    *ret_db = &env->dbs[env->ndbs++];
    r = 0;
out:
    pthread_mutex_unlock(&env->dbs_lock);
    return r;
}

static int txn_new(struct lc_kv_env *env, bool write, struct lc_kv_txn **ret_txn,
                   struct lc_errbuf *err)
{
    struct lc_kv_txn *txn = calloc(1, sizeof *txn);
    if (!txn)
        return lc_fail(err, -ENOMEM, "kv txn: out of memory");
    int r = txn_begin(env, write, &txn->mdb, err);
    if (r < 0) {
        free(txn);
        return r;
    }
    txn->env = env;
    txn->write = write;
    *ret_txn = txn;
    return 0;
}

int lc_kv_txn_begin_read(struct lc_kv_env *env, struct lc_kv_txn **ret_txn, struct lc_errbuf *err)
{
    return txn_new(env, false, ret_txn, err);
}

int lc_kv_txn_begin_write(struct lc_kv_env *env, struct lc_kv_txn **ret_txn, struct lc_errbuf *err)
{
    if (env->flags & LC_KV_RDONLY)
        return lc_fail(err, LC_EINVALID, "kv dir %s: write transaction on a read-only env",
                       env->dir);
    return txn_new(env, true, ret_txn, err);
}

bool lc_kv_txn_is_write(const struct lc_kv_txn *txn)
{
    return txn->write;
}

/* Closes the cursors of txn's iterators (before the txn ends: LMDB frees a write txn's cursors
 * itself at its end) and marks the iterators closed. */
static void txn_close_iters(struct lc_kv_txn *txn)
{
    for (struct lc_kv_iter *it = txn->iters, *nx; it; it = nx) {
        nx = it->next;
        mdb_cursor_close(it->cur);
        it->cur = NULL;
        it->txn = NULL;
        it->prev = it->next = NULL;
    }
    txn->iters = NULL;
}

int lc_kv_txn_refresh(struct lc_kv_txn *txn, struct lc_errbuf *err)
{
    if (txn->write)
        return lc_fail(err, LC_EINVALID, "kv refresh: not a read transaction");
    txn_close_iters(txn);
    mdb_txn_reset(txn->mdb);
    int rc = mdb_txn_renew(txn->mdb);
    if (rc) {
        txn->poisoned = kv_code(rc);
        return kv_fail(err, rc, "kv dir %s: renew read txn", txn->env->dir);
    }
    txn->poisoned = 0;
    return 0;
}

int lc_kv_txn_commit(struct lc_kv_txn *txn, struct lc_errbuf *err)
{
    struct lc_kv_env *env = txn->env;
    int r = 0;
    txn_close_iters(txn);
    if (!txn->write) {
        mdb_txn_abort(txn->mdb);
    } else if (txn->poisoned) {
        mdb_txn_abort(txn->mdb);
        r = lc_fail(err, txn->poisoned, "kv dir %s: commit: transaction failed earlier (%s)",
                    env->dir, lc_strerror(txn->poisoned));
    } else {
        int rc = mdb_txn_commit(txn->mdb); /* frees the txn whatever the outcome */
        if (rc)
            r = kv_fail(err, rc, "kv dir %s: commit", env->dir);
    }
    gate_unlock(env);
    free(txn);
    return r;
}

void lc_kv_txn_abort(struct lc_kv_txn *txn)
{
    if (!txn)
        return;
    txn_close_iters(txn);
    mdb_txn_abort(txn->mdb);
    gate_unlock(txn->env);
    free(txn);
}

static int check_key(const struct lc_kv_txn *txn, const void *key, size_t key_len,
                     struct lc_errbuf *err)
{
    if (!key || key_len == 0)
        return lc_fail(err, LC_EINVALID, "kv key: empty");
    if (key_len > txn->env->max_key)
        return lc_fail(err, LC_ETOOBIG, "kv key: %zu bytes, over the limit of %zu", key_len,
                       txn->env->max_key);
    return 0;
}

static int check_usable(const struct lc_kv_txn *txn, struct lc_errbuf *err)
{
    if (txn->poisoned)
        return lc_fail(err, txn->poisoned, "kv dir %s: transaction failed earlier (%s)",
                       txn->env->dir, lc_strerror(txn->poisoned));
    return 0;
}

/* Translates an LMDB failure inside txn; failures other than "not found" and "exists" leave an
 * LMDB write txn unusable, so remember them. */
__attribute__((format(printf, 4, 5))) static int
txn_fail(struct lc_kv_txn *txn, struct lc_errbuf *err, int rc, const char *fmt, ...)
{
    char ctx[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx, sizeof ctx, fmt, ap);
    va_end(ap);
    int code = kv_fail(err, rc, "kv dir %s: %s", txn->env->dir, ctx);
    if (txn->write && code != LC_ENOTFOUND && code != LC_EEXISTS)
        txn->poisoned = code;
    return code;
}

int lc_kv_get(struct lc_kv_txn *txn, struct lc_kv_db *db, const void *key, size_t key_len,
              const void **ret_val, size_t *ret_len, struct lc_errbuf *err)
{
    int r = check_usable(txn, err);
    if (r == 0)
        r = check_key(txn, key, key_len, err);
    if (r < 0)
        return r;
    MDB_val k = {.mv_size = key_len, .mv_data = (void *)key}, v;
    int rc = mdb_get(txn->mdb, db->dbi, &k, &v);
    if (rc == MDB_NOTFOUND)
        return lc_fail(err, LC_ENOTFOUND, "kv %s: key not found", db->name);
    if (rc)
        return txn_fail(txn, err, rc, "get in %s", db->name);
    *ret_val = v.mv_data;
    *ret_len = v.mv_size;
    return 0;
}

int lc_kv_get_copy(struct lc_kv_txn *txn, struct lc_kv_db *db, const void *key, size_t key_len,
                   void **ret_val, size_t *ret_len, struct lc_errbuf *err)
{
    const void *v = NULL;
    size_t n = 0;
    int r = lc_kv_get(txn, db, key, key_len, &v, &n, err);
    if (r < 0)
        return r;
    void *copy = malloc(n ? n : 1);
    if (!copy)
        return lc_fail(err, -ENOMEM, "kv %s: copy of %zu bytes: out of memory", db->name, n);
    if (n)
        memcpy(copy, v, n);
    *ret_val = copy;
    *ret_len = n;
    return 0;
}

int lc_kv_put(struct lc_kv_txn *txn, struct lc_kv_db *db, const void *key, size_t key_len,
              const void *val, size_t val_len, unsigned flags, struct lc_errbuf *err)
{
    if (!txn->write)
        return lc_fail(err, LC_EINVALID, "kv put in %s: read transaction", db->name);
    if (flags & ~(unsigned)LC_KV_NOOVERWRITE)
        return lc_fail(err, LC_EINVALID, "kv put in %s: unknown flags 0x%x", db->name, flags);
    if (!val && val_len)
        return lc_fail(err, LC_EINVALID, "kv put in %s: NULL value", db->name);
    if (val_len > UINT32_MAX)
        return lc_fail(err, LC_ETOOBIG, "kv put in %s: value of %zu bytes", db->name, val_len);
    int r = check_usable(txn, err);
    if (r == 0)
        r = check_key(txn, key, key_len, err);
    if (r < 0)
        return r;
    MDB_val k = {.mv_size = key_len, .mv_data = (void *)key};
    MDB_val v = {.mv_size = val_len, .mv_data = (void *)val};
    int rc = mdb_put(txn->mdb, db->dbi, &k, &v, (flags & LC_KV_NOOVERWRITE) ? MDB_NOOVERWRITE : 0);
    if (rc == MDB_KEYEXIST)
        return lc_fail(err, LC_EEXISTS, "kv put in %s: key exists", db->name);
    if (rc)
        return txn_fail(txn, err, rc, "put in %s (%zu+%zu bytes)", db->name, key_len, val_len);
    return 0;
}

int lc_kv_del(struct lc_kv_txn *txn, struct lc_kv_db *db, const void *key, size_t key_len,
              struct lc_errbuf *err)
{
    if (!txn->write)
        return lc_fail(err, LC_EINVALID, "kv del in %s: read transaction", db->name);
    int r = check_usable(txn, err);
    if (r == 0)
        r = check_key(txn, key, key_len, err);
    if (r < 0)
        return r;
    MDB_val k = {.mv_size = key_len, .mv_data = (void *)key};
    int rc = mdb_del(txn->mdb, db->dbi, &k, NULL);
    if (rc == MDB_NOTFOUND)
        return lc_fail(err, LC_ENOTFOUND, "kv del in %s: key not found", db->name);
    if (rc)
        return txn_fail(txn, err, rc, "del in %s", db->name);
    return 0;
}

int lc_kv_last(struct lc_kv_txn *txn, struct lc_kv_db *db, const void **ret_key,
               size_t *ret_key_len, const void **ret_val, size_t *ret_val_len,
               struct lc_errbuf *err)
{
    int r = check_usable(txn, err);
    if (r < 0)
        return r;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn->mdb, db->dbi, &cur);
    if (rc)
        return txn_fail(txn, err, rc, "cursor on %s", db->name);
    MDB_val k, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    mdb_cursor_close(cur);
    if (rc == MDB_NOTFOUND)
        return lc_fail(err, LC_ENOTFOUND, "kv %s: empty", db->name);
    if (rc)
        return txn_fail(txn, err, rc, "last in %s", db->name);
    *ret_key = k.mv_data;
    *ret_key_len = k.mv_size;
    *ret_val = v.mv_data;
    *ret_val_len = v.mv_size;
    return 0;
}

/* LMDB's default key order: memcmp over the common length, then the shorter key first. */
static int key_cmp(const void *a, size_t alen, const void *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    if (c)
        return c;
    return alen < blen ? -1 : alen > blen;
}

int lc_kv_iter_new(struct lc_kv_txn *txn, struct lc_kv_db *db, const void *start, size_t start_len,
                   const void *end, size_t end_len, struct lc_kv_iter **ret_it,
                   struct lc_errbuf *err)
{
    int r = check_usable(txn, err);
    if (r < 0)
        return r;
    if (!start)
        start_len = 0;
    if (start_len > txn->env->max_key)
        return lc_fail(err, LC_ETOOBIG, "kv range on %s: start key of %zu bytes", db->name,
                       start_len);
    if (!end && end_len)
        return lc_fail(err, LC_EINVALID, "kv range on %s: NULL end with a length", db->name);
    struct lc_kv_iter *it = calloc(1, sizeof *it);
    if (!it)
        return lc_fail(err, -ENOMEM, "kv range on %s: out of memory", db->name);
    it->start_len = start_len;
    it->end_len = end_len;
    it->has_end = end != NULL;
    it->start = malloc(start_len ? start_len : 1);
    it->end = malloc(end_len ? end_len : 1);
    if (!it->start || !it->end) {
        r = lc_fail(err, -ENOMEM, "kv range on %s: out of memory", db->name);
        goto fail;
    }
    if (start_len)
        memcpy(it->start, start, start_len);
    if (end_len)
        memcpy(it->end, end, end_len);
    int rc = mdb_cursor_open(txn->mdb, db->dbi, &it->cur);
    if (rc) {
        r = txn_fail(txn, err, rc, "cursor on %s", db->name);
        goto fail;
    }
    it->txn = txn;
    it->next = txn->iters;
    if (txn->iters)
        txn->iters->prev = it;
    txn->iters = it;
    *ret_it = it;
    return 0;
fail:
    free(it->start);
    free(it->end);
    free(it);
    return r;
}

int lc_kv_iter_next(struct lc_kv_iter *it, const void **ret_key, size_t *ret_key_len,
                    const void **ret_val, size_t *ret_val_len, struct lc_errbuf *err)
{
    if (it->done)
        return 0;
    if (!it->txn)
        return lc_fail(err, LC_ECLOSED, "kv iterator: its transaction ended");
    int r = check_usable(it->txn, err);
    if (r < 0)
        return r;
    MDB_val k, v;
    int rc;
    if (!it->started) {
        it->started = true;
        if (it->start_len) {
            k = (MDB_val){.mv_size = it->start_len, .mv_data = it->start};
            rc = mdb_cursor_get(it->cur, &k, &v, MDB_SET_RANGE);
        } else {
            rc = mdb_cursor_get(it->cur, &k, &v, MDB_FIRST);
        }
    } else {
        rc = mdb_cursor_get(it->cur, &k, &v, MDB_NEXT);
    }
    if (rc == MDB_NOTFOUND) {
        it->done = true;
        return 0;
    }
    if (rc)
        return txn_fail(it->txn, err, rc, "range step");
    if (it->has_end && key_cmp(k.mv_data, k.mv_size, it->end, it->end_len) >= 0) {
        it->done = true;
        return 0;
    }
    *ret_key = k.mv_data;
    *ret_key_len = k.mv_size;
    *ret_val = v.mv_data;
    *ret_val_len = v.mv_size;
    return 1;
}

void lc_kv_iter_free(struct lc_kv_iter *it)
{
    if (!it)
        return;
    if (it->txn) {
        mdb_cursor_close(it->cur);
        if (it->prev)
            it->prev->next = it->next;
        else
            it->txn->iters = it->next;
        if (it->next)
            it->next->prev = it->prev;
    }
    free(it->start);
    free(it->end);
    free(it);
}

int lc_kv_update(struct lc_kv_env *env, lc_kv_update_fn fn, void *arg, struct lc_errbuf *err)
{
    for (;;) {
        struct lc_kv_txn *txn = NULL;
        int r = lc_kv_txn_begin_write(env, &txn, err);
        if (r < 0)
            return r;
        MDB_envinfo info;
        int rc = mdb_env_info(env->mdb, &info); /* stable: the gate is held */
        if (rc) {
            lc_kv_txn_abort(txn);
            return kv_fail(err, rc, "kv dir %s: env info", env->dir);
        }
        r = fn(txn, arg, err);
        if (r == 0)
            r = lc_kv_txn_commit(txn, err);
        else
            lc_kv_txn_abort(txn);
        if (r != LC_EMAPFULL)
            return r;
        r = kv_grow(env, 0, info.me_mapsize, err);
        if (r < 0)
            return r;
    }
}

static int check_ns(const char *ns, size_t ns_len, struct lc_errbuf *err)
{
    if (!ns || ns_len == 0)
        return lc_fail(err, LC_EINVALID, "kv composite key: empty namespace");
    if (memchr(ns, 0, ns_len))
        return lc_fail(err, LC_EINVALID, "kv composite key: namespace holds a 0x00 byte");
    return 0;
}

int lc_kv_key_compose(void *buf, size_t cap, const char *ns, size_t ns_len, const void *key,
                      size_t key_len, size_t *ret_len, struct lc_errbuf *err)
{
    int r = check_ns(ns, ns_len, err);
    if (r < 0)
        return r;
    if (!key && key_len)
        return lc_fail(err, LC_EINVALID, "kv composite key: NULL key with a length");
    if (key_len > cap || ns_len > cap - key_len || ns_len + key_len + 1 > cap)
        return lc_fail(err, LC_ETOOBIG, "kv composite key: %zu+1+%zu bytes over %zu", ns_len,
                       key_len, cap);
    unsigned char *p = buf;
    memcpy(p, ns, ns_len);
    p[ns_len] = 0x00;
    if (key_len)
        memcpy(p + ns_len + 1, key, key_len);
    *ret_len = ns_len + 1 + key_len;
    return 0;
}

int lc_kv_key_ns_end(void *buf, size_t cap, const char *ns, size_t ns_len, size_t *ret_len,
                     struct lc_errbuf *err)
{
    int r = check_ns(ns, ns_len, err);
    if (r < 0)
        return r;
    if (ns_len >= cap)
        return lc_fail(err, LC_ETOOBIG, "kv composite key: %zu+1 bytes over %zu", ns_len, cap);
    unsigned char *p = buf;
    memcpy(p, ns, ns_len);
    p[ns_len] = 0x01;
    *ret_len = ns_len + 1;
    return 0;
}

int lc_kv_key_split(const void *ckey, size_t len, const char **ret_ns, size_t *ret_ns_len,
                    const void **ret_key, size_t *ret_key_len, struct lc_errbuf *err)
{
    const unsigned char *p = ckey;
    const unsigned char *z = len ? memchr(p, 0, len) : NULL;
    if (!z)
        return lc_fail(err, LC_EINVALID, "kv composite key: no 0x00 separator");
    if (z == p)
        return lc_fail(err, LC_EINVALID, "kv composite key: empty namespace");
    *ret_ns = (const char *)p;
    *ret_ns_len = (size_t)(z - p);
    *ret_key = z + 1;
    *ret_key_len = len - (size_t)(z - p) - 1;
    return 0;
}

void lc_kv_key_u64(uint64_t v, uint8_t ret_key[8])
{
    for (int i = 7; i >= 0; i--) {
        ret_key[i] = (uint8_t)v;
        v >>= 8;
    }
}

uint64_t lc_kv_key_u64_get(const uint8_t key[8])
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | key[i];
    return v;
}
