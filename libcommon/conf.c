/* SPDX-License-Identifier: Apache-2.0 */
/* Settings: checks a declared table, parses flags and WEFT_* variables into typed values. */
#include "libcommon/conf.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <unistd.h>

#include "libcommon/log.h"

#define NAME_MAX_LEN 64
#define ENV_MAX_LEN 128

struct val {
    enum lc_conf_source src;
    char *text; /* owned; the value as given */
    union {
        int64_t i; /* INT, DURATION (ms) */
        uint64_t size;
        bool b;
        int choice;
    } u;
    char *host; /* ADDR, owned */
    uint16_t port;
};

struct lc_conf {
    const struct lc_conf_def *def;
    size_t n; /* the table's settings, then the built-in ones */
    const struct lc_conf_setting **set;
    char **env; /* env name per setting, owned */
    char *prefix;
    struct val *vals;
    struct val *defaults;
    char **args;
    size_t nargs;
    enum lc_conf_help help;
};

static const char *const log_formats[] = {"text", "json", NULL};
static const struct lc_conf_setting builtins[] = {
    {.name = LC_CONF_LOG_SPEC,
     .env = "WEFT_LOGGING_SPEC",
     .type = LC_CONF_STRING,
     .def = "info",
     .help = "Log levels: a default level, then module=level pairs, e.g. "
             "\"warn:orderer=debug:rpc,kv=error\"."},
    {.name = LC_CONF_LOG_FORMAT,
     .env = "WEFT_LOGGING_FORMAT",
     .type = LC_CONF_ENUM,
     .def = "text",
     .choices = log_formats,
     .help = "Log line format: text, or one JSON object per line."},
};
#define N_BUILTINS (sizeof builtins / sizeof builtins[0])

static void val_done(struct val *v)
{
    free(v->text);
    free(v->host);
    memset(v, 0, sizeof *v);
}

static void vals_free(struct val *v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        val_done(&v[i]);
    free(v);
}

static void args_free(char **args, size_t n)
{
    if (!args)
        return;
    for (size_t i = 0; i < n; i++)
        free(args[i]);
    free(args);
}

static int val_copy(struct val *dst, const struct val *src)
{
    *dst = *src;
    dst->text = NULL;
    dst->host = NULL;
    if (src->text && !(dst->text = strdup(src->text)))
        goto fail;
    if (src->host && !(dst->host = strdup(src->host)))
        goto fail;
    return 0;
fail:
    val_done(dst);
    return -ENOMEM;
}

/* ---- value parsers: each fills v (not text/src) or fails naming `who` ---- */

static int parse_int(const char *who, const char *text, struct val *v, struct lc_errbuf *err)
{
    const char *p = text;
    if (*p == '-' || *p == '+')
        p++;
    if (!isdigit((unsigned char)*p))
        return lc_fail(err, LC_ESYNTAX, "%s: '%s' is not an integer", who, text);
    errno = 0;
    char *end;
    long long n = strtoll(text, &end, 10);
    if (*end != '\0')
        return lc_fail(err, LC_ESYNTAX, "%s: '%s' is not an integer", who, text);
    if (errno == ERANGE)
        return lc_fail(err, LC_EINVALID, "%s: '%s' does not fit in 64 bits", who, text);
    v->u.i = n;
    return 0;
}

static int parse_bool(const char *who, const char *text, struct val *v, struct lc_errbuf *err)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcasecmp(text, yes[i]) == 0) {
            v->u.b = true;
            return 0;
        }
        if (strcasecmp(text, no[i]) == 0) {
            v->u.b = false;
            return 0;
        }
    }
    return lc_fail(err, LC_ESYNTAX, "%s: '%s' is not a boolean (expected true or false)", who,
                   text);
}

/* Reads the decimal digits at *p into ret (no sign); false if none or on overflow. */
static bool read_u64(const char **p, uint64_t *ret)
{
    const char *s = *p;
    uint64_t n = 0;
    if (!isdigit((unsigned char)*s))
        return false;
    for (; isdigit((unsigned char)*s); s++) {
        unsigned d = (unsigned)(*s - '0');
        if (n > (UINT64_MAX - d) / 10)
            return false;
        n = n * 10 + d;
    }
    *p = s;
    *ret = n;
    return true;
}

