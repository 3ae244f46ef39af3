/**
 * "Copy invite link" in a call: ask the server for the host's call invite
 * (one that allows guests, or not) and put it on the clipboard, or show it
 * to copy by hand when the page has no clipboard access.
 * @module
 */

/**
 * @param {object} options
 * @param {string} options.url the call invite endpoint
 * @param {string} options.csrf
 * @param {boolean} options.guests whether people without an account may use the link
 * @param {Record<string, any>} options.t the page's strings
 * @param {(text: string, options?: {kind?: "info"|"error"}) => void} options.notify
 */
export async function copyInviteLink({ url, csrf, guests, t, notify }) {
  let link;
  try {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, Accept: "application/json" },
      body: new URLSearchParams(guests ? { guests: "1" } : {}),
    });
    const body = await response.json();
    if (!response.ok) {
      notify(body.error || t.inviteFailed, { kind: "error" });
      return;
    }
    link = body.url;
  } catch {
    notify(t.inviteFailed, { kind: "error" });
    return;
  }
  try {
    await navigator.clipboard.writeText(link);
    notify(guests ? t.inviteGuestsCopied : t.inviteCopied);
  } catch {
    // No clipboard access (permission, or not a secure context): show it to copy by hand.
    window.prompt(t.inviteShow, link);
  }
}
