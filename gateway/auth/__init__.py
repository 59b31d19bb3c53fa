"""Authentication in the gateway: access tokens verified locally with identity's public keys,
revocations polled from identity, browser sessions in cookies with a CSRF token.

``sync.Auth`` holds the state (on ``app.state.auth``); ``deps`` turns a request
into a ``Principal`` / ``shared.contracts.Caller`` for the routes.
"""
