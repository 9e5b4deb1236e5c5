/* SPDX-License-Identifier: Apache-2.0 */
/* The solo consenter: one thread per chain that orders envelopes as they arrive. */
#ifndef ORDERER_SOLO_H
#define ORDERER_SOLO_H

#include <stdbool.h>
#include <stdint.h>

#include "consenter.h"
#include "cutter.h"

/*
 * The consenter itself is orderer_solo_ops (consenter.h): a bounded queue in front of one thread
 * per chain. The thread feeds the core below, with CLOCK_MONOTONIC as its clock.
 *
 * The core is the ordering logic with time passed in, so that tests drive it with explicit
 * times and no sleeps. Fabric's solo (wire facts §10):
 *   - a normal message goes to the cutter; every batch the cutter returns becomes a block;
 *   - the BatchTimeout timer starts when messages become pending and none is running, and is
 *     cleared when nothing is pending; it is not restarted by a cut that leaves a message
 *     pending (so an overflow cut keeps the first message's deadline);
 *   - when the timer expires, the pending batch is cut into a block;
 *   - a config message cuts the pending batch, then goes into a block of its own, and clears
 *     the timer.
 */
struct orderer_solo_core;

/* Writes one block; returns 0 or a negative code (the core then stops and returns it). The
 * batch is the callee's (it must empty it). */
typedef int (*orderer_solo_write_fn)(void *arg, struct orderer_batch *batch, bool is_config);

/* Makes a core over cutter (borrowed) with BatchTimeout timeout_ns (> 0). Caller frees. */
int orderer_solo_core_new(struct orderer_cutter *cutter, uint64_t timeout_ns,
                          orderer_solo_write_fn write, void *arg, struct orderer_solo_core **ret);
void orderer_solo_core_free(struct orderer_solo_core *core);

/* A message (taken) arriving at time now_ns. Returns 0 or the first write error. */
int orderer_solo_core_message(struct orderer_solo_core *core, struct orderer_msg *msg,
                              bool is_config, uint64_t now_ns);

/* Time passes: if the timer is running and now_ns has reached its deadline, the pending batch
 * is cut. Returns 0 or the write error. */
int orderer_solo_core_tick(struct orderer_solo_core *core, uint64_t now_ns);

/* Whether the timer runs, and its deadline. */
bool orderer_solo_core_deadline(const struct orderer_solo_core *core, uint64_t *ret_deadline_ns);

/* A new BatchTimeout for timers started from now on. */
void orderer_solo_core_set_timeout(struct orderer_solo_core *core, uint64_t timeout_ns);

#endif
