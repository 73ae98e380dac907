-- The "guests" group: 20 Mbit/s each way, shorter idle and session
-- timeouts, a smaller MTU.
function before_tunnel(session, tunnel)
  if session.group == "guests" then
    tunnel.rate_limit_kbps = 20000
    tunnel.idle_timeout = 600
    tunnel.session_timeout = 4 * 3600
    tunnel.mtu = 1280
  end
end
