/* SPDX-License-Identifier: Apache-2.0 */
/* The chaincode modules built into the endorser, by module name. */
#ifndef ENDORSER_REGISTRY_H
#define ENDORSER_REGISTRY_H

#include <stddef.h>

#include "services/endorser/ccapi.h"

/* The modules shipped with weft. */
extern const struct cc_chaincode cc_example02; /* "example02": Fabric's classic transfer sample */
extern const struct cc_chaincode cc_kv;        /* "kv": put, get, del, range and test helpers */
extern const struct cc_chaincode cc_asset;     /* "asset": asset-transfer-basic */

/* The module named name, or NULL. */
const struct cc_chaincode *endorser_registry_find(const char *name);

/* All modules, in a fixed order; NULL when i is out of range. */
size_t endorser_registry_count(void);
const struct cc_chaincode *endorser_registry_at(size_t i);

#endif
