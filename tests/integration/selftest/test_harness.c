/* SPDX-License-Identifier: Apache-2.0 */
/* Checks the integration harness itself: networks, child processes, waits and cleanup. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

START_TEST(net_has_crypto_and_genesis)
{
    struct wh_net net;
    ck_assert_int_eq(wh_net_make(&net, NULL), 0);
    ck_assert(exists(net.genesis));
    ck_assert(exists(wh_join(wh_peer_msp(&net, 2, 1), "keystore/priv_sk")));
    ck_assert(exists(wh_join(wh_user_msp(&net, 1, "User1"), "signcerts")));
    ck_assert(exists(wh_join(wh_orderer_msp(&net, 0), "keystore/priv_sk")));
    const char *dir = net.dir;
    wh_cleanup();
    ck_assert(!exists(dir));
}
END_TEST

START_TEST(process_log_wait_and_stop)
{
    const char *dir = wh_tmpdir();
    const char *argv[] = {"/bin/sh", "-c", "echo \"$GREETING ready\"; exec sleep 1000", NULL};
    const char *env[] = {"GREETING=hello", NULL};
    struct wh_proc *p = wh_spawn("sh", dir, argv, env);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(wh_wait_log(p, "hello ready", 10000), 0);
    ck_assert_int_eq(wh_log_count(p, "ready"), 1);
    int st = wh_stop(p, SIGTERM, 10000);
    ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
    ck_assert(!wh_running(p));
    ck_assert_int_eq(wh_restart(p), 0);
    ck_assert_int_eq(wh_wait_until((bool (*)(void *))wh_running, p, 1000), 0);
    ck_assert_int_ne(wh_wait_log(p, "never printed", 50), 0);
}
END_TEST

START_TEST(wait_port_sees_listener_and_dead_process)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    ck_assert_int_eq(listen(fd, 4), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    ck_assert_int_eq(wh_wait_port(NULL, ntohs(sa.sin_port), 5000), 0);
    close(fd);

    const char *argv[] = {"/bin/false", NULL};
    struct wh_proc *p = wh_spawn("false", wh_tmpdir(), argv, NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_ne(wh_wait_port(p, wh_free_port(), 10000), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("harness");
    TCase *tc = tcase_create("harness");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, net_has_crypto_and_genesis);
    tcase_add_test(tc, process_log_wait_and_stop);
    tcase_add_test(tc, wait_port_sees_listener_and_dead_process);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