/* "500ms", "2s", "1m30s", "1h", or "0": a sequence of whole numbers with units ms, s, m, h. */
static int parse_duration(const char *who, const char *text, struct val *v, struct lc_errbuf *err)
{
    static const struct {
        const char *unit;
        uint64_t ms;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
    const char *p = text;
    uint64_t total = 0;
    if (strcmp(text, "0") == 0)
        goto done;
    if (!*p)
        goto bad;
    while (*p) {
        uint64_t n;
        if (!read_u64(&p, &n))
            goto bad;
        size_t best = SIZE_MAX, best_len = 0;
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
            size_t len = strlen(units[i].unit);
            if (strncmp(p, units[i].unit, len) == 0 && len > best_len &&
                !isalpha((unsigned char)p[len])) {
                best = i;
                best_len = len;
            }
        }
        if (best == SIZE_MAX)
            goto bad;
        p += best_len;
        if (n > (uint64_t)INT64_MAX / units[best].ms ||
            total > (uint64_t)INT64_MAX - n * units[best].ms)
            return lc_fail(err, LC_EINVALID, "%s: '%s' is too long a duration", who, text);
        total += n * units[best].ms;
    }
done:
    v->u.i = (int64_t)total;
    return 0;
bad:
    return lc_fail(err, LC_ESYNTAX, "%s: '%s' is not a duration (expected e.g. 2s, 500ms, 1m)", who,
                   text);
}

/* "512", "512B", "64KiB", "10MB", "1 GB": binary multiples, as Fabric reads its sizes. */
static int parse_size(const char *who, const char *text, struct val *v, struct lc_errbuf *err)
{
    static const struct {
        const char *unit;
        unsigned shift;
    } units[] = {{"", 0},     {"b", 0},   {"k", 10},   {"kb", 10}, {"kib", 10},
                 {"m", 20},   {"mb", 20}, {"mib", 20}, {"g", 30},  {"gb", 30},
                 {"gib", 30}, {"t", 40},  {"tb", 40},  {"tib", 40}};
    const char *p = text;
    uint64_t n;
    if (!read_u64(&p, &n))
        goto bad;
    while (*p == ' ')
        p++;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcasecmp(p, units[i].unit) != 0)
            continue;
        if (n > ((uint64_t)INT64_MAX >> units[i].shift))
            return lc_fail(err, LC_EINVALID, "%s: '%s' is too large a size", who, text);
        v->u.size = n << units[i].shift;
        return 0;
    }
bad:
    return lc_fail(err, LC_ESYNTAX, "%s: '%s' is not a size (expected e.g. 10MB)", who, text);
}

static int parse_enum(const char *who, const struct lc_conf_setting *s, const char *text,
                      struct val *v, struct lc_errbuf *err)
{
    char list[200] = "";
    size_t used = 0;
    for (int i = 0; s->choices[i]; i++) {
        if (strcmp(text, s->choices[i]) == 0) {
            v->u.choice = i;
            return 0;
        }
        int w = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", s->choices[i]);
        if (w < 0 || (size_t)w >= sizeof list - used)
            break;
        used += (size_t)w;
    }
    return lc_fail(err, LC_EINVALID, "%s: '%s' is not one of: %s", who, text, list);
}

static int parse_path(const char *who, const char *text, struct lc_errbuf *err)
{
    if (!*text)
        return lc_fail(err, LC_EINVALID, "%s: empty path", who);
    if (strlen(text) >= PATH_MAX)
        return lc_fail(err, LC_ETOOBIG, "%s: path longer than %d bytes", who, PATH_MAX - 1);
    return 0;
}

static bool host_char(char c, bool v6)
{
    if (v6)
        return isxdigit((unsigned char)c) || c == ':' || c == '.';
    return isalnum((unsigned char)c) || c == '-' || c == '.' || c == '_';
}

