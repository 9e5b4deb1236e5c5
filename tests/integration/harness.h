/* SPDX-License-Identifier: Apache-2.0 */
/* Integration-test harness: temp dirs, free ports, real daemons as child processes, waiting on
 * conditions (a port accepting, a log line), and a test network's crypto + genesis block. */
#ifndef WEFT_TEST_HARNESS_H
#define WEFT_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Everything a test starts is registered here and torn down by wh_cleanup(), which the harness
 * also runs at exit and on SIGTERM/SIGINT/SIGABRT, so a failing test leaves no process and no
 * directory behind. Children also get PR_SET_PDEATHSIG=SIGKILL in case the test is killed. */

/* A fresh directory under $TMPDIR (or /tmp), removed by wh_cleanup(). Never NULL. */
const char *wh_tmpdir(void);
void wh_rmtree(const char *dir);

/* "a/b" joined into a heap string owned by the harness (freed at cleanup). */
const char *wh_join(const char *a, const char *b);
/* printf into a heap string owned by the harness. */
const char *wh_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released). */
int wh_free_port(void);

/* $WEFT_BUILD_ROOT/rel (e.g. "services/orderer/orderer"). */
const char *wh_bin(const char *rel);

struct wh_proc;

/* Starts argv[0] with argv (NULL-terminated) and the extra env entries ("K=V", NULL-terminated,
 * may be NULL), stdout+stderr appended to <logdir>/<name>.log. NULL on failure (logged). */
struct wh_proc *wh_spawn(const char *name, const char *logdir, const char *const argv[],
                         const char *const env[]);
pid_t wh_pid(const struct wh_proc *p);
const char *wh_log_path(const struct wh_proc *p);

/* Waits until 127.0.0.1:port accepts a TCP connection, or until the process exits, or
 * timeout_ms. Returns 0 when accepting. */
int wh_wait_port(struct wh_proc *p, int port, int timeout_ms);
/* Waits until the process's log contains needle (from the beginning of the log), or it exits,
 * or timeout_ms passes. Returns 0 when found. */
int wh_wait_log(struct wh_proc *p, const char *needle, int timeout_ms);
/* Counts occurrences of needle in the process's log so far. */
int wh_log_count(struct wh_proc *p, const char *needle);

/* Sends sig and waits up to timeout_ms for the exit (then SIGKILL). Returns the raw wait status,
 * or -1 if it had already been reaped. The proc stays registered (wh_restart may reuse it). */
int wh_stop(struct wh_proc *p, int sig, int timeout_ms);
/* Starts the same command again (same log, appended). Returns 0 on success. */
int wh_restart(struct wh_proc *p);
bool wh_running(struct wh_proc *p);

/* Polls cond(arg) every few milliseconds until true or timeout_ms; returns 0 when true. Waiting
 * on a condition, never a fixed sleep. */
int wh_wait_until(bool (*cond)(void *arg), void *arg, int timeout_ms);

/* Runs a program to completion (argv NULL-terminated), capturing stdout (and stderr if ret_err)
 * into heap strings the caller frees. Returns the exit status, or -1. */
int wh_run(const char *const argv[], char **ret_out, char **ret_err);

/* A test network on disk: crypto from `weft cryptogen`, a profile and block 0 from
 * `weft genesis`. */
struct wh_net {
    const char *dir;     /* the network's directory */
    const char *crypto;  /* <dir>/crypto */
    const char *genesis; /* <dir>/<channel>.block */
    const char *channel; /* channel id */
    int orgs;            /* peer orgs: Org1MSP .. OrgNMSP */
};

struct wh_net_opts {
    const char *channel;         /* default "mychannel" */
    int orgs;                    /* default 2 */
    int peers_per_org;           /* default 2 */
    const char *orderer_type;    /* default "solo" */
    const char *batch_timeout;   /* default "200ms" */
    int max_message_count;       /* default 10 */
    const char *absolute_max;    /* default "10 MB" */
    const char *preferred_max;   /* default "512 KB" */
    const char *chaincodes_yaml; /* YAML list items under Chaincodes:, default: example02, kv and
                                  * asset with "OR('Org1MSP.peer','Org2MSP.peer')" */
    const char *extra_yaml;      /* appended at the end of the profile, may be NULL */
};

/* Makes crypto + genesis. Returns 0, or -1 with the failing command's output logged. */
int wh_net_make(struct wh_net *net, const struct wh_net_opts *opts);
/* <crypto>/peerOrganizations/org<org>.example.com/peers/peer<n>.org<org>.example.com/msp */
const char *wh_peer_msp(const struct wh_net *net, int org, int n);
/* <crypto>/peerOrganizations/org<org>.example.com/users/<user>@org<org>.example.com/msp,
 * user "User1" or "Admin" */
const char *wh_user_msp(const struct wh_net *net, int org, const char *user);
/* <crypto>/ordererOrganizations/example.com/orderers/orderer<n>.example.com/msp */
const char *wh_orderer_msp(const struct wh_net *net, int n);

/* Kills every registered process and removes every registered directory. Idempotent. */
void wh_cleanup(void);

#endif
