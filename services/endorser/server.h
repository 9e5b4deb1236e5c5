/* SPDX-License-Identifier: Apache-2.0 */
/* The endorser's gRPC service: protos.Endorser/ProcessProposal answered from a worker pool. */
#ifndef ENDORSER_SERVER_H
#define ENDORSER_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "libcommon/err.h"

struct endorser;
struct endorser_server;

struct endorser_server_opts {
    const char *listen;     /* "host:port"; port 0 picks one */
    unsigned workers;       /* proposal worker threads: 2 */
    unsigned rpc_threads;   /* gRPC completion-queue threads: 1 */
    unsigned queue_max;     /* proposals waiting for a worker before UNAVAILABLE: 1024 */
    size_t queue_bytes_max; /* and their encoded bytes (one is always taken): 256 MiB */
    size_t max_msg_bytes;   /* gRPC message limit both ways: LC_RPC_DEFAULT_MAX_MSG */
};

/* Starts serving e (which must outlive the server): the gRPC threads queue each call for the
 * workers (bounded in count and bytes: a full queue answers UNAVAILABLE "endorser busy"); a
 * worker runs endorser_process and answers from its own thread. Fails with LC_EUNAVAIL when the
 * address cannot be bound. Caller stops and frees with endorser_server_free. */
int endorser_server_start(struct endorser *e, const struct endorser_server_opts *o,
                          struct lc_errbuf *err, struct endorser_server **ret);

/* The bound port. */
int endorser_server_port(const struct endorser_server *s);

/* Holds the workers (queued calls wait; new ones queue until the queue is full) or lets them go
 * again: for maintenance, and for tests of the full-queue answer. */
void endorser_server_pause(struct endorser_server *s, bool paused);

/* How many calls are queued for a worker now. */
unsigned endorser_server_queued(struct endorser_server *s);

/* Stops taking calls, lets the workers answer what is queued (up to grace_ms), joins them and
 * frees; accepts NULL. */
void endorser_server_free(struct endorser_server *s, unsigned grace_ms);

#endif
