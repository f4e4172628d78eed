"""The application layer: every action a user can take, once, for the CLI, the web
application and the demo alike.

Each action is one function taking a Session (who is acting, on which store, with which key
and configuration). It asks the policy (governance.policy) for the caller, does the work and
writes the access-log entry in one transaction; a refusal is logged as a refusal and raised
as a typed error (errors.py). Callers only turn arguments into a call and results into text,
HTML or JSON.

    session.py      opening a store and its key (the one place), the policy check, the log entry
    errors.py       typed refusals: Refused, AccessDenied, NotFound, Invalid, GateRefused
    ingest.py       ingest, the quarantine, the store's status
    data.py         features, labels, the Spark warehouse
    models.py       train, backtest, score, monitor, the registry, promotion, the bias audit
    detect.py       the integrity detectors
    review.py       the review queue, a flag, assignment, decisions, an officer's profile
    governance.py   subject access, retention, transparency, the access log, user accounts
"""
