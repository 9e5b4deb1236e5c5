/* SPDX-License-Identifier: Apache-2.0 */
/* gRPC for weft: a server that runs a table of protobuf-c handlers, and a blocking client. */
#ifndef LC_RPC_H
#define LC_RPC_H

/*
 * This is the only module that talks to the gRPC C core. Services never see a completion queue,
 * a tag or a grpc_call: a server runs a table of methods whose handlers get decoded protobuf-c
 * messages and a call context (struct lc_rpc_call); a client sends and receives protobuf-c
 * messages with deadlines and gets gRPC status codes back.
 *
 * Server threading. The server runs `threads` worker threads. All callbacks of one call run on
 * the same worker thread and never concurrently with each other. Callbacks must not block
 * (no waiting for disk, locks held for long, or other calls): hand slow work to your own threads,
 * holding a reference to the call (lc_rpc_call_ref), and answer from there. lc_rpc_reply,
 * lc_rpc_send, lc_rpc_send_raw and lc_rpc_finish may be called from any thread, including from
 * inside the call's own callbacks, as long as the caller holds a reference or is in a callback.
 *
 * Error codes are those of libcommon/err.h and -errno. gRPC status codes appear as
 * enum lc_rpc_code; lc_rpc_code_from_err and lc_rpc_err_from_code are the one place where the two
 * spaces are translated.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "libcommon/err.h"

/* gRPC status codes (same numbers as on the wire). */
enum lc_rpc_code {
    LC_RPC_OK = 0,
    LC_RPC_CANCELLED = 1,
    LC_RPC_UNKNOWN = 2,
    LC_RPC_INVALID_ARGUMENT = 3,
    LC_RPC_DEADLINE_EXCEEDED = 4,
    LC_RPC_NOT_FOUND = 5,
    LC_RPC_ALREADY_EXISTS = 6,
    LC_RPC_PERMISSION_DENIED = 7,
    LC_RPC_RESOURCE_EXHAUSTED = 8,
    LC_RPC_FAILED_PRECONDITION = 9,
    LC_RPC_ABORTED = 10,
    LC_RPC_OUT_OF_RANGE = 11,
    LC_RPC_UNIMPLEMENTED = 12,
    LC_RPC_INTERNAL = 13,
    LC_RPC_UNAVAILABLE = 14,
    LC_RPC_DATA_LOSS = 15,
    LC_RPC_UNAUTHENTICATED = 16,
};

/* Fabric's default for both directions; used when a size option is 0. */
#define LC_RPC_DEFAULT_MAX_MSG (100u * 1024u * 1024u)

/* The final status of a call as a client saw it. msg is always NUL-terminated (maybe empty). */
struct lc_rpc_status {
    enum lc_rpc_code code;
    char msg[256];
};

/* "UNAVAILABLE", "OK", ...; "UNKNOWN_CODE" for numbers outside 0..16. Never NULL. */
const char *lc_rpc_code_name(enum lc_rpc_code code);

/* Our error code (err.h or -errno) as the gRPC status a server should answer with:
 * 0 -> OK, LC_EDECODE/LC_EINVALID/LC_ESYNTAX -> INVALID_ARGUMENT, LC_ENOTFOUND -> NOT_FOUND,
 * LC_EEXISTS -> ALREADY_EXISTS, LC_EBADSIG/LC_EHIGHS/LC_EBADCERT/LC_EEXPIRED/LC_EREVOKED/
 * LC_EUNKNOWNMSP/LC_EROLE/LC_EBADKEY -> UNAUTHENTICATED, LC_EPOLICY/-EACCES/-EPERM ->
 * PERMISSION_DENIED, LC_ETOOBIG/LC_EMAPFULL/-ENOMEM/-EAGAIN -> RESOURCE_EXHAUSTED,
 * LC_EUNAVAIL/LC_ECLOSED -> UNAVAILABLE, LC_ETIMEOUT -> DEADLINE_EXCEEDED,
 * LC_EMISMATCH -> FAILED_PRECONDITION, -ECANCELED -> CANCELLED, -ENOSYS -> UNIMPLEMENTED,
 * anything else -> INTERNAL. */
enum lc_rpc_code lc_rpc_code_from_err(int err);

