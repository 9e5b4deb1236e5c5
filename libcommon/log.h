/* SPDX-License-Identifier: Apache-2.0 */
/* Logging: one line per event on stderr, levels per module, text or JSON. */
#ifndef LC_LOG_H
#define LC_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "libcommon/err.h"

enum lc_log_level { LC_LOG_DEBUG = 0, LC_LOG_INFO, LC_LOG_WARN, LC_LOG_ERROR, LC_LOG_OFF };

/* Sets the level spec, Fabric style: "info" or "warn:orderer=debug:rpc,kv=error" (a default
 * level, then module=level pairs; a module list may be comma-separated). Rejects unknown level
 * names and over-long specs with the cause in err; on error the old spec stays in force. */
int lc_log_spec_set(const char *spec, struct lc_errbuf *err);

/* Writes the spec in force into buf (truncated to len). */
void lc_log_spec_get(char *buf, size_t len);

/* Text lines (default) or one JSON object per line. */
void lc_log_set_json(bool json);

bool lc_log_enabled(const char *module, enum lc_log_level level);

/* Writes one line: time, level, module, then the formatted event (by convention
 * "what happened key=value key=value"). Safe from any thread. */
void lc_log_write(enum lc_log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define LC_LOG_AT(lvl, mod, ...)                                                                   \
    do {                                                                                           \
        if (lc_log_enabled((mod), (lvl)))                                                          \
            lc_log_write((lvl), (mod), __VA_ARGS__);                                               \
    } while (0)
#define lc_log_debug(mod, ...) LC_LOG_AT(LC_LOG_DEBUG, mod, __VA_ARGS__)
#define lc_log_info(mod, ...) LC_LOG_AT(LC_LOG_INFO, mod, __VA_ARGS__)
#define lc_log_warn(mod, ...) LC_LOG_AT(LC_LOG_WARN, mod, __VA_ARGS__)
#define lc_log_err(mod, ...) LC_LOG_AT(LC_LOG_ERROR, mod, __VA_ARGS__)

#endif
