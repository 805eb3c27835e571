"""The live layer: channel protocol, hub, per-connection writers, presence, usage, brokers."""
