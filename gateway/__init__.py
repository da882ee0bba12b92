"""gemini-gateway: an OpenAI-compatible gateway in front of Google Gemini."""

__version__ = "0.2.0"
