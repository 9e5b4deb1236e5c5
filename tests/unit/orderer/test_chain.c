/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the block writer and the chain: block format, numbering, restart, damage. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "libcommon/blockstore.h"
#include "libcommon/wire.h"

#include "chain.h"
#include "cutter.h"
#include "otest.h"
#include "pool.h"
#include "suites.h"
#include "writer.h"

static uint8_t *slurp(const char *path, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "open %s", path);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    ck_assert_int_ge(n, 0);
    rewind(f);
    uint8_t *buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *ret_len = (size_t)n;
    return buf;
}

/* A network, its genesis block, the orderer's signer and a client's. */
struct fx {
    struct wh_net net;
    uint8_t *genesis;
    size_t genesis_len;
    struct lc_signer *orderer, *client;
    const char *data;
};

static void fx_init(struct fx *f, int max_count)
{
    memset(f, 0, sizeof *f);
    struct wh_net_opts o = {.orgs = 1, .peers_per_org = 1, .max_message_count = max_count};
    ck_assert_int_eq(wh_net_make(&f->net, &o), 0);
    f->genesis = slurp(f->net.genesis, &f->genesis_len);
    f->orderer = ot_signer(wh_orderer_msp(&f->net, 0), "OrdererMSP");
    f->client = ot_signer(wh_user_msp(&f->net, 1, "User1"), "Org1MSP");
    f->data = wh_join(f->net.dir, "data");
    ck_assert_int_eq(mkdir(f->data, 0755), 0);
}

static void fx_done(struct fx *f)
{
    free(f->genesis);
    lc_signer_free(f->orderer);
    lc_signer_free(f->client);
    wh_cleanup();
}

static struct orderer_chain *open_chain(struct fx *f, size_t queue, int want)
{
    struct orderer_chain_opts o = {.data_dir = f->data,
                                   .sync = LC_BLOCKSTORE_SYNC_EVERY,
                                   .signer = f->orderer,
                                   .queue_msgs = queue};
    struct orderer_chain *ch = NULL;
    struct lc_errbuf err = {{0}};
    int r = orderer_chain_open(f->genesis, f->genesis_len, &o, &ch, &err);
    ck_assert_msg(r == want, "open: %d %s", r, err.msg);
    return ch;
}

static struct orderer_msg *tx_msg(struct fx *f, size_t size)
{
    Common__Envelope *e = ot_tx(f->client, "mychannel", size);
    struct orderer_msg *m = NULL;
    ck_assert_int_eq(
        orderer_msg_new(e->payload.data, e->payload.len, e->signature.data, e->signature.len, &m),
        0);
    common__envelope__free_unpacked(e, NULL);
    return m;
}

static Common__Block *get_block(struct lc_blockstore *bs, uint64_t n)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    struct lc_errbuf err;
    ck_assert_int_eq(lc_blockstore_get(bs, n, &buf, &len, &err), 0);
    Common__Block *b = common__block__unpack(NULL, len, buf);
    ck_assert_ptr_nonnull(b);
    free(buf);
    return b;
}

/* Checks blocks 1..height-1 of the store and returns how many envelopes they hold. */
static size_t check_chain(struct lc_blockstore *bs, const struct lc_signer *orderer)
{
    uint64_t h = lc_blockstore_height(bs);
    Common__Block *prev = get_block(bs, 0);
    size_t txs = 0;
    for (uint64_t i = 1; i < h; i++) {
        Common__Block *b = get_block(bs, i);
        ck_assert_uint_eq(b->header->number, i);
        ck_assert_uint_eq(ot_check_block(b, prev, orderer), 0);
        txs += b->data->n_data;
        common__block__free_unpacked(prev, NULL);
        prev = b;
    }
    common__block__free_unpacked(prev, NULL);
    return txs;
}

