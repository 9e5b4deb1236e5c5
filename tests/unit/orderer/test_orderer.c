/* SPDX-License-Identifier: Apache-2.0 */
/* Runs the orderer's unit test suites. */
#include <check.h>
#include <stdlib.h>

#include "libcommon/crypto.h"
#include "suites.h"

int main(void)
{
    lc_crypto_init();
    SRunner *sr = srunner_create(cutter_suite());
    srunner_add_suite(sr, chain_suite());
    srunner_add_suite(sr, service_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
