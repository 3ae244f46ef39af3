import assert from "node:assert/strict";
import { test } from "node:test";
import { format, initial, plural } from "../../static/js/call/format.js";

test("placeholders are filled, unknown ones kept", () => {
  assert.equal(format("%(name)s joined", { name: "민지" }), "민지 joined");
  assert.equal(format("%(name)s and %(other)s", { name: "A" }), "A and %(other)s");
});

test("plural forms follow the language's rules", () => {
  const unread = { one: "%(n)s unread message", other: "%(n)s unread messages" };
  assert.equal(plural(unread, 1, "en"), "1 unread message");
  assert.equal(plural(unread, 2, "en"), "2 unread messages");
  assert.equal(plural(unread, 0, "en"), "0 unread messages");
  // Korean has one form: Django's ngettext gives the same text for both.
  const korean = { one: "읽지 않은 메시지 %(n)s개", other: "읽지 않은 메시지 %(n)s개" };
  assert.equal(plural(korean, 1, "ko"), "읽지 않은 메시지 1개");
  assert.equal(plural("%(n)s", 3, "en"), "3");
});

test("an avatar's initial is one whole character", () => {
  assert.equal(initial(" minji"), "M");
  assert.equal(initial("소라"), "소");
  assert.equal(initial("😀 x"), "😀");
  assert.equal(initial("  "), "?");
});
