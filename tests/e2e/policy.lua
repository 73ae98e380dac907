-- Policy used by the end-to-end tests (tests/e2e/run.sh policy_*).
function after_auth(session)
  if session.user == "bob" then
    return false, "Bob may not use the VPN today."
  end
  if session.user == "carol" then
    error("carol's rule is broken")
  end
  if session.user == "dave" then
    while true do end -- an infinite loop must be cut off and deny
  end
  return true
end

function before_tunnel(session, tunnel)
  if session.groups[1] == "engineering" and #session.groups == 1 then
    table.insert(tunnel.routes, "198.18.0.0/15")
    tunnel.split_dns = { "corp.example" }
  end
end
