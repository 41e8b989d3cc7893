-- A GET with a signed-in session's cookies (the consent page of /oauth2/authorize).
wrk.headers["Cookie"] = os.getenv("GH_COOKIE")
