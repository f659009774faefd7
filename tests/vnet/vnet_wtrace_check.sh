#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# vnet_wtrace.py, the verdict vnet_migrate gives on each guest page that
# differs after a migration, on made-up records: one page per verdict
# (never, ok, unmarked, late, a write with logging off; 'suspect': ok but
# the source holds payload), a payload copy
# spanning two pages, and the whole-run mode ('-').
. "$VMPATH_SRC/tests/lib.sh"
cd "$T_TMP"
W=$VMPATH_SRC/tests/vnet/vnet_wtrace.py
# vid 1 is the source: logging on at 10, GET_VRING_BASE answered at 20
cat >trace.txt <<'T'
1.000000000 1 0 C 0x1000 100 0
2.000000000 1 0 C 0x5000 100 0
10.000000000 1 - E resume 1 1
11.000000000 1 0 D 0x2000 64 1
11.500000000 1 0 L 0x2000 64 1
12.000000000 1 0 C 0x3000 64 1
12.500000000 1 0 C 0x4000 64 0
13.000000000 1 0 C 0x6ff0 32 1
13.100000000 1 0 L 0x6ff0 32 1
14.000000000 1 0 U 0x8000 8 1
14.100000000 1 0 M 0x8000 8 1
19.000000000 1 0 D 0x9000 64 1
19.500000000 1 0 L 0x9000 64 1
20.000000000 1 - E done 11 1
20.100000000 1 0 I 0x9002 2 1
T
cat >diff.txt <<'T'
page 0x1 gpa 0x1000 cpu bytes 1 runs 1
page 0x2 gpa 0x2000 rx bytes 1 runs 1
page 0x3 gpa 0x3000 rx bytes 1 runs 1
page 0x4 gpa 0x4000 rx bytes 1 runs 1
page 0x7 gpa 0x7000 rx bytes 1 runs 1
page 0x9 gpa 0x9000 used bytes 1 runs 1
page 0xa gpa 0xa000 cpu bytes 1 runs 1
T
python3 "$W" trace.txt diff.txt >out.txt
cat out.txt
v() { grep -q "^page $1 [a-z]* $2 " out.txt; }
t_grep "summary" "^wtrace pages 7 never 1 ok 3 unmarked 2 late 1 suspect 2$" out.txt
t_check "written before logging, never marked: ok" v 0x1 ok
t_check "DMA copy marked at publication: ok" v 0x2 ok
t_grep "an 'ok' page with payload in the source is not cleared" \
	"^page 0x2 rx ok .*suspect" out.txt
t_check "write under logging, never marked: unmarked" v 0x3 unmarked
t_check "write with logging off after it went on: unmarked" v 0x4 unmarked
t_check "copy spanning two pages, mark spanning both: ok" v 0x7 ok
t_check "used->idx after GET_VRING_BASE was answered: late" v 0x9 late
t_check "page vmpath never wrote: never" v 0xa never
python3 "$W" trace.txt - >all.txt
cat all.txt
t_grep "whole run: every page written" \
	"^wtrace pages 9 never 0 ok 6 unmarked 2 late 1 suspect 0$" all.txt
t_done
