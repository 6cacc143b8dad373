"""Real-browser tests of the annotation page (Playwright driving Debian's Chromium)."""
