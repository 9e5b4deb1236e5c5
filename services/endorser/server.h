/* SPDX-License-Identifier: Apache-2.0 */
/* The endorser's gRPC service: protos.Endorser/ProcessProposal answered from a worker pool. */
#ifndef ENDORSER_SERVER_H
#define ENDORSER_SERVER_H

#include <stddef.h>

#include "libcommon/err.h"

struct endorser;
struct endorser_server;

struct endorser_server_opts {
    const char *listen;   /* "host:port"; port 0 picks one */
    unsigned workers;     /* proposal worker threads: 2 */
    unsigned rpc_threads; /* gRPC completion-queue threads: 1 */
    unsigned queue_max;   /* proposals waiting for a worker before UNAVAILABLE: 1024 */
    size_t max_msg_bytes; /* gRPC message limit both ways: LC_RPC_DEFAULT_MAX_MSG */
};

/* Starts serving e (which must outlive the server): the gRPC server calls on_request on its
 * own threads, which queue the call (bounded: a full queue answers UNAVAILABLE "endorser busy")
 * for the workers; a worker runs endorser_process and answers from its thread. Fails with
 * LC_EUNAVAIL when the address cannot be bound. Caller stops and frees with
 * endorser_server_free. */
int endorser_server_start(struct endorser *e, const struct endorser_server_opts *o,
                          struct lc_errbuf *err, struct endorser_server **ret);

/* The bound port. */
int endorser_server_port(const struct endorser_server *s);

/* Stops taking calls, lets the workers answer what is queued (up to grace_ms), joins them and
 * frees; accepts NULL. */
void endorser_server_free(struct endorser_server *s, unsigned grace_ms);

#endif
