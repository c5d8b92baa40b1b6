-- A fixed request for wrk. Arguments (after --): method, path, and a file holding the body
-- ("-" for none). Headers come from wrk's -H options.

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")

function init(args)
  local body = nil
  if args[3] and args[3] ~= "-" then
    local file = assert(io.open(args[3], "rb"))
    body = file:read("*a")
    file:close()
  end
  req = wrk.format(args[1], args[2], nil, body)
  failed = 0
  starved = 0
end

function request()
  return req
end

function response(status, headers, body)
  if status ~= 200 then
    failed = failed + 1
  end
end
