"""What the tests share: throwaway PostgreSQL servers and their fixtures, hand-made and
synthetic forces, the web tests' world, running the real command. Nothing here is a test.

    postgres_server.py   a throwaway cluster per worker; store_url, any_store, postgres_url
    commands.py          run_openeis (the real command in a subprocess), store_digest, table_digests
    handmade.py          a tiny hand-made force written as canonical files
    replay.py            the replay tests: in-process openeis, a force's corrections, assert_identical
    canonical_cut.py     a canonical force cut at D by the shared data's recipe
    cpdp_cut.py          the Chicago CPDP copy cut at D by the same recipe
    engines.py           Spark's test settings and the cell-by-cell comparison of engines
    feature_stores.py    stores built directly with SQL, and the hand-made feature force
    retention.py         the retention tests' force
    adapter_checks.py    the adapter tests' stores and checks
    audit_synthetic.py   synthetic forces scored for the audit tests
    audit_studies.py     one seed of the audit's known-answer and power studies
    aequitas_env.py      the aequitas environment the audit is compared with
    detector_force.py    a synthetic force with planted anomalies, for the detectors
    models.py            a small, fast model configuration
    web_world.py         the web tests' force, flags and one account per role
    web_server.py        the app on a real uvicorn server in a thread (serving, free_port)
"""