static int parse_addr(const char *who, const char *text, struct val *v, struct lc_errbuf *err)
{
    const char *host = text, *host_end, *port;
    bool v6 = text[0] == '[';
    if (v6) {
        host = text + 1;
        host_end = strchr(host, ']');
        if (!host_end || host_end == host || host_end[1] != ':')
            goto bad;
        port = host_end + 2;
    } else {
        host_end = strrchr(text, ':');
        if (!host_end)
            goto bad;
        port = host_end + 1;
    }
    for (const char *c = host; c < host_end; c++)
        if (!host_char(*c, v6))
            goto bad;
    const char *p = port;
    uint64_t n;
    if (strlen(port) > 5 || !read_u64(&p, &n) || *p != '\0')
        goto bad;
    if (n > UINT16_MAX)
        return lc_fail(err, LC_EINVALID, "%s: port %" PRIu64 " in '%s' is over 65535", who, n,
                       text);
    if (!(v->host = strndup(host, (size_t)(host_end - host))))
        return -ENOMEM;
    v->port = (uint16_t)n;
    return 0;
bad:
    return lc_fail(err, LC_ESYNTAX,
                   "%s: '%s' is not a host:port address (expected e.g. 127.0.0.1:7051)", who, text);
}

/* Formats a range bound the way its type is written, in the largest exact unit. */
static void fmt_bound(const struct lc_conf_setting *s, int64_t x, char *buf, size_t len)
{
    if (s->type == LC_CONF_SIZE && x > 0) {
        static const char *const su[] = {"B", "KiB", "MiB", "GiB", "TiB"};
        int u = 0;
        while (u < 4 && x % 1024 == 0) {
            x /= 1024;
            u++;
        }
        snprintf(buf, len, "%" PRId64 "%s", x, su[u]);
    } else if (s->type == LC_CONF_DURATION && x > 0) {
        if (x % 3600000 == 0)
            snprintf(buf, len, "%" PRId64 "h", x / 3600000);
        else if (x % 60000 == 0)
            snprintf(buf, len, "%" PRId64 "m", x / 60000);
        else if (x % 1000 == 0)
            snprintf(buf, len, "%" PRId64 "s", x / 1000);
        else
            snprintf(buf, len, "%" PRId64 "ms", x);
    } else {
        snprintf(buf, len, "%" PRId64, x);
    }
}

static bool has_range(const struct lc_conf_setting *s)
{
    return (s->min != 0 || s->max != 0) &&
           (s->type == LC_CONF_INT || s->type == LC_CONF_SIZE || s->type == LC_CONF_DURATION);
}

static int check_range(const char *who, const struct lc_conf_setting *s, const char *text,
                       const struct val *v, struct lc_errbuf *err)
{
    if (!has_range(s))
        return 0;
    bool below, above;
    if (s->type == LC_CONF_SIZE) {
        /* sizes are at most INT64_MAX (parse_size), so the signed compare is exact */
        below = (int64_t)v->u.size < s->min;
        above = (int64_t)v->u.size > s->max;
    } else {
        below = v->u.i < s->min;
        above = v->u.i > s->max;
    }
    if (!below && !above)
        return 0;
    char lo[32], hi[32];
    fmt_bound(s, s->min, lo, sizeof lo);
    fmt_bound(s, s->max, hi, sizeof hi);
    return lc_fail(err, LC_EINVALID, "%s: '%s' is out of range (%s..%s)", who, text, lo, hi);
}

/* Parses text as setting s into *ret (owned copies); `who` names the source in errors. */
static int parse_value(const struct lc_conf_setting *s, const char *who, const char *text,
                       enum lc_conf_source src, struct val *ret, struct lc_errbuf *err)
{
    struct val v = {.src = src};
    int r = 0;
    switch (s->type) {
    case LC_CONF_STRING:
        break;
    case LC_CONF_INT:
        r = parse_int(who, text, &v, err);
        break;
    case LC_CONF_BOOL:
        r = parse_bool(who, text, &v, err);
        break;
    case LC_CONF_DURATION:
        r = parse_duration(who, text, &v, err);
        break;
    case LC_CONF_SIZE:
        r = parse_size(who, text, &v, err);
        break;
    case LC_CONF_ENUM:
        r = parse_enum(who, s, text, &v, err);
        break;
    case LC_CONF_PATH:
        r = parse_path(who, text, err);
        break;
    case LC_CONF_ADDR:
        r = parse_addr(who, text, &v, err);
        break;
    default:
        r = lc_fail(err, LC_EINVALID, "%s: unknown setting type %d", who, (int)s->type);
    }
    if (r == -ENOMEM)
        lc_fail(err, r, "%s: out of memory", who);
    if (r == 0)
        r = check_range(who, s, text, &v, err);
    if (r == 0 && !(v.text = strdup(text)))
        r = lc_fail(err, -ENOMEM, "%s: out of memory", who);
    if (r < 0) {
        val_done(&v);
        return r;
    }
    *ret = v;
    return 0;
}

