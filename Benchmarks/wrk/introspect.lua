-- POST /oauth2/introspect of one access token, with client authentication.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. os.getenv("GH_BASIC")
wrk.body = "token=" .. os.getenv("GH_TOKEN")
