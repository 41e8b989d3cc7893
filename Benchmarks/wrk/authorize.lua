-- GET /oauth2/authorize with a signed-in session and remembered consent; keeps each code (one thread).
local codes = io.open(os.getenv("GH_CODES"), "w")
wrk.headers["Cookie"] = os.getenv("GH_COOKIE")
response = function(status, headers, body)
  local location = headers["Location"]
  if status == 302 and location then
    local code = location:match("[?&]code=([^&]+)")
    if code then codes:write(code, "\n") end
  end
end
done = function() codes:close() end