/* ---- the object ---- */

static bool valid_name(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > NAME_MAX_LEN || !islower((unsigned char)name[0]))
        return false;
    for (const char *c = name; *c; c++)
        if (!islower((unsigned char)*c) && !isdigit((unsigned char)*c) && *c != '-')
            return false;
    return true;
}

static bool valid_env(const char *env)
{
    size_t len = strlen(env);
    if (len == 0 || len > ENV_MAX_LEN || isdigit((unsigned char)env[0]))
        return false;
    for (const char *c = env; *c; c++)
        if (!isupper((unsigned char)*c) && !isdigit((unsigned char)*c) && *c != '_')
            return false;
    return true;
}

/* WEFT_ + upper(part) + "_" with '-' as '_'; caller frees. */
static char *env_name(const char *service, const char *name)
{
    size_t len = 5 + strlen(service) + 1 + (name ? strlen(name) : 0) + 1;
    char *e = malloc(len);
    if (!e)
        return NULL;
    snprintf(e, len, "WEFT_%s_%s", service, name ? name : "");
    for (char *c = e; *c; c++)
        *c = *c == '-' ? '_' : (char)toupper((unsigned char)*c);
    return e;
}

static int check_setting(const struct lc_conf *c, size_t k, struct lc_errbuf *err)
{
    const struct lc_conf_setting *s = c->set[k];
    if (!s->name || !valid_name(s->name))
        return lc_fail(err, LC_EINVALID, "setting %zu: bad flag name '%s'", k,
                       s->name ? s->name : "(null)");
    if (strcmp(s->name, "help") == 0)
        return lc_fail(err, LC_EINVALID, "--help: the name is reserved");
    for (size_t j = 0; j < k; j++)
        if (strcmp(c->set[j]->name, s->name) == 0)
            return lc_fail(err, LC_EINVALID, "--%s: declared twice", s->name);
    if (s->env && !valid_env(s->env))
        return lc_fail(err, LC_EINVALID, "--%s: bad environment variable name '%s'", s->name,
                       s->env);
    if ((unsigned)s->type > LC_CONF_ADDR)
        return lc_fail(err, LC_EINVALID, "--%s: unknown type %d", s->name, (int)s->type);
    if (s->required && s->def)
        return lc_fail(err, LC_EINVALID, "--%s: required, yet has a default", s->name);
    if (s->type == LC_CONF_ENUM && (!s->choices || !s->choices[0]))
        return lc_fail(err, LC_EINVALID, "--%s: enum without choices", s->name);
    if (s->min > s->max)
        return lc_fail(err, LC_EINVALID, "--%s: min %" PRId64 " > max %" PRId64, s->name, s->min,
                       s->max);
    if (s->help == NULL)
        return lc_fail(err, LC_EINVALID, "--%s: no help text", s->name);
    return 0;
}

void lc_conf_free(struct lc_conf *conf)
{
    if (!conf)
        return;
    if (conf->env)
        for (size_t i = 0; i < conf->n; i++)
            free(conf->env[i]);
    free(conf->env);
    free(conf->set);
    free(conf->prefix);
    vals_free(conf->vals, conf->n);
    vals_free(conf->defaults, conf->n);
    args_free(conf->args, conf->nargs);
    free(conf);
}