static void wait_height(struct lc_blockstore *bs, uint64_t height)
{
    uint64_t h = 0;
    int r = lc_blockstore_wait(bs, height - 1, 30000, &h);
    ck_assert_msg(r == 0, "waiting for height %llu: %s", (unsigned long long)height,
                  lc_strerror(r));
}

START_TEST(chain_starts_from_genesis_as_block_0)
{
    struct fx f;
    fx_init(&f, 10);
    struct orderer_chain *ch = open_chain(&f, 0, 0);
    ck_assert_str_eq(orderer_chain_id(ch), "mychannel");
    ck_assert_str_eq(orderer_chain_consensus_type(ch), "solo");
    struct lc_blockstore *bs = orderer_chain_store(ch);
    ck_assert_uint_eq(lc_blockstore_height(bs), 1);
    uint8_t *b0 = NULL;
    size_t len = 0;
    struct lc_errbuf err;
    ck_assert_int_eq(lc_blockstore_get(bs, 0, &b0, &len, &err), 0);
    ck_assert_uint_eq(len, f.genesis_len);
    ck_assert(memcmp(b0, f.genesis, len) == 0);
    free(b0);
    orderer_chain_free(ch);
    fx_done(&f);
}
END_TEST

START_TEST(chain_cuts_signed_blocks_and_continues_after_restart)
{
    struct fx f;
    fx_init(&f, 10);
    struct orderer_chain *ch = open_chain(&f, 0, 0);
    struct lc_errbuf err;
    ck_assert_int_eq(orderer_chain_start(ch, &err), 0);
    ck_assert_int_eq(orderer_chain_ready(ch, &err), 0);
    for (int i = 0; i < 25; i++)
        ck_assert_int_eq(orderer_chain_order(ch, tx_msg(&f, 100), 0, NULL), 0);
    /* two blocks of 10 by count, then the last 5 by BatchTimeout */
    wait_height(orderer_chain_store(ch), 4);
    ck_assert_uint_eq(check_chain(orderer_chain_store(ch), f.orderer), 25);
    Common__Block *b3 = get_block(orderer_chain_store(ch), 3);
    ck_assert_uint_eq(b3->data->n_data, 5);
    common__block__free_unpacked(b3, NULL);
    orderer_chain_free(ch);

    ch = open_chain(&f, 0, 0);
    ck_assert_uint_eq(lc_blockstore_height(orderer_chain_store(ch)), 4);
    ck_assert_int_eq(orderer_chain_start(ch, &err), 0);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(orderer_chain_order(ch, tx_msg(&f, 100), 0, NULL), 0);
    wait_height(orderer_chain_store(ch), 5);
    ck_assert_uint_eq(check_chain(orderer_chain_store(ch), f.orderer), 35);
    orderer_chain_free(ch);
    fx_done(&f);
}
END_TEST

START_TEST(chain_halt_orders_what_it_accepted)
{
    struct fx f;
    fx_init(&f, 10);
    struct orderer_chain *ch = open_chain(&f, 0, 0);
    struct lc_errbuf err;
    ck_assert_int_eq(orderer_chain_start(ch, &err), 0);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(orderer_chain_order(ch, tx_msg(&f, 100), 0, NULL), 0);
    orderer_chain_halt(ch);
    ck_assert_int_ne(orderer_chain_ready(ch, &err), 0);
    struct orderer_msg *m = tx_msg(&f, 10);
    ck_assert_int_eq(orderer_chain_order(ch, m, 0, NULL), LC_ECLOSED);
    orderer_msg_free(m);
    ck_assert_uint_eq(lc_blockstore_height(orderer_chain_store(ch)), 2);
    orderer_chain_free(ch);
    ch = open_chain(&f, 0, 0);
    ck_assert_uint_eq(check_chain(orderer_chain_store(ch), f.orderer), 3);
    orderer_chain_free(ch);
    fx_done(&f);
}
END_TEST

struct flag {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int runs;
};

