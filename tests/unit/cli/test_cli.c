/* SPDX-License-Identifier: Apache-2.0 */
/* Runs the weft tool test suites: inspect, genesis, and the cryptogen -> genesis -> inspect trip.
 */
#include <stdlib.h>

#include "helpers.h"

int main(void)
{
    SRunner *sr = srunner_create(inspect_suite());
    srunner_add_suite(sr, genesis_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