int lc_conf_new(const struct lc_conf_def *def, struct lc_conf **ret_conf, struct lc_errbuf *err)
{
    int r;
    if (!def || !def->service || !valid_name(def->service))
        return lc_fail(err, LC_EINVALID, "conf: bad service name '%s'",
                       def && def->service ? def->service : "(null)");
    if (def->n_settings && !def->settings)
        return lc_fail(err, LC_EINVALID, "conf: %zu settings but no table", def->n_settings);
    struct lc_conf *c = calloc(1, sizeof *c);
    if (!c)
        return lc_fail(err, -ENOMEM, "conf: out of memory");
    c->def = def;
    c->n = def->n_settings + N_BUILTINS;
    c->set = calloc(c->n, sizeof *c->set);
    c->env = calloc(c->n, sizeof *c->env);
    c->defaults = calloc(c->n, sizeof *c->defaults);
    c->vals = calloc(c->n, sizeof *c->vals);
    c->prefix = env_name(def->service, NULL);
    if (!c->set || !c->env || !c->defaults || !c->vals || !c->prefix) {
        r = lc_fail(err, -ENOMEM, "conf: out of memory");
        goto fail;
    }
    for (size_t k = 0; k < c->n; k++)
        c->set[k] = k < def->n_settings ? &def->settings[k] : &builtins[k - def->n_settings];
    for (size_t k = 0; k < c->n; k++) {
        const struct lc_conf_setting *s = c->set[k];
        if ((r = check_setting(c, k, err)) < 0)
            goto fail;
        c->env[k] = s->env ? strdup(s->env) : env_name(def->service, s->name);
        if (!c->env[k]) {
            r = lc_fail(err, -ENOMEM, "conf: out of memory");
            goto fail;
        }
        for (size_t j = 0; j < k; j++)
            if (strcmp(c->env[j], c->env[k]) == 0) {
                r = lc_fail(err, LC_EINVALID, "--%s: environment variable %s also used by --%s",
                            s->name, c->env[k], c->set[j]->name);
                goto fail;
            }
        if (s->def) {
            char who[NAME_MAX_LEN + 16];
            snprintf(who, sizeof who, "default of --%s", s->name);
            if ((r = parse_value(s, who, s->def, LC_CONF_DEFAULT, &c->defaults[k], err)) < 0)
                goto fail;
            if ((r = val_copy(&c->vals[k], &c->defaults[k])) < 0) {
                lc_fail(err, r, "conf: out of memory");
                goto fail;
            }
        }
    }
    *ret_conf = c;
    return 0;
fail:
    lc_conf_free(c);
    return r;
}

static ssize_t find_setting(const struct lc_conf *c, const char *name, size_t len)
{
    for (size_t k = 0; k < c->n; k++)
        if (strlen(c->set[k]->name) == len && memcmp(c->set[k]->name, name, len) == 0)
            return (ssize_t)k;
    return -1;
}

/* Looks for --help / -h before "--"; returns <0 for a bad --help=WORD. */
static int scan_help(int argc, char *const argv[], enum lc_conf_help *ret, struct lc_errbuf *err)
{
    *ret = LC_CONF_HELP_NONE;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0)
            break;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0 || strcmp(a, "--help=text") == 0) {
            *ret = LC_CONF_HELP_TEXT;
            return 0;
        }
        if (strcmp(a, "--help=markdown") == 0) {
            *ret = LC_CONF_HELP_MARKDOWN;
            return 0;
        }
        if (strncmp(a, "--help=", 7) == 0)
            return lc_fail(err, LC_EINVALID, "--help: '%s' is not one of: text, markdown", a + 7);
    }
    return 0;
}

static const char *env_lookup(char *const envp[], const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; envp[i]; i++)
        if (strncmp(envp[i], name, len) == 0 && envp[i][len] == '=')
            return envp[i] + len + 1;
    return NULL;
}

/* A variable under this service's prefix must name one of its settings: catches typos. */
static int check_unknown_env(const struct lc_conf *c, char *const envp[], struct lc_errbuf *err)
{
    size_t plen = strlen(c->prefix);
    for (size_t i = 0; envp[i]; i++) {
        const char *e = envp[i];
        if (strncmp(e, c->prefix, plen) != 0)
            continue;
        const char *eq = strchr(e, '=');
        size_t len = eq ? (size_t)(eq - e) : strlen(e);
        bool known = false;
        for (size_t k = 0; k < c->n && !known; k++)
            known = strlen(c->env[k]) == len && memcmp(c->env[k], e, len) == 0;
        if (!known)
            return lc_fail(err, LC_EINVALID, "%.*s: no such setting for %s (see --help)",
                           (int)(len > 100 ? 100 : len), e, c->def->service);
    }
    return 0;
}

static int push_arg(char ***args, size_t *n, const char *a, struct lc_errbuf *err)
{
    char **grown = realloc(*args, (*n + 1) * sizeof *grown);
    if (!grown)
        return lc_fail(err, -ENOMEM, "conf: out of memory");
    *args = grown;
    if (!(grown[*n] = strdup(a)))
        return lc_fail(err, -ENOMEM, "conf: out of memory");
    (*n)++;
    return 0;
}

