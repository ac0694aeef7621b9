def test_smoke(client, anonymous):
    r = anonymous.get("/health"); print(r.status_code, r.json())
    r = anonymous.get("/inventory?env_name=lab-one"); print(r.status_code, r.json())
    for url in ["/inventory?env_name=lab-one", "/links?env_name=lab-one&attributes:network=x", "/cliques?env_name=lab-one",
                "/clique_types", "/clique_constraints", "/scans?env_name=lab-one", "/scheduled_scans?environment=lab-one",
                "/messages?env_name=lab-one", "/constants?name=link_types", "/monitoring_config_templates",
                "/environment_configs", "/environment_configs?name=lab-one", "/aggregates?type=constant",
                "/connection_tests?env_name=lab-one&test_results=true", "/search?env_name=lab-one&q=x", "/graph?env_name=lab-one&focal_point=x",
                "/impact?env_name=lab-one&id=x", "/diff?env_name=lab-one&from=2020-01-01&to=2030-01-01", "/openapi.json",
                "/inventory?env_name=lab-one&bogus=1", "/links?env_name=lab-one&link_type=foo-bar"]:
        r = client.get(url); print(url, r.status_code, str(r.json())[:300])
