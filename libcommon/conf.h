/* SPDX-License-Identifier: Apache-2.0 */
/* Settings for daemons and tools: a declared table, filled from flags, WEFT_* variables, defaults.
 */
#ifndef LC_CONF_H
#define LC_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "libcommon/err.h"

enum lc_conf_type {
    LC_CONF_STRING,   /* any text, empty allowed */
    LC_CONF_INT,      /* decimal int64, within [min, max] when a range is given */
    LC_CONF_BOOL,     /* true/false, yes/no, on/off, 1/0; a bare --flag means true */
    LC_CONF_DURATION, /* "500ms", "2s", "1m30s", "1h" (units ms s m h); kept in milliseconds */
    LC_CONF_SIZE,     /* "512", "512B", "64KiB", "10MB", "1 GB"; K/KB/KiB all mean 1024 */
    LC_CONF_ENUM,     /* one of the words in `choices` */
    LC_CONF_PATH,     /* a non-empty file system path (existence is the caller's business) */
    LC_CONF_ADDR,     /* "host:port", "[v6addr]:port" or ":port"; port 0..65535 */
};

/* One setting, as a service declares it in a static const table. */
struct lc_conf_setting {
    const char *name; /* flag name without dashes: "listen", "max-msg-size" */
    const char *env;  /* NULL: WEFT_<SERVICE>_<NAME>, upper case, '-' as '_' */
    enum lc_conf_type type;
    const char *def;  /* default as text, parsed like any value; NULL: unset unless given */
    bool required;    /* must come from a flag or the environment (needs def == NULL) */
    int64_t min, max; /* range for INT (the number), SIZE (bytes), DURATION (ms); 0,0: none */
    const char *const *choices; /* ENUM: the allowed words, NULL-terminated */
    const char *help;           /* one sentence for --help and the Markdown table */
};

/* What a program declares: its settings and how it is called. */
struct lc_conf_def {
    const char *service;    /* "endorser": names the env prefix WEFT_ENDORSER_ */
    const char *program;    /* shown in the usage line; NULL: the service name */
    const char *summary;    /* one line under the usage line */
    const char *args_usage; /* positional arguments ("CHANNEL KEY"); NULL: none accepted */
    const struct lc_conf_setting *settings;
    size_t n_settings;
};

/* Where a setting's value came from. */
enum lc_conf_source { LC_CONF_UNSET, LC_CONF_DEFAULT, LC_CONF_ENV, LC_CONF_FLAG };

/* What --help asked for. */
enum lc_conf_help { LC_CONF_HELP_NONE, LC_CONF_HELP_TEXT, LC_CONF_HELP_MARKDOWN };

struct lc_conf;

/* Every table also gets these two settings, applied to the log module by lc_conf_parse:
 * --log-spec (env WEFT_LOGGING_SPEC, default "info", see lc_log_spec_set) and
 * --log-format (env WEFT_LOGGING_FORMAT, text or json). */
#define LC_CONF_LOG_SPEC "log-spec"
#define LC_CONF_LOG_FORMAT "log-format"

/* Checks the table and sets every setting to its default. def (and its table) must outlive the
 * object. Rejects, with the setting named in err: a bad or duplicate name (also "help" and the
 * log settings), a required setting with a default, an ENUM without choices, min > max, a
 * default that does not parse or is out of range. Caller frees the result with lc_conf_free. */
int lc_conf_new(const struct lc_conf_def *def, struct lc_conf **ret_conf, struct lc_errbuf *err);

/* Accepts NULL. */
void lc_conf_free(struct lc_conf *conf);

/* Reads argv (argv[0] is the program and is skipped) and then envp (a NULL-terminated list of
 * "NAME=value"; NULL means the process environment). A flag wins over its variable, a variable
 * over the default; an empty variable counts as unset. Accepts --name=value, --name value, a bare
 * --name for booleans, "--" to end the flags; later flags win over earlier ones. --help, -h,
 * --help=text and --help=markdown stop parsing and only record the request (see
 * lc_conf_help_requested). Rejects, naming the flag or variable and why: an unknown flag, a
 * missing value, a value that does not parse as its type, one out of range (with the range), an
 * enum word not in the list (with the list), a variable WEFT_<SERVICE>_* that names no setting, a
 * positional argument when the program takes none, a required setting left unset, and a log spec
 * the log module refuses. On success the log spec and format are applied to the log module; on
 * failure nothing changes, in conf or in the log module. Each call starts again from the
 * defaults. */
int lc_conf_parse(struct lc_conf *conf, int argc, char *const argv[], char *const envp[],
                  struct lc_errbuf *err);

/* LC_CONF_HELP_NONE unless the last lc_conf_parse saw a help flag. */
enum lc_conf_help lc_conf_help_requested(const struct lc_conf *conf);

/* Writes the usage line and every setting with its type, default, variable and help text
 * (LC_CONF_HELP_TEXT), or one Markdown table row per setting (LC_CONF_HELP_MARKDOWN), for the
 * README's per-daemon settings section. Returns 0 or -EIO if writing failed. */
int lc_conf_write_help(const struct lc_conf *conf, enum lc_conf_help format, FILE *out);

/* Typed getters by flag name. Asking for a name the table does not have, or with the wrong
 * type, is a programmer error (assert); such calls return 0, false or NULL. An unset setting
 * reads as 0, false or NULL. Returned strings belong to conf and live until the next parse. */
bool lc_conf_is_set(const struct lc_conf *conf, const char *name);
enum lc_conf_source lc_conf_source(const struct lc_conf *conf, const char *name);
/* The value as text, for any type (as given, e.g. "10MB"). */
const char *lc_conf_text(const struct lc_conf *conf, const char *name);
/* STRING and PATH. */
const char *lc_conf_str(const struct lc_conf *conf, const char *name);
int64_t lc_conf_int(const struct lc_conf *conf, const char *name);
bool lc_conf_bool(const struct lc_conf *conf, const char *name);
int64_t lc_conf_duration_ms(const struct lc_conf *conf, const char *name);
uint64_t lc_conf_size(const struct lc_conf *conf, const char *name);
/* ENUM: the chosen word, and its index in choices (-1 if unset). */
const char *lc_conf_enum(const struct lc_conf *conf, const char *name);
int lc_conf_enum_index(const struct lc_conf *conf, const char *name);
/* ADDR: host without brackets ("" for ":port") and port. Both NULL/0 if unset. */
const char *lc_conf_addr_host(const struct lc_conf *conf, const char *name);
uint16_t lc_conf_addr_port(const struct lc_conf *conf, const char *name);

/* Positional arguments left after the flags, in order. */
size_t lc_conf_nargs(const struct lc_conf *conf);
const char *lc_conf_arg(const struct lc_conf *conf, size_t i);

#endif