/* Reads the flags in argv into vals (which hold the defaults) and collects positionals. */
static int parse_flags(const struct lc_conf *c, int argc, char *const argv[], struct val *vals,
                       char ***args, size_t *nargs, struct lc_errbuf *err)
{
    bool flags_done = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (flags_done || a[0] != '-' || strcmp(a, "-") == 0) {
            if (!c->def->args_usage)
                return lc_fail(err, LC_ESYNTAX, "unexpected argument '%s'", a);
            int r = push_arg(args, nargs, a, err);
            if (r < 0)
                return r;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            flags_done = true;
            continue;
        }
        if (a[1] != '-')
            return lc_fail(err, LC_ESYNTAX, "unknown flag '%s'", a);
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        ssize_t k = find_setting(c, name, len);
        if (k < 0)
            return lc_fail(err, LC_ESYNTAX, "unknown flag '--%.*s'", (int)(len > 100 ? 100 : len),
                           name);
        const struct lc_conf_setting *s = c->set[k];
        const char *value;
        if (eq)
            value = eq + 1;
        else if (s->type == LC_CONF_BOOL)
            value = "true";
        else if (i + 1 < argc)
            value = argv[++i];
        else
            return lc_fail(err, LC_ESYNTAX, "--%s: missing value", s->name);
        char who[NAME_MAX_LEN + 3];
        snprintf(who, sizeof who, "--%s", s->name);
        struct val v;
        int r = parse_value(s, who, value, LC_CONF_FLAG, &v, err);
        if (r < 0)
            return r;
        val_done(&vals[k]);
        vals[k] = v;
    }
    return 0;
}

static int parse_env(const struct lc_conf *c, char *const envp[], struct val *vals,
                     struct lc_errbuf *err)
{
    int r = check_unknown_env(c, envp, err);
    if (r < 0)
        return r;
    for (size_t k = 0; k < c->n; k++) {
        if (vals[k].src == LC_CONF_FLAG)
            continue;
        const char *value = env_lookup(envp, c->env[k]);
        if (!value || !*value)
            continue;
        struct val v;
        if ((r = parse_value(c->set[k], c->env[k], value, LC_CONF_ENV, &v, err)) < 0)
            return r;
        val_done(&vals[k]);
        vals[k] = v;
    }
    return 0;
}

/* The flag or variable a value came from, for error messages. */
static void value_origin(const struct lc_conf *c, size_t k, const struct val *v, char *buf,
                         size_t len)
{
    if (v->src == LC_CONF_ENV)
        snprintf(buf, len, "%s", c->env[k]);
    else
        snprintf(buf, len, "--%s", c->set[k]->name);
}

static int apply_log(const struct lc_conf *c, const struct val *vals, struct lc_errbuf *err)
{
    ssize_t ks = find_setting(c, LC_CONF_LOG_SPEC, strlen(LC_CONF_LOG_SPEC));
    ssize_t kf = find_setting(c, LC_CONF_LOG_FORMAT, strlen(LC_CONF_LOG_FORMAT));
    assert(ks >= 0 && kf >= 0);
    int r = lc_log_spec_set(vals[ks].text, err);
    if (r < 0) {
        char who[ENV_MAX_LEN + 4];
        value_origin(c, (size_t)ks, &vals[ks], who, sizeof who);
        lc_errbuf_prefix(err, "%s: ", who);
        return r;
    }
    lc_log_set_json(vals[kf].u.choice == 1);
    return 0;
}

int lc_conf_parse(struct lc_conf *conf, int argc, char *const argv[], char *const envp[],
                  struct lc_errbuf *err)
{
    enum lc_conf_help help;
    char **args = NULL;
    size_t nargs = 0;
    int r = scan_help(argc, argv, &help, err);
    if (r < 0)
        return r;
    struct val *vals = calloc(conf->n, sizeof *vals);
    if (!vals)
        return lc_fail(err, -ENOMEM, "conf: out of memory");
    for (size_t k = 0; k < conf->n; k++)
        if ((r = val_copy(&vals[k], &conf->defaults[k])) < 0) {
            lc_fail(err, r, "conf: out of memory");
            goto fail;
        }
    if (help == LC_CONF_HELP_NONE) {
        if ((r = parse_flags(conf, argc, argv, vals, &args, &nargs, err)) < 0)
            goto fail;
        if ((r = parse_env(conf, envp ? envp : environ, vals, err)) < 0)
            goto fail;
        for (size_t k = 0; k < conf->n; k++)
            if (conf->set[k]->required && vals[k].src == LC_CONF_UNSET) {
                r = lc_fail(err, LC_EINVALID, "--%s: required (set the flag or %s)",
                            conf->set[k]->name, conf->env[k]);
                goto fail;
            }
        if ((r = apply_log(conf, vals, err)) < 0)
            goto fail;
    }
    vals_free(conf->vals, conf->n);
    args_free(conf->args, conf->nargs);
    conf->vals = vals;
    conf->args = args;
    conf->nargs = nargs;
    conf->help = help;
    return 0;
fail:
    vals_free(vals, conf->n);
    args_free(args, nargs);
    return r;
}

