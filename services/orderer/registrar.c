/* SPDX-License-Identifier: Apache-2.0 */
/* The channels this orderer serves: their chains by channel id. */
#include "registrar.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct orderer_registrar {
    struct orderer_chain **chains;
    size_t n, cap;
};

int orderer_registrar_new(struct orderer_registrar **ret)
{
    struct orderer_registrar *reg = calloc(1, sizeof *reg);
    if (!reg)
        return -ENOMEM;
    *ret = reg;
    return 0;
}

void orderer_registrar_halt(struct orderer_registrar *reg)
{
    for (size_t i = 0; reg && i < reg->n; i++)
        orderer_chain_halt(reg->chains[i]);
}

void orderer_registrar_free(struct orderer_registrar *reg)
{
    if (!reg)
        return;
    orderer_registrar_halt(reg);
    for (size_t i = 0; i < reg->n; i++)
        orderer_chain_free(reg->chains[i]);
    free(reg->chains);
    free(reg);
}

int orderer_registrar_add(struct orderer_registrar *reg, struct orderer_chain *chain,
                          struct lc_errbuf *err)
{
    if (orderer_registrar_get(reg, orderer_chain_id(chain)))
        return lc_fail(err, LC_EEXISTS, "channel %s is given twice", orderer_chain_id(chain));
    if (reg->n == reg->cap) {
        size_t cap = reg->cap ? 2 * reg->cap : 8;
        struct orderer_chain **c = realloc(reg->chains, cap * sizeof *c);
        if (!c)
            return lc_fail(err, -ENOMEM, "out of memory");
        reg->chains = c;
        reg->cap = cap;
    }
    reg->chains[reg->n++] = chain;
    return 0;
}

struct orderer_chain *orderer_registrar_get(const struct orderer_registrar *reg,
                                            const char *channel_id)
{
    for (size_t i = 0; channel_id && i < reg->n; i++)
        if (strcmp(orderer_chain_id(reg->chains[i]), channel_id) == 0)
            return reg->chains[i];
    return NULL;
}

size_t orderer_registrar_count(const struct orderer_registrar *reg)
{
    return reg->n;
}

struct orderer_chain *orderer_registrar_at(const struct orderer_registrar *reg, size_t i)
{
    return i < reg->n ? reg->chains[i] : NULL;
}