static void flag_run(struct orderer_task *t, void *arg)
{
    struct flag *fl = arg;
    pthread_mutex_lock(&fl->mu);
    fl->runs++;
    pthread_cond_broadcast(&fl->cv);
    pthread_mutex_unlock(&fl->mu);
}

START_TEST(chain_full_queue_says_eagain_then_calls_waiter)
{
    struct fx f;
    fx_init(&f, 10);
    struct orderer_chain *ch = open_chain(&f, 2, 0);
    struct orderer_pool *pool = NULL;
    struct lc_errbuf err;
    ck_assert_int_eq(orderer_pool_new(1, &pool, &err), 0);
    struct flag fl = {.runs = 0};
    pthread_mutex_init(&fl.mu, NULL);
    pthread_cond_init(&fl.cv, NULL);
    struct orderer_task *waiter = NULL;
    ck_assert_int_eq(orderer_task_new(pool, flag_run, &fl, &waiter), 0);
    /* not started: nothing drains the queue of 2 */
    ck_assert_int_eq(orderer_chain_order(ch, tx_msg(&f, 10), 0, waiter), 0);
    ck_assert_int_eq(orderer_chain_order(ch, tx_msg(&f, 10), 0, waiter), 0);
    struct orderer_msg *m = tx_msg(&f, 10);
    ck_assert_int_eq(orderer_chain_order(ch, m, 0, waiter), -EAGAIN);
    ck_assert_int_eq(fl.runs, 0);
    ck_assert_int_eq(orderer_chain_start(ch, &err), 0);
    pthread_mutex_lock(&fl.mu);
    while (fl.runs == 0)
        pthread_cond_wait(&fl.cv, &fl.mu);
    pthread_mutex_unlock(&fl.mu);
    ck_assert_int_eq(orderer_chain_order(ch, m, 0, waiter), 0);
    orderer_chain_free(ch);
    orderer_pool_free(pool);
    fx_done(&f);
}
END_TEST

START_TEST(chain_refuses_another_chains_store)
{
    struct fx f, g;
    fx_init(&f, 10);
    struct orderer_chain *ch = open_chain(&f, 0, 0);
    orderer_chain_free(ch);
    /* another network, same channel name, different genesis block */
    struct wh_net_opts o = {.orgs = 1, .peers_per_org = 1};
    ck_assert_int_eq(wh_net_make(&g.net, &o), 0);
    free(f.genesis);
    f.genesis = slurp(g.net.genesis, &f.genesis_len);
    struct orderer_chain_opts co = {.data_dir = f.data, .signer = f.orderer};
    struct lc_errbuf err = {{0}};
    ck_assert_int_eq(orderer_chain_open(f.genesis, f.genesis_len, &co, &ch, &err), LC_EMISMATCH);
    ck_assert_msg(strstr(err.msg, "holds another chain") != NULL, "%s", err.msg);
    fx_done(&f);
}
END_TEST

/* Flips one byte at offset `at` of a file. */
static void flip(const char *path, off_t at)
{
    int fd = open(path, O_RDWR);
    ck_assert_int_ge(fd, 0);
    uint8_t b;
    ck_assert_int_eq(pread(fd, &b, 1, at), 1);
    b ^= 0x5a;
    ck_assert_int_eq(pwrite(fd, &b, 1, at), 1);
    close(fd);
}

static off_t file_size(const char *path)
{
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    return st.st_size;
}