enum lc_conf_help lc_conf_help_requested(const struct lc_conf *conf)
{
    return conf->help;
}

/* ---- help ---- */

static const char *placeholder(const struct lc_conf_setting *s)
{
    switch (s->type) {
    case LC_CONF_INT:
        return "N";
    case LC_CONF_BOOL:
        return "[=BOOL]";
    case LC_CONF_DURATION:
        return "DURATION";
    case LC_CONF_SIZE:
        return "SIZE";
    case LC_CONF_ENUM:
        return "WORD";
    case LC_CONF_PATH:
        return "PATH";
    case LC_CONF_ADDR:
        return "HOST:PORT";
    default:
        return "TEXT";
    }
}

/* "integer 1..64", "size (e.g. 10MB) 1KiB..1GiB", "one of solo, kafka", ... into buf. */
static void type_desc(const struct lc_conf_setting *s, bool md, char *buf, size_t len)
{
    static const char *const names[] = {
        [LC_CONF_STRING] = "string",
        [LC_CONF_INT] = "integer",
        [LC_CONF_BOOL] = "boolean",
        [LC_CONF_DURATION] = "duration (e.g. 2s, 500ms, 1m)",
        [LC_CONF_SIZE] = "size (e.g. 10MB, 512KiB)",
        [LC_CONF_PATH] = "path",
        [LC_CONF_ADDR] = "host:port",
    };
    if (s->type == LC_CONF_ENUM) {
        size_t used = 0;
        for (int i = 0; s->choices[i] && used < len; i++) {
            int w = snprintf(buf + used, len - used, md ? "%s `%s`" : "%s %s", i ? "," : "one of",
                             s->choices[i]);
            if (w < 0)
                break;
            used += (size_t)w;
        }
        return;
    }
    int w;
    w = snprintf(buf, len, "%s", names[s->type]);
    if (has_range(s) && w >= 0 && (size_t)w < len) {
        char lo[32], hi[32];
        fmt_bound(s, s->min, lo, sizeof lo);
        fmt_bound(s, s->max, hi, sizeof hi);
        snprintf(buf + w, len - (size_t)w, ", %s..%s", lo, hi);
    }
}

/* Writes text with Markdown table cells' '|' escaped. */
static void md_cell(FILE *out, const char *text)
{
    for (const char *c = text; *c; c++) {
        if (*c == '|')
            fputc('\\', out);
        fputc(*c == '\n' ? ' ' : *c, out);
    }
}

int lc_conf_write_help(const struct lc_conf *conf, enum lc_conf_help format, FILE *out)
{
    const struct lc_conf_def *d = conf->def;
    const char *prog = d->program ? d->program : d->service;
    char type[256];
    if (format == LC_CONF_HELP_MARKDOWN) {
        fprintf(out, "| Flag | Environment variable | Type | Default | Description |\n");
        fprintf(out, "|---|---|---|---|---|\n");
        for (size_t k = 0; k < conf->n; k++) {
            const struct lc_conf_setting *s = conf->set[k];
            type_desc(s, true, type, sizeof type);
            fprintf(out, "| `--%s` | `%s` | ", s->name, conf->env[k]);
            md_cell(out, type);
            fputs(" | ", out);
            if (s->def) {
                fputc('`', out);
                md_cell(out, s->def);
                fputc('`', out);
            } else if (s->required) {
                fputs("*required*", out);
            }
            fputs(" | ", out);
            md_cell(out, s->help);
            fputs(" |\n", out);
        }
    } else {
        fprintf(out, "Usage: %s [FLAGS]%s%s\n", prog, d->args_usage ? " " : "",
                d->args_usage ? d->args_usage : "");
        if (d->summary)
            fprintf(out, "%s\n", d->summary);
        fprintf(out, "\nFlags (a flag wins over its environment variable, which wins over the "
                     "default):\n");
        for (size_t k = 0; k < conf->n; k++) {
            const struct lc_conf_setting *s = conf->set[k];
            type_desc(s, false, type, sizeof type);
            bool is_bool = s->type == LC_CONF_BOOL;
            fprintf(out, "  --%s%s%s\n", s->name, is_bool ? "" : " ", placeholder(s));
            fprintf(out, "      %s; ", type);
            if (s->def)
                fprintf(out, "default %s; ", s->def);
            else if (s->required)
                fprintf(out, "required; ");
            fprintf(out, "env %s\n      %s\n", conf->env[k], s->help);
        }
        fprintf(out, "  --help[=markdown]\n      Print this text, or the settings as a Markdown "
                     "table, and exit.\n");
    }
    return ferror(out) ? -EIO : 0;
}

