"""Tests for shoal.diagnostics."""
