/* SPDX-License-Identifier: Apache-2.0 */
/* The orderer.AtomicBroadcast service: Broadcast and Deliver over the registrar's chains. */
#ifndef ORDERER_SERVICE_H
#define ORDERER_SERVICE_H

#include <stdint.h>

#include "libcommon/err.h"
#include "libcommon/rpc.h"

#include "pool.h"
#include "registrar.h"

/*
 * The context both methods run in; the caller fills it, keeps it alive until the RPC server
 * has shut down and the pool has drained, and never changes it while serving.
 *
 * Threads: RPC callbacks only copy what arrived and schedule the stream's task on the pool.
 * The task checks envelopes (signature verification), hands them to the chain, reads blocks
 * from the store and queues responses with the RPC wrapper's non-blocking send, resuming from
 * on_writable or a block store notification. No RPC worker ever waits for disk, a lock held
 * long, or a slow client; no stream buffers more than the wrapper's bounded send queue plus
 * `broadcast_window` received envelopes.
 */
struct orderer_service {
    struct orderer_registrar *reg;
    struct orderer_pool *pool;
    int64_t time_window_ms;    /* Deliver: how far a SeekInfo timestamp may be from now */
    unsigned broadcast_window; /* Broadcast: envelopes read ahead per stream (0: 32) */
};

/* Registers /orderer.AtomicBroadcast/Broadcast and /orderer.AtomicBroadcast/Deliver on srv
 * (before it starts). Errors are lc_rpc_server_add's. */
int orderer_service_register(struct lc_rpc_server *srv, struct orderer_service *svc,
                             struct lc_errbuf *err);

/* Each method's row, for orderer_service_register (defined in broadcast.c and deliver.c). */
extern const struct lc_rpc_method orderer_broadcast_method;
extern const struct lc_rpc_method orderer_deliver_method;

#endif