/* ---- getters ---- */

static const struct val *get(const struct lc_conf *c, const char *name, int type)
{
    ssize_t k = find_setting(c, name, strlen(name));
    assert(k >= 0 && "no such setting");
    if (k < 0)
        return NULL;
    assert((type < 0 || (int)c->set[k]->type == type) && "setting read with the wrong type");
    if (type >= 0 && (int)c->set[k]->type != type)
        return NULL;
    return &c->vals[k];
}

bool lc_conf_is_set(const struct lc_conf *conf, const char *name)
{
    const struct val *v = get(conf, name, -1);
    return v && v->src != LC_CONF_UNSET;
}

enum lc_conf_source lc_conf_source(const struct lc_conf *conf, const char *name)
{
    const struct val *v = get(conf, name, -1);
    return v ? v->src : LC_CONF_UNSET;
}

const char *lc_conf_text(const struct lc_conf *conf, const char *name)
{
    const struct val *v = get(conf, name, -1);
    return v ? v->text : NULL;
}

const char *lc_conf_str(const struct lc_conf *conf, const char *name)
{
    ssize_t k = find_setting(conf, name, strlen(name));
    int type = k >= 0 && conf->set[k]->type == LC_CONF_PATH ? LC_CONF_PATH : LC_CONF_STRING;
    const struct val *v = get(conf, name, type);
    return v ? v->text : NULL;
}

int64_t lc_conf_int(const struct lc_conf *conf, const char *name)
{
    const struct val *v = get(conf, name, LC_CONF_INT);
    return v && v->src ? v->u.i : 0;
}

bool lc_conf_bool(const struct lc_conf *conf, const char *name)
{
    const struct val *v = get(conf, name, LC_CONF_BOOL);
    return v && v->src ? v->u.b : false;
}

int64_t lc_conf_duration_ms(const struct lc_conf *conf, const char *name)
{
    const struct val *v = get(conf, name, LC_CONF_DURATION);
    return v && v->src ? v->u.i : 0;
}

uint64_t lc_conf_size(const struct lc_conf *conf, const char *name)
{
    const struct val *v = get(conf, name, LC_CONF_SIZE);
    return v && v->src ? v->u.size : 0;
}

const char *lc_conf_enum(const struct lc_conf *conf, const char *name)
{
    const struct val *v = get(conf, name, LC_CONF_ENUM);
    return v ? v->text : NULL;
}

int lc_conf_enum_index(const struct lc_conf *conf, const char *name)
{
    const struct val *v = get(conf, name, LC_CONF_ENUM);
    return v && v->src ? v->u.choice : -1;
}

const char *lc_conf_addr_host(const struct lc_conf *conf, const char *name)
{
    const struct val *v = get(conf, name, LC_CONF_ADDR);
    return v ? v->host : NULL;
}

uint16_t lc_conf_addr_port(const struct lc_conf *conf, const char *name)
{
    const struct val *v = get(conf, name, LC_CONF_ADDR);
    return v && v->src ? v->port : 0;
}

size_t lc_conf_nargs(const struct lc_conf *conf)
{
    return conf->nargs;
}

const char *lc_conf_arg(const struct lc_conf *conf, size_t i)
{
    return i < conf->nargs ? conf->args[i] : NULL;
}
