"""Gemini's own REST surface: what the gateway reads and repairs in a native body (pure)."""
