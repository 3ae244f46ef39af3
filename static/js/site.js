// Site-wide enhancements: copy buttons, confirmation prompts and a guard
// against double submits. Every page works without this script; it only
// makes the forms and links already there nicer to use.

const SUBMIT_GUARD_MS = 5000;

/**
 * @param {HTMLInputElement} input
 * @returns {Promise<boolean>}
 */
async function copyFrom(input) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(input.value);
      return true;
    } catch {
      // Permission refused: fall back to the selection below.
    }
  }
  input.focus();
  input.select();
  try {
    return document.execCommand("copy");
  } catch {
    return false;
  }
}

function setUpCopyButtons() {
  for (const button of document.querySelectorAll("button[data-copy]")) {
    if (!(button instanceof HTMLButtonElement)) continue;
    const input = document.getElementById(button.dataset.copy || "");
    if (!(input instanceof HTMLInputElement)) continue;
    const label = button.textContent;
    /** @type {ReturnType<typeof setTimeout>|undefined} */
    let timer;
    button.hidden = false;
    button.addEventListener("click", async () => {
      const copied = await copyFrom(input);
      if (!copied) {
        // Leave the text selected so the person can copy it by hand.
        input.focus();
        input.select();
        return;
      }
      button.textContent = button.dataset.copiedLabel || label;
      clearTimeout(timer);
      timer = setTimeout(() => {
        button.textContent = label;
      }, 2000);
    });
  }
}

function setUpSelectOnFocus() {
  for (const input of document.querySelectorAll("input[data-select-on-focus]")) {
    if (!(input instanceof HTMLInputElement)) continue;
    input.addEventListener("focus", () => input.select());
  }
}

/** @param {SubmitEvent} event */
function onSubmit(event) {
  const form = event.target;
  if (!(form instanceof HTMLFormElement)) return;
  if (form.dataset.submitting) {
    event.preventDefault();
    return;
  }
  const question = form.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
    return;
  }
  form.dataset.submitting = "true";
  setTimeout(() => delete form.dataset.submitting, SUBMIT_GUARD_MS);
}

// Pages restored from the back/forward cache keep their old state.
function onPageShow() {
  for (const form of document.querySelectorAll("form[data-submitting]")) {
    if (form instanceof HTMLFormElement) delete form.dataset.submitting;
  }
}

document.addEventListener("submit", onSubmit);
window.addEventListener("pageshow", onPageShow);
setUpCopyButtons();
setUpSelectOnFocus();
