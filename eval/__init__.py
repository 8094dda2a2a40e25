"""The evaluation harness: score the assistant on the gold set and gate regressions.

- ``gold``: load and check eval/gold_set.jsonl (typed :class:`eval.gold.GoldItem`);
- ``metrics``: pure metric functions (key-fact recall, hit@k, MRR, citation support ...);
- ``naive``: the naive reference (BM25 over fixed 1,000-character chunks + extractive answer);
- ``metrics_catalogue``: every summary metric declared once (direction, format, tolerance, chart);
- ``runner``: runs items through one :class:`assistant.engine.Assistant` and the reference;
- ``baseline``: compares a run with the stored baseline, within tolerances;
- ``report``: the run folder (JSONL, CSV, summary, Markdown and self-contained HTML report);
- ``judge``: the optional LLM-as-judge;
- ``feedback_to_gold``: thumbs-down feedback from the UI into draft gold items;
- ``orchestrate``: one run from its options to its folder and verdict, and the repeat of a saved run;
- ``console``: the eval commands' terminal face (progress, summary table, verdict).

Run it with ``icb-assistant eval`` (see eval/README.md).
"""
