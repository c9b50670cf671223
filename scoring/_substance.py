"""What an answer gives beyond naming things: actions, specifics, reasons, outcomes; and what it is not.

Pure functions over text, independent of any question bank:

- ``is_request`` / ``is_non_answer``: the candidate asked for something ("can we stop", "could you repeat
  that") or declined ("I don't know") instead of answering;
- ``sentence_substance``: per sentence, does the candidate say what they did or would do (a first-person
  verb), give specifics (figures, written as digits or words, names of things), a reason, or an outcome;
- ``stuffing``: STAR labels ("my action was"), empty outcomes ("the result was successful") and rubric
  phrases read out as a list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._text import content_stems

__all__ = [
    "GENERIC",
    "Substance",
    "has_figure",
    "is_non_answer",
    "is_request",
    "sentence_substance",
    "star_labels",
]

# Words that carry no specifics in an interview answer: praise, process words, STAR labels, hedges and
# corporate buzzwords. They are not counted as the candidate's own specific words.
GENERIC = frozenset(
    content_stems(
        """important always good great better best stuff try tried help helped improve improved success
        successful positive outcome result results situation task action learn learned learning lesson lot
        team work people make sure think probably usually maybe guess effective effectively efficient
        significantly significant everything anything something someone everyone overall approach handle
        handled manage managed ensure ensured focus communication communicate value proactive passionate hard
        care quality new challenge challenges grow growth nice fine okay general generally normally often
        sometimes various several many much things thing deal dealt issue issues problem problems way ways
        definitely obviously honestly leverage leveraged leveraging drive drove driven driving align aligned
        alignment stakeholder stakeholders accountability transparency ownership owned end best practice
        practices going forward culture continuous improvement deliver delivered deliverables strong
        initiative
        cross functional synergy synergies holistic impactful impact excellence robust scalable seamless
        streamlined streamline key core across board opportunity opportunities whole system believe believer
        big super careful thoughtful powerful simple complexity business needs case decision decisions right
        properly carefully clearly along trust driven career thought
        depends depend aware mindful consider considering important crucial critical essential cover covered
        covering mention mentioned address addressed matter mattered matters relevant aspect aspects point
        points
        topic topics exactly responsible responsibility situation here bit"""
    )
)
# Hedges and stock phrases: a sentence built on them says nothing unless it also gives a specific.
_HEDGE = re.compile(
    r"\b(?:best practices?|at the end of the day|it depends|depends on the|case by case|in general|i believe"
    r"|i think|big believer|super important|really important|the right way|make sure everything|going forward"
    r"|across the board|end to end|on the same page|the whole system|be careful|data driven|let the numbers"
    r"|continuous improvement|learning opportunity|i always try|i'?m (?:very|really|a)"
    r"|it'?s (?:really|all) about"
    r"|look into it|see what works|see how it goes|try (?:a few|some) things|and see"
    r"|(?:it|that) (?:was|went) (?:fine|ok|okay|alright|good))\b",
    re.I,
)
# A name of a thing mid-sentence (Postgres, VoiceOver, Android, Friday) or a token with a digit or an inner
# capital.
_NAMED = re.compile(r"(?<![.!?]\s)(?<!^)\b(?!I\b)[A-Z][a-zA-Z]+|\b\w*\d\w*\b|\b[a-z]+[A-Z]\w+")

_NUMBER_WORDS = (
    r"two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen"
    r"|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundreds?|thousands?|millions?"
    r"|billions?|dozens?|half|halved|third|quarter|twice|doubled?|tripled?|zero|percent"
)
_FIGURE = re.compile(
    rf"\b\d+(?:[.,]\d+)?\b|%|\b(?:{_NUMBER_WORDS})\b|\bone (?:in|of|out of|a|per) \w+"
    r"|\b\w+ times (?:as|the|more|faster)\b",
    re.I,
)
# A clause that says what someone does: "I rolled it back", "we added", "I'd ask", "you compare the two".
_ACTOR = re.compile(
    r"\b(?:i|we|you)(?:'d|'ll| would| will| can| could| should| then| also| just| first| finally)? "
    r"(?!(?:was|were|am|is|have|had|"
    r"think|guess|feel|believe|mean|know|hope|always|never|usually|really|like|love|get)\b)[a-z]+"
    r"|\b(?:is|it'?s|that'?s) when\b|\bhappens when\b|\bmeans that\b",  # or explains how something works
    re.I,
)
_REASON = re.compile(
    r"\b(?:because|so that|so (?:i|we|they|it|the|that|only|nobody|people)|since|which (?:means|meant)"
    r"|rather than|instead of|otherwise|that way|in case|to make sure|to see|to check|unless|if (?:it|they|we"
    r"|the|a|someone|something))\b",
    re.I,
)
_OUTCOME = re.compile(
    r"\b(?:went (?:from|down|up)|dropped|fell|rose|grew|saved|cut|halved|doubled|to zero|down to|up to"
    r"|within (?:a|an|the|\w+ (?:minutes|hours|days|weeks|months))|hasn't|haven't|never came back"
    r"|launched|shipped|agreed|signed|followed|landed|caught|found|turned out|explained|brought|took most)\b",
    re.I,
)
_STAR_LABEL = re.compile(
    r"\b(?:the|my|our) (?:situation|task|action|result|outcome)s? (?:was|were|is)\b|\bas a result,? the "
    r"(?:outcome|result)\b|\bthe (?:outcome|result) (?:was|of \w+ \w+ was) (?:successful|positive|good|great)"
    r"|\b(?:improved|increased) (?:\w+ )?(?:performance|reliability|satisfaction|results|compliance|uptime)"
    r"(?: significantly)?\b|\bresulted in (?:improved|a reduction|success)\b|\bwas successful\b",
    re.I,
)
_REQUEST = re.compile(
    r"\b(?:(?:can|could|may|shall) (?:we|i|you)\b.{0,40}\b(?:stop|end|finish|pause|break|skip|repeat"
    r"|say (?:that|it|the question) again|come back|move on|go to the next|explain|rephrase|clarify)"
    r"|repeat (?:that|the question)|say (?:that|it|the question) again|didn'?t (?:catch|hear|understand)"
    r"|what do you mean|how (?:much )?long(?:er)?|need to (?:go|leave)|end (?:here|the interview|this)"
    r"|stop the interview"
    r"|next question|take a (?:short )?break|come back to (?:this|it))",
    re.I,
)
_DECLINE = re.compile(
    r"\b(?:i (?:don'?t|do not) know|no idea|not sure|i'?d rather not|rather not answer|pass on this|"
    r"(?:isn'?t|is not|not) (?:really )?my area|never (?:really )?(?:worked|done|used|had)|can'?t think of)",
    re.I,
)


@dataclass(frozen=True, slots=True)
class Substance:
    actor: bool  # the candidate says what they did or would do
    figure: bool  # a number, in digits or words
    reason: bool
    outcome: bool
    named: bool  # names a thing: a product, a tool, a day, a place
    hedged: bool  # leans on stock phrases ("best practices", "it depends")
    specific_words: int  # content words that are neither rubric vocabulary nor generic filler

    @property
    def value(self) -> float:
        """0..1: how much a sentence gives beyond naming a topic."""
        spec = min(1.0, self.specific_words / 6)
        marks = (
            0.35 * self.actor + 0.25 * (self.figure or self.named) + 0.2 * self.reason + 0.2 * self.outcome
        )
        value = min(1.0, 0.6 * spec + 0.6 * marks) if self.specific_words >= 2 else 0.2 * marks
        if self.hedged and not (self.figure or self.named):
            value *= 0.3
        return value


def has_figure(text: str) -> bool:
    return bool(_FIGURE.search(text))


def star_labels(text: str) -> int:
    return len(_STAR_LABEL.findall(text))


def sentence_substance(text: str, specific_words: int) -> Substance:
    return Substance(
        actor=bool(_ACTOR.search(text)),
        figure=has_figure(text),
        reason=bool(_REASON.search(text)),
        outcome=bool(_OUTCOME.search(text)),
        named=bool(_NAMED.search(text.strip())),
        hedged=bool(_HEDGE.search(text)),
        specific_words=specific_words,
    )


def is_request(text: str, words: int) -> bool:
    """A short turn that asks the interviewer for something (stop, repeat, explain, a break) instead of
    answering. Long answers that contain such a phrase are answers."""
    return words <= 25 and bool(_REQUEST.search(text))


def is_non_answer(text: str, words: int) -> bool:
    """A short turn that declines: "I don't know", "not my area", "I'd rather not"."""
    return words <= 20 and bool(_DECLINE.search(text))
