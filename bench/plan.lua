-- wrk script: replay a request plan written by bench/run.py.
--
--   wrk -t THREADS ... -s bench/plan.lua URL -- PLAN_FILE RUN_TAG THREADS
--
-- Plan file: a first line `METHOD<TAB>PATH<TAB>BODY`, then one line `TOKEN<TAB>ID` per
-- caller. `{id}` in PATH becomes the row's ID. Requests walk the rows round robin across
-- all threads, so each row (one org's token) gets an even share. When BODY is not empty
-- every request carries a fresh `Idempotency-Key`: RUN_TAG-thread-counter.
-- `done` prints one line of JSON that run.py parses.

local thread_count = 0

function setup(thread)
  thread:set("thread_index", thread_count)
  thread_count = thread_count + 1
end

local method, path, body, rows, counter, tag, stride

function init(args)
  local plan = assert(io.open(args[1], "r"))
  method, path, body = plan:read("*l"):match("^([^\t]*)\t([^\t]*)\t(.*)$")
  rows = {}
  for line in plan:lines() do
    local token, id = line:match("^([^\t]*)\t(.*)$")
    table.insert(rows, {authorization = "Bearer " .. token, id = id})
  end
  plan:close()
  tag = args[2]
  counter = 0
  stride = tonumber(args[3])  -- wrk's thread count: rows are shared round robin
end

function request()
  local index = counter * stride + thread_index
  local row = rows[index % #rows + 1]
  counter = counter + 1
  local headers = {["Authorization"] = row.authorization}
  if body ~= "" then
    headers["Content-Type"] = "application/json"
    headers["Idempotency-Key"] = tag .. "-" .. thread_index .. "-" .. counter
  end
  local target = (path:gsub("{id}", row.id))
  return wrk.format(method, target, headers, body ~= "" and body or nil)
end

function done(summary, latency, requests)
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "non_2xx": %d, "socket_errors": %d, ' ..
    '"p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
