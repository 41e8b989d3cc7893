-- POST /oauth2/token spending the collected codes, each once (one thread).
local codes = {}
for line in io.lines(os.getenv("GH_CODES")) do codes[#codes + 1] = line end
local next_code = 1
local redirect = os.getenv("GH_REDIRECT")
local verifier = os.getenv("GH_VERIFIER")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. os.getenv("GH_BASIC")
request = function()
  local code = codes[next_code] or "spent"
  next_code = next_code + 1
  local body = "grant_type=authorization_code&code=" .. code .. "&redirect_uri=" .. redirect:gsub(":", "%%3A"):gsub("/", "%%2F") .. "&code_verifier=" .. verifier
  return wrk.format(nil, nil, nil, body)
end
