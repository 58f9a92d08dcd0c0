-- What every load script shares. A script sets SCRIPT_NAME (and NEEDS_PAIRS / NEEDS_USERS),
-- loads this file with dofile(), then defines request(). bench/run.py sets the environment:
--
--   BENCH_DATA        directory holding users.txt and pairs.txt (`todo bench seed` writes them),
--                     and tokens.txt ("<user_id> <token>" per line) when BENCH_AUTH=1
--   BENCH_AUTH        1: send "Authorization: Bearer <token>" for the user whose path is requested
--   BENCH_THINK_MS    each connection is a user who pauses about this long (0.5x-1.5x, at random)
--                     before each request; unset or 0: no pause (a closed loop at full speed)
--   BENCH_THREADS     wrk's -t, so that a pool of tasks to delete can be split between threads
--   BENCH_SEARCH_WORDS  comma-separated words for q= (list.lua, mixed.lua)
--   BENCH_SIMULATED_USERS  users runs: a file of the users the connections stand for, one per line
--   BENCH_PAIRS       the "<user> <task>" file to read instead of pairs.txt (users runs: their tasks)
--
-- wrk runs one Lua state per thread (init, request, response, delay) and a main one (setup,
-- done). done() gathers the threads' counters and prints one line: BENCH_RESULT {json}.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("thread_id", #threads)
end

-- ------------------------------------------------------------------ thread state
statuses = {}        -- non-2xx status -> count
ops = {}             -- operation -> requests made (mixed.lua)
samples = {}         -- the first few non-2xx answers, to say what went wrong
stale_404 = 0        -- 404s that are not errors (delete.lua, once its pool ran out)
pool_wrapped = 0     -- how many times delete.lua went round its pool

local data_dir = os.getenv("BENCH_DATA") or "."
local with_auth = os.getenv("BENCH_AUTH") == "1"
local think_ms = tonumber(os.getenv("BENCH_THINK_MS") or "") or 0
local tokens = {}

function read_lines(name)
   local path = name:sub(1, 1) == "/" and name or (data_dir .. "/" .. name)
   local file, err = io.open(path, "r")
   if not file then
      io.stderr:write("cannot open " .. path .. ": " .. tostring(err) .. "\n")
      os.exit(2)
   end
   local lines = {}
   for line in file:lines() do
      if #line > 0 then lines[#lines + 1] = line end
   end
   file:close()
   if #lines == 0 then
      io.stderr:write(path .. " is empty\n")
      os.exit(2)
   end
   return lines
end

