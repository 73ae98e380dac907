#!/usr/bin/env bash
# The user's web browser, for openconnect --external-browser (tests-sso.sh).
#
# openconnect runs it with the single sign-on URL (the provider's
# authorization URL that wolfguard's form named) once it listens on
# localhost:29786. It does what a user does in a browser, with curl and a
# cookie jar: opens the URL, gets Lemonldap::NG's login page, posts the
# user's name and password with the page's hidden fields, follows the
# provider's redirect back to wolfguard's callback, and follows wolfguard's
# redirect to openconnect's listener (which redirects to the final page).
#
# The provider lives on the server namespace's loopback (the lab's way of
# having an IdP), so the provider's requests are made from there; wolfguard
# and openconnect's listener are reached from the client namespace, where
# openconnect started this.
#
# $LAB_RUN_DIR/oidc/browser.env sets IDP_NS, CA, USER_NAME, USER_PASS,
# SERVER_ADDR and MODE:
#   normal       as above
#   wrong_state  first calls the callback with a forged state (wolfguard must
#                refuse it), then the real one
#   replay       calls the callback twice (the second must be refused)
#   late         waits LATE_SECONDS before coming back to wolfguard
#   bad_code     comes back with another code than the provider gave (the
#                provider must refuse it at wolfguard's code exchange)
# Everything goes to $LAB_RUN_DIR/oidc/browser.log; the callback URL is kept
# in $LAB_RUN_DIR/oidc/callback-url (a later replay uses it).
set -u
url=$1
dir=$LAB_RUN_DIR/oidc
# shellcheck source=/dev/null
. "$dir/browser.env"
exec >>"$dir/browser.log" 2>&1
jar=$(mktemp)
trap 'rm -f "$jar" "$jar".*' EXIT
say() { echo "browser: $*"; }

idp() { ip netns exec "$IDP_NS" curl -s --max-time 30 --cacert "$CA" -c "$jar" -b "$jar" "$@"; }
vpn() { curl -s --max-time 60 --cacert "$CA" --resolve "vpn.test:443:$SERVER_ADDR" "$@"; }
hidden() { sed -n "s/.*name=\"$1\" value=\"\\([^\"]*\\)\".*/\\1/p" "$jar.page" | head -n 1; }
location() { tr -d '\r' <"$1" | sed -n 's/^[Ll]ocation: //p' | head -n 1; }
status() { head -n 1 "$1" | tr -d '\r'; }

say "opening $url"
idp -o "$jar.page" "$url" || { say "the provider's page did not load"; exit 1; }
grep -q 'name="password"' "$jar.page" || { say "no login form on the provider's page"; exit 1; }
# The form posts to the page itself (action "#").
idp -D "$jar.h1" -o /dev/null --data-urlencode "user=$USER_NAME" --data-urlencode "password=$USER_PASS" \
	--data-urlencode "url=$(hidden url)" --data-urlencode "token=$(hidden token)" \
	--data-urlencode "skin=$(hidden skin)" --data-urlencode timezone=0 "$url"
cb=$(location "$jar.h1")
case "$cb" in
https://vpn.test/*) say "the provider sent us back to $cb" ;;
*) say "the provider did not redirect to wolfguard: $(status "$jar.h1") $cb"; exit 1 ;;
esac
echo "$cb" >"$dir/callback-url"

if [ "$MODE" = wrong_state ]; then
	# shellcheck disable=SC2001 # the separator before the name is kept: a back-reference
	forged=$(echo "$cb" | sed 's/\([?&]\)state=[^&]*/\1state=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/')
	vpn -D "$jar.hf" -o /dev/null "$forged"
	say "forged state: $(status "$jar.hf")"
fi
if [ "$MODE" = bad_code ]; then
	# shellcheck disable=SC2001
	cb=$(echo "$cb" | sed 's/\([?&]\)code=[^&]*/\1code=0000000000000000000000000000000000000000000000000000000000000000/')
	say "changed the code: $cb"
fi
if [ "$MODE" = late ]; then
	say "waiting $LATE_SECONDS s before coming back"
	sleep "$LATE_SECONDS" # the test's point is the delay itself
fi
vpn -D "$jar.h2" -o /dev/null "$cb"
say "wolfguard's callback: $(status "$jar.h2")"
if [ "$MODE" = replay ]; then
	vpn -D "$jar.hr" -o /dev/null "$cb"
	say "replayed callback: $(status "$jar.hr")"
fi
back=$(location "$jar.h2")
case "$back" in
http://localhost:29786/api/sso/*) ;;
*) say "wolfguard did not send us to openconnect: $back"; exit 1 ;;
esac
# openconnect's listener answers with a redirect to the final page.
curl -s --max-time 30 -D "$jar.h3" -o /dev/null "$back"
say "openconnect's listener: $(status "$jar.h3") $(location "$jar.h3")"
final=$(location "$jar.h3")
[ -n "$final" ] && vpn -o /dev/null -w "browser: final page %{http_code}\n" "$final"
say "done"
