"""Signing in, passwords, and the devices a member is signed in on."""
