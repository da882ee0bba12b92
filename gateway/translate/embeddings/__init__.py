"""OpenAI embeddings (`POST /v1/embeddings`) ↔ Gemini `:batchEmbedContents`, pure: the request
checks and the Gemini batch bodies in request.py, the replies → the OpenAI list in response.py."""
