def test_landing_page_renders_without_console_errors(app_server, new_context):
    page = new_context(app_server).new_page()
    response = page.goto("/")
    assert response is not None
    assert response.status == 200
