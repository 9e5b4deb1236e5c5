/* SPDX-License-Identifier: Apache-2.0 */
/* Endorser state replicas following a real committer (--committer): a committed kv put becomes
 * readable through the endorser, and a second endorser started empty catches up from block 0 and
 * endorses the same read byte for byte. */
#include <check.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

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

static struct wh_proc *spawn_committer(int port, int ord_port)
{
    const char *argv[] = {wh_bin("services/committer/committer"),
                          "--listen",
                          wh_fmt("127.0.0.1:%d", port),
                          "--msp-dir",
                          wh_peer_msp(&net, 1, 0),
                          "--mspid",
                          "Org1MSP",
                          "--genesis",
                          net.genesis,
                          "--data-dir",
                          wh_join(net.dir, "committer-data"),
                          "--orderer",
                          wh_fmt("127.0.0.1:%d", ord_port),
                          "--sync=false",
                          NULL};
    struct wh_proc *p = wh_spawn("committer", logs, argv, NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_msg(wh_wait_log(p, "committer listening", WAIT_MS) == 0, "committer did not start");
    return p;
}

/* An endorser of org with an empty state directory of its own, following committer `live`
 * after the unreachable `dead`: given by two --committer flags, or by WEFT_ENDORSER_COMMITTER as
 * a comma list when by_env. */
static struct wh_proc *spawn_endorser(const char *name, int org, int port, const char *dead,
                                      const char *live, bool by_env)
{
    const char *argv[] = {wh_bin("services/endorser/endorser"),
                          "--listen",
                          wh_fmt("127.0.0.1:%d", port),
                          "--msp-dir",
                          wh_peer_msp(&net, org, 0),
                          "--mspid",
                          wh_fmt("Org%dMSP", org),
                          "--genesis",
                          net.genesis,
                          "--state-dir",
                          wh_join(net.dir, wh_fmt("%s-state", name)),
                          "--state-sync=false",
                          by_env ? NULL : "--committer",
                          dead,
                          "--committer",
                          live,
                          NULL};
    const char *env[] = {wh_fmt("WEFT_ENDORSER_COMMITTER=%s,%s", dead, live), NULL};
    struct wh_proc *p = wh_spawn(name, logs, argv, by_env ? env : NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_msg(wh_wait_log(p, "endorser listening", WAIT_MS) == 0, "%s did not start", name);
    return p;
}

/* Runs weft with the arguments (NULL-terminated); returns its status, stdout and stderr in *out
 * and *err (the caller frees both). */
static int weft(char **out, char **err, ...)
{
    const char *argv[40] = {wh_bin("cli/weft")};
    size_t n = 1;
    va_list ap;
    va_start(ap, err);
    for (const char *a; n < 39 && (a = va_arg(ap, const char *)) != NULL;)
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    return wh_run(argv, out, err);
}

static void invoke_put(int end_port, int ord_port, const char *key, const char *value)
{
    char *out = NULL, *err = NULL;
    int r = weft(&out, &err, "invoke", "--targets", wh_fmt("127.0.0.1:%d", end_port), "--genesis",
                 net.genesis, "--mspid", "Org1MSP", "--channel", net.channel, "--msp-dir",
                 wh_user_msp(&net, 1, "User1"), "--chaincode", "kv", "--args",
                 wh_fmt("[\"put\",\"%s\",\"%s\"]", key, value), "--orderers",
                 wh_fmt("127.0.0.1:%d", ord_port), NULL);
    ck_assert_msg(r == 0, "invoke: %d\n%s\n%s", r, out, err);
    free(out);
    free(err);
}

/* `weft query` of kv get key through targets ("host:port[,...]"); returns the status and the
 * output (caller frees). */
static int query_get(const char *targets, const char *key, char **out, char **err)
{
    return weft(out, err, "query", "--targets", targets, "--genesis", net.genesis, "--mspid",
                "Org1MSP", "--channel", net.channel, "--msp-dir", wh_user_msp(&net, 1, "User1"),
                "--chaincode", "kv", "--args", wh_fmt("[\"get\",\"%s\"]", key), NULL);
}

static void expect_value(const char *targets, const char *key, const char *want)
{
    char *out = NULL, *err = NULL;
    int r = query_get(targets, key, &out, &err);
    ck_assert_msg(r == 0, "query %s: %d\n%s\n%s", targets, r, out, err);
    ck_assert_str_eq(out, wh_fmt("%s\n", want));
    free(out);
    free(err);
}

START_TEST(replicas_follow_the_committer)
{
    struct wh_net_opts o = {.orgs = 2, .peers_per_org = 1};
    ck_assert_int_eq(wh_net_make(&net, &o), 0);
    logs = wh_tmpdir();
    int ord_port = wh_free_port(), com_port = wh_free_port();
    int e1_port = wh_free_port(), e2_port = wh_free_port();
    spawn_orderer(ord_port);
    spawn_committer(com_port, ord_port);
    /* the first committer listed is down: the followers fail over to the next one */
    const char *dead = wh_fmt("127.0.0.1:%d", wh_free_port());
    const char *live = wh_fmt("127.0.0.1:%d", com_port);
    struct wh_proc *e1 = spawn_endorser("endorser1", 1, e1_port, dead, live, false);
    const char *t1 = wh_fmt("127.0.0.1:%d", e1_port);

    /* before any block the key is not there */
    char *out = NULL, *err = NULL;
    int r = query_get(t1, "color", &out, &err);
    ck_assert_msg(r != 0 || strcmp(out, "blue\n") != 0, "color set before any invoke");
    free(out);
    free(err);

    invoke_put(e1_port, ord_port, "color", "blue");
    ck_assert_msg(wh_wait_log(e1, "replica applied channel=mychannel number=1", WAIT_MS) == 0,
                  "endorser1 did not apply block 1");
    expect_value(t1, "color", "blue");
    ck_assert_msg(wh_log_count(e1, wh_fmt("follow failed channel=mychannel committer=%s", dead)) >=
                      1,
                  "endorser1 did not try the unreachable committer first");

    invoke_put(e1_port, ord_port, "color", "green");
    ck_assert_msg(wh_wait_log(e1, "replica applied channel=mychannel number=2", WAIT_MS) == 0,
                  "endorser1 did not apply block 2");
    expect_value(t1, "color", "green");

    /* a second endorser (Org2) starting empty, given the committer by environment, catches up */
    struct wh_proc *e2 = spawn_endorser("endorser2", 2, e2_port, dead, live, true);
    ck_assert_msg(wh_wait_log(e2, "replica applied channel=mychannel number=2", WAIT_MS) == 0,
                  "endorser2 did not catch up");
    ck_assert_int_eq(wh_log_count(e2, "replica applied channel=mychannel number=1"), 1);
    const char *t2 = wh_fmt("127.0.0.1:%d", e2_port);
    expect_value(t2, "color", "green");

    /* both endorse the same read with byte-identical payloads (the client compares them) */
    expect_value(wh_fmt("%s,%s", t1, t2), "color", "green");

    /* a stopped endorser restarts at its height: block 3 is the first it applies again */
    ck_assert_int_eq(wh_stop(e2, SIGTERM, WAIT_MS), 0);
    ck_assert_msg(wh_log_count(e2, "stopped") >= 1, "endorser2 did not stop cleanly");
    invoke_put(e1_port, ord_port, "color", "red");
    ck_assert_msg(wh_wait_log(e1, "replica applied channel=mychannel number=3", WAIT_MS) == 0,
                  "endorser1 did not apply block 3");
    ck_assert_int_eq(wh_restart(e2), 0);
    ck_assert_msg(wh_wait_log(e2, "replica applied channel=mychannel number=3", WAIT_MS) == 0,
                  "endorser2 did not resume");
    ck_assert_int_eq(wh_log_count(e2, "replica applied channel=mychannel number=2"), 1);
    expect_value(wh_fmt("%s,%s", t1, t2), "color", "red");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("replica-it");
    TCase *tc = tcase_create("flow");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, replicas_follow_the_committer);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    wh_cleanup();
    return failed ? 1 : 0;
}
