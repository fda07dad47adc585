// The Fullscreen API needs a user gesture and may be refused (an iframe without
// allow="fullscreen", a browser setting): the big screen works the same without it.

/** Asks the browser to show the whole page full screen; call it from a click or a key press. */
export function enterFullscreen(): void {
  if (!document.fullscreenEnabled || document.fullscreenElement !== null) return;
  document.documentElement.requestFullscreen({ navigationUI: 'hide' }).catch(() => undefined);
}

/** Leaves full screen, if the page is in it. */
export function exitFullscreen(): void {
  if (document.fullscreenElement === null) return;
  document.exitFullscreen().catch(() => undefined);
}

/** Enters full screen, or leaves it. */
export function toggleFullscreen(): void {
  if (document.fullscreenElement === null) enterFullscreen();
  else exitFullscreen();
}
