"""The technical-speech set for ``python -m bench stt``: interview answers dense with the terms a scorer
and a recruiter look for, each with the context the interview knows when it is spoken.

``Answer.context`` is what the running interview would prime the recogniser with: the question, its key
points and the role's skills (``agent._vocabulary.interview_vocabulary`` builds the same string from a
plan). ``terms`` are the words of the rubric/skill list that the answer really says: term accuracy is the
share of them recognised. ``NEUTRAL`` answers say none of their context's terms: every context term in
their transcript is a false insertion. No registry package ships real people saying such answers (the
LibriVox clips are 19th-century prose), so they are spoken by voices that differ from the interviewer's
piper voice: the espeak-ng voices below, and two Kokoro-82M neural voices (``bench/_stt_voices.py``),
wideband and through a μ-law phone line.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["NEUTRAL", "TECHNICAL", "VOICES", "Answer"]

# espeak-ng voices unlike the interviewer's (piper en_US-joe): American, British RP (female), Scottish
VOICES = ("en-us", "en-gb-x-rp+f3", "en-gb-scotland")


@dataclass(frozen=True)
class Answer:
    domain: str
    context: str  # comma-separated, most important first, as the interview primes the recogniser
    text: str  # what the candidate says (the reference transcript)
    terms: tuple[str, ...] = ()  # context terms the answer says


_DATA = (
    "Kafka, idempotency key, duplicate invoices, exactly-once delivery, consumer group, partition, "
    "offset, Postgres, schema migration, Debezium, change data capture, backfill, dead letter queue"
)
_DB = (
    "Postgres, index, query planner, replication lag, read replica, sharding, vacuum, connection "
    "pooling, PgBouncer, deadlock, isolation level, foreign key, Redis, cache invalidation"
)
_ML = (
    "feature store, gradient boosting, XGBoost, overfitting, cross-validation, embeddings, precision, "
    "recall, data drift, hyperparameter, PyTorch, inference latency, quantization, fine-tuning"
)
_PRODUCT = (
    "roadmap, retention, churn, onboarding funnel, A/B test, north star metric, cohort, activation, "
    "user interviews, prioritization, Jira, stakeholders, OKRs, Figma"
)
_SALES = (
    "pipeline, quota, discovery call, Salesforce, churn, upsell, annual recurring revenue, objection "
    "handling, procurement, MEDDIC, champion, renewal, pricing, HubSpot"
)

TECHNICAL: tuple[Answer, ...] = (
    Answer(
        "streaming",
        _DATA,
        "We moved the billing events onto Kafka and every consumer checks an idempotency key, so a retry "
        "never creates duplicate invoices.",
        ("Kafka", "idempotency key", "duplicate invoices"),
    ),
    Answer(
        "streaming",
        _DATA,
        "Each consumer group reads its own partition and commits the offset only after the write to "
        "Postgres succeeds.",
        ("consumer group", "partition", "offset", "Postgres"),
    ),
    Answer(
        "streaming",
        _DATA,
        "We used Debezium for change data capture, and failed messages went to a dead letter queue that "
        "we replayed after the fix.",
        ("Debezium", "change data capture", "dead letter queue"),
    ),
    Answer(
        "streaming",
        _DATA,
        "The schema migration ran first, then a backfill job copied the old rows while Kafka kept the new "
        "events flowing.",
        ("schema migration", "backfill", "Kafka"),
    ),
    Answer(
        "streaming",
        _DATA,
        "True exactly-once delivery is expensive, so we settled for at least once plus an idempotency key "
        "on every payment.",
        ("exactly-once delivery", "idempotency key"),
    ),
    Answer(
        "databases",
        _DB,
        "The query planner ignored the index because the statistics were stale, so we ran vacuum and "
        "analyze on the table.",
        ("query planner", "index", "vacuum"),
    ),
    Answer(
        "databases",
        _DB,
        "Reads went to a read replica, but replication lag meant users sometimes saw their old profile.",
        ("read replica", "replication lag"),
    ),
    Answer(
        "databases",
        _DB,
        "We added PgBouncer for connection pooling because Postgres was running out of connections at peak.",
        ("PgBouncer", "connection pooling", "Postgres"),
    ),
    Answer(
        "databases",
        _DB,
        "Two transactions updated the same rows in opposite order and caused a deadlock, so we changed "
        "the isolation level and the lock order.",
        ("deadlock", "isolation level"),
    ),
    Answer(
        "databases",
        _DB,
        "We cached the product pages in Redis, and cache invalidation happened whenever the price table "
        "changed.",
        ("Redis", "cache invalidation"),
    ),
    Answer(
        "databases",
        _DB,
        "Sharding by customer kept every foreign key inside one shard, so joins never crossed machines.",
        ("sharding", "foreign key"),
    ),
    Answer(
        "machine learning",
        _ML,
        "Gradient boosting with XGBoost beat the neural network, and cross-validation showed it was not "
        "overfitting.",
        ("gradient boosting", "XGBoost", "cross-validation", "overfitting"),
    ),
    Answer(
        "machine learning",
        _ML,
        "We tracked precision and recall every week, and when data drift appeared we retrained from the "
        "feature store.",
        ("precision", "recall", "data drift", "feature store"),
    ),
    Answer(
        "machine learning",
        _ML,
        "Quantization of the PyTorch model halved the inference latency with almost no loss in accuracy.",
        ("quantization", "PyTorch", "inference latency"),
    ),
    Answer(
        "machine learning",
        _ML,
        "Fine-tuning the embeddings on our own tickets mattered more than any hyperparameter search.",
        ("fine-tuning", "embeddings", "hyperparameter"),
    ),
    Answer(
        "product",
        _PRODUCT,
        "Retention was fine but the onboarding funnel leaked, so the roadmap put activation first.",
        ("retention", "onboarding funnel", "roadmap", "activation"),
    ),
    Answer(
        "product",
        _PRODUCT,
        "We ran an A/B test on the pricing page and looked at each cohort for six weeks before deciding.",
        ("A/B test", "cohort"),
    ),
    Answer(
        "product",
        _PRODUCT,
        "Our north star metric was weekly active teams, and every item in Jira had to explain how it moved "
        "it.",
        ("north star metric", "Jira"),
    ),
    Answer(
        "product",
        _PRODUCT,
        "I ran twenty user interviews, shared the mockups in Figma, and used them to settle the "
        "prioritization with the stakeholders.",
        ("user interviews", "Figma", "prioritization", "stakeholders"),
    ),
    Answer(
        "sales",
        _SALES,
        "Every discovery call ended with next steps logged in Salesforce, which kept my pipeline honest.",
        ("discovery call", "Salesforce", "pipeline"),
    ),
    Answer(
        "sales",
        _SALES,
        "I closed the year at one hundred and twenty percent of quota, mostly from upsell to existing "
        "accounts.",
        ("quota", "upsell"),
    ),
    Answer(
        "sales",
        _SALES,
        "We qualified deals with MEDDIC, and no deal moved forward without a champion inside the buyer.",
        ("MEDDIC", "champion"),
    ),
    Answer(
        "sales",
        _SALES,
        "Procurement asked for a discount at renewal, and objection handling on pricing saved the deal.",
        ("procurement", "renewal", "objection handling", "pricing"),
    ),
    Answer(
        "sales",
        _SALES,
        "Annual recurring revenue grew because churn dropped once we moved every renewal into HubSpot.",
        ("annual recurring revenue", "churn", "renewal", "HubSpot"),
    ),
)

NEUTRAL: tuple[Answer, ...] = (  # answers that say none of their context's terms
    Answer(
        "streaming",
        _DATA,
        "I like working with people who say what they think, and I try to give feedback early and kindly.",
    ),
    Answer(
        "databases",
        _DB,
        "Honestly I have not done that myself, but I would ask a colleague and read the documentation.",
    ),
    Answer(
        "machine learning",
        _ML,
        "The hardest part of that year was moving to a new city while my father was ill.",
    ),
    Answer(
        "product",
        _PRODUCT,
        "I would like to grow into a team lead within two years and keep learning every week.",
    ),
    Answer("sales", _SALES, "On weekends I play football with friends and cook for my family."),
)
