/** DOM helpers. Text goes through textContent, attributes through setAttribute: never markup. */

/**
 * Builds an element. User data can never become markup.
 * @param {string} tag
 * @param {Record<string, any>} [attrs]
 * @param {(Node | string | null | undefined | false)[]} [children]
 * @returns {HTMLElement}
 */
export function el(tag, attrs, children) {
  const node = document.createElement(tag);
  if (attrs) {
    for (const [name, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (name === "class") node.className = value;
      else if (name === "text") node.textContent = value;
      else if (name === "hidden") node.hidden = Boolean(value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
  }
  if (children) {
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
  }
  return node;
}

/**
 * replaceChildren() would turn null into the text "null"; this skips empty slots.
 * @param {Element} node
 * @param {(Node | null | undefined | false)[]} children
 */
export function setChildren(node, children) {
  /** @type {Node[]} */
  const nodes = [];
  for (const child of children) if (child) nodes.push(child);
  node.replaceChildren(...nodes);
}

/** @param {string | null | undefined} url @returns {boolean} */
export function isSafeImageUrl(url) {
  if (!url) return false;
  try {
    const parsed = new URL(url, location.href);
    return parsed.protocol === "https:" || parsed.protocol === "http:";
  } catch {
    return false;
  }
}

/**
 * A destructive button that asks for a second click instead of a blocking confirm() dialog.
 * @param {string} className
 * @param {string} label
 * @param {string} confirmLabel
 * @param {() => void} action
 */
export function confirmButton(className, label, confirmLabel, action) {
  const button = el("button", {
    type: "button",
    class: `imagechat-button imagechat-button--danger ${className}`,
    text: label,
  });
  /** @type {ReturnType<typeof setTimeout> | 0} */
  let armed = 0;
  button.addEventListener("click", () => {
    if (armed) {
      clearTimeout(armed);
      armed = 0;
      action();
      return;
    }
    button.textContent = confirmLabel;
    button.classList.add("imagechat-button--armed");
    armed = setTimeout(() => {
      armed = 0;
      button.textContent = label;
      button.classList.remove("imagechat-button--armed");
    }, 4000);
  });
  return button;
}

/**
 * Shows a message in a form's alert box.
 * @param {HTMLElement} box
 * @param {string} message
 */
export function showError(box, message) {
  box.textContent = message;
  box.hidden = false;
}

/** An alert box for a form's errors, hidden until a message is shown in it. */
export function errorBox() {
  const node = el("div", { class: "imagechat-error", role: "alert", hidden: true });
  return { node, show: (/** @type {string} */ message) => showError(node, message) };
}

/** Whether the platform's send shortcut uses ⌘ rather than Ctrl. */
export function usesCommandKey() {
  const platform =
    /** @type {any} */ (navigator).userAgentData?.platform || navigator.platform || "";
  return /mac|iphone|ipad|ipod/i.test(String(platform));
}

/**
 * Wires Ctrl/Cmd+Enter in a textarea to submit its form (plain Enter makes a new line).
 * @param {HTMLTextAreaElement} area
 * @param {HTMLFormElement} form
 */
export function submitOnCtrlEnter(area, form) {
  area.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
}
