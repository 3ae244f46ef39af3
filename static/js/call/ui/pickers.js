/**
 * The camera, microphone and speaker pickers: the pre-join form's and the
 * settings dialog's show the same lists and the same choice.
 * @module
 */

import { format } from "../format.js";
import { byId } from "./dom.js";

/** @typedef {"videoinput"|"audioinput"|"audiooutput"} DeviceKind */
/** @typedef {Record<DeviceKind, MediaDeviceInfo[]>} DeviceLists */
/** @typedef {Partial<Record<DeviceKind, string>>} DeviceChoice */

/** Per kind: [select id, id of the field around it], pre-join first. */
const PICKERS = /** @type {const} */ ({
  videoinput: [
    ["select-camera", "camera-field"],
    ["settings-camera", "settings-camera-field"],
  ],
  audioinput: [
    ["select-mic", "mic-field"],
    ["settings-mic", "settings-mic-field"],
  ],
  audiooutput: [
    ["select-speaker", "speaker-field"],
    ["settings-speaker", "settings-speaker-field"],
  ],
});

const KINDS = /** @type {DeviceKind[]} */ (Object.keys(PICKERS));

export class DevicePickers {
  /**
   * @param {Document} doc
   * @param {Record<string, any>} t the page's strings
   * @param {{canSetSink: boolean, onPick: (kind: DeviceKind, id: string) => void}} options
   */
  constructor(doc, t, { canSetSink, onPick }) {
    this.doc = doc;
    this.t = t;
    this.canSetSink = canSetSink;
    /** @type {Record<DeviceKind, {select: HTMLSelectElement, field: HTMLElement}[]>} */
    this.pickers = { videoinput: [], audioinput: [], audiooutput: [] };
    for (const kind of KINDS) {
      for (const [selectId, fieldId] of PICKERS[kind]) {
        const select = /** @type {HTMLSelectElement} */ (byId(doc, selectId));
        select.addEventListener("change", () => onPick(kind, select.value));
        this.pickers[kind].push({ select, field: byId(doc, fieldId) });
      }
    }
  }

  /**
   * Fill every picker (a field without devices is hidden).
   * @param {DeviceLists} lists
   * @param {DeviceChoice} selected
   */
  setDevices(lists, selected) {
    for (const kind of KINDS) {
      // Speakers only where the page can choose one (HTMLMediaElement.setSinkId).
      const devices = kind === "audiooutput" && !this.canSetSink ? [] : lists[kind];
      for (const { select, field } of this.pickers[kind]) {
        select.replaceChildren(
          ...devices.map((device, index) => {
            const option = this.doc.createElement("option");
            option.value = device.deviceId;
            option.textContent = device.label || format(this.t.deviceFallback, { n: index + 1 });
            return option;
          }),
        );
        field.hidden = devices.length === 0;
      }
    }
    this.select(selected);
  }

  /**
   * Show the devices in use (after a switch, or a failed one).
   * @param {DeviceChoice} selected
   */
  select(selected) {
    for (const kind of KINDS) {
      const value = selected[kind];
      for (const { select } of this.pickers[kind]) {
        if (value && [...select.options].some((option) => option.value === value)) {
          select.value = value;
        }
      }
    }
  }
}
