"""Notifications: what the inbox tells a state's users, and how they choose to be mailed."""