/* A gRPC status as one of our error codes, for callers that only branch on the return value:
 * OK -> 0, UNAVAILABLE -> LC_EUNAVAIL, DEADLINE_EXCEEDED -> LC_ETIMEOUT, INVALID_ARGUMENT ->
 * LC_EINVALID, NOT_FOUND -> LC_ENOTFOUND, ALREADY_EXISTS -> LC_EEXISTS, RESOURCE_EXHAUSTED ->
 * LC_ETOOBIG, PERMISSION_DENIED/UNAUTHENTICATED -> -EACCES, CANCELLED -> -ECANCELED,
 * UNIMPLEMENTED -> -ENOSYS, anything else -> -EREMOTEIO. Never returns -EAGAIN or LC_ECLOSED. */
int lc_rpc_err_from_code(enum lc_rpc_code code);

/* TLS settings, reserved: TLS and mutual TLS are not implemented yet. Passing a non-NULL
 * `tls` in the options below fails with -ENOTSUP today; the fields say what will be used. */
struct lc_rpc_tls {
    const char *cert_pem;     /* our certificate chain, PEM */
    const char *key_pem;      /* its private key, PEM */
    const char *ca_pem;       /* roots that sign the other side's certificate, PEM */
    bool require_client_cert; /* server: mutual TLS */
    const char *server_name;  /* client: the name to check in the server certificate (NULL: host) */
};

/* ------------------------------------------------------------------------------------------ */
/* Server                                                                                     */
/* ------------------------------------------------------------------------------------------ */

struct lc_rpc_server;
struct lc_rpc_call;

/* Server settings. Zero in any field means the default given next to it; the struct is read
 * by lc_rpc_server_new and not kept. */
struct lc_rpc_server_opts {
    const char *listen;            /* "host:port" (required); port 0 picks a free port */
    unsigned threads;              /* worker threads, each with its own completion queue: 1 */
    size_t max_recv_bytes;         /* largest request message: LC_RPC_DEFAULT_MAX_MSG */
    size_t max_send_bytes;         /* largest response message: LC_RPC_DEFAULT_MAX_MSG */
    unsigned send_queue_msgs;      /* per streaming call, queued responses: 64 */
    size_t send_queue_bytes;       /* per streaming call, queued response bytes: 16 MiB */
    unsigned min_ping_interval_ms; /* accept client pings this often, even idle: 10000 */
    unsigned keepalive_ms;         /* ping idle clients this often: 7200000 (2 h) */
    unsigned keepalive_timeout_ms; /* and drop them if no answer within: 20000 */
    const struct lc_rpc_tls *tls;  /* NULL: plaintext (the only choice for now) */
};

/* What a method streams. */
enum lc_rpc_kind {
    LC_RPC_UNARY,         /* one request, one response */
    LC_RPC_SERVER_STREAM, /* one request, any number of responses */
    LC_RPC_BIDI_STREAM,   /* any number of each, interleaved */
};

/*
 * One row of a service's method table. The table and everything it points to must outlive the
 * server (declare it `static const`). Callbacks a kind does not use must be NULL.
 *
 * Life of a call, per kind:
 *  UNARY:         on_request(req) -> (lc_rpc_reply or lc_rpc_finish, now or later) -> on_done.
 *  SERVER_STREAM: on_request(req) -> lc_rpc_send* (+ on_writable) -> lc_rpc_finish -> on_done.
 *  BIDI_STREAM:   on_open -> on_message* -> on_half_close -> ... -> lc_rpc_finish -> on_done;
 *                 sends and the finish may come at any point after on_open.
 * on_done comes exactly once for every call whose on_request/on_open ran, after the call has
 * ended for any reason (finished, cancelled by the client, deadline passed, server shutdown);
 * free per-call state there. Calls the wrapper answers itself (unknown method, request that does
 * not decode, deadline already past on arrival) never reach a callback.
 */
struct lc_rpc_method {
    const char *path; /* "/orderer.AtomicBroadcast/Broadcast" */
    enum lc_rpc_kind kind;
    const ProtobufCMessageDescriptor *request; /* every request message is decoded with this */

    /* UNARY, SERVER_STREAM (required): the decoded request. req is owned by the call and stays
     * valid until the call's last reference is dropped (so a worker holding a ref may use it).
     * A unary handler must answer (lc_rpc_reply or lc_rpc_finish) before it returns, or take a
     * reference and answer later; if it returns without either, the wrapper answers INTERNAL. */
    void (*on_request)(struct lc_rpc_call *call, const ProtobufCMessage *req);

