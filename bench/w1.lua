-- W1 for AdScale: GET /api/v1/campaigns?status=ACTIVE&limit=200 with the
-- X-API-Key of a random tenant (of the seeded ten) per request; the same
-- workload as the shared driver's wrk/w1.lua, on AdScale's own seeded keys.
--
-- Data: BENCH_JSON = path of bench.json written by
--   adscale seed-demo --tenants 10 --campaigns 200 --days 365 --bench-out DIR
-- ({"api_keys": [...], "campaigns": [[tenant, id], ...], "from": .., "to": ..};
-- W1 uses "api_keys" only).
--
-- The shared driver uses one W1 script for every target of an invocation. When
-- PEER_W1_SCRIPT is set (bench/run.sh sets it to the driver's own wrk/w1.lua)
-- and wrk is pointed at a port other than TARGET_PORT (AdScale's, default
-- 8080), this file hands over to that script, so the peers run with their own
-- keys in the same invocation.

local peer = os.getenv("PEER_W1_SCRIPT")
if peer and peer ~= "" and tostring(wrk.port) ~= (os.getenv("TARGET_PORT") or "8080") then
  dofile(peer)
  return
end

local PATH = "/api/v1/campaigns?status=ACTIVE&limit=200"

local function read_bench_json()
  local path = os.getenv("BENCH_JSON")
  if not path or path == "" then
    error("BENCH_JSON is not set (path of bench.json from adscale seed-demo --bench-out)")
  end
  local f, err = io.open(path, "r")
  if not f then error("cannot open BENCH_JSON: " .. tostring(err)) end
  local text = f:read("*a")
  f:close()
  return text, path
end

-- The string items of the JSON array under `name` (no nested arrays).
local function string_array(text, name)
  local body = text:match('"' .. name .. '"%s*:%s*(%b[])')
  local out = {}
  if body then
    for s in body:gmatch('"([^"]*)"') do out[#out + 1] = s end
  end
  return out
end

local n_threads = 0
function setup(thread)
  n_threads = n_threads + 1
  thread:set("tid", n_threads)
end

local reqs = {}
function init(args)
  local text, path = read_bench_json()
  local keys = string_array(text, "api_keys")
  if #keys == 0 then error("no api_keys in " .. path) end
  math.randomseed(1000 + (tid or 0))
  for t = 1, #keys do
    reqs[t] = wrk.format("GET", PATH, { ["X-API-Key"] = keys[t] })
  end
end

function request()
  return reqs[math.random(1, #reqs)]
end
