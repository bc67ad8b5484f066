-- wrk script: an authenticated POST /api/v1/items (the token comes from BENCH_TOKEN).
wrk.method = "POST"
wrk.body = '{"name": "benchmark item", "description": "made by wrk", "price": 9.5}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
