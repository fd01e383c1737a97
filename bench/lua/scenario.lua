-- wrk script for LearnHub's load scenarios.
-- usage: wrk -t T -c C -d D -s scenario.lua URL -- <save|page|login> <members.lua> <T>
-- A closed loop: each connection sends its next request when the last is answered, so it measures how
-- many requests a second the server can answer (its capacity), not the latency members feel at a given
-- rate (bench/openloop.py does that).
--   save:  POST the member's answer-save URL (JSON, X-CSRFToken, X-Attempt-Token), next position with its question id, seq + 1 each time
--   page:  GET the member's quiz page
--   login: POST /auth/login with the form's CSRF token, as the member
-- Members are split between threads (member i goes to thread i mod T); each thread takes its members
-- in turn, so with as many connections as members each member has about one request in flight.
-- A response with an unexpected status counts as "bad"; a save answered {"saved":false} as "stale".

local threads = {}
local created = 0

function setup(thread)
  thread:set("tid", created)
  created = created + 1
  table.insert(threads, thread)
end

function init(args)
  mode = args[1]
  local all = dofile(args[2])
  local nthreads = tonumber(args[3])
  mine = {}
  for i, m in ipairs(all) do
    if (i - 1) % nthreads == tid then table.insert(mine, m) end
  end
  turn = 0
  bad = 0
  stale = 0
  expected = (mode == "login") and 302 or 200
end

local function answer(kind, seq)
  if kind == "single" then return tostring(seq % 2) end
  if kind == "multiple" then return "[0,1]" end
  if kind == "truefalse" then return (seq % 2 == 0) and '"true"' or '"false"' end
  return '["为人民服务"]'
end

function request()
  turn = turn % #mine + 1
  local m = mine[turn]
  if mode == "save" then
    m.seq = m.seq + 1
    local position = m.seq % #m.kinds + 1
    local body = string.format('{"position":%d,"q":%d,"answer":%s,"seq":%d}', position, m.questions[position],
                               answer(m.kinds[position], m.seq), m.seq)
    return wrk.format("POST", m.path, {["Cookie"] = m.cookie, ["X-CSRFToken"] = m.csrf,
                                       ["X-Attempt-Token"] = m.token, ["Content-Type"] = "application/json"}, body)
  elseif mode == "page" then
    return wrk.format("GET", m.path, {["Cookie"] = m.cookie})
  end
  local body = "csrf_token=" .. m.csrf .. "&identifier=" .. m.login .. "&password=" .. m.password
  return wrk.format("POST", m.path, {["Cookie"] = m.cookie,
                                     ["Content-Type"] = "application/x-www-form-urlencoded"}, body)
end

function response(status, headers, body)
  if status ~= expected then
    bad = bad + 1
  elseif mode == "save" and string.find(body, '"saved":false', 1, true) then
    stale = stale + 1
  end
end

function done(summary, latency, requests)
  local total_bad, total_stale = 0, 0
  for _, t in ipairs(threads) do
    total_bad = total_bad + t:get("bad")
    total_stale = total_stale + t:get("stale")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
    '"bad":%d,"stale":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout, total_bad, total_stale,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
