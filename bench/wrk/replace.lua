-- PUT /api/{user}/tasks/{task}: a new title and description for a random seeded task.
-- (A peer whose PUT is partial takes the same body.)
SCRIPT_NAME = "replace"
NEEDS_PAIRS = true
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

function request()
   local i = math.random(#pair_user)
   local body = string.format('{"title":"%s","description":"Rewritten during a load test."}', next_title())
   return call("PUT", pair_user[i], "/api/" .. pair_user[i] .. "/tasks/" .. pair_task[i], body)
end
