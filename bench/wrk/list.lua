-- GET /api/{user}/tasks?...: the first page of a random user's tasks.
--   BENCH_LIST_QUERY   the query string (default "limit=50": newest first)
--   BENCH_LIST_SEARCH  1: add q=<one of BENCH_SEARCH_WORDS, at random>
SCRIPT_NAME = "list"
NEEDS_USERS = true
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

local query = os.getenv("BENCH_LIST_QUERY") or "limit=50"
local search = os.getenv("BENCH_LIST_SEARCH") == "1"
local words = split(os.getenv("BENCH_SEARCH_WORDS") or "report")

function request()
   local user = users[math.random(#users)]
   local path = "/api/" .. user .. "/tasks?" .. query
   if search then path = path .. "&q=" .. words[math.random(#words)] end
   return call("GET", user, path)
end
