"""The `openeis` command line, a thin caller of openeis.application.

    common.py      options, consoles, who is calling (cli_actor), opening a session, refusals
    app.py         the root app: every group below registered on it, and main()
    setup.py       version, init, config show|docs, synth, demo
    ingest.py      ingest, quarantine list, status
    data.py        features, labels, splits, warehouse
    models.py      train, backtest, models list|show|promote|retire, score, monitor, audit
    detect.py      detect
    governance.py  sar, retention apply, transparency, log verify|head|show
    web.py         serve, users add|list|disable|enable|password|token
"""

from openeis.cli.app import app, main

__all__ = ["app", "main"]
