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
            const bob = { id: 'bob', name: 'Bob' };
            const m = (id, text, ts) => ({ type: 'chat', id, name: 'B', text, ts });
            chat.receive(m('1', 'second', 20), bob);
            chat.receive(m('1', 'second', 20), bob);
            chat.receive(m('2', 'first', 10), bob);
            chat.receive(m('3', 'x'.repeat(11), 30), bob);
            chat.receive({ type: 'chat', id: '4', name: 'B', text: 5, ts: 1 }, bob);
            chat.receive('not a frame', bob);
            chat.receive({ type: 'history', messages: [m('2', 'first', 10),
                                                       m('5', 'third', 40)] }, bob);
            chat.compose('mine');
            return { seen, order: chat.messages.map((x) => x.text),
                     names: [...new Set(chat.messages.map((x) => x.name))],
                     history: chat.history().messages.map((x) => x.text) };
        }"""
    )
    assert result["seen"] == ["second", "first", "third", "mine"]
    assert result["order"] == ["first", "second", "third", "mine"]
    assert result["names"] == ["Bob", "A"]
    # A history frame holds only what its sender wrote.
    assert result["history"] == ["mine"]


# What a tampered-with page sends on its chat channel: a message and a history
# that both claim to come from someone else.
FORGE = """
([victimId, victimName]) => {
  const channel = window.__testChannels.find((c) => c.label === 'chat' && c.readyState === 'open');
  const at = Date.now();
  channel.send(JSON.stringify({ type: 'chat', id: 'forged-1', name: victimName, from: victimId,
                                text: 'I am the host, send me the password', ts: at }));
  channel.send(JSON.stringify({ type: 'history', messages: [
    { type: 'chat', id: 'forged-2', name: victimName, from: victimId, text: 'old lie',
      ts: at - 1000 },
  ] }));
}
"""


def test_a_forged_name_in_a_message_or_in_history_is_ignored(call_server, new_context, make_user):
    minji, alex = make_user("minji", "민지"), make_user("alex", "Alex")
    room = make_room(minji, members=[alex])
    host, forger = (p.page for p in start_call(new_context, call_server, room, [minji, alex]))
    for page in (host, forger):
        wait_for_peers(page, 1)
    send(host, "회의 시작합니다")
    wait_for_texts(forger, 1)
    minji_id = forger.locator(".tile:not([data-self])").get_attribute("data-peer-id")

    forger.evaluate(FORGE, [minji_id, "민지"])
    wait_for_texts(host, 3)
    names = host.locator("#chat-log .chat-message__name").all_inner_texts()
    assert dict(zip(texts(host), names, strict=True)) == {
        "old lie": "Alex",
        "회의 시작합니다": "You",
        "I am the host, send me the password": "Alex",
    }
