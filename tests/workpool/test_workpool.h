/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TEST_WORKPOOL_H
#define TEST_WORKPOOL_H

/* test_workpool_tel.c: counters by API and by telemetry socket */
int test_counters_telemetry(void);

#endif /* TEST_WORKPOOL_H */
