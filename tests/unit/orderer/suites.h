/* SPDX-License-Identifier: Apache-2.0 */
/* The orderer's unit test suites. */
#ifndef WEFT_TEST_ORDERER_SUITES_H
#define WEFT_TEST_ORDERER_SUITES_H

#include <check.h>

Suite *cutter_suite(void);
Suite *chain_suite(void);
Suite *service_suite(void);

#endif
