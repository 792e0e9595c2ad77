// Service worker of the intercom page (scope "/"): a push from the door (a paired browser whose page is
// closed) shows "<door> is ringing"; tapping it opens the join link, or focuses a tab already on it.
// Payload (RFC 8291, decrypted by the browser): {"t":"ring","door","code","link","expiresAt","picture"}.
// `picture` is the ring picture's id: the link opens with ?ring=<id>, and the paired page asks the door for
// that picture over its proved data connection (js/pushed-ring.js); a push is too small to carry it.

const MAX_DOOR_NAME = 60;

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

function ringOf(data) {
  let message = null;
  try {
    message = data ? data.json() : null;
  } catch {
    return null;
  }
  if (message === null || typeof message !== 'object') return null;
  // {t: "ring", link} is the paired browsers' payload; the door's earlier subscriptions get {url} (docs/notifications.md#web-push).
  const href = message.t === 'ring' ? message.link : message.url;
  if (typeof href !== 'string') return null;
  let link;
  try {
    link = new URL(href);
  } catch {
    return null;
  }
  if (link.protocol !== 'https:' && link.protocol !== 'http:') return null;
  const door = typeof message.door === 'string' && message.door.trim() !== ''
    ? message.door.trim().slice(0, MAX_DOOR_NAME) : 'The door';
  const code = typeof message.code === 'string' && /^[0-9]{5}$/.test(message.code) ? message.code : null;
  const expiresAt = Number.isFinite(message.expiresAt) ? message.expiresAt : null;
  const picture = typeof message.picture === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(message.picture)
    ? message.picture : null;
  return { door, code, link: link.href, expiresAt, picture };
}

/** What tapping the notification opens: the join link, with the ring picture's id when there is one. */
function pageFor(ring) {
  if (!ring.picture) return ring.link;
  const url = new URL(ring.link);
  url.searchParams.set('ring', ring.picture);
  return url.href;
}

self.addEventListener('push', (event) => {
  const ring = ringOf(event.data);
  // A push must always show something (userVisibleOnly); one that is not a ring says so plainly.
  if (!ring) {
    event.waitUntil(self.registration.showNotification('Door intercom', { body: 'Open the page to see what happened.' }));
    return;
  }
  const over = ring.expiresAt !== null && ring.expiresAt < Date.now();
  const title = over ? `${ring.door} rang` : `${ring.door} is ringing`;
  event.waitUntil((async () => {
    await self.registration.showNotification(title, {
      body: over ? 'Missed ring.' : ring.code ? `Room ${ring.code} — tap to answer.` : 'Tap to answer.',
      tag: `intercom-ring-${ring.code ?? 'door'}`,
      renotify: true,
      requireInteraction: !over,
      data: { link: over ? null : ring.link, open: over ? null : pageFor(ring), door: ring.door, code: ring.code,
        expiresAt: ring.expiresAt, picture: ring.picture },
    });
    // Open pages hear of it (without the link): {t: "notified", title}.
    for (const client of await self.clients.matchAll({ type: 'window' })) client.postMessage({ t: 'notified', title });
  })());
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const { link, open } = event.notification.data ?? {};
  const target = open ?? link ?? new URL('./', self.registration.scope).href;
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    // The page moves the secret out of its address bar, so an open tab shows the link without its fragment.
    const bare = target.split('#')[0];
    const open = windows.find((client) => client.url.split('#')[0] === bare);
    if (open) return open.focus();
    return self.clients.openWindow(target);
  })());
});
