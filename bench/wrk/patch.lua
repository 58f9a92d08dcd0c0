-- PATCH /api/{user}/tasks/{task} {"title"}: rename a random seeded task.
SCRIPT_NAME = "patch"
NEEDS_PAIRS = true
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

function request()
   local i = math.random(#pair_user)
   local body = string.format('{"title":"%s"}', next_title())
   return call("PATCH", pair_user[i], "/api/" .. pair_user[i] .. "/tasks/" .. pair_task[i], body)
end
