"""The development launcher behind `make run` and `make test`.

`python -m agenthost.devstack run` starts web, worker and (when REDIS_URL is unset) an
embedded Redis; `python -m agenthost.devstack test [pytest args]` picks the databases the
test suite runs on and runs pytest. Nothing here is used by the service itself.
"""
