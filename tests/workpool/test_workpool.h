/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TEST_WORKPOOL_H
#define TEST_WORKPOOL_H

/* test_workpool_tel.c: counters by API and by telemetry socket */
int test_counters_telemetry(void);

/* test_workpool_nosys.c: no syscall on the submit path, by the kernel */
int test_no_syscall_when_awake(void);

/* test_workpool_locked.c: the locked baseline */
int test_locked_baseline(void);

#endif /* TEST_WORKPOOL_H */
