/* SPDX-License-Identifier: Apache-2.0 */
/* Broadcast and Deliver in process, for states a daemon test cannot reach: a consenter that is
 * not ready or in error, a full consenter queue, streams that end while they wait. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"
#include "libcommon/blockstore.h"

#include "chain.h"
#include "otest.h"
#include "pool.h"
#include "registrar.h"
#include "service.h"
#include "suites.h"

struct sfx {
    struct wh_net net;
    struct lc_signer *orderer, *client;
    struct orderer_registrar *reg;
    struct orderer_chain *chain;
    struct orderer_pool *pool;
    struct lc_rpc_server *srv;
    struct orderer_service svc;
    const char *target;
};

static void sfx_init(struct sfx *f, size_t queue, bool start)
{
    memset(f, 0, sizeof *f);
    struct wh_net_opts o = {.orgs = 1, .peers_per_org = 1, .max_message_count = 2};
    ck_assert_int_eq(wh_net_make(&f->net, &o), 0);
    f->orderer = ot_signer(wh_orderer_msp(&f->net, 0), "OrdererMSP");
    f->client = ot_signer(wh_user_msp(&f->net, 1, "User1"), "Org1MSP");
    const char *data = wh_join(f->net.dir, "data");
    ck_assert_int_eq(mkdir(data, 0755), 0);
    FILE *g = fopen(f->net.genesis, "rb");
    ck_assert_ptr_nonnull(g);
    uint8_t buf[65536];
    size_t len = fread(buf, 1, sizeof buf, g);
    fclose(g);
    struct orderer_chain_opts co = {.data_dir = data,
                                    .sync = LC_BLOCKSTORE_SYNC_NONE,
                                    .signer = f->orderer,
                                    .queue_msgs = queue};
    struct lc_errbuf err = {{0}};
    ck_assert_msg(orderer_chain_open(buf, len, &co, &f->chain, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(orderer_registrar_new(&f->reg), 0);
    ck_assert_int_eq(orderer_registrar_add(f->reg, f->chain, &err), 0);
    if (start)
        ck_assert_int_eq(orderer_chain_start(f->chain, &err), 0);
    ck_assert_int_eq(orderer_pool_new(2, &f->pool, &err), 0);
    struct lc_rpc_server_opts so = {.listen = "127.0.0.1:0"};
    ck_assert_int_eq(lc_rpc_server_new(&so, &err, &f->srv), 0);
    f->svc = (struct orderer_service){
        .reg = f->reg, .pool = f->pool, .time_window_ms = 15 * 60 * 1000, .broadcast_window = 4};
    ck_assert_int_eq(orderer_service_register(f->srv, &f->svc, &err), 0);
    ck_assert_int_eq(lc_rpc_server_start(f->srv, &err), 0);
    f->target = wh_fmt("127.0.0.1:%d", lc_rpc_server_port(f->srv));
}

static void sfx_done(struct sfx *f)
{
    lc_rpc_server_shutdown(f->srv, 1000);
    orderer_pool_free(f->pool);
    lc_rpc_server_free(f->srv);
    orderer_registrar_free(f->reg);
    lc_signer_free(f->orderer);
    lc_signer_free(f->client);
    wh_cleanup();
}

static int broadcast(struct sfx *f, char *info, size_t cap)
{
    Common__Envelope *e = ot_tx(f->client, "mychannel", 50);
    int st = ot_broadcast_one(f->target, e, info, cap);
    common__envelope__free_unpacked(e, NULL);
    return st;
}

static Common__Envelope *seek0(struct sfx *f, bool best_effort)
{
    struct ot_seek_spec sp = {.channel = "mychannel",
                              .start = OT_OLDEST,
                              .stop = OT_OLDEST,
                              .best_effort = best_effort,
                              .signer = f->client};
    return ot_seek(&sp);
}

START_TEST(broadcast_unavailable_when_consenter_not_ready)
{
    struct sfx f;
    sfx_init(&f, 0, true);
    orderer_chain_halt(f.chain);
    char info[300] = "";
    ck_assert_int_eq(broadcast(&f, info, sizeof info), COMMON__STATUS__SERVICE_UNAVAILABLE);
    ck_assert_msg(strstr(info, "halting") != NULL, "%s", info);
    sfx_done(&f);
}
END_TEST

static bool errored(void *arg)
{
    return orderer_chain_errored(arg);
}

START_TEST(errored_consenter_and_strict_deliver)
{
    struct sfx f;
    sfx_init(&f, 0, true);
    /* the store refuses appends from now on: the next block write fails */
    lc_blockstore_shutdown(orderer_chain_store(f.chain));
    ck_assert_int_eq(broadcast(&f, NULL, 0), COMMON__STATUS__SUCCESS);
    ck_assert_int_eq(broadcast(&f, NULL, 0), COMMON__STATUS__SUCCESS); /* cuts: 2 per block */
    ck_assert_int_eq(wh_wait_until(errored, f.chain, 30000), 0);
    char info[300] = "";
    ck_assert_int_eq(broadcast(&f, info, sizeof info), COMMON__STATUS__SERVICE_UNAVAILABLE);
    ck_assert_msg(strstr(info, "write failure") != NULL, "%s", info);
    ck_assert_int_eq(ot_deliver(f.target, seek0(&f, false), NULL, NULL),
                     COMMON__STATUS__SERVICE_UNAVAILABLE);
    Common__Block **b = NULL;
    size_t n = 0;
    ck_assert_int_eq(ot_deliver(f.target, seek0(&f, true), &b, &n), COMMON__STATUS__SUCCESS);
    ck_assert_uint_eq(n, 1);
    ot_blocks_free(b, n);
    sfx_done(&f);
}
END_TEST

