-- wrk script for `python -m bench`: POSTs the body in $BENCH_BODY and checks EVERY response:
-- status 200, at least $BENCH_MIN_BYTES bytes, ending with $BENCH_ENDS_WITH, every line of
-- $BENCH_EXPECT_FILE present (plain substring), and, when $BENCH_EVENTS > 0, exactly that many
-- `data:` lines. Prints one line:
-- BENCHWRK {json}.
local f = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
local auth = os.getenv("BENCH_AUTH")
if auth and #auth > 0 then wrk.headers["Authorization"] = auth end

local markers = {}
local expect_file = os.getenv("BENCH_EXPECT_FILE")
if expect_file and #expect_file > 0 then
  for line in io.lines(expect_file) do
    if #line > 0 then markers[#markers + 1] = line end
  end
end
local min_bytes = tonumber(os.getenv("BENCH_MIN_BYTES") or "0")
local events = tonumber(os.getenv("BENCH_EVENTS") or "0")
local ends_with = os.getenv("BENCH_ENDS_WITH") or ""

good = 0
bad = 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local function count_events(body)
  local n, pos = 0, 1
  while pos <= #body do
    local s = string.find(body, "data:", pos, true)
    if not s then break end
    n = n + 1
    pos = s + 5
  end
  return n
end

function response(status, headers, body)
  local ok = status == 200 and #body >= min_bytes
  if ok and #ends_with > 0 then ok = string.sub(body, -#ends_with) == ends_with end
  if ok then
    for i = 1, #markers do
      if not string.find(body, markers[i], 1, true) then
        ok = false
        break
      end
    end
  end
  if ok and events > 0 then ok = count_events(body) == events end
  if ok then good = good + 1 else bad = bad + 1 end
end

function done(summary, latency, requests)
  local g, b = 0, 0
  for _, t in ipairs(threads) do
    g = g + t:get("good")
    b = b + t:get("bad")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCHWRK {"requests":%d,"seconds":%.4f,"errors":%d,"good":%d,"bad":%d,' ..
    '"p50":%.4f,"p90":%.4f,"p99":%.4f,"max":%.4f}\n',
    summary.requests, summary.duration / 1e6, e.connect + e.read + e.write + e.timeout + e.status,
    g, b, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
