/* SPDX-License-Identifier: Apache-2.0 */
/* weft.Committer over gRPC: the committed-block feed (Blocks) and the height (Height). */
#ifndef WEFT_COMMITTER_SERVER_H
#define WEFT_COMMITTER_SERVER_H

#include "libcommon/err.h"

struct committer;
struct committer_server;

/* Serves weft.Committer for c (which must outlive the server) on listen ("host:port", port 0
 * picks one), and hooks c's commits to wake the Blocks streams. Caller frees with
 * committer_server_free. */
int committer_server_start(struct committer *c, const char *listen, struct lc_errbuf *err,
                           struct committer_server **ret);

/* The bound port. */
int committer_server_port(const struct committer_server *s);

/* Shuts down (grace_ms for calls in flight) and frees; accepts NULL. Stop the block intake
 * first. */
void committer_server_free(struct committer_server *s, unsigned grace_ms);

#endif
