def test_login_page_renders(client):
    assert client.get("/auth/login").status_code == 200


def test_world_builds(world, login):
    c = login(world.login["m_a1"])
    assert "党委A测验" in c.get("/").get_data(as_text=True)
