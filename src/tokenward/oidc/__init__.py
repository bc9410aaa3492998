"""The relying-party side of OpenID Connect: discovery, the authorization request, the callback."""
