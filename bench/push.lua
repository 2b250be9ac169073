-- wrk script for `bench/run push`: each request POSTs a short text push to a random
-- ClientId <PUSH_PREFIX><0..PUSH_CLIENTS-1> (the load generator's ClientIds).
local n = tonumber(os.getenv("PUSH_CLIENTS") or "10000")
local prefix = os.getenv("PUSH_PREFIX") or "lg"
local body = "push-from-wrk"

function setup(thread)
    thread:set("id", tostring(thread))
end

function init(args)
    math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
end

function request()
    return wrk.format("POST", "/" .. prefix .. math.random(0, n - 1), nil, body)
end
