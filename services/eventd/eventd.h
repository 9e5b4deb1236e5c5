/* SPDX-License-Identifier: Apache-2.0 */
/* eventd's Deliver service: protos.Deliver on an RPC server, blocks from a committer. */
#ifndef EVENTD_H
#define EVENTD_H

#include <stdint.h>

#include "libcommon/err.h"

struct lc_chconf;
struct lc_rpc_server;
struct eventd;

struct eventd_opts {
    const struct lc_chconf *chconf; /* the channel served; must outlive the service */
    const char *committer;          /* "host:port" of weft.Committer */
    int64_t time_window_ms;         /* allowed distance of a request's timestamp from now */
    size_t cache_blocks;            /* recent blocks kept in memory (0: 1) */
};

/* Registers protos.Deliver/Deliver and /DeliverFiltered on rpc (not started yet). Caller frees
 * with eventd_free after the server has been shut down. */
int eventd_new(const struct eventd_opts *o, struct lc_rpc_server *rpc, struct lc_errbuf *err,
               struct eventd **ret);
/* Waits for every subscriber thread to end (the server must be shut down), frees. NULL ok. */
void eventd_free(struct eventd *ed);

#endif
