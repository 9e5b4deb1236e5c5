/* SPDX-License-Identifier: Apache-2.0 */
/* Logging. The level spec is the one process-wide setting that is not in a daemon's context
 * struct: every module logs, and /logspec changes it at run time, so it lives here behind a
 * lock-free snapshot pointer (readers never block, writers swap the whole table). */
#include "libcommon/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define SPEC_MAX 512
#define MODULES_MAX 32
#define MODULE_NAME_MAX 32

struct spec {
    struct spec *prev; /* the table this one replaced, kept reachable: see the file comment */
    enum lc_log_level deflt;
    size_t n;
    struct {
        char name[MODULE_NAME_MAX];
        enum lc_log_level level;
    } mod[MODULES_MAX];
    char text[SPEC_MAX];
};

static struct spec initial = {.deflt = LC_LOG_INFO, .text = "info"};
static _Atomic(struct spec *) current = &initial;
static atomic_bool json_lines;
/* Old tables are kept until exit: a reader may still hold one, and specs change rarely. */
static pthread_mutex_t retired_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {"debug", "info", "warn", "error", "off"};

static int parse_level(const char *s, size_t len, enum lc_log_level *ret)
{
    static const struct {
        const char *name;
        enum lc_log_level level;
    } names[] = {{"debug", LC_LOG_DEBUG},  {"info", LC_LOG_INFO},      {"warn", LC_LOG_WARN},
                 {"warning", LC_LOG_WARN}, {"error", LC_LOG_ERROR},    {"fatal", LC_LOG_ERROR},
                 {"panic", LC_LOG_ERROR},  {"critical", LC_LOG_ERROR}, {"off", LC_LOG_OFF}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i].name) == len && strncasecmp(s, names[i].name, len) == 0) {
            *ret = names[i].level;
            return 0;
        }
    return LC_ESYNTAX;
}

static int add_modules(struct spec *sp, const char *list, size_t len, enum lc_log_level lvl,
                       struct lc_errbuf *err)
{
    const char *p = list, *end = list + len;
    if (len == 0)
        return lc_fail(err, LC_ESYNTAX, "log spec: empty module name before '='");
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        size_t n = (size_t)(stop - p);
        if (n == 0 || n >= MODULE_NAME_MAX)
            return lc_fail(err, LC_ESYNTAX, "log spec: bad module name '%.*s'", (int)n, p);
        if (sp->n == MODULES_MAX)
            return lc_fail(err, LC_ETOOBIG, "log spec: more than %d modules", MODULES_MAX);
        memcpy(sp->mod[sp->n].name, p, n);
        sp->mod[sp->n].name[n] = '\0';
        sp->mod[sp->n].level = lvl;
        sp->n++;
        p = comma ? comma + 1 : end;
    }
    return 0;
}

int lc_log_spec_set(const char *spec, struct lc_errbuf *err)
{
    if (!spec || !*spec)
        return lc_fail(err, LC_ESYNTAX, "log spec: empty");
    size_t total = strlen(spec);
    if (total >= SPEC_MAX)
        return lc_fail(err, LC_ETOOBIG, "log spec: longer than %d bytes", SPEC_MAX - 1);
    struct spec *sp = calloc(1, sizeof *sp);
    if (!sp)
        return -12;
    sp->deflt = LC_LOG_INFO;
    memcpy(sp->text, spec, total + 1);
    int r = 0;
    const char *p = spec, *end = spec + total;
    while (p < end) {
        const char *colon = memchr(p, ':', (size_t)(end - p));
        const char *stop = colon ? colon : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        enum lc_log_level lvl;
        if (eq) {
            if (parse_level(eq + 1, (size_t)(stop - eq - 1), &lvl) < 0) {
                r = lc_fail(err, LC_ESYNTAX, "log spec: unknown level '%.*s'", (int)(stop - eq - 1),
                            eq + 1);
                goto fail;
            }
            if ((r = add_modules(sp, p, (size_t)(eq - p), lvl, err)) < 0)
                goto fail;
        } else {
            if (parse_level(p, (size_t)(stop - p), &lvl) < 0) {
                r = lc_fail(err, LC_ESYNTAX, "log spec: unknown level '%.*s'", (int)(stop - p), p);
                goto fail;
            }
            sp->deflt = lvl;
        }
        p = colon ? colon + 1 : end;
    }
    pthread_mutex_lock(&retired_lock);
    sp->prev = atomic_load(&current);
    atomic_store(&current, sp);
    pthread_mutex_unlock(&retired_lock);
    return 0;
fail:
    free(sp);
    return r;
}

void lc_log_spec_get(char *buf, size_t len)
{
    if (len)
        snprintf(buf, len, "%s", atomic_load(&current)->text);
}

void lc_log_set_json(bool json)
{
    atomic_store(&json_lines, json);
}

bool lc_log_enabled(const char *module, enum lc_log_level level)
{
    const struct spec *sp = atomic_load(&current);
    enum lc_log_level min = sp->deflt;
    for (size_t i = 0; i < sp->n; i++)
        if (strcmp(sp->mod[i].name, module) == 0) {
            min = sp->mod[i].level;
            break;
        }
    return level != LC_LOG_OFF && level >= min;
}

static void json_escape(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
}

void lc_log_write(enum lc_log_level level, const char *module, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[40];
    size_t n = strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + n, sizeof when - n, ".%06ldZ", ts.tv_nsec / 1000);
    if (level > LC_LOG_OFF)
        level = LC_LOG_ERROR;

    /* One fprintf-family burst under the stream lock, so lines from threads never interleave. */
    flockfile(stderr);
    if (atomic_load(&json_lines)) {
        fprintf(stderr, "{\"ts\":\"%s\",\"level\":\"%s\",\"module\":\"", when, level_names[level]);
        json_escape(stderr, module);
        fputs("\",\"msg\":\"", stderr);
        json_escape(stderr, msg);
        fputs("\"}\n", stderr);
    } else {
        fprintf(stderr, "%s %-5s [%s] %s\n", when, level_names[level], module, msg);
    }
    funlockfile(stderr);
}
