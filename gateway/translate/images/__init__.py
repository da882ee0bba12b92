"""OpenAI Images API ↔ Gemini image models, pure: `request.py` parameters → one Gemini body
(`sizes.py` maps size/quality to imageConfig), `reply.py` replies → the OpenAI response."""