    /* BIDI_STREAM (required): the client opened the stream. */
    void (*on_open)(struct lc_rpc_call *call);
    /* BIDI_STREAM (required): one decoded request message, owned by the wrapper and freed when
     * the callback returns. A message that does not decode ends the call with INVALID_ARGUMENT
     * (after already queued responses) and no on_message. The next message is read only after
     * this returns, and not while the call's send queue is full or reading is paused. */
    void (*on_message)(struct lc_rpc_call *call, const ProtobufCMessage *msg);
    /* BIDI_STREAM (optional): the client will send no more messages. The call stays open until
     * the service finishes it (a Fabric Deliver client half-closes right after its SeekInfo). */
    void (*on_half_close)(struct lc_rpc_call *call);

    /* Streams (optional): after lc_rpc_send returned -EAGAIN, the send queue has drained to half
     * its size or less. Fires once per -EAGAIN episode; not after lc_rpc_finish, and not if the
     * call ends first (on_done comes instead). */
    void (*on_writable)(struct lc_rpc_call *call);
    /* Any kind (optional): the call is over. cancelled is true when it did not end with the
     * status the service set (client cancel, deadline, connection loss, shutdown). Sends and
     * finishes after this return LC_ECLOSED. */
    void (*on_done)(struct lc_rpc_call *call, bool cancelled);
};

/* Creates a server (not yet listening) and takes a reference on the gRPC library.
 * Rejects a NULL or empty listen address, a size option over INT32_MAX, threads > 64 and a
 * non-NULL tls (-ENOTSUP for now), with the cause in err. Caller frees with lc_rpc_server_free. */
int lc_rpc_server_new(const struct lc_rpc_server_opts *opts, struct lc_errbuf *err,
                      struct lc_rpc_server **ret_server);

/* Registers a service: n methods from a static table, and ctx, which lc_rpc_call_ctx returns in
 * every call to them. Only before lc_rpc_server_start. Rejects paths that do not look like
 * "/package.Service/Method", a NULL request descriptor, missing or extra callbacks for the kind,
 * and registration after start (LC_EINVALID); paths registered twice, also across services
 * (LC_EEXISTS). */
int lc_rpc_server_add(struct lc_rpc_server *server, const struct lc_rpc_method *methods, size_t n,
                      void *ctx, struct lc_errbuf *err);

/* Binds the listen address, starts the worker threads and begins serving. Fails with
 * LC_EUNAVAIL (cause in err) when the address cannot be bound, including a port already in use
 * (SO_REUSEPORT is off). May be called once. */
int lc_rpc_server_start(struct lc_rpc_server *server, struct lc_errbuf *err);

/* The port bound by lc_rpc_server_start (the one picked, for port 0); 0 before start. */
int lc_rpc_server_port(const struct lc_rpc_server *server);

/* Stops the server: refuses new calls at once, waits up to grace_ms for calls in flight to end,
 * then ends the rest with UNAVAILABLE "server shutting down" (queued messages are dropped) and,
 * if they still have not ended a second later (a client that does not read), cancels them; waits
 * until every outstanding operation has drained and the worker threads have exited. After it
 * returns no callback runs again. Safe to call twice (the second call waits for the first) and from
 * any thread except a worker (a callback), e.g. a signal-waiting thread. */
void lc_rpc_server_shutdown(struct lc_rpc_server *server, unsigned grace_ms);

/* Shuts down with grace 0 if that has not happened, frees the server and drops its reference
 * on the gRPC library. Call references still held by services stay valid (their calls are over).
 * Accepts NULL. */
void lc_rpc_server_free(struct lc_rpc_server *server);

/* --- the call context, for handlers --- */

/* Takes a reference, to keep the call (and a unary request) past the callback that got it. */
struct lc_rpc_call *lc_rpc_call_ref(struct lc_rpc_call *call);
/* Drops one; the call is freed with the last. Accepts NULL. */
void lc_rpc_call_unref(struct lc_rpc_call *call);

/* The ctx given to lc_rpc_server_add for this call's service. */
void *lc_rpc_call_ctx(const struct lc_rpc_call *call);
/* Per-call pointer for the service, NULL until set; the wrapper never touches what it points to
 * (free it in on_done). */
void lc_rpc_call_set_data(struct lc_rpc_call *call, void *data);
void *lc_rpc_call_data(const struct lc_rpc_call *call);
/* The method path, e.g. "/protos.Endorser/ProcessProposal". Valid for the call's life. */
const char *lc_rpc_call_method(const struct lc_rpc_call *call);
/* The client's address as gRPC names it ("ipv4:127.0.0.1:41234"). Valid for the call's life. */
const char *lc_rpc_call_peer(const struct lc_rpc_call *call);
/* Milliseconds left before the client's deadline: INT64_MAX when it set none, <= 0 when past. */
int64_t lc_rpc_call_time_left_ms(const struct lc_rpc_call *call);

