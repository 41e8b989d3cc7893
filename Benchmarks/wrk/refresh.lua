-- POST /oauth2/token with refresh tokens; each answer's new refresh token goes back in the queue.
local queue = {}
for line in io.lines(os.getenv("GH_REFRESH")) do queue[#queue + 1] = line end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. os.getenv("GH_BASIC")
request = function()
  local token = table.remove(queue, 1) or "empty"
  return wrk.format(nil, nil, nil, "grant_type=refresh_token&refresh_token=" .. token)
end
response = function(status, headers, body)
  local token = body:match('"refresh_token":"([^"]+)"')
  if token then queue[#queue + 1] = token end
end
