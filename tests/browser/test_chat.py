"""Chat over the peers' data channels."""

from tests.browser.calls import join, make_room, open_call, start_call, wait_for_peers

XSS = '<img src=x onerror="window.__xss = 1">'


def send(page, text):
    if page.locator("#chat-panel").is_hidden():
        page.click("#ctl-chat")
    page.fill("#chat-input", text)
    page.press("#chat-input", "Enter")


def texts(page):
    return page.locator("#chat-log .chat-message__text").all_inner_texts()


def wait_for_texts(page, count):
    page.wait_for_function(
        "(n) => document.querySelectorAll('#chat-log .chat-message').length >= n", arg=count
    )


def test_chat_reaches_everyone_once_stays_text_and_late_joiner_gets_history(
    call_server, new_context, make_user
):
    minji, alex, sora = make_user("minji", "민지"), make_user("alex"), make_user("sora")
    room = make_room(minji, members=[alex, sora])
    first, second = (p.page for p in start_call(new_context, call_server, room, [minji, alex]))
    for page in (first, second):
        wait_for_peers(page, 1)

    send(first, "안녕하세요")
    wait_for_texts(second, 1)
    # Alex's chat is closed: an unread badge, cleared when it opens.
    badge = second.locator("#chat-unread")
    assert badge.is_visible()
    assert badge.inner_text() == "1"
    send(second, XSS)
    wait_for_texts(first, 2)
    assert badge.is_hidden()
    for page in (first, second):
        assert texts(page) == ["안녕하세요", XSS]
        assert page.locator("#chat-log img").count() == 0
        assert page.evaluate("() => window.__xss") is None
    assert first.locator("#chat-log .chat-message__name").all_inner_texts() == ["You", "Alex"]

    late = open_call(new_context(call_server, sora), room)
    join(late)
    wait_for_peers(late, 2)
    late.click("#ctl-chat")
    wait_for_texts(late, 2)
    # History arrives from both peers; ids keep each message once, in order.
    late.wait_for_timeout(300)
    assert texts(late) == ["안녕하세요", XSS]
    assert late.locator("#chat-log img").count() == 0

    send(late, "늦어서 죄송합니다")
    for page in (first, second):
        wait_for_texts(page, 3)
        assert texts(page)[-1] == "늦어서 죄송합니다"
        assert texts(page).count("늦어서 죄송합니다") == 1


def test_chat_input_is_limited_to_2000_characters(call_server, new_context, make_user):
    minji = make_user("minji")
    room = make_room(minji)
    page = open_call(new_context(call_server, minji), room)
    join(page)
    page.click("#ctl-chat")
    page.fill("#chat-input", "가" * 2001)
    assert len(page.input_value("#chat-input")) == 2000


def test_chat_module_drops_duplicates_invalid_and_oversized_messages(
    call_server, new_context, make_user
):
    minji = make_user("minji")
    page = open_call(new_context(call_server, minji), make_room(minji))
    result = page.evaluate(
        """async () => {
            const { Chat } = await import('/static/js/call/chat.js');
            const chat = new Chat({ name: 'A', maxLength: 10, history: 2 });
            const seen = [];
            chat.addEventListener('message', (e) => seen.push(e.detail.message.text));
            const m = (id, text, ts) => ({ type: 'chat', id, name: 'B', text, ts });
            chat.receive(JSON.stringify(m('1', 'second', 20)));
            chat.receive(JSON.stringify(m('1', 'second', 20)));
            chat.receive(JSON.stringify(m('2', 'first', 10)));
            chat.receive(JSON.stringify(m('3', 'x'.repeat(11), 30)));
            chat.receive(JSON.stringify({ type: 'chat', id: '4', name: 'B', text: 5, ts: 1 }));
            chat.receive('not json');
            chat.receive(JSON.stringify({ type: 'history', messages: [m('2', 'first', 10),
                                                                       m('5', 'third', 40)] }));
            return { seen, order: chat.messages.map((x) => x.text),
                     history: chat.history().messages.map((x) => x.id) };
        }"""
    )
    assert result["seen"] == ["second", "first", "third"]
    assert result["order"] == ["first", "second", "third"]
    assert result["history"] == ["1", "5"]