/* The encoded bytes of the request being handled: for UNARY and SERVER_STREAM the request
 * (valid as long as req is), for BIDI_STREAM the current message (valid during on_message).
 * Lets a service forward what it received without packing it again. Fails with -ENOENT outside
 * those windows. */
int lc_rpc_call_request_bytes(const struct lc_rpc_call *call, const uint8_t **ret_data,
                              size_t *ret_len);

/* UNARY: answers with msg (packed here; the caller keeps msg) and status OK. Returns 0;
 * LC_ECLOSED if the call was already answered or is over (a late answer after the deadline or a
 * cancel is dropped this way); LC_ETOOBIG if msg packs larger than max_send_bytes and -ENOMEM,
 * in which cases the call is still open and the handler should lc_rpc_finish it; -EINVAL for a
 * streaming call. */
int lc_rpc_reply(struct lc_rpc_call *call, const ProtobufCMessage *msg);

/* Streams: queues msg (packed here; the caller keeps msg) behind those already queued. Never
 * blocks. Returns 0; -EAGAIN when the per-call queue is full (send_queue_msgs or
 * send_queue_bytes; a message is always accepted into an empty queue): nothing was queued, and
 * on_writable fires once there is room; LC_ECLOSED once the call is over or lc_rpc_finish was
 * called; LC_ETOOBIG over max_send_bytes; -ENOMEM; -EINVAL for a unary call. */
int lc_rpc_send(struct lc_rpc_call *call, const ProtobufCMessage *msg);

/* Same, for a message the caller already encoded (data is copied). */
int lc_rpc_send_raw(struct lc_rpc_call *call, const uint8_t *data, size_t len);

/* Ends the call with a status once everything queued has been sent: code and a message made
 * from fmt (may be NULL for none; truncated to 255 bytes). Returns 0; LC_ECLOSED if the call
 * was already finished or is over; -EINVAL for a code outside 0..16 and for LC_RPC_OK on a unary
 * call (that needs a response: use lc_rpc_reply). */
