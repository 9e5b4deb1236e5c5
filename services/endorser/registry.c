/* SPDX-License-Identifier: Apache-2.0 */
/* The chaincode modules built into the endorser, by module name. */
#include "services/endorser/registry.h"

#include <string.h>

static const struct cc_chaincode *const modules[] = {&cc_example02, &cc_kv, &cc_asset};

const struct cc_chaincode *endorser_registry_find(const char *name)
{
    for (size_t i = 0; i < sizeof modules / sizeof modules[0]; i++)
        if (strcmp(modules[i]->name, name) == 0)
            return modules[i];
    return NULL;
}

size_t endorser_registry_count(void)
{
    return sizeof modules / sizeof modules[0];
}

const struct cc_chaincode *endorser_registry_at(size_t i)
{
    return i < endorser_registry_count() ? modules[i] : NULL;
}
