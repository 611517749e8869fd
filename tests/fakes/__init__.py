"""Test doubles that speak real protocols over loopback (the fake Bot API server)."""
