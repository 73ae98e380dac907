-- Used by tests/e2e/run.sh lua_examples: bob is admitted, then the periodic
-- re-evaluation withdraws his access.
function reevaluate(session)
  if session.user == "bob" then
    return false, "Re-evaluated: bob's access was withdrawn."
  end
  return true
end
