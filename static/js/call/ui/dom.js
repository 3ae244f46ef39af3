/**
 * Small helpers the views share. Only ui/ touches the document.
 * @module
 */

/**
 * The element with `id`; a missing one is a bug in the template.
 * @template {HTMLElement} [T=HTMLElement]
 * @param {Document} doc
 * @param {string} id
 * @returns {T}
 */
export function byId(doc, id) {
  const element = doc.getElementById(id);
  if (!element) throw new Error(`call page: no #${id}`);
  return /** @type {T} */ (element);
}

/**
 * The first element under `root` matching `selector`.
 * @template {Element} [T=HTMLElement]
 * @param {ParentNode} root
 * @param {string} selector
 * @returns {T}
 */
export function find(root, selector) {
  const element = root.querySelector(selector);
  if (!element) throw new Error(`call page: no ${selector}`);
  return /** @type {T} */ (/** @type {unknown} */ (element));
}

/**
 * A fresh copy of a `<template>`'s first element.
 * @param {Document} doc
 * @param {string} id
 * @returns {HTMLElement}
 */
export function fromTemplate(doc, id) {
  const template = /** @type {HTMLTemplateElement} */ (byId(doc, id));
  const first = template.content.firstElementChild;
  if (!first) throw new Error(`call page: #${id} is empty`);
  return /** @type {HTMLElement} */ (first.cloneNode(true));
}

/**
 * Name an icon-only control, for screen readers and as a tooltip.
 * @param {HTMLElement} element
 * @param {string} text
 */
export function name(element, text) {
  element.setAttribute("aria-label", text);
  element.title = text;
}

/**
 * A toggle button: aria-pressed plus a name saying what a press does.
 * @param {HTMLElement} button
 * @param {boolean} on
 * @param {string} nameWhenOn
 * @param {string} nameWhenOff
 */
export function pressed(button, on, nameWhenOn, nameWhenOff) {
  button.setAttribute("aria-pressed", String(on));
  name(button, on ? nameWhenOn : nameWhenOff);
}

/**
 * Show a message in an element that is hidden while empty (null hides it).
 * @param {HTMLElement} element
 * @param {string|null} text
 */
export function message(element, text) {
  element.hidden = !text;
  element.textContent = text || "";
}

/**
 * Fill a level meter's bar (0–1).
 * @param {HTMLElement} bar
 * @param {number} level
 */
export function meter(bar, level) {
  bar.style.transform = `scaleX(${level.toFixed(3)})`;
}
