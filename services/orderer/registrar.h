/* SPDX-License-Identifier: Apache-2.0 */
/* The channels this orderer serves: their chains by channel id. */
#ifndef ORDERER_REGISTRAR_H
#define ORDERER_REGISTRAR_H

#include <stddef.h>

#include "libcommon/err.h"

#include "chain.h"

/* Filled before serving starts and read-only afterwards, so lookups take no lock. */
struct orderer_registrar;

/* Returns 0 or -ENOMEM. Caller frees. */
int orderer_registrar_new(struct orderer_registrar **ret);

/* Halts every chain, then frees them and the registrar. Accepts NULL. */
void orderer_registrar_free(struct orderer_registrar *reg);

/* Adds chain (the registrar takes it). Rejects a channel already there (LC_EEXISTS, chain not
 * taken). */
int orderer_registrar_add(struct orderer_registrar *reg, struct orderer_chain *chain,
                          struct lc_errbuf *err);

/* The chain of channel_id, or NULL; borrowed for the registrar's life. */
struct orderer_chain *orderer_registrar_get(const struct orderer_registrar *reg,
                                            const char *channel_id);

size_t orderer_registrar_count(const struct orderer_registrar *reg);
struct orderer_chain *orderer_registrar_at(const struct orderer_registrar *reg, size_t i);

/* Halts every chain's consenter (no more blocks are written); the chains stay readable. */
void orderer_registrar_halt(struct orderer_registrar *reg);

#endif
