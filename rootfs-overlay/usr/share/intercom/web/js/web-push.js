// Web Push for a paired browser whose page is closed: the service worker sw.js (scope: the page's folder,
// normally "/") shows "<door> is ringing" for the door's push and opens the join link when tapped. The door
// sends the push itself (RFC 8291/8292, its own VAPID key); this module only registers the worker and makes
// the subscription the pairing connection carries to the door.

import { fromBase64url } from './mac.js';

const WORKER = 'sw.js';

/** Why this page cannot get pushes (words for the resident), or null when it can try. */
export function pushUnavailableReason(scope = globalThis) {
  if (!scope.isSecureContext) return 'Open this page to be rung: notifications need HTTPS.';
  if (!scope.navigator?.serviceWorker || !scope.PushManager || !scope.Notification) {
    return 'Open this page to be rung: this browser has no web push notifications.';
  }
  return null;
}

/** Registers (or finds) the service worker; resolves with its registration once it is active. */
export async function registerWorker() {
  await navigator.serviceWorker.register(WORKER, { scope: './' });
  return navigator.serviceWorker.ready;
}

/**
 * Subscribes to pushes with the door's VAPID public key (base64url, 65 bytes). `permission` is the promise of
 * Notification.requestPermission() started in the click that began pairing (browsers ask only in a gesture).
 * Resolves with the PushSubscription's JSON; throws an Error whose message completes "Open this page to be rung: …".
 */
export async function subscribe(vapidPublicKey, permission = Notification.requestPermission()) {
  const key = fromBase64url(vapidPublicKey);
  if (!key || key.length !== 65) throw new Error('the door sent no usable notification key');
  if ((await permission) !== 'granted') throw new Error('notifications are blocked for this page');
  const registration = await registerWorker();
  const existing = await registration.pushManager.getSubscription();
  // A subscription made for another key cannot be reused: the push service checks the key.
  if (existing) await existing.unsubscribe();
  try {
    const subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
    return subscription.toJSON();
  } catch (error) {
    throw new Error(`the browser's push service did not take the subscription (${error.message})`);
  }
}

/** Drops the push subscription (the door's pushes then fail at the push service) and the worker. */
export async function unsubscribe() {
  const registration = await navigator.serviceWorker?.getRegistration(WORKER);
  if (!registration) return;
  await (await registration.pushManager.getSubscription())?.unsubscribe();
  await registration.unregister();
}
