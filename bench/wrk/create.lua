-- POST /api/{user}/tasks: a new task for a random user, half of them with a description.
SCRIPT_NAME = "create"
NEEDS_USERS = true
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

function create_body()
   if math.random() < 0.5 then
      return string.format('{"title":"%s","description":"Added during a load test."}', next_title())
   end
   return string.format('{"title":"%s"}', next_title())
end

function request()
   local user = users[math.random(#users)]
   return call("POST", user, "/api/" .. user .. "/tasks", create_body())
end
