/* SPDX-License-Identifier: Apache-2.0 */
/* The chaincode stub API: everything a chaincode may see or do, and the one seam between the
 * endorser and chaincode code. */
#ifndef ENDORSER_CCAPI_H
#define ENDORSER_CCAPI_H

/*
 * A chaincode is a C module with one entry point, invoke(stub), registered with the endorser
 * (registry.c). It runs inside one simulation: every state read sees the same snapshot of the
 * endorser's world state, every read and write is recorded into the transaction's read-write
 * set, and nothing is committed. A chaincode must be deterministic: it may use the stub and
 * plain computation only, no clock, randomness, files, network or global state, so that every
 * endorser produces the same bytes for the same proposal. The stub is the only seam: an
 * out-of-process runtime (Fabric's chaincode protocol) can implement the same functions later.
 *
 * Semantics follow Fabric's shim:
 *  - args[0] is the function name, the rest its parameters;
 *  - reads do not see the transaction's own writes (GetState after PutState returns the
 *    committed value), as in Fabric;
 *  - a put of an empty value is recorded as a delete, as Fabric's rwset builder does;
 *  - range queries run over [start, end); an empty start means the first key (recorded as
 *    "\x01", the substitute Fabric's shim sends), an empty end means no upper bound;
 *  - keys must be non-empty for writes, valid UTF-8 and free of 0x00 bytes (composite keys are
 *    not supported yet), and fit the state's key limit (see libcommon/state.h).
 * Stub functions return 0 (or 1 where documented) on success and a negative libcommon/err.h
 * code on failure; cc_last_error() then says why, for the chaincode to pass on.
 *
 * Pointers the stub returns (args, values, keys) are read-only and valid until invoke returns.
 * The chaincode ends by setting a response (cc_success, cc_error or cc_respond); the last one
 * set wins. Returning without one gives status 500 "chaincode returned no response".
 * Status < 400 is endorsed; >= 400 is returned to the client without an endorsement.
 */

#include <stddef.h>
#include <stdint.h>

struct cc_stub;
struct cc_iter;

/* A registered chaincode module. */
struct cc_chaincode {
    const char *name; /* module name, e.g. "asset" */
    void (*invoke)(struct cc_stub *stub);
};

/* Status codes of Fabric's shim. */
#define CC_OK 200
#define CC_ERRORTHRESHOLD 400
#define CC_ERROR 500

/* ---- the invocation ---- */

/* Number of args, including the function name. */
size_t cc_argc(const struct cc_stub *s);
/* Arg i as bytes (NULL and *ret_len 0 when out of range). */
const uint8_t *cc_arg(const struct cc_stub *s, size_t i, size_t *ret_len);
/* Arg i as a NUL-terminated string; NULL when out of range or when it holds a 0x00 byte. */
const char *cc_arg_str(const struct cc_stub *s, size_t i);
/* args[0] as a string ("" when there are no args). */
const char *cc_function(const struct cc_stub *s);
/* Parameters: args after the function name. */
size_t cc_nparams(const struct cc_stub *s);
const char *cc_param(const struct cc_stub *s, size_t i); /* as cc_arg_str(s, i + 1) */

const char *cc_txid(const struct cc_stub *s);
const char *cc_channel(const struct cc_stub *s);
/* The creator's serialized identity (msp.SerializedIdentity) and its MSP id. */
const uint8_t *cc_creator(const struct cc_stub *s, size_t *ret_len);
const char *cc_creator_mspid(const struct cc_stub *s);
/* The proposal's channel header timestamp (the client's clock, the same on every endorser). */
void cc_tx_timestamp(const struct cc_stub *s, int64_t *ret_seconds, int32_t *ret_nanos);
/* A transient map entry (private input that does not go into the transaction); NULL if absent. */
const uint8_t *cc_transient(const struct cc_stub *s, const char *key, size_t *ret_len);

/* ---- world state ---- */

/* Reads key: 1 with the value, 0 when absent (*ret_val NULL, *ret_len 0), or < 0. */
int cc_get_state(struct cc_stub *s, const void *key, size_t key_len, const uint8_t **ret_val,
                 size_t *ret_len);
/* Records a write (an empty value is a delete). */
int cc_put_state(struct cc_stub *s, const void *key, size_t key_len, const void *val,
                 size_t val_len);
int cc_del_state(struct cc_stub *s, const void *key, size_t key_len);

/* Opens an iterator over [start, end) (see above for empty bounds). Close it with
 * cc_iter_close; iterators left open are closed when invoke returns. */
int cc_get_state_by_range(struct cc_stub *s, const void *start, size_t start_len, const void *end,
                          size_t end_len, struct cc_iter **ret_it);
/* Next key and value: 1, 0 at the end, or < 0. */
int cc_iter_next(struct cc_iter *it, const uint8_t **ret_key, size_t *ret_key_len,
                 const uint8_t **ret_val, size_t *ret_val_len);
void cc_iter_close(struct cc_iter *it); /* accepts NULL */

/* ---- events and the response ---- */

/* Sets the transaction's chaincode event (the last call wins); name must be non-empty. */
int cc_set_event(struct cc_stub *s, const char *name, const void *payload, size_t len);

/* Status 200 with payload (copied; may be NULL/0). */
void cc_success(struct cc_stub *s, const void *payload, size_t len);
/* Status 500 with a formatted message. */
void cc_error(struct cc_stub *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Any status, message and payload (copied). */
void cc_respond(struct cc_stub *s, int32_t status, const char *message, const void *payload,
                size_t len);

/* Why the last stub call failed ("" if none did). */
const char *cc_last_error(const struct cc_stub *s);

#endif
