"""TwiML documents the voice webhook answers with (twilio's ``VoiceResponse``). Pure functions."""

from __future__ import annotations

from twilio.twiml.voice_response import Connect, VoiceResponse

__all__ = [
    "PROMPT_ASK_PIN",
    "PROMPT_GOODBYE",
    "PROMPT_RETRY_PIN",
    "ask_for_pin",
    "connect_stream",
    "recording_notice",
    "refuse",
]

PROMPT_ASK_PIN = "Hello, and welcome to your interview. Please enter the six digit PIN from your invitation."
PROMPT_RETRY_PIN = "Sorry, that PIN was not recognised. Please enter your six digit PIN again."
PROMPT_NO_INPUT = "I did not hear any digits."
PROMPT_GOODBYE = (
    "Sorry, we could not find your interview. Please check your invitation and call again. Goodbye."
)


def recording_notice(*, enabled: bool, audio_days: int, transcript_days: int) -> str:
    """What the caller hears before the interviewer: what is kept and for how long (the join page's notice,
    spoken)."""
    if not enabled:
        return "This call is transcribed; no audio is kept."
    audio = f"The audio is deleted after {audio_days} days" if audio_days else "The audio is kept"
    if transcript_days:
        rest = f"the transcript after {transcript_days} days, and the assessment is kept"
    else:
        rest = "the transcript and the assessment are kept"
    return (
        "This call is recorded and transcribed, your voice and the interviewer's. "
        f"{audio}; {rest} until they are erased."
    )


def ask_for_pin(*, action_url: str, retry: bool, timeout_s: int) -> str:
    """``<Gather input="dtmf" numDigits="6">`` with a spoken prompt; no input falls through to the action."""
    response = VoiceResponse()
    gather = response.gather(
        input="dtmf", num_digits=6, action=action_url, method="POST", timeout=timeout_s, finish_on_key="#"
    )
    gather.say(PROMPT_RETRY_PIN if retry else PROMPT_ASK_PIN)
    # Gather with no digits continues with the next verb: count it as a try at the same action URL.
    response.say(PROMPT_NO_INPUT)
    response.redirect(action_url, method="POST")
    return str(response)


def connect_stream(*, stream_url: str, interview_id: str, token: str, greeting: str | None = None) -> str:
    """``<Connect><Stream>`` to our Media Streams websocket; when the stream ends, hang up."""
    response = VoiceResponse()
    if greeting:
        response.say(greeting)
    connect = Connect()
    stream = connect.stream(url=stream_url)
    stream.parameter(name="interview_id", value=interview_id)
    stream.parameter(name="token", value=token)
    response.append(connect)
    response.hangup()
    return str(response)


def refuse(message: str) -> str:
    """A polite spoken message, then ``<Hangup/>``."""
    response = VoiceResponse()
    response.say(message)
    response.hangup()
    return str(response)