function read_pairs(name)
   local users, tasks = {}, {}
   for _, line in ipairs(read_lines(name)) do
      local user, task = line:match("^(%S+)%s+(%S+)")
      if user then
         users[#users + 1] = user
         tasks[#tasks + 1] = task
      end
   end
   return users, tasks
end

function split(text)
   local items = {}
   for item in (text or ""):gmatch("[^,]+") do items[#items + 1] = item end
   return items
end

function count_op(name)
   ops[name] = (ops[name] or 0) + 1
end

-- Titles a person might type, varied by a counter so that no write is a no-op.
local TITLES = {
   "Call the bank", "Buy milk", "Renew passport", "Write the quarterly report", "Book the dentist",
   "Fix the leaky tap", "Pay the electricity bill", "Plan the trip to Leeds", "Review PR", "Email Grace",
}
local written = 0
function next_title()
   written = written + 1
   return string.format("%s (%d-%d)", TITLES[math.random(#TITLES)], thread_id or 0, written)
end

function headers_for(user, body)
   local headers = {}
   if body then headers["Content-Type"] = "application/json" end
   if with_auth then
      local token = tokens[user]
      if not token then
         io.stderr:write("no token for user " .. user .. "\n")
         os.exit(2)
      end
      headers["Authorization"] = "Bearer " .. token
   end
   return headers
end

-- A request to a user's path, with their token when authentication is on.
function call(method, user, path, body)
   return wrk.format(method, path, headers_for(user, body), body)
end

-- In users runs a connection stands for one person, who uses one identity (one token) and
-- their own tasks: BENCH_SIMULATED_USERS lists those people, as many as connections, and each
-- thread keeps its share of them, so that every person makes a request about every think time.
function keep_simulated_users(people)
   local threads = tonumber(os.getenv("BENCH_THREADS") or "") or 1
   local mine, kept = {}, {}
   for i = thread_id or 1, #people, threads do
      mine[people[i]] = true
      kept[#kept + 1] = people[i]
   end
   if users then users = kept end
   if pair_user then
      local kept_user, kept_task = {}, {}
      for i, user in ipairs(pair_user) do
         if mine[user] then
            kept_user[#kept_user + 1] = user
            kept_task[#kept_task + 1] = pair_task[i]
         end
      end
      pair_user, pair_task = kept_user, kept_task
   end
end

function init(args)
   math.randomseed(os.time() * 1000 + (thread_id or 0) * 7919 + math.floor((os.clock() * 1e6) % 1e6))
   for _ = 1, 10 do math.random() end
   if NEEDS_USERS then
      users = read_lines("users.txt")
   end
   if NEEDS_PAIRS then
      pair_user, pair_task = read_pairs(os.getenv("BENCH_PAIRS") or "pairs.txt")
   end
   if os.getenv("BENCH_SIMULATED_USERS") then
      keep_simulated_users(read_lines(os.getenv("BENCH_SIMULATED_USERS")))
   end
   if with_auth then
      for _, line in ipairs(read_lines("tokens.txt")) do
         local user, token = line:match("^(%S+)%s+(%S+)")
         if user then tokens[user] = token end
      end
   end
   if script_init then script_init(args) end
end

if think_ms > 0 then
   function delay()
      return math.floor(think_ms * (0.5 + math.random()))
   end
end

function response(status, headers, body)
   if status >= 200 and status < 300 then return end
   if status == 404 and pool_wrapped > 0 then
      stale_404 = stale_404 + 1
      return
   end
   statuses[status] = (statuses[status] or 0) + 1
   if #samples < 3 then
      samples[#samples + 1] = status .. " " .. string.sub(body or "", 1, 200)
   end
end

-- ------------------------------------------------------------------ reporting (main state)
local function quote(text)
   text = tostring(text):gsub("[%c\"\\]", function(c)
      if c == '"' then return '\\"' elseif c == "\\" then return "\\\\" end
      return string.format("\\u%04x", c:byte())
   end)
   return '"' .. text .. '"'
end

local function object(map)
   local keys = {}
   for key in pairs(map) do keys[#keys + 1] = key end
   table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
   local parts = {}
   for _, key in ipairs(keys) do
      parts[#parts + 1] = quote(key) .. ":" .. string.format("%d", map[key])
   end
   return "{" .. table.concat(parts, ",") .. "}"
end

function done(summary, latency, requests)
   local status_counts, op_counts, bodies, stale, wrapped = {}, {}, {}, 0, 0
   for _, thread in ipairs(threads) do
      for status, n in pairs(thread:get("statuses") or {}) do
         local key = string.format("%d", status)
         status_counts[key] = (status_counts[key] or 0) + n
      end
      for op, n in pairs(thread:get("ops") or {}) do op_counts[op] = (op_counts[op] or 0) + n end
      for _, sample in ipairs(thread:get("samples") or {}) do
         if #bodies < 5 then bodies[#bodies + 1] = quote(sample) end
      end
      stale = stale + (thread:get("stale_404") or 0)
      wrapped = wrapped + (thread:get("pool_wrapped") or 0)
   end
   local non_2xx = 0
   for _, n in pairs(status_counts) do non_2xx = non_2xx + n end
   local ms = function(us) return string.format("%.3f", us / 1000) end
   local seconds = summary.duration / 1e6
   local e = summary.errors
   io.write("BENCH_RESULT {",
      '"script":', quote(SCRIPT_NAME or "?"),
      ',"duration_s":', string.format("%.3f", seconds),
      ',"requests":', string.format("%d", summary.requests),
      ',"rps":', string.format("%.2f", summary.requests / seconds),
      ',"latency_ms":{"min":', ms(latency.min), ',"mean":', ms(latency.mean), ',"stdev":', ms(latency.stdev),
      ',"p50":', ms(latency:percentile(50)), ',"p90":', ms(latency:percentile(90)),
      ',"p95":', ms(latency:percentile(95)), ',"p99":', ms(latency:percentile(99)),
      ',"p999":', ms(latency:percentile(99.9)), ',"max":', ms(latency.max), "}",
      ',"socket_errors":{"connect":', e.connect, ',"read":', e.read, ',"write":', e.write,
      ',"timeout":', e.timeout, "}",
      ',"non_2xx":', non_2xx, ',"statuses":', object(status_counts), ',"ops":', object(op_counts),
      ',"stale_404":', stale, ',"pool_wrapped":', wrapped,
      ',"samples":[', table.concat(bodies, ","), "]}\n")
end
