"""Browser tests: real pages in Debian's Chromium, driven by Playwright, checked by axe-core."""