START_TEST(broadcast_waits_while_the_queue_is_full)
{
    struct sfx f;
    sfx_init(&f, 1, false); /* a queue of one, and nothing draining it yet */
    struct ot_stream s;
    ot_open(&s, f.target, OT_BROADCAST);
    char *txids[6];
    for (int i = 0; i < 6; i++) {
        Common__Envelope *e = ot_tx(f.client, "mychannel", 50);
        Common__Payload *p = common__payload__unpack(NULL, e->payload.len, e->payload.data);
        Common__ChannelHeader *ch = common__channel_header__unpack(
            NULL, p->header->channel_header.len, p->header->channel_header.data);
        txids[i] = strdup(ch->tx_id);
        common__channel_header__free_unpacked(ch, NULL);
        common__payload__free_unpacked(p, NULL);
        ot_send(&s, e);
        common__envelope__free_unpacked(e, NULL);
    }
    /* the first is taken at once; the others wait for room without blocking any thread */
    ck_assert_int_eq(ot_recv_status(&s, NULL, 0, NULL), COMMON__STATUS__SUCCESS);
    struct lc_errbuf err;
    ck_assert_int_eq(orderer_chain_start(f.chain, &err), 0);
    for (int i = 1; i < 6; i++)
        ck_assert_int_eq(ot_recv_status(&s, NULL, 0, NULL), COMMON__STATUS__SUCCESS);
    ck_assert_int_eq(lc_rpc_stream_close_send(s.stream, 30000), 0);
    int end = 0;
    ck_assert_int_eq(ot_recv_status(&s, NULL, 0, &end), -1);
    ck_assert_int_eq(end, LC_ECLOSED);
    ot_close(&s);
    /* three blocks of two, in the order sent */
    struct ot_seek_spec sp = {.channel = "mychannel",
                              .start = OT_SPECIFIED,
                              .start_n = 1,
                              .stop = OT_SPECIFIED,
                              .stop_n = 3,
                              .signer = f.client};
    Common__Block **b = NULL;
    size_t n = 0;
    ck_assert_int_eq(ot_deliver(f.target, ot_seek(&sp), &b, &n), COMMON__STATUS__SUCCESS);
    ck_assert_uint_eq(n, 3);
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < 2; j++) {
            char *t = ot_block_txid(b[i], j);
            ck_assert_str_eq(t, txids[2 * i + j]);
            free(t);
        }
    for (int i = 0; i < 6; i++)
        free(txids[i]);
    ot_blocks_free(b, n);
    sfx_done(&f);
}
END_TEST

START_TEST(streams_that_end_while_waiting_are_cleaned_up)
{
    struct sfx f;
    sfx_init(&f, 1, false);
    /* a Deliver waiting at the tip, a Broadcast waiting for room: both clients go away */
    struct ot_stream d, b;
    ot_open(&d, f.target, OT_DELIVER);
    struct ot_seek_spec sp = {.channel = "mychannel",
                              .start = OT_SPECIFIED,
                              .start_n = 1,
                              .stop = OT_SPECIFIED,
                              .stop_n = UINT64_MAX,
                              .signer = f.client};
    Common__Envelope *sk = ot_seek(&sp);
    ot_send(&d, sk);
    common__envelope__free_unpacked(sk, NULL);
    ot_open(&b, f.target, OT_BROADCAST);
    for (int i = 0; i < 3; i++) {
        Common__Envelope *e = ot_tx(f.client, "mychannel", 50);
        ot_send(&b, e);
        common__envelope__free_unpacked(e, NULL);
    }
    ck_assert_int_eq(ot_recv_status(&b, NULL, 0, NULL), COMMON__STATUS__SUCCESS);
    ot_close(&d);
    ot_close(&b);
    /* a fresh stream still works once the chain runs; the leak checker sees the rest */
    struct lc_errbuf err;
    ck_assert_int_eq(orderer_chain_start(f.chain, &err), 0);
    ck_assert_int_eq(broadcast(&f, NULL, 0), COMMON__STATUS__SUCCESS);
    sfx_done(&f);
}
END_TEST

Suite *service_suite(void)
{
    Suite *s = suite_create("service");
    TCase *tc = tcase_create("service");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, broadcast_unavailable_when_consenter_not_ready);
    tcase_add_test(tc, errored_consenter_and_strict_deliver);
    tcase_add_test(tc, broadcast_waits_while_the_queue_is_full);
    tcase_add_test(tc, streams_that_end_while_waiting_are_cleaned_up);
    suite_add_tcase(s, tc);
    return s;
}
