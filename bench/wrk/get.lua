-- GET /api/{user}/tasks/{task}: one task, a random seeded pair.
SCRIPT_NAME = "get"
NEEDS_PAIRS = true
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

function request()
   local i = math.random(#pair_user)
   return call("GET", pair_user[i], "/api/" .. pair_user[i] .. "/tasks/" .. pair_task[i])
end
