-- Refuse clients by platform (the device-id the client reports, e.g.
-- "linux-64", "win", "mac-intel", "android", "apple-ios").
local DENIED = { ["apple-ios"] = true, android = true }

function after_auth(session)
  local platform = session.platform or "unknown"
  if DENIED[platform] then
    return false, "Mobile devices may not use this VPN (" .. platform .. ")."
  end
  return true
end
