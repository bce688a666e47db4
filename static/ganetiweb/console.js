// The VNC console page: noVNC over a websocket opened with a single-use ticket.
// Every string a person reads comes from the page (console-config), translated there.
import RFB from "novnc/rfb";

const config = JSON.parse(document.getElementById("console-config").textContent);
const strings = config.strings;
const root = document.getElementById("console");
const screen = document.getElementById("console-screen");
const statusBadge = document.getElementById("console-status");
const message = document.getElementById("console-message");
const buttons = {
  connect: document.getElementById("console-connect"),
  disconnect: document.getElementById("console-disconnect"),
  cad: document.getElementById("console-cad"),
  fullscreen: document.getElementById("console-fullscreen"),
  paste: document.getElementById("console-paste"),
};
const scale = document.getElementById("console-scale");
const clipboard = document.getElementById("console-clipboard");
const csrfToken = root.querySelector("[name=csrfmiddlewaretoken]").value;

let rfb = null;
let userDisconnected = false;

function setState(state) {
  root.dataset.consoleState = state;
  const badge = { connecting: "text-bg-info", connected: "text-bg-success" }[state];
  statusBadge.className = `badge ${badge || "text-bg-secondary"}`;
  statusBadge.textContent = strings[state];
  const connected = state === "connected";
  buttons.connect.disabled = state !== "disconnected";
  buttons.disconnect.disabled = state === "disconnected";
  buttons.cad.disabled = !connected;
  buttons.paste.disabled = !connected;
}

function showMessage(text) {
  message.textContent = text || "";
  message.classList.toggle("d-none", !text);
}

function messageFor(close) {
  if (!close || !close.opened) return strings.refused;
  return strings.close_messages[String(close.code)] || strings.lost;
}

async function connect() {
  showMessage("");
  setState("connecting");
  userDisconnected = false;
  let answer;
  try {
    const response = await fetch(config.ticketUrl, {
      method: "POST",
      headers: { "X-CSRFToken": csrfToken },
      credentials: "same-origin",
    });
    answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      showMessage(answer.error || strings.refused);
      setState("disconnected");
      return;
    }
  } catch {
    showMessage(strings.lost);
    setState("disconnected");
    return;
  }
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(`${scheme}//${window.location.host}${answer.path}`);
  const close = { code: null, opened: false };
  socket.addEventListener("open", () => { close.opened = true; });
  socket.addEventListener("close", (event) => { close.code = event.code; });
  rfb = new RFB(screen, socket);
  rfb.scaleViewport = scale.checked;
  rfb.addEventListener("connect", () => {
    setState("connected");
    rfb.focus();
  });
  rfb.addEventListener("disconnect", () => {
    rfb = null;
    setState("disconnected");
    if (userDisconnected) return;
    showMessage(messageFor(close));
    if (close.code === config.movedCode) {
      window.setTimeout(connect, 1000); // follow the VM to its new node
    }
  });
  rfb.addEventListener("credentialsrequired", () => {
    showMessage(strings.credentials);
    userDisconnected = true; // our own message stays
    rfb.disconnect();
  });
}

buttons.connect.addEventListener("click", connect);
buttons.disconnect.addEventListener("click", () => {
  userDisconnected = true;
  if (rfb) rfb.disconnect();
});
buttons.cad.addEventListener("click", () => {
  if (rfb) rfb.sendCtrlAltDel();
});
buttons.fullscreen.addEventListener("click", () => {
  if (document.fullscreenElement) {
    document.exitFullscreen();
  } else {
    screen.requestFullscreen();
  }
});
scale.addEventListener("change", () => {
  if (rfb) rfb.scaleViewport = scale.checked;
});
buttons.paste.addEventListener("click", () => {
  if (rfb && clipboard.value) {
    rfb.clipboardPasteFrom(clipboard.value);
    rfb.focus();
  }
});

connect();
