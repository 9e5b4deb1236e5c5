/* SPDX-License-Identifier: Apache-2.0 */
/* Endorser state replicas follow the committer's block feed: committed writes become readable
 * through the endorser, and an endorser that starts empty catches up from block 0. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define WAIT_MS 30000

static struct wh_net net;
static const char *logs;

static struct wh_proc *daemon_up(const char *name, const char *line, const char *const argv[])
{
    struct wh_proc *p = wh_spawn(name, logs, argv, NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_msg(wh_wait_log(p, line, WAIT_MS) == 0, "%s did not start", name);
    return p;
}

static struct wh_proc *endorser(const char *name, int port, int committer_port)
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
                          wh_join(net.dir, name),
                          "--state-sync=false",
                          "--committer",
                          wh_fmt("127.0.0.1:%d", committer_port),
                          NULL};
    return daemon_up(name, "endorser listening", argv);
}

/* Runs weft invoke or query of chaincode kv through endorser port; returns stdout (freed at
 * cleanup). */
static const char *weft_kv(const char *cmd, int end_port, int ord_port, const char *args)
{
    const char *argv[] = {wh_bin("cli/weft"),
                          cmd,
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
                          args,
                          "--orderers",
                          wh_fmt("127.0.0.1:%d", ord_port),
                          NULL};
    char *out = NULL, *err = NULL;
    int r = wh_run(argv, &out, &err);
    ck_assert_msg(r == 0, "weft %s %s: %d\n%s\n%s", cmd, args, r, out, err);
    const char *keep = wh_fmt("%s", out ? out : "");
    free(out);
    free(err);
    return keep;
}

START_TEST(replicas_follow_and_catch_up)
{
    struct wh_net_opts o = {.orgs = 2, .peers_per_org = 1};
    ck_assert_int_eq(wh_net_make(&net, &o), 0);
    logs = wh_tmpdir();
    int po = wh_free_port(), pc = wh_free_port(), pa = wh_free_port(), pb = wh_free_port();
    const char *ord[] = {wh_bin("services/orderer/orderer"),
                         "--listen",
                         wh_fmt("127.0.0.1:%d", po),
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
    daemon_up("orderer", "orderer listening", ord);
    const char *com[] = {wh_bin("services/committer/committer"),
                         "--listen",
                         wh_fmt("127.0.0.1:%d", pc),
                         "--msp-dir",
                         wh_peer_msp(&net, 2, 0),
                         "--mspid",
                         "Org2MSP",
                         "--genesis",
                         net.genesis,
                         "--data-dir",
                         wh_join(net.dir, "committer-data"),
                         "--orderer",
                         wh_fmt("127.0.0.1:%d", po),
                         "--sync=false",
                         NULL};
    daemon_up("committer", "committer listening", com);
    struct wh_proc *a = endorser("endorser-a", pa, pc);

    /* Before anything is committed the key is absent. */
    ck_assert_ptr_null(strstr(weft_kv("query", pa, po, "[\"get\",\"x\"]"), "\"y\""));
    weft_kv("invoke", pa, po, "[\"put\",\"x\",\"y\"]");
    ck_assert_int_eq(wh_wait_log(a, "replica applied channel=mychannel number=1", WAIT_MS), 0);
    ck_assert_ptr_nonnull(strstr(weft_kv("query", pa, po, "[\"get\",\"x\"]"), "y"));

    /* A new endorser with an empty state directory catches up from block 0. */
    struct wh_proc *b = endorser("endorser-b", pb, pc);
    ck_assert_int_eq(wh_wait_log(b, "replica applied channel=mychannel number=1", WAIT_MS), 0);
    ck_assert_ptr_nonnull(strstr(weft_kv("query", pb, po, "[\"get\",\"x\"]"), "y"));

    /* Both follow live blocks; a write endorsed on b is readable on a. */
    weft_kv("invoke", pb, po, "[\"put\",\"x\",\"z\"]");
    ck_assert_int_eq(wh_wait_log(a, "replica applied channel=mychannel number=2", WAIT_MS), 0);
    ck_assert_int_eq(wh_wait_log(b, "replica applied channel=mychannel number=2", WAIT_MS), 0);
    ck_assert_ptr_nonnull(strstr(weft_kv("query", pa, po, "[\"get\",\"x\"]"), "z"));
    ck_assert_ptr_nonnull(strstr(weft_kv("query", pb, po, "[\"get\",\"x\"]"), "z"));
    wh_cleanup();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("replica");
    TCase *tc = tcase_create("replica");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, replicas_follow_and_catch_up);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
