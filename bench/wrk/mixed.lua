-- A mix of reads and writes, by default 70% reads: list 35, get 35, create 15, toggle 10, replace 5.
--   BENCH_MIX  e.g. "list=35,get=35,create=15,toggle=10,replace=5,patch=0"
SCRIPT_NAME = "mixed"
NEEDS_USERS = true
NEEDS_PAIRS = true
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

local known = { list = true, get = true, create = true, toggle = true, replace = true, patch = true }
local thresholds, total = {}, 0

function script_init(args)
   for name, weight in (os.getenv("BENCH_MIX") or "list=35,get=35,create=15,toggle=10,replace=5"):gmatch("(%a+)=(%d+)") do
      if not known[name] then
         io.stderr:write("mixed.lua: unknown operation in BENCH_MIX: " .. name .. "\n")
         os.exit(2)
      end
      total = total + tonumber(weight)
      thresholds[#thresholds + 1] = { total, name }
   end
end

local function pick()
   local roll = math.random() * total
   for _, entry in ipairs(thresholds) do
      if roll < entry[1] then return entry[2] end
   end
   return thresholds[#thresholds][2]
end

function request()
   local op = pick()
   count_op(op)
   if op == "list" then
      local user = users[math.random(#users)]
      return call("GET", user, "/api/" .. user .. "/tasks?limit=50")
   elseif op == "create" then
      local user = users[math.random(#users)]
      return call("POST", user, "/api/" .. user .. "/tasks", string.format('{"title":"%s"}', next_title()))
   end
   local i = math.random(#pair_user)
   local user, path = pair_user[i], "/api/" .. pair_user[i] .. "/tasks/" .. pair_task[i]
   if op == "get" then
      return call("GET", user, path)
   elseif op == "toggle" then
      return call("PATCH", user, path .. "/complete")
   elseif op == "patch" then
      return call("PATCH", user, path, string.format('{"title":"%s"}', next_title()))
   end
   return call("PUT", user, path, string.format('{"title":"%s","description":"Rewritten in a mixed load."}', next_title()))
end
