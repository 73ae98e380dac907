-- Push different split routes and DNS per group; everyone else keeps what
-- the routing plugin gave.
local ROUTES = {
  engineering = { "203.0.113.0/24", "198.18.0.0/15" },
  sales       = { "203.0.113.128/25" },
}

function before_tunnel(session, tunnel)
  local routes = ROUTES[session.group]
  if routes then
    tunnel.routes = routes
    tunnel.split_dns = { "corp.example" }
  end
end
