"""Private hits (issue 20): items two states recorded, found without anyone seeing a serial."""
