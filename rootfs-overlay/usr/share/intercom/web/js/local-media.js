// The caller's own camera and microphone.
//
// A call still works without them: the offer then receives only (call.js adds recvonly
// transceivers), so a visitor who refuses the camera, or a page served over plain http
// (no getUserMedia outside a secure context), still sees and hears the door.

/**
 * Asks for camera and microphone, then either alone. Resolves {stream, kind, problem}:
 * kind is 'audio+video', 'audio', 'video' or 'none'; problem says why something is missing, or is null.
 */
export async function openLocalMedia(mediaDevices = globalThis.navigator?.mediaDevices) {
  if (!mediaDevices?.getUserMedia) {
    return { stream: new MediaStream(), kind: 'none', problem: 'Camera and microphone need a secure (https) page.' };
  }
  let firstError = null;
  const attempts = [
    [{ audio: true, video: true }, 'audio+video'],
    [{ audio: true }, 'audio'],
    [{ video: true }, 'video'],
  ];
  for (const [constraints, kind] of attempts) {
    try {
      const stream = await mediaDevices.getUserMedia(constraints);
      return { stream, kind, problem: firstError && describe(firstError) };
    } catch (error) {
      firstError ??= error;
      if (error.name === 'NotAllowedError') break;
    }
  }
  return { stream: new MediaStream(), kind: 'none', problem: describe(firstError) };
}

export function stopMedia(stream) {
  for (const track of stream?.getTracks() ?? []) track.stop();
}

function describe(error) {
  switch (error?.name) {
    case 'NotAllowedError':
      return 'Camera and microphone are blocked.';
    case 'NotFoundError':
      return 'No camera or microphone found.';
    case 'NotReadableError':
      return 'The camera or microphone is busy.';
    default:
      return `Camera and microphone unavailable (${error?.name ?? 'unknown error'}).`;
  }
}
