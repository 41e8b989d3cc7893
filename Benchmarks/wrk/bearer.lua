-- GET with an OAuth access token as Authorization: Bearer.
wrk.headers["Authorization"] = "Bearer " .. os.getenv("GH_TOKEN")
