#!/usr/bin/env bash
# Every man page renders without a groff warning, and the generated
# wolfguard.conf.d(5) names every plugin that was built (its options come
# from the same tables --check-config uses, so what it lists cannot drift; an
# empty or truncated page would slip through without this).
# Usage: check_man.sh GENERATED-CONF-D-PAGE PLUGIN-DIR HANDWRITTEN-PAGE...
set -uo pipefail
gen=$1 plugdir=$2
shift 2
rc=0
for page in "$gen" "$@"; do
	warn=$(groff -man -ww -z -Tutf8 "$page" 2>&1)
	[ -z "$warn" ] || { echo "FAIL $page: $warn"; rc=1; }
done
for so in "$plugdir"/*.so; do
	name=$(basename "$so" .so)
	grep -q "^\.SS \"$(echo "$name" | sed 's/-/\\\\-/g') (" "$gen" || { echo "FAIL $gen: no section for plugin $name"; rc=1; }
done
for key in listen certificate private-key workers sandbox; do
	grep -q "^\.BR \"$(echo "$key" | sed 's/-/\\\\-/g')\"" "$gen" || { echo "FAIL $gen: server option $key missing"; rc=1; }
done
[ $rc = 0 ] && echo "man pages: $(($# + 1)) render cleanly; conf.d(5) covers $(ls "$plugdir"/*.so | wc -l) plugins"
exit $rc
