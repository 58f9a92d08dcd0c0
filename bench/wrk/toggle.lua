-- PATCH /api/{user}/tasks/{task}/complete without a body: toggle a random seeded task.
SCRIPT_NAME = "toggle"
NEEDS_PAIRS = true
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

function request()
   local i = math.random(#pair_user)
   return call("PATCH", pair_user[i], "/api/" .. pair_user[i] .. "/tasks/" .. pair_task[i] .. "/complete")
end
