"""Bridgework shared package: contracts, tooth notation, config, DB/outbox, RPC client, logging."""
