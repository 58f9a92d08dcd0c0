-- DELETE /api/{user}/tasks/{task}, each task once: the tasks come from BENCH_DELETE_POOL
-- ("<user> <task>" per line, made for this run by bench/run.py), split between the threads.
-- Should the pool run out, the thread starts it again and counts the 404s that follow as
-- stale_404, not as errors; bench/run.py sizes the pool so that it does not.
SCRIPT_NAME = "delete"
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

local mine_user, mine_task, next_one = {}, {}, 0

function script_init(args)
   local all_users, all_tasks = read_pairs(os.getenv("BENCH_DELETE_POOL") or "deletes.txt")
   local threads = tonumber(os.getenv("BENCH_THREADS") or "") or 1
   for i = thread_id or 1, #all_users, threads do
      mine_user[#mine_user + 1] = all_users[i]
      mine_task[#mine_task + 1] = all_tasks[i]
   end
   if #mine_user == 0 then
      io.stderr:write("delete.lua: thread " .. tostring(thread_id) .. " has no tasks to delete\n")
      os.exit(2)
   end
end

function request()
   next_one = next_one + 1
   if next_one > #mine_user then
      next_one = 1
      pool_wrapped = pool_wrapped + 1
   end
   local user = mine_user[next_one]
   return call("DELETE", user, "/api/" .. user .. "/tasks/" .. mine_task[next_one])
end
