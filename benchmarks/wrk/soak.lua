-- The soak: a mix of reads and authenticated writes, counted per second and per kind.
-- Of every 20 requests: 8 election forecasts, 3 upcoming lists, 2 custom windows (POST /v1/forecasts),
-- 5 event pages and 2 new events (POST /v1/events, each with a unique id).
-- Environment: BENCH_TOKEN, BENCH_RUN (a run id for the event ids), BENCH_ELECTIONS (comma-separated ids),
-- BENCH_BODIES (forecast request bodies, one a line). done() prints BENCH_JSON {...}.

local token = os.getenv("BENCH_TOKEN") or ""
local run = os.getenv("BENCH_RUN") or "run"
local elections = {}
for id in string.gmatch(os.getenv("BENCH_ELECTIONS") or "", "[^,]+") do elections[#elections + 1] = id end
local bodies = {}
for line in io.lines(os.getenv("BENCH_BODIES")) do
  if line ~= "" then bodies[#bodies + 1] = line end
end

local KINDS = { "election", "election", "upcoming", "events", "election", "window", "events", "election",
                "write", "election", "upcoming", "events", "election", "window", "events", "election",
                "write", "election", "upcoming", "events" }

local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_id", #threads)
end

local n = 0
per_second = {}          -- [second] = responses completed
sent = {}                -- [kind] = requests sent
by_status = {}           -- [status] = responses

function request()
  n = n + 1
  local kind = KINDS[(n % #KINDS) + 1]
  sent[kind] = (sent[kind] or 0) + 1
  if kind == "election" then
    return wrk.format("GET", "/v1/elections/" .. elections[(n % #elections) + 1] .. "/forecast")
  elseif kind == "upcoming" then
    return wrk.format("GET", "/v1/forecasts/upcoming")
  elseif kind == "window" then
    return wrk.format("POST", "/v1/forecasts", { ["Content-Type"] = "application/json" }, bodies[(n % #bodies) + 1])
  elseif kind == "events" then
    return wrk.format("GET", "/v1/events?limit=20&offset=" .. ((n * 37) % 400))
  end
  local id = string.format("soak-%s-%d-%d", run, thread_id, n)
  local body = string.format(
    '{"id":"%s","date":"2026-01-15","event_type":"artillery","description":"Benchmark soak row","source":"benchmark"}', id)
  return wrk.format("POST", "/v1/events",
    { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }, body)
end

function response(status, headers, body)
  local second = os.time()
  per_second[second] = (per_second[second] or 0) + 1
  by_status[status] = (by_status[status] or 0) + 1
end

local function encode(t)
  local parts = {}
  for k, v in pairs(t) do parts[#parts + 1] = string.format('"%s": %d', tostring(k), v) end
  return "{" .. table.concat(parts, ", ") .. "}"
end

function done(summary, latency, requests)
  local seconds, kinds, statuses = {}, {}, {}
  for _, thread in ipairs(threads) do
    for k, v in pairs(thread:get("per_second")) do seconds[k] = (seconds[k] or 0) + v end
    for k, v in pairs(thread:get("sent")) do kinds[k] = (kinds[k] or 0) + v end
    for k, v in pairs(thread:get("by_status")) do statuses[k] = (statuses[k] or 0) + v end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"p50": %d, "p99": %d, "max": %d}, "per_second": %s, "sent": %s, "by_status": %s}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max, encode(seconds), encode(kinds), encode(statuses)))
end
