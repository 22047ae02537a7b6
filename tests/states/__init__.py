"""Tests of the journeys' vocabulary (states/)."""
