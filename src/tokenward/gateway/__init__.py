"""Gateway mode: forward authentication, so an API in any language sits behind Tokenward's rules.

``routes`` reads the rule file, ``original`` the proxy's request, ``resolver`` asks the upstream
whose an object is, ``check`` runs the gate, ``endpoint`` answers ``/forward-auth``. Kept free
of imports here so that the command line can check a route file without loading the server.
"""
