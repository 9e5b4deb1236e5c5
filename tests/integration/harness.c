/* SPDX-License-Identifier: Apache-2.0 */
/* Integration-test harness: child daemons, waits on conditions, test networks, cleanup. */
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PROCS 64
#define MAX_DIRS 64
#define MAX_STRS 4096
#define MAX_ARGS 64

struct wh_proc {
    char *name;
    char *log;
    char *argv[MAX_ARGS + 1];
    char *env[MAX_ARGS + 1];
    pid_t pid; /* 0 once reaped */
    int status;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct wh_proc *procs[MAX_PROCS];
static size_t nprocs;
static char *dirs[MAX_DIRS];
static size_t ndirs;
static char *strs[MAX_STRS];
static size_t nstrs;
static int hooks_installed;
/* All temp dirs of a test program live under one base made by the first process (before Check
 * forks a child per test); that process removes it at exit, so even a child that died on a
 * failed assertion leaves nothing behind. */
static char base_dir[256];
static pid_t base_owner;

static void remove_base(void)
{
    if (base_dir[0] && getpid() == base_owner && !getenv("WEFT_KEEP_TEST_DIRS"))
        wh_rmtree(base_dir);
}

__attribute__((constructor)) static void make_base(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(base_dir, sizeof base_dir, "%s/weft-it-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(base_dir)) {
        base_dir[0] = '\0';
        return;
    }
    base_owner = getpid();
    atexit(remove_base);
}

static char *keep(char *s)
{
    if (!s)
        abort();
    pthread_mutex_lock(&lock);
    if (nstrs < MAX_STRS)
        strs[nstrs++] = s;
    pthread_mutex_unlock(&lock);
    return s;
}

static void on_signal(int sig)
{
    wh_cleanup();
    remove_base();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_hooks(void)
{
    if (hooks_installed)
        return;
    hooks_installed = 1;
    atexit(wh_cleanup);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGABRT, on_signal);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void nap(void)
{
    struct timespec ts = {0, 5 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

const char *wh_tmpdir(void)
{
    install_hooks();
    const char *base = getenv("TMPDIR");
    char tmpl[512];
    if (base_dir[0])
        snprintf(tmpl, sizeof tmpl, "%s/d-XXXXXX", base_dir);
    else
        snprintf(tmpl, sizeof tmpl, "%s/weft-it-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpl)) {
        perror("mkdtemp");
        abort();
    }
    char *d = strdup(tmpl);
    if (!d)
        abort();
    pthread_mutex_lock(&lock);
    if (ndirs < MAX_DIRS)
        dirs[ndirs++] = d;
    pthread_mutex_unlock(&lock);
    return d;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void wh_rmtree(const char *dir)
{
    if (dir)
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *wh_fmt(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    return keep(s);
}

const char *wh_join(const char *a, const char *b)
{
    return wh_fmt("%s/%s", a, b);
}

int wh_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs(sa.sin_port);
    close(fd);
    return port;
}

const char *wh_bin(const char *rel)
{
    const char *root = getenv("WEFT_BUILD_ROOT");
    return wh_join(root && *root ? root : ".", rel);
}

static int start(struct wh_proc *p)
{
    int fd = open(p->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "harness: open %s: %s\n", p->log, strerror(errno));
        return -1;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        close(fd);
        return -1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        sigset_t all;
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGABRT, SIG_DFL);
        dup2(fd, 1);
        dup2(fd, 2);
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0)
            dup2(nul, 0);
        for (size_t i = 0; p->env[i]; i++)
            putenv(p->env[i]);
        execv(p->argv[0], p->argv);
        fprintf(stderr, "harness: exec %s: %s\n", p->argv[0], strerror(errno));
        _exit(127);
    }
    close(fd);
    p->pid = pid;
    p->status = 0;
    return 0;
}

struct wh_proc *wh_spawn(const char *name, const char *logdir, const char *const argv[],
                         const char *const env[])
{
    install_hooks();
    struct wh_proc *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->name = strdup(name);
    p->log = strdup(wh_fmt("%s/%s.log", logdir, name));
    for (size_t i = 0; argv[i] && i < MAX_ARGS; i++)
        p->argv[i] = strdup(argv[i]);
    for (size_t i = 0; env && env[i] && i < MAX_ARGS; i++)
        p->env[i] = strdup(env[i]);
    pthread_mutex_lock(&lock);
    if (nprocs < MAX_PROCS)
        procs[nprocs++] = p;
    pthread_mutex_unlock(&lock);
    if (start(p) < 0)
        return NULL;
    return p;
}

pid_t wh_pid(const struct wh_proc *p)
{
    return p->pid;
}

const char *wh_log_path(const struct wh_proc *p)
{
    return p->log;
}

bool wh_running(struct wh_proc *p)
{
    if (!p || p->pid <= 0)
        return false;
    int st;
    pid_t r = waitpid(p->pid, &st, WNOHANG);
    if (r == p->pid) {
        p->status = st;
        p->pid = 0;
        return false;
    }
    return true;
}

static int try_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int r = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    close(fd);
    return r;
}

int wh_wait_port(struct wh_proc *p, int port, int timeout_ms)
{
    long long end = now_ms() + timeout_ms;
    while (now_ms() < end) {
        if (try_connect(port) == 0)
            return 0;
        if (p && !wh_running(p)) {
            fprintf(stderr, "harness: %s exited (status %d) before port %d opened; log %s\n",
                    p->name, p->status, port, p->log);
            return -1;
        }
        nap();
    }
    fprintf(stderr, "harness: port %d not accepting after %d ms\n", port, timeout_ms);
    return -1;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 2) {
            char *nb = realloc(buf, cap * 2);
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
    if (buf)
        buf[len] = '\0';
    return buf;
}

int wh_log_count(struct wh_proc *p, const char *needle)
{
    char *s = slurp(p->log);
    int n = 0;
    size_t nl = strlen(needle);
    for (char *q = s; q && nl && (q = strstr(q, needle)); q += nl)
        n++;
    free(s);
    return n;
}

int wh_wait_log(struct wh_proc *p, const char *needle, int timeout_ms)
{
    long long end = now_ms() + timeout_ms;
    for (;;) {
        if (wh_log_count(p, needle) > 0)
            return 0;
        if (!wh_running(p)) {
            if (wh_log_count(p, needle) > 0)
                return 0;
            fprintf(stderr, "harness: %s exited before logging '%s'; log %s\n", p->name, needle,
                    p->log);
            return -1;
        }
        if (now_ms() >= end)
            break;
        nap();
    }
    fprintf(stderr, "harness: '%s' not in %s after %d ms\n", needle, p->log, timeout_ms);
    return -1;
}

int wh_stop(struct wh_proc *p, int sig, int timeout_ms)
{
    if (!p || p->pid <= 0)
        return -1;
    kill(p->pid, sig);
    long long end = now_ms() + timeout_ms;
    while (wh_running(p)) {
        if (now_ms() >= end) {
            kill(p->pid, SIGKILL);
            int st;
            waitpid(p->pid, &st, 0);
            p->status = st;
            p->pid = 0;
            break;
        }
        nap();
    }
    return p->status;
}

int wh_restart(struct wh_proc *p)
{
    if (wh_running(p))
        return -1;
    return start(p);
}

int wh_wait_until(bool (*cond)(void *arg), void *arg, int timeout_ms)
{
    long long end = now_ms() + timeout_ms;
    for (;;) {
        if (cond(arg))
            return 0;
        if (now_ms() >= end)
            return -1;
        nap();
    }
}

int wh_run(const char *const argv[], char **ret_out, char **ret_err)
{
    const char *dir = wh_tmpdir();
    const char *out = wh_join(dir, "out"), *err = wh_join(dir, "err");
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int fe = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fo < 0 || fe < 0)
            _exit(127);
        dup2(fo, 1);
        dup2(fe, ret_err ? 2 : 1);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (ret_out)
        *ret_out = slurp(out);
    if (ret_err)
        *ret_err = slurp(err);
    wh_rmtree(dir);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int run_logged(const char *what, const char *const argv[])
{
    char *out = NULL, *err = NULL;
    int r = wh_run(argv, &out, &err);
    if (r != 0)
        fprintf(stderr, "harness: %s failed (%d)\n%s\n%s\n", what, r, out ? out : "",
                err ? err : "");
    free(out);
    free(err);
    return r == 0 ? 0 : -1;
}

int wh_net_make(struct wh_net *net, const struct wh_net_opts *o)
{
    struct wh_net_opts d = {0};
    if (!o)
        o = &d;
    memset(net, 0, sizeof *net);
    net->dir = wh_tmpdir();
    net->crypto = wh_join(net->dir, "crypto");
    net->channel = o->channel ? o->channel : "mychannel";
    net->orgs = o->orgs > 0 ? o->orgs : 2;
    net->genesis = wh_fmt("%s/%s.block", net->dir, net->channel);
    const char *weft = wh_bin("cli/weft");

    const char *cg[] = {weft,
                        "cryptogen",
                        "--output",
                        net->crypto,
                        "--peer-orgs",
                        wh_fmt("%d", net->orgs),
                        "--peers-per-org",
                        wh_fmt("%d", o->peers_per_org > 0 ? o->peers_per_org : 2),
                        NULL};
    if (run_logged("weft cryptogen", cg) < 0)
        return -1;

    char *orgs = NULL;
    size_t orgs_len = 0;
    FILE *of = open_memstream(&orgs, &orgs_len);
    for (int i = 1; i <= net->orgs; i++)
        fprintf(of,
                "    - Name: Org%d\n      ID: Org%dMSP\n"
                "      MSPDir: crypto/peerOrganizations/org%d.example.com/msp\n",
                i, i, i);
    fclose(of);
    const char *ccs = o->chaincodes_yaml
                          ? o->chaincodes_yaml
                          : "  - Name: example02\n    Version: \"1.0\"\n"
                            "    EndorsementPolicy: \"OR('Org1MSP.peer','Org2MSP.peer')\"\n"
                            "  - Name: kv\n    Version: \"1.0\"\n"
                            "    EndorsementPolicy: \"OR('Org1MSP.peer','Org2MSP.peer')\"\n"
                            "  - Name: asset\n    Version: \"1.0\"\n"
                            "    EndorsementPolicy: \"OR('Org1MSP.peer','Org2MSP.peer')\"\n";
    const char *profile = wh_fmt(
        "Orderer:\n"
        "  OrdererType: %s\n"
        "  Addresses: [127.0.0.1:7050]\n"
        "  BatchTimeout: %s\n"
        "  BatchSize:\n"
        "    MaxMessageCount: %d\n"
        "    AbsoluteMaxBytes: %s\n"
        "    PreferredMaxBytes: %s\n"
        "  Organizations:\n"
        "    - Name: OrdererOrg\n"
        "      ID: OrdererMSP\n"
        "      MSPDir: crypto/ordererOrganizations/example.com/msp\n"
        "Application:\n"
        "  Organizations:\n%s"
        "Chaincodes:\n%s%s",
        o->orderer_type ? o->orderer_type : "solo", o->batch_timeout ? o->batch_timeout : "200ms",
        o->max_message_count > 0 ? o->max_message_count : 10,
        o->absolute_max ? o->absolute_max : "10 MB", o->preferred_max ? o->preferred_max : "512 KB",
        orgs, ccs, o->extra_yaml ? o->extra_yaml : "");
    free(orgs);
    const char *ppath = wh_join(net->dir, "profile.yaml");
    FILE *pf = fopen(ppath, "w");
    if (!pf)
        return -1;
    fputs(profile, pf);
    fclose(pf);
    const char *gen[] = {weft,         "genesis",  "--profile",  ppath, "--channel",
                         net->channel, "--output", net->genesis, NULL};
    return run_logged("weft genesis", gen);
}

const char *wh_peer_msp(const struct wh_net *net, int org, int n)
{
    return wh_fmt("%s/peerOrganizations/org%d.example.com/peers/peer%d.org%d.example.com/msp",
                  net->crypto, org, n, org);
}

const char *wh_user_msp(const struct wh_net *net, int org, const char *user)
{
    return wh_fmt("%s/peerOrganizations/org%d.example.com/users/%s@org%d.example.com/msp",
                  net->crypto, org, user, org);
}

const char *wh_orderer_msp(const struct wh_net *net, int n)
{
    return wh_fmt("%s/ordererOrganizations/example.com/orderers/orderer%d.example.com/msp",
                  net->crypto, n);
}

void wh_cleanup(void)
{
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < nprocs; i++) {
        struct wh_proc *p = procs[i];
        if (p->pid > 0) {
            kill(p->pid, SIGKILL);
            waitpid(p->pid, NULL, 0);
            p->pid = 0;
        }
        free(p->name);
        free(p->log);
        for (size_t j = 0; p->argv[j]; j++)
            free(p->argv[j]);
        for (size_t j = 0; p->env[j]; j++)
            free(p->env[j]);
        free(p);
    }
    nprocs = 0;
    for (size_t i = 0; i < ndirs; i++) {
        if (!getenv("WEFT_KEEP_TEST_DIRS"))
            wh_rmtree(dirs[i]);
        free(dirs[i]);
    }
    ndirs = 0;
    for (size_t i = 0; i < nstrs; i++)
        free(strs[i]);
    nstrs = 0;
    pthread_mutex_unlock(&lock);
}
