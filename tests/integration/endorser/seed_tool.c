/* SPDX-License-Identifier: Apache-2.0 */
/* Test tool: seeds an endorser state replica with key/value pairs (for tests written in other
 * languages; C tests call seed_state directly).
 * Usage: seed_tool STATE_DIR GENESIS_BLOCK NAMESPACE KEY VALUE [KEY VALUE ...] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seed.h"

int main(int argc, char **argv)
{
    if (argc < 6 || (argc - 4) % 2 != 0) {
        fprintf(stderr, "usage: seed_tool STATE_DIR GENESIS NAMESPACE KEY VALUE [KEY VALUE ...]\n");
        return 2;
    }
    size_t n = (size_t)(argc - 4) / 2;
    struct lc_state_write *w = calloc(n, sizeof *w);
    if (!w)
        return 1;
    for (size_t i = 0; i < n; i++) {
        const char *k = argv[4 + 2 * i], *v = argv[5 + 2 * i];
        w[i] = (struct lc_state_write){argv[3], k, strlen(k), v, strlen(v), false};
    }
    char err[512];
    int r = seed_state(argv[1], argv[2], NULL, w, n, err, sizeof err);
    free(w);
    if (r < 0) {
        fprintf(stderr, "seed_tool: %s\n", err);
        return 1;
    }
    return 0;
}
