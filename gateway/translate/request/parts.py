"""One OpenAI content part → one Gemini part (text, inlineData or fileData)."""

from __future__ import annotations

from typing import Any, Final

from gateway.errors import InvalidImageUrlError, InvalidRequestError
from gateway.protocol.stand_in import Payload
from gateway.translate.data_urls import parse_data_url
from gateway.translate.request.resolved import Resolved

Json = dict[str, Any]

FILES_API_PREFIXES: Final = (
    "files/",
    "https://generativelanguage.googleapis.com/v1beta/files/",
    "https://generativelanguage.googleapis.com/v1/files/",
    "https://generativelanguage.googleapis.com/v1alpha/files/",
)
EXTENSION_TO_MIME: Final[dict[str, str]] = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "heic": "image/heic",
    "heif": "image/heif",
    "pdf": "application/pdf",
    "mp3": "audio/mp3",
    "wav": "audio/wav",
    "mp4": "video/mp4",
    "txt": "text/plain",
}
AUDIO_FORMAT_TO_MIME: Final[dict[str, str]] = {
    "wav": "audio/wav",
    "mp3": "audio/mp3",
    "flac": "audio/flac",
    "aac": "audio/aac",
    "ogg": "audio/ogg",
    "pcm16": "audio/pcm",
    "aiff": "audio/aiff",
}


def url_kind(url: str, hosted_base: str | None) -> str:
    """data | file | hosted | fetch | invalid — decided on the URL text alone."""
    if url.startswith("data:"):
        return "data"
    if url.startswith(("gs://", *FILES_API_PREFIXES)):
        return "file"
    if hosted_base and url.startswith(f"{hosted_base}/v1/files/"):
        return "hosted"
    if url.startswith(("http://", "https://")):
        return "fetch"
    return "invalid"


def guess_mime(uri: str) -> str | None:
    tail = uri.rsplit("/", 1)[-1]
    ext = tail.rsplit(".", 1)[-1].lower() if "." in tail else ""
    return EXTENSION_TO_MIME.get(ext)


def inline(mime: str, data: Payload) -> Json:
    return {"inlineData": {"mimeType": mime, "data": data}}


def image_url_part(url: str, param: str, resolved: Resolved) -> Json:
    kind = url_kind(url, resolved.hosted_base)
    if kind == "data":
        parsed = parse_data_url(url, resolved.payload_of(url))
        if parsed is None:
            raise InvalidImageUrlError(
                "invalid data URL: expected 'data:<mime>;base64,<payload>'", param=param
            )
        return inline(parsed.mime_type, parsed.data)
    if kind == "file":
        uri = url.removeprefix("files/")
        if url.startswith("files/"):
            uri = f"https://generativelanguage.googleapis.com/v1beta/files/{uri}"
        file_data: Json = {"fileUri": uri}
        mime = guess_mime(url)
        if mime:
            file_data["mimeType"] = mime
        return {"fileData": file_data}
    if kind in {"hosted", "fetch"}:
        found = resolved.images.get(url)
        if found is None:
            raise InvalidImageUrlError("image URL could not be resolved", param=param)
        return inline(found[0], found[1])
    raise InvalidImageUrlError(
        "unsupported image URL: use a data: URL, http(s), gs:// or a Gemini Files URI",
        param=param,
    )


def image_url_of(part: Json) -> str:
    image = part.get("image_url")
    url = image.get("url") if isinstance(image, dict) else image
    return url if isinstance(url, str) else ""


def audio_part(part: Json, param: str) -> Json:
    audio = part["input_audio"]
    fmt = str(audio.get("format") or "wav").lower()
    mime = AUDIO_FORMAT_TO_MIME.get(fmt)
    if mime is None:
        raise InvalidRequestError(
            f"unsupported audio format {fmt!r}; expected one of {sorted(AUDIO_FORMAT_TO_MIME)}",
            param=f"{param}.input_audio.format",
        )
    return inline(mime, audio["data"])


def file_part(part: Json, param: str, resolved: Resolved) -> Json:
    spec = part["file"]
    data = spec.get("file_data")
    if isinstance(data, str) and data:
        parsed = parse_data_url(data, resolved.payload_of(data))
        if parsed is not None:
            return inline(parsed.mime_type, parsed.data)
        mime = guess_mime(str(spec.get("filename") or "")) or "application/pdf"
        return inline(mime, data)
    file_id = spec.get("file_id")
    if isinstance(file_id, str) and file_id:
        return image_url_part(file_id if "/" in file_id else f"files/{file_id}", param, Resolved())
    raise InvalidRequestError(
        "a file part needs 'file.file_data' (base64 or data URL) or 'file.file_id'",
        param=f"{param}.file",
    )


def to_gemini_user_part(part: Json | str, param: str, resolved: Resolved) -> Json | None:
    if isinstance(part, str):
        return {"text": part}
    kind = part.get("type")
    if kind == "text":
        return {"text": part["text"]}
    if kind == "image_url":
        return image_url_part(image_url_of(part), f"{param}.image_url.url", resolved)
    if kind == "input_audio":
        return audio_part(part, param)
    if kind == "file":
        return file_part(part, param, resolved)
    return None
