"""Offline wording (short, spoken, no markdown) and the matching plain-words instructions for an LLM.

Wording varies by turn number so the interviewer does not sound like a loop; the choice is
deterministic (``pick(options, turn)``), so a resumed interview phrases the same way.
"""

from __future__ import annotations

from ._audience import Audience

__all__ = [
    "ACKS",
    "CHECK_INS",
    "REDIRECTS",
    "REPEATS",
    "ROUND_INTROS",
    "WAITS",
    "closing",
    "greet_instruction",
    "greeting",
    "instruction",
    "pick",
]

ACKS = (
    "Thanks.",
    "Thank you.",
    "Got it, thanks.",
    "Okay, thanks for that.",
    "Understood.",
    "Thanks for walking me through that.",
    "Alright, thank you.",
    "I appreciate that.",
)
REPEATS = ("Sure. {prompt}", "Of course. Here it is again: {prompt}", "No problem. {prompt}")
WAITS = ("Sure, take your time.", "No rush, take your time.", "Of course, take a moment.")
CHECK_INS = (
    "Are you still there? Take your time, and tell me if you'd like me to repeat the question.",
    "Just checking in. Would it help if I repeated the question?",
)
REDIRECTS = (
    "Let's keep our focus on the interview for now. {prompt}",
    "I'd rather stay on the question, if that's okay. {prompt}",
)
EXAMPLE_PROBES = (
    "Could you give me a specific example from your own experience?",
    "Can you walk me through a concrete example of that?",
    "Could you tell me about a real situation where you did that?",
)
DETAIL_PROBES = (
    "Could you go into a little more detail? An example would help.",
    "Can you say more about how that would work in practice?",
    "Could you expand on that a bit, maybe with an example?",
)
OUTCOME_PROBES = (
    "And what was the result in the end?",
    "How did it turn out, and how did you know it had worked?",
    "What was the outcome, and what did you take away from it?",
)
HINTS = (
    "That's okay. Here's a hint: {hint} Have a go whenever you're ready.",
    "No problem. Maybe this helps: {hint} Take your time.",
)
MOVE_ONS = (
    "That's completely fine. Let's move on.",
    "No worries at all, let's try a different one.",
)
WRAP_UPS = (
    "Thanks, that's very thorough. In the interest of time, let's move on.",
    "Thank you, that gives me a good picture. Let's keep going so we have time for everything.",
)
ROUND_INTROS = {
    "technical": "Let's start with some questions about the work itself.",
    "behavioural": "Now I'd like to hear about some of your past experiences.",
    "communication": "Next, a question about how you communicate.",
    "hr": "A few practical questions to finish.",
}
NEXT_STEPS = {
    "recruiter": "The hiring team will review our conversation and be in touch about next steps.",
    "practice": "Your coaching report will be ready shortly.",
}


def pick(options: tuple[str, ...], turn: int) -> str:
    return options[turn % len(options)]


def greeting(audience: Audience, *, role: str, minutes: int, practice: bool) -> str:
    """The opening words before the first question: names the candidate and the company when known
    ("Hi Dana, and thanks for joining. I'm the interviewer for the Backend Engineer role at Acme.")."""
    name, company = audience.greet_name, audience.company_name
    hello = f"Hi {name}, and thanks for joining." if name else "Hi, and thanks for joining."
    at = f" at {company}" if company else ""
    who = "the" if company else "your"
    relax = ", and it's a practice session, so relax" if practice else ""
    return (
        f"{hello} I'm {who} interviewer for the {role} role{at}. This will take about {minutes} "
        f"minutes{relax}. You can ask me to repeat a question at any time."
    )


def welcome_back(audience: Audience) -> str:
    name = audience.greet_name
    return f"Welcome back{', ' + name if name else ''}. Let's pick up where we left off."


def greet_instruction(audience: Audience, *, quoted: str, role: str, minutes: int) -> str:
    """The LLM's greeting instruction, with the names it must say (only those that are known)."""
    name, company = audience.greet_name, audience.company_name
    names = []
    if name:
        names.append(f"greet the candidate by their first name, {name}")
    if company:
        names.append(f"say the role is at {company}")
    extra = f" Also {' and '.join(names)}." if names else ""
    return instruction("greet", quoted=quoted, role=role, minutes=str(minutes)) + extra


def closing(*, mode: str, reason: str, turn: int, lead: str = "") -> str:
    """reason: done (all questions asked), time (time limit), stop (the candidate asked to stop).
    ``lead`` replaces the acknowledgement before "That was my last question"."""
    opening = {
        "done": f"{lead or pick(ACKS, turn)} That was my last question.",
        "time": "We're at time, so let's stop here.",
        "stop": "Of course, we can stop here.",
    }[reason]
    farewell = "Good luck!" if mode == "practice" else "Goodbye!"
    return (
        f"{opening} Thank you for your time today. {NEXT_STEPS.get(mode, NEXT_STEPS['recruiter'])} {farewell}"
    )


_INSTRUCTIONS = {
    "greet": (
        "Greet the candidate warmly in one or two sentences, say you are the interviewer for the {role} "
        "role and that it takes about {minutes} minutes, then ask the first question, keeping its "
        "meaning: {quoted}"
    ),
    "ask": (
        "Acknowledge the candidate's last answer in a few neutral words (do not praise, judge or score it), "
        "then ask the next question, keeping its meaning: {quoted}"
    ),
    "probe_example": (
        "The answer was brief or abstract. In one sentence, ask for one specific, real example from their "
        "own experience. Do not ask anything else."
    ),
    "probe_outcome": (
        "The story has no result yet. In one sentence, ask what the outcome was and how they knew it worked."
    ),
    "follow_up": "Ask this follow-up in your own words, in one sentence: {quoted}",
    "repeat": "The candidate asked you to repeat. Repeat the question clearly, word for word: {quoted}",
    "clarify": (
        "The candidate asked what you mean. Rephrase the question more simply, without hinting at the "
        "answer: {quoted}"
    ),
    "encourage_hint": (
        "The candidate is stuck. Reassure them in a few words, offer this hint without giving the answer "
        "away, and invite them to try: {quoted}"
    ),
    "encourage_move_on": (
        "The candidate doesn't know. Reassure them kindly that it's fine, then ask the next question, "
        "keeping its meaning: {quoted}"
    ),
    "redirect": (
        "The candidate went off topic. Politely steer back in a few words without engaging with the topic, "
        "then restate the question: {quoted}"
    ),
    "wrap_up": (
        "The answer is running long. Thank them, say you'll move on for time, then ask the next question, "
        "keeping its meaning: {quoted}"
    ),
    "check_in": (
        "The candidate has been silent for a while. Gently check they're still there and offer to repeat "
        "the question. One sentence."
    ),
    "wait": "The candidate is thinking. Reply with at most five words, such as: Take your time.",
    "close": (
        "Close the interview now: {why} Thank the candidate and say exactly this about next steps: "
        "{next_steps} Do not ask any more questions."
    ),
}


def instruction(key: str, *, quoted: str = "", **fields: str) -> str:
    return _INSTRUCTIONS[key].format(quoted=f'"{quoted}"' if quoted else "", **fields)
