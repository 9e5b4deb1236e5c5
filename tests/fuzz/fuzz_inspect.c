/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: arbitrary bytes through `weft inspect`'s decoder to JSON, as every type. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cmds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The first byte picks the --type (0 = auto), the rest is the file. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    enum weft_inspect_type type = (enum weft_inspect_type)(data[0] % 7);
    json_t *j = NULL;
    struct lc_errbuf err;
    err.msg[0] = '\0';
    int r = weft_inspect_decode(data + 1, size - 1, type, &j, NULL, &err);
    if (r < 0) {
        if (j || err.msg[0] == '\0')
            abort(); /* a failure hands nothing back and always says why */
        return 0;
    }
    if (r != 0 || !json_is_object(j))
        abort();
    char *text = json_dumps(j, JSON_COMPACT);
    if (!text)
        abort(); /* everything decoded must print */
    json_t *back = json_loads(text, 0, NULL);
    if (!back || !json_equal(back, j))
        abort(); /* and read back as the same tree */
    json_decref(back);
    free(text);
    json_decref(j);
    return 0;
}