START_TEST(chain_refuses_real_corruption_and_recovers_torn_tail)
{
    struct fx f;
    fx_init(&f, 1);
    struct orderer_chain *ch = open_chain(&f, 0, 0);
    struct lc_errbuf err = {{0}};
    ck_assert_int_eq(orderer_chain_start(ch, &err), 0);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(orderer_chain_order(ch, tx_msg(&f, 100), 0, NULL), 0);
    wait_height(orderer_chain_store(ch), 4);
    orderer_chain_free(ch);
    const char *dat = wh_join(wh_join(f.data, "mychannel"), "blocks.dat");

    /* a torn write: half a record header after the last block is cut away */
    off_t size = file_size(dat);
    int fd = open(dat, O_WRONLY | O_APPEND);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "\x40\x00\x00", 3), 3);
    close(fd);
    ch = open_chain(&f, 0, 0);
    ck_assert_uint_eq(lc_blockstore_height(orderer_chain_store(ch)), 4);
    ck_assert_uint_eq(file_size(dat), size);
    ck_assert_int_eq(orderer_chain_start(ch, &err), 0);
    ck_assert_int_eq(orderer_chain_order(ch, tx_msg(&f, 100), 0, NULL), 0);
    wait_height(orderer_chain_store(ch), 5);
    ck_assert_uint_eq(check_chain(orderer_chain_store(ch), f.orderer), 4);
    orderer_chain_free(ch);

    /* a damaged block with good blocks after it: refused, naming the block */
    const char *idx = wh_join(wh_join(f.data, "mychannel"), "blocks.idx");
    int ifd = open(idx, O_RDONLY);
    ck_assert_int_ge(ifd, 0);
    uint8_t le[8];
    ck_assert_int_eq(pread(ifd, le, 8, 2 * 8), 8); /* where block 2's record starts */
    close(ifd);
    uint64_t off = 0;
    for (int i = 7; i >= 0; i--)
        off = off << 8 | le[i];
    flip(dat, (off_t)off + 40);
    struct orderer_chain_opts co = {.data_dir = f.data, .signer = f.orderer};
    ck_assert_int_eq(orderer_chain_open(f.genesis, f.genesis_len, &co, &ch, &err), LC_ECORRUPT);
    ck_assert_msg(strstr(err.msg, "block") != NULL, "%s", err.msg);
    fx_done(&f);
}
END_TEST

/* ---- the writer ----------------------------------------------------------------------------- */

