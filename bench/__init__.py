"""The project's own loopback benchmark: `python -m bench` (see README, "Performance").

It starts a fast fake Gemini upstream on 127.0.0.1, measures the direct floor (a client talking
Gemini's wire format straight to the fake), then the gateway in front of the same fake, and
prints ratios against the targets. Every run is bounded in time and request count.
"""
