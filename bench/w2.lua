-- W2 for AdScale: GET /api/v1/campaigns/{id}/kpis?from=YYYY-MM-DD&to=YYYY-MM-DD
-- Each request: random tenant (its X-API-Key), random campaign of that tenant
-- (any status), random 30-day window inside the seeded date range. As in the
-- shared driver's wrk/w2.lua, a deterministic pool of 20,000 requests per wrk
-- thread (seeded per thread) is pre-formatted in init(), so every run sees the
-- same mix and wrk's own CPU per request stays tiny.
--
-- Data: BENCH_JSON = path of bench.json written by
--   adscale seed-demo --tenants 10 --campaigns 200 --days 365 --bench-out DIR
-- {"api_keys": ["<key of tenant 0>", ...],
--  "campaigns": [["<tenant index 0-9>", "<campaign uuid>"], ...],
--  "from": "YYYY-MM-DD", "to": "YYYY-MM-DD"}
-- (tenant indexes may be JSON strings or numbers; index i uses api_keys[i]).
--
-- Peers: as in bench/w1.lua, with PEER_W2_SCRIPT set and a port other than
-- TARGET_PORT (default 8080), the shared driver's own script runs instead.

local peer = os.getenv("PEER_W2_SCRIPT")
if peer and peer ~= "" and tostring(wrk.port) ~= (os.getenv("TARGET_PORT") or "8080") then
  dofile(peer)
  return
end

local N = 20000
local WINDOW_DAYS = 30

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

local function string_array(text, name)
  local body = text:match('"' .. name .. '"%s*:%s*(%b[])')
  local out = {}
  if body then
    for s in body:gmatch('"([^"]*)"') do out[#out + 1] = s end
  end
  return out
end

-- Days since 1970-01-01 of a proleptic Gregorian date (no time zone involved).
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = math.floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

local function parse_date(text, name, path)
  local y, m, d = text:match('"' .. name .. '"%s*:%s*"(%d%d%d%d)%-(%d%d)%-(%d%d)"')
  if not y then error("no \"" .. name .. "\": \"YYYY-MM-DD\" in " .. path) end
  return days_from_civil(tonumber(y), tonumber(m), tonumber(d))
end

local n_threads = 0
function setup(thread)
  n_threads = n_threads + 1
  thread:set("tid", n_threads)
end

local reqs = {}
local i = 0
function init(args)
  local text, path = read_bench_json()
  local keys = string_array(text, "api_keys")
  if #keys == 0 then error("no api_keys in " .. path) end

  -- campaigns grouped by tenant (1-based: tenant index 0 -> 1)
  local by_tenant, tenants = {}, {}
  local body = text:match('"campaigns"%s*:%s*(%b[])') or ""
  for t, id in body:gmatch('%[%s*"?(%d+)"?%s*,%s*"([^"]+)"%s*%]') do
    local k = tonumber(t) + 1
    if not keys[k] then error("campaign " .. id .. " has tenant index " .. t .. " without an api key") end
    if not by_tenant[k] then by_tenant[k] = {}; tenants[#tenants + 1] = k end
    local list = by_tenant[k]
    list[#list + 1] = id
  end
  if #tenants == 0 then error("no campaigns in " .. path) end
  table.sort(tenants)

  local first, last = parse_date(text, "from", path), parse_date(text, "to", path)
  local n_days = last - first + 1
  if n_days < 1 then error("\"from\" is after \"to\" in " .. path) end
  local window = math.min(WINDOW_DAYS, n_days)
  local dates = {}
  for d = 0, n_days - 1 do dates[d] = os.date("!%Y-%m-%d", (first + d) * 86400) end

  local headers = {}
  for _, k in ipairs(tenants) do headers[k] = { ["X-API-Key"] = keys[k] } end

  math.randomseed(2000 + (tid or 0))
  for r = 1, N do
    local k = tenants[math.random(1, #tenants)]
    local list = by_tenant[k]
    local id = list[math.random(1, #list)]
    local d = math.random(0, n_days - window)
    local p = string.format("/api/v1/campaigns/%s/kpis?from=%s&to=%s", id, dates[d], dates[d + window - 1])
    reqs[r] = wrk.format("GET", p, headers[k])
  end
end

function request()
  i = i + 1
  if i > N then i = 1 end
  return reqs[i]
end
