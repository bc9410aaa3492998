"""Gateway mode: forward authentication, so an API in any language sits behind Tokenward's rules.

``routes`` holds the rules and ``route_file`` reads them; ``original`` reads the proxy's request,
``resolver`` asks the upstream whose an object is, ``check`` runs the gate and ``endpoint``
answers ``/forward-auth``. Nothing is imported here, so that the command line can check a route
file without loading the server.
"""
