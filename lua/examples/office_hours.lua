-- Allow logins only on weekdays between 07:00 and 19:00 (server local time),
-- except for members of the "oncall" group. With policy-lua's
-- "reevaluate-interval" set, sessions still open at closing time are ended.
local OPEN_HOUR, CLOSE_HOUR = 7, 19

function after_auth(session)
  if session.group == "oncall" then
    return true
  end
  local now = wolfguard.localtime(session.time)
  local weekday = now.wday >= 2 and now.wday <= 6
  if weekday and now.hour >= OPEN_HOUR and now.hour < CLOSE_HOUR then
    return true
  end
  return false, string.format("VPN access is open Monday to Friday, %02d:00-%02d:00.", OPEN_HOUR, CLOSE_HOUR)
end

reevaluate = after_auth
