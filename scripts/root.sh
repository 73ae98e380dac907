# shellcheck shell=bash
# Sourced by the scripts that need root (run.sh, test.sh, deps.sh). From a
# root shell they run as they are. Started by a user who has sudo, they run
# themselves again through sudo (keeping the WOLFGUARD_* and LAB_* settings
# of the environment); without sudo they stop and say to use a root shell.
# So `scripts/test.sh` and `sudo scripts/test.sh` both work.

# wg_need_root NAME WHY "$@": returns only when running as root.
wg_need_root() {
	local name=$1 why=$2 keep
	shift 2
	[ "$(id -u)" = 0 ] && return 0
	if command -v sudo >/dev/null 2>&1; then
		keep=$(env | sed -n 's/^\(WOLFGUARD_[A-Za-z0-9_]*\|LAB_[A-Za-z0-9_]*\)=.*/\1/p' | paste -sd, -)
		echo "$name: needs root ($why): running it again with sudo" >&2
		exec sudo ${keep:+--preserve-env="$keep"} -- "$0" "$@"
	fi
	echo "$name: needs root ($why); this machine has no sudo: run it from a root shell" >&2
	exit 1
}

# wg_usage: prints the calling script's header comment (its lines 2.. up to
# the first line that is not a comment), for --help.
wg_usage() {
	sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"
}
