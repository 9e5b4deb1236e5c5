/* SPDX-License-Identifier: Apache-2.0 */
/* The committer daemon with a real orderer and endorser: `weft invoke` of a kv put is committed
 * as a valid transaction, and after a restart the committer continues at its height. */
#include <check.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "libcommon/kv.h"
#include "libcommon/state.h"
#include "services/committer/committer.h"

#define WAIT_MS 30000

static struct wh_net net;
static const char *logs;

static struct wh_proc *spawn_orderer(int port)
{
    const char *argv[] = {wh_bin("services/orderer/orderer"),
                          "--listen",
                          wh_fmt("127.0.0.1:%d", port),
                          "--msp-dir",
                          wh_orderer_msp(&net, 0),
                          "--mspid",
                          "OrdererMSP",
                          "--genesis",
                          net.genesis,
                          "--data-dir",
                          wh_join(net.dir, "orderer-data"),
                          "--fsync",
                          "none",
                          NULL};
    struct wh_proc *p = wh_spawn("orderer", logs, argv, NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_msg(wh_wait_log(p, "orderer listening", WAIT_MS) == 0, "orderer did not start");
    return p;
}

static struct wh_proc *spawn_endorser(int port)
{
    const char *argv[] = {wh_bin("services/endorser/endorser"),
                          "--listen",
                          wh_fmt("127.0.0.1:%d", port),
                          "--msp-dir",
                          wh_peer_msp(&net, 1, 0),
                          "--mspid",
                          "Org1MSP",
                          "--genesis",
                          net.genesis,
                          "--state-dir",
                          wh_join(net.dir, "endorser-state"),
                          "--state-sync=false",
                          NULL};
    struct wh_proc *p = wh_spawn("endorser", logs, argv, NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_msg(wh_wait_log(p, "endorser listening", WAIT_MS) == 0, "endorser did not start");
    return p;
}

static struct wh_proc *spawn_committer(int ord_port, const char *data)
{
    const char *argv[] = {wh_bin("services/committer/committer"),
                          "--listen",
                          wh_fmt("127.0.0.1:%d", wh_free_port()),
                          "--msp-dir",
                          wh_peer_msp(&net, 1, 0),
                          "--mspid",
                          "Org1MSP",
                          "--genesis",
                          net.genesis,
                          "--data-dir",
                          data,
                          "--orderer",
                          wh_fmt("127.0.0.1:%d", ord_port),
                          "--workers",
                          "2",
                          "--sync=false",
                          NULL};
    struct wh_proc *p = wh_spawn("committer", logs, argv, NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_msg(wh_wait_log(p, "committer listening", WAIT_MS) == 0, "committer did not start");
    return p;
}

static void invoke(int end_port, int ord_port, const char *key, const char *value)
{
    const char *argv[] = {wh_bin("cli/weft"),
                          "invoke",
                          "--targets",
                          wh_fmt("127.0.0.1:%d", end_port),
                          "--genesis",
                          net.genesis,
                          "--mspid",
                          "Org1MSP",
                          "--channel",
                          net.channel,
                          "--msp-dir",
                          wh_user_msp(&net, 1, "User1"),
                          "--chaincode",
                          "kv",
                          "--args",
                          wh_fmt("[\"put\",\"%s\",\"%s\"]", key, value),
                          "--orderers",
                          wh_fmt("127.0.0.1:%d", ord_port),
                          NULL};
    char *out = NULL, *err = NULL;
    int r = wh_run(argv, &out, &err);
    ck_assert_msg(r == 0, "invoke: %d\n%s\n%s", r, out, err);
    free(out);
    free(err);
}

/* The value of kv key in the committer's ledger (the daemon must be stopped); caller frees. */
static char *ledger_value(const char *data, const char *key)
{
    struct committer_ledger_opts o = {.dir = data, .nosync = true};
    struct committer_ledger *l;
    struct lc_errbuf err = {{0}};
    ck_assert_int_eq(committer_ledger_open(&o, &err, &l), 0);
    struct lc_state *st = committer_ledger_state(l);
    struct lc_kv_txn *t;
    ck_assert_int_eq(lc_kv_txn_begin_read(lc_state_env(st), &t, &err), 0);
    const uint8_t *v;
    size_t vl;
    struct lc_state_version ver;
    char *out = NULL;
    if (lc_state_get(st, t, "kv", key, strlen(key), &v, &vl, &ver, &err) == 0)
        out = strndup((const char *)v, vl);
    lc_kv_txn_abort(t);
    committer_ledger_free(l);
    return out;
}

START_TEST(invoke_is_committed)
{
    struct wh_net_opts o = {.orgs = 2, .peers_per_org = 1};
    ck_assert_int_eq(wh_net_make(&net, &o), 0);
    logs = wh_tmpdir();
    int ord_port = wh_free_port(), end_port = wh_free_port();
    const char *data = wh_join(net.dir, "committer-data");
    spawn_orderer(ord_port);
    spawn_endorser(end_port);
    struct wh_proc *c = spawn_committer(ord_port, data);

    invoke(end_port, ord_port, "x", "y");
    ck_assert_msg(wh_wait_log(c, "block committed number=1 txs=1 valid=1", WAIT_MS) == 0,
                  "block 1 not committed");
    ck_assert_int_eq(wh_stop(c, SIGTERM, WAIT_MS), 0);
    char *v = ledger_value(data, "x");
    ck_assert_ptr_nonnull(v);
    ck_assert_str_eq(v, "y");
    free(v);

    /* restarted, it continues at height 2: the next block is 2, block 1 is not applied again */
    ck_assert_int_eq(wh_restart(c), 0);
    ck_assert_msg(wh_wait_log(c, "height=2", WAIT_MS) == 0, "committer did not restart at 2");
    invoke(end_port, ord_port, "x2", "y2");
    ck_assert_msg(wh_wait_log(c, "block committed number=2 txs=1 valid=1", WAIT_MS) == 0,
                  "block 2 not committed");
    ck_assert_int_eq(wh_log_count(c, "block committed number=1 "), 1);
    ck_assert_int_eq(wh_stop(c, SIGTERM, WAIT_MS), 0);
    v = ledger_value(data, "x2");
    ck_assert_ptr_nonnull(v);
    ck_assert_str_eq(v, "y2");
    free(v);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("committer-it");
    TCase *tc = tcase_create("flow");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, invoke_is_committed);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    wh_cleanup();
    return failed ? 1 : 0;
}
