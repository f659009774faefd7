#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# meson install --destdir puts vmpath, vmpathctl, the systemd unit, its
# options file and the docs where docs/control.md says, and
# systemd-analyze verify accepts the unit (and refuses a broken copy).
. "$VMPATH_SRC/tests/lib.sh"
cd "$T_TMP"
D="$T_TMP/dest"
meson install -C "$VMPATH_BUILD" --no-rebuild --destdir "$D" >install.log 2>&1
t_check "meson install --destdir" test $? -eq 0
prefix=$(meson introspect "$VMPATH_BUILD" --buildoptions |
	/usr/bin/python3 -c 'import json,sys
o={x["name"]: x["value"] for x in json.load(sys.stdin)}
print(o["prefix"], o["bindir"], o["sysconfdir"], o["datadir"])')
read -r P BIN ETC SHARE <<<"$prefix"
for f in "$P/$BIN/vmpath" "$P/$BIN/vmpathctl" \
	"$P/lib/systemd/system/vmpath.service" "$P/$ETC/vmpath/vmpath.conf" \
	"$P/$SHARE/doc/vmpath/control.md" "$P/$SHARE/doc/vmpath/cli.md"; do
	t_check "installed: $f" test -s "$D$f"
done
t_check "vmpathctl is executable" test -x "$D$P/$BIN/vmpathctl"
/usr/bin/python3 "$D$P/$BIN/vmpathctl" --help >help.log 2>&1
t_grep "installed vmpathctl runs" "port-add" help.log
if ! command -v systemd-analyze >/dev/null; then
	t_note "no systemd-analyze: unit not verified"
else
	# the unit's paths point into the destdir, so verify finds the binary
	sed "s|$P/|$D$P/|g" "$D$P/lib/systemd/system/vmpath.service" >vmpath.service
	systemd-analyze verify --man=no "$T_TMP/vmpath.service" >verify.log 2>&1
	t_check "systemd-analyze verify accepts the unit" test $? -eq 0
	t_check "... without a warning" test ! -s verify.log
	t_grep "the unit reads its EnvironmentFile" \
		"^EnvironmentFile=$D$P/$ETC/vmpath/vmpath.conf" vmpath.service
	sed 's|^ExecStart=[^ ]*|ExecStart=/nonexistent/vmpath|' vmpath.service >bad.service
	systemd-analyze verify --man=no "$T_TMP/bad.service" >/dev/null 2>&1
	t_check "... and refuses a broken copy" test $? -ne 0
fi
echo "$T_PASS passed, $T_FAIL failed"
[ "$T_FAIL" -eq 0 ]
