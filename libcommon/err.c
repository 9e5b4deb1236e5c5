/* SPDX-License-Identifier: Apache-2.0 */
/* Error names and cause messages. */
#include "libcommon/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const names[] = {
    [LC_EDECODE - LC_EDECODE] = "malformed input",
    [LC_EINVALID - LC_EDECODE] = "invalid value",
    [LC_ETOOBIG - LC_EDECODE] = "too large",
    [LC_EBADSIG - LC_EDECODE] = "bad signature",
    [LC_EHIGHS - LC_EDECODE] = "high-S signature",
    [LC_EBADKEY - LC_EDECODE] = "unusable key",
    [LC_EBADCERT - LC_EDECODE] = "invalid certificate",
    [LC_EEXPIRED - LC_EDECODE] = "certificate expired or not yet valid",
    [LC_EREVOKED - LC_EDECODE] = "certificate revoked",
    [LC_EUNKNOWNMSP - LC_EDECODE] = "unknown MSP",
    [LC_EROLE - LC_EDECODE] = "identity role check failed",
    [LC_EPOLICY - LC_EDECODE] = "policy not satisfied",
    [LC_ESYNTAX - LC_EDECODE] = "syntax error",
    [LC_ENOTFOUND - LC_EDECODE] = "not found",
    [LC_EEXISTS - LC_EDECODE] = "already exists",
    [LC_ECRYPTO - LC_EDECODE] = "crypto library failure",
    [LC_EMAPFULL - LC_EDECODE] = "storage map full",
    [LC_ECORRUPT - LC_EDECODE] = "stored data corrupt",
    [LC_EUNAVAIL - LC_EDECODE] = "unavailable",
    [LC_ECLOSED - LC_EDECODE] = "closed",
    [LC_ETIMEOUT - LC_EDECODE] = "timed out",
    [LC_EMISMATCH - LC_EDECODE] = "mismatch",
};

const char *lc_strerror(int code)
{
    if (code == 0)
        return "ok";
    if (code >= LC_EDECODE && code < LC__ELAST)
        return names[code - LC_EDECODE];
    if (code < 0 && code > -4096)
        return strerror(-code);
    return "unknown error";
}

int lc_fail(struct lc_errbuf *eb, int code, const char *fmt, ...)
{
    if (eb) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(eb->msg, sizeof eb->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

void lc_errbuf_prefix(struct lc_errbuf *eb, const char *fmt, ...)
{
    if (!eb)
        return;
    char pre[sizeof eb->msg];
    char old[sizeof eb->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    memcpy(old, eb->msg, sizeof old);
    old[sizeof old - 1] = '\0';
    size_t n = strnlen(pre, sizeof eb->msg - 1);
    memcpy(eb->msg, pre, n);
    size_t room = sizeof eb->msg - 1 - n;
    size_t m = strnlen(old, room);
    memcpy(eb->msg + n, old, m);
    eb->msg[n + m] = '\0';
}
