/* SPDX-License-Identifier: Apache-2.0 */
/* Orderer test helpers: signed envelopes and SeekInfos, Broadcast and Deliver over libcommon/rpc.
 */
#ifndef WEFT_TEST_ORDERER_OTEST_H
#define WEFT_TEST_ORDERER_OTEST_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/common.pb-c.h"
#include "libcommon/msp.h"
#include "libcommon/rpc.h"
#include "orderer/ab.pb-c.h"

/* A signer from an MSP directory (asserts). */
struct lc_signer *ot_signer(const char *msp_dir, const char *mspid);

/* The parts of an envelope a test may want to get wrong. */
struct ot_env_spec {
    const char *channel;
    int32_t type;        /* a Common__HeaderType */
    const uint8_t *data; /* Payload.data */
    size_t data_len;
    int64_t ts;                     /* channel header timestamp seconds; 0: now; -1: none */
    const struct lc_signer *signer; /* creator and signature */
    const uint8_t *creator;         /* overrides the signer's serialized identity */
    size_t creator_len;
    bool bad_sig;      /* flip a bit of the signature */
    bool no_header;    /* Payload without a header */
    bool garbage_chdr; /* channel header bytes that do not decode */
};

/* Builds and signs an envelope as described; caller frees with common__envelope__free_unpacked. */
Common__Envelope *ot_envelope(const struct ot_env_spec *spec);

/* A normal ENDORSER_TRANSACTION-typed envelope on channel with `size` bytes of filler data. */
Common__Envelope *ot_tx(const struct lc_signer *s, const char *channel, size_t size);

/* The packed bytes of an envelope (caller frees). */
uint8_t *ot_pack(const ProtobufCMessage *m, size_t *ret_len);

/* SeekPosition kinds. */
enum ot_pos { OT_OLDEST, OT_NEWEST, OT_SPECIFIED, OT_UNSET };

struct ot_seek_spec {
    const char *channel;
    enum ot_pos start, stop;
    uint64_t start_n, stop_n;
    bool fail_if_not_ready;
    bool best_effort;
    int64_t ts;   /* 0: now, -1: none */
    int32_t type; /* header type; 0 means DELIVER_SEEK_INFO */
    const struct lc_signer *signer;
    bool bad_sig;
};

Common__Envelope *ot_seek(const struct ot_seek_spec *spec);

/* A bidi stream on the orderer at target ("127.0.0.1:port"). */
struct ot_stream {
    struct lc_rpc_client *client;
    struct lc_rpc_stream *stream;
};

void ot_open(struct ot_stream *s, const char *target, const char *path);
void ot_close(struct ot_stream *s);

#define OT_BROADCAST "/orderer.AtomicBroadcast/Broadcast"
#define OT_DELIVER "/orderer.AtomicBroadcast/Deliver"

/* Sends env (asserts the send works). */
void ot_send(struct ot_stream *s, const Common__Envelope *env);

/* Receives one BroadcastResponse within 30 s; returns its status (and copies info into info,
 * if not NULL), or -1 when the stream ended instead (ret_end gets the recv code). */
int ot_recv_status(struct ot_stream *s, char *info, size_t cap, int *ret_end);

/* Receives one DeliverResponse within timeout_ms (< 0: 30 s). Returns it (caller frees) or NULL
 * when the stream ended or nothing came (*ret_code gets the recv code, if not NULL). */
Orderer__DeliverResponse *ot_recv_deliver(struct ot_stream *s, int timeout_ms, int *ret_code);

/* Broadcasts one envelope on a fresh stream and returns the status (asserts a response). */
int ot_broadcast_one(const char *target, const Common__Envelope *env, char *info, size_t cap);

/* Deliver on a fresh stream: sends the seek (and frees it), collects blocks until a status arrives.
 * Returns the status; blocks (caller frees each with common__block__free_unpacked, then the array)
 * go to *ret_blocks / *ret_n when not NULL. */
int ot_deliver(const char *target, Common__Envelope *seek, Common__Block ***ret_blocks,
               size_t *ret_n);
void ot_blocks_free(Common__Block **blocks, size_t n);

/* Checks what a block must be (number, data hash, previous hash against prev when given,
 * metadata layout and the orderer's signature verifying with the identity in [0]) and returns
 * the last_config index it carries. */
uint64_t ot_check_block(const Common__Block *b, const Common__Block *prev,
                        const struct lc_signer *orderer);

/* The ChannelHeader.tx_id of data[i] of a block (caller frees). */
char *ot_block_txid(const Common__Block *b, size_t i);

#endif
