"""The Bridgework gateway: HTTP in, RPC out, and the web app."""
