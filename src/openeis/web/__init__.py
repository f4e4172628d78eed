"""`openeis serve`: the web application, a thin caller of openeis.application.

    app.py        create_app: the FastAPI app, its security headers and error responses
    deps.py       request dependencies: the borrowed store, who is calling, their Session
    api.py        /api: the REST API (Pydantic models)
    pages.py      the server-rendered pages; rendering.py their templates and navigation
    charts.py     Vega-Lite specs; stores.py store connections per request
"""
