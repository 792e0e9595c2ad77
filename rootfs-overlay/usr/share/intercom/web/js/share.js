// Sharing a room: the join link, a ready-made message, the clipboard and the Web Share API.

/** The join link for `code`: this page's address with ?room=code (other parameters kept). */
export function roomLink(pageUrl, code) {
  const url = new URL(pageUrl.href);
  url.hash = '';
  url.searchParams.set('room', code);
  return url.href;
}

export function shareMessage(link, code) {
  return `Join my video call: ${link}\nOr open ${new URL(link).origin}${new URL(link).pathname} and enter the code ${code}.`;
}

/**
 * Copies text; resolves true on success. Uses the Clipboard API where the page is a secure
 * context, else the older copy command on a hidden text area (plain-http pages on a LAN).
 */
export async function copyText(text) {
  if (globalThis.isSecureContext && navigator.clipboard?.writeText) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // Permission refused (e.g. not focused): try the old way.
    }
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.append(area);
  area.select();
  let copied = false;
  try {
    copied = document.execCommand('copy');
  } catch {
    copied = false;
  }
  area.remove();
  return copied;
}

/**
 * Opens the system share sheet; where there is none (most desktops, plain http), copies the
 * message instead. Resolves 'shared', 'copied', 'cancelled' or 'failed'.
 */
export async function shareViaApps({ title, text, url }) {
  if (typeof navigator.share === 'function' && (!navigator.canShare || navigator.canShare({ title, text, url }))) {
    try {
      await navigator.share({ title, text, url });
      return 'shared';
    } catch (error) {
      if (error?.name === 'AbortError') return 'cancelled';
      // NotAllowedError and friends: fall back to copying.
    }
  }
  return (await copyText(`${text}`)) ? 'copied' : 'failed';
}
