/* SPDX-License-Identifier: Apache-2.0 */
/* Writes test contents into an endorser's state replica before the endorser starts. */
#ifndef WEFT_TEST_ENDORSER_SEED_H
#define WEFT_TEST_ENDORSER_SEED_H

#include <stddef.h>

#include "libcommon/state.h"

/* Brings <state_dir>/<channel of the genesis block file> to its genesis (as the endorser would),
 * then commits one more block holding one valid transaction with TxID txid (NULL for none) and
 * writes w[0..n). Returns 0, or -1 with the cause in err. */
int seed_state(const char *state_dir, const char *genesis, const char *txid,
               const struct lc_state_write *w, size_t n, char *err, size_t err_len);

#endif
