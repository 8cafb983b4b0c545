"""The worker's evidence pipeline: from a text to a cited, explained verdict.

1. ``claims``: split the text into sentences, each a candidate claim (``hinglish``
   glosses romanized Hindi into English words for the English models).
2. ``subjectivity``: opinions, predictions and value judgements are Subjective.
3. ``knowledge``: each claim's sentence embedding is searched against the fact-check
   knowledge base (loaded from PostgreSQL) for the closest known claims.
4. ``stance``: an NLI model (when configured) or a transparent word-level check decides
   whether the known claim entails or contradicts the text's claim.
5. ``verdicts``: claim verdicts with their reasons, and the rule that derives the task's
   verdict from them.

``judge.EvidenceJudge`` runs the steps over a whole batch of texts at once.
"""
