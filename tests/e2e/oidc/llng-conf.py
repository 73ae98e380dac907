#!/usr/bin/env python3
"""Writes the configuration of a Lemonldap::NG portal acting as the lab's
OpenID Connect provider (tests-oidc.sh): DIR/lemonldap-ng.ini (what
LLNG_DEFAULTCONFFILE names) and DIR/conf/lmConf-N.json, with every state
directory under DIR, so the system's /etc/lemonldap-ng and /var/lib are not
used.

Usage: llng-conf.py DIR ISSUER KEY.pem KID [CFGNUM]

The provider signs with KEY.pem (RSA) under key id KID. Users come from
LLNG's demo directory (dwho, rtyler, msmith; the password is the name);
dwho is in group "engineering", rtyler in "sales". Relying parties (the
"aud" of their ID tokens):
  wolfguard        RS256, 300 s        the VPN
  wolfguard-short  RS256, 1 s          expired tokens (aud also "wolfguard")
  other-app        RS256               another application's token
  wolfguard-none   alg none            unsigned (aud also "wolfguard")
  wolfguard-hs     HS256               HMAC with the client secret (aud also "wolfguard")
Every one allows the password grant, so the test gets tokens with curl.
"wolfguard" also takes the authorization code flow with PKCE (required) for
the browser login; LLNG_REDIRECT_URI adds wolfguard's redirect URI to it.
"""
import json
import os
import subprocess
import sys
import time

d, issuer, keyfile, kid = sys.argv[1:5]
cfgnum = int(sys.argv[5]) if len(sys.argv) > 5 else 1
for sub in ("conf", "sessions/lock", "psessions/lock", "cache", "notifications"):
    os.makedirs(os.path.join(d, sub), exist_ok=True)
priv = open(keyfile).read()
pub = subprocess.run(["openssl", "rsa", "-in", keyfile, "-pubout"], check=True, capture_output=True,
                     text=True).stdout


def rp(client_id, alg, lifetime, extra_aud=""):
    opts = {
        "oidcRPMetaDataOptionsClientID": client_id,
        "oidcRPMetaDataOptionsClientSecret": "wg-lab-oidc-secret",
        "oidcRPMetaDataOptionsIDTokenSignAlg": alg,
        "oidcRPMetaDataOptionsIDTokenExpiration": lifetime,
        "oidcRPMetaDataOptionsIDTokenForceClaims": 1,
        "oidcRPMetaDataOptionsAllowPasswordGrant": 1,
        "oidcRPMetaDataOptionsBypassConsent": 1,
        "oidcRPMetaDataOptionsRedirectUris": "https://vpn.test/+CSCOE+/saml_ac_login.html",
        "oidcRPMetaDataOptionsUserIDAttr": "uid",
    }
    if extra_aud:
        opts["oidcRPMetaDataOptionsAdditionalAudiences"] = extra_aud
    return opts


rps = {
    "vpn": rp("wolfguard", "RS256", 300),  # browser SSO too: PKCE required, redirect URI below
    "short": rp("wolfguard-short", "RS256", 1, "wolfguard"),
    "other": rp("other-app", "RS256", 300),
    "none": rp("wolfguard-none", "none", 300, "wolfguard"),
    "hs": rp("wolfguard-hs", "HS256", 300, "wolfguard"),
}
# The browser login (tests-sso.sh): wolfguard's redirect URI (LLNG_REDIRECT_URI)
# is registered for the VPN client, and PKCE is required of it, so a token
# request without the right code_verifier is refused by the provider.
if os.environ.get("LLNG_REDIRECT_URI"):
    rps["vpn"]["oidcRPMetaDataOptionsRedirectUris"] += " " + os.environ["LLNG_REDIRECT_URI"]
rps["vpn"]["oidcRPMetaDataOptionsRequirePKCE"] = 1
claims = {"preferred_username": "uid", "email": "mail", "name": "cn", "groups": "groups;string;always"}
conf = {
    "cfgNum": cfgnum,
    "cfgDate": int(time.time()),  # the handler reloads only a configuration that has a date
    "cfgAuthor": "tests-oidc.sh",
    "cfgVersion": "2.16.1",
    "portal": issuer.rstrip("/") + "/",
    "domain": "test",
    "authentication": "Demo",
    "userDB": "Same",
    "passwordDB": "Demo",
    "registerDB": "Null",
    "demoExportedVars": {"cn": "cn", "mail": "mail", "uid": "uid"},
    "groups": {"engineering": "$uid eq \"dwho\"", "sales": "$uid eq \"rtyler\""},
    "globalStorage": "Apache::Session::File",
    "globalStorageOptions": {"Directory": d + "/sessions", "LockDirectory": d + "/sessions/lock",
                             "generateModule": "Lemonldap::NG::Common::Apache::Session::Generate::SHA256"},
    "persistentStorage": "Apache::Session::File",
    "persistentStorageOptions": {"Directory": d + "/psessions", "LockDirectory": d + "/psessions/lock"},
    "localSessionStorage": "Cache::FileCache",
    "localSessionStorageOptions": {"cache_root": d + "/cache", "namespace": "lemonldap-ng-sessions",
                                   "default_expires_in": 600, "cache_depth": 3, "directory_umask": "007"},
    "notification": 0,
    # Captchas need GD::SecurityImage, a package the lab does not install.
    "captcha_mail_enabled": 0,
    "captcha_register_enabled": 0,
    "captcha_login_enabled": 0,
    "loginHistoryEnabled": 0,
    "securedCookie": 1,
    "issuerDBOpenIDConnectActivation": 1,
    "oidcServiceMetaDataIssuer": issuer,
    "oidcServicePrivateKeySig": priv,
    "oidcServicePublicKeySig": pub,
    "oidcServiceKeyIdSig": kid,
    "oidcServiceAllowAuthorizationCodeFlow": 1,
    "oidcServiceIgnoreScopeForClaims": 1,
    "oidcRPMetaDataOptions": rps,
    "oidcRPMetaDataExportedVars": {k: claims for k in rps},
    "macros": {"_whatToTrace": "$uid"},
    "whatToTrace": "_whatToTrace",
    "exportedVars": {},
    "locationRules": {},
}
with open(os.path.join(d, "conf", "lmConf-%d.json" % cfgnum), "w") as f:
    json.dump(conf, f, indent=1)
with open(os.path.join(d, "lemonldap-ng.ini"), "w") as f:
    f.write(f"""[all]
logLevel = debug
checkTime = 1

[configuration]
type = File
dirName = {d}/conf

[portal]
staticPrefix = /static
templateDir = /usr/share/lemonldap-ng/portal/templates
languages = en
""")
