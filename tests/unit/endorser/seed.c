/* SPDX-License-Identifier: Apache-2.0 */
/* Writes test contents into an endorser's state replica before the endorser starts. */
#include "seed.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/common.pb-c.h"

#include "libcommon/chconf.h"
#include "libcommon/kv.h"
#include "libcommon/wire.h"

struct seed {
    struct lc_state *st;
    const struct lc_chconf *cc;
    const char *genesis_txid;
    const struct lc_state_tx *tx;
};

static int seed_genesis(struct lc_kv_txn *txn, void *arg, struct lc_errbuf *err)
{
    struct seed *s = arg;
    return lc_state_apply_config(s->st, txn, 0, s->genesis_txid, s->cc, err);
}

static int seed_block(struct lc_kv_txn *txn, void *arg, struct lc_errbuf *err)
{
    struct seed *s = arg;
    uint64_t h;
    int r = lc_state_height(s->st, txn, &h, err);
    if (r == 0)
        r = lc_state_apply_block(s->st, txn, h, s->tx, 1, err);
    return r;
}

static uint8_t *read_all(const char *path, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, len = 0, n;
    uint8_t *buf = malloc(cap);
    while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    *ret_len = len;
    return buf;
}

int seed_state(const char *state_dir, const char *genesis, const char *txid,
               const struct lc_state_write *w, size_t n, char *err, size_t err_len)
{
    struct lc_errbuf eb = {{0}};
    int r = -1;
    size_t len = 0;
    uint8_t *buf = read_all(genesis, &len);
    Common__Block *b = NULL;
    Common__Envelope *env = NULL;
    Common__Payload *pl = NULL;
    Common__ChannelHeader *ch = NULL;
    struct lc_chconf *cc = NULL;
    struct lc_kv_env *kenv = NULL;
    struct lc_state *st = NULL;
    if (!buf) {
        snprintf(err, err_len, "%s: %s", genesis, strerror(errno));
        return -1;
    }
    if (lc_wire_unpack(&common__block__descriptor, buf, len, (ProtobufCMessage **)&b, &eb) < 0 ||
        lc_chconf_from_block(b, 0, &eb, &cc) < 0 ||
        LC_WIRE_UNPACK(&common__envelope__descriptor, b->data->data[0], &env, &eb) < 0 ||
        LC_WIRE_UNPACK(&common__payload__descriptor, env->payload, &pl, &eb) < 0 ||
        LC_WIRE_UNPACK(&common__channel_header__descriptor, pl->header->channel_header, &ch, &eb) <
            0)
        goto out;
    if (mkdir(state_dir, 0750) < 0 && errno != EEXIST) {
        snprintf(eb.msg, sizeof eb.msg, "%s: %s", state_dir, strerror(errno));
        goto out;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s", state_dir, lc_chconf_channel_id(cc));
    struct lc_kv_options ko = {
        .map_size = 64 << 20, .max_map_size = 1u << 30, .flags = LC_KV_NOSYNC};
    if (lc_kv_env_open(dir, &ko, &kenv, &eb) < 0 || lc_state_open(kenv, &eb, &st) < 0)
        goto out;
    struct lc_kv_txn *rt = NULL;
    uint64_t h = 0;
    if (lc_kv_txn_begin_read(kenv, &rt, &eb) < 0)
        goto out;
    int hr = lc_state_height(st, rt, &h, &eb);
    lc_kv_txn_abort(rt);
    if (hr < 0)
        goto out;
    struct lc_state_tx tx = {.txid = txid, .code = 0, .writes = w, .n_writes = n};
    struct seed s = {st, cc, ch->tx_id, &tx};
    if (h == 0 && lc_kv_update(kenv, seed_genesis, &s, &eb) < 0)
        goto out;
    if (lc_kv_update(kenv, seed_block, &s, &eb) < 0)
        goto out;
    r = 0;
out:
    if (r < 0)
        snprintf(err, err_len, "%s", eb.msg);
    lc_state_free(st);
    lc_kv_env_close(kenv);
    if (ch)
        common__channel_header__free_unpacked(ch, NULL);
    if (pl)
        common__payload__free_unpacked(pl, NULL);
    if (env)
        common__envelope__free_unpacked(env, NULL);
    lc_chconf_free(cc);
    lc_wire_block_free(b);
    free(buf);
    return r;
}
