"""Tests of the care record read from the SSDA903 return."""
