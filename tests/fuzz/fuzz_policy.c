/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: parse policy text, print it, check the printout parses to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libcommon/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    uint8_t *bytes = NULL;
    size_t len = 0;
    char *msg = NULL;
    int r = lc_policy_parse(text, &bytes, &len, &msg);
    if (r == LC_ESYNTAX && !msg)
        abort(); /* a syntax error always says where */
    lc_policy_msg_free(msg);
    if (r == 0) {
        char *out = NULL;
        struct lc_errbuf err;
        if (lc_policy_print_bytes(bytes, len, &out, &err) == 0) {
            uint8_t *again = NULL;
            size_t again_len = 0;
            if (lc_policy_parse(out, &again, &again_len, NULL) != 0 || again_len != len ||
                memcmp(again, bytes, len) != 0)
                abort(); /* parse → print → parse must give the same bytes */
            free(again);
            free(out);
        } else if (strlen(text) < LC_POLICY_MAX_TEXT / 2) {
            abort(); /* whatever parses prints, unless the printed text outgrows the limit */
        }
        free(bytes);
    }
    free(text);
    return 0;
}
