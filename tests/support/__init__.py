"""What the tests share: throwaway PostgreSQL servers and their fixtures, hand-made and
synthetic forces, the web tests' world, running the real command. Nothing here is a test.

    postgres_server.py   a throwaway cluster per worker; store_url, any_store, postgres_url
    commands.py          run_openeis (the real command in a subprocess), store_digest
    handmade.py          a tiny hand-made force written as canonical files
    feature_stores.py    stores built directly with SQL, and the hand-made feature force
    audit_synthetic.py   synthetic forces scored for the audit tests
    models.py            a small, fast model configuration and a trained-ready store
    web_world.py         the web tests' force, flags and one account per role
    retention.py         the retention tests' force
"""
