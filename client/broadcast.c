/* SPDX-License-Identifier: Apache-2.0 */
/* Broadcast: hand a transaction envelope to an orderer, failing over to the next. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/internal.h"
#include "libcommon/crypto.h"
#include "libcommon/log.h"
#include "libcommon/rpc.h"
#include "orderer/ab.pb-c.h"

#define BROADCAST_PATH "/orderer.AtomicBroadcast/Broadcast"

const char *wc_status_name(int32_t status)
{
    switch (status) {
    case COMMON__STATUS__SUCCESS:
        return "SUCCESS";
    case COMMON__STATUS__BAD_REQUEST:
        return "BAD_REQUEST";
    case COMMON__STATUS__FORBIDDEN:
        return "FORBIDDEN";
    case COMMON__STATUS__NOT_FOUND:
        return "NOT_FOUND";
    case COMMON__STATUS__REQUEST_ENTITY_TOO_LARGE:
        return "REQUEST_ENTITY_TOO_LARGE";
    case COMMON__STATUS__INTERNAL_SERVER_ERROR:
        return "INTERNAL_SERVER_ERROR";
    case COMMON__STATUS__NOT_IMPLEMENTED:
        return "NOT_IMPLEMENTED";
    case COMMON__STATUS__SERVICE_UNAVAILABLE:
        return "SERVICE_UNAVAILABLE";
    default:
        return "UNKNOWN";
    }
}

/* One attempt on one orderer: 0 and the response, or an error with the cause in why. */
static int broadcast_one(struct wc_node *node, const Common__Envelope *env, int timeout_ms,
                         struct lc_errbuf *why, Orderer__BroadcastResponse **ret)
{
    struct lc_rpc_stream *st = NULL;
    struct lc_rpc_status status = {0};
    ProtobufCMessage *m = NULL;
    int r = lc_rpc_stream_open(wc_internal_node_rpc(node), BROADCAST_PATH, timeout_ms, &st);
    if (r < 0)
        return lc_fail(why, r, "%s", lc_strerror(r));
    r = lc_rpc_stream_send(st, &env->base, timeout_ms);
    if (r == 0)
        r = lc_rpc_stream_close_send(st, timeout_ms);
    if (r == 0 || r == LC_ECLOSED)
        r = lc_rpc_stream_recv(st, &orderer__broadcast_response__descriptor, timeout_ms, &m);
    if (r == 0) {
        *ret = (Orderer__BroadcastResponse *)m;
        goto out;
    }
    if (r == -EAGAIN) {
        r = lc_fail(why, LC_ETIMEOUT, "no answer in %d ms", timeout_ms);
        goto out;
    }
    if (r == LC_ECLOSED) {
        r = lc_fail(why, -EREMOTEIO, "the stream ended without a response");
        goto out;
    }
    if (lc_rpc_stream_status(st, 0, &status) != -EAGAIN)
        r = lc_fail(why, r, "%s: %s", lc_rpc_code_name(status.code),
                    status.msg[0] ? status.msg : lc_strerror(r));
    else
        r = lc_fail(why, r, "%s", lc_strerror(r));
out:
    lc_rpc_stream_free(st);
    return r;
}

int wc_broadcast(struct wc_node *const *orderers, size_t n, const uint8_t *env_bytes, size_t len,
                 enum wc_order order, int timeout_ms, struct lc_errbuf *err,
                 struct wc_broadcast_result *ret)
{
    if (n == 0)
        return lc_fail(err, LC_EINVALID, "broadcast: no orderers");
    ProtobufCMessage *m = NULL;
    struct lc_errbuf why;
    int r = lc_wire_unpack(&common__envelope__descriptor, env_bytes, len, &m, &why);
    if (r < 0)
        return lc_fail(err, r, "broadcast: %s", why.msg);
    Common__Envelope *env = (Common__Envelope *)m;
    if (timeout_ms <= 0)
        timeout_ms = WC_DEFAULT_TIMEOUT_MS;

    size_t start = 0;
    if (order == WC_ORDER_RANDOM && n > 1) {
        uint32_t rnd;
        r = lc_random_bytes(&rnd, sizeof rnd);
        if (r < 0) {
            r = lc_fail(err, r, "broadcast: no randomness");
            goto out;
        }
        start = rnd % n;
    }
    char causes[sizeof err->msg] = "";
    size_t clen = 0;
    bool have_503 = false;
    struct wc_broadcast_result last = {0};
    for (size_t k = 0; k < n; k++) {
        size_t i = (start + k) % n;
        Orderer__BroadcastResponse *resp = NULL;
        r = broadcast_one(orderers[i], env, timeout_ms, &why, &resp);
        if (r == 0) {
            struct wc_broadcast_result res = {
                .status = resp->status, .orderer = i, .failed_over = k};
            snprintf(res.info, sizeof res.info, "%s", resp->info ? resp->info : "");
            orderer__broadcast_response__free_unpacked(resp, NULL);
            lc_log_debug("client", "broadcast orderer=%s status=%d", wc_node_name(orderers[i]),
                         (int)res.status);
            if (res.status != COMMON__STATUS__SERVICE_UNAVAILABLE) {
                *ret = res;
                goto out;
            }
            have_503 = true;
            last = res;
            snprintf(why.msg, sizeof why.msg, "SERVICE_UNAVAILABLE: %s", res.info);
        }
        lc_log_debug("client", "broadcast failed, trying the next orderer orderer=%s cause=%s",
                     wc_node_name(orderers[i]), why.msg);
        if (clen < sizeof causes - 1) {
            int w = snprintf(causes + clen, sizeof causes - clen, "%s%s: %s", clen ? "; " : "",
                             wc_node_name(orderers[i]), why.msg);
            clen = w < 0 ? clen : clen + (size_t)w;
            if (clen >= sizeof causes)
                clen = sizeof causes - 1;
        }
    }
    if (have_503) {
        *ret = last;
        r = 0;
        goto out;
    }
    r = lc_fail(err, LC_EUNAVAIL, "broadcast: no orderer took the transaction: %s", causes);
out:
    common__envelope__free_unpacked(env, NULL);
    return r;
}