int lc_rpc_finish(struct lc_rpc_call *call, enum lc_rpc_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* BIDI_STREAM: stop reading request messages after the current one / start again. Pauses nest
 * (each pause needs a resume). Lets a service bound the work it has accepted but not answered.
 * -EINVAL for other kinds and for a resume without a pause; LC_ECLOSED once the call is over. */
int lc_rpc_recv_pause(struct lc_rpc_call *call);
int lc_rpc_recv_resume(struct lc_rpc_call *call);

/* --- for a daemon's main() --- */

/* Blocks SIGTERM, SIGINT and SIGPIPE in the calling thread. Call it first thing in main(),
 * before any thread exists (gRPC's included), so every thread inherits the mask and the signals
 * wait for lc_rpc_wait_signal. Returns 0 or -errno. */
int lc_rpc_block_signals(void);

/* Waits for SIGTERM or SIGINT (blocked by lc_rpc_block_signals) and returns its number. */
int lc_rpc_wait_signal(void);

/* ------------------------------------------------------------------------------------------ */
/* Client                                                                                     */
/* ------------------------------------------------------------------------------------------ */

/* A channel to one server. Thread-safe: any number of threads may make calls on it at once. */
struct lc_rpc_client;
/* One streaming call. Used by one thread at a time (lc_rpc_stream_cancel excepted). */
struct lc_rpc_stream;

/* Client settings; zero means the default given. Read by lc_rpc_client_new, not kept. */
struct lc_rpc_client_opts {
    size_t max_recv_bytes;             /* LC_RPC_DEFAULT_MAX_MSG */
    size_t max_send_bytes;             /* LC_RPC_DEFAULT_MAX_MSG */
    unsigned deadline_ms;              /* for calls given timeout_ms == 0: 30000 */
    unsigned keepalive_ms;             /* ping the server this often when idle: 0 = never */
    unsigned max_reconnect_backoff_ms; /* longest wait between reconnect attempts: 10000 */
    const struct lc_rpc_tls *tls;      /* NULL: plaintext (the only choice for now) */
};

/* Creates a channel to target ("host:port"); connects lazily on the first call. opts may be
 * NULL. Takes a reference on the gRPC library. Rejects an empty target, sizes over INT32_MAX and
 * a non-NULL tls (-ENOTSUP for now). Calls fail fast: a server that cannot be reached gives
 * UNAVAILABLE at once instead of waiting for it, so callers can fail over. Caller frees. */
int lc_rpc_client_new(const char *target, const struct lc_rpc_client_opts *opts,
                      struct lc_errbuf *err, struct lc_rpc_client **ret_client);

/* Frees the channel; streams on it must be freed first. Accepts NULL. */
void lc_rpc_client_free(struct lc_rpc_client *client);

/* Timeouts below (timeout_ms): > 0 that many milliseconds, 0 the client's default deadline,
 * < 0 none. */

/* One unary call: sends req on path, waits for the answer, decodes it with resp_desc.
 * Returns 0 and the response in *ret_resp (caller frees with protobuf_c_message_free_unpacked)
 * when the status is OK. Otherwise returns lc_rpc_err_from_code of the status (LC_EUNAVAIL for
 * an unreachable server, LC_ETIMEOUT past the deadline, ...), or LC_EDECODE when the response
 * does not decode (status INTERNAL), LC_ETOOBIG when req is over max_send_bytes (status
 * RESOURCE_EXHAUSTED), -ENOMEM. status (may be NULL) is always filled with the code and message. */
int lc_rpc_unary(struct lc_rpc_client *client, const char *path, const ProtobufCMessage *req,
                 const ProtobufCMessageDescriptor *resp_desc, int timeout_ms,
                 struct lc_rpc_status *status, ProtobufCMessage **ret_resp);

/* Opens a streaming call on path (server-streaming or bidi) with a deadline for the whole call
 * (use timeout_ms < 0 for long-lived streams such as Deliver). Does not wait for the server:
 * a failure to connect shows in the first send or recv. Returns 0, -EINVAL, -ENOMEM. Caller
 * frees with lc_rpc_stream_free. */
int lc_rpc_stream_open(struct lc_rpc_client *client, const char *path, int timeout_ms,
                       struct lc_rpc_stream **ret_stream);

/* Sends msg (packed here; the caller keeps it). At most one message is in flight: this first
 * waits up to timeout_ms (< 0 forever, 0 not at all) for the previous one to leave, then starts
 * this one and returns without waiting for it. Returns 0; -EAGAIN if the previous message is
 * still waiting for flow control (nothing was sent: read some responses and try again);
 * LC_ECLOSED if the call is over (lc_rpc_stream_recv or lc_rpc_stream_status says why) or the
 * send side was closed; LC_ETOOBIG over max_send_bytes; -ENOMEM. */
int lc_rpc_stream_send(struct lc_rpc_stream *stream, const ProtobufCMessage *msg, int timeout_ms);

/* Half-closes: tells the server no more messages follow. Waits up to timeout_ms (as in send) for
 * the message in flight to leave. Returns 0, -EAGAIN, LC_ECLOSED (already closed or the call
 * is over). */
int lc_rpc_stream_close_send(struct lc_rpc_stream *stream, int timeout_ms);

/* Receives the next message, decoded with desc, waiting up to timeout_ms (< 0 forever, 0 just
 * a look). Returns:
 *   0            a message in *ret_msg (caller frees with protobuf_c_message_free_unpacked);
 *   -EAGAIN      nothing arrived in time; the receive stays posted, call again;
 *   LC_ECLOSED   end of stream: the server finished the call with status OK;
 *   LC_EDECODE   a message arrived that does not decode with desc; it was dropped and the
 *                stream goes on;
 *   other < 0    the call ended with an error status, as lc_rpc_err_from_code (LC_EUNAVAIL,
 *                LC_ETIMEOUT, ...); lc_rpc_stream_status gives the code and message.
 * After the end, further calls return the same code again. */
int lc_rpc_stream_recv(struct lc_rpc_stream *stream, const ProtobufCMessageDescriptor *desc,
                       int timeout_ms, ProtobufCMessage **ret_msg);

/* The call's final status: waits up to timeout_ms for the call to end (it ends once the server
 * finished it and every message it sent was received, or on an error), fills status and returns
 * lc_rpc_err_from_code of it (0 for OK); -EAGAIN if it has not ended in time. */
int lc_rpc_stream_status(struct lc_rpc_stream *stream, int timeout_ms,
                         struct lc_rpc_status *status);

/* Cancels the call (status CANCELLED unless it already ended). Safe from any thread while
 * another thread waits in send/recv on the stream; they return promptly. */
void lc_rpc_stream_cancel(struct lc_rpc_stream *stream);

/* Cancels the call if it is still going, waits for gRPC to release it, and frees. Accepts NULL. */
void lc_rpc_stream_free(struct lc_rpc_stream *stream);

#endif
