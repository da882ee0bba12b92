"""Where a native request body holds proto field names, and where it holds the caller's own keys.

Gemini's REST API is proto3 JSON: every field name may be written camelCase or snake_case. The
snake_case repair renames only the names listed here, each in its own message: a function's
arguments, a function response, a JSON schema's property names or a part's metadata are the
caller's data (a `user_id` argument must stay `user_id`), so they are opaque (`None`) and never
walked. A name not listed is left exactly as sent, for Gemini to accept or refuse.

Messages as in google.ai.generativelanguage v1beta (and google-genai 3.x types).
"""

from __future__ import annotations

from typing import Final

Fields = dict[str, str | None]  # camelCase field name -> its message (None: scalar or opaque)

MESSAGES: Final[dict[str, Fields]] = {
    "GenerateContentRequest": {
        "model": None,
        "contents": "Content",
        "systemInstruction": "Content",
        "tools": "Tool",
        "toolConfig": "ToolConfig",
        "safetySettings": "SafetySetting",
        "generationConfig": "GenerationConfig",
        "cachedContent": None,
    },
    "CountTokensRequest": {
        "contents": "Content",
        "generateContentRequest": "GenerateContentRequest",
    },
    "Content": {"role": None, "parts": "Part"},
    "Part": {
        "text": None,
        "inlineData": "Blob",
        "fileData": "FileData",
        "functionCall": "FunctionCall",
        "functionResponse": "FunctionResponse",
        "executableCode": "ExecutableCode",
        "codeExecutionResult": "CodeExecutionResult",
        "thought": None,
        "thoughtSignature": None,
        "videoMetadata": "VideoMetadata",
        "mediaResolution": "MediaResolution",
        "partMetadata": None,
    },
    "Blob": {"mimeType": None, "data": None, "displayName": None},
    "FileData": {"mimeType": None, "fileUri": None, "displayName": None},
    "FunctionCall": {"id": None, "name": None, "args": None},
    "FunctionResponse": {
        "id": None,
        "name": None,
        "response": None,
        "parts": "FunctionResponsePart",
        "willContinue": None,
        "scheduling": None,
    },
    "FunctionResponsePart": {"inlineData": "Blob", "fileData": "FileData"},
    "ExecutableCode": {"language": None, "code": None},
    "CodeExecutionResult": {"outcome": None, "output": None},
    "VideoMetadata": {"startOffset": None, "endOffset": None, "fps": None},
    "MediaResolution": {"level": None},
    "Tool": {
        "functionDeclarations": "FunctionDeclaration",
        "googleSearch": "GoogleSearch",
        "googleSearchRetrieval": "GoogleSearchRetrieval",
        "codeExecution": None,
        "urlContext": None,
        "fileSearch": "FileSearch",
        "googleMaps": "GoogleMaps",
        "computerUse": "ComputerUse",
    },
    "FunctionDeclaration": {
        "name": None,
        "description": None,
        "parameters": None,
        "parametersJsonSchema": None,
        "response": None,
        "responseJsonSchema": None,
        "behavior": None,
    },
    "GoogleSearch": {"timeRangeFilter": "Interval"},
    "Interval": {"startTime": None, "endTime": None},
    "GoogleSearchRetrieval": {"dynamicRetrievalConfig": "DynamicRetrievalConfig"},
    "DynamicRetrievalConfig": {"mode": None, "dynamicThreshold": None},
    "FileSearch": {"fileSearchStoreNames": None, "metadataFilter": None, "topK": None},
    "GoogleMaps": {"enableWidget": None},
    "ComputerUse": {"environment": None, "excludedPredefinedFunctions": None},
    "ToolConfig": {
        "functionCallingConfig": "FunctionCallingConfig",
        "retrievalConfig": "RetrievalConfig",
    },
    "FunctionCallingConfig": {"mode": None, "allowedFunctionNames": None},
    "RetrievalConfig": {"latLng": "LatLng", "languageCode": None},
    "LatLng": {"latitude": None, "longitude": None},
    "SafetySetting": {"category": None, "threshold": None},
    "GenerationConfig": {
        "stopSequences": None,
        "responseMimeType": None,
        "responseSchema": None,
        "responseJsonSchema": None,
        "responseModalities": None,
        "candidateCount": None,
        "maxOutputTokens": None,
        "temperature": None,
        "topP": None,
        "topK": None,
        "seed": None,
        "presencePenalty": None,
        "frequencyPenalty": None,
        "responseLogprobs": None,
        "logprobs": None,
        "enableEnhancedCivicAnswers": None,
        "speechConfig": "SpeechConfig",
        "thinkingConfig": "ThinkingConfig",
        "imageConfig": "ImageConfig",
        "mediaResolution": None,
    },
    "ThinkingConfig": {"includeThoughts": None, "thinkingBudget": None, "thinkingLevel": None},
    "ImageConfig": {
        "aspectRatio": None,
        "imageSize": None,
        "personGeneration": None,
        "outputMimeType": None,
        "outputCompressionQuality": None,
    },
    "SpeechConfig": {
        "voiceConfig": "VoiceConfig",
        "multiSpeakerVoiceConfig": "MultiSpeakerVoiceConfig",
        "languageCode": None,
    },
    "VoiceConfig": {"prebuiltVoiceConfig": "PrebuiltVoiceConfig"},
    "PrebuiltVoiceConfig": {"voiceName": None},
    "MultiSpeakerVoiceConfig": {"speakerVoiceConfigs": "SpeakerVoiceConfig"},
    "SpeakerVoiceConfig": {"speaker": None, "voiceConfig": "VoiceConfig"},
}


def snake(name: str) -> str:
    return "".join(f"_{ch.lower()}" if ch.isupper() else ch for ch in name)


# Per message: snake_case spelling -> camelCase name, only where the two differ.
SNAKE_TO_CAMEL: Final[dict[str, dict[str, str]]] = {
    message: {snake(name): name for name in fields if snake(name) != name}
    for message, fields in MESSAGES.items()
}