START_TEST(writer_last_config_and_consenter_metadata)
{
    struct fx f;
    fx_init(&f, 10);
    struct lc_blockstore *bs = NULL;
    struct lc_errbuf err = {{0}};
    ck_assert_int_eq(lc_blockstore_open(wh_join(f.data, "w"), NULL, &bs, &err), 0);
    struct orderer_writer *w = NULL;
    ck_assert_int_eq(orderer_writer_new(bs, f.orderer, &w, &err), LC_EINVALID);
    ck_assert_int_eq(lc_blockstore_append(bs, f.genesis, f.genesis_len, &err), 0);
    ck_assert_int_eq(orderer_writer_new(bs, f.orderer, &w, &err), 0);
    ck_assert_uint_eq(orderer_writer_last_config(w), 0);
    ck_assert_int_eq(orderer_writer_write(w, NULL, 0, false, NULL, 0, false, NULL, &err),
                     LC_EINVALID);

    struct orderer_msg *m = tx_msg(&f, 50);
    uint64_t num = 0;
    ck_assert_int_eq(orderer_writer_write(w, &m, 1, true, NULL, 0, false, &num, &err), 0);
    ck_assert_uint_eq(num, 1);
    ck_assert_uint_eq(orderer_writer_last_config(w), 1);
    ck_assert_int_eq(orderer_writer_write(w, &m, 1, false, NULL, 0, false, &num, &err), 0);
    const uint8_t cmd[] = {1, 2, 3, 4};
    ck_assert_int_eq(orderer_writer_write(w, &m, 1, false, cmd, sizeof cmd, false, &num, &err), 0);
    ck_assert_int_eq(orderer_writer_write(w, &m, 1, false, cmd, sizeof cmd, true, &num, &err), 0);
    ck_assert_uint_eq(num, 4);
    orderer_msg_free(m);
    orderer_writer_free(w);

    Common__Block *prev = get_block(bs, 0);
    uint64_t lc = 99;
    ck_assert_int_eq(orderer_block_last_config(prev, &lc, &err), 0);
    ck_assert_uint_eq(lc, 0);
    uint8_t *md = NULL;
    size_t md_len = 7;
    ck_assert_int_eq(orderer_block_consenter_metadata(prev, &md, &md_len, &err), 0);
    ck_assert_ptr_null(md);
    ck_assert_uint_eq(md_len, 0);
    for (uint64_t i = 1; i <= 4; i++) {
        Common__Block *b = get_block(bs, i);
        if (i < 4)
            ck_assert_uint_eq(ot_check_block(b, prev, f.orderer), 1);
        ck_assert_int_eq(orderer_block_last_config(b, &lc, &err), 0);
        ck_assert_uint_eq(lc, 1);
        ck_assert_int_eq(orderer_block_consenter_metadata(b, &md, &md_len, &err), 0);
        if (i >= 3) {
            ck_assert_uint_eq(md_len, sizeof cmd);
            ck_assert(memcmp(md, cmd, sizeof cmd) == 0);
        } else {
            ck_assert_uint_eq(md_len, 0);
        }
        free(md);
        /* Fabric 1.x layout only when asked: [3] = Metadata{value = cmd} */
        ck_assert_uint_eq(b->metadata->metadata[3].len, i == 4 ? sizeof cmd + 2 : 0);
        common__block__free_unpacked(prev, NULL);
        prev = b;
    }
    /* the fallback to [3] when [0] has no consenter metadata */
    Common__Metadata m3 = COMMON__METADATA__INIT;
    const uint8_t legacy[] = {7, 7};
    m3.value.data = (uint8_t *)legacy;
    m3.value.len = sizeof legacy;
    size_t l3 = 0;
    uint8_t *p3 = ot_pack(&m3.base, &l3);
    Common__Block *b2 = get_block(bs, 2);
    ck_assert_int_eq(lc_wire_block_set_metadata(b2, 3, p3, l3), 0);
    ck_assert_int_eq(orderer_block_consenter_metadata(b2, &md, &md_len, &err), 0);
    ck_assert_uint_eq(md_len, 2);
    ck_assert(memcmp(md, legacy, 2) == 0);
    free(md);
    /* LAST_CONFIG from [1] when [0] is empty; junk is refused, naming the entry */
    ck_assert_int_eq(lc_wire_block_set_metadata(b2, 0, NULL, 0), 0);
    ck_assert_int_eq(orderer_block_last_config(b2, &lc, &err), 0);
    ck_assert_uint_eq(lc, 1);
    ck_assert_int_eq(lc_wire_block_set_metadata(b2, 1, (const uint8_t *)"\xff\xff", 2), 0);
    ck_assert_int_eq(orderer_block_last_config(b2, &lc, &err), LC_EDECODE);
    ck_assert_msg(strstr(err.msg, "LAST_CONFIG") != NULL, "%s", err.msg);
    free(p3);
    common__block__free_unpacked(b2, NULL);
    common__block__free_unpacked(prev, NULL);

    /* a new writer continues last_config from the tip */
    ck_assert_int_eq(orderer_writer_new(bs, f.orderer, &w, &err), 0);
    ck_assert_uint_eq(orderer_writer_last_config(w), 1);
    orderer_writer_free(w);
    lc_blockstore_close(bs);
    fx_done(&f);
}
END_TEST

Suite *chain_suite(void)
{
    Suite *s = suite_create("chain");
    TCase *tc = tcase_create("chain");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, chain_starts_from_genesis_as_block_0);
    tcase_add_test(tc, chain_cuts_signed_blocks_and_continues_after_restart);
    tcase_add_test(tc, chain_halt_orders_what_it_accepted);
    tcase_add_test(tc, chain_full_queue_says_eagain_then_calls_waiter);
    tcase_add_test(tc, chain_refuses_another_chains_store);
    tcase_add_test(tc, chain_refuses_real_corruption_and_recovers_torn_tail);
    tcase_add_test(tc, writer_last_config_and_consenter_metadata);
    suite_add_tcase(s, tc);
    return s;
}
