"""Diff, notify and schedule: change detection, exports, digests, the CLI and the daemon."""
