-- wrk script: every request asks for a page no response cache has seen recently.
-- Arguments (after --): mode, run number, API key, the 1,000,000-conversation chatbot id.
--   pages:    pages of the big chatbot spread over its whole history, with and without a state filter
--   chatbots: page 1 of a new chatbot id on every request
local mode, run, key, big = "pages", 0, "", ""
local n = 0
local filters = { "", "&state=in_progress", "&state=resolved", "&state=closed" }

function init(args)
  mode, run, key, big = args[1], tonumber(args[2]), args[3], args[4]
  wrk.headers["X-API-Key"] = key
end

function request()
  n = n + 1
  local path
  if mode == "pages" then
    local filter, k = n % 4, math.floor(n / 4) + run * 7777
    -- Every state holds at least 100,000 conversations (10,000 pages); unfiltered, 100,000 pages.
    local page = filter == 0 and (k * 7919) % 99999 + 1 or (k * 7919) % 9973 + 1
    path = "/chatbots/" .. big .. "/conversations?page=" .. page .. filters[filter + 1]
  else
    path = string.format("/chatbots/%08x-0000-4000-8000-%012x/conversations", run, n)
  end
  return wrk.format("GET", path)
end
