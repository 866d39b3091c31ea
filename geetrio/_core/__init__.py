"""geetrio's shared core: the trio plumbing every package stands on. Private: nothing
here is public API, the packages' ``__init__`` modules are.

- ``budget``: one connection budget per process, shared by every server (a floor each),
  and ``admit`` — a full server evicting its oldest idle connection for a waiting client.
- ``accept``: the one accept loop every server uses (budget, EMFILE backoff).
- ``backoff``: retry delays, doubling to a ceiling.
- ``nursery``: a nursery for an object's background tasks behind ``async with``.
- ``netjson``: JSON read off the network, one error for every hostile document.
- ``text``: input quoted in logs and error texts: escaped, shortened, rate-limited.
"""
