"""Pure ASGI middleware that protects every response: body size limit and security headers."""
